"""Phone screens for grid workers and residents: report a problem, my cases, a compact case page with
the handler's actions or the resident's rating, and "follow by number".

Built for a phone on weak signal: small server-rendered pages, one short script (``cases/mobile.js``:
location, one submit per form, duplicate hints), forms that keep what was typed when refused.

Who sees which case here (the one rule, ``cases_for``):
- staff (anyone holding ``cases.view`` somewhere) read through ``Case.objects.visible_to(user)``, plus
  the cases they reported themselves;
- a resident holds no ``cases.view``: they see exactly ``Case.objects.filter(reporter=user)``.
Anything else answers 404 — another resident's case, another village's case, and a case number that
does not exist read the same (no existence leak). The resident's view of a case hides staff-internal
timeline entries; what is shown and hidden is listed in ``present``'s docstring.

Every write goes through ``cases.actions``; an ``ActionError`` lands on the form field it names (in
Chinese), a ``PermissionRefused`` is shown on the form with status 403. Transitions post the case's
``version`` so of two people acting at once the second gets the action's conflict message.

Channels: a grid worker's report is ``grid``, a resident's ``resident``, and a cadre or town staff member
reporting from the phone is ``inspection`` (巡查发现).
"""
import secrets
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case as SqlCase
from django.db.models import IntegerField, Q, Value, When
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from yiwang.accounts.roles import Role
from yiwang.areas.models import Region
from yiwang.core.errors import ActionError, PermissionRefused
from yiwang.core.permissions import allowed
from yiwang.core.views import bootstrap_widgets
from yiwang.people.models import Household

from .. import actions
from ..models import Attachment, Case, Category, Extension
from . import present
from .forms import CASE_ACTION_FORMS, ReportForm, TrackForm

MINE_PER_PAGE = 30
QUEUE_LIMIT = 20
REMEMBERED_SUBMISSIONS = 20
SESSION_SUBMISSIONS = "cases_m_submissions"
DONE_MESSAGES = {"accept": "已受理", "resolve": "已办结，已通知报告人评价", "escalate": "已上报上级",
                 "extend": "延期申请已提交，等待镇里审批", "rate": "感谢您的评价"}
WORKING_STATES = (Case.State.ACCEPTED, Case.State.IN_PROGRESS, Case.State.ESCALATED)


# --------------------------------------------------------------------------- who sees what


def is_resident(user) -> bool:
    """A reporter without staff rights anywhere (role ``resident``): sees only their own reports."""
    return not user.has_any("cases.view")


def is_grid_worker(user) -> bool:
    return user.assignments.filter(role=Role.GRID_WORKER).exists()


def cases_for(user):
    """The cases ``user`` may open on the phone (see the module docstring)."""
    own = Case.objects.filter(reporter=user)
    if is_resident(user):
        return own
    return Case.objects.visible_to(user, "view") | own


def _scoped(view):
    view.scoped = True
    view.scope_model = Case
    return view


def _visible_duplicates(user, *, category, household, latitude, longitude):
    """``actions.suggest_duplicates`` narrowed to the cases the user may see; nothing for a resident."""
    if is_resident(user) or category is None:
        return []
    found = actions.suggest_duplicates(category=category, household=household, latitude=latitude,
                                       longitude=longitude)
    if not found:
        return []
    visible = set(Case.objects.visible_to(user, "view").filter(pk__in=[c.pk for c in found])
                  .values_list("pk", flat=True))
    return [c for c in found if c.pk in visible]


# --------------------------------------------------------------------------- pages


@_scoped
def home(request):
    user = request.user
    if not user.has_any("cases.report") and is_resident(user):
        raise PermissionDenied("您没有上报问题的权限")
    return render(request, "cases/mobile/home.html", {"title": "诉求", "resident": is_resident(user)})


def _submissions(request) -> dict:
    return request.session.get(SESSION_SUBMISSIONS, {})


def _remember_submission(request, token, case):
    """A repeated POST of the same form (a retry on a dropped connection) finds the case it made."""
    remembered = dict(_submissions(request))
    remembered[token] = case.pk
    request.session[SESSION_SUBMISSIONS] = dict(list(remembered.items())[-REMEMBERED_SUBMISSIONS:])


