"""The ledger pages of the economy module, on the demo town plus a ledger written through
``economy.actions`` in the test (乌兰淖尔 and 纳林希里, 2018 in full and 2019 to June): the overview, a
village's statement, the income ledger and its entry form and entry page (冲销 / 更正 / 审核), the
tier history with designations and the forecast — each page's figures equal what ``economy.ledger`` /
``tiers`` / ``forecast`` compute, a secretary sees only the own village, bad input is refused in
Chinese with nothing written, and reviewing or designating needs ``economy.approve``."""
import datetime
import json
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.test import Client
from django.test.utils import CaptureQueriesContext

from yiwang.areas.models import Region
from yiwang.core.models import AuditEntry
from yiwang.economy import actions, forecast, ledger, tiers
from yiwang.economy.models import IncomeEntry, TierDesignation

TOWN, WLNE, NLXL = "150627105", "150627105215", "150627105214"
NLXL_NAME = "纳林希里"
# years before the demo's own ledger, so the figures here are the test's entries alone
FULL, PART = 2018, 2019
ASOF = f"{PART}-06-30"


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def region(code):
    return Region.objects.get(code=code)


def yuan(amount):
    return f"{amount:,.2f}"


def body(response):
    return response.content.decode()


def month_total(village, month):
    return IncomeEntry.objects.filter(village=village, month=month).aggregate(s=Sum("amount"))["s"] or Decimal("0.00")


@pytest.fixture
def books(db):
    """A ledger for two villages: 乌兰淖尔 earns 50,000.25 a month of operating income in 2018 (a
    demonstration village), 纳林希里 100,000 (over the 百万 line) plus a subsidy; both earn in 2019 to June."""
    wlne, nlxl = region(WLNE), region(NLXL)
    for m in range(1, 13):
        actions.record_income(village=wlne, month=f"{FULL}-{m:02d}", category="operating", amount="50000.25",
                              source_document=f"T-W-18{m:02d}", by=None)
        actions.record_income(village=nlxl, month=f"{FULL}-{m:02d}", category="operating", amount="100000",
                              source_document=f"T-N-18{m:02d}", by=None)
    actions.record_income(village=nlxl, month=f"{FULL}-06", category="subsidy", amount="8888.88", by=None)
    actions.record_income(village=wlne, month=f"{FULL}-12", category="investment", amount="1234.56", by=None)
    for m in range(1, 7):
        actions.record_income(village=wlne, month=f"{PART}-{m:02d}", category="operating", amount="60000", by=None)
        actions.record_income(village=nlxl, month=f"{PART}-{m:02d}", category="operating", amount="90000", by=None)
    return wlne, nlxl


# --------------------------------------------------------------------------- overview


@pytest.mark.parametrize("username", ["town_admin", "wlne_secretary"])
def test_overview_shows_what_the_tiers_compute(username, books, demo_user):
    user = demo_user(username)
    r = client_for(user).get("/economy/", {"year": FULL})
    assert r.status_code == 200
    html, region_ = body(r), r.context["region"]
    expected = {t.village.code: t for t in tiers.tiers_for(region_, FULL)}
    rows = {row["village"].code: row for row in r.context["rows"]}
    assert set(rows) == set(expected)
    for code, t in expected.items():
        assert rows[code]["income"] == yuan(t.income)
        assert rows[code]["tier"] == t.tier and rows[code]["million"] == t.is_million
    wlne_row = rows[WLNE]
    assert wlne_row["income"] == "601,237.56" and wlne_row["tier"] == "demonstration"
    assert "601,237.56" in html and f"/economy/villages/{WLNE}/?year={FULL}" in html
    # ranks follow income, highest first
    incomes = [expected[row["village"].code].income for row in r.context["rows"]]
    assert incomes == sorted(incomes, reverse=True) and r.context["rows"][0]["rank"] == 1
    # the tier counts and the movement table are tiers.counts / tiers.movement
    counts = tiers.counts(region_, FULL)
    assert [n for _, n, _ in r.context["tier_counts"]] == [counts["demonstration"], counts["ordinary"], counts["weak"]]
    moves = tiers.movement(region_, FULL)
    order = ["demonstration", "ordinary", "weak"]
    table = [cells for _, cells in r.context["movement"]]
    assert table == [[moves.get((a, b), 0) for b in order] for a in order]
    # the chart's data sits in a json_script, one bar per village, in 万元
    data = json.loads(re.search(r'<script id="economy-income-data" type="application/json">(.*?)</script>', html,
                                re.DOTALL)[1])
    assert len(data["names"]) == len(expected)
    assert data["values"][data["names"].index("乌兰淖尔村")] == "60.12"
    assert "vendor/echarts/echarts.min.js" in html and "economy/income-chart.js" in html
    assert f"/insights/metrics/?period={FULL}" in html
    if username == "wlne_secretary":
        assert set(rows) == {WLNE} and NLXL_NAME not in html and NLXL not in html
    else:
        assert rows[NLXL]["million"] and r.context["million_count"] >= 1


