"""The three rates (三率: 响应率, 办结率, 满意率) and the counts and mean times beside them, as SQL conditions
over the case timestamps, evaluated for a period and configurable through ``settings.CASES_RATES``.

Everything is derived from the records as they are: a case's history is read from its timestamps
(``reported_at``, ``accepted_at``, ``resolved_at``, ``closed_at``, ``rated_at``) and its current
deadlines, never from a stored flag, so a figure does not depend on a sweep having run. The formulas are
written down with examples in docs/cases-rates.md; ``figures`` (one region or queryset) and
``breakdown`` (by grid, village or category) build the same conditional aggregates, so a dashboard row
and the metric of the same region agree. Reads only: the caller passes a queryset already limited to
what the user may see (``Case.objects.visible_to`` or a region's subtree).
"""
import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, When
from django.db.models import Case as SqlCase  # ``Case`` is our model's name
from django.db.models.functions import Coalesce

from yiwang.areas.models import Region
from yiwang.core.periods import Period

from .models import Case, Category

TZ = ZoneInfo("Asia/Shanghai")

DEFAULTS = {
    # 响应: "on_time" = accepted (or rejected) by the accept deadline; "any" = accepted or rejected at all
    "response": "on_time",
    # 办结: "any" = resolved by the period end; "on_time" = resolved by the resolve deadline as well
    "resolution": "any",
    # 满意: the ratings that count as satisfied (基本满意 = "basic")
    "satisfied_ratings": ["satisfied", "basic"],
    # which rating of a case counts: "final" = the latest one, "first" = the first one (before any reopening)
    "rating": "final",
    # decimal places of the percentages (1 or 2)
    "places": 1,
}


def config() -> dict:
    """``DEFAULTS`` overlaid with ``settings.CASES_RATES`` (a partial dict overrides only what it names)."""
    merged = {**DEFAULTS, **getattr(settings, "CASES_RATES", {})}
    if merged["response"] not in ("on_time", "any") or merged["resolution"] not in ("on_time", "any"):
        raise ValueError("CASES_RATES: response / resolution must be 'on_time' or 'any'")
    if merged["rating"] not in ("final", "first") or merged["places"] not in (1, 2):
        raise ValueError("CASES_RATES: rating must be 'final' or 'first', places 1 or 2")
    return merged


def bounds(period: Period) -> tuple[datetime.datetime | None, datetime.datetime]:
    """The period as aware datetimes in Asia/Shanghai: [start 00:00, the day after the end 00:00);
    no start for an as-of period."""
    start = datetime.datetime.combine(period.start, datetime.time(), tzinfo=TZ) if period.start else None
    end = datetime.datetime.combine(period.end + datetime.timedelta(days=1), datetime.time(), tzinfo=TZ)
    return start, end


def _within(field, start, end) -> Q:
    q = Q(**{f"{field}__lt": end})
    return q & Q(**{f"{field}__gte": start}) if start is not None else q


def conditions(period: Period, cfg: dict | None = None) -> dict[str, Q]:
    """Named conditions on a case for ``period`` (see docs/cases-rates.md for each in words)."""
    cfg = cfg or config()
    start, end = bounds(period)
    refused = (Case.State.REJECTED, Case.State.MERGED)
    received = _within("reported_at", start, end) & ~Q(state=Case.State.MERGED)
    resolved_by_end = Q(resolved_at__lt=end)
    rejected_by_end = Q(state=Case.State.REJECTED, closed_at__lt=end)
    # open at the period end: reported before it, not resolved by then, not rejected/merged by then
    open_at_end = (Q(reported_at__lt=end) & (Q(resolved_at__isnull=True) | Q(resolved_at__gte=end))
                   & (~Q(state__in=refused) | Q(closed_at__gte=end)))
    past_deadline = Q(resolve_due__lt=end) | (Q(accept_due__lt=end)
                                              & (Q(accepted_at__isnull=True) | Q(accepted_at__gte=end)))
    solved = Q(state__in=Case.DONE_STATES) & _within("resolved_at", start, end)
    late_resolved = solved & Q(resolved_at__gt=F("resolve_due"))

    responded = Q(accepted_at__lt=end) | rejected_by_end
    if cfg["response"] == "on_time":
        responded &= Q(accepted_at__lte=F("accept_due")) | Q(accepted_at__isnull=True, closed_at__lte=F("accept_due"))
    response_base = received & (Q(accepted_at__lt=end) | rejected_by_end | Q(accept_due__lt=end))

    resolution_base = received & ~rejected_by_end & (resolved_by_end | Q(resolve_due__lt=end))
    resolved = resolved_by_end
    if cfg["resolution"] == "on_time":
        resolved &= Q(resolved_at__lte=F("resolve_due"))

    rating_field = "rating" if cfg["rating"] == "final" else "first_rating"
    rated = received & Q(rated_at__lt=end) & ~Q(**{rating_field: ""})
    satisfied = Q(**{f"{rating_field}__in": list(cfg["satisfied_ratings"])})

    return {
        "received": received,
        "solved": solved,
        "overdue": ~Q(state=Case.State.MERGED) & ((open_at_end & past_deadline) | late_resolved),
        "response_base": response_base,
        "responded": response_base & responded,
        "resolution_base": resolution_base,
        "resolved": resolution_base & resolved,
        "rated": rated,
        "satisfied": rated & satisfied,
        "accepted": _within("accepted_at", start, end) & ~Q(state=Case.State.MERGED),
    }


