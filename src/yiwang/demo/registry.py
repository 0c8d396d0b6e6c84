"""Demo steps: each capability adds its part of "Hongqinghe 2023" with ``@demo_step(order)``.

A step is a function ``step(ctx)`` that must be idempotent (it skips what exists) and deterministic
(it draws only from ``ctx.rng(name)``, a seeded generator per step). Steps write through the apps'
actions with ``by=None`` (the system) under the "demo" audit channel.
"""
import datetime
import random
from dataclasses import dataclass, field

REFERENCE_DATE = datetime.date(2023, 6, 30)
SEED = 2023
TOWN_CODE = "150627105"
BANNER_AREA = "150627"

_steps: list[tuple[int, str, callable]] = []


def demo_step(order):
    def wrap(fn):
        if all(fn.__qualname__ != name for _, name, _ in _steps):
            _steps.append((order, f"{fn.__module__}.{fn.__qualname__}", fn))
        return fn

    return wrap


def steps():
    return [fn for _, _, fn in sorted(_steps, key=lambda s: (s[0], s[1]))]


@dataclass
class DemoContext:
    reference_date: datetime.date = REFERENCE_DATE
    log: callable = print
    cache: dict = field(default_factory=dict)

    def rng(self, name) -> random.Random:
        return random.Random(f"{SEED}:{name}")