@_scoped
@require_http_methods(["GET", "POST"])
def report(request):
    user = request.user
    if not user.has_any("cases.report"):
        raise PermissionDenied("您没有上报问题的权限")
    resident, grid_worker = is_resident(user), is_grid_worker(user)
    form_kwargs = {"user": user, "grid_worker": grid_worker, "resident": resident}
    duplicates, photos_lost = [], False
    if request.method == "POST":
        token = str(request.POST.get("submission", ""))[:40]
        earlier = _submissions(request).get(token) if token else None
        if earlier is not None and cases_for(user).filter(pk=earlier).exists():
            return redirect("cases:m_report_done", pk=earlier)
        form = ReportForm(request.POST, request.FILES, **form_kwargs)
        if form.is_valid():
            data = form.cleaned_data
            if not data["confirm_new"]:
                duplicates = _visible_duplicates(user, category=data["chosen_category"],
                                                 household=data.get("household"), latitude=data["latitude"],
                                                 longitude=data["longitude"])
            if not duplicates:
                channel = (Case.Channel.RESIDENT if resident else
                           Case.Channel.GRID if grid_worker else Case.Channel.INSPECTION)
                try:
                    case = actions.create_case(
                        category=data["chosen_category"], region=data["region"], description=data["description"],
                        by=user, channel=channel, household=data.get("household"), address=data["address"],
                        latitude=data["latitude"], longitude=data["longitude"], photos=data["photos"])
                except ActionError as e:
                    form.add_error(e.field if e.field in form.fields else None, e.text)
                except PermissionRefused as e:
                    form.add_error("region", e.text)
                else:
                    if token:
                        _remember_submission(request, token, case)
                    return redirect("cases:m_report_done", pk=case.pk)
        photos_lost = bool(request.FILES.getlist("photos"))
        form.data = form.data.copy()
        form.data["submission"] = token or secrets.token_urlsafe(16)
    else:
        form = ReportForm(initial={"submission": secrets.token_urlsafe(16)}, **form_kwargs)
    bootstrap_widgets(form)
    return render(request, "cases/mobile/report.html", {
        "title": "上报问题", "form": form, "duplicates": duplicates, "photos_lost": photos_lost,
        "resident": resident, "grid_worker": grid_worker})


@_scoped
@require_GET
def duplicates(request):
    """The duplicate hint under the report form, fetched by the script as the user fills it in."""
    user = request.user
    found = []
    if not is_resident(user):
        category = _category_from(request.GET)
        household = None
        number = str(request.GET.get("household", ""))[:30]
        if number and is_grid_worker(user):
            household = Household.objects.visible_to(user, "view").filter(number=number).first()
        latitude, longitude = _coordinate(request.GET.get("latitude")), _coordinate(request.GET.get("longitude"))
        if latitude is None or longitude is None:
            latitude = longitude = None
        if category is not None and (household is not None or latitude is not None):
            found = _visible_duplicates(user, category=category, household=household, latitude=latitude,
                                        longitude=longitude)
    return render(request, "cases/mobile/_duplicates.html", {"duplicates": found})


def _category_from(params):
    for key in ("category", "category_group"):
        value = str(params.get(key, ""))
        if value.isdigit() and len(value) < 10:
            category = Category.objects.filter(pk=int(value), active=True).first()
            if category is not None:
                return category
    return None


def _coordinate(value):
    try:
        number = Decimal(str(value or "").strip()[:20])
    except InvalidOperation:
        return None
    return number if number.is_finite() and abs(number) <= 180 else None


@_scoped
@require_GET
def report_done(request, pk):
    case = get_object_or_404(cases_for(request.user).select_related("category__parent", "region"), pk=pk)
    return render(request, "cases/mobile/report_done.html", {
        "title": "上报成功", "case": case, "photo_count": case.attachments.count(),
        "resident": is_resident(request.user)})