def test_overview_defaults_to_the_latest_finished_year(books, demo_user):
    r = client_for(demo_user("wlne_secretary")).get("/economy/")
    last_december = IncomeEntry.objects.filter(village__code=WLNE, month__month=12).order_by("-month").first()
    assert r.context["year"] == last_december.month.year
    # a year entered only to June says so: its tiers are year-to-date
    r = client_for(demo_user("wlne_secretary")).get("/economy/", {"year": PART})
    assert r.context["partial_through"] == 6 and 'id="partial-year"' in body(r)
    assert client_for(demo_user("wlne_secretary")).get("/economy/", {"year": FULL}).context["partial_through"] is None


def test_overview_queries_do_not_grow_with_villages(books, demo_user):
    """The town (28 villages) costs the same queries as one village: aggregates, not a query per village."""
    def count(username):
        client = client_for(demo_user(username))
        client.get("/economy/", {"year": FULL})
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/economy/", {"year": FULL}).status_code == 200
        return len(ctx.captured_queries)

    town, village = count("town_admin"), count("wlne_secretary")
    assert len(tiers.villages_under(region(TOWN))) > 20
    assert town == village and town <= 20


# --------------------------------------------------------------------------- statement


@pytest.mark.parametrize("username", ["town_admin", "wlne_secretary"])
def test_statement_totals_are_the_sum_of_the_entries(username, books, demo_user):
    wlne, _ = books
    r = client_for(demo_user(username)).get(f"/economy/villages/{WLNE}/", {"year": FULL})
    assert r.status_code == 200
    entries = IncomeEntry.objects.filter(village=wlne, month__year=FULL)
    total = entries.aggregate(s=Sum("amount"))["s"]
    st = ledger.statement(wlne, FULL)
    assert st["total"] == total
    assert r.context["total"] == yuan(total) == "601,237.56"
    assert r.context["operating"] == yuan(st["operating"])
    december = r.context["months"][11]
    assert december["total"] == yuan(month_total(wlne, datetime.date(FULL, 12, 1))) == "51,234.81"
    html = body(r)
    assert "601,237.56" in html and "60.12 万元" in html
    assert len(r.context["entries"]) == entries.count()
    # every entry of the year links to its page; the buttons to enter and import are there
    for e in entries:
        assert f"/economy/income/{e.pk}/" in html
    assert "/economy/income/new/?village=" + WLNE in html
    assert "/exchange/upload/?sheet=income_entries" in html
    # the tier history has every year with entries
    years = [row["year"] for row in r.context["tier_history"]]
    assert {FULL, PART} <= set(years)
    row_full = next(row for row in r.context["tier_history"] if row["year"] == FULL)
    assert row_full["tier"] == tiers.tiers_for(wlne, FULL, villages=[wlne])[0].tier == "demonstration"


def test_another_villages_statement_and_entry_are_404(books, demo_user):
    _, nlxl = books
    client = client_for(demo_user("wlne_secretary"))
    assert client.get(f"/economy/villages/{NLXL}/").status_code == 404
    assert client.get("/economy/villages/999999999999/").status_code == 404
    assert client.get(f"/economy/villages/{WLNE}01/").status_code == 404  # a grid is not a village
    theirs = IncomeEntry.objects.filter(village=nlxl).first()
    assert client.get(f"/economy/income/{theirs.pk}/").status_code == 404
    r = client.post(f"/economy/income/{theirs.pk}/", {"op": "reverse", "reason": "越权"})
    assert r.status_code == 404
    assert not IncomeEntry.objects.filter(reverses=theirs).exists()


# --------------------------------------------------------------------------- entering income


