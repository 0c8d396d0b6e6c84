"""Exact dividend allocation for pooled projects (飞地抱团分红). Pure functions: no database.

The rule, in cents (integers), so nothing is lost to rounding:

1. ``retained`` = the distributable amount × the retained percentage, rounded *down* to the cent
   (the reinvestment share never takes a cent the participants are owed).
2. ``payout`` = distributable − retained. With a guaranteed minimum rate, each participant is owed at
   least capital × rate; when the payout is short of the sum of those guarantees (rounded *up* to the
   cent), the operator tops up the difference (``guarantee_topup``) and the payout becomes that sum.
3. The payout is split pro rata by capital with the largest-remainder (Hamilton) method: each
   participant first gets the floor of its exact share in cents; the cents left over (fewer than the
   number of participants) go one each to the largest fractional remainders, ties broken by the larger
   capital, then by the participant's key as text. So the parts sum to the payout
   exactly, and each part is within one cent of its exact share.
"""
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from fractions import Fraction

from yiwang.core.errors import ActionError

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Part:
    key: object  # who (a share id, a village code: whatever the caller passes)
    capital: Decimal
    amount: Decimal
    exact: Fraction  # the exact pro-rata share in yuan, for the record and the tests


@dataclass(frozen=True)
class Allocation:
    distributable: Decimal
    retained: Decimal
    guarantee_topup: Decimal
    payout: Decimal
    parts: tuple


def _cents(amount: Decimal) -> int:
    return int((amount / CENT).to_integral_value())


def split(total: Decimal, capitals: list[tuple[object, Decimal]]) -> list[Part]:
    """``total`` (yuan, 2 places, ≥ 0) split pro rata by capital with the largest-remainder method."""
    if not capitals:
        raise ActionError("没有参与村，无法分配", field="shares")
    if any(c <= 0 for _, c in capitals):
        raise ActionError("出资额必须大于零", field="capital")
    if total < 0:
        raise ActionError("分配总额不能为负", field="distributable")
    total_cents = _cents(total)
    weights = [_cents(c) for _, c in capitals]
    weight_sum = sum(weights)
    floors, remainders = [], []
    for i, w in enumerate(weights):
        q, r = divmod(total_cents * w, weight_sum)
        floors.append(q)
        remainders.append((r, w, i))
    left = total_cents - sum(floors)
    # order keys are compared as text so that codes, ids and names all sort
    order = sorted(range(len(capitals)), key=lambda i: (-remainders[i][0], -weights[i], str(capitals[i][0])))
    for i in order[:left]:
        floors[i] += 1
    return [Part(key, capital, Decimal(floors[i]) * CENT, Fraction(total_cents * weights[i], weight_sum) / 100)
            for i, (key, capital) in enumerate(capitals)]


def allocate(distributable: Decimal, capitals: list[tuple[object, Decimal]], *, retained_percent=Decimal(0),
             guaranteed_rate: Decimal | None = None) -> Allocation:
    """The whole run: retained share, guarantee top-up and the exact pro-rata parts (see the module)."""
    distributable = Decimal(distributable)
    if distributable != distributable.quantize(CENT):
        raise ActionError("可分配收益超过两位小数（单位：元）", field="distributable")
    if distributable < 0:
        raise ActionError("可分配收益不能为负", field="distributable")
    retained_percent = Decimal(retained_percent or 0)
    if not Decimal(0) <= retained_percent < Decimal(100):
        raise ActionError("提留比例应在 0 到 100% 之间（不含 100%）", field="retained_percent")
    retained = (distributable * retained_percent / 100).quantize(CENT, rounding=ROUND_FLOOR)
    payout = distributable - retained
    topup = Decimal("0.00")
    if guaranteed_rate:
        if guaranteed_rate < 0:
            raise ActionError("保底收益率不能为负", field="guaranteed_rate")
        owed = sum((c * Decimal(guaranteed_rate) / 100 for _, c in capitals), Decimal(0))
        owed = owed.quantize(CENT, rounding=ROUND_CEILING)
        if owed > payout:
            topup, payout = owed - payout, owed
    parts = split(payout, capitals)
    return Allocation(distributable, retained, topup, payout, tuple(parts))