@_scoped
@require_GET
def mine(request):
    """A grid worker's cases (handler or reporter) or a resident's reports: open first, by deadline."""
    user = request.user
    resident = is_resident(user)
    if resident:
        cases = Case.objects.filter(reporter=user)
    else:
        cases = cases_for(user).filter(Q(handler=user) | Q(reporter=user))
    open_first = SqlCase(When(state__in=Case.OPEN_STATES, then=Value(0)), When(state=Case.State.RESOLVED, then=Value(1)),
                         default=Value(2), output_field=IntegerField())
    cases = (cases.select_related("category", "region").annotate(open_rank=open_first)
             .order_by("open_rank", "resolve_due", "pk"))
    page = Paginator(cases, MINE_PER_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [_row(case, now, resident) for case in page.object_list]
    queue = []
    if not resident and is_grid_worker(user):
        grids = user.scope_paths("cases.change")
        waiting = (Case.objects.visible_to(user, "change")
                   .filter(state__in=Case.OPEN_STATES, level=Case.Level.GRID, handler__isnull=True,
                           department__isnull=True, region_path__in=_grid_paths(grids))
                   .exclude(reporter=user).select_related("category", "region").order_by("accept_due", "pk"))
        queue = [_row(case, now, resident) for case in waiting[:QUEUE_LIMIT]]
    return render(request, "cases/mobile/mine.html", {
        "title": "我的诉求", "page": page, "rows": rows, "queue": queue, "resident": resident})


def _grid_paths(paths):
    return list(Region.objects.filter(kind=Region.Kind.GRID, path__in=paths).values_list("path", flat=True))


def _row(case, now, resident):
    return {"case": case, "deadline": present.deadline(case, now),
            "state_words": present.RESIDENT_STATE_WORDS[case.state] if resident else case.get_state_display()}


def _available_actions(case, user, resident_view):
    available = []
    if not resident_view and allowed(user, "cases.change", case.region_path):
        if case.state == Case.State.SUBMITTED:
            available.append("accept")
        if case.state in WORKING_STATES:
            available.append("resolve")
        if case.state in (Case.State.ACCEPTED, Case.State.IN_PROGRESS) and case.level in actions.LEVEL_UP:
            available.append("escalate")
        if case.state in WORKING_STATES and not case.extensions.filter(status=Extension.Status.PENDING).exists():
            available.append("extend")
    if case.reporter_id == user.pk and case.state == Case.State.RESOLVED:
        available.append("rate")
    return available


def _perform(action, case, user, data):
    if action == "accept":
        actions.accept_case(case, by=user, note=data["note"])
    elif action == "resolve":
        actions.resolve_case(case, by=user, result=data["result"], photos=data["photos"])
    elif action == "escalate":
        actions.escalate_case(case, by=user, reason=data["reason"])
    elif action == "extend":
        actions.request_extension(case, by=user, hours=data["hours"], reason=data["reason"])
    elif action == "rate":
        actions.rate_case(case, by=user, rating=data["rating"], comment=data["comment"])


def _load_case(user, pk):
    return get_object_or_404(
        cases_for(user).select_related("category__parent", "region", "handler", "department"), pk=pk)


@_scoped
@require_http_methods(["GET", "POST"])
def case_page(request, pk):
    """The compact case page: facts, deadline, photos, timeline, and the forms this user may use."""
    user = request.user
    case = _load_case(user, pk)
    bound, status = {}, 200
    if request.method == "POST":
        action = str(request.POST.get("action", ""))
        form_class = CASE_ACTION_FORMS.get(action)
        if form_class is None:
            messages.error(request, "未知的操作，请刷新页面后重试")
            status = 400
        else:
            form = form_class(request.POST, request.FILES, prefix=action)
            if form.is_valid():
                case.version = form.cleaned_data["version"]
                try:
                    _perform(action, case, user, form.cleaned_data)
                except ActionError as e:
                    form.add_error(e.field if e.field in form.fields else None, e.text)
                except PermissionRefused as e:
                    form.add_error(None, e.text)
                    status = 403
                else:
                    messages.success(request, DONE_MESSAGES[action])
                    return redirect("cases:m_case", pk=case.pk)
                case = _load_case(user, pk)  # the action may have changed the object in memory before failing
                form.data = form.data.copy()
                form.data[form.add_prefix("version")] = case.version  # the user now sees the current state
            bound[action] = form
    resident_view = not allowed(user, "cases.view", case.region_path)
    available = _available_actions(case, user, resident_view)
    action_forms = []
    for action in available + [a for a in bound if a not in available]:
        form = bound.get(action) or CASE_ACTION_FORMS[action](prefix=action, initial={"version": case.version})
        bootstrap_widgets(form)
        action_forms.append((action, form))
    events = list(case.events.all())
    attachments = list(case.attachments.all())
    timeline = present.resident_timeline(events, user) if resident_view else present.staff_timeline(events)
    timeline.reverse()  # newest first: on a phone the latest step is what one opens the page for
    return render(request, "cases/mobile/case.html", {
        "title": case.number, "case": case, "resident_view": resident_view, "timeline": timeline,
        "deadline": present.deadline(case), "action_forms": action_forms,
        "state_words": present.RESIDENT_STATE_WORDS[case.state] if resident_view else case.get_state_display(),
        "level_words": present.LEVEL_WORDS.get(case.level, ""),
        "report_photos": [(i, a) for i, a in enumerate(attachments) if a.purpose == Attachment.Purpose.REPORT],
        "result_photos": [(i, a) for i, a in enumerate(attachments) if a.purpose == Attachment.Purpose.RESULT],
    }, status=status)


@_scoped
@require_GET
def case_photo(request, pk):
    """A photo of a case the user may open: ``?n=<index>`` (thumbnail), ``&size=full`` for the image.
    Without ``n`` it is the case page's address, so it sends the user there."""
    case = _load_case(request.user, pk)
    if "n" not in request.GET:
        return redirect("cases:m_case", pk=case.pk)
    index = str(request.GET.get("n", ""))
    if not index.isdigit() or len(index) > 3:
        raise Http404
    attachment = case.attachments.all()[int(index):int(index) + 1].first()
    if attachment is None:
        raise Http404
    full = request.GET.get("size") == "full"
    stored = attachment.image if full else attachment.thumbnail
    try:
        handle = stored.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    response = FileResponse(handle, content_type=attachment.content_type if full else "image/jpeg")
    response["Cache-Control"] = "private, max-age=86400"
    return response


@_scoped
@require_GET
def track(request):
    """Follow a case by its number. Someone else's case and a number that does not exist get the same
    answer, word for word."""
    form = TrackForm(request.GET if "number" in request.GET else None)
    not_found = ""
    if form.is_bound and form.is_valid():
        number = form.cleaned_data["number"]
        case = cases_for(request.user).filter(number=number).only("pk").first()
        if case is not None:
            return redirect("cases:m_case", pk=case.pk)
        not_found = number
    bootstrap_widgets(form)
    return render(request, "cases/mobile/track.html", {"title": "查询办理进度", "form": form,
                                                        "not_found": not_found})
