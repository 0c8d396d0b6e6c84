"""Open311 GeoReport v2 at /open311/v2/: the specification's field names, statuses and error format;
reports only with a valid key, inside the key's region, audited; reads only with a key, only inside its
region (another village's request is a 404), with the specification's filters; never a reporter's name
or phone in any answer; JSON only.

The key matrix at the end walks every URL under open311/ the resolver knows (as the scope matrix does
for session users), with keys of the two sibling demo villages.
"""
import datetime
import io
import json
import time
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yiwang.areas.models import Region
from yiwang.cases import actions
from yiwang.cases.models import ApiKey, Case, CaseEvent, Category
from yiwang.core import testing
from yiwang.core.models import AuditEntry

WLNE, NLXL, TOWN = "150627105215", "150627105214", "150627105"
GRID1 = "15062710521501"
BASE = "/open311/v2"
SPEC_REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code",
                       "description", "agency_responsible", "service_notice", "requested_datetime",
                       "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat", "long",
                       "media_url"}
SPEC_SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
PHONE, FIRST, LAST, EMAIL = "13912345678", "娜娜", "欧阳", "ouyang.nana@example.com"
MARCH_2019 = timezone.make_aware(datetime.datetime(2019, 3, 10, 9, 0))


def region(code):
    return Region.objects.get(code=code)


def grid_of(village_code):
    return Region.objects.filter(parent__code=village_code, kind=Region.Kind.GRID).order_by("code").first()


@pytest.fixture
def keys(db):
    """Plain api keys: one per village of the pair, one for the town, one for grid 1 of 乌兰淖尔."""
    actions.ensure_default_categories(by=None)
    return {code: actions.create_api_key(name=f"测试应用 {code}", region=region(code), by=None)[1]
            for code in (WLNE, NLXL, TOWN, GRID1)}


def post(data, *, client=None, path="/requests.json"):
    return (client or Client()).post(BASE + path, urlencode(data), content_type="application/x-www-form-urlencoded")


def get(path, params=None, *, client=None):
    return (client or Client()).get(BASE + path, params or {})


def assert_spec_error(response, status, *fragments):
    assert response.status_code == status, (response.status_code, response.content.decode())
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, list) and len(body) == 1 and set(body[0]) == {"code", "description"}, body
    assert body[0]["code"] == status
    for fragment in fragments:
        assert fragment in body[0]["description"], body
    return body[0]["description"]


def good_report(key, **extra):
    return {"api_key": key, "service_code": "infrastructure-light", "lat": "39.293001", "long": "109.741002",
            "address_string": "乌兰淖尔村一社路口", "description": "路口路灯不亮已三天", "region_code": GRID1, **extra}


def new_case(code=GRID1, *, at=None, category="infrastructure-light", description="测试：路灯不亮", **kw):
    return actions.create_case(category=Category.objects.get(code=category), region=region(code),
                               description=description, by=None, reported_at=at, **kw)


def counts():
    return Case.objects.count(), CaseEvent.objects.count(), AuditEntry.objects.filter(allowed=True).count()


# --------------------------------------------------------------------------- discovery and services


