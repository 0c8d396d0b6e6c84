"""Tiers and the forecast, derived from the ledger each time: the thresholds at their boundaries and from
settings, designations that win and can be removed, tier history that moves with a late entry or a
reversal, the movement counts, and the forecast's month profile, straight-line fallback, data cap and
backtest on hand-computed examples.

Everything happens in a town of our own (经济测试镇 150627198, made inside each test's transaction), so
region-wide counts are exact whatever the demo town holds."""
import datetime
from decimal import Decimal

import pytest

from yiwang.areas import actions as area_actions
from yiwang.areas.models import Region
from yiwang.core.errors import ActionError, PermissionRefused
from yiwang.core.periods import Period
from yiwang.economy import actions, forecast, metrics, tiers
from yiwang.economy.models import Tier, TierDesignation

TOWN = "150627198"
V1, V2, V3 = "150627198201", "150627198202", "150627198203"
WEAK, ORDINARY, DEMO = Tier.WEAK, Tier.ORDINARY, Tier.DEMONSTRATION


@pytest.fixture
def town(db):
    area_actions.load_divisions(
        [{"code": TOWN, "name": "经济测试镇", "level": "town", "parent_code": "150627"}]
        + [{"code": code, "name": name, "level": "village", "parent_code": TOWN}
           for code, name in ((V1, "测试一村"), (V2, "测试二村"), (V3, "测试三村"))], under=TOWN, by=None)
    return Region.objects.get(code=TOWN)


@pytest.fixture
def v(town):
    return [Region.objects.get(code=code) for code in (V1, V2, V3)]


def put(village, year, month, amount, category="operating"):
    return actions.record_income(village=village, month=datetime.date(year, month, 1), category=category,
                                 amount=Decimal(amount), by=None)


def tier_of(town, village, year):
    return next(t for t in tiers.tiers_for(town, year) if t.village.pk == village.pk)


# --------------------------------------------------------------------------- tiers


@pytest.mark.parametrize("amount, tier, million", [
    ("0", WEAK, False),
    ("99999.99", WEAK, False),
    ("100000.00", ORDINARY, False),
    ("499999.99", ORDINARY, False),
    ("500000.00", DEMO, False),
    ("999999.99", DEMO, False),
    ("1000000.00", DEMO, True),
])
def test_computed_tier_at_the_boundaries(town, v, amount, tier, million):
    assert tiers.computed_tier(Decimal(amount)) == tier
    if Decimal(amount) > 0:  # the same through the ledger, in two entries of one year
        half = (Decimal(amount) / 2).quantize(Decimal("0.01"))
        put(v[0], 2020, 3, half)
        put(v[0], 2020, 9, Decimal(amount) - half, category="contract")
    put(v[0], 2020, 5, "5000000.00", category="subsidy")  # 补助收入 is not operating income: no tier from it
    t = tier_of(town, v[0], 2020)
    assert (t.income, t.computed, t.tier, t.designated, t.is_million) == (Decimal(amount), tier, tier, None, million)
    assert t.tier_label == {WEAK: "薄弱村", ORDINARY: "一般村", DEMO: "示范村"}[tier]


def test_thresholds_come_from_settings(town, v, settings):
    put(v[0], 2020, 6, "60000.00")
    put(v[1], 2020, 6, "400000.00")
    assert (tier_of(town, v[0], 2020).computed, tier_of(town, v[1], 2020).computed) == (WEAK, ORDINARY)
    settings.ECONOMY_TIERS = {"weak_below": "50000", "demonstration_from": "400000", "million_from": "400000"}
    assert tiers.thresholds() == {"weak_below": Decimal(50000), "demonstration_from": Decimal(400000),
                                  "million_from": Decimal(400000)}
    assert (tier_of(town, v[0], 2020).computed, tier_of(town, v[1], 2020).computed) == (ORDINARY, DEMO)
    assert tier_of(town, v[1], 2020).is_million
    settings.ECONOMY_TIERS = {"weak_below": "70000"}  # a partial setting keeps the other defaults
    assert tiers.thresholds()["demonstration_from"] == Decimal(500000)
    assert (tier_of(town, v[0], 2020).computed, tier_of(town, v[1], 2020).computed) == (WEAK, ORDINARY)


def test_a_designation_wins_and_removing_it_restores_the_computed_tier(town, v):
    put(v[0], 2020, 6, "80000.00")
    actions.designate_tier(v[0], year=2020, tier="示范村", reason="旗级示范点政策认定", by=None)
    t = tier_of(town, v[0], 2020)
    assert (t.computed, t.designated, t.tier, t.reason) == (WEAK, DEMO, DEMO, "旗级示范点政策认定")
    assert tiers.counts(town, 2020) == {DEMO: 1, ORDINARY: 0, WEAK: 2}
    assert tier_of(town, v[0], 2019).tier == WEAK  # for that year only

    actions.designate_tier(v[0], year=2020, tier=ORDINARY, reason="改认定", by=None)  # designating again replaces
    assert TierDesignation.objects.filter(village=v[0]).count() == 1 and tier_of(town, v[0], 2020).tier == ORDINARY

    assert actions.designate_tier(v[0], year=2020, tier=None, by=None) is None
    t = tier_of(town, v[0], 2020)
    assert (t.designated, t.tier) == (None, WEAK)
    with pytest.raises(ActionError) as e:
        actions.designate_tier(v[0], year=2020, tier=None, by=None)
    assert e.value.field == "tier"
    with pytest.raises(ActionError) as e:
        actions.designate_tier(v[0], year=2020, tier="强村", reason="x", by=None)
    assert e.value.field == "tier"
    with pytest.raises(ActionError) as e:
        actions.designate_tier(v[0], year=2020, tier=DEMO, reason="", by=None)
    assert e.value.field == "reason"


