"""The collective-economy journey of issue 5 in a real browser (Debian chromium), as a new user would:

1. 乌兰淖尔村's secretary enters a month of income (June 2023) from Excel: from the village statement,
   从 Excel 导入 → the upload form (sheet 收入台账 chosen) → the preview tells the one mistake of the first
   file in Chinese and writes nothing → the corrected file goes in → importing it again changes nothing
   → the statement shows the new entries and the higher total;
2. the town (town_admin) runs the 2023 dividend of the donkey-base pool hosted by 乌兰淖尔: 年度分红 →
   预览 (the parts sum to the payout; nothing written) → 提交审批 → 审批入账; every participant's ledger holds
   its part as 投资收益, exactly the allocation, and the participant's statement shows it;
3. the 2023 tiers (year to date) and the forecast move by exactly what was entered.

The server thread sees committed data only: everything made here is committed and uniquely named; a 2023
run left by an earlier run on a kept database is reversed first, through the actions.
"""
import datetime
import io
import re
from decimal import Decimal

from openpyxl import Workbook
from playwright.sync_api import expect

from yiwang.areas.models import Region
from yiwang.economy import actions, forecast, ledger, tiers
from yiwang.economy.models import DividendRun, IncomeEntry, PooledProject
from yiwang.exchange.models import ImportJob
from yiwang.exchange.sheets import get_sheet

WLNE, TOWN = "150627105215", "150627105"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ASOF = datetime.date(2023, 6, 30)


def income_workbook(rows):
    """An .xlsx laid out as the template: the sheet's own headers, one row per entry."""
    sheet = get_sheet("income_entries")
    wb = Workbook()
    ws = wb.active
    ws.title = sheet.title
    ws.append([c.header for c in sheet.columns])
    for row in rows:
        ws.append([row.get(c.key, "") for c in sheet.columns])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def yuan(text):
    return Decimal(re.sub(r"[^\d.\-]", "", text))


def upload(page, data, name):
    page.goto(f"/economy/villages/{WLNE}/?year=2023")
    with page.expect_navigation():
        page.click("#import-xlsx")
    expect(page.locator("#id_sheet")).to_have_value("income_entries")
    page.set_input_files("#id_file", files=[{"name": name, "mimeType": XLSX, "buffer": data}])
    with page.expect_navigation():
        page.click("#upload-submit")
    match = re.search(r"/exchange/jobs/(\d+)/$", page.url)
    assert match, page.url
    return ImportJob.objects.get(pk=int(match[1]))


def counts(page):
    return {key: int(page.locator(f"#counts [data-count={key}]").inner_text())
            for key in ("new", "changed", "unchanged", "rejected")}


def donkey_pool():
    wlne = Region.objects.get(code=WLNE)
    return PooledProject.objects.get(host=wlne, project__is_base=True)