def test_entering_income_through_the_form_shows_on_the_statement(books, demo_user):
    wlne, _ = books
    client = client_for(demo_user("wlne_secretary"))
    assert client.get("/economy/income/new/", {"village": WLNE}).status_code == 200
    march = datetime.date(PART, 3, 1)
    before = month_total(wlne, march)
    r = client.post("/economy/income/new/", {"village": WLNE, "month": f"{PART}-03", "category": "contract",
                                             "amount": "1,234.56", "source_document": "P-0301", "note": "草场发包"})
    assert r.status_code == 302 and r["Location"] == f"/economy/villages/{WLNE}/?year={PART}"
    entry = IncomeEntry.objects.get(village=wlne, source_document="P-0301")
    assert entry.amount == Decimal("1234.56") and entry.month == march and entry.entered_by.username == "wlne_secretary"
    page = client.get(r["Location"])
    assert page.context["months"][2]["total"] == yuan(before + Decimal("1234.56"))
    assert f"/economy/income/{entry.pk}/" in body(page)


@pytest.mark.parametrize("amount, message", [("12.345", "超过两位小数"), ("-5", "必须大于零"), ("一百", "不是数字"),
                                             ("0", "必须大于零")])
def test_a_bad_amount_is_refused_in_chinese_and_writes_nothing(amount, message, books, demo_user):
    client = client_for(demo_user("wlne_secretary"))
    entries, audits = IncomeEntry.objects.count(), AuditEntry.objects.filter(allowed=True).count()
    r = client.post("/economy/income/new/", {"village": WLNE, "month": f"{PART}-03", "category": "operating",
                                             "amount": amount})
    assert r.status_code == 200
    errors = r.context["form"].errors["amount"]
    assert any(message in e and "金额" in e for e in errors), errors
    assert message in body(r)
    assert IncomeEntry.objects.count() == entries
    assert AuditEntry.objects.filter(allowed=True).count() == audits


def test_the_form_offers_only_the_own_village(books, demo_user):
    client = client_for(demo_user("wlne_secretary"))
    r = client.get("/economy/income/new/")
    assert NLXL_NAME not in body(r)
    count = IncomeEntry.objects.count()
    r = client.post("/economy/income/new/", {"village": NLXL, "month": f"{PART}-03", "category": "operating",
                                             "amount": "10"})
    assert r.status_code == 200 and r.context["form"].errors.get("village")
    assert IncomeEntry.objects.count() == count


def test_a_future_month_is_refused(books, demo_user):
    client = client_for(demo_user("wlne_secretary"))
    future = datetime.date.today().replace(day=1) + datetime.timedelta(days=40)
    r = client.post("/economy/income/new/", {"village": WLNE, "month": f"{future:%Y-%m}", "category": "operating",
                                             "amount": "10"})
    assert r.status_code == 200 and "不能晚于本月" in r.context["form"].errors["month"][0]


# --------------------------------------------------------------------------- the entry page


def test_reversing_through_the_page_nets_the_month_to_the_previous_total(books, demo_user):
    wlne, _ = books
    client = client_for(demo_user("wlne_secretary"))
    may = datetime.date(PART, 5, 1)
    previous = month_total(wlne, may)
    client.post("/economy/income/new/", {"village": WLNE, "month": f"{PART}-05", "category": "operating",
                                         "amount": "777.77", "source_document": "R-1"})
    entry = IncomeEntry.objects.get(village=wlne, source_document="R-1", reverses__isnull=True)
    assert month_total(wlne, may) == previous + Decimal("777.77")
    page = client.get(f"/economy/income/{entry.pk}/")
    assert page.status_code == 200 and 'id="form-reverse"' in body(page) and "777.77" in body(page)
    # no reason: refused in Chinese, nothing written
    r = client.post(f"/economy/income/{entry.pk}/", {"op": "reverse", "reason": ""})
    assert r.status_code == 200 and r.context["reverse_form"].errors["reason"]
    assert not IncomeEntry.objects.filter(reverses=entry).exists()
    r = client.post(f"/economy/income/{entry.pk}/", {"op": "reverse", "reason": "凭证重复录入"})
    assert r.status_code == 302 and r["Location"] == f"/economy/income/{entry.pk}/"
    reversal = IncomeEntry.objects.get(reverses=entry)
    assert reversal.amount == Decimal("-777.77") and reversal.month == may
    assert month_total(wlne, may) == previous
    statement = client.get(f"/economy/villages/{WLNE}/", {"year": PART})
    assert statement.context["months"][4]["total"] == yuan(previous)
    # the original now points at its reversal, the reversal back at the original; neither may be reversed again
    page = body(client.get(f"/economy/income/{entry.pk}/"))
    assert "已冲销" in page and f"/economy/income/{reversal.pk}/" in page and 'id="form-reverse"' not in page
    page = body(client.get(f"/economy/income/{reversal.pk}/"))
    assert "冲销分录" in page and f"/economy/income/{entry.pk}/" in page
    r = client.post(f"/economy/income/{entry.pk}/", {"op": "reverse", "reason": "再冲一次"})
    assert r.status_code == 200 and "已冲销" in body(r)
    assert IncomeEntry.objects.filter(reverses=entry).count() == 1