def test_discovery_document(keys):
    r = get("/discovery.json")
    assert r.status_code == 200 and r["Content-Type"] == "application/json; charset=utf-8"
    doc = r.json()
    assert set(doc) == {"changeset", "contact", "key_service", "endpoints"}
    (endpoint,) = doc["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["formats"] == ["application/json"] and endpoint["type"] == "production"
    assert doc["changeset"][:4].isdigit() and doc["changeset"].endswith("+08:00")


def test_the_changeset_is_the_last_change_of_a_service(keys):
    """The services are the categories: the changeset moves when a category changes, and with nothing
    else (it once read the audit log, which needed an index on every entry's action)."""
    from django.db.models import Max

    def iso(value):
        return timezone.localtime(value).isoformat(timespec="seconds")

    before = get("/discovery.json").json()["changeset"]
    assert before == iso(Category.objects.aggregate(m=Max("changed_at"))["m"])
    time.sleep(1.1)  # the changeset has whole seconds
    actions.create_api_key(name="又一个应用", region=region(WLNE), by=None)  # audited, not a service
    actions.ensure_default_categories(by=None)  # all there: changes nothing
    assert get("/discovery.json").json()["changeset"] == before
    category = actions.save_category(code="policy", name="政策咨询（测试）", by=None)
    after = get("/discovery.json").json()["changeset"]
    assert after == iso(category.changed_at) and after > before


def test_existing_categories_take_their_change_time_from_the_audit_log(keys):
    """The migration that gave categories their own time: each takes its last audited change, so the
    changeset a client knows does not move."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("yiwang.cases.migrations.0004_category_changed_at")
    saved = actions.save_category(code="policy", name="政策咨询（改）", by=None)
    created = next(e for e in AuditEntry.objects.filter(action="cases.ensure_default_categories").order_by("-id")
                   if "dispute" in e.changes["created"][1])  # (the log keeps what committed tests wrote)
    edited = AuditEntry.objects.filter(action="cases.save_category", object_id=str(saved.pk)).latest("id")
    AuditEntry.objects.create(action="cases.save_category", object_id=str(saved.pk), allowed=False)  # refused
    Category.objects.update(changed_at=MARCH_2019)
    migration.from_the_audit_log(apps, None)
    assert Category.objects.get(pk=saved.pk).changed_at == edited.at
    assert Category.objects.get(code="dispute").changed_at == created.at  # made by the defaults, never edited
    assert not Category.objects.filter(changed_at=MARCH_2019).exists()


def test_services_are_the_leaf_categories(keys):
    r = get("/services.json")
    assert r.status_code == 200
    services = {s["service_code"]: s for s in r.json()}
    assert all(set(s) == SPEC_SERVICE_FIELDS for s in services.values())
    assert "dispute" not in services and "infrastructure" not in services  # parents with children
    assert "policy" in services  # a top-level category without children
    light = services["infrastructure-light"]
    assert light["service_name"] == "路灯" and light["group"] == "基础设施"
    assert light["metadata"] is False and light["type"] == "realtime"
    assert "路灯" in light["keywords"].split(",") and "24 小时内受理" in light["description"]
    assert "紧急" in services["safety-fire"]["keywords"].split(",")

    actions.save_category(code="infrastructure-light", name="路灯", parent=Category.objects.get(code="infrastructure"),
                          active=False, by=None)
    assert "infrastructure-light" not in {s["service_code"] for s in get("/services.json").json()}


def test_service_definition_and_unknown_code(keys):
    r = get("/services/dispute-neighbour.json")
    assert r.status_code == 200 and r.json() == {"service_code": "dispute-neighbour", "attributes": []}
    assert_spec_error(get("/services/no-such-service.json"), 404, "service_code")
    assert_spec_error(get("/services/dispute.json"), 404)  # a group, not a service


@pytest.mark.parametrize("path", ["/discovery.xml", "/services.xml", "/services/policy.xml", "/requests.xml",
                                  "/requests/20230000001.xml", "/tokens/abc.xml"])
def test_only_json_is_supported(path, keys):
    assert_spec_error(get(path, {"api_key": keys[WLNE]}), 400, "JSON", "仅支持")


def test_xml_post_writes_nothing(keys):
    before = counts()
    assert_spec_error(post(good_report(keys[WLNE]), path="/requests.xml"), 400, "JSON")
    assert counts() == before


# --------------------------------------------------------------------------- POST a request


def test_post_without_key_or_with_a_wrong_key_is_refused(keys):
    before = counts()
    report = good_report("")
    del report["api_key"]
    assert_spec_error(post(report), 403, "api_key")
    assert_spec_error(post(good_report("not-a-key")), 403, "api_key")
    assert_spec_error(post(good_report(keys[WLNE] + "x")), 403, "api_key")
    ApiKey.objects.filter(prefix=keys[WLNE][:6]).update(active=False)
    assert_spec_error(post(good_report(keys[WLNE])), 403, "api_key")
    assert counts() == before


def test_wrong_or_missing_service_code_writes_nothing(keys):
    before = counts()
    assert_spec_error(post(good_report(keys[WLNE], service_code="pothole")), 400, "service_code")
    assert_spec_error(post(good_report(keys[WLNE], service_code="infrastructure")), 400, "service_code")
    assert_spec_error(post(good_report(keys[WLNE], service_code="")), 400, "service_code")
    assert counts() == before


def test_region_outside_the_key_is_refused_and_nothing_written(keys):
    before = counts()
    nlxl_grid = grid_of(NLXL)
    for code in (NLXL, nlxl_grid.code):
        assert_spec_error(post(good_report(keys[WLNE], region_code=code)), 403, "api_key")
    assert_spec_error(post(good_report(keys[GRID1], region_code="15062710521502")), 403)  # the sibling grid
    assert counts() == before
    refusals = AuditEntry.objects.filter(action="cases.create_case", allowed=False, region_path=nlxl_grid.path)
    assert refusals.filter(actor_label=f"open311:{keys[WLNE][:6]}").exists()


def test_bad_location_region_or_description_are_spec_errors(keys):
    before = counts()
    wlne = keys[WLNE]
    no_location = {k: v for k, v in good_report(wlne).items() if k not in ("lat", "long", "address_string")}
    assert_spec_error(post(no_location), 400, "lat", "address_string")
    assert_spec_error(post(good_report(wlne, lat="91", long="109")), 400, "纬度")
    assert_spec_error(post(good_report(wlne, lat="abc", long="109")), 400, "纬度")
    assert_spec_error(post(good_report(wlne, description="")), 400, "描述")
    assert_spec_error(post(good_report(wlne, region_code="999999999999")), 400, "region_code")
    assert_spec_error(post(good_report(wlne, region_code="abc")), 400, "region_code")
    assert_spec_error(post(good_report(wlne, jurisdiction_id=WLNE)), 400, "region_code")  # two different regions
    assert_spec_error(post(good_report(keys[TOWN], region_code="")), 400, "region_code")  # a town key must say where
    assert_spec_error(post(good_report(keys[TOWN], region_code=TOWN + "000")), 400, "嘎查村或网格")
    assert_spec_error(post(good_report(wlne, phone="12345")), 400, "电话")
    assert_spec_error(post(good_report(wlne, service_code="policy\x00")), 400, "service_code", "NUL")
    assert_spec_error(Client().post(BASE + "/requests.json", json.dumps(good_report(wlne, region_code="1\x00")),
                                    content_type="application/json"), 400, "region_code", "NUL")
    assert counts() == before


def test_good_post_creates_an_audited_open311_case(keys):
    key = ApiKey.objects.get(prefix=keys[WLNE][:6])
    r = post(good_report(keys[WLNE], first_name=FIRST, last_name=LAST, phone=PHONE, email=EMAIL,
                         media_url="http://example.com/photo.jpg", device_id="dev-1", account_id="acc-1"))
    assert r.status_code == 200, r.content.decode()
    (answer,) = r.json()
    assert set(answer) == {"service_request_id", "token", "service_notice", "account_id"}
    assert answer["account_id"] is None
    case = Case.objects.get(number=answer["service_request_id"])
    assert answer["token"] == case.token and case.number in answer["service_notice"]
    assert case.channel == Case.Channel.OPEN311 and case.region.code == GRID1
    assert case.category.code == "infrastructure-light"
    assert (case.address, case.description) == ("乌兰淖尔村一社路口", "路口路灯不亮已三天")
    assert str(case.latitude) == "39.293001" and str(case.longitude) == "109.741002"
    assert case.reporter_name == "欧阳娜娜" and case.reporter_phone_suffix == "5678" and case.reporter is None
    assert case.attachments.count() == 0  # media_url is not fetched
    entry = AuditEntry.objects.get(action="cases.create_case", object_id=str(case.pk), allowed=True)
    assert entry.actor_label == f"open311:{key.prefix}" and entry.channel == "api"
    assert entry.changes["channel"] == [None, "open311"]
    stored = json.dumps([list(Case.objects.filter(pk=case.pk).values())[0],
                         list(case.events.values("note", "data")), entry.changes], default=str, ensure_ascii=False)
    assert EMAIL not in stored and "example.com" not in stored and PHONE not in stored


def test_json_body_and_key_region_fallback(keys):
    r = Client().post(BASE + "/requests.json", json.dumps({**good_report(keys[GRID1]), "region_code": None}),
                      content_type="application/json")
    assert r.status_code == 200, r.content.decode()
    assert Case.objects.get(number=r.json()[0]["service_request_id"]).region.code == GRID1  # the key's own grid
    r = post({**good_report(keys[NLXL]), "region_code": ""})
    assert r.status_code == 200
    assert Case.objects.get(number=r.json()[0]["service_request_id"]).region.code == NLXL  # the key's village
    r = post({**good_report(keys[TOWN]), "region_code": "", "address_id": GRID1})  # address_id names the grid
    assert r.status_code == 200
    assert Case.objects.get(number=r.json()[0]["service_request_id"]).region.code == GRID1
    assert_spec_error(Client().post(BASE + "/requests.json", "[1]", content_type="application/json"), 400, "JSON")
    assert_spec_error(Client().post(BASE + "/requests.json", "{", content_type="application/json"), 400, "JSON")


@override_settings(OPEN311_RATE_LIMIT=2)
def test_posts_are_rate_limited_per_key(keys):
    if 60 - time.time() % 60 < 5:  # the counter is per clock minute: do not straddle its end
        time.sleep(6)
    before = Case.objects.count()
    assert post(good_report(keys[WLNE])).status_code == 200
    assert post(good_report(keys[WLNE])).status_code == 200
    assert_spec_error(post(good_report(keys[WLNE])), 429, "每分钟最多 2 件")
    assert Case.objects.count() == before + 2
    assert post(good_report(keys[GRID1])).status_code == 200  # another key has its own budget


def test_session_does_not_stand_in_for_a_key(keys, login):
    """CSRF-exempt views must not act on a browser's session: a signed-in town admin without a key is refused."""
    client = login("town_admin")
    before = counts()
    report = good_report("")
    del report["api_key"]
    assert_spec_error(post(report, client=client), 403, "api_key")
    assert_spec_error(get("/requests.json", client=client), 403, "api_key")
    assert counts() == before


# --------------------------------------------------------------------------- GET requests


@pytest.fixture
def march(keys):
    """Four cases in 乌兰淖尔 grid 1 in March 2019, one per kind of status, and one in 纳林希里."""
    open_case = new_case(at=MARCH_2019, description="三月：路灯不亮")
    resolved = new_case(at=MARCH_2019 + datetime.timedelta(days=1), category="environment-waste",
                        description="三月：垃圾未清运")
    actions.accept_case(resolved, by=None)
    actions.assign_case(resolved, by=None, level="village")
    actions.resolve_case(resolved, by=None, result="已清运并消毒")
    rejected = new_case(at=MARCH_2019 + datetime.timedelta(days=2), description="三月：重复反映")
    actions.reject_case(rejected, by=None, reason="不属于受理范围")
    merged = new_case(at=MARCH_2019 + datetime.timedelta(days=3), description="三月：同一路灯")
    actions.merge_case(merged, into=open_case, by=None)
    other = new_case(grid_of(NLXL).code, at=MARCH_2019, description="纳林希里：路灯不亮")
    return {"open": open_case, "resolved": resolved, "rejected": rejected, "merged": merged, "other": other}


def numbers(response):
    assert response.status_code == 200, response.content.decode()
    return [item["service_request_id"] for item in response.json()]


MARCH_WINDOW = {"start_date": "2019-03-01T00:00:00+08:00", "end_date": "2019-03-31T23:59:59+08:00"}


def test_get_requires_a_key(march, keys):
    assert_spec_error(get("/requests.json", MARCH_WINDOW), 403, "api_key")
    assert_spec_error(get("/requests.json", {**MARCH_WINDOW, "api_key": "wrong"}), 403, "api_key")
    assert_spec_error(get(f"/requests/{march['open'].number}.json"), 403)
    assert_spec_error(get(f"/tokens/{march['open'].token}.json"), 403)


def test_fields_statuses_and_notes_as_the_specification_says(march, keys):
    r = get("/requests.json", {**MARCH_WINDOW, "api_key": keys[WLNE]})
    items = {item["service_request_id"]: item for item in r.json()}
    assert set(items) == {march[k].number for k in ("open", "resolved", "rejected", "merged")}  # not 纳林希里's
    assert all(set(item) == SPEC_REQUEST_FIELDS for item in items.values())
    by_kind = {k: items[march[k].number] for k in ("open", "resolved", "rejected", "merged")}
    assert {k: v["status"] for k, v in by_kind.items()} == {
        "open": "open", "resolved": "closed", "rejected": "closed", "merged": "closed"}
    assert by_kind["open"]["status_notes"] == "待受理"
    assert "已清运并消毒" in by_kind["resolved"]["status_notes"]
    assert "不属于受理范围" in by_kind["rejected"]["status_notes"]
    assert march["open"].number in by_kind["merged"]["status_notes"]
    item = by_kind["open"]
    assert item["service_code"] == "infrastructure-light" and item["service_name"] == "路灯"
    assert item["requested_datetime"] == "2019-03-10T09:00:00+08:00"
    assert item["expected_datetime"] == timezone.localtime(march["open"].resolve_due).isoformat()
    assert item["updated_datetime"].endswith("+08:00") and item["address_id"] == GRID1
    assert item["agency_responsible"] == region(GRID1).name
    assert by_kind["resolved"]["agency_responsible"] == region(WLNE).name  # assigned at village level
    assert item["media_url"] == "" and item["lat"] is None and item["long"] is None


def test_get_filters(march, keys):
    wlne = {"api_key": keys[WLNE]}
    m = {k: c.number for k, c in march.items()}
    assert numbers(get("/requests.json", {**wlne, **MARCH_WINDOW})) == [m["merged"], m["rejected"], m["resolved"],
                                                                         m["open"]]  # newest first
    assert numbers(get("/requests.json", {**wlne, **MARCH_WINDOW, "status": "open"})) == [m["open"]]
    assert set(numbers(get("/requests.json", {**wlne, **MARCH_WINDOW, "status": "closed"}))) == {
        m["resolved"], m["rejected"], m["merged"]}
    assert len(numbers(get("/requests.json", {**wlne, **MARCH_WINDOW, "status": "open,closed"}))) == 4
    assert numbers(get("/requests.json", {**wlne, **MARCH_WINDOW, "service_code": "environment-waste"})) == [
        m["resolved"]]
    assert len(numbers(get("/requests.json", {**wlne, **MARCH_WINDOW,
                                              "service_code": "environment-waste,infrastructure-light"}))) == 4
    window = {"start_date": "2019-03-11T00:00:00+08:00", "end_date": "2019-03-12T23:00:00+08:00"}
    assert numbers(get("/requests.json", {**wlne, **window})) == [m["rejected"], m["resolved"]]
    assert numbers(get("/requests.json", {**wlne, "start_date": "2019-03-10T01:00:00Z",
                                          "end_date": "2019-03-10T01:00:00Z"})) == [m["open"]]  # 09:00 +08:00
    assert numbers(get("/requests.json", {**wlne, "start_date": "2019-03-13", "end_date": "2019-03-13"})) == [
        m["merged"]]  # bare dates: the whole day
    assert numbers(get("/requests.json", {**wlne, "start_date": "2019-03-12T00:00:00+08:00"})) == [
        m["merged"], m["rejected"]]  # 90 days from the start
    assert numbers(get("/requests.json", wlne)) == []  # default: the last 90 days
    fresh = new_case(description="今天：路灯不亮")
    assert numbers(get("/requests.json", wlne)) == [fresh.number]
    # service_request_id overrides every other parameter; other villages' numbers are simply not there
    ids = ",".join([m["open"], m["other"], fresh.number, "nonsense"])
    assert set(numbers(get("/requests.json", {**wlne, "service_request_id": ids, "status": "closed"}))) == {
        m["open"], fresh.number}
    assert numbers(get("/requests.json", {**wlne, **MARCH_WINDOW, "region_code": NLXL})) == []
    assert len(numbers(get("/requests.json", {**wlne, **MARCH_WINDOW, "region_code": GRID1}))) == 4
    assert numbers(get("/requests.json", {"api_key": keys[TOWN], **MARCH_WINDOW, "region_code": NLXL})) == [
        m["other"]]


@pytest.mark.parametrize("params, fragments", [
    ({"start_date": "2019-13-01T00:00:00+08:00"}, ("start_date", "格式错误", "ISO 8601")),
    ({"start_date": "yesterday"}, ("start_date", "格式错误", "not a valid")),
    ({"end_date": "2019-03-01 25:00"}, ("end_date", "格式错误")),
    ({"start_date": "2019-01-01", "end_date": "2019-06-01"}, ("90",)),
    ({"start_date": "2019-03-02", "end_date": "2019-02-28T00:00:00+08:00"}, ("end_date", "start_date")),
    ({"status": "pending"}, ("status", "open", "closed")),
])
def test_malformed_filters_answer_400(params, fragments, keys):
    assert_spec_error(get("/requests.json", {"api_key": keys[WLNE], **params}), 400, *fragments)


def test_one_request_and_tokens(march, keys):
    wlne, nlxl = {"api_key": keys[WLNE]}, {"api_key": keys[NLXL]}
    case, other = march["open"], march["other"]
    r = get(f"/requests/{case.number}.json", wlne)
    assert r.status_code == 200 and [i["service_request_id"] for i in r.json()] == [case.number]
    assert set(r.json()[0]) == SPEC_REQUEST_FIELDS
    assert_spec_error(get(f"/requests/{other.number}.json", wlne), 404, "not found")
    assert_spec_error(get(f"/requests/{case.number}.json", nlxl), 404, "not found")
    assert get(f"/requests/{other.number}.json", nlxl).status_code == 200
    assert get(f"/tokens/{case.token}.json", wlne).json() == [{"service_request_id": case.number, "token": case.token}]
    assert_spec_error(get(f"/tokens/{case.token}.json", nlxl), 404, "token")
    assert_spec_error(get(f"/tokens/{other.token}.json", wlne), 404, "token")
    for forged in ("987654321", "0", "-1", "abc", "%3Cscript%3E", "9" * 40, "x" * 300):
        assert_spec_error(get(f"/requests/{forged}.json", wlne), 404)
        assert_spec_error(get(f"/tokens/{forged}.json", wlne), 404)
    assert_spec_error(Client().post(BASE + f"/requests/{case.number}.json", wlne), 405)


def test_no_reporter_name_or_phone_in_any_answer(keys):
    description = f"我是{LAST}{FIRST}，电话{PHONE}，村口路灯坏了"
    r = post(good_report(keys[WLNE], first_name=FIRST, last_name=LAST, phone=PHONE, description=description))
    assert r.status_code == 200
    number, token = r.json()[0]["service_request_id"], r.json()[0]["token"]
    answers = [r, get("/requests.json", {"api_key": keys[WLNE]}), get(f"/requests/{number}.json",
                                                                          {"api_key": keys[WLNE]}),
               get(f"/tokens/{token}.json", {"api_key": keys[WLNE]}),
               get("/requests.json", {"api_key": keys[TOWN], "service_request_id": number})]
    shown = [item["description"] for item in answers[2].json()]
    assert shown == ["我是****,电话139****5678,村口路灯坏了"]  # NFKC at intake: full-width commas
    for answer in answers:
        text = answer.content.decode()
        assert answer.status_code == 200 and PHONE not in text and f"{LAST}{FIRST}" not in text, text
        assert FIRST not in text


def test_get_list_costs_the_same_queries_for_more_rows(keys):
    wlne = {"api_key": keys[WLNE]}
    client = Client()
    new_case()
    get("/requests.json", wlne, client=client)
    with CaptureQueriesContext(connection) as one:
        assert len(get("/requests.json", wlne, client=client).json()) == 1
    for _ in range(5):
        new_case(WLNE)
    with CaptureQueriesContext(connection) as six:
        assert len(get("/requests.json", wlne, client=client).json()) == 6
    assert len(one.captured_queries) == len(six.captured_queries) <= 3


# --------------------------------------------------------------------------- the key matrix


OPEN311 = [e for e in testing.walk() if e.route.startswith("open311/")]
PAIRS = [(WLNE, NLXL), (NLXL, WLNE)]


def test_the_walk_finds_every_open311_route():
    """A new route under open311/ must be taught to the matrix below (OBJECT_KEYS) before it ships."""
    assert {e.name for e in OPEN311} == {"open311-discovery", "open311-services", "open311-service",
                                         "open311-requests", "open311-request", "open311-token"}
    assert all(getattr(e.callback, "csrf_exempt", False) and e.callback.login_required is False for e in OPEN311)


OBJECT_KEYS = {"service_request_id": "number", "token": "token"}  # URL kwarg → the Case field it names


def mentions(text, village):
    return [s for s in (village.code, village.short_name) if s in text]


def test_keys_see_only_their_own_village(keys):
    """For each key of the pair: the other village's request is a 404 on every URL naming it, lists hold
    only the own village, and no answer mentions the other village; without a key, no records."""
    cases = {code: new_case(grid_of(code).code, description="矩阵：路灯不亮") for code in (WLNE, NLXL)}
    problems = []
    for own_code, other_code in PAIRS:
        key, own, other = keys[own_code], region(own_code), region(other_code)
        for e in OPEN311:
            kwargs = [k for k in e.object_kwargs if k in OBJECT_KEYS]
            if kwargs:
                (kwarg,) = kwargs
                theirs = get(e.url(**{kwarg: getattr(cases[other_code], OBJECT_KEYS[kwarg])})[len(BASE):],
                             {"api_key": key})
                mine = get(e.url(**{kwarg: getattr(cases[own_code], OBJECT_KEYS[kwarg])})[len(BASE):],
                           {"api_key": key})
                anonymous = get(e.url(**{kwarg: getattr(cases[own_code], OBJECT_KEYS[kwarg])})[len(BASE):])
                if theirs.status_code != 404 or mine.status_code != 200 or anonymous.status_code != 403:
                    problems.append(f"{own_code} {e.route}: theirs {theirs.status_code}, mine {mine.status_code}, "
                                    f"no key {anonymous.status_code}")
                answers = [theirs, mine, anonymous]
            else:
                url = e.url_for_any()[len(BASE):]
                answers = [get(url, {"api_key": key}), get(url, {"api_key": key, "region_code": other_code}), get(url)]
                if e.name == "open311-requests":
                    listed = {i["service_request_id"] for i in answers[0].json()}
                    if cases[own_code].number not in listed or cases[other_code].number in listed:
                        problems.append(f"{own_code} {e.route}: lists {listed}")
                    if answers[1].json() != [] or answers[2].status_code != 403:
                        problems.append(f"{own_code} {e.route}: region_code=other or no key shows records")
            for answer in answers:
                told = mentions(answer.content.decode(), other)
                if told:
                    problems.append(f"{own_code} {e.route} mentions {other.name}: {told}")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- issuing keys


def test_management_command_issues_a_key(db):
    out, err = io.StringIO(), io.StringIO()
    call_command("open311", "key", "村务公众号", "--region", WLNE, stdout=out, stderr=err)
    plain = out.getvalue().strip()
    key = actions.key_for(plain)
    assert key is not None and key.region.code == WLNE and key.name == "村务公众号"
    assert "只显示这一次" in err.getvalue()
    entry = AuditEntry.objects.get(action="cases.create_api_key", object_id=str(key.pk))
    assert entry.channel == "cli" and entry.actor_label == "system" and plain not in json.dumps(entry.changes)
    from django.core.management.base import CommandError
    with pytest.raises(CommandError, match="不存在"):
        call_command("open311", "key", "x", "--region", "999999999999", stdout=out, stderr=err)


# --------------------------------------------------------------------------- the per-process memo of lookups


@pytest.fixture
def committed_keys(django_db_setup, django_db_blocker):
    """Keys made with no test transaction around: only reads in autocommit use the lookups memo. What the
    test writes is committed and removed at the end (the audit log is append-only and keeps its entries)."""
    from yiwang.cases.open311 import lookups

    django_db_blocker.unblock()
    lookups.forget()
    actions.ensure_default_categories(by=None)
    light = Category.objects.get(code="infrastructure-light")
    policy = {"name": light.name, "parent": light.parent, "accept_hours": light.accept_hours,
              "resolve_hours": light.resolve_hours, "active": light.active}
    cases_before = set(Case.objects.values_list("pk", flat=True))
    made = {code: actions.create_api_key(name=f"缓存测试 {code}", region=region(code), by=None)
            for code in (WLNE, TOWN)}
    try:
        yield made
    finally:
        Case.objects.exclude(pk__in=cases_before).delete()
        ApiKey.objects.filter(pk__in=[key.pk for key, _ in made.values()]).delete()
        actions.save_category(code=light.code, by=None, **policy)
        lookups.forget()
        django_db_blocker.restore()


def test_a_deactivated_key_is_refused_at_once_though_lookups_are_remembered(committed_keys):
    key, plain = committed_keys[WLNE]
    assert post(good_report(plain)).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert post(good_report(plain, description="第二次：路灯仍不亮")).status_code == 200
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    # the key, the services and the region came from the memo: no SELECT of them on the second post
    assert "cases_apikey" not in sql and "cases_category" not in sql and "areas_region" not in sql, sql
    actions.deactivate_api_key(key, by=None)
    assert_spec_error(post(good_report(plain, description="停用后：路灯不亮")), 403, "api_key")
    assert Case.objects.filter(description="停用后：路灯不亮").count() == 0
    with pytest.raises(actions.ActionError, match="已停用"):
        actions.deactivate_api_key(ApiKey.objects.get(pk=key.pk), by=None)


def test_a_changed_policy_applies_to_the_next_post_in_this_process(committed_keys):
    _, plain = committed_keys[WLNE]
    assert post(good_report(plain)).status_code == 200  # the services are remembered now
    light = Category.objects.get(code="infrastructure-light")
    actions.save_category(code=light.code, name=light.name, parent=light.parent, accept_hours=3,
                          resolve_hours=light.resolve_hours, by=None)
    number = post(good_report(plain, description="新时限：路灯不亮")).json()[0]["service_request_id"]
    case = Case.objects.get(number=number)
    assert case.accept_due - case.reported_at == datetime.timedelta(hours=3)
    actions.save_category(code=light.code, name=light.name, parent=light.parent, active=False, by=None)
    assert_spec_error(post(good_report(plain, description="停用分类")), 400, "service_code")


def test_other_processes_see_a_deactivation_within_the_memo_lifetime(committed_keys):
    """A second server process remembers the key; after OPEN311_LOOKUP_SECONDS it is refused there too."""
    from yiwang.cases.open311 import lookups

    key, plain = committed_keys[TOWN]
    with override_settings(OPEN311_LOOKUP_SECONDS=0.5):
        lookups._memo = None  # a memo with the short lifetime, as a process started with the setting has
        try:
            assert lookups.active_key(plain) == key
            ApiKey.objects.filter(pk=key.pk).update(active=False)  # as another process would: no signal here
            assert lookups.active_key(plain) == key  # still remembered
            time.sleep(0.6)
            assert lookups.active_key(plain) is None
        finally:
            lookups._memo = None


# --------------------------------------------------------------------------- placing a point by the regions' boundaries


def _square(lon, lat, half=0.01):
    ring = [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half], [lon - half, lat + half],
            [lon - half, lat - half]]
    return {"type": "Polygon", "coordinates": [ring]}


