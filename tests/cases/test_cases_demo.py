"""The demo's cases: ``cases.solved`` = 527 as of 2023-06-30 (the article's figure) out of the records,
through the metrics CLI; the mix the demo promises (every channel, top category and state; overdue,
yellow and red on the reference day; rejected, merged, reopened, escalated, whistled, extensions;
both scope-test villages; the demo grid worker's own open cases), each made through the actions, so
timelines and audit entries are real; and the village breakdown adds up to the town."""
import datetime
import json
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db.models import Q

from yiwang.areas.models import Region
from yiwang.cases import rates
from yiwang.cases.models import Case, CaseEvent, Category, Extension, Notification, Whistle
from yiwang.core.models import AuditEntry
from yiwang.core.periods import Period
from yiwang.demo.registry import REFERENCE_DATE, TOWN_CODE

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
REF_END = datetime.datetime.combine(REFERENCE_DATE + datetime.timedelta(days=1), datetime.time(), tzinfo=TZ)
REF_MOMENT = datetime.datetime.combine(REFERENCE_DATE, datetime.time(18, 0), tzinfo=TZ)


@pytest.fixture
def demo():
    town = Region.objects.get(code=TOWN_CODE)
    return Case.objects.filter(region_path__startswith=town.path, is_demo=True)


def test_metrics_cli_gives_527_solved_as_of_the_reference_day(capsys):
    call_command("metrics", "--region", TOWN_CODE, "--asof", "2023-06-30", "--format", "json")
    got = json.loads(capsys.readouterr().out)
    assert got["cases.solved"] == 527
    assert got["cases.received"] > got["cases.solved"] and got["cases.overdue"] > 0
    for key in ("cases.response_rate", "cases.resolution_rate", "cases.satisfaction_rate"):
        assert 50 < float(got[key]) <= 100, key
    call_command("metrics", "--region", TOWN_CODE, "--asof", "2022-12-31", "--format", "json")
    assert 0 < json.loads(capsys.readouterr().out)["cases.solved"] < 527


def test_solved_is_the_hand_count_of_the_records(demo):
    by_hand = [c for c in demo if c.state in ("resolved", "closed") and c.resolved_at < REF_END]
    assert len(by_hand) == 527
    assert not demo.filter(Q(reported_at__gte=REF_END) | Q(resolved_at__gte=REF_END)).exists()


def test_every_channel_top_category_and_state_occurs(demo):
    assert set(demo.values_list("channel", flat=True)) == set(Case.Channel.values)
    tops = set(Category.objects.filter(parent__isnull=True).values_list("code", flat=True))
    used = {c.category.parent.code if c.category.parent_id else c.category.code
            for c in demo.select_related("category__parent")}
    assert used == tops
    assert set(demo.values_list("state", flat=True)) == set(Case.State.values)
    villages = Region.objects.filter(parent__code=TOWN_CODE, kind=Region.Kind.VILLAGE)
    assert villages.count() == 28
    for village in villages:
        assert demo.filter(region_path__startswith=village.path).exists(), village.name
    assert demo.filter(region__kind=Region.Kind.GRID).exists() and demo.filter(region__kind=Region.Kind.VILLAGE).exists()


def test_the_mix_of_outcomes(demo):
    assert demo.filter(state="rejected").count() >= 10 and demo.filter(state="merged").count() >= 10
    assert demo.filter(reopen_count=1, state="closed").count() >= 5  # dissatisfied once, reopened, closed
    assert demo.filter(reopen_count=1, rating="dissatisfied", state="closed").exists()
    assert demo.filter(rating="basic").exists() and demo.filter(state="closed", rating="").exists()
    assert demo.filter(events__action="escalate").distinct().count() >= 10
    assert Whistle.objects.filter(case__in=demo, reported_at__isnull=False).exists()
    assert {"approved", "refused", "pending"} <= set(Extension.objects.filter(case__in=demo).values_list("status", flat=True))
    assert demo.exclude(supervision="").exists()
    assert demo.filter(household__isnull=False).count() > 100
    for case in demo.filter(household__isnull=False).select_related("household", "region"):
        village_id = case.region.parent_id if case.region.kind == Region.Kind.GRID else case.region_id
        assert case.household.village_id == village_id  # a household of the case's own village
    for merged in demo.filter(state="merged").select_related("merged_into"):
        assert merged.merged_into.category_id == merged.category_id and merged.merged_into.reported_at < merged.reported_at


def test_open_cases_on_the_reference_day(demo):
    open_cases = list(demo.filter(state__in=Case.OPEN_STATES).select_related("category"))
    warnings = [c.warning(REF_MOMENT) for c in open_cases]
    assert 3 <= warnings.count("overdue") <= 15  # a few, not all
    assert "red" in warnings and "yellow" in warnings and "" in warnings
    assert demo.filter(state="submitted", accept_due__lt=REF_MOMENT).exists()  # not accepted in time


def test_both_scope_villages_and_the_demo_grid_worker_have_cases(demo):
    for code in ("150627105215", "150627105214"):
        assert demo.filter(region_path__contains=f"/{code}/").count() >= 10
    mine = demo.filter(handler__username="wlne_grid1", region__code="15062710521501")
    assert mine.count() >= 3 and all(c.is_open for c in mine)


def test_timelines_and_audit_are_the_actions(demo):
    case = demo.filter(state="closed", reopen_count=0).order_by("pk").first()
    assert {"create", "accept", "assign", "resolve", "rate"} <= set(case.events.values_list("action", flat=True))
    times = list(case.events.values_list("at", flat=True))
    assert times == sorted(times) and times[0] == case.reported_at
    entries = AuditEntry.objects.filter(model="cases.Case", object_id=str(case.pk))
    assert {"cases.create_case", "cases.accept_case", "cases.resolve_case", "cases.rate_case"} <= set(
        entries.values_list("action", flat=True))
    assert set(entries.values_list("channel", flat=True)) == {"demo"}
    assert not CaseEvent.objects.filter(case__in=demo, at__gte=REF_END).exists()
    assert not Notification.objects.filter(case__in=demo).exists()  # nobody is messaged about invented cases


def test_the_village_breakdown_adds_up_to_the_town(demo):
    period = Period.asof(REFERENCE_DATE)
    rows = rates.breakdown(demo, by="village", period=period)
    town = rates.figures(demo, period)
    assert sum(r["solved"] for r in rows) == town["solved"] == 527
    assert sum(r["received"] for r in rows) == town["received"]
    assert sum(r["responded"] for r in rows) == town["responded"]
    assert len(rows) == 28 and all(r["name"] for r in rows)
    by_category = rates.breakdown(demo, by="category", period=period)
    assert sum(r["solved"] for r in by_category) == 527 and len(by_category) == 6
