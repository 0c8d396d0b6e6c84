"""The economy REST API: lists and reads within scope (a secretary sees only the own village; another
village's entry, project, pool or run is 404, for reads and for every POST), income entries created
through ``record_income`` and reversed so the month nets out, bad input answered 400 with the Chinese
message naming the field and nothing written, a dividend preview that writes nothing, a run proposed,
approved (403 for a secretary) and reversed through the API, the village statement, and the OpenAPI
schema still generated without errors.

The records each test needs are made here with ``economy.actions`` (by the system), so the tests do not
depend on the demo's economy data."""
import datetime
from decimal import Decimal

import pytest

from yiwang.areas.models import Region
from yiwang.core.models import AuditEntry
from yiwang.economy import actions, ledger
from yiwang.economy.models import DividendAllocation, DividendRun, IncomeEntry, Project

TOWN, WLNE, NLXL = "150627105", "150627105215", "150627105214"
YEAR = datetime.date.today().year - 1


def region(code):
    return Region.objects.get(code=code)


def third_village():
    """A village of the town other than the two the scope tests use."""
    return (Region.objects.filter(parent__code=TOWN, kind=Region.Kind.VILLAGE).exclude(code__in=[WLNE, NLXL])
            .order_by("code").first())


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def project_in(code, suffix="T1"):
    return actions.create_project(village=region(code), code=f"T-{code}-{suffix}", name=f"测试项目{suffix}",
                                  kind="planting", start_date=datetime.date(2021, 3, 1), by=None)


def entry_in(code, amount="1000.00", month=datetime.date(YEAR, 5, 1), voucher="T-1", **kw):
    return actions.record_income(village=region(code), month=month, category="operating", amount=amount,
                                 source_document=voucher, by=None, **kw)


@pytest.fixture
def pool(db):
    """A pool hosted by 乌兰淖尔 with one other village (never 纳林希里): 2/3 and 1/3 of the capital."""
    pool = actions.create_pool(code="T-POOL-1", name="测试抱团项目", host=region(WLNE),
                               start_date=datetime.date(2021, 1, 1), total_capital="300000.00", retained_percent="10",
                               by=None)
    actions.add_pool_share(pool, village=region(WLNE), capital="200000.00", joined_on=datetime.date(2021, 1, 1), by=None)
    actions.add_pool_share(pool, village=third_village(), capital="100000.00", joined_on=datetime.date(2021, 1, 1),
                           by=None)
    return pool


def writes():
    return (IncomeEntry.objects.count(), Project.objects.count(), DividendRun.objects.count(),
            DividendAllocation.objects.count(), AuditEntry.objects.filter(allowed=True).count())


# --------------------------------------------------------------------------- scope


def test_lists_hold_only_the_own_village(login, demo_user):
    mine, theirs = project_in(WLNE), project_in(NLXL)
    entry_in(WLNE, project=mine), entry_in(NLXL, project=theirs)
    client = login("wlne_secretary")
    user = demo_user("wlne_secretary")

    data = client.get("/api/economy-projects/").json()
    codes = {p["code"] for p in data["results"]}
    assert mine.code in codes and theirs.code not in codes
    assert data["count"] == Project.objects.visible_to(user).count()
    assert {p["village"] for p in data["results"]} == {WLNE}

    data = client.get("/api/income-entries/").json()
    assert data["count"] == IncomeEntry.objects.visible_to(user).count() > 0
    assert {e["village"] for e in data["results"]} == {WLNE}
    assert NLXL not in str(data) and "纳林希里" not in str(data)
    # the list page's filters work in the API too: by project (code of an own project only)
    data = client.get("/api/income-entries/", {"project": mine.pk}).json()
    assert data["count"] == 1 and data["results"][0]["project"] == mine.code
    assert client.get("/api/income-entries/", {"project": theirs.pk}).status_code == 400


def test_another_villages_entry_and_project_are_404_and_unchanged(login):
    theirs_project = project_in(NLXL)
    theirs = entry_in(NLXL)
    client = login("wlne_secretary")
    before = writes()
    assert client.get(f"/api/economy-projects/{theirs_project.pk}/").status_code == 404
    assert client.get(f"/api/income-entries/{theirs.pk}/").status_code == 404
    assert post(client, f"/api/income-entries/{theirs.pk}/reverse/", {"reason": "越权"}).status_code == 404
    assert post(client, f"/api/income-entries/{theirs.pk}/review/").status_code == 404
    assert client.get(f"/api/income-entries/{theirs.pk}/review/").status_code == 404
    assert writes() == before
    assert not IncomeEntry.objects.filter(reverses=theirs).exists()


