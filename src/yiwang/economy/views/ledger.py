"""Economy pages of the ledger side: the town overview (集体经济), a village's statement, the income
ledger with its entry form and entry page (冲销 / 更正 / 审核), the tier history with designations and
the forecast with its measured error.

Scope: every page is for the region of the switcher (``core.regions.current_region``), narrowed to the
villages where the user holds ``economy.view``; a village's statement is looked up with
``get_scoped_or_404`` and every list on a page is read through ``visible_to``. The figures come from
``economy.ledger`` / ``tiers`` / ``forecast`` (aggregates over the region, never a query per village).
Nothing here writes a model: every POST calls a function of ``economy.actions``.
"""
import datetime
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Max
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.generic import TemplateView

from yiwang.areas.models import Region
from yiwang.core.errors import ActionError, PermissionRefused
from yiwang.core.money import format_wan
from yiwang.core.permissions import allowed
from yiwang.core.regions import current_region
from yiwang.core.views import (
    ActionFormView, ScopedDetailView, ScopedListView, ScopedMixin, bootstrap_widgets, get_scoped_or_404,
)

from .. import actions, forecast, ledger, tiers
from ..filtersets import IncomeEntryFilterSet
from ..forms.ledger import CorrectForm, DesignateForm, EntryForm, ReverseForm, ReviewForm, villages_where
from ..models import DividendAllocation, IncomeCategory, IncomeEntry, Tier
from ..tables.ledger import IncomeEntryTable, yuan

TIER_ORDER = (Tier.DEMONSTRATION, Tier.ORDINARY, Tier.WEAK)
TIER_LABELS = dict(Tier.choices)
TIER_BADGES = {Tier.DEMONSTRATION: "bg-success", Tier.ORDINARY: "bg-primary", Tier.WEAK: "bg-warning text-dark"}
INCOME_SHEET = "income_entries"
CRUMB = ("集体经济", "/economy/")

# forecast.py's method, written out for the page (the docstring there is the reference)
FORECAST_METHOD = [
    "全年预测 = 本年截至第 m 月的经营性收入累计 ÷ 上年同期占比。",
    "上年同期占比 = 上年 1—m 月经营性收入 ÷ 上年全年经营性收入，即假定本年余下月份的收入结构与上年相同（上年月度结构）。",
    "上年没有收入、或上年截至第 m 月没有收入时，改用直线外推：本年累计 × 12 ÷ m。",
    "m 取截至日期所在月份，但不晚于本年最后一个有分录的月份（台账录到 5 月，就按 5 月预测）。",
    "误差回测：对每个往年，用它自己前 m 个月的数据和上一年的结构预测全年，再与该年实际全年收入比较。",
]


def parse_year(value, default):
    try:
        year = int(str(value).strip())
    except (TypeError, ValueError):
        return default
    return year if 2000 <= year <= 2100 else default


def parse_date(value, default):
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except (TypeError, ValueError):
        return default


def percent(part, whole):
    if not whole:
        return None
    return (part * 100 / whole).quantize(Decimal("0.1"), ROUND_HALF_UP)


class EconomyPageMixin(ScopedMixin):
    """A page of the economy module: 403 for a user who holds ``economy.view`` nowhere (the menu hides
    it too); otherwise the region of the switcher and the villages of it the user sees."""

    model = IncomeEntry
    title = ""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.has_any("economy.view"):
            raise PermissionDenied("无权查看此页面")
        return super().dispatch(request, *args, **kwargs)

    def region(self):
        return current_region(self.request)

    def villages(self, region, perm="economy.view"):
        return list(villages_where(self.request.user, perm, region)) if region is not None else []

    def entries(self, region):
        """Entries the user sees under ``region`` (the switcher's region)."""
        qs = IncomeEntry.objects.visible_to(self.request.user)
        return qs.filter(region_path__startswith=region.path) if region is not None else qs.none()

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["title"] = self.title
        return ctx


def ledger_years(entries) -> list[int]:
    """Every year with entries, oldest first (one query)."""
    return [d.year for d in entries.dates("month", "year")]


def default_year(entries, years):
    """The latest year whose December has entries (a finished year), else the latest year with entries."""
    december = entries.filter(month__month=12).aggregate(m=Max("month"))["m"]
    if december is not None:
        return december.year
    return years[-1] if years else datetime.date.today().year


# --------------------------------------------------------------------------- overview


