"""Economy pages of the registry side: projects and their parties, pooled projects with their shares
and dividend runs, strong–weak pairings, enterprises with partnerships, results and joint meetings.
Scope comes from ``core.views``; writes go through ``economy.actions``.

Every list on a page is read through ``visible_to(request.user)``: a record lying under two places (a
pooled project, a pairing, an enterprise) shows each viewer only the parts of their own scope — a
participant village sees its own share of a pool, a partner village its own partnership. Nothing here
saves a model; a dividend preview computes the allocation and writes nothing.
"""
import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Count, DecimalField, IntegerField, OuterRef, Prefetch, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, ExtractYear
from django.urls import path, reverse

from yiwang.areas.models import Region
from yiwang.core.errors import ActionError, PermissionRefused
from yiwang.core.permissions import allowed, require
from yiwang.core.views import ActionFormView, ScopedDetailView, ScopedListView, get_scoped_or_404

from .. import actions, ledger
from ..filtersets import PairingFilterSet, PoolFilterSet, ProjectFilterSet
from ..forms.registry import (
    ConfirmForm, DividendForm, EnterpriseFilterSet, EnterpriseForm, MeetingForm, PairingEditForm, PairingForm,
    PartnershipForm, PartnershipYearForm, PartyForm, PoolForm, ProjectEditForm, ProjectForm, ReverseForm, ShareForm,
    ZoneForm, regions_for,
)
from ..ledger import ZERO, operating_categories
from ..models import (
    DividendAllocation, DividendRun, Enterprise, IncomeEntry, JointMeeting, Partnership, PartnershipYear,
    PooledProject, PoolShare, Project, ProjectParty, VillagePairing, Zone,
)
from ..tables.registry import EnterpriseTable, PairingTable, PoolTable, ProjectTable

MONEY_ZERO = Value(Decimal("0.00"))


def crumbs(*items):
    return [("集体经济", reverse("economy:overview")), *items]


def ledger_paths(user):
    """Region paths where the user reads the income ledger ("" for a superuser: everywhere)."""
    return [""] if user.is_superuser else user.scope_paths("economy.view")


def may(user, perm, *paths):
    return all(allowed(user, perm, p) for p in paths)


# --------------------------------------------------------------------------- shared form view


class RegistryFormView(ActionFormView):
    """A form page of this module: the form gets the user where it builds choices from scope;
    a create page (no object) is refused to users who may change economy records nowhere."""

    template_name = "economy/registry/form.html"
    scope_action = "change"
    form_takes_user = True
    intro = ""

    def dispatch(self, request, *args, **kwargs):
        if (request.user.is_authenticated and not self.kwargs_name_object(kwargs)
                and not request.user.has_any("economy.change")):
            raise PermissionDenied("无权新增集体经济记录")
        return super().dispatch(request, *args, **kwargs)

    @staticmethod
    def kwargs_name_object(kwargs):
        return "pk" in kwargs

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if self.form_takes_user:
            kwargs["user"] = self.request.user
        return kwargs

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["intro"] = self.intro
        ctx["back_url"] = self.back_url()
        return ctx

    def back_url(self):
        if self.object is not None and hasattr(self.object, "get_absolute_url"):
            return self.object.get_absolute_url()
        return ""


# --------------------------------------------------------------------------- projects


class ProjectListView(ScopedListView):
    model = Project
    table_class = ProjectTable
    filterset_class = ProjectFilterSet
    title = "集体经济项目"
    template_name = "economy/registry/project_list.html"
    create_url_name = "economy:project_create"
    create_label = "新增项目"
    exchange_sheet = "projects"

    def get_queryset(self):
        return super().get_queryset().select_related("village", "zone").order_by("region_path", "code")

    def get_breadcrumbs(self):
        return crumbs(("项目", None))

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        from yiwang.exchange.listing import exchange_buttons

        try:
            ctx["exchange"] = exchange_buttons(self.request, self.exchange_sheet)
        except ActionError:  # the sheet is not registered (yet): no Excel buttons rather than a broken page
            ctx["exchange"] = None
        return ctx