def test_village_enters_a_month_from_excel_and_the_town_runs_the_dividend(new_page, sign_in, unique, screenshot):
    town, wlne = Region.objects.get(code=TOWN), Region.objects.get(code=WLNE)
    pool = donkey_pool()
    for run in actions.effective_runs(pool, 2023):  # a kept database from an earlier run
        actions.reverse_dividend_run(run, reason="e2e 重跑前冲销", by=None)
    participants = {s.village_id: s.village for s in pool.shares.select_related("village")}
    assert wlne.pk in participants and len(participants) >= 3

    before_ops = ledger.operating_by_village(town, 2023, 6)
    before_forecast = {f.village.pk: f.forecast for f in forecast.forecast_year(town, 2023, ASOF)}

    # 1. a month of income from Excel, first with a mistake ------------------------------------------------
    tag = unique("E2E")
    rows = [{"village": WLNE, "month": "2023年6月", "category": "经营性收入", "amount": "12500.00",
             "source_document": f"{tag}-1", "note": "乌驴销售收入"},
            {"village": WLNE, "month": "2023-06", "category": "发包及上交收入", "amount": "8000",
             "source_document": f"{tag}-2", "note": "草场发包"},
            {"village": WLNE, "month": "2023/6", "category": "补助收入", "amount": "3000.005",
             "source_document": f"{tag}-3", "note": "项目补助"}]
    page = new_page()
    sign_in(page, "wlne_secretary")
    entries_before = IncomeEntry.objects.count()
    job = upload(page, income_workbook(rows), "六月收入-有误.xlsx")
    expect(page.locator("#issues")).to_contain_text("两位小数")
    expect(page.locator("#job-status")).to_have_attribute("data-status", "rejected")
    assert page.locator("#counts [data-count=rejected]").inner_text() == "1"
    assert page.locator("#confirm-import").count() == 0
    assert IncomeEntry.objects.count() == entries_before, "a file with a bad row wrote entries"
    screenshot(page, "economy-import-preview")

    rows[2]["amount"] = "3000.00"
    job = upload(page, income_workbook(rows), "六月收入.xlsx")
    assert counts(page) == {"new": 3, "changed": 0, "unchanged": 0, "rejected": 0}
    with page.expect_navigation():
        page.click("#confirm-import")
    expect(page.locator("#job-status")).to_have_attribute("data-status", "committed", timeout=60_000)
    assert IncomeEntry.objects.filter(village=wlne, source_document__startswith=tag).count() == 3

    job = upload(page, income_workbook(rows), "六月收入-再次.xlsx")
    assert counts(page) == {"new": 0, "changed": 0, "unchanged": 3, "rejected": 0}, job.pk

    page.goto(f"/economy/villages/{WLNE}/?year=2023")
    expect(page.locator("#statement-entries")).to_contain_text(f"{tag}-1")
    operating_after_import = yuan(page.locator("#statement-operating").inner_text())
    assert operating_after_import == before_ops.get(wlne.pk, ledger.ZERO) + Decimal("20500.00")

    # 2. the town runs the 2023 dividend -----------------------------------------------------------------
    town_page = new_page()
    sign_in(town_page, "town_admin")
    town_page.goto(pool.get_absolute_url())
    with town_page.expect_navigation():
        town_page.click("text=年度分红")
    town_page.fill("#id_year", "2023")
    town_page.fill("#id_distributable", "960000.00")
    town_page.fill("#id_post_month", "2023-06")
    runs_before = DividendRun.objects.count()
    with town_page.expect_navigation():
        town_page.click("button[name=preview]")
    expect(town_page.locator("#preview-check")).to_contain_text("各村分配合计等于分配总额")
    assert yuan(town_page.locator("#preview-sum").inner_text()) == yuan(town_page.locator("#preview-payout").inner_text())
    assert DividendRun.objects.count() == runs_before, "the preview wrote a run"
    screenshot(town_page, "economy-dividend-preview")
    with town_page.expect_navigation():
        town_page.click("button[name=propose]")
    expect(town_page.locator("#run-status")).to_have_text("待审批")
    with town_page.expect_navigation():
        town_page.click("button:has-text('审批入账')")
    expect(town_page.locator("#run-status")).to_have_text("已入账")
    screenshot(town_page, "economy-dividend-posted")

    run = DividendRun.objects.get(pool=pool, year=2023, status="posted", reverses__isnull=True)
    parts = {a.village_id: a for a in run.allocations.select_related("entry")}
    assert set(parts) == set(participants)
    assert sum(a.amount for a in parts.values()) == run.payout
    for village_id, a in parts.items():
        entry = a.entry
        assert entry is not None and entry.village_id == village_id and entry.amount == a.amount
        assert entry.category == "investment" and entry.month == datetime.date(2023, 6, 1)

    page.goto(f"/economy/villages/{WLNE}/?year=2023")
    expect(page.locator("#statement-entries")).to_contain_text(f"分红-{run.pk}")
    assert yuan(page.locator("#statement-operating").inner_text()) == operating_after_import + parts[wlne.pk].amount

    # 3. tiers (year to date) and the forecast moved by exactly what was entered --------------------------
    after_ops = ledger.operating_by_village(town, 2023, 6)
    for village_id in participants:
        added = parts[village_id].amount + (Decimal("20500.00") if village_id == wlne.pk else 0)
        assert after_ops[village_id] == before_ops.get(village_id, ledger.ZERO) + added
    after_forecast = {f.village.pk: f.forecast for f in forecast.forecast_year(town, 2023, ASOF)}
    assert all(after_forecast[v] > before_forecast[v] for v in participants)
    wlne_tier = next(t for t in tiers.tiers_for(town, 2023) if t.village.pk == wlne.pk)
    assert wlne_tier.income == after_ops[wlne.pk]

    town_page.goto("/economy/forecast/?asof=2023-06-30")
    table = town_page.locator("#forecast-table")
    expect(table).to_contain_text(wlne.short_name)
    total = yuan(town_page.locator("#forecast-total").inner_text())
    assert total == sum(after_forecast.values(), Decimal(0))
    town_page.goto("/economy/?year=2023")
    expect(town_page.locator("#economy-ranking")).to_contain_text(wlne.short_name)
    screenshot(town_page, "economy-overview-2023")
