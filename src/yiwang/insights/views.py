"""Home dashboard and the metric list: the figures of the current region, each linking to its records."""
import datetime

from django.shortcuts import redirect, render

from yiwang.core.errors import ActionError
from yiwang.core.regions import current_region

from . import registry
from .api import period_from


def home(request):
    user = request.user
    if not user.has_any("metrics.view"):
        # the auditor and the system/security administrators have no figures: land on their own page
        # residents (cases.report only) land on their phone page: report a problem, my cases
        for perm, url_name in (("audit.view", "accounts:audit_list"), ("accounts.view", "accounts:user_list"),
                               ("cases.report", "cases:m_home")):
            if user.has_any(perm):
                return redirect(url_name)
    region = current_region(request)
    if region is None:
        if request.user.has_any("audit.view"):
            return redirect("accounts:audit_list")
        return render(request, "insights/home.html", {"region": None, "figures": []})
    period = period_from({"asof": datetime.date.today().isoformat()})
    figures = [(m, m.display(m.value(region, period))) for m in registry.visible_metrics(request.user)]
    return render(request, "insights/home.html", {"region": region, "figures": figures, "period": period,
                                                   "title": "首页"})


def metric_list(request):
    region = current_region(request)
    error = None
    try:
        period = period_from(request.GET)
    except ActionError as e:
        error, period = e.text, period_from({})
    figures = ([(m, m.display(m.value(region, period))) for m in registry.visible_metrics(request.user)]
               if region else [])
    return render(request, "insights/metric_list.html", {
        "region": region, "figures": figures, "period": period, "error": error, "title": "指标",
        "breadcrumbs": [("指标", None)]})


home.scoped = metric_list.scoped = True  # both read through current_region (scope-limited)