class ProjectDetailView(ScopedDetailView):
    model = Project
    template_name = "economy/registry/project_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("village", "zone")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user, project = self.request.user, self.object
        ctx["parties"] = list(ProjectParty.objects.visible_to(user).filter(project=project).order_by("role", "pk"))
        ctx["parties_total"] = sum((p.amount for p in ctx["parties"] if p.amount is not None), ZERO)
        ctx["insured_heads"] = sum(p.insured_heads or 0 for p in ctx["parties"])
        entries = IncomeEntry.objects.visible_to(user).filter(project=project)
        ctx["income_total"] = ledger.total(entries)
        ctx["income_count"] = entries.count()
        ctx["entries"] = entries.order_by("-month", "-pk")[:50]
        ctx["pools"] = PooledProject.objects.visible_to(user).filter(project=project).select_related("host")
        ctx["may_change"] = allowed(user, "economy.change", project.region_path)
        return ctx

    def get_breadcrumbs(self):
        return crumbs(("项目", reverse("economy:project_list")), (self.object.name, None))


class ProjectCreateView(RegistryFormView):
    model = Project
    form_class = ProjectForm
    title = "新增集体经济项目"
    success_message = "项目已登记"

    def get_breadcrumbs(self):
        return crumbs(("项目", reverse("economy:project_list")), (self.title, None))

    def perform(self, form):
        d = form.cleaned_data
        return actions.create_project(
            village=d["village"], code=d["code"], name=d["name"], kind=d["kind"], status=d["status"],
            start_date=d["start_date"], end_date=d["end_date"] or None, location=d["location"],
            latitude=d["latitude"], longitude=d["longitude"], zone=d["zone"], product=d["product"],
            is_base=d["is_base"], description=d["description"], by=self.request.user)


class ProjectEditView(RegistryFormView):
    model = Project
    form_class = ProjectEditForm
    title = "编辑项目"

    def get_object(self):
        return get_scoped_or_404(Project, self.request.user, pk=self.kwargs["pk"])

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "village": self.object.village}

    def get_initial(self):
        p = self.object
        return {"name": p.name, "kind": p.kind, "status": p.status, "start_date": f"{p.start_date:%Y-%m-%d}",
                "end_date": f"{p.end_date:%Y-%m-%d}" if p.end_date else "", "location": p.location,
                "latitude": p.latitude if p.latitude is not None else "",
                "longitude": p.longitude if p.longitude is not None else "", "zone": p.zone_id,
                "product": p.product, "is_base": p.is_base, "description": p.description}

    def perform(self, form):
        d = form.cleaned_data
        return actions.update_project(
            self.object, name=d["name"], kind=d["kind"], status=d["status"], start_date=d["start_date"],
            end_date=d["end_date"], location=d["location"], latitude=d["latitude"], longitude=d["longitude"],
            zone=d["zone"], product=d["product"], is_base=d["is_base"], description=d["description"],
            by=self.request.user)


class ProjectPartyCreateView(RegistryFormView):
    model = Project
    form_class = PartyForm
    form_takes_user = False
    title = "新增项目参与方"
    intro = "六方联动：政府、企业、村集体、农户、银行、保险公司；保险公司可填参保头数。"
    success_message = "参与方已添加"

    def get_object(self):
        return get_scoped_or_404(Project, self.request.user, pk=self.kwargs["pk"])

    def perform(self, form):
        d = form.cleaned_data
        return actions.add_project_party(self.object, role=d["role"], name=d["name"], amount=d["amount"],
                                         insured_heads=d["insured_heads"], note=d["note"], by=self.request.user)

    def get_success_url(self, result):
        return self.object.get_absolute_url()


# --------------------------------------------------------------------------- pooled projects


class PoolListView(ScopedListView):
    model = PooledProject
    table_class = PoolTable
    filterset_class = PoolFilterSet
    title = "飞地抱团项目"
    create_url_name = "economy:pool_create"
    create_label = "新增抱团项目"

    def get_queryset(self):
        user = self.request.user
        shares = (PoolShare.objects.visible_to(user).filter(pool=OuterRef("pk")).order_by()
                  .values("pool").annotate(c=Count("pk")).values("c"))
        runs = (DividendRun.objects.visible_to(user).filter(pool=OuterRef("pk"), reverses__isnull=True)
                .order_by("-year", "-pk"))
        return (super().get_queryset().select_related("host")
                .annotate(participant_count=Coalesce(Subquery(shares, output_field=IntegerField()), 0),
                          last_run_year=Subquery(runs.values("year")[:1]),
                          last_run_status=Subquery(runs.values("status")[:1]))
                .order_by("code"))

    def get_breadcrumbs(self):
        return crumbs(("飞地抱团", None))


