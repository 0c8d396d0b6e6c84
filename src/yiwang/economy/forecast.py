"""Forecast of a village's operating income for the whole year, and of the villages expected to pass
the 百万村 line, from the year-to-date ledger and the previous year's monthly profile.

Method (shown beside the figure on the forecast page):

    forecast = YTD(year, through month m) ÷ share(year − 1, m)
    share(y, m) = operating income of y in months 1..m ÷ operating income of the whole of y

i.e. the village earns the rest of the year in the same proportion as it did last year. When the
previous year has no income (or none by month m) the forecast falls back to a straight-line
YTD × 12 ÷ m. ``m`` is the month of the as-of date, capped at the last month with any entry in the
region that year (a ledger entered through May forecasts from May). The error of the method is
measured on past years of the same records by ``backtest``: forecast each past year from its own
first m months and the year before it, and compare with what that year actually came to.
"""
import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Max

from . import ledger, tiers

CENT = Decimal("0.01")


@dataclass
class VillageForecast:
    village: object
    year: int
    through_month: int
    ytd: Decimal
    share: Decimal | None  # last year's share of the year earned by month m (None: straight line)
    forecast: Decimal
    actual: Decimal | None = None  # filled by the backtest

    @property
    def method(self) -> str:
        return "上年月度结构" if self.share is not None else "直线外推"

    @property
    def expected_million(self) -> bool:
        return self.forecast >= tiers.thresholds()["million_from"]


def data_through(region, year, asof: datetime.date) -> int:
    """The month to forecast from: the as-of month, capped at the last month with entries that year."""
    if asof.year > year:
        return 12
    last = (ledger.entries_in(region, datetime.date(year, 1, 1), asof).aggregate(m=Max("month"))["m"])
    return min(asof.month, last.month) if last else 0


def forecast_year(region, year, asof: datetime.date, *, villages=None) -> list[VillageForecast]:
    villages = list(villages if villages is not None else tiers.villages_under(region))
    m = data_through(region, year, asof)
    if m == 0:
        return [VillageForecast(v, year, 0, ledger.ZERO, None, ledger.ZERO) for v in villages]
    ytd = ledger.operating_by_village(region, year, m)
    prev_part = ledger.operating_by_village(region, year - 1, m)
    prev_full = ledger.operating_by_village(region, year - 1, 12)
    out = []
    for v in villages:
        have = ytd.get(v.pk, ledger.ZERO)
        part, full = prev_part.get(v.pk, ledger.ZERO), prev_full.get(v.pk, ledger.ZERO)
        if full > 0 and part > 0:
            share = part / full
            value = have * full / part
        else:
            share, value = None, have * 12 / m
        out.append(VillageForecast(v, year, m, have, share, value.quantize(CENT, ROUND_HALF_UP)))
    return out


def expected_million(region, year, asof) -> list[VillageForecast]:
    return [f for f in forecast_year(region, year, asof) if f.expected_million]


@dataclass
class Backtest:
    year: int
    through_month: int
    rows: list
    mean_abs_pct_error: Decimal | None
    million_predicted: int
    million_actual: int
    million_hits: int  # villages predicted and actually over the line


def backtest(region, year, through_month) -> Backtest:
    """The method applied to a finished ``year`` from its first ``through_month`` months."""
    rows = forecast_year(region, year, datetime.date(year, through_month, 1))
    actual = ledger.operating_by_village(region, year)
    errors = []
    line = tiers.thresholds()["million_from"]
    for r in rows:
        r.actual = actual.get(r.village.pk, ledger.ZERO)
        if r.actual > 0:
            errors.append(abs(r.forecast - r.actual) / r.actual)
    mape = (sum(errors) / len(errors) * 100).quantize(Decimal("0.1")) if errors else None
    predicted = {r.village.pk for r in rows if r.forecast >= line}
    real = {r.village.pk for r in rows if r.actual >= line}
    return Backtest(year, through_month, rows, mape, len(predicted), len(real), len(predicted & real))