def test_designating_needs_the_approve_permission(db, demo_user):
    wlne = Region.objects.get(code="150627105215")
    with pytest.raises(PermissionRefused):
        actions.designate_tier(wlne, year=2020, tier=DEMO, reason="自评", by=demo_user("wlne_secretary"))
    assert not TierDesignation.objects.filter(village=wlne, year=2020).exists()
    actions.designate_tier(wlne, year=2020, tier=DEMO, reason="镇认定", by=demo_user("town_admin"))
    assert TierDesignation.objects.get(village=wlne, year=2020).designated_by == demo_user("town_admin")


def test_tier_history_moves_with_a_late_entry_and_its_reversal(town, v):
    put(v[0], 2019, 4, "90000.00")
    put(v[0], 2020, 4, "150000.00")
    history = lambda: [tier_of(town, v[0], y).tier for y in (2019, 2020)]  # noqa: E731
    assert history() == [WEAK, ORDINARY]
    late = put(v[0], 2019, 12, "20000.00")  # a December voucher entered late
    assert history() == [ORDINARY, ORDINARY] and tier_of(town, v[0], 2019).income == Decimal("110000.00")
    put(v[0], 2019, 11, "500000.00", category="subsidy")  # not operating income: nothing moves
    assert history() == [ORDINARY, ORDINARY]
    actions.reverse_entry(late, reason="凭证属于2020年", by=None)
    assert history() == [WEAK, ORDINARY]
    put(v[0], 2020, 12, "350000.00")
    assert history() == [WEAK, DEMO]


def test_movement_counts_villages_by_last_years_and_this_years_tier(town, v):
    put(v[0], 2019, 6, "50000.00"), put(v[0], 2020, 6, "120000.00")  # 薄弱 → 一般
    put(v[1], 2019, 6, "200000.00"), put(v[1], 2020, 6, "650000.00")  # 一般 → 示范
    put(v[2], 2019, 6, "10000.00"), put(v[2], 2020, 6, "20000.00")  # 薄弱 → 薄弱
    assert tiers.movement(town, 2020) == {(WEAK, ORDINARY): 1, (ORDINARY, DEMO): 1, (WEAK, WEAK): 1}
    assert tiers.counts(town, 2020) == {DEMO: 1, ORDINARY: 1, WEAK: 1}
    assert tiers.counts(town, 2019) == {DEMO: 0, ORDINARY: 1, WEAK: 2}
    actions.designate_tier(v[2], year=2020, tier=ORDINARY, reason="帮扶认定", by=None)
    assert tiers.movement(town, 2020) == {(WEAK, ORDINARY): 2, (ORDINARY, DEMO): 1}
    # the metric reads the finished year: as of mid-2020 it is 2019's tiers, at the end of 2020 that year's
    assert metrics.villages_by_tier(town, Period.asof(datetime.date(2020, 6, 30))) == tiers.counts(town, 2019)
    assert metrics.villages_by_tier(town, Period.year(2020)) == {DEMO: 1, ORDINARY: 2, WEAK: 0}


def test_a_community_is_not_a_village_for_tiers(db):
    honqinghe = Region.objects.get(code="150627105")
    codes = {t.village.code for t in tiers.tiers_for(honqinghe, 2019)}
    assert "150627105003" not in codes and "150627105215" in codes and len(codes) == 28


# --------------------------------------------------------------------------- forecast


def profile(village):
    """2019: 10,000 a month January–June and 20,000 July–December (180,000; 50,000 by the end of May)."""
    for m in range(1, 13):
        put(village, 2019, m, "10000.00" if m <= 6 else "20000.00")


def test_forecast_from_last_years_monthly_profile(town, v):
    profile(v[0])
    for m, amount in ((1, "12000.00"), (2, "12000.00"), (3, "12000.00"), (4, "12000.00"), (5, "13234.57")):
        put(v[0], 2020, m, amount)
    rows = {f.village.pk: f for f in forecast.forecast_year(town, 2020, datetime.date(2020, 8, 15))}
    f = rows[v[0].pk]
    # YTD 61,234.57 ÷ (50,000 ÷ 180,000) = 61,234.57 × 3.6 = 220,444.452 → 220,444.45
    assert (f.through_month, f.ytd, f.share, f.forecast, f.method) == (
        5, Decimal("61234.57"), Decimal(50000) / Decimal(180000), Decimal("220444.45"), "上年月度结构")
    assert not f.expected_million
    assert rows[v[1].pk].forecast == 0 and rows[v[1].pk].ytd == 0