class PoolDetailView(ScopedDetailView):
    model = PooledProject
    template_name = "economy/registry/pool_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("host")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user, pool = self.request.user, self.object
        shares = list(PoolShare.objects.visible_to(user).filter(pool=pool).select_related("village")
                      .order_by("village__code"))
        for s in shares:
            s.percent = (s.capital * 100 / pool.total_capital).quantize(Decimal("0.01")) if pool.total_capital else None
        ctx["shares"] = shares
        ctx["shares_total"] = sum((s.capital for s in shares), ZERO)
        ctx["runs"] = (DividendRun.objects.visible_to(user).filter(pool=pool).select_related("reverses")
                       .order_by("-year", "-pk"))
        ctx["project"] = (Project.objects.visible_to(user).filter(pk=pool.project_id).first()
                          if pool.project_id else None)
        ctx["may_change"] = allowed(user, "economy.change", pool.region_path)
        return ctx

    def get_breadcrumbs(self):
        return crumbs(("飞地抱团", reverse("economy:pool_list")), (self.object.name, None))


class PoolCreateView(RegistryFormView):
    model = PooledProject
    form_class = PoolForm
    title = "新增飞地抱团项目"
    intro = "多村出资到所在村的基地统一经营，每年按出资比例分配可分配收益；可设保底收益率和提留比例。"
    success_message = "抱团项目已登记；请添加参与村出资"

    def get_breadcrumbs(self):
        return crumbs(("飞地抱团", reverse("economy:pool_list")), (self.title, None))

    def perform(self, form):
        d = form.cleaned_data
        return actions.create_pool(code=d["code"], name=d["name"], host=d["host"], project=d["project"],
                                   start_date=d["start_date"], total_capital=d["total_capital"],
                                   guaranteed_rate=d["guaranteed_rate"], retained_percent=d["retained_percent"] or 0,
                                   note=d["note"], by=self.request.user)


