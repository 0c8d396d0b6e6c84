"""``yiwang metrics`` and ``GET /api/metrics/`` on the demo town: the figures come out of the records.

The expected values are counted here independently of the metric code — through the parent links of
the region tree instead of the materialised path, and with the as-of rules applied in Python — so a
metric that drifts from its records fails, and nothing is hard-coded except the article's 28 villages.
"""
import datetime
import io
import json
import re

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from yiwang.accounts.models import User
from yiwang.areas.models import Region
from yiwang.insights import registry
from yiwang.people import actions as people_actions
from yiwang.people.models import Household, Person

pytestmark = pytest.mark.django_db

TOWN = "150627105"
WLNE = "150627105215"
NLXL = "150627105214"
ASOF = datetime.date(2023, 6, 30)
CJK = re.compile(r"[\u4e00-\u9fff]")


def villages_of(region):
    """Village-level units under a region, found by walking parent links (not the path)."""
    found, frontier = [], [region]
    while frontier:
        children = list(Region.objects.filter(parent__in=frontier))
        found += [c for c in children if c.kind in (Region.Kind.VILLAGE, Region.Kind.COMMUNITY)]
        frontier = [c for c in children if c.kind != Region.Kind.GRID]
    if region.is_village_level:
        found.append(region)
    return found


def expected(region, end):
    villages = villages_of(region)
    households = [h for h in Household.objects.filter(village__in=villages)
                  if h.registered_on <= end and (h.closed_on is None or h.closed_on > end)]
    persons = [p for p in Person.objects.filter(household__village__in=villages)
               if p.registered_on <= end and (p.status == Person.Status.LIVING
                                               or (p.status_changed_on is not None and p.status_changed_on > end))]
    return {
        "areas.villages": sum(1 for v in villages if v.kind == Region.Kind.VILLAGE),
        "areas.grids": Region.objects.filter(parent__in=villages, kind=Region.Kind.GRID).count(),
        "people.households": len(households),
        "people.persons": len(persons),
    }


def cli(*args):
    out = io.StringIO()
    call_command("metrics", *args, stdout=out)
    return out.getvalue()


def cli_json(*args):
    return json.loads(cli(*args, "--format", "json"))


@pytest.fixture
def client_for(db):
    def make(username):
        client = Client()
        client.force_login(User.objects.get(username=username), backend="django.contrib.auth.backends.ModelBackend")
        return client

    return make


def test_town_figures_from_the_records():
    values = cli_json("--region", TOWN, "--asof", ASOF.isoformat())
    town = Region.objects.get(code=TOWN)
    want = expected(town, ASOF)
    assert {k: values[k] for k in want} == want
    assert values["areas.villages"] == 28  # the article's figure: 28 嘎查村 (the 社区 is not one)
    assert set(values) == {m.key for m in registry.all_metrics()}  # every registered metric is printed
    assert want["people.households"] > 3000 and want["people.persons"] > want["people.households"]


def test_figures_are_as_of_the_day(demo_user):
    """A household registered the day after the reference date is not in the 2023-06-30 figure."""
    village = Region.objects.get(code=WLNE)
    before = cli_json("--region", TOWN, "--asof", "2023-06-30")
    people_actions.create_household(number="T-ASOF-0001", village=village, registered_on="2023-07-01",
                                    by=demo_user("wlne_secretary"))
    assert cli_json("--region", TOWN, "--asof", "2023-06-30") == before
    after = cli_json("--region", TOWN, "--asof", "2023-07-01")
    assert after["people.households"] == expected(Region.objects.get(code=TOWN), datetime.date(2023, 7, 1))[
        "people.households"]
    assert after["people.households"] >= before["people.households"] + 1


@pytest.mark.parametrize("period, end", [("2022", datetime.date(2022, 12, 31)), ("2021H2", datetime.date(2021, 12, 31)),
                                         ("2023Q1", datetime.date(2023, 3, 31)), ("2023-05", datetime.date(2023, 5, 31))])
def test_period_figures(period, end):
    values = cli_json("--region", TOWN, "--period", period)
    want = expected(Region.objects.get(code=TOWN), end)
    assert {k: values[k] for k in want} == want


def test_text_format_lists_every_metric():
    text = cli("--region", TOWN, "--asof", "2023-06-30")
    assert text.splitlines()[0].startswith("红庆河镇（150627105） asof:2023-06-30")
    for m in registry.all_metrics():
        assert m.key in text and m.label in text


