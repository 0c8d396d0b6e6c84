"""The cases metrics and the three rates against a hand count: a fresh town of two villages, cases with
known outcomes made through the actions in March 2023, and every figure worked out below by hand from
the timeline of each case. Also: the settings switch the formulas, a breakdown row equals the metric of
the same region (in one aggregate query), and an empty region answers None, not 0 %."""
import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from yiwang.areas import actions as area_actions
from yiwang.cases import actions, rates
from yiwang.cases.models import Case, Category
from yiwang.core.periods import Period
from yiwang.insights import registry

TZ = ZoneInfo("Asia/Shanghai")
MARCH = Period.parse("2023-03")
TOWN, VILLAGE_A, VILLAGE_B = "150627198", "150627198201", "150627198202"


def t(month, day, hour=9, minute=0):
    return datetime.datetime(2023, month, day, hour, minute, tzinfo=TZ)


@pytest.fixture
def town(db):
    """A town of two villages with one grid each, and cases of known outcomes (see each line)."""
    area_actions.load_divisions([
        {"code": TOWN, "name": "试验镇", "level": "town", "parent_code": "150627"},
        {"code": VILLAGE_A, "name": "甲村村委会", "level": "village", "parent_code": TOWN},
        {"code": VILLAGE_B, "name": "乙村村委会", "level": "village", "parent_code": TOWN},
    ], under="150627")
    actions.ensure_default_categories(by=None)
    from yiwang.areas.models import Region

    a, b = Region.objects.get(code=VILLAGE_A), Region.objects.get(code=VILLAGE_B)
    grid_a = area_actions.create_grid(a, code=f"{VILLAGE_A}01", name="甲村第1网格", by=None)
    grid_b = area_actions.create_grid(b, code=f"{VILLAGE_B}01", name="乙村第1网格", by=None)
    light = Category.objects.get(code="infrastructure-light")  # accept within 24 h, resolve within 168 h
    assert (light.accept_hours, light.resolve_hours) == (24, 168)

    def new(at, region=grid_a):
        return actions.create_case(category=light, region=region, description="路灯不亮", by=None, reported_at=at)

    def assign(case, at):
        actions.assign_case(case, by=None, level=Case.Level.GRID, at=at)

    cases = {}
    # C1: accepted after 1 h, resolved in 48 h, satisfied
    c = cases["C1"] = new(t(3, 1))
    actions.accept_case(c, by=None, at=t(3, 1, 10)); assign(c, t(3, 1, 11))
    actions.resolve_case(c, by=None, result="已修好", at=t(3, 3)); actions.rate_case(c, by=None, rating="satisfied", at=t(3, 4))
    # C2: accepted late (27 h), resolved late (240 h, due 03-09 09:00), basically satisfied
    c = cases["C2"] = new(t(3, 2))
    actions.accept_case(c, by=None, at=t(3, 3, 12)); assign(c, t(3, 3, 13))
    actions.resolve_case(c, by=None, result="已修好", at=t(3, 12)); actions.rate_case(c, by=None, rating="basic", at=t(3, 13))
    # C3: accepted after 2 h, resolved, rated dissatisfied on 03-07 → reopened, new deadline 03-14 09:00, not resolved again
    c = cases["C3"] = new(t(3, 5))
    actions.accept_case(c, by=None, at=t(3, 5, 11)); assign(c, t(3, 5, 12))
    actions.resolve_case(c, by=None, result="已修好", at=t(3, 6)); actions.rate_case(c, by=None, rating="dissatisfied", at=t(3, 7))
    # C4: rejected after 6 h (within the accept deadline), never accepted
    c = cases["C4"] = new(t(3, 10))
    actions.reject_case(c, by=None, reason="不属于本村", at=t(3, 10, 15))
    # C5: a duplicate of C1, merged
    c = cases["C5"] = new(t(3, 11))
    actions.merge_case(c, into=cases["C1"], by=None, at=t(3, 11, 10))
    # C6: never accepted; accept deadline 03-21 09:00 and resolve deadline 03-27 09:00 both passed by the end
    cases["C6"] = new(t(3, 20))
    # C7: accepted after 1 h, in progress, resolve deadline 04-06: not yet due at the end of March
    c = cases["C7"] = new(t(3, 30))
    actions.accept_case(c, by=None, at=t(3, 30, 10))
    # C8: reported on the last evening; accept deadline 04-01 20:00 not yet due
    cases["C8"] = new(t(3, 31, 20))
    # C9: reported in February (due 02-27), resolved late on 03-02 (240 h), satisfied
    c = cases["C9"] = new(t(2, 20))
    actions.accept_case(c, by=None, at=t(2, 20, 10)); assign(c, t(2, 20, 11))
    actions.resolve_case(c, by=None, result="已修好", at=t(3, 2)); actions.rate_case(c, by=None, rating="satisfied", at=t(3, 3))
    # C10: accepted after 30 min, resolved in 24 h, closed unrated
    c = cases["C10"] = new(t(3, 15))
    actions.accept_case(c, by=None, at=t(3, 15, 9, 30)); assign(c, t(3, 15, 10))
    actions.resolve_case(c, by=None, result="已修好", at=t(3, 16)); actions.close_case(c, by=None, note="回访未接通", at=t(3, 20))
    # C11: accepted after 1 h, resolved on 03-31 (144 h, on time), rated only on 04-02
    c = cases["C11"] = new(t(3, 25))
    actions.accept_case(c, by=None, at=t(3, 25, 10)); assign(c, t(3, 25, 11))
    actions.resolve_case(c, by=None, result="已修好", at=t(3, 31)); actions.rate_case(c, by=None, rating="satisfied", at=t(4, 2))
    # C12: accepted after 1 h, due 03-31 09:00, resolved only on 04-02
    c = cases["C12"] = new(t(3, 24))
    actions.accept_case(c, by=None, at=t(3, 24, 10)); assign(c, t(3, 24, 11))
    actions.resolve_case(c, by=None, result="已修好", at=t(4, 2))
    # village B: one solved on time and satisfied, one open and not yet due
    c = cases["B1"] = new(t(3, 6), region=grid_b)
    actions.accept_case(c, by=None, at=t(3, 6, 9, 20)); assign(c, t(3, 6, 10))
    actions.resolve_case(c, by=None, result="已处理", at=t(3, 7)); actions.rate_case(c, by=None, rating="satisfied", at=t(3, 8))
    cases["B2"] = new(t(3, 29), region=grid_b)
    actions.accept_case(cases["B2"], by=None, at=t(3, 29, 11))

    class Town:
        region = Region.objects.get(code=TOWN)
        village_a, village_b = a, b

    Town.cases = cases
    return Town