class PoolShareCreateView(RegistryFormView):
    model = PooledProject
    form_class = ShareForm
    title = "添加参与村出资"
    success_message = "出资已登记"

    def get_object(self):
        return get_scoped_or_404(PooledProject, self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["intro"] = f"项目总出资额 {self.object.total_capital:,.2f} 元；各村出资合计不能超过总额。"
        return ctx

    def perform(self, form):
        d = form.cleaned_data
        return actions.add_pool_share(self.object, village=d["village"], capital=d["capital"],
                                      joined_on=d["joined_on"], by=self.request.user)

    def get_success_url(self, result):
        return self.object.get_absolute_url()


class PoolDividendView(RegistryFormView):
    """分红: "预览" shows the allocation ``actions.preview_dividend`` computes (nothing is written);
    "提交审批" proposes the run (a draft holding the same allocation) and opens it."""

    model = PooledProject
    form_class = DividendForm
    form_takes_user = False
    title = "年度分红"
    template_name = "economy/registry/pool_dividend.html"
    success_message = "分红已提交，待经管站审批入账"

    def get_object(self):
        return get_scoped_or_404(PooledProject, self.request.user, pk=self.kwargs["pk"])

    def get_initial(self):
        return {"year": datetime.date.today().year - 1}

    def form_valid(self, form):
        if "preview" not in self.request.POST:
            return super().form_valid(form)
        pool, d = self.object, form.cleaned_data
        # the preview shows every participant's capital: only for those who may propose the run itself
        try:
            for p in {pool.region_path, *pool.shares.values_list("region_path", flat=True)}:
                require(self.request.user, "economy.change", p, action="economy.preview_dividend", obj=pool)
        except PermissionRefused as e:
            raise PermissionDenied(e.text) from None
        try:
            result = actions.preview_dividend(pool, year=d["year"], distributable=d["distributable"])
        except ActionError as e:
            form.add_error(e.field if e.field in form.fields else None, e.text)
            return self.form_invalid(form)
        already = actions.effective_runs(pool, d["year"]).first()
        return self.render_to_response(self.get_context_data(form=form, preview=preview_rows(result),
                                                             already=already))

    def perform(self, form):
        d = form.cleaned_data
        return actions.propose_dividend_run(self.object, year=d["year"], distributable=d["distributable"],
                                            post_month=d["post_month"] or None, note=d["note"],
                                            by=self.request.user)


def preview_rows(result):
    """The allocation as the page shows it: each part with its exact share (6 places) and the checks."""
    rows = []
    for part in result.parts:
        exact = Decimal(part.exact.numerator) / Decimal(part.exact.denominator)
        rows.append({"village": part.key.village, "capital": part.capital, "exact": exact.quantize(Decimal("0.000001")),
                     "exact_is_whole": part.exact * 100 == int(part.exact * 100), "amount": part.amount})
    parts_sum = sum((r["amount"] for r in rows), ZERO)
    return {"result": result, "rows": rows, "parts_sum": parts_sum, "balanced": parts_sum == result.payout,
            "capital_sum": sum((r["capital"] for r in rows), ZERO),
            "reconciles": result.distributable - result.retained + result.guarantee_topup == result.payout}


class RunDetailView(ScopedDetailView):
    model = DividendRun
    template_name = "economy/registry/run_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("pool__host", "reverses", "created_by", "approved_by")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user, run = self.request.user, self.object
        allocations = list(DividendAllocation.objects.visible_to(user).filter(run=run).select_related("village", "entry")
                           .order_by("village__code"))
        ctx["allocations"] = allocations
        ctx["allocations_total"] = sum((a.amount for a in allocations), ZERO)
        ctx["reversal"] = DividendRun.objects.visible_to(user).filter(reverses=run).first()
        ctx["may_approve"] = allowed(user, "economy.approve", run.pool.region_path)
        ctx["is_draft"] = run.status == DividendRun.Status.DRAFT
        ctx["is_posted"] = run.status == DividendRun.Status.POSTED and run.reverses_id is None
        return ctx

    def get_breadcrumbs(self):
        pool = self.object.pool
        return crumbs(("飞地抱团", reverse("economy:pool_list")), (pool.name, pool.get_absolute_url()),
                      (str(self.object), None))


class RunActionView(RegistryFormView):
    model = DividendRun
    form_takes_user = False
    template_name = "economy/registry/run_action.html"

    def get_object(self):
        return get_scoped_or_404(DividendRun, self.request.user, pk=self.kwargs["pk"])

    def get_breadcrumbs(self):
        run = self.object
        return crumbs(("飞地抱团", reverse("economy:pool_list")), (run.pool.name, run.pool.get_absolute_url()),
                      (str(run), run.get_absolute_url()), (self.get_title(), None))

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["title"] = self.get_title()
        ctx["run"] = self.object
        return ctx

    def get_title(self):
        return self.title


class RunApproveView(RunActionView):
    form_class = ConfirmForm
    title = "审批入账"
    success_message = "已审批入账：各参与村台账已记入投资收益"

    def perform(self, form):
        return actions.approve_dividend_run(self.object, by=self.request.user)


class RunReverseView(RunActionView):
    form_class = ReverseForm

    def get_title(self):
        return "撤回分红" if self.object.status == DividendRun.Status.DRAFT else "冲销分红"

    def perform(self, form):
        self.success_message = ("已撤回" if self.object.status == DividendRun.Status.DRAFT
                                else "已冲销：各参与村台账已记入冲销分录")
        return actions.reverse_dividend_run(self.object, reason=form.cleaned_data["reason"], by=self.request.user)


# --------------------------------------------------------------------------- pairings


def operating_income_by_village_year(user, villages):
    """{(village id, year): operating income} over the ledger the user reads — one GROUP BY."""
    rows = (IncomeEntry.objects.visible_to(user).filter(village__in=villages, category__in=operating_categories())
            .annotate(year=ExtractYear("month")).order_by().values("village", "year").annotate(s=Sum("amount")))
    return {(r["village"], r["year"]): ledger.cents(r["s"]) for r in rows}


class PairingListView(ScopedListView):
    model = VillagePairing
    table_class = PairingTable
    filterset_class = PairingFilterSet
    title = "强村带弱村"
    create_url_name = "economy:pairing_create"
    create_label = "新增帮带"

    def get_queryset(self):
        return (super().get_queryset().select_related("strong", "weak")
                .order_by("region_path", "start_date", "pk"))

    def get_table_kwargs(self):
        user = self.request.user
        weak_ids = self.object_list.order_by().values("weak_id")
        return {"incomes": operating_income_by_village_year(user, weak_ids),
                "last_year": datetime.date.today().year - 1, "ledger_paths": ledger_paths(user)}

    def get_breadcrumbs(self):
        return crumbs(("强村带弱村", None))


class PairingDetailView(ScopedDetailView):
    model = VillagePairing
    template_name = "economy/registry/pairing_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("strong", "weak")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user, pairing = self.request.user, self.object
        ctx["readable"] = pairing.weak.path.startswith(tuple(ledger_paths(user)))
        incomes = operating_income_by_village_year(user, [pairing.weak_id])
        base_year = pairing.start_date.year - 1
        base = incomes.get((pairing.weak_id, base_year), ZERO)
        years = []
        last = max([y for (_, y) in incomes] + [base_year])  # up to the last year with entries, no empty years
        for year in range(base_year, last + 1):
            amount = incomes.get((pairing.weak_id, year), ZERO)
            years.append({"year": year, "amount": amount, "change": amount - base if year != base_year else None,
                          "is_base": year == base_year, "partial": year == datetime.date.today().year})
        ctx["years"] = years
        ctx["may_change"] = allowed(user, "economy.change", pairing.region_path)
        return ctx

    def get_breadcrumbs(self):
        return crumbs(("强村带弱村", reverse("economy:pairing_list")), (str(self.object), None))


class PairingCreateView(RegistryFormView):
    model = VillagePairing
    form_class = PairingForm
    title = "新增强村带弱村"
    intro = "帮带村可选本镇的村；外镇的村请填写其名称。"
    success_message = "帮带已登记"

    def get_breadcrumbs(self):
        return crumbs(("强村带弱村", reverse("economy:pairing_list")), (self.title, None))

    def perform(self, form):
        d = form.cleaned_data
        return actions.create_pairing(weak=d["weak"], strong=d["strong"], strong_name=d["strong_name"],
                                      measures=d["measures"], start_date=d["start_date"],
                                      end_date=d["end_date"] or None, by=self.request.user)


class ZoneView(RegistryFormView):
    """产业布局: the towns' zones (四区五园十基地) with their project counts, and a form to add one. Zones are
    the town's reference data: listed for the towns where the user holds economy rights."""

    model = Project  # the page's permission namespace (economy); zones themselves carry no scope
    form_class = ZoneForm
    title = "产业布局"
    intro = "本镇的产业布局（如“四区五园十基地”），项目登记时可选。名称请勿使用村名。"
    success_message = "产业布局已添加"
    template_name = "economy/registry/zones.html"

    def get_breadcrumbs(self):
        return crumbs((self.title, None))

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        towns = regions_for(self.request.user, Region.Kind.TOWN, "economy.view")
        projects = Project.objects.visible_to(self.request.user)
        ctx["zones"] = (Zone.objects.filter(town__in=towns).select_related("town")
                        .annotate(project_count=Count("projects", filter=Q(projects__in=projects)))
                        .order_by("town__path", "kind", "order", "name"))
        return ctx

    def perform(self, form):
        d = form.cleaned_data
        return actions.create_zone(town=d["town"], name=d["name"], kind=d["kind"], by=self.request.user)

    def get_success_url(self, result):
        return reverse("economy:zones")


class PairingEditView(RegistryFormView):
    """编辑帮带: change the measures or end the pairing (an end date), through update_pairing."""

    model = VillagePairing
    form_class = PairingEditForm
    title = "编辑帮带"
    success_message = "帮带已更新"

    def get_object(self):
        return get_scoped_or_404(VillagePairing, self.request.user, pk=self.kwargs["pk"])

    def get_initial(self):
        p = self.object
        return {"measures": p.measures, "end_date": f"{p.end_date:%Y-%m-%d}" if p.end_date else ""}

    def perform(self, form):
        d = form.cleaned_data
        return actions.update_pairing(self.object, measures=d["measures"], end_date=d["end_date"] or None,
                                      by=self.request.user)


# --------------------------------------------------------------------------- enterprises


class EnterpriseListView(ScopedListView):
    """Totals are over the partnerships (and their yearly results) the user sees: a partner village
    sees its own partnership's figures, the town all of them."""

    model = Enterprise
    table_class = EnterpriseTable
    filterset_class = EnterpriseFilterSet
    title = "万企兴万村"
    create_url_name = "economy:enterprise_create"
    create_label = "登记企业"

    def get_queryset(self):
        user = self.request.user
        partners = (Partnership.objects.visible_to(user).filter(enterprise=OuterRef("pk")).order_by()
                    .values("enterprise").annotate(c=Count("pk")).values("c"))
        years = (PartnershipYear.objects.visible_to(user).filter(partnership__enterprise=OuterRef("pk")).order_by()
                 .values("partnership__enterprise"))

        def total(field, output):
            return Subquery(years.annotate(s=Sum(field)).values("s"), output_field=output)

        money = DecimalField(max_digits=16, decimal_places=2)
        return (super().get_queryset()
                .annotate(partner_count=Coalesce(Subquery(partners, output_field=IntegerField()), 0),
                          produce_total=Coalesce(total("produce_sales", money), MONEY_ZERO, output_field=money),
                          jobs_total=Coalesce(total("jobs", IntegerField()), 0),
                          income_total=Coalesce(total("collective_income", money), MONEY_ZERO, output_field=money))
                .order_by("name"))

    def get_breadcrumbs(self):
        return crumbs(("万企兴万村", None))


class EnterpriseDetailView(ScopedDetailView):
    model = Enterprise
    template_name = "economy/registry/enterprise_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("town")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user, enterprise = self.request.user, self.object
        years = PartnershipYear.objects.visible_to(user).order_by("-year")
        partnerships = list(Partnership.objects.visible_to(user).filter(enterprise=enterprise)
                            .select_related("village", "project").prefetch_related(Prefetch("years", queryset=years))
                            .order_by("region_path"))
        for p in partnerships:
            p.may_change = allowed(user, "economy.change", p.region_path)
        ctx["partnerships"] = partnerships
        rows = [y for p in partnerships for y in p.years.all()]
        ctx["totals"] = {"produce_sales": sum((y.produce_sales for y in rows), ZERO),
                         "jobs": sum(y.jobs for y in rows),
                         "collective_income": sum((y.collective_income for y in rows), ZERO)}
        ctx["meetings"] = (JointMeeting.objects.visible_to(user).filter(enterprises=enterprise)
                           .prefetch_related(Prefetch("villages", queryset=Region.objects.visible_to(user)))
                           .order_by("-date", "-pk"))
        ctx["may_change_town"] = allowed(user, "economy.change", enterprise.region_path)
        ctx["may_add_partner"] = user.has_any("economy.change")
        ctx["this_year"] = datetime.date.today().year
        return ctx

    def get_breadcrumbs(self):
        return crumbs(("万企兴万村", reverse("economy:enterprise_list")), (self.object.name, None))


class EnterpriseCreateView(RegistryFormView):
    model = Enterprise
    form_class = EnterpriseForm
    title = "登记万企兴万村企业"
    success_message = "企业已登记"

    def get_breadcrumbs(self):
        return crumbs(("万企兴万村", reverse("economy:enterprise_list")), (self.title, None))

    def perform(self, form):
        d = form.cleaned_data
        return actions.create_enterprise(name=d["name"], town=d["town"], credit_code=d["credit_code"],
                                         industry=d["industry"], note=d["note"], by=self.request.user)


class PartnershipCreateView(RegistryFormView):
    model = Enterprise
    form_class = PartnershipForm
    title = "新增村企结对"
    success_message = "结对已登记"

    def get_object(self):
        return get_scoped_or_404(Enterprise, self.request.user, pk=self.kwargs["pk"])

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "enterprise": self.object}

    def perform(self, form):
        d = form.cleaned_data
        return actions.add_partnership(self.object, village=d["village"], project=d["project"],
                                       start_date=d["start_date"], investment=d["investment"], by=self.request.user)

    def get_success_url(self, result):
        return self.object.get_absolute_url()


