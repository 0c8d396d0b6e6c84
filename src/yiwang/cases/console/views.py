"""Staff case pages: the dispatch console (queues, filters, bulk actions), the case page with its timeline
and a form for every transition the state and the user's rights allow, the scoped photo view, the
audited phone reveal, and the category policy and Open311 key pages.

Nothing here writes a model: each form calls one function of ``cases.actions`` and turns its
``ActionError`` into a form error (a "conflict" — someone acted on the case first — into a message
above the fresh page) and ``PermissionRefused`` into 403. Every read goes through ``visible_to``.
"""
import hashlib
import mimetypes

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiwang.areas.models import Region
from yiwang.core import audit
from yiwang.core.errors import ActionError, PermissionRefused
from yiwang.core.permissions import allowed
from yiwang.core.regions import current_region
from yiwang.core.views import ScopedDetailView, ScopedListView, ScopedMixin, bootstrap_widgets, get_scoped_or_404

from .. import actions
from ..models import ApiKey, Case, Category
from . import forms as f
from .filtersets import CaseFilterSet, queue_counts
from .tables import NAV_PARAMS, ConsoleTable, deadline_badge

S = Case.State
EVENT_LABELS = {**actions.ACTION_LABELS, "create": "登记", "merged_in": "合并进重复诉求", "whistle_report": "部门报到",
                "extension_approved": "批准延期", "extension_refused": "驳回延期"}
WORKING = (S.ACCEPTED, S.IN_PROGRESS, S.ESCALATED)
# what a console row shows (tables.ConsoleTable) and Case.warning reads: the rest of the row is not loaded
ROW_FIELDS = ("id", "number", "title", "state", "level", "supervision", "region_id", "region_path", "reported_at",
              "accept_due", "resolve_due", "accepted_at", "resolved_at", "category__name", "category__red_pct",
              "category__yellow_pct", "handler__username", "handler__display_name", "department__name")


# --------------------------------------------------------------------------- transitions


def _find_case(user, number, field="into"):
    case = Case.objects.visible_to(user).filter(number=(number or "").strip()).first()
    if case is None:
        raise ActionError(f"找不到编号为“{(number or '').strip()[:20]}”的诉求", field=field)
    return case


def _merge(case, user, d):
    return actions.merge_case(case, into=_find_case(user, d["into"]), by=user, note=d["note"])


def _whistle_report(case, user, d):
    whistle = case.whistles.select_related("department").filter(pk=d["whistle"]).first()
    if whistle is None:
        raise ActionError("该吹哨记录不存在，请刷新页面", field="report")
    return actions.report_whistle(whistle, by=user, report=d["report"])


def _decide_extension(case, user, d):
    extension = case.extensions.filter(pk=d["extension"]).first()
    if extension is None:
        raise ActionError("该延期申请不存在，请刷新页面", field="approve")
    extension.case = case  # the case as posted (its version), not a fresh read
    return actions.decide_extension(extension, by=user, approve=d["approve"], note=d["note"])


class Transition:
    """One form of the case page: its label, form, the states and permission it needs, what it calls."""

    def __init__(self, name, label, form_class, states, perm, perform, *, when=None, button="btn-primary"):
        self.name, self.label, self.form_class, self.states, self.perm = name, label, form_class, states, perm
        self.perform, self.when, self.button = perform, when, button

    def available(self, case, user) -> bool:
        return (case.state in self.states and allowed(user, self.perm, case.region_path)
                and (self.when is None or self.when(case, user)))

    @property
    def url_name(self):
        return f"cases:case_{self.name}"