def test_forecast_falls_back_to_a_straight_line_when_last_year_is_empty(town, v):
    for m in range(1, 6):
        put(v[1], 2020, m, "10000.01")
    put(v[1], 2019, 11, "900.00", category="subsidy")  # last year had no operating income: still a straight line
    f = next(f for f in forecast.forecast_year(town, 2020, datetime.date(2020, 5, 31)) if f.village.pk == v[1].pk)
    # 50,000.05 × 12 ÷ 5 = 120,000.12
    assert (f.through_month, f.ytd, f.share, f.forecast, f.method) == (
        5, Decimal("50000.05"), None, Decimal("120000.12"), "直线外推")


def test_data_through_caps_at_the_last_month_with_entries(town, v):
    assert forecast.data_through(town, 2020, datetime.date(2020, 9, 30)) == 0
    assert all(f.forecast == 0 and f.through_month == 0
               for f in forecast.forecast_year(town, 2020, datetime.date(2020, 9, 30)))
    put(v[0], 2020, 2, "100.00")
    put(v[2], 2020, 5, "100.00", category="subsidy")  # any category counts as "entered through May"
    assert forecast.data_through(town, 2020, datetime.date(2020, 9, 30)) == 5
    assert forecast.data_through(town, 2020, datetime.date(2020, 4, 10)) == 2  # the as-of month caps too
    assert forecast.data_through(town, 2020, datetime.date(2020, 1, 31)) == 0
    assert forecast.data_through(town, 2020, datetime.date(2021, 3, 1)) == 12  # a finished year
    assert forecast.data_through(v[1], 2020, datetime.date(2020, 9, 30)) == 0  # per region


def test_villages_expected_over_a_million(town, v):
    for m in range(1, 13):
        put(v[2], 2019, m, "100000.00")  # 1,200,000, even through the year
    for m in range(1, 4):
        put(v[2], 2020, m, "83333.34")  # 250,000.02 by March → ×4 = 1,000,000.08
    got = forecast.expected_million(town, 2020, datetime.date(2020, 3, 31))
    assert [(f.village.pk, f.forecast) for f in got] == [(v[2].pk, Decimal("1000000.08"))]
    assert metrics.forecast_million_villages(town, Period.asof(datetime.date(2020, 3, 31))) == 1


def test_backtest_on_a_constructed_year(town, v):
    """2020 is forecast from its first five months and compared with what it came to:

    测试一村  profile 2019 (share by May 5/18); 2020 by May 61,234.57 → 220,444.45; actual 220,000.00
    测试二村  nothing in 2019 → straight line 50,000.05 × 12/5 = 120,000.12; actual 85,000.05
    测试三村  2019 600,000 by May of 1,200,000; 2020 by May 500,000 → 1,000,000.00; actual 980,000.00
    errors 444.45/220,000 = 0.20202 %, 35,000.07/85,000.05 = 41.17648 %, 20,000/980,000 = 2.04082 %
    mean 14.4731 % → 14.5 %; one village predicted over the million line, none actually over it."""
    profile(v[0])
    for m, amount in ((1, "12000.00"), (2, "12000.00"), (3, "12000.00"), (4, "12000.00"), (5, "13234.57")):
        put(v[0], 2020, m, amount)
    put(v[0], 2020, 9, "158765.43")
    for m in range(1, 6):
        put(v[1], 2020, m, "10000.01")
    for m in range(6, 13):
        put(v[1], 2020, m, "5000.00")
    put(v[2], 2019, 5, "600000.00"), put(v[2], 2019, 10, "600000.00")
    put(v[2], 2020, 4, "500000.00"), put(v[2], 2020, 11, "480000.00")

    bt = forecast.backtest(town, 2020, 5)
    rows = {r.village.pk: (r.forecast, r.actual, r.method) for r in bt.rows}
    assert rows == {v[0].pk: (Decimal("220444.45"), Decimal("220000.00"), "上年月度结构"),
                    v[1].pk: (Decimal("120000.12"), Decimal("85000.05"), "直线外推"),
                    v[2].pk: (Decimal("1000000.00"), Decimal("980000.00"), "上年月度结构")}
    assert bt.mean_abs_pct_error == Decimal("14.5")
    assert (bt.million_predicted, bt.million_actual, bt.million_hits) == (1, 0, 0)
    # the same error recomputed here from the rows
    errors = [abs(f - a) / a for f, a, _ in rows.values()]
    assert (sum(errors) / 3 * 100).quantize(Decimal("0.1")) == bt.mean_abs_pct_error


def test_backtest_without_actuals_has_no_error(town, v):
    bt = forecast.backtest(town, 2020, 6)
    assert bt.mean_abs_pct_error is None and (bt.million_predicted, bt.million_actual) == (0, 0)