class PartnershipYearView(RegistryFormView):
    """录入年度成效 of one partnership (a year entered again replaces that year's figures)."""

    model = Partnership
    form_class = PartnershipYearForm
    form_takes_user = False
    title = "录入年度成效"
    success_message = "年度成效已保存"

    def get_object(self):
        return get_scoped_or_404(Partnership, self.request.user, pk=self.kwargs["pk"])

    def get_initial(self):
        return {"year": datetime.date.today().year - 1}

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["intro"] = f"{self.object.enterprise.name} · {self.object.village.short_name}"
        return ctx

    def back_url(self):
        return self.object.enterprise.get_absolute_url()

    def get_breadcrumbs(self):
        e = self.object.enterprise
        return crumbs(("万企兴万村", reverse("economy:enterprise_list")), (e.name, e.get_absolute_url()),
                      (self.title, None))

    def perform(self, form):
        d = form.cleaned_data
        return actions.record_partnership_year(self.object, year=d["year"], produce_sales=d["produce_sales"],
                                               jobs=d["jobs"], collective_income=d["collective_income"],
                                               by=self.request.user)

    def get_success_url(self, result):
        return self.object.enterprise.get_absolute_url()


class MeetingCreateView(RegistryFormView):
    model = JointMeeting
    form_class = MeetingForm
    title = "记录万企兴万村联席会议"
    success_message = "联席会议已记录"

    def get_initial(self):
        pk = self.request.GET.get("enterprise", "")
        chosen = Enterprise.objects.visible_to(self.request.user).filter(pk=pk).first() if pk.isdigit() else None
        return {"enterprises": [chosen] if chosen else []}

    def get_breadcrumbs(self):
        return crumbs(("万企兴万村", reverse("economy:enterprise_list")), (self.title, None))

    def perform(self, form):
        d = form.cleaned_data
        return actions.record_meeting(town=d["town"], date=d["date"], title=d["title"], minutes=d["minutes"],
                                      enterprises=list(d["enterprises"]), villages=list(d["villages"]),
                                      by=self.request.user)

    def get_success_url(self, result):
        first = result.enterprises.order_by("name").first()
        return first.get_absolute_url() if first else reverse("economy:enterprise_list")