def test_padded_code_and_a_village():
    assert cli_json("--region", "150627105000", "--asof", "2023-06-30") == cli_json(
        "--region", TOWN, "--asof", "2023-06-30")
    values = cli_json("--region", WLNE, "--asof", "2023-06-30")
    want = expected(Region.objects.get(code=WLNE), ASOF)
    assert {k: values[k] for k in want} == want and values["areas.villages"] == 1


@pytest.mark.parametrize("args, field_text", [
    (("--period", "2022Q5"), "无法识别的期间“2022Q5”"),
    (("--period", "去年"), "无法识别的期间"),
    (("--period", "2022-13"), "日期不存在"),
    (("--period", "2023-06-30..2023-01-01"), "开始日期晚于结束日期"),
    (("--asof", "2023-02-30"), "日期不存在"),
    (("--asof", "yesterday"), "无法识别的期间"),
])
def test_bad_period_is_a_chinese_error(args, field_text):
    with pytest.raises(CommandError) as info:
        cli("--region", TOWN, *args)
    assert field_text in str(info.value)


def test_unknown_region_is_a_chinese_error():
    for code in ("999999999", "", "<script>"):
        with pytest.raises(CommandError, match="不存在"):
            cli("--region", code)


# ---- the API: the same figures for the signed-in user's scope --------------------------------------------

def test_api_gives_the_cli_figures_to_the_town_admin(client_for):
    client = client_for("town_admin")
    response = client.get("/api/metrics/", {"region": TOWN, "asof": "2023-06-30"})
    assert response.status_code == 200
    assert response.json() == cli_json("--region", TOWN, "--asof", "2023-06-30")
    period = client.get("/api/metrics/", {"region": TOWN, "period": "2022"}).json()
    assert period == cli_json("--region", TOWN, "--period", "2022")
    padded = client.get("/api/metrics/", {"region": "150627105000", "asof": "2023-06-30"})
    assert padded.status_code == 200 and padded.json() == response.json()


def test_village_secretary_sees_own_village_only(client_for):
    client = client_for("wlne_secretary")
    assert client.get("/api/metrics/", {"region": TOWN, "asof": "2023-06-30"}).status_code == 404
    assert client.get("/api/metrics/", {"region": NLXL, "asof": "2023-06-30"}).status_code == 404
    assert client.get("/api/metrics/", {"region": "999999999999", "asof": "2023-06-30"}).status_code == 404
    own = client.get("/api/metrics/", {"region": WLNE, "asof": "2023-06-30"})
    assert own.status_code == 200
    want = expected(Region.objects.get(code=WLNE), ASOF)
    assert {k: own.json()[k] for k in want} == want
    assert own.json() == cli_json("--region", WLNE, "--asof", "2023-06-30")
    # the sibling village's secretary gets theirs, which differ
    other = client_for("nlxl_secretary").get("/api/metrics/", {"region": NLXL, "asof": "2023-06-30"}).json()
    assert other["people.households"] == expected(Region.objects.get(code=NLXL), ASOF)["people.households"]


@pytest.mark.parametrize("params, field", [
    ({"region": TOWN, "period": "2022Q5"}, "period"),
    ({"region": TOWN, "asof": "2023-02-30"}, "asof"),
    ({"region": TOWN, "period": "<script>"}, "period"),
    ({"asof": "2023-06-30"}, "region"),
    ({"region": "  ", "asof": "2023-06-30"}, "region"),
])
def test_api_bad_parameters(params, field, client_for):
    response = client_for("town_admin").get("/api/metrics/", params)
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == field and CJK.search(body["detail"])


def test_api_needs_a_signed_in_user():
    assert Client().get("/api/metrics/", {"region": TOWN}).status_code in (401, 403)


def test_the_metric_page_shows_a_dict_metric_by_its_labels_and_money_grouped(login):
    """economy.villages_by_tier is a dict: the page names its parts (示范村 …), never a Python repr."""
    from yiwang.areas.models import Region
    from yiwang.core.periods import Period
    from yiwang.insights import registry

    html = login("town_admin").get("/insights/metrics/", {"period": "2022"}).content.decode()
    town = Region.objects.get(code="150627105")
    tiers = registry.get("economy.villages_by_tier").value(town, Period.parse("2022"))
    assert f"示范村 {tiers['demonstration']} · 一般村 {tiers['ordinary']} · 薄弱村 {tiers['weak']}" in html
    assert "{'" not in html and "Tier." not in html
    income = registry.get("economy.operating_income").value(town, Period.parse("2022"))
    assert f"{income:,.2f}" in html