TRANSITIONS = [
    Transition("accept", "受理", f.NoteForm, (S.SUBMITTED,), "cases.change",
               lambda c, u, d: actions.accept_case(c, by=u, note=d["note"])),
    Transition("assign", "分派", f.AssignForm, (S.SUBMITTED, *WORKING), "cases.change",
               lambda c, u, d: actions.assign_case(c, by=u, level=d["level"], handler=d["handler"],
                                                   department=d["department"], note=d["note"])),
    Transition("reject", "不予受理", f.RejectForm, (S.SUBMITTED, S.ACCEPTED), "cases.change",
               lambda c, u, d: actions.reject_case(c, by=u, reason=d["reason"]), button="btn-outline-danger"),
    Transition("merge", "合并为重复", f.MergeForm, (S.SUBMITTED, S.ACCEPTED), "cases.change", _merge,
               button="btn-outline-secondary"),
    Transition("escalate", "上报", f.EscalateForm, (S.ACCEPTED, S.IN_PROGRESS), "cases.change",
               lambda c, u, d: actions.escalate_case(c, by=u, reason=d["reason"]),
               when=lambda c, u: c.level in (Case.Level.GRID, Case.Level.VILLAGE), button="btn-outline-primary"),
    Transition("whistle", "吹哨", f.WhistleForm, WORKING, "cases.supervise",
               lambda c, u, d: actions.whistle_case(c, by=u, departments=list(d["departments"]), note=d["note"]),
               button="btn-outline-danger"),
    Transition("resolve", "办结", f.ResolveForm, WORKING, "cases.change",
               lambda c, u, d: actions.resolve_case(c, by=u, result=d["result"], photos=d["photos"]),
               button="btn-success"),
    Transition("rate", "记录回访评价", f.RateForm, (S.RESOLVED,), "cases.change",
               lambda c, u, d: actions.rate_case(c, by=u, rating=d["rating"], comment=d["comment"]),
               when=lambda c, u: c.reporter_id in (None, u.pk)),  # a call-back, or the reporter themself
    Transition("close", "关闭", f.RequiredNoteForm, (S.RESOLVED,), "cases.change",
               lambda c, u, d: actions.close_case(c, by=u, note=d["note"]), button="btn-outline-secondary"),
    Transition("supervise", "督办", f.SuperviseForm, Case.OPEN_STATES, "cases.supervise",
               lambda c, u, d: actions.supervise_case(c, by=u, level=d["level"], note=d["note"]),
               button="btn-warning"),
    Transition("request_extension", "申请延期", f.ExtensionRequestForm, WORKING, "cases.change",
               lambda c, u, d: actions.request_extension(c, by=u, hours=d["hours"], reason=d["reason"]),
               button="btn-outline-secondary"),
    # these two act on a row of the case (a whistle, an extension): shown beside that row
    Transition("whistle_report", "部门报到", f.WhistleReportForm, tuple(S.values), "cases.change", _whistle_report),
    Transition("decide_extension", "审批延期", f.ExtensionDecisionForm, tuple(S.values), "cases.supervise",
               _decide_extension),
]
BY_NAME = {t.name: t for t in TRANSITIONS}
ROW_TRANSITIONS = ("whistle_report", "decide_extension", "merge")


# --------------------------------------------------------------------------- console


