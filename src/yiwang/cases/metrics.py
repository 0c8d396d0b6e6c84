"""Figures of the cases app for a region and period: received, solved and overdue counts, the three
rates (三率) and the mean hours to accept and to resolve. The formulas live in ``rates`` (configurable by
``settings.CASES_RATES``, explained in docs/cases-rates.md); this module only names them in the
registry, each with the cases behind it. A case counts under a region by the grid or village where it
happened (``region_path``)."""
from yiwang.insights.registry import metric

from . import rates
from .models import Case


def region_cases(region):
    return Case.objects.filter(region_path__startswith=region.path)


def _records(name):
    def records(region, period):
        return rates.records(region_cases(region), period, name)

    records.__name__ = f"{name}_records"
    return records


def _figure(region, period, key):
    return rates.figures(region_cases(region), period)[key]


@metric("cases.received", label="受理诉求", label_en="Cases received", unit="件", records=_records("received"),
        order=1)
def received(region, period):
    """Reported within the period; duplicates merged into another case are not counted."""
    return _records("received")(region, period).count()


@metric("cases.solved", label="解决诉求", label_en="Cases solved", unit="件", records=_records("solved"), order=2)
def solved(region, period):
    """Resolved or closed, resolved within the period (up to its end for an as-of period)."""
    return _records("solved")(region, period).count()


@metric("cases.overdue", label="超时诉求", label_en="Cases overdue", unit="件", records=_records("overdue"), order=3)
def overdue(region, period):
    """Open at the period end and past a deadline then, or resolved within the period after its deadline."""
    return _records("overdue")(region, period).count()


@metric("cases.response_rate", label="响应率", label_en="Response rate", unit="%",
        records=_records("response_base"), order=4)
def response_rate(region, period):
    return _figure(region, period, "response_rate")


@metric("cases.resolution_rate", label="办结率", label_en="Resolution rate", unit="%",
        records=_records("resolution_base"), order=5)
def resolution_rate(region, period):
    return _figure(region, period, "resolution_rate")


@metric("cases.satisfaction_rate", label="满意率", label_en="Satisfaction rate", unit="%", records=_records("rated"),
        order=6)
def satisfaction_rate(region, period):
    return _figure(region, period, "satisfaction_rate")


@metric("cases.mean_hours_to_accept", label="平均受理用时", label_en="Mean hours to accept", unit="小时",
        records=_records("accepted"), order=7)
def mean_hours_to_accept(region, period):
    return _figure(region, period, "mean_hours_to_accept")


@metric("cases.mean_hours_to_resolve", label="平均办结用时", label_en="Mean hours to resolve", unit="小时",
        records=_records("solved"), order=8)
def mean_hours_to_resolve(region, period):
    return _figure(region, period, "mean_hours_to_resolve")