def values(region, period=MARCH):
    return {m.key: m.value(region, period) for m in registry.all_metrics() if m.key.startswith("cases.")}


def numbers(region, key, period=MARCH):
    return sorted(registry.get(key).records(region, period).values_list("number", flat=True))


def names(town, *labels):
    return sorted(town.cases[label].number for label in labels)


def test_village_figures_equal_the_hand_count(town):
    got = values(town.village_a)
    assert got["cases.received"] == 10  # C1–C4, C6–C8, C10–C12 (C5 merged, C9 reported in February)
    assert numbers(town.village_a, "cases.received") == names(town, "C1", "C2", "C3", "C4", "C6", "C7", "C8", "C10",
                                                               "C11", "C12")
    assert got["cases.solved"] == 5  # resolved in March: C1, C2, C9, C10, C11 (C3 reopened, C12 in April)
    assert numbers(town.village_a, "cases.solved") == names(town, "C1", "C2", "C9", "C10", "C11")
    # open and past a deadline at the end: C3 (new deadline 03-14), C6 (never accepted), C12 (due 03-31);
    # resolved in March after the deadline: C2, C9
    assert got["cases.overdue"] == 5
    assert numbers(town.village_a, "cases.overdue") == names(town, "C2", "C3", "C6", "C9", "C12")
    # response: base C1–C4, C6, C7, C10–C12 (C8 still within its accept window); on time all but C2, C6
    assert got["cases.response_rate"] == Decimal("77.8")  # 7 / 9
    assert numbers(town.village_a, "cases.response_rate") == names(town, "C1", "C2", "C3", "C4", "C6", "C7", "C10",
                                                                    "C11", "C12")
    # resolution: base = due or done by the end, not rejected: C1, C2, C3, C6, C10, C11, C12; resolved C1, C2, C10, C11
    assert got["cases.resolution_rate"] == Decimal("57.1")  # 4 / 7
    # satisfaction: rated by the end C1 (满意), C2 (基本满意), C3 (不满意); C11 rated in April
    assert got["cases.satisfaction_rate"] == Decimal("66.7")  # 2 / 3
    assert numbers(town.village_a, "cases.satisfaction_rate") == names(town, "C1", "C2", "C3")
    # accepted in March: C1 1 h, C2 27 h, C3 2 h, C7 1 h, C10 0.5 h, C11 1 h, C12 1 h → 33.5 / 7
    assert got["cases.mean_hours_to_accept"] == Decimal("4.8")
    # solved: C1 48 h, C2 240 h, C9 240 h (02-20 → 03-02), C10 24 h, C11 144 h → 696 / 5
    assert got["cases.mean_hours_to_resolve"] == Decimal("139.2")