def test_another_villages_pool_and_run_are_404(login, pool):
    nlxl_pool = actions.create_pool(code="T-POOL-2", name="测试抱团二", host=region(NLXL),
                                    start_date=datetime.date(2021, 1, 1), total_capital="50000.00", by=None)
    actions.add_pool_share(nlxl_pool, village=region(NLXL), capital="50000.00", joined_on=datetime.date(2021, 1, 1),
                           by=None)
    run = actions.propose_dividend_run(nlxl_pool, year=YEAR, distributable="1000.00", by=None)
    client = login("wlne_secretary")
    before = writes()
    assert client.get(f"/api/pools/{nlxl_pool.pk}/").status_code == 404
    assert post(client, f"/api/pools/{nlxl_pool.pk}/preview/", {"year": YEAR, "distributable": "1"}).status_code == 404
    assert post(client, f"/api/pools/{nlxl_pool.pk}/runs/", {"year": YEAR, "distributable": "1"}).status_code == 404
    assert client.get(f"/api/dividend-runs/{run.pk}/").status_code == 404
    assert post(client, f"/api/dividend-runs/{run.pk}/approve/").status_code == 404
    assert post(client, f"/api/dividend-runs/{run.pk}/reverse/", {"reason": "越权"}).status_code == 404
    assert writes() == before
    ids = {p["id"] for p in client.get("/api/pools/").json()["results"]}
    assert pool.pk in ids and nlxl_pool.pk not in ids


def test_a_pool_shows_only_the_shares_the_user_sees(login, pool):
    """A share lies under its village and under the pool's host: the host sees every participant, a
    participant sees the pool and its own share only."""
    other = third_village()
    hosted = login("wlne_secretary").get(f"/api/pools/{pool.pk}/").json()
    assert hosted["host"] == WLNE and hosted["total_capital"] == "300000.00"
    assert sorted(s["village"] for s in hosted["shares"]) == sorted([WLNE, other.code])

    elsewhere = actions.create_pool(code="T-POOL-3", name="测试抱团三", host=other, start_date=datetime.date(2021, 1, 1),
                                    total_capital="90000.00", by=None)
    actions.add_pool_share(elsewhere, village=other, capital="60000.00", joined_on=datetime.date(2021, 1, 1), by=None)
    actions.add_pool_share(elsewhere, village=region(WLNE), capital="30000.00", joined_on=datetime.date(2021, 1, 1),
                           by=None)
    seen = login("wlne_secretary").get(f"/api/pools/{elsewhere.pk}/").json()
    assert seen["host"] == other.code
    assert [(s["village"], s["capital"]) for s in seen["shares"]] == [(WLNE, "30000.00")]
    town = login("town_admin").get(f"/api/pools/{elsewhere.pk}/").json()
    assert sorted(s["village"] for s in town["shares"]) == sorted([WLNE, other.code])
    # the same for a run's allocations
    run = actions.propose_dividend_run(elsewhere, year=YEAR, distributable="900.00", by=None)
    seen = login("wlne_secretary").get(f"/api/dividend-runs/{run.pk}/").json()
    assert [(a["village"], a["amount"]) for a in seen["allocations"]] == [(WLNE, "300.00")]


# --------------------------------------------------------------------------- the ledger


def statement_month(client, code, month):
    data = client.get("/api/economy/statement/", {"village": code, "year": month.year}).json()
    return next(m for m in data["months"] if m["month"] == f"{month:%Y-%m}")


