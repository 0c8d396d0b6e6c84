"""The three rates page (三率): response, resolution and satisfaction rates with the counts and mean times
of the current region for a period, broken down by village, grid or category. Reads only, through
``Case.objects.visible_to``; the figures are the same conditional aggregates as the metrics
(``cases.rates``), so a row here and the metric of the same region agree."""
import datetime

from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from yiwang.core.errors import ActionError
from yiwang.core.periods import Period
from yiwang.core.regions import current_region

from . import rates
from .models import Case

BREAKDOWNS = {"village": "按村", "grid": "按网格", "category": "按分类"}


def _period(params):
    if params.get("period"):
        return Period.parse(params["period"])
    if params.get("asof"):
        return Period.parse("asof:" + params["asof"], field="asof")
    return Period.year(datetime.date.today().year)


def rates_page(request):
    if not request.user.has_any("cases.view"):
        raise PermissionDenied("无权查看此页面")
    region = current_region(request)
    by = request.GET.get("by") if request.GET.get("by") in BREAKDOWNS else "village"
    error = None
    try:
        period = _period(request.GET)
    except ActionError as e:
        error, period = e.text, _period({})
    total, rows = None, []
    if region is not None:
        cases = Case.objects.visible_to(request.user).filter(region_path__startswith=region.path)
        total = rates.figures(cases, period)
        rows = rates.breakdown(cases, by=by, period=period)
    return render(request, "cases/rates.html", {
        "region": region, "period": period, "by": by, "by_label": {"village": "村", "grid": "网格", "category": "分类"}[by], "breakdowns": BREAKDOWNS, "total": total, "rows": rows,
        "error": error, "title": "三率统计", "breadcrumbs": [("诉求办理", "/cases/"), ("三率统计", None)]})


rates_page.scoped = True  # reads through current_region (scope-limited) and Case.objects.visible_to
rates_page.scope_model = Case