class ConsoleView(ScopedListView):
    """调度台: the cases of the user's scope (narrowed to the switcher's region), by queue and filters.

    The table is ``ConsoleTable`` (keyset pages in the default order, see ``tables``), not a
    django-tables2 table; there is no COUNT of the whole list: the total shows when the list fits one
    page, and for a single queue from its (cached) queue count."""

    model = Case
    filterset_class = CaseFilterSet
    template_name = "cases/console/console.html"
    title = "诉求调度台"
    breadcrumbs = [("诉求调度台", None)]

    def get_queryset(self):
        # no join of the region: its name comes from region_names() (with a fourth join, PostgreSQL spent
        # ≈ 1.4 ms planning this query, 0.4 ms with three)
        return super().get_queryset().select_related("category", "handler", "department").only(*ROW_FIELDS)

    def get_table(self, **kwargs):
        return ConsoleTable(self.object_list, self.request.GET, self.now, region_names=self.region_names())

    def region_names(self):
        """id → name of the regions the user sees (a few hundred for a town), cached like the choices;
        the table reads any region missing from it (one made since) live."""
        user = self.request.user
        return self.cached("region-names", lambda: dict(Region.objects.visible_to(user).values_list("id", "name")))

    def get_filterset(self, filterset_class):
        filterset = super().get_filterset(filterset_class)
        form = filterset.form
        choices = self.cached("choices", lambda: {name: f.model_choices(form.fields[name].widget.choices)
                                                  for name in ("area", "category", "handler")})
        for name, options in choices.items():
            form.fields[name].widget.choices = options
        f.lean_selects(form)
        return filterset

    def cached(self, what, compute):
        """``compute()``, kept for CASES_QUEUE_COUNT_SECONDS per scope and region: the queue buttons'
        counts and the choices of the selects (regions, categories, handlers). A count or a list a few
        seconds old is fine there; the list of cases itself is always read live, and a filter is checked
        against the live choices."""
        seconds = getattr(settings, "CASES_QUEUE_COUNT_SECONDS", 30)
        if not seconds:
            return compute()
        region = current_region(self.request)
        scope = "|".join(self.request.user.scope_paths("cases.view")) if not self.request.user.is_superuser else "*"
        key = f"cases:{what}:" + hashlib.sha256(f"{scope}#{region.path if region else ''}".encode()).hexdigest()
        value = cache.get(key)
        if value is None:
            value = compute()
            cache.set(key, value, seconds)
        return value

    def queue_counts(self):
        return self.cached("queues", lambda: queue_counts(self.scoped_queryset(), self.now))

    def dispatch(self, request, *args, **kwargs):
        self.now = timezone.now()
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        counts = self.queue_counts()
        ctx["state_queues"] = [(s, S(s).label, counts[s]) for s in
                               (S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS, S.ESCALATED, S.RESOLVED, S.CLOSED)]
        ctx["warning_queues"] = [("overdue", "超时", counts["overdue"], "danger"),
                                 ("red", "红色预警", counts["red"], "danger"),
                                 ("yellow", "黄色预警", counts["yellow"], "warning"),
                                 ("normal", "正常", counts["normal"], "success")]
        ctx["active_state"] = self.request.GET.get("state", "")
        ctx["active_warning"] = self.request.GET.get("warning", "")
        table, total = ctx["table"], None
        if table.is_first_page and table.is_last_page:
            total = len(table.page.object_list)
        elif table.sort and table.is_last_page:
            total = (table.page.number - 1) * table.per_page + len(table.page.object_list)
        elif set(self.request.GET) - {*NAV_PARAMS, "sort", "per_page"} in ({"state"}, {"warning"}):
            total = counts.get(ctx["active_state"] or ctx["active_warning"])
        ctx["total"] = total
        ctx["filters_open"] = any(v for k, v in self.request.GET.items()
                                  if k not in ("state", "warning", "sort", "per_page", *NAV_PARAMS))
        user = self.request.user
        ctx["may_bulk"] = user.has_any("cases.change")
        if ctx["may_bulk"]:
            region = current_region(self.request)
            form = f.BulkForm(handler_region_path=region.path if region else None)
            if not user.has_any("cases.supervise"):
                form.fields["operation"].choices = [c for c in form.OPERATIONS if c[0] != "supervise"]
            handler = form.fields["handler"]
            handler.queryset = handler.queryset.only("id", "username", "display_name")  # what the labels show
            handler.widget.choices = self.cached("bulk-handlers", lambda: f.model_choices(handler.widget.choices))
            bootstrap_widgets(form, size="sm")
            f.lean_selects(form)
            ctx["bulk_form"] = form
        return ctx