class OverviewView(EconomyPageMixin, TemplateView):
    """集体经济: every village ranked by operating income, its tier and 百万村 flag, tier counts, the
    movement from last year, a bar chart of income by village and the key figures."""

    template_name = "economy/ledger/overview.html"
    title = "集体经济"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        region = self.region()
        ctx["region"] = region
        if region is None:
            return ctx
        entries = self.entries(region)
        years = ledger_years(entries)
        year = parse_year(self.request.GET.get("year"), None) or default_year(entries, years)
        villages = self.villages(region)
        last_month = entries.filter(month__year=year).aggregate(m=Max("month"))["m"]
        now = tiers.tiers_for(region, year, villages=villages)
        before = {t.village.pk: t for t in tiers.tiers_for(region, year - 1, villages=villages)}
        rows = sorted(now, key=lambda t: (-t.income, t.village.code))
        table, rank, last_income = [], 0, None
        for i, t in enumerate(rows, start=1):
            if t.income != last_income:
                rank, last_income = i, t.income
            prev = before[t.village.pk]
            change = percent(t.income - prev.income, prev.income) if prev.income > 0 else None
            table.append({"rank": rank, "village": t.village, "income": yuan(t.income), "income_wan": format_wan(t.income),
                          "last": yuan(prev.income), "change": change, "tier": t.tier, "tier_label": t.tier_label,
                          "badge": TIER_BADGES[t.tier], "computed_label": TIER_LABELS[t.computed],
                          "designated": t.designated is not None, "reason": t.reason, "million": t.is_million})
        counts = Counter(t.tier for t in now)
        moves = Counter((before[t.village.pk].tier, t.tier) for t in now)
        total = sum((t.income for t in now), ledger.ZERO)
        ctx.update({
            "year": year, "years": years, "rows": table,
            "partial_through": last_month.month if last_month and last_month.month < 12 else None, "total": yuan(total), "total_wan": format_wan(total),
            "tier_counts": [(TIER_LABELS[k], counts.get(k, 0), TIER_BADGES[k]) for k in TIER_ORDER],
            "million_count": sum(1 for t in now if t.is_million),
            "has_last_year": year - 1 in years,
            "movement": [(TIER_LABELS[a], [moves.get((a, b), 0) for b in TIER_ORDER]) for a in TIER_ORDER],
            "movement_heads": [TIER_LABELS[b] for b in TIER_ORDER],
            "promoted_weak": sum(n for (a, b), n in moves.items() if a == Tier.WEAK and b != Tier.WEAK),
            "new_demonstration": sum(n for (a, b), n in moves.items()
                                     if b == Tier.DEMONSTRATION and a != Tier.DEMONSTRATION),
            "chart": {"title": f"{year} 年各村经营性收入（万元）",
                      "names": [t.village.short_name for t in rows],
                      "values": [str((t.income / 10000).quantize(Decimal("0.01"), ROUND_HALF_UP)) for t in rows]},
            "metrics_url": f"{reverse('insights:metric_list')}?period={year}",
            "can_change": bool(villages_where(self.request.user, "economy.change", region).exists()),
        })
        return ctx

    def get_breadcrumbs(self):
        return [("集体经济", None)]


# --------------------------------------------------------------------------- a village's statement


def with_display(entry):
    entry.amount_display = yuan(entry.amount)
    return entry


def tier_row(t):
    return {"year": t.year, "income": yuan(t.income), "computed": TIER_LABELS[t.computed],
            "designated": TIER_LABELS[t.designated] if t.designated else None, "reason": t.reason,
            "tier": t.tier, "tier_label": t.tier_label, "badge": TIER_BADGES[t.tier], "million": t.is_million}


