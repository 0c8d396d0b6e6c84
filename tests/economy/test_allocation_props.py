"""Properties of the dividend allocation (economy/allocation.py), checked with hypothesis over up to 60
participants, capitals up to 10^10 元 and amounts up to 10^11 元, plus the worked examples of
docs/economy.md checked by hand. Pure functions: no database."""
import math
import random
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from yiwang.core.errors import ActionError
from yiwang.economy.allocation import CENT, allocate, split

ONE_CENT = Fraction(1, 100)


def yuan(cents: int) -> Decimal:
    return Decimal(cents) * CENT


capital_cents = st.integers(min_value=1, max_value=10**12)
capitals = st.lists(capital_cents, min_size=1, max_size=60).map(
    lambda cs: [(f"v{i:02d}", yuan(c)) for i, c in enumerate(cs)])
# a few distinct values drawn again and again, so equal capitals really occur
repeated = st.lists(capital_cents, min_size=1, max_size=4).flatmap(
    lambda pool: st.lists(st.sampled_from(pool), min_size=2, max_size=60)).map(
    lambda cs: [(f"v{i:02d}", yuan(c)) for i, c in enumerate(cs)])
distributable = st.integers(min_value=0, max_value=10**13).map(yuan)
percent = st.integers(min_value=0, max_value=9999).map(lambda n: Decimal(n) * CENT)  # 0.00 … 99.99
retained_pct = st.one_of(st.just(Decimal(0)), percent)
rate = st.one_of(st.none(), st.integers(min_value=1, max_value=3000).map(lambda n: Decimal(n) * CENT))


def check_invariants(result, caps):
    amounts = [p.amount for p in result.parts]
    assert sum(amounts, Decimal(0)) == result.payout
    assert result.payout + result.retained == result.distributable + result.guarantee_topup
    assert [p.key for p in result.parts] == [k for k, _ in caps]  # one part per participant, in order
    for p in result.parts:
        assert p.amount >= 0
        assert p.amount == p.amount.quantize(CENT)
        assert abs(Fraction(p.amount) - p.exact) < ONE_CENT, (p, p.exact)
    total = sum(Fraction(c) for _, c in caps)
    for p in result.parts:  # the exact share really is capital / total × payout
        assert p.exact == Fraction(result.payout) * Fraction(p.capital) / total


@settings(max_examples=300, deadline=None)
@given(caps=capitals, amount=distributable, retained_percent=retained_pct, guaranteed_rate=rate)
def test_parts_add_up_and_each_is_within_a_cent(caps, amount, retained_percent, guaranteed_rate):
    result = allocate(amount, caps, retained_percent=retained_percent, guaranteed_rate=guaranteed_rate)
    check_invariants(result, caps)
    # the retained share is rounded down, the guarantee up, and the top-up only fills the gap
    assert result.retained == (amount * retained_percent / 100).quantize(CENT, rounding=ROUND_FLOOR)
    assert result.retained <= amount * retained_percent / 100
    owed = (sum((c * guaranteed_rate / 100 for _, c in caps), Decimal(0)).quantize(CENT, rounding=ROUND_CEILING)
            if guaranteed_rate else Decimal(0))
    assert result.guarantee_topup == max(Decimal(0), owed - (amount - result.retained))
    assert result.payout == max(amount - result.retained, owed)


@settings(max_examples=200, deadline=None)
@given(caps=repeated, amount=distributable, retained_percent=retained_pct, guaranteed_rate=rate)
def test_equal_capitals_get_parts_at_most_a_cent_apart(caps, amount, retained_percent, guaranteed_rate):
    result = allocate(amount, caps, retained_percent=retained_percent, guaranteed_rate=guaranteed_rate)
    check_invariants(result, caps)
    by_capital = {}
    for p in result.parts:
        by_capital.setdefault(p.capital, []).append(p.amount)
    for amounts in by_capital.values():
        assert max(amounts) - min(amounts) <= CENT
    # and a larger capital never gets less than a smaller one
    low = {c: min(a) for c, a in by_capital.items()}
    high = {c: max(a) for c, a in by_capital.items()}
    caps_sorted = sorted(by_capital)
    assert all(high[a] <= low[b] for a, b in zip(caps_sorted, caps_sorted[1:]))


