"""Grid pages, phone-first: my paired households (我的包户), record a visit with a photo and the
phone's location, pair and unpair a household, workers and their detail, unpaired households, and
paired households not visited in N days. Scope comes from ``core.views``; writes go through
``grid.actions``; nothing here writes a model directly.
"""
import datetime

from django.contrib import messages
from django.db.models import Count, Max, OuterRef, Q, Subquery
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.views.generic import TemplateView

from yiwang.core.views import (
    ActionFormView, ScopedDetailView, ScopedListView, ScopedMixin, bootstrap_widgets, get_scoped_or_404,
)
from yiwang.people.filtersets import HouseholdFilterSet
from yiwang.people.models import Household

from . import actions
from .filtersets import GridWorkerFilterSet, UnvisitedFilterSet, VisitFilterSet
from .forms import PairForm, UnpairForm, VisitForm, WorkerEditForm, WorkerForm
from .models import GridWorker, Pairing, Visit
from .tables import GridWorkerTable, UnpairedTable, UnvisitedTable, VisitTable

DEFAULT_DAYS = 30


def own_worker(user):
    """The grid worker record of a signed-in user (their login), if they are one and in office."""
    if not user.is_authenticated:
        return None
    return (GridWorker.objects.visible_to(user).filter(user=user, end_date__isnull=True)
            .select_related("person", "grid").first())


def last_visit_subquery():
    return Subquery(Visit.objects.filter(household=OuterRef("household")).order_by("-date")
                    .values("date")[:1])


class WorkerListView(ScopedListView):
    model = GridWorker
    table_class = GridWorkerTable
    filterset_class = GridWorkerFilterSet
    title = "网格员"
    create_url_name = "grid:worker_create"
    breadcrumbs = [("网格员", None)]

    def get_queryset(self):
        return (super().get_queryset().select_related("person", "grid")
                .annotate(paired_count=Count("pairings", filter=Q(pairings__end_date__isnull=True)))
                .order_by("region_path", "pk"))


class WorkerDetailView(ScopedDetailView):
    model = GridWorker
    template_name = "grid/worker_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("person__household", "grid", "user")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        w = self.object
        ctx["grids"] = w.grids.order_by("code")
        ctx["pairings"] = (w.pairings.filter(end_date__isnull=True).select_related("household__head", "household__grid")
                           .annotate(last_visit=last_visit_subquery()).order_by("household__number"))
        ctx["visits"] = w.visits.select_related("household").order_by("-date", "-pk")[:20]
        ctx["visit_count"] = w.visits.count()
        return ctx

    def get_breadcrumbs(self):
        return [("网格员", "/grid/workers/"), (str(self.object), None)]


class WorkerCreateView(ActionFormView):
    model = GridWorker
    form_class = WorkerForm
    title = "新增网格员"
    scope_action = "change"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def perform(self, form):
        d = form.cleaned_data
        return actions.create_worker(person=d["id_number"], grid=d["grid"], grids=list(d["grids"]), kind=d["kind"],
                                     start_date=d["start_date"], user=d["username"], by=self.request.user)


class WorkerEditView(ActionFormView):
    model = GridWorker
    form_class = WorkerEditForm
    title = "编辑网格员"

    def get_object(self):
        return get_scoped_or_404(GridWorker, self.request.user, pk=self.kwargs["pk"])

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "worker": self.object}

    def get_initial(self):
        w = self.object
        return {"grids": list(w.grids.all()), "kind": w.kind, "end_date": w.end_date}

    def perform(self, form):
        d = form.cleaned_data
        grids = list(d["grids"])
        return actions.update_worker(self.object, kind=d["kind"], grids=grids or None, end_date=d["end_date"],
                                     by=self.request.user)


class MyHouseholdsView(ScopedMixin, TemplateView):
    """我的包户: the signed-in grid worker's current households, each with its last visit."""

    model = Pairing
    template_name = "grid/mine.html"
    breadcrumbs = [("我的包户", None)]

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        worker = own_worker(self.request.user)
        ctx["worker"] = worker
        ctx["title"] = "我的包户"
        if worker is not None:
            days = DEFAULT_DAYS
            ctx["pairings"] = (Pairing.objects.visible_to(self.request.user).filter(worker=worker, end_date__isnull=True)
                               .select_related("household__head", "household__grid")
                               .annotate(last_visit=last_visit_subquery()).order_by("household__number"))
            ctx["due"] = datetime.date.today() - datetime.timedelta(days=days)
            ctx["days"] = days
        return ctx


class HouseholdGridView(ScopedDetailView):
    """One household's grid page: its current worker, pairing history and visits, with the actions."""

    model = Household
    template_name = "grid/household.html"

    def get_queryset(self):
        return super().get_queryset().select_related("village", "grid", "head")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        ctx["pairings"] = (Pairing.objects.visible_to(user).filter(household=self.object)
                           .select_related("worker__person").order_by("-start_date", "-pk"))
        ctx["current"] = next((p for p in ctx["pairings"] if p.end_date is None), None)
        ctx["visits"] = (Visit.objects.visible_to(user).filter(household=self.object)
                         .select_related("worker__person").order_by("-date", "-pk")[:30])
        return ctx

    def get_breadcrumbs(self):
        return [("网格员", "/grid/workers/"), (f"户 {self.object.number}", None)]