def _hours(field):
    return ExpressionWrapper(F(field) - F("reported_at"), output_field=DurationField())


def _aggregates(period, cfg):
    q = conditions(period, cfg)
    counts = {name: Count("id", filter=cond) for name, cond in q.items() if name != "accepted"}
    counts["mean_to_accept"] = Avg(_hours("accepted_at"), filter=q["accepted"])
    counts["mean_to_resolve"] = Avg(_hours("resolved_at"), filter=q["solved"])
    return counts


def percent(numerator, denominator, places=1):
    """``numerator / denominator`` as a Decimal percentage with ``places`` decimals; None when nothing counts."""
    if not denominator:
        return None
    quantum = Decimal(1).scaleb(-places)
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(quantum, rounding=ROUND_HALF_UP)


def mean_hours(duration):
    if duration is None:
        return None
    if not isinstance(duration, datetime.timedelta):  # some backends answer microseconds
        duration = datetime.timedelta(microseconds=float(duration))
    return (Decimal(duration.total_seconds()) / 3600).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _finish(raw, cfg):
    places = cfg["places"]
    return {
        "received": raw["received"], "solved": raw["solved"], "overdue": raw["overdue"],
        "responded": raw["responded"], "response_base": raw["response_base"],
        "response_rate": percent(raw["responded"], raw["response_base"], places),
        "resolved": raw["resolved"], "resolution_base": raw["resolution_base"],
        "resolution_rate": percent(raw["resolved"], raw["resolution_base"], places),
        "satisfied": raw["satisfied"], "rated": raw["rated"],
        "satisfaction_rate": percent(raw["satisfied"], raw["rated"], places),
        "mean_hours_to_accept": mean_hours(raw["mean_to_accept"]),
        "mean_hours_to_resolve": mean_hours(raw["mean_to_resolve"]),
    }


def figures(cases, period: Period) -> dict:
    """Counts, the three rates and the mean times of ``cases`` for ``period``, in one query."""
    cfg = config()
    return _finish(cases.order_by().aggregate(**_aggregates(period, cfg)), cfg)


def records(cases, period: Period, name: str):
    """The cases behind one figure: ``name`` is a key of ``conditions`` (e.g. "solved", "response_base")."""
    return cases.filter(conditions(period)[name])


GROUPS = {
    "grid": F("region_id"),  # a case reported at village level has the village as its region (its own row)
    "village": SqlCase(When(region__kind=Region.Kind.GRID, then=F("region__parent_id")), default=F("region_id")),
    "category": Coalesce(F("category__parent_id"), F("category_id")),  # the top category
}


def breakdown(cases, *, by: str, period: Period) -> list[dict]:
    """The figures of ``cases`` per grid, village or top category: one aggregate query for all rows
    (plus one to name them), ordered by code. Each row: ``key`` (the region or category id), ``code``,
    ``name`` and the keys of ``figures``."""
    if by not in GROUPS:
        raise ValueError(f"breakdown by {by!r}: expected one of {', '.join(GROUPS)}")
    cfg = config()
    raw_rows = (cases.order_by().annotate(group_key=GROUPS[by]).values("group_key")
                .annotate(**_aggregates(period, cfg)))
    raw_rows = [r for r in raw_rows if r["group_key"] is not None]
    keys = [r["group_key"] for r in raw_rows]
    if by == "category":
        names = {c.pk: (c.code, c.name) for c in Category.objects.filter(pk__in=keys).only("code", "name")}
    else:
        names = {r.pk: (r.code, r.name) for r in Region.objects.filter(pk__in=keys).only("code", "name")}
    rows = []
    for raw in raw_rows:
        code, name = names.get(raw["group_key"], ("", ""))
        rows.append({"key": raw["group_key"], "code": code, "name": name, **_finish(raw, cfg)})
    return sorted(rows, key=lambda r: r["code"])

