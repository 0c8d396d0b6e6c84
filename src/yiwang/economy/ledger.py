"""Reading the income ledger: totals by village, month and category, reconciled to the cent.

Every figure is a SUM over ``IncomeEntry`` rows (reversals included, so a reversed entry nets to
zero). "Operating income" (经营性收入总额) is the sum over the categories named in the setting
``ECONOMY_OPERATING_CATEGORIES`` — by default 经营性收入 + 投资收益 + 发包及上交收入, as the rural
collective-economy statistics count it; 补助收入 and 其他收入 are income but not operating income.
Nothing here writes.
"""
import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from django.conf import settings
from django.db.models import Sum

from .models import IncomeCategory, IncomeEntry

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
DEFAULT_OPERATING = ("operating", "investment", "contract")


def operating_categories() -> tuple:
    return tuple(getattr(settings, "ECONOMY_OPERATING_CATEGORIES", DEFAULT_OPERATING))


def entries_in(region, start: datetime.date | None, end: datetime.date, *, operating_only=False):
    """Entries under ``region`` whose month lies in [start, end] (start None = from the beginning)."""
    qs = IncomeEntry.objects.under(region).filter(month__lte=end)
    if start is not None:
        qs = qs.filter(month__gte=start.replace(day=1))
    if operating_only:
        qs = qs.filter(category__in=operating_categories())
    return qs


def cents(value) -> Decimal:
    """A database SUM as yuan to the cent. PostgreSQL sums NUMERIC exactly; SQLite keeps decimals as
    binary floats and sums them in floating point, whose error for ledger-sized sums (millions of yuan,
    thousands of rows) stays below 10⁻⁵ yuan — rounding to the cent gives the exact total on both."""
    return ZERO if value is None else Decimal(value).quantize(CENT, ROUND_HALF_EVEN)


def total(qs, field="amount") -> Decimal:
    return cents(qs.aggregate(s=Sum(field))["s"])


def by_village(qs) -> dict:
    """{village id: total} for a queryset of entries (one GROUP BY)."""
    return {row["village"]: cents(row["s"]) for row in qs.values("village").annotate(s=Sum("amount"))}


def year_bounds(year):
    return datetime.date(year, 1, 1), datetime.date(year, 12, 31)


def operating_by_village(region, year, through_month=12) -> dict:
    start, _ = year_bounds(year)
    end = datetime.date(year, through_month, 1)
    return by_village(entries_in(region, start, end, operating_only=True))


def statement(village, year) -> dict:
    """A village's statement for a year: a row per month with each category and the totals.

    Returns ``{"months": [(month, {category: amount}, operating, total)], "categories": {…},
    "operating": …, "total": …}``; the parts add up to the totals exactly (one GROUP BY)."""
    start, end = year_bounds(year)
    rows = (IncomeEntry.objects.filter(village=village, month__gte=start, month__lte=end)
            .values("month", "category").annotate(s=Sum("amount")))
    cells = {(r["month"], r["category"]): cents(r["s"]) for r in rows}
    ops = set(operating_categories())
    months, cat_totals = [], {c: ZERO for c, _ in IncomeCategory.choices}
    for m in range(1, 13):
        month = datetime.date(year, m, 1)
        values = {c: cells.get((month, c), ZERO) for c, _ in IncomeCategory.choices}
        for c, v in values.items():
            cat_totals[c] += v
        months.append((month, values, sum((v for c, v in values.items() if c in ops), ZERO),
                       sum(values.values(), ZERO)))
    return {"months": months, "categories": cat_totals,
            "operating": sum((v for c, v in cat_totals.items() if c in ops), ZERO),
            "total": sum(cat_totals.values(), ZERO)}