def test_correcting_reverses_and_records_the_new_amount(books, demo_user):
    wlne, _ = books
    client = client_for(demo_user("wlne_secretary"))
    entry = IncomeEntry.objects.get(village=wlne, month=datetime.date(FULL, 7, 1), category="operating")
    july_before = month_total(wlne, entry.month)
    r = client.post(f"/economy/income/{entry.pk}/", {"op": "correct", "amount": "", "category": "", "reason": "x"})
    assert r.status_code == 200 and "请填写新金额或选择新收入类别" in body(r)
    r = client.post(f"/economy/income/{entry.pk}/", {"op": "correct", "amount": "1.001", "reason": "金额有误"})
    assert r.status_code == 200 and "超过两位小数" in body(r)
    assert not IncomeEntry.objects.filter(reverses=entry).exists()
    r = client.post(f"/economy/income/{entry.pk}/", {"op": "correct", "amount": "45000", "reason": "金额有误"})
    assert r.status_code == 302
    new = IncomeEntry.objects.get(pk=int(r["Location"].rstrip("/").split("/")[-1]))
    assert new.amount == Decimal("45000.00") and new.month == entry.month and new.reverses_id is None
    assert IncomeEntry.objects.filter(reverses=entry).exists()
    assert month_total(wlne, entry.month) == july_before - Decimal("50000.25") + Decimal(45000)


def test_review_is_refused_to_a_village_secretary(books, demo_user):
    wlne, _ = books
    entry = IncomeEntry.objects.filter(village=wlne).order_by("pk").first()
    secretary = client_for(demo_user("wlne_secretary"))
    page = body(secretary.get(f"/economy/income/{entry.pk}/"))
    assert 'id="form-review"' not in page
    r = secretary.post(f"/economy/income/{entry.pk}/", {"op": "review"})
    assert r.status_code == 403
    entry.refresh_from_db()
    assert entry.reviewed_at is None
    assert AuditEntry.objects.filter(action="economy.review_entry", allowed=False).exists()
    admin = client_for(demo_user("town_admin"))
    assert 'id="form-review"' in body(admin.get(f"/economy/income/{entry.pk}/"))
    assert admin.post(f"/economy/income/{entry.pk}/", {"op": "review"}).status_code == 302
    entry.refresh_from_db()
    assert entry.reviewed_by.username == "town_admin" and entry.reviewed_at is not None
    page = body(secretary.get(f"/economy/income/{entry.pk}/"))
    assert "已审核" in page and "镇管理员" in page


def test_an_unknown_operation_is_a_bad_request(books, demo_user):
    entry = IncomeEntry.objects.filter(village__code=WLNE).first()
    r = client_for(demo_user("wlne_secretary")).post(f"/economy/income/{entry.pk}/", {"op": "delete"})
    assert r.status_code == 400 and "未知的操作" in body(r)


# --------------------------------------------------------------------------- the ledger list


def test_the_ledger_list_shows_the_filtered_total(books, demo_user):
    wlne, nlxl = books
    admin = client_for(demo_user("town_admin"))
    r = admin.get("/economy/income/", {"village": NLXL, "year": FULL})
    assert r.status_code == 200
    expected = IncomeEntry.objects.filter(village=nlxl, month__year=FULL).aggregate(s=Sum("amount"))["s"]
    assert r.context["filtered_total"] == yuan(expected) == "1,208,888.88"
    assert "1,208,888.88 元" in body(r)
    assert r.context["table"].paginator.count == IncomeEntry.objects.filter(village=nlxl, month__year=FULL).count()
    secretary = client_for(demo_user("wlne_secretary"))
    r = secretary.get("/economy/income/")
    rows = r.context["view"].object_list
    assert rows.exists() and not rows.exclude(village=wlne).exists()
    assert r.context["filtered_total"] == yuan(IncomeEntry.objects.filter(village=wlne).aggregate(s=Sum("amount"))["s"])
    assert NLXL_NAME not in body(r)


# --------------------------------------------------------------------------- tiers