def test_create_an_entry_then_reverse_it_and_the_month_nets_out(login, demo_user):
    client = login("wlne_secretary")
    month = datetime.date(YEAR, 5, 1)
    before = statement_month(client, WLNE, month)

    r = post(client, "/api/income-entries/", {"village": WLNE, "month": f"{YEAR}-05", "category": "operating",
                                              "amount": "12500.50", "source_document": "API-凭证-1", "note": "乌驴销售"})
    assert r.status_code == 201, r.json()
    created = r.json()
    assert (created["village"], created["month"], created["category"], created["amount"]) == (
        WLNE, f"{YEAR}-05", "operating", "12500.50")
    entry = IncomeEntry.objects.get(pk=created["id"])
    assert entry.amount == Decimal("12500.50") and entry.entered_by == demo_user("wlne_secretary")
    after = statement_month(client, WLNE, month)
    assert Decimal(after["operating"]) - Decimal(before["operating"]) == Decimal("12500.50")

    r = post(client, f"/api/income-entries/{entry.pk}/reverse/", {"reason": "录错了"})
    assert r.status_code == 201, r.json()
    reversal = r.json()
    assert reversal["amount"] == "-12500.50" and reversal["reverses"] == entry.pk
    assert client.get(f"/api/income-entries/{entry.pk}/").json()["reversed_by"] == reversal["id"]
    assert statement_month(client, WLNE, month) == before
    assert ledger.statement(region(WLNE), YEAR)["months"][4][1]["operating"] == Decimal(before["categories"]["operating"])
    # an entry is reversed once only, and the original stays as written
    r = post(client, f"/api/income-entries/{entry.pk}/reverse/", {"reason": "再冲一次"})
    assert r.status_code == 400 and r.json()["detail"] == "该分录已冲销"
    assert IncomeEntry.objects.get(pk=entry.pk).amount == Decimal("12500.50")


@pytest.mark.parametrize("change, field, words", [
    ({"amount": "12.345"}, "amount", "两位小数"),
    ({"amount": "0"}, "amount", "大于零"),
    ({"amount": "-5.00"}, "amount", "大于零"),
    ({"amount": "一万"}, "amount", "不是数字"),
    ({"amount": ""}, "amount", "不能为空"),
    ({"month": "2999-01"}, "month", "不能晚于本月"),
    ({"month": "五月"}, "month", "格式错误"),
    ({"category": "lottery"}, "category", "收入类别"),
    ({"village": NLXL}, "village", "嘎查村"),
    ({"village": TOWN}, "village", "嘎查村"),
    ({"project": "NO-SUCH"}, "project", "项目"),
])
def test_bad_entry_input_is_400_in_chinese_and_nothing_is_written(login, change, field, words):
    client = login("wlne_secretary")
    body = {"village": WLNE, "month": f"{YEAR}-05", "category": "operating", "amount": "100.00",
            "source_document": "API-BAD", **change}
    before = writes()
    r = post(client, "/api/income-entries/", body)
    assert r.status_code == 400, r.json()
    assert r.json()["field"] == field and words in r.json()["detail"], r.json()
    assert writes() == before


def test_a_project_of_another_village_is_refused_for_an_entry(login):
    theirs = project_in(NLXL)
    mine_elsewhere = project_in(third_village().code)
    client = login("town_admin")
    r = post(client, "/api/income-entries/", {"village": WLNE, "month": f"{YEAR}-05", "category": "operating",
                                              "amount": "100.00", "project": mine_elsewhere.code})
    assert r.status_code == 400 and r.json()["field"] == "project" and "不属于" in r.json()["detail"]
    # for the secretary the other village's project does not exist at all
    r = post(login("wlne_secretary"), "/api/income-entries/", {"village": WLNE, "month": f"{YEAR}-05",
                                                               "category": "operating", "amount": "1",
                                                               "project": theirs.code})
    assert r.status_code == 400 and r.json()["field"] == "project"
    assert not IncomeEntry.objects.filter(project__in=[theirs, mine_elsewhere]).exists()


def test_the_same_voucher_twice_is_refused(login):
    client = login("wlne_secretary")
    body = {"village": WLNE, "month": f"{YEAR}-06", "category": "contract", "amount": "800", "source_document": "V-9"}
    assert post(client, "/api/income-entries/", body).status_code == 201
    r = post(client, "/api/income-entries/", body)
    assert r.status_code == 400 and r.json()["field"] == "source_document" and "不能重复录入" in r.json()["detail"]


def test_review_needs_the_approver(login):
    entry = entry_in(WLNE, voucher="REV-1")
    secretary = login("wlne_secretary")
    assert secretary.get(f"/api/income-entries/{entry.pk}/review/").json() == {
        "reviewed": False, "reviewed_by": None, "reviewed_at": None, "can_review": False}
    assert post(secretary, f"/api/income-entries/{entry.pk}/review/").status_code == 403
    assert IncomeEntry.objects.get(pk=entry.pk).reviewed_at is None
    admin = login("town_admin")
    assert admin.get(f"/api/income-entries/{entry.pk}/review/").json()["can_review"] is True
    r = post(admin, f"/api/income-entries/{entry.pk}/review/")
    assert r.status_code == 200 and r.json()["reviewed"] is True and r.json()["reviewed_by"] == "town_admin"
    assert post(admin, f"/api/income-entries/{entry.pk}/review/").status_code == 400  # once only