class VillageStatementView(ScopedDetailView):
    """A village's income statement for a year (12 months × categories), the year's entries, its tier
    history. The village is a Region looked up by code through scope; a village the user does not see
    for the economy module answers 404 like one that does not exist."""

    model = Region
    template_name = "economy/ledger/statement.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.has_any("economy.view"):
            raise PermissionDenied("无权查看此页面")
        return super().dispatch(request, *args, **kwargs)

    def get_object(self, queryset=None):
        code = self.kwargs["code"]
        if "\x00" in code or len(code) > 16:  # not a division code (PostgreSQL refuses NUL in a literal)
            raise Http404
        village = get_scoped_or_404(Region, self.request.user, code=code)
        if village.kind != Region.Kind.VILLAGE or not allowed(self.request.user, "economy.view", village.path):
            raise Http404
        return village

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user, village = self.request.user, self.object
        entries = IncomeEntry.objects.visible_to(user).filter(village=village)
        years = ledger_years(entries)
        finished = set(ledger_years(entries.filter(month__month=12)))
        year = parse_year(self.request.GET.get("year"), None) or (years[-1] if years else datetime.date.today().year)
        st = ledger.statement(village, year)
        categories = [(c, label) for c, label in IncomeCategory.choices]
        ops = set(ledger.operating_categories())
        ctx.update({
            "title": f"{village.short_name} {year} 年收入台账",
            "village": village, "year": year, "years": years,
            "categories": [(label, c in ops) for c, label in categories],
            "operating_labels": "、".join(str(label) for c, label in categories if c in ops),
            "months": [{"label": f"{m.month} 月", "month": m, "cells": [yuan(values[c]) for c, _ in categories],
                        "operating": yuan(operating), "total": yuan(total), "empty": not any(values.values())}
                       for m, values, operating, total in st["months"]],
            "totals": [yuan(st["categories"][c]) for c, _ in categories],
            "operating": yuan(st["operating"]), "operating_wan": format_wan(st["operating"]),
            "total": yuan(st["total"]), "total_wan": format_wan(st["total"]),
            "entries": [with_display(e) for e in entries.filter(month__year=year)
                        .select_related("project", "reversal").order_by("month", "pk")],
            "tier_history": [{**tier_row(tiers.tiers_for(village, y, villages=[village])[0]), "finished": y in finished}
                             for y in reversed(years)],
            "can_change": allowed(user, "economy.change", village.path),
            "entry_create_url": f"{reverse('economy:entry_create')}?village={village.code}",
            "import_url": f"{reverse('exchange:upload')}?sheet={INCOME_SHEET}",
        })
        return ctx

    def get_breadcrumbs(self):
        return [CRUMB, ("收入台账", reverse("economy:entry_list")), (self.object.short_name, None)]


# --------------------------------------------------------------------------- the income ledger


class EntryListView(ScopedListView):
    """收入台账: the entries of the switcher's region, filtered; the filtered total above the table."""

    model = IncomeEntry
    table_class = IncomeEntryTable
    filterset_class = IncomeEntryFilterSet
    template_name = "economy/ledger/entry_list.html"
    title = "收入台账"
    create_url_name = "economy:entry_create"
    create_label = "录入收入"
    breadcrumbs = [CRUMB, ("收入台账", None)]

    def get_queryset(self):
        return (super().get_queryset().select_related("village", "project", "reversal")
                .order_by("-month", "region_path", "pk"))

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        total = ledger.total(self.object_list)
        ctx["filtered_total"], ctx["filtered_total_wan"] = yuan(total), format_wan(total)
        ctx["exchange"] = self.exchange_buttons()
        if not self.request.user.has_any("economy.change"):
            ctx["create_url_name"] = None
        return ctx

    def exchange_buttons(self):
        from yiwang.exchange.listing import exchange_buttons

        try:
            return exchange_buttons(self.request, INCOME_SHEET, offer_import=True)
        except ActionError:  # the sheet is not declared (yet): no Excel buttons rather than a broken page
            return None


class EntryCreateView(ActionFormView):
    """录入收入: one entry through ``actions.record_income``; back to the village's statement."""

    model = IncomeEntry
    form_class = EntryForm
    scope_action = "change"
    title = "录入收入"
    success_message = "已录入"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.has_any("economy.change"):
            raise PermissionDenied("无权录入收入")
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self):
        initial = {"month": datetime.date.today().strftime("%Y-%m"), "category": IncomeCategory.OPERATING}
        code = self.request.GET.get("village", "")
        if code and villages_where(self.request.user, "economy.change").filter(code=code).exists():
            initial["village"] = code
        return initial

    def get_breadcrumbs(self):
        return [CRUMB, ("收入台账", reverse("economy:entry_list")), (self.title, None)]

    def perform(self, form):
        d = form.cleaned_data
        return actions.record_income(village=d["village"], month=d["month"], category=d["category"],
                                     amount=d["amount"], project=d["project"], source_document=d["source_document"],
                                     note=d["note"], by=self.request.user)

    def get_success_url(self, result):
        return f"{reverse('economy:village_statement', args=[result.village.code])}?year={result.month.year}"