class HouseholdActionView(ActionFormView):
    """Base of the forms that name a household in the URL (pair, unpair, record a visit)."""

    model = Household

    def get_object(self):
        return get_scoped_or_404(Household, self.request.user, pk=self.kwargs["pk"])

    def get_breadcrumbs(self):
        from django.urls import reverse

        return [(f"户 {self.object.number}", reverse("grid:household", args=[self.object.pk])), (self.title, None)]

    def get_success_url(self, result):
        from django.urls import reverse

        return reverse("grid:household", args=[self.object.pk])


class PairView(HouseholdActionView):
    form_class = PairForm
    title = "包户结对"
    success_message = "已结对"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user, "household": self.object}

    def perform(self, form):
        return actions.pair_household(self.object, form.cleaned_data["worker"],
                                      start_date=form.cleaned_data["start_date"], by=self.request.user)


class UnpairView(HouseholdActionView):
    form_class = UnpairForm
    title = "解除结对"
    success_message = "已解除结对"

    def perform(self, form):
        return actions.unpair_household(self.object, end_date=form.cleaned_data["end_date"], by=self.request.user)


class VisitCreateView(HouseholdActionView):
    form_class = VisitForm
    title = "记录走访"
    template_name = "grid/visit_form.html"
    success_message = "走访已记录"

    def get_form_kwargs(self):
        self.own = own_worker(self.request.user)
        current = (Pairing.objects.filter(household=self.object, end_date__isnull=True).select_related("worker")
                   .first())
        return {**super().get_form_kwargs(), "user": self.request.user, "household": self.object,
                "own_worker": self.own, "current_worker": current.worker if current else None}

    def perform(self, form):
        d = form.cleaned_data
        worker = self.own or d.get("worker")
        return actions.record_visit(household=self.object, worker=worker, date=d["date"], kind=d["kind"],
                                    findings=d["findings"], photo=d.get("photo"), latitude=d["latitude"],
                                    longitude=d["longitude"], by=self.request.user)

    def get_success_url(self, result):
        if self.own is not None:
            from django.urls import reverse

            return reverse("grid:mine")
        return result.get_absolute_url()


class VisitListView(ScopedListView):
    model = Visit
    table_class = VisitTable
    filterset_class = VisitFilterSet
    title = "走访记录"
    breadcrumbs = [("走访记录", None)]

    def get_queryset(self):
        return super().get_queryset().select_related("household", "worker__person").order_by("-date", "-pk")


class VisitDetailView(ScopedDetailView):
    model = Visit
    template_name = "grid/visit_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("household", "worker__person", "case")

    def get_breadcrumbs(self):
        from django.urls import reverse

        h = self.object.household
        return [(f"户 {h.number}", reverse("grid:household", args=[h.pk])), (f"走访 {self.object.date:%Y-%m-%d}", None)]


def visit_photo(request, pk, thumb=False):
    """A visit's photo (or its thumbnail), read through scope: another village's photo is 404."""
    visit = get_scoped_or_404(Visit, request.user, pk=pk)
    image = visit.thumbnail if thumb else visit.photo
    if not image:
        raise Http404
    try:
        handle = image.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type="image/jpeg" if image.name.endswith(".jpg") else "image/png")
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response


visit_photo.scoped = True  # reads through get_scoped_or_404
visit_photo.scope_model = Visit


class UnpairedListView(ScopedListView):
    """Households of a grid (or village) with no current pairing."""

    model = Household
    table_class = UnpairedTable
    filterset_class = HouseholdFilterSet
    title = "未结对户"
    breadcrumbs = [("未结对户", None)]

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.has_any("grid.view"):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied("无权查看此页面")
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return (super().get_queryset().filter(closed_on__isnull=True)
                .exclude(pk__in=Pairing.objects.filter(end_date__isnull=True).values("household"))
                .select_related("grid", "head").order_by("number"))


class UnvisitedListView(ScopedListView):
    """未走访: current pairings whose household has not been visited in ``?days=`` days (default 30),
    counted back from ``?asof=`` (default today), ordered by worker."""

    model = Pairing
    table_class = UnvisitedTable
    filterset_class = UnvisitedFilterSet
    template_name = "grid/unvisited.html"
    breadcrumbs = [("未走访", None)]

    def params(self):
        try:
            days = max(1, min(3650, int(self.request.GET.get("days", DEFAULT_DAYS))))
        except ValueError:
            days = DEFAULT_DAYS
        try:
            asof = datetime.date.fromisoformat(self.request.GET.get("asof", ""))
        except ValueError:
            asof = datetime.date.today()
        return days, asof

    def get_queryset(self):
        days, asof = self.params()
        since = asof - datetime.timedelta(days=days)
        return (super().get_queryset().current_on(asof)
                .select_related("worker__person", "household__grid")
                .annotate(last_visit=Max("household__visits__date", filter=Q(household__visits__date__lte=asof)))
                .filter(Q(last_visit__isnull=True) | Q(last_visit__lt=since))
                .order_by("worker__region_path", "worker_id", "household__number"))

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["days"], ctx["asof"] = self.params()
        ctx["title"] = f"{ctx['days']} 天未走访的包户"
        return ctx


class VisitCaseView(ActionFormView):
    """转为诉求: the visit's finding reported as a case (channel 网格员上报) in one step."""

    model = Visit
    title = "转为诉求"
    success_message = "已转为诉求"

    def get_form_class(self):
        from .forms import VisitCaseForm

        return VisitCaseForm

    def get_object(self):
        return get_scoped_or_404(Visit, self.request.user, pk=self.kwargs["pk"])

    def get_initial(self):
        return {"description": self.object.findings}

    def perform(self, form):
        return actions.visit_to_case(self.object, category=form.cleaned_data["category"],
                                     description=form.cleaned_data["description"], by=self.request.user)