# --------------------------------------------------------------------------- projects


def test_create_a_project_through_the_api(login):
    client = login("wlne_secretary")
    body = {"village": WLNE, "code": "T-API-01", "name": "光伏电站", "kind": "光伏", "start_date": "2022-04-01",
            "is_base": False, "product": "", "location": "三社"}
    r = post(client, "/api/economy-projects/", body)
    assert r.status_code == 201, r.json()
    assert (r.json()["code"], r.json()["village"], r.json()["kind"], r.json()["status"]) == (
        "T-API-01", WLNE, "solar", "operating")
    assert Project.objects.get(code="T-API-01").village.code == WLNE
    before = writes()
    r = post(client, "/api/economy-projects/", body)
    assert r.status_code == 400 and r.json()["field"] == "code" and "已存在" in r.json()["detail"]
    r = post(client, "/api/economy-projects/", {**body, "code": "T-API-02", "village": NLXL})
    assert r.status_code == 400 and r.json()["field"] == "village"
    r = post(client, "/api/economy-projects/", {**body, "code": "T-API-03", "end_date": "2020-01-01"})
    assert r.status_code == 400 and r.json()["field"] == "end_date" and "早于" in r.json()["detail"]
    r = post(client, "/api/economy-projects/", {**body, "code": "T-API-04", "zone": "没有这个园区"})
    assert r.status_code == 400 and r.json()["field"] == "zone"
    assert writes() == before


# --------------------------------------------------------------------------- dividends


def test_preview_answers_the_allocation_and_writes_nothing(login, pool):
    admin, secretary = login("town_admin"), login("wlne_secretary")
    before = writes()
    r = post(admin, f"/api/pools/{pool.pk}/preview/", {"year": str(YEAR), "distributable": "100000.01"})
    assert r.status_code == 200, r.json()
    data = r.json()
    assert data["retained"] == "10000.00" and data["payout"] == "90000.01"
    amounts = {p["village"]: Decimal(p["amount"]) for p in data["parts"]}
    assert sum(amounts.values()) == Decimal("90000.01") and data["parts_hidden"] == 0
    assert amounts[WLNE] == Decimal("60000.01")  # 2/3 of 9,000,001 cents, the left-over cent to the larger remainder
    assert writes() == before
    # bad input: the Chinese message names the field, still nothing written
    r = post(admin, f"/api/pools/{pool.pk}/preview/", {"year": str(YEAR), "distributable": "1.001"})
    assert r.status_code == 400 and r.json()["field"] == "distributable" and "两位小数" in r.json()["detail"]
    r = post(admin, f"/api/pools/{pool.pk}/preview/", {"distributable": "1"})
    assert r.status_code == 400 and r.json()["field"] == "year"
    # a participant's secretary may not run (nor preview) a pool that spans another village
    assert post(secretary, f"/api/pools/{pool.pk}/preview/", {"year": str(YEAR), "distributable": "1.00"}).status_code == 403
    assert writes() == before


