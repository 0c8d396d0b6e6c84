"""The metric registry. A module declares a metric once: key, Chinese and English label, unit,
``value(region, period)`` and ``records(region, period)`` (the queryset behind the figure).

Callers pass a region already checked against the user's scope; ``values_for`` evaluates every
metric the user may see for that region and period. Metrics must derive from records only: no
figure is typed in or hard-coded.
"""
from collections.abc import Callable
from dataclasses import dataclass

from yiwang.core.periods import Period


@dataclass(frozen=True)
class Metric:
    key: str
    label: str  # Chinese
    label_en: str
    unit: str
    value: Callable
    records: Callable | None = None
    perm: str = "metrics.view"
    order: int = 100
    parts: dict | None = None  # a metric whose value is a dict ({"weak": 4, …}) names its keys here

    def display(self, value) -> str:
        """The value as a page shows it: thousands grouped, a dict as "示范村 20 · 一般村 4 · …"."""
        from decimal import Decimal

        from yiwang.core.money import group_yuan

        if isinstance(value, dict):
            return " · ".join(f"{(self.parts or {}).get(k, k)} {self.display(v)}" for k, v in value.items())
        if isinstance(value, Decimal):
            return group_yuan(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{value:,}"
        return "—" if value is None else str(value)


_registry: dict[str, Metric] = {}


def metric(key, *, label, label_en, unit, perm="metrics.view", records=None, order=100, parts=None):
    """Decorator: ``@metric("people.households", label="户数", ...) def households(region, period): ...``"""

    def wrap(fn):
        _registry[key] = Metric(key, label, label_en, unit, fn, records, perm, order, parts)
        return fn

    return wrap


def all_metrics():
    return sorted(_registry.values(), key=lambda m: (m.key.split(".")[0], m.order, m.key))


def get(key) -> Metric:
    return _registry[key]


def visible_metrics(user=None):
    return [m for m in all_metrics() if user is None or user.is_superuser or user.has_any(m.perm)]


def values_for(region, period: Period, user=None) -> dict:
    return {m.key: m.value(region, period) for m in visible_metrics(user)}


def jsonable(value):
    from decimal import Decimal

    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value