urlpatterns = [
    path("projects/", ProjectListView.as_view(), name="project_list"),
    path("projects/new/", ProjectCreateView.as_view(), name="project_create"),
    path("projects/<int:pk>/", ProjectDetailView.as_view(), name="project_detail"),
    path("projects/<int:pk>/edit/", ProjectEditView.as_view(), name="project_edit"),
    path("projects/<int:pk>/parties/new/", ProjectPartyCreateView.as_view(), name="project_party_create"),
    path("pools/", PoolListView.as_view(), name="pool_list"),
    path("pools/new/", PoolCreateView.as_view(), name="pool_create"),
    path("pools/<int:pk>/", PoolDetailView.as_view(), name="pool_detail"),
    path("pools/<int:pk>/shares/new/", PoolShareCreateView.as_view(), name="pool_share_create"),
    path("pools/<int:pk>/dividend/", PoolDividendView.as_view(), name="pool_dividend"),
    path("runs/<int:pk>/", RunDetailView.as_view(), name="run_detail"),
    path("runs/<int:pk>/approve/", RunApproveView.as_view(), name="run_approve"),
    path("runs/<int:pk>/reverse/", RunReverseView.as_view(), name="run_reverse"),
    path("pairings/", PairingListView.as_view(), name="pairing_list"),
    path("pairings/new/", PairingCreateView.as_view(), name="pairing_create"),
    path("pairings/<int:pk>/", PairingDetailView.as_view(), name="pairing_detail"),
    path("pairings/<int:pk>/edit/", PairingEditView.as_view(), name="pairing_edit"),
    path("zones/", ZoneView.as_view(), name="zones"),
    path("enterprises/", EnterpriseListView.as_view(), name="enterprise_list"),
    path("enterprises/new/", EnterpriseCreateView.as_view(), name="enterprise_create"),
    path("enterprises/<int:pk>/", EnterpriseDetailView.as_view(), name="enterprise_detail"),
    path("enterprises/<int:pk>/partners/new/", PartnershipCreateView.as_view(), name="partnership_create"),
    path("partnerships/<int:pk>/year/", PartnershipYearView.as_view(), name="partnership_year"),
    path("meetings/new/", MeetingCreateView.as_view(), name="meeting_create"),
]