@settings(max_examples=200, deadline=None)
@given(caps=st.one_of(capitals, repeated), amount=distributable, retained_percent=retained_pct, guaranteed_rate=rate,
       seed=st.integers(min_value=0, max_value=2**32))
def test_the_order_of_participants_does_not_matter(caps, amount, retained_percent, guaranteed_rate, seed):
    """Keys are unique, so the documented tie-break (remainder, then capital, then key as text) decides
    every leftover cent: shuffling the participants changes no one's part."""
    shuffled = list(caps)
    random.Random(seed).shuffle(shuffled)
    a = allocate(amount, caps, retained_percent=retained_percent, guaranteed_rate=guaranteed_rate)
    b = allocate(amount, shuffled, retained_percent=retained_percent, guaranteed_rate=guaranteed_rate)
    assert {p.key: p.amount for p in a.parts} == {p.key: p.amount for p in b.parts}
    assert (a.retained, a.guarantee_topup, a.payout) == (b.retained, b.guarantee_topup, b.payout)


@settings(max_examples=200, deadline=None)
@given(caps=st.one_of(capitals, repeated), amount=distributable)
def test_leftover_cents_go_to_the_largest_remainders(caps, amount):
    """Hamilton: a participant given the extra cent never has a smaller remainder than one left without it
    (ties broken by capital, then key)."""
    parts = split(amount, caps)

    def order(p):  # the documented order of who gets a leftover cent first
        return (-(p.exact * 100 - math.floor(p.exact * 100)), -p.capital, str(p.key))

    got = [p for p in parts if Fraction(p.amount) > p.exact]
    missed = [p for p in parts if Fraction(p.amount) < p.exact]
    assume(got and missed)
    assert max(order(p) for p in got) < min(order(p) for p in missed)


@settings(max_examples=100, deadline=None)
@given(caps=capitals, retained_percent=retained_pct)
def test_nothing_to_distribute_gives_zeros(caps, retained_percent):
    result = allocate(Decimal("0.00"), caps, retained_percent=retained_percent)
    assert (result.retained, result.guarantee_topup, result.payout) == (0, 0, 0)
    assert all(p.amount == 0 and p.exact == 0 for p in result.parts)


@settings(max_examples=100, deadline=None)
@given(caps=capitals, guaranteed_rate=rate.filter(bool))
def test_nothing_to_distribute_with_a_guarantee_pays_the_guarantee(caps, guaranteed_rate):
    result = allocate(Decimal("0.00"), caps, guaranteed_rate=guaranteed_rate)
    owed = sum((c * guaranteed_rate / 100 for _, c in caps), Decimal(0))
    assert result.guarantee_topup == result.payout == owed.quantize(CENT, rounding=ROUND_CEILING)
    check_invariants(result, caps)


# --------------------------------------------------------------------------- worked examples (docs/economy.md)


def parts_of(result):
    return {p.key: p.amount for p in result.parts}


def test_worked_example_retained_share_and_largest_remainder():
    caps = [("乌兰淖尔", Decimal("500000.00")), ("纳林希里", Decimal("300000.00")), ("昌车渠", Decimal("200000.00"))]
    result = allocate(Decimal("123456.79"), caps, retained_percent=Decimal("10"))
    # 10% of 123,456.79 = 12,345.679 → rounded down to 12,345.67; payout 111,111.12
    assert result.retained == Decimal("12345.67") and result.payout == Decimal("111111.12")
    assert result.guarantee_topup == 0
    # exact shares 55,555.56 / 33,333.336 / 22,222.224: floors add up to 111,111.11, the one cent left goes to
    # the largest remainder (纳林希里, 0.6 of a cent)
    assert parts_of(result) == {"乌兰淖尔": Decimal("55555.56"), "纳林希里": Decimal("33333.34"),
                                "昌车渠": Decimal("22222.22")}


