"""The cases REST API: lists and reads within scope with the console's filters, intake through
``create_case``, one POST per transition returning the case, 409 for a case changed since it was read,
400 with the Chinese message for a transition the state does not allow, 404 outside scope; the
category list; and the OpenAPI schema still generated without errors."""
import datetime

import pytest
from django.utils import timezone

from yiwang.areas.models import Region
from yiwang.cases import actions
from yiwang.cases.models import Case, CaseEvent, Category

WLNE, NLXL = "150627105215", "150627105214"
WLNE_GRID1, NLXL_GRID1 = "15062710521501", "15062710521401"


@pytest.fixture(autouse=True)
def categories(db):
    actions.ensure_default_categories(by=None)


def make_case(title="自来水停水", *, where=WLNE_GRID1, cat="livelihood-water", hours_ago=0):
    at = timezone.now() - datetime.timedelta(hours=hours_ago) if hours_ago else None
    return actions.create_case(category=Category.objects.get(code=cat), region=Region.objects.get(code=where),
                               description=f"{title}，三天了", title=title, by=None, channel=Case.Channel.HOTLINE,
                               reporter_phone="13812345678", reported_at=at)


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def test_list_retrieve_and_filters_stay_in_scope(login, demo_user):
    own, theirs = make_case("本村停水", hours_ago=30), make_case("别村停水", where=NLXL_GRID1)
    client = login("wlne_secretary")
    data = client.get("/api/cases/").json()
    numbers = {c["number"] for c in data["results"]}
    assert own.number in numbers and theirs.number not in numbers
    assert data["count"] == Case.objects.visible_to(demo_user("wlne_secretary")).count()
    overdue = client.get("/api/cases/", {"warning": "overdue"}).json()
    assert own.number in {c["number"] for c in overdue["results"]}
    assert all(c["warning"] == "overdue" for c in overdue["results"])
    assert client.get("/api/cases/", {"q": own.number}).json()["count"] == 1
    one = client.get(f"/api/cases/{own.pk}/").json()
    assert one["reporter_phone"] == "*******5678" and "13812345678" not in str(one)
    assert one["category"] == "livelihood-water" and one["region"] == WLNE_GRID1 and one["state"] == "submitted"
    assert client.get(f"/api/cases/{theirs.pk}/").status_code == 404


def test_create_through_the_action_and_the_other_village_reads_as_unknown(login):
    client = login("wlne_secretary")
    r = post(client, "/api/cases/", {"category": "environment-waste", "region": WLNE_GRID1,
                                     "description": "垃圾桶满了", "channel": "walk_in"})
    assert r.status_code == 201, r.json()
    case = Case.objects.get(pk=r.json()["id"])
    assert case.state == "submitted" and case.channel == "walk_in" and case.events.get().action == "create"
    theirs = post(client, "/api/cases/", {"category": "environment-waste", "region": NLXL_GRID1, "description": "x"})
    none = post(client, "/api/cases/", {"category": "environment-waste", "region": "999999999999", "description": "x"})
    assert theirs.status_code == none.status_code == 400
    assert theirs.json()["field"] == none.json()["field"] == "region"
    bad = post(client, "/api/cases/", {"category": "no-such", "region": WLNE_GRID1, "description": "x"})
    assert bad.status_code == 400 and bad.json()["field"] == "category"