class BulkView(ScopedMixin, View):
    """Bulk accept / assign / supervise: each selected case through its action, all in one transaction.
    The first failure undoes the others and says which case and why."""

    model = Case
    http_method_names = ["post"]

    def post(self, request):
        user = request.user
        back = request.POST.get("next") or "/cases/"
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = "/cases/"
        region = current_region(request)
        form = f.BulkForm(request.POST, cases=Case.objects.visible_to(user).select_related("category"),
                          handler_region_path=region.path if region else None)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect(back)
        d = form.cleaned_data
        op = d["operation"]
        selected = sorted(d["cases"], key=lambda c: c.number)
        done, failed = [], None
        try:
            with transaction.atomic():
                for case in selected:
                    try:
                        if op == "accept":
                            actions.accept_case(case, by=user, note=d["note"])
                        elif op == "assign":
                            if not d["level"]:
                                raise ActionError("批量分派请选择办理层级", field="level")
                            actions.assign_case(case, by=user, level=d["level"], handler=d["handler"], note=d["note"])
                        else:
                            actions.supervise_case(case, by=user, level=d["supervision"], note=d["note"])
                    except (ActionError, PermissionRefused) as e:
                        failed = (case, e)
                        raise
                    done.append(case.number)
        except (ActionError, PermissionRefused):
            case, e = failed
            if isinstance(e, PermissionRefused):  # the refusal's audit row went with the rollback: keep it
                audit.refuse(f"cases.bulk_{op}", by=user, obj=case, reason=e.text)
            label = dict(form.OPERATIONS)[op]
            messages.error(request, f"批量{label}未执行（所选 {len(selected)} 件均未更改）：诉求 {case.number} —— {e.text}")
            return redirect(back)
        label = dict(form.OPERATIONS)[op]
        messages.success(request, f"已批量{label} {len(done)} 件：{'、'.join(done)}")
        return redirect(back)


# --------------------------------------------------------------------------- case page


class CaseDetailView(ScopedDetailView):
    model = Case
    template_name = "cases/console/case_detail.html"
    bound_form = None  # (transition name, bound form) when a post came back with errors

    def get_queryset(self):
        return super().get_queryset().select_related("category__parent", "region", "handler", "department",
                                                     "reporter", "household", "merged_into")

    def get_breadcrumbs(self):
        return [("诉求调度台", "/cases/"), (self.object.number, None)]

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        case, user = self.object, self.request.user
        now = timezone.now()
        ctx["now"] = now
        ctx["deadline"] = deadline_badge(case, now)
        ctx["overdue"] = case.is_overdue(now)
        events = list(case.events.select_related("by"))
        for e in events:
            e.action_label = EVENT_LABELS.get(e.action, e.action)
            e.from_label = S(e.from_state).label if e.from_state in S.values else ""
            e.to_label = S(e.to_state).label if e.to_state in S.values else ""
        ctx["events"] = events
        photos = list(case.attachments.all())
        ctx["report_photos"] = [p for p in photos if p.purpose == "report"]
        ctx["result_photos"] = [p for p in photos if p.purpose == "result"]
        ctx["extensions"] = list(case.extensions.select_related("requested_by", "decided_by"))
        ctx["whistles"] = list(case.whistles.select_related("department"))
        ctx["duplicates_in"] = list(case.duplicates.visible_to(user).only("pk", "number", "title"))
        bound_name, bound = self.bound_form or (None, None)

        def form_for(name, **initial):
            if name == bound_name and (not initial or all(str(bound.data.get(k)) == str(v)
                                                          for k, v in initial.items())):
                bootstrap_widgets(bound, size="sm")
                return bound
            form = BY_NAME[name].form_class(case=case, user=user, initial=initial)
            bootstrap_widgets(form, size="sm")
            return form

        ctx["transitions"] = [(t, form_for(t.name)) for t in TRANSITIONS
                              if t.name not in ROW_TRANSITIONS and t.available(case, user)]
        merge = BY_NAME["merge"]
        ctx["may_merge"] = merge.available(case, user)
        if ctx["may_merge"]:
            ctx["merge_form"] = form_for("merge")
        dupes = actions.suggest_duplicates(category=case.category, household=case.household,
                                           latitude=case.latitude, longitude=case.longitude, at=case.reported_at,
                                           exclude=case) if case.state != S.MERGED else []
        visible = set(Case.objects.visible_to(user).filter(pk__in=[d.pk for d in dupes]).values_list("pk", flat=True))
        ctx["duplicates"] = [d for d in dupes if d.pk in visible]
        may_report = BY_NAME["whistle_report"].available(case, user)
        ctx["whistle_rows"] = [(w, form_for("whistle_report", whistle=w.pk)
                                if may_report and w.reported_at is None else None) for w in ctx["whistles"]]
        may_decide = BY_NAME["decide_extension"].available(case, user)
        ctx["extension_rows"] = [(x, form_for("decide_extension", extension=x.pk)
                                  if may_decide and x.status == "pending" else None) for x in ctx["extensions"]]
        ctx["may_reveal"] = bool(case.reporter_phone_suffix) and allowed(user, "pii.reveal", case.region_path)
        ctx["open_form"] = bound_name
        return ctx