def test_designating_a_tier_changes_the_overview(books, demo_user):
    wlne, _ = books
    admin = client_for(demo_user("town_admin"))
    r = admin.get("/economy/tiers/")
    assert r.status_code == 200 and 'id="form-designate"' in body(r)
    row = next(cells for v, cells in r.context["rows"] if v.code == WLNE)
    assert [t.tier for t in row] == [t.tier for y in r.context["years"]
                                     for t in tiers.tiers_for(wlne, y, villages=[wlne])]
    # refused without a reason, in Chinese
    r = admin.post("/economy/tiers/", {"village": WLNE, "year": FULL, "tier": "weak", "reason": ""})
    assert r.status_code == 200 and "认定依据不能为空" in body(r)
    assert not TierDesignation.objects.filter(village=wlne, year=FULL).exists()
    r = admin.post("/economy/tiers/", {"village": WLNE, "year": FULL, "tier": "weak", "reason": "镇党委会议认定"})
    assert r.status_code == 302
    overview = admin.get("/economy/", {"year": FULL})
    wlne_row = next(row for row in overview.context["rows"] if row["village"].code == WLNE)
    assert wlne_row["tier"] == "weak" and wlne_row["designated"] and wlne_row["computed_label"] == "示范村"
    assert "人工认定" in body(overview)
    counted = {label: n for label, n, _ in overview.context["tier_counts"]}
    assert counted["薄弱村"] == tiers.counts(region(TOWN), FULL)["weak"]
    # clearing the designation brings back the computed tier
    assert admin.post("/economy/tiers/", {"village": WLNE, "year": FULL, "tier": ""}).status_code == 302
    overview = admin.get("/economy/", {"year": FULL})
    assert next(row for row in overview.context["rows"] if row["village"].code == WLNE)["tier"] == "demonstration"


def test_a_village_secretary_cannot_designate(books, demo_user):
    client = client_for(demo_user("wlne_secretary"))
    r = client.get("/economy/tiers/")
    assert r.status_code == 200 and 'id="form-designate"' not in body(r) and NLXL_NAME not in body(r)
    r = client.post("/economy/tiers/", {"village": WLNE, "year": FULL, "tier": "weak", "reason": "自己认定"})
    assert r.status_code == 403
    assert not TierDesignation.objects.filter(village__code=WLNE, year=FULL).exists()


# --------------------------------------------------------------------------- forecast


@pytest.mark.parametrize("username", ["town_admin", "wlne_secretary"])
def test_forecast_page_shows_the_forecast_and_its_measured_error(username, books, demo_user):
    user = demo_user(username)
    r = client_for(user).get("/economy/forecast/", {"asof": ASOF})
    assert r.status_code == 200
    region_ = r.context["region"]
    expected = {f.village.code: f for f in forecast.forecast_year(region_, PART, datetime.date(PART, 6, 30))}
    rows = {row["village"].code: row for row in r.context["rows"]}
    assert set(rows) == set(expected) and r.context["through_month"] == 6
    for code, f in expected.items():
        assert rows[code]["forecast"] == yuan(f.forecast) and rows[code]["method"] == f.method
    # 乌兰淖尔 earned 360,000 by June; the forecast scales it by the whole of last year over last year's first half
    w = expected[WLNE]
    assert w.method == "上年月度结构" and w.share is not None
    wlne = region(WLNE)
    full = ledger.operating_by_village(wlne, FULL)[wlne.pk]
    half = ledger.operating_by_village(wlne, FULL, 6)[wlne.pk]
    assert (full, half) == (Decimal("601237.56"), Decimal("300001.50"))
    assert rows[WLNE]["forecast"] == yuan((Decimal(360000) * full / half).quantize(Decimal("0.01")))
    html = body(r)
    assert "上年同期占比" in html and "直线外推" in html  # the method written out
    bt = {b["year"]: b for b in r.context["backtests"]}
    assert FULL in bt
    measured = forecast.backtest(region_, FULL, 6)
    assert bt[FULL]["mape"] == measured.mean_abs_pct_error
    assert (bt[FULL]["predicted"], bt[FULL]["actual"]) == (measured.million_predicted, measured.million_actual)
    if username == "wlne_secretary":
        assert set(rows) == {WLNE} and NLXL_NAME not in html
    else:
        assert rows[NLXL]["million"] and r.context["expected_million"] == len(
            forecast.expected_million(region_, PART, datetime.date(PART, 6, 30)))


def test_pages_are_refused_to_users_without_the_economy_module(books, demo_user):
    client = client_for(demo_user("wlne_grid1"))
    for url in ("/economy/", "/economy/tiers/", "/economy/forecast/", "/economy/income/",
                f"/economy/villages/{WLNE}/"):
        assert client.get(url).status_code == 403, url
    viewer = client_for(demo_user("banner_viewer"))
    assert viewer.get("/economy/", {"year": FULL}).status_code == 200
    assert viewer.get("/economy/income/new/").status_code == 403