def test_transitions_return_the_case(login):
    case = make_case()
    town, secretary = login("town_admin"), login("wlne_secretary")
    r = post(town, f"/api/cases/{case.pk}/accept/", {"version": case.version, "note": "收到"})
    assert r.status_code == 200 and r.json()["state"] == "accepted"
    version = r.json()["version"]
    r = post(town, f"/api/cases/{case.pk}/assign/", {"version": version, "level": "village",
                                                    "handler": "wlne_secretary"})
    assert r.status_code == 200 and (r.json()["state"], r.json()["handler"]) == ("in_progress", "wlne_secretary")
    r = post(town, f"/api/cases/{case.pk}/supervise/", {"level": "yellow", "note": "尽快"})
    assert r.json()["supervision"] == "yellow"
    r = post(secretary, f"/api/cases/{case.pk}/request-extension/", {"hours": 24, "reason": "等配件"})
    assert r.status_code == 200 and case.extensions.get().hours == 24
    r = post(secretary, f"/api/cases/{case.pk}/escalate/", {"reason": "村里修不了"})
    assert r.status_code == 200 and (r.json()["state"], r.json()["level"]) == ("escalated", "town")
    r = post(town, f"/api/cases/{case.pk}/resolve/", {"result": "已恢复供水"})
    assert r.json()["state"] == "resolved"
    r = post(secretary, f"/api/cases/{case.pk}/rate/", {"rating": "satisfied", "comment": "好"})
    assert r.status_code == 200 and r.json()["state"] == "closed" and r.json()["rating"] == "satisfied"
    other = make_case("重复停水")
    r = post(secretary, f"/api/cases/{other.pk}/merge/", {"into": case.number})
    assert r.json()["state"] == "merged" and r.json()["merged_into"] == case.number
    third = make_case("不予受理的")
    assert post(secretary, f"/api/cases/{third.pk}/reject/", {"reason": "不属实"}).json()["state"] == "rejected"
    fourth = make_case("待关闭")
    for step, body in (("accept", {}), ("resolve", {"result": "办了"}), ("close", {"note": "联系不上"})):
        r = post(secretary, f"/api/cases/{fourth.pk}/{step}/", body)
    assert r.json()["state"] == "closed"


def test_conflict_is_409_and_nothing_is_written(login):
    case = make_case()
    client = login("wlne_secretary")
    stale = client.get(f"/api/cases/{case.pk}/").json()["version"]
    assert post(client, f"/api/cases/{case.pk}/accept/", {"version": stale}).status_code == 200
    events = CaseEvent.objects.filter(case=case).count()
    r = post(login("town_admin"), f"/api/cases/{case.pk}/reject/", {"version": stale, "reason": "重复"})
    assert r.status_code == 409
    assert r.json() == {"detail": r.json()["detail"], "field": None}
    assert "刚被其他人处理过" in r.json()["detail"] and "已受理" in r.json()["detail"]
    assert CaseEvent.objects.filter(case=case).count() == events
    assert Case.objects.get(pk=case.pk).state == "accepted"


def test_bad_state_is_400_in_chinese_and_out_of_scope_is_404(login):
    case, theirs = make_case(), make_case("别村", where=NLXL_GRID1)
    client = login("wlne_secretary")
    r = post(client, f"/api/cases/{case.pk}/close/", {"note": "关了"})
    assert r.status_code == 400 and "当前状态为“待受理”，不能关闭" in r.json()["detail"]
    r = post(client, f"/api/cases/{case.pk}/reject/", {})
    assert r.status_code == 400 and r.json()["field"] == "reason"
    r = post(client, f"/api/cases/{case.pk}/supervise/", {"level": "red", "note": "x"})
    assert r.status_code == 403  # the secretary holds no cases.supervise
    r = post(client, f"/api/cases/{case.pk}/assign/", {"level": "village", "handler": "nlxl_secretary"})
    assert r.status_code == 400 and r.json()["field"] == "handler"
    for step in ("accept", "reject", "merge", "assign", "escalate", "resolve", "rate", "close", "supervise",
                 "request-extension"):
        assert post(client, f"/api/cases/{theirs.pk}/{step}/", {"note": "x", "reason": "x"}).status_code == 404
    assert Case.objects.get(pk=theirs.pk).state == "submitted"


def test_categories_read_only(login):
    client = login("wlne_secretary")
    data = client.get("/api/case-categories/").json()
    water = next(c for c in data if c["code"] == "livelihood-water")
    assert (water["parent"], water["accept_hours"], water["resolve_hours"]) == ("livelihood", 2, 24)
    assert client.post("/api/case-categories/", {}, content_type="application/json").status_code == 405


def test_schema_generates_without_errors(db):
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    assert not GENERATOR_STATS._error_cache, dict(GENERATOR_STATS._error_cache)
    ours = [w for w in GENERATOR_STATS._warn_cache if "Case" in w or "cases" in w]
    assert not ours, ours
    paths = schema["paths"]
    assert "/api/cases/{id}/request-extension/" in paths and "/api/case-categories/" in paths