class EntryDetailView(ScopedDetailView):
    """One entry: its reversal or the entry it reverses, who entered and reviewed it, and the three
    actions as small forms posted to this page (``op`` = reverse | correct | review)."""

    model = IncomeEntry
    template_name = "economy/ledger/entry_detail.html"
    FORMS = {"reverse": ReverseForm, "correct": CorrectForm, "review": ReviewForm}

    def get_queryset(self):
        return super().get_queryset().select_related("village", "project", "entered_by", "reviewed_by")

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        op = request.POST.get("op", "")
        if op not in self.FORMS:
            ctx = self.get_context_data(object=self.object, op_error="未知的操作，请从页面上的按钮提交")
            return self.render_to_response(ctx, status=400)
        form = self.FORMS[op](request.POST, auto_id=f"{op}_%s")
        if form.is_valid():
            try:
                result = self.perform(op, form.cleaned_data)
            except ActionError as e:
                form.add_error(e.field if e.field in form.fields else None, e.text)
            except PermissionRefused as e:
                raise PermissionDenied(e.text) from None
            else:
                messages.success(request, {"reverse": "已冲销", "correct": "已更正：原分录已冲销，更正后的分录已录入",
                                           "review": "已审核"}[op])
                return redirect(result.get_absolute_url())
        return self.render_to_response(self.get_context_data(object=self.object, **{f"{op}_form": form}))

    def perform(self, op, data):
        entry, by = self.object, self.request.user
        if op == "reverse":
            actions.reverse_entry(entry, reason=data["reason"], by=by)
            return entry
        if op == "correct":
            return actions.correct_entry(entry, amount=data["amount"].strip() or None,
                                         category=data["category"] or None, reason=data["reason"], by=by)
        return actions.review_entry(entry, by=by)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user, entry = self.request.user, self.object
        visible = IncomeEntry.objects.visible_to(user).select_related("entered_by")
        reversal = visible.filter(reverses=entry).first()
        original = visible.filter(pk=entry.reverses_id).first() if entry.reverses_id else None
        allocation = DividendAllocation.objects.visible_to(user).filter(entry=entry).select_related("run").first()
        may_change = allowed(user, "economy.change", entry.region_path)
        open_entry = entry.reverses_id is None and reversal is None
        ctx.update({
            "title": f"收入分录 {entry.month:%Y-%m}",
            "entry": entry, "amount": yuan(entry.amount), "status": entry_status_of(entry, reversal),
            "reversal": reversal, "reversal_amount": yuan(reversal.amount) if reversal else "",
            "original": original, "original_amount": yuan(original.amount) if original else "",
            "allocation": allocation,
            "run_url": reverse("economy:run_detail", args=[allocation.run_id]) if allocation else "",
            "project_url": reverse("economy:project_detail", args=[entry.project_id]) if entry.project_id else "",
            "statement_url": f"{reverse('economy:village_statement', args=[entry.village.code])}?year={entry.month.year}",
            "can_reverse": may_change and open_entry and allocation is None,
            "can_review": entry.reviewed_at is None and allowed(user, "economy.approve", entry.region_path),
        })
        for op, form_class in self.FORMS.items():
            form = ctx.setdefault(f"{op}_form", form_class(auto_id=f"{op}_%s"))
            bootstrap_widgets(form, size="sm")
        return ctx

    def get_breadcrumbs(self):
        e = self.object
        return [CRUMB, ("收入台账", reverse("economy:entry_list")),
                (e.village.short_name, reverse("economy:village_statement", args=[e.village.code])),
                (f"{e.month:%Y-%m} {e.get_category_display()}", None)]


def entry_status_of(entry, reversal):
    if entry.reverses_id is not None:
        return "冲销分录"
    return "已冲销" if reversal is not None else "有效"


# --------------------------------------------------------------------------- tiers