def test_another_village_and_the_town_give_their_own_figures(town):
    b = values(town.village_b)
    assert (b["cases.received"], b["cases.solved"], b["cases.overdue"]) == (2, 1, 0)
    # B2's accept deadline (03-30 09:00) has passed and it was accepted in 2 h: both responded on time
    assert b["cases.response_rate"] == Decimal("100.0")
    assert b["cases.resolution_rate"] == Decimal("100.0")  # B1 only (B2 due in April)
    assert b["cases.satisfaction_rate"] == Decimal("100.0")
    whole = values(town.region)
    assert whole["cases.received"] == 12 and whole["cases.solved"] == 6 and whole["cases.overdue"] == 5
    assert whole["cases.response_rate"] == Decimal("81.8")  # (7 + 2) / (9 + 2)
    assert whole["cases.resolution_rate"] == Decimal("62.5")  # (4 + 1) / (7 + 1)
    assert whole["cases.satisfaction_rate"] == Decimal("75.0")  # 3 / 4


def test_the_settings_switch_the_formulas(town):
    with override_settings(CASES_RATES={"response": "any"}):
        assert values(town.village_a)["cases.response_rate"] == Decimal("88.9")  # 8 / 9: C2 counts, late or not
    with override_settings(CASES_RATES={"resolution": "on_time"}):
        assert values(town.village_a)["cases.resolution_rate"] == Decimal("42.9")  # 3 / 7: C2 was late
    with override_settings(CASES_RATES={"satisfied_ratings": ["satisfied"], "places": 2}):
        assert values(town.village_a)["cases.satisfaction_rate"] == Decimal("33.33")  # 1 / 3: 基本满意 not counted
    with override_settings(CASES_RATES={"rating": "first"}):
        assert values(town.village_a)["cases.satisfaction_rate"] == Decimal("66.7")
    with override_settings(CASES_RATES={"response": "sometimes"}), pytest.raises(ValueError):
        values(town.village_a)


def test_as_of_a_day_counts_everything_up_to_it(town):
    asof = Period.asof(datetime.date(2023, 2, 28))
    got = values(town.village_a, asof)
    # only C9 exists by then: reported 02-20, accepted, due 02-27 and not resolved → overdue
    assert (got["cases.received"], got["cases.solved"], got["cases.overdue"]) == (1, 0, 1)
    assert got["cases.resolution_rate"] == Decimal("0.0") and got["cases.satisfaction_rate"] is None


def test_an_empty_region_has_no_rates(town):
    empty = area_actions.create_grid(town.village_b, code=f"{VILLAGE_B}02", name="乙村第2网格", by=None)
    got = values(empty)
    assert got["cases.received"] == 0 and got["cases.response_rate"] is None
    assert got["cases.mean_hours_to_accept"] is None and got["cases.mean_hours_to_resolve"] is None


def test_breakdown_rows_equal_the_metrics_in_one_query(town):
    cases = Case.objects.filter(region_path__startswith=town.region.path)
    with CaptureQueriesContext(connection) as queries:
        rows = rates.breakdown(cases, by="village", period=MARCH)
    assert len(queries) == 2  # the aggregate, and the names of the rows
    assert [r["code"] for r in rows] == [VILLAGE_A, VILLAGE_B]
    for row, village in zip(rows, (town.village_a, town.village_b)):
        got = values(village)
        assert row["name"] == village.name
        for key in ("received", "solved", "overdue", "response_rate", "resolution_rate", "satisfaction_rate",
                    "mean_hours_to_accept", "mean_hours_to_resolve"):
            assert row[key] == got[f"cases.{key}"], key
    grids = rates.breakdown(cases, by="grid", period=MARCH)
    assert [(r["code"], r["received"]) for r in grids] == [(f"{VILLAGE_A}01", 10), (f"{VILLAGE_B}01", 2)]
    categories = rates.breakdown(cases, by="category", period=MARCH)
    assert [(r["name"], r["received"], r["solved"]) for r in categories] == [("基础设施", 12, 6)]
    with pytest.raises(ValueError):
        rates.breakdown(cases, by="household", period=MARCH)


def test_metrics_cli_prints_the_figures_of_a_region(town, capsys):
    import json

    from django.core.management import call_command

    call_command("metrics", "--region", VILLAGE_A, "--period", "2023-03", "--format", "json")
    got = json.loads(capsys.readouterr().out)
    assert got["cases.solved"] == 5 and got["cases.response_rate"] == "77.8"