def test_a_point_without_a_region_code_lands_in_the_grid_whose_boundary_holds_it(keys):
    from yiwang.areas.actions import update_region

    grid1 = region(GRID1)
    grid2 = Region.objects.filter(parent__code=WLNE, kind=Region.Kind.GRID).exclude(code=GRID1).order_by("code").first()
    update_region(grid1, by=None, boundary=_square(109.70, 39.30))
    update_region(grid2, by=None, boundary={"type": "Feature", "properties": {}, "geometry": _square(109.80, 39.30)})
    update_region(region(WLNE), by=None, boundary=_square(109.75, 39.30, half=0.2))  # the village around both
    report = {**good_report(keys[TOWN]), "region_code": "", "lat": "39.301", "long": "109.805"}
    r = post(report)
    assert r.status_code == 200, r.content
    assert Case.objects.get(number=r.json()[0]["service_request_id"]).region == grid2
    r = post({**report, "lat": "39.295", "long": "109.701", "description": "一号网格内：路灯"})
    assert Case.objects.get(number=r.json()[0]["service_request_id"]).region == grid1
    r = post({**report, "lat": "39.40", "long": "109.75", "description": "村内、网格外：路灯"})  # in the village only
    assert Case.objects.get(number=r.json()[0]["service_request_id"]).region == region(WLNE)
    before = counts()
    assert_spec_error(post({**report, "lat": "41.0", "long": "111.0"}), 400, "region_code", "边界")
    assert_spec_error(post({**report, "lat": "abc", "long": "111.0"}), 400)  # a bad number: create_case's message
    # a key of the other village: the point lies outside its region, so it is not placed there
    r = post({**good_report(keys[NLXL]), "region_code": "", "lat": "39.301", "long": "109.805"})
    assert r.status_code == 200 and Case.objects.get(number=r.json()[0]["service_request_id"]).region == region(NLXL)
    assert counts()[0] == before[0] + 1