class TransitionView(ScopedMixin, View):
    """POST /cases/<pk>/<transition>/: run one action on the case as the user saw it (its version)."""

    model = Case
    transition = ""
    http_method_names = ["post"]

    def post(self, request, pk):
        t = BY_NAME[self.transition]
        user = request.user
        case = get_scoped_or_404(Case, user, pk=pk)
        form = t.form_class(request.POST, request.FILES, case=case, user=user)
        on_page = t.name in ROW_TRANSITIONS or t.available(case, user)  # before the action touches ``case``
        if form.is_valid():
            posted = form.cleaned_data["version"]
            try:
                t.perform(actions.as_seen(case, posted), user, form.cleaned_data)
            except ActionError as e:
                if getattr(e, "code", None) == "conflict":
                    messages.error(request, e.text)
                    return redirect(case.get_absolute_url())
                if getattr(e, "code", None) == "state" or not on_page:
                    messages.error(request, e.text)  # the form is not on the page any more: say it above
                else:
                    form.add_error(e.field if e.field in form.fields else None, e.text)
            except PermissionRefused as e:
                raise PermissionDenied(e.text) from None
            else:
                messages.success(request, f"已{t.label}")
                return redirect(case.get_absolute_url())
        if "version" in form.errors:  # a tampered or missing version: the page is stale, read it again
            messages.error(request, "页面已过期，请刷新后再操作")
            return redirect(case.get_absolute_url())
        page = CaseDetailView(request=request, kwargs={"pk": pk}, bound_form=(t.name, form))
        page.object = page.get_object()
        response = page.render_to_response(page.get_context_data(object=page.object))
        response.status_code = 400
        return response


@require_POST
def reveal_phone(request, pk):
    """The reporter's full phone (htmx) for a call-back; audited, refused without ``pii.reveal``."""
    case = get_scoped_or_404(Case, request.user, pk=pk)
    try:
        value = actions.reveal_reporter_phone(case, by=request.user)
    except PermissionRefused as e:
        return JsonResponse({"detail": e.text}, status=403)
    except ActionError as e:
        return JsonResponse({"detail": e.text}, status=400)
    if request.htmx:
        return HttpResponse(f'<code class="yw-revealed">{escape(value)}</code>')
    return JsonResponse({"phone": value})


reveal_phone.scoped = True  # guards itself: get_scoped_or_404 above, then the action's pii.reveal check
reveal_phone.scope_model = Case


@require_GET
def case_photos(request, pk):
    """A case's photos, never through a public media URL: ``?file=<id>`` streams one (``&size=thumb``
    its thumbnail) once the case is found within the user's scope; without it, the gallery page."""
    case = get_scoped_or_404(Case, request.user, pk=pk)
    wanted = request.GET.get("file", "")
    if not wanted:
        return render(request, "cases/console/photos.html", {
            "object": case, "photos": case.attachments.all(), "title": f"{case.number} 照片",
            "breadcrumbs": [("诉求调度台", "/cases/"), (case.number, case.get_absolute_url()), ("照片", None)]})
    if not wanted.isdigit():
        raise Http404
    attachment = case.attachments.filter(pk=int(wanted)).first()
    if attachment is None:
        raise Http404
    stored = attachment.thumbnail if request.GET.get("size") == "thumb" else attachment.image
    try:
        handle = stored.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    content_type = mimetypes.guess_type(stored.name)[0] or attachment.content_type
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


case_photos.scoped = True  # guards itself: the case through get_scoped_or_404, the file through the case
case_photos.scope_model = Case


# --------------------------------------------------------------------------- categories and keys


def _require_any(user, perm):
    """Pages of reference data (not of a region): a user without the right sees nothing there (404)."""
    if not user.has_any(perm):
        raise Http404