def test_propose_approve_and_reverse_a_run_through_the_api(login, pool):
    admin, secretary = login("town_admin"), login("wlne_secretary")
    other = third_village()

    r = post(admin, f"/api/pools/{pool.pk}/runs/", {"year": str(YEAR), "distributable": "30000.00"})
    assert r.status_code == 201, r.json()
    run = r.json()
    assert run["status"] == "draft" and run["payout"] == "27000.00" and run["post_month"] == f"{YEAR}-12"
    assert {a["village"]: a["amount"] for a in run["allocations"]} == {WLNE: "18000.00", other.code: "9000.00"}
    r = post(admin, f"/api/pools/{pool.pk}/runs/", {"year": str(YEAR), "distributable": "1.00"})
    assert r.status_code == 400 and r.json()["field"] == "year"  # one effective run a year

    # the host's secretary sees the run with every allocation (they lie under the host too), and may not approve it
    seen = secretary.get(f"/api/dividend-runs/{run['id']}/").json()
    assert sorted(a["village"] for a in seen["allocations"]) == sorted([WLNE, other.code])
    assert secretary.get(f"/api/dividend-runs/{run['id']}/approve/").json() == {"status": "draft", "can_approve": False}
    entries = IncomeEntry.objects.count()
    r = post(secretary, f"/api/dividend-runs/{run['id']}/approve/")
    assert r.status_code == 403
    assert DividendRun.objects.get(pk=run["id"]).status == "draft" and IncomeEntry.objects.count() == entries

    assert admin.get(f"/api/dividend-runs/{run['id']}/approve/").json()["can_approve"] is True
    r = post(admin, f"/api/dividend-runs/{run['id']}/approve/")
    assert r.status_code == 200 and r.json()["status"] == "posted", r.json()
    posted = {a["village"]: a["entry"] for a in r.json()["allocations"]}
    assert IncomeEntry.objects.get(pk=posted[WLNE]).amount == Decimal("18000.00")
    assert IncomeEntry.objects.get(pk=posted[other.code]).category == "investment"
    assert post(admin, f"/api/dividend-runs/{run['id']}/approve/").status_code == 400  # posted once only
    # an entry posted by a run is reversed by reversing the run
    r = post(admin, f"/api/income-entries/{posted[WLNE]}/reverse/", {"reason": "试试"})
    assert r.status_code == 400 and "分红" in r.json()["detail"]

    r = post(admin, f"/api/dividend-runs/{run['id']}/reverse/", {"reason": ""})
    assert r.status_code == 400 and r.json()["field"] == "reason" and DividendRun.objects.get(pk=run["id"]).status == "posted"
    r = post(admin, f"/api/dividend-runs/{run['id']}/reverse/", {"reason": "可分配收益算错"})
    assert r.status_code == 200, r.json()
    reversing = r.json()
    assert reversing["reverses"] == run["id"] and reversing["payout"] == "-27000.00"
    assert DividendRun.objects.get(pk=run["id"]).status == "reversed"
    for code in (WLNE, other.code):
        net = sum(IncomeEntry.objects.filter(village__code=code, source_document=f"分红-{run['id']}")
                  .values_list("amount", flat=True))
        assert net == 0, code


def test_a_secretary_may_withdraw_nothing_and_reverse_nothing(login, pool):
    run = actions.propose_dividend_run(pool, year=YEAR, distributable="3000.00", by=None)
    r = post(login("wlne_secretary"), f"/api/dividend-runs/{run.pk}/reverse/", {"reason": "撤回"})
    assert r.status_code == 403 and DividendRun.objects.get(pk=run.pk).status == "draft"


# --------------------------------------------------------------------------- statement and schema


def test_statement_of_the_own_village_only(login):
    entry_in(WLNE, amount="321.09", voucher="ST-1")
    client = login("wlne_secretary")
    r = client.get("/api/economy/statement/", {"village": WLNE, "year": YEAR})
    assert r.status_code == 200
    data = r.json()
    st = ledger.statement(region(WLNE), YEAR)
    assert data["village"] == WLNE and data["total"] == f"{st['total']:.2f}" and len(data["months"]) == 12
    assert sum(Decimal(m["total"]) for m in data["months"]) == Decimal(data["total"])
    assert Decimal(data["months"][4]["categories"]["operating"]) >= Decimal("321.09")
    for code in (NLXL, TOWN, "999999999999"):
        r = client.get("/api/economy/statement/", {"village": code, "year": YEAR})
        assert r.status_code == 404 and NLXL not in r.content.decode()
    r = client.get("/api/economy/statement/", {"year": YEAR})
    assert r.status_code == 400 and r.json()["field"] == "village"
    r = client.get("/api/economy/statement/", {"village": WLNE, "year": "去年"})
    assert r.status_code == 400 and r.json()["field"] == "year"


def test_schema_generates_without_errors(db):
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    assert not GENERATOR_STATS._error_cache, dict(GENERATOR_STATS._error_cache)
    ours = [w for w in GENERATOR_STATS._warn_cache if "economy/api" in w]
    assert not ours, ours
    paths = schema["paths"]
    for p in ("/api/economy-projects/", "/api/income-entries/{id}/reverse/", "/api/income-entries/{id}/review/",
              "/api/pools/{id}/preview/", "/api/pools/{id}/runs/", "/api/dividend-runs/{id}/approve/",
              "/api/dividend-runs/{id}/reverse/", "/api/village-pairings/", "/api/enterprises/",
              "/api/economy/statement/"):
        assert p in paths, p