class TierHistoryView(EconomyPageMixin, TemplateView):
    """等级: villages × years (every year with entries), computed tier and designation, and the form
    that designates or clears a tier (``actions.designate_tier``, economy.approve)."""

    template_name = "economy/ledger/tiers.html"
    title = "村级等级"

    def get_form(self, data=None):
        form = DesignateForm(data, user=self.request.user, region=self.region(),
                             initial={"year": self.request.GET.get("year") or None})
        bootstrap_widgets(form, size="sm")
        return form

    def post(self, request, *args, **kwargs):
        if not request.user.has_any("economy.approve"):
            raise PermissionDenied("无权认定等级（需要 economy.approve）")
        form = self.get_form(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                actions.designate_tier(d["village"], year=d["year"], tier=d["tier"] or None, reason=d["reason"],
                                       by=request.user)
            except ActionError as e:
                form.add_error(e.field if e.field in form.fields else None, e.text)
                bootstrap_widgets(form, size="sm")
            except PermissionRefused as e:
                raise PermissionDenied(e.text) from None
            else:
                label = TIER_LABELS[d["tier"]] if d["tier"] else "取消人工认定"
                messages.success(request, f"{d['village'].short_name} {d['year']} 年：{label}")
                return redirect(f"{reverse('economy:tiers')}?year={d['year']}")
        return self.render_to_response(self.get_context_data(form=form))

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        region = self.region()
        ctx["region"] = region
        if region is None:
            return ctx
        years = ledger_years(self.entries(region))
        villages = self.villages(region)
        by_year = {y: {t.village.pk: t for t in tiers.tiers_for(region, y, villages=villages)} for y in years}
        ctx.update({
            "years": years,
            "rows": [(v, [by_year[y][v.pk] for y in years]) for v in villages],
            "counts": [(y, Counter(t.tier for t in by_year[y].values())) for y in years],
            "tier_order": [(k, TIER_LABELS[k], TIER_BADGES[k]) for k in TIER_ORDER],
            "badges": TIER_BADGES,
            "thresholds": {k: yuan(v) for k, v in tiers.thresholds().items()},
            "can_designate": bool(villages_where(self.request.user, "economy.approve", region).exists()),
        })
        ctx.setdefault("form", self.get_form() if ctx["can_designate"] else None)
        return ctx

    def get_breadcrumbs(self):
        return [CRUMB, ("村级等级", None)]


# --------------------------------------------------------------------------- forecast


class ForecastView(EconomyPageMixin, TemplateView):
    """预测: every village's year-to-date, last year's share by that month, the forecast and its method,
    the villages expected over the 百万 line, and the method's error measured on past years."""

    template_name = "economy/ledger/forecast.html"
    title = "收入预测"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        region = self.region()
        ctx.update({"region": region, "method": FORECAST_METHOD})
        if region is None:
            return ctx
        today = datetime.date.today()
        asof = min(parse_date(self.request.GET.get("asof"), today), today)
        year = asof.year
        villages = self.villages(region)
        rows = forecast.forecast_year(region, year, asof, villages=villages)
        m = rows[0].through_month if rows else 0
        years = [y for y in ledger_years(self.entries(region)) if y < year]
        backtests = []
        for y in reversed(years):
            bt = forecast.backtest(region, y, m or asof.month)
            backtests.append({"year": y, "through_month": bt.through_month, "mape": bt.mean_abs_pct_error,
                              "predicted": bt.million_predicted, "actual": bt.million_actual, "hits": bt.million_hits,
                              "based_on_prior": y - 1 in years})
        ordered = sorted(rows, key=lambda f: (-f.forecast, f.village.code))
        total_ytd = sum((f.ytd for f in rows), ledger.ZERO)
        total_forecast = sum((f.forecast for f in rows), ledger.ZERO)
        ctx.update({
            "asof": asof, "year": year, "through_month": m,
            "rows": [{"village": f.village, "ytd": yuan(f.ytd), "share": percent(f.share, 1) if f.share is not None
                      else None, "forecast": yuan(f.forecast), "forecast_wan": format_wan(f.forecast), "method": f.method,
                      "million": f.expected_million} for f in ordered],
            "expected_million": sum(1 for f in rows if f.expected_million),
            "total_ytd": yuan(total_ytd), "total_forecast": yuan(total_forecast),
            "total_forecast_wan": format_wan(total_forecast),
            "backtests": backtests,
            "million_line": format_wan(tiers.thresholds()["million_from"]),
        })
        return ctx

    def get_breadcrumbs(self):
        return [CRUMB, ("收入预测", None)]


urlpatterns = [
    path("", OverviewView.as_view(), name="overview"),
    path("villages/<str:code>/", VillageStatementView.as_view(), name="village_statement"),
    path("income/", EntryListView.as_view(), name="entry_list"),
    path("income/new/", EntryCreateView.as_view(), name="entry_create"),
    path("income/<int:pk>/", EntryDetailView.as_view(), name="entry_detail"),
    path("tiers/", TierHistoryView.as_view(), name="tiers"),
    path("forecast/", ForecastView.as_view(), name="forecast"),
]