@require_GET
def category_list(request):
    """The category tree with its policy; editable by holders of ``cases.policy``."""
    _require_any(request.user, "cases.view")
    categories = list(Category.objects.select_related("parent").order_by("order", "code"))
    roots = [c for c in categories if c.parent_id is None]
    tree = [(root, [c for c in categories if c.parent_id == root.pk]) for root in roots]
    return render(request, "cases/console/categories.html", {
        "tree": tree, "title": "诉求分类与办理时限", "may_edit": request.user.has_any("cases.policy"),
        "breadcrumbs": [("诉求调度台", "/cases/"), ("分类与时限", None)]})


@require_http_methods(["GET", "POST"])
def category_edit(request):
    """新增/编辑 a category and its policy: ``?code=`` names the one to edit; saved by ``save_category``."""
    user = request.user
    _require_any(user, "cases.policy")
    code = request.GET.get("code", "")
    editing = Category.objects.filter(code=code).first() if code else None
    if code and editing is None:
        raise Http404
    if request.method == "POST":
        form = f.CategoryForm(request.POST, editing=editing,
                              initial={"code": editing.code} if editing else None)
        if form.is_valid():
            d = form.cleaned_data
            try:
                saved = actions.save_category(by=user, code=editing.code if editing else d["code"], name=d["name"],
                                              parent=d["parent"], accept_hours=d["accept_hours"],
                                              resolve_hours=d["resolve_hours"], yellow_pct=d["yellow_pct"],
                                              red_pct=d["red_pct"], is_emergency=d["is_emergency"],
                                              active=d["active"])
            except ActionError as e:
                form.add_error(e.field if e.field in form.fields else None, e.text)
            except PermissionRefused as e:
                raise PermissionDenied(e.text) from None
            else:
                messages.success(request, f"已保存分类“{saved.name}”")
                return redirect("cases:category_list")
    elif editing is not None:
        form = f.CategoryForm(editing=editing, initial={
            "code": editing.code, "name": editing.name, "parent": editing.parent, "accept_hours": editing.accept_hours,
            "resolve_hours": editing.resolve_hours, "yellow_pct": editing.yellow_pct, "red_pct": editing.red_pct,
            "is_emergency": editing.is_emergency, "active": editing.active})
    else:
        form = f.CategoryForm()
    bootstrap_widgets(form)
    title = f"编辑分类：{editing.name}" if editing else "新增分类"
    return render(request, "core/form.html", {
        "form": form, "title": title,
        "breadcrumbs": [("分类与时限", "/cases/categories/"), (title, None)]}, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def api_keys(request):
    """Open311 keys of the regions where the user holds ``cases.policy``; a new key is shown once."""
    user = request.user
    _require_any(user, "cases.policy")
    candidates = Region.objects.visible_to(user).exclude(kind=Region.Kind.GRID).only("pk", "path")
    regions = Region.objects.filter(pk__in=[r.pk for r in candidates if allowed(user, "cases.policy", r.path)]
                                    ).order_by("path")
    form = f.ApiKeyForm(request.POST or None, regions=regions)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            key, new_key = actions.create_api_key(name=form.cleaned_data["name"], region=form.cleaned_data["region"],
                                                  by=user)
        except ActionError as e:
            form.add_error(e.field if e.field in form.fields else None, e.text)
        except PermissionRefused as e:
            raise PermissionDenied(e.text) from None
        else:
            messages.success(request, f"已创建密钥“{key.name}”。密钥只显示这一次，请立即复制保存。")
            form = f.ApiKeyForm(regions=regions)
    bootstrap_widgets(form)
    keys = ApiKey.objects.select_related("region", "created_by").order_by("-created_at")
    if not user.is_superuser:
        keys = [k for k in keys if allowed(user, "cases.policy", k.region.path)]
    return render(request, "cases/console/api_keys.html", {
        "form": form, "keys": keys, "new_key": new_key, "title": "Open311 接入密钥",
        "breadcrumbs": [("分类与时限", "/cases/categories/"), ("Open311 接入密钥", None)]})


# reference data (categories) and keys filtered to the user's cases.policy scope: no region records leak
for _view in (category_list, category_edit, api_keys):
    _view.scoped = True