def test_worked_example_guarantee_top_up():
    caps = [("乌兰淖尔", Decimal("500000.00")), ("纳林希里", Decimal("300000.00")), ("昌车渠", Decimal("200000.00"))]
    result = allocate(Decimal("60000.00"), caps, retained_percent=Decimal("10"), guaranteed_rate=Decimal("8"))
    # retained 6,000.00; 54,000.00 is short of the 8% guarantee (80,000.00): the operator tops up 26,000.00
    assert (result.retained, result.guarantee_topup, result.payout) == (
        Decimal("6000.00"), Decimal("26000.00"), Decimal("80000.00"))
    assert parts_of(result) == {"乌兰淖尔": Decimal("40000.00"), "纳林希里": Decimal("24000.00"),
                                "昌车渠": Decimal("16000.00")}


def test_worked_example_guarantee_is_rounded_up():
    # 100,000.01 × 3.33% = 3,330.000333 元 → owed 3,330.01 (never a fraction of a cent short)
    result = allocate(Decimal("0.00"), [("a", Decimal("100000.01"))], guaranteed_rate=Decimal("3.33"))
    assert result.payout == result.guarantee_topup == Decimal("3330.01")


def test_worked_example_ties_go_to_the_key_as_text():
    caps = [("150627105220", Decimal("100")), ("150627105215", Decimal("100")), ("150627105214", Decimal("100"))]
    result = allocate(Decimal("100.00"), caps)
    assert parts_of(result) == {"150627105214": Decimal("33.34"), "150627105215": Decimal("33.33"),
                                "150627105220": Decimal("33.33")}
    two_left = split(Decimal("200.00"), caps)  # 66.666… each: floors 66.66, two cents left
    assert parts_of_list(two_left) == {"150627105214": Decimal("66.67"), "150627105215": Decimal("66.67"),
                                       "150627105220": Decimal("66.66")}


def parts_of_list(parts):
    return {p.key: p.amount for p in parts}


def test_worked_example_equal_remainders_go_to_the_larger_capital_first():
    # 0.02 元 over capitals 1 and 3: exact 0.005 and 0.015, both half a cent over their floor (0 and 0.01);
    # the one cent left goes to the larger capital even though its key sorts later
    assert parts_of_list(split(Decimal("0.02"), [("a", Decimal("1")), ("b", Decimal("3"))])) == {
        "a": Decimal("0.00"), "b": Decimal("0.02")}


@pytest.mark.parametrize("call, field", [
    (lambda: split(Decimal("10"), []), "shares"),
    (lambda: split(Decimal("10"), [("a", Decimal("0"))]), "capital"),
    (lambda: split(Decimal("10"), [("a", Decimal("-5"))]), "capital"),
    (lambda: split(Decimal("-1"), [("a", Decimal("5"))]), "distributable"),
    (lambda: allocate(Decimal("1.001"), [("a", Decimal("5"))]), "distributable"),
    (lambda: allocate(Decimal("-1"), [("a", Decimal("5"))]), "distributable"),
    (lambda: allocate(Decimal("1"), [("a", Decimal("5"))], retained_percent=Decimal("100")), "retained_percent"),
    (lambda: allocate(Decimal("1"), [("a", Decimal("5"))], retained_percent=Decimal("-1")), "retained_percent"),
    (lambda: allocate(Decimal("1"), [("a", Decimal("5"))], guaranteed_rate=Decimal("-1")), "guaranteed_rate"),
])
def test_bad_input_names_the_field(call, field):
    with pytest.raises(ActionError) as e:
        call()
    assert e.value.field == field and e.value.text
