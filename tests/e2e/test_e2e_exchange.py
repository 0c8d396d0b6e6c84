"""A village secretary exchanges the household ledger with Excel in the browser.

The workbooks are built here the way village ledgers come: a merged title row above the header, the
columns in another order than the template, phones with spaces, dates written 2023年5月1日 — and the
mistakes real sheets have (a wrong ID checksum, 政治面貌 written "党员", a household without 户主).
Everything created is uniquely named (``unique``) and committed, since the live server reads it.
"""
import datetime
import io
import random
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from openpyxl import Workbook, load_workbook
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from yiwang.core import crypto
from yiwang.core.idnumber import make_id_number
from yiwang.core.models import AuditEntry
from yiwang.exchange.models import ImportJob
from yiwang.exchange.sheets import get_sheet
from yiwang.people.models import Household, Person

WLNE, NLXL = "150627105215", "150627105214"  # 乌兰淖尔村, 纳林希里村
PHONE = {"width": 375, "height": 812}
WIDE = {"width": 1920, "height": 1080}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# the ledger's own column order (not the template's), as a village office would have it
HEADER = ["户号", "姓名", "与户主关系", "身份证号码", "联系电话", "政治面貌", "嘎查村代码", "网格代码", "地址",
          "户登记日期", "人员状态", "登记日期"]
HEADER_ROW = 2  # row 1 is a merged title
_used_ids = set()


# ---- building workbooks ---------------------------------------------------------------------------
def new_id_number(rng=random):
    """A valid ID number of the banner that no person holds and this session has not handed out."""
    while True:
        birth = datetime.date(1950, 1, 1) + datetime.timedelta(days=rng.randrange(365 * 50))
        number = make_id_number("150627", birth, rng.randrange(1000))
        if number in _used_ids:
            continue
        _used_ids.add(number)
        if not Person.objects.filter(id_hash=crypto.lookup_hash(number)).exists():
            return number


def wrong_check_digit(number):
    return number[:17] + next(c for c in "0123456789X" if c != number[17])


def member(number, name, relation, id_number, political="群众", grid="01"):
    return {"户号": number, "姓名": name, "与户主关系": relation, "身份证号码": id_number,
            "联系电话": "139 1234 " + id_number[-4:].replace("X", "0"), "政治面貌": political,
            "嘎查村代码": WLNE, "网格代码": f"{WLNE}{grid}", "地址": f"乌兰淖尔村{grid}组{number[-2:]}号",
            "户登记日期": "2023年5月1日", "人员状态": "在册", "登记日期": "2023/5/1"}


def ledger(prefix):
    """Five households: two right, three with one mistake each, and their corrected rows.

    Returns ``(bad_rows, good_rows, mistakes)``; ``mistakes`` maps a mistake to the Excel row holding it.
    """
    numbers = [f"{prefix}{i:02d}" for i in range(1, 6)]
    ids = [new_id_number() for _ in range(12)]
    names = [f"导入{prefix[-4:]}{i:02d}" for i in range(12)]
    h1 = [member(numbers[0], names[0], "户主", ids[0], "中共党员"), member(numbers[0], names[1], "配偶", ids[1]),
          member(numbers[0], names[2], "子女", ids[2], "共青团员")]
    h2 = [member(numbers[1], names[3], "户主", ids[3], grid="02"),
          member(numbers[1], names[4], "子女", ids[4], grid="02")]
    h3_bad = [member(numbers[2], names[5], "户主", wrong_check_digit(ids[5])), member(numbers[2], names[6], "配偶", ids[6])]
    h3_good = [member(numbers[2], names[5], "户主", ids[5]), h3_bad[1]]
    h4_bad = [member(numbers[3], names[7], "户主", ids[7], "党员"), member(numbers[3], names[8], "子女", ids[8])]
    h4_good = [member(numbers[3], names[7], "户主", ids[7], "中共党员"), h4_bad[1]]
    h5_bad = [member(numbers[4], names[9], "配偶", ids[9]), member(numbers[4], names[10], "子女", ids[10])]
    h5_good = [member(numbers[4], names[11], "户主", ids[11]), *h5_bad]
    bad = h1 + h2 + h3_bad + h4_bad + h5_bad
    good = h1 + h2 + h3_good + h4_good + h5_good
    first = HEADER_ROW + 1
    mistakes = {"checksum": first + 5, "political": first + 7, "no_head": (first + 9, first + 10)}
    return bad, good, {"numbers": numbers, "rows": mistakes, "bad_id": h3_bad[0]["身份证号码"],
                       "valid_numbers": numbers[:2], "invalid_numbers": numbers[2:]}


def workbook(rows, title="乌兰淖尔村户籍台账"):
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    ws.append(HEADER)
    for row in rows:
        ws.append([row[h] for h in HEADER])
    for cells in ws.iter_cols(min_col=HEADER.index("身份证号码") + 1, max_col=HEADER.index("身份证号码") + 1):
        for cell in cells:
            cell.number_format = "@"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def read_xlsx(data):
    return load_workbook(io.BytesIO(data), read_only=True)


def sheet_rows(data, sheet_name=None):
    """(header, [row dicts]) of the first (or the named) sheet."""
    wb = read_xlsx(data)
    ws = wb[sheet_name] if sheet_name else wb.worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    header = list(rows[0])
    return header, [dict(zip(header, r)) for r in rows[1:] if any(v not in (None, "") for v in r)]


# ---- browser steps --------------------------------------------------------------------------------
def download(page, selector):
    with page.expect_download() as info:
        page.click(selector)
    dl = info.value
    assert dl.failure() is None, dl.failure()
    with open(dl.path(), "rb") as f:
        return dl.suggested_filename, f.read()


def upload(page, data, name, *, partial=False):
    """Upload through the page: 从 Excel 导入 on the household list, then the form. Returns the job."""
    page.goto("/people/households/")
    with page.expect_navigation():
        page.click("#import-xlsx")
    expect(page.locator("main h1")).to_have_text("导入 Excel")
    expect(page.locator("#id_sheet")).to_have_value("households")
    expect(page.locator("#id_region")).to_have_value(WLNE)
    page.set_input_files("#id_file", files=[{"name": name, "mimeType": XLSX, "buffer": data}])
    if partial:
        page.check("#id_partial")
    with page.expect_navigation():
        page.click("#upload-submit")
    match = re.search(r"/exchange/jobs/(\d+)/$", page.url)
    assert match, page.url
    return ImportJob.objects.get(pk=int(match[1]))


def counts(page):
    return {key: int(page.locator(f"#counts [data-count={key}]").inner_text())
            for key in ("new", "changed", "unchanged", "rejected")}


def confirm(page):
    with page.expect_navigation():
        page.click("#confirm-import")
    expect(page.locator("#job-status")).to_have_attribute("data-status", "committed", timeout=60_000)


def page_width(page):
    return page.evaluate("document.documentElement.scrollWidth")


def issues_by_row(page):
    out = {}
    for tr in page.locator("#issues tbody tr").all():
        row, column, value, reason = [td.inner_text().strip() for td in tr.locator("td").all()]
        out.setdefault(int(row), []).append((column, value, reason))
    return out


# ---- tests ----------------------------------------------------------------------------------------
def test_template_and_exports_honour_filters_scope_and_masking(new_page, sign_in, screenshot):
    page = sign_in(new_page(), "wlne_secretary")
    page.goto("/people/households/")

    # the template: opens in openpyxl, README (填写说明) first, the sheet's headers with notes
    name, data = download(page, "#template-xlsx")
    assert name.endswith("导入模板.xlsx")
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames[0] == "填写说明" and "户籍人员" in wb.sheetnames
    readme = " ".join(str(c.value) for row in wb["填写说明"].iter_rows() for c in row if c.value)
    assert "户主" in readme and "身份证号码" in readme
    header = [c.value for c in wb["户籍人员"][1]]
    assert {"户号", "身份证号码", "与户主关系", "政治面貌"} <= set(header)
    assert wb["户籍人员"].cell(row=1, column=header.index("政治面貌") + 1).comment is not None

    persons = Person.objects.filter(household__village__code=WLNE)
    expected_ids = {p.id_number_plain() for p in persons}

    # masked by default: every row of the village and only of the village, no full number
    full_before = AuditEntry.objects.filter(action="exchange.export_full", actor__username="wlne_secretary").count()
    _, masked = download(page, "#export-xlsx")
    header, rows = sheet_rows(masked)
    assert "身份证号码" in header and len(rows) == persons.count() > 0
    assert {r["嘎查村代码"] for r in rows} == {WLNE}
    assert all("*" in r["身份证号码"] and len(r["身份证号码"]) == 18 for r in rows)
    assert not expected_ids & {r["身份证号码"] for r in rows}
    assert all(not r["联系电话"] or "*" in r["联系电话"] for r in rows)

    # with full ID numbers (the secretary holds pii.reveal): the same rows, every number in full, audited
    page.click("#export-more")
    expect(page.locator("#export-xlsx-full")).to_be_visible()
    expect(page.locator("#export-xlsx-full")).to_contain_text("导出（含完整身份证号）")
    screenshot(page, "households-export-menu")
    name, full = download(page, "#export-xlsx-full")
    assert "含完整身份证号" in name
    _, full_rows = sheet_rows(full)
    assert {r["身份证号码"] for r in full_rows} == expected_ids
    assert {r["嘎查村代码"] for r in full_rows} == {WLNE}
    entries = AuditEntry.objects.filter(action="exchange.export_full", actor__username="wlne_secretary")
    assert entries.count() == full_before + 1
    assert entries.order_by("-id").first().changes["rows"] == [None, persons.count()]

    # the list's current filter travels with the export: only 第1网格's households
    page.select_option("#id_grid", f"{WLNE}01")
    with page.expect_navigation():
        page.click("form.yw-filter button:has-text('筛选')")
    total = int(page.locator("#yw-total").inner_text())
    href = page.locator("#export-xlsx").get_attribute("href")
    # (choosing the grid filled in its village)
    assert parse_qs(urlsplit(href).query) == {"village": [WLNE], "grid": [f"{WLNE}01"], "from": ["households"]}
    _, filtered = download(page, "#export-xlsx")
    _, filtered_rows = sheet_rows(filtered)
    assert {r["网格代码"] for r in filtered_rows} == {f"{WLNE}01"}
    assert len({r["户号"] for r in filtered_rows}) == total == Household.objects.filter(grid__code=f"{WLNE}01").count()

    # another village is never reachable: its code as a filter falls back to the secretary's own rows
    response = page.request.get(f"/exchange/export/households/?from=households&village={NLXL}")
    assert response.status == 200
    _, forged = sheet_rows(response.body())
    assert forged and {r["嘎查村代码"] for r in forged} == {WLNE}

    # the persons list (its own 人员 menu entry) exports with its filters too
    page.click("#yw-nav a[data-module='persons']")
    expect(page).to_have_url(re.compile(r"/people/persons/$"))
    expect(page.locator("#yw-nav a[data-module='persons']")).to_have_text("人员")
    page.select_option("#id_political_status", label="中共党员")
    with page.expect_navigation():
        page.click("form.yw-filter button:has-text('筛选')")
    expect(page.locator("#import-xlsx")).to_have_count(0)  # imports start from the household list
    _, members = download(page, "#export-xlsx")
    _, member_rows = sheet_rows(members)
    assert member_rows and {r["政治面貌"] for r in member_rows} == {"中共党员"}
    assert len(member_rows) == persons.filter(political_status="member").count()


def test_neighbouring_village_and_town_leader_exports(new_page, sign_in):
    # 纳林希里村's secretary exports their ledger: not one 乌兰淖尔 row
    page = sign_in(new_page(), "nlxl_secretary")
    page.goto("/people/households/")
    _, data = download(page, "#export-xlsx")
    _, rows = sheet_rows(data)
    assert rows and {r["嘎查村代码"] for r in rows} == {NLXL}
    assert not any(str(r["户号"]).startswith(WLNE) for r in rows)
    page.click("#export-more")
    _, data = download(page, "#export-xlsx-full")
    _, rows = sheet_rows(data)
    assert rows and {r["嘎查村代码"] for r in rows} == {NLXL}

    # the town leader sees every village but holds no pii.reveal: no full option, and full=1 is refused
    leader = sign_in(new_page(), "town_leader")
    leader.goto("/people/households/")
    expect(leader.locator("#export-xlsx")).to_be_visible()
    expect(leader.locator("#export-more")).to_have_count(0)
    expect(leader.locator("#export-xlsx-full")).to_have_count(0)
    expect(leader.locator("#import-xlsx")).to_have_count(0)
    refusals = AuditEntry.objects.filter(action="exchange.export_full", actor__username="town_leader", allowed=False)
    before = refusals.count()
    refused = leader.request.get("/exchange/export/households/?from=households&full=1")
    assert refused.status == 403 and refusals.count() == before + 1
    # the leader narrows to 乌兰淖尔村 with the filter: masked rows of that village only
    response = leader.request.get(f"/exchange/export/households/?from=households&village={WLNE}")
    _, rows = sheet_rows(response.body())
    assert rows and {r["嘎查村代码"] for r in rows} == {WLNE}
    assert all("*" in r["身份证号码"] for r in rows)


def test_ledger_with_mistakes_then_corrected_then_again(new_page, sign_in, unique, screenshot):
    prefix = unique(f"{WLNE}X").upper()
    bad_rows, good_rows, info = ledger(prefix)
    rows = info["rows"]
    page = sign_in(new_page(), "wlne_secretary")
    households_before = Household.objects.count()
    persons_before = Person.objects.count()

    # 1. the file with mistakes: every mistake in Chinese, with row, column and value; nothing written
    job = upload(page, workbook(bad_rows), "户籍台账-有错误.xlsx")
    expect(page.locator("#job-status")).to_have_attribute("data-status", "rejected")
    expect(page.locator("#confirm-import")).to_have_count(0)
    issues = issues_by_row(page)
    expect(page.locator("#job-status")).to_contain_text(f"{len(issues)} 行有错误，整个文件没有写入任何数据")
    [(column, value, reason)] = issues[rows["checksum"]]
    assert (column, value) == ("身份证号码", info["bad_id"]) and "校验位错误" in reason
    [(column, value, reason)] = issues[rows["political"]]
    assert (column, value) == ("政治面貌", "党员") and "不是可选值" in reason and "中共党员" in reason
    for row in rows["no_head"]:
        [(column, value, reason)] = issues[row]
        assert column == "与户主关系" and "缺少户主" in reason and info["numbers"][4] in reason
    good_rows_no = set(range(HEADER_ROW + 1, HEADER_ROW + 6))  # the two right households
    assert not good_rows_no & set(issues)
    assert int(page.locator("#counts [data-count=rejected]").inner_text()) == len(set(issues))
    assert int(page.locator("#counts [data-count=total]").inner_text()) == len(bad_rows)
    assert not Household.objects.filter(number__in=info["numbers"]).exists()
    assert (Household.objects.count(), Person.objects.count()) == (households_before, persons_before)
    # upload date in Chinese
    today = timezone.localdate()
    expect(page.locator("#job-meta")).to_contain_text(f"{today.year}年{today.month}月{today.day}日")
    screenshot(page, "exchange-rejected")

    # the job page at a phone's width and a wide screen: nothing sideways, the errors table scrolls inside
    for viewport, label in ((PHONE, "375"), (WIDE, "1920")):
        other = sign_in(new_page(viewport=viewport), "wlne_secretary")
        other.goto(job.get_absolute_url())
        expect(other.locator("#issues")).to_be_visible()
        assert page_width(other) <= viewport["width"] + 2, (label, page_width(other))
        for cell in other.locator("#issues td.yw-wrap").all():  # every reason readable without scrolling
            box = cell.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"] + 2, (label, box)
        screenshot(other, f"exchange-job-{label}")

    # the town leader may look at the job but not at full ID numbers: masked, and no file to download
    leader = sign_in(new_page(), "town_leader")
    leader.goto(job.get_absolute_url())
    expect(leader.locator("#issues")).to_contain_text(crypto.mask_id_number(info["bad_id"]))
    assert info["bad_id"] not in leader.content()
    expect(leader.locator("#download-file")).to_have_count(0)
    expect(leader.locator("#download-errors")).to_have_count(0)

    # 2. the corrected file: preview counts, then 确认导入 writes it
    job = upload(page, workbook(good_rows), "户籍台账-已改正.xlsx")
    expect(page.locator("#job-status")).to_have_attribute("data-status", "checked")
    expect(page.locator("#issues")).to_have_count(0)
    assert counts(page) == {"new": len(good_rows), "changed": 0, "unchanged": 0, "rejected": 0}
    assert not Household.objects.filter(number__in=info["numbers"]).exists()  # a preview writes nothing
    confirm(page)
    expect(page.locator("#counts-title")).to_contain_text("导入结果")
    assert counts(page) == {"new": len(good_rows), "changed": 0, "unchanged": 0, "rejected": 0}
    assert Household.objects.filter(number__in=info["numbers"]).count() == 5
    assert Person.objects.count() == persons_before + len(good_rows)
    head = Household.objects.get(number=info["numbers"][2]).head
    assert head.id_number_plain() == good_rows[5]["身份证号码"] and head.phone_plain() == "1391234" + \
        good_rows[5]["身份证号码"][-4:].replace("X", "0")
    assert Person.objects.get(name=good_rows[7]["姓名"]).political_status == "member"
    job.refresh_from_db()
    assert job.status == "committed" and job.committed_by.username == "wlne_secretary"
    screenshot(page, "exchange-committed")

    # the new households are in the list
    page.click("#to-list")
    page.fill("#id_q", prefix)
    with page.expect_navigation():
        page.click("form.yw-filter button:has-text('筛选')")
    expect(page.locator("#yw-total")).to_have_text("5")
    for number in info["numbers"]:
        expect(page.locator("table tbody")).to_contain_text(number)

    # 3. the same file again: nothing new, nothing changed
    audit_before = AuditEntry.objects.filter(action__startswith="people.").count()
    upload(page, workbook(good_rows), "户籍台账-已改正.xlsx")
    expect(page.locator("#job-status")).to_have_attribute("data-status", "checked")
    assert counts(page) == {"new": 0, "changed": 0, "unchanged": len(good_rows), "rejected": 0}
    confirm(page)
    assert counts(page) == {"new": 0, "changed": 0, "unchanged": len(good_rows), "rejected": 0}
    assert Person.objects.count() == persons_before + len(good_rows)
    assert AuditEntry.objects.filter(action__startswith="people.").count() == audit_before

    # the import list shows the jobs with Chinese dates
    page.goto("/exchange/")
    expect(page.locator("main table")).to_contain_text("户籍台账-已改正.xlsx")
    expect(page.locator("main table")).to_contain_text(f"{today.year}年{today.month}月{today.day}日")


def test_partial_import_writes_the_valid_households_and_returns_the_rest(new_page, sign_in, unique):
    prefix = unique(f"{WLNE}X").upper()
    bad_rows, _, info = ledger(prefix)
    page = sign_in(new_page(), "wlne_secretary")
    job = upload(page, workbook(bad_rows), "户籍台账-部分导入.xlsx", partial=True)
    expect(page.locator("#job-status")).to_have_attribute("data-status", "checked")
    valid = 5  # the rows of the two right households
    rejected_rows = list(range(HEADER_ROW + 1 + valid, HEADER_ROW + 1 + len(bad_rows)))
    assert counts(page) == {"new": valid, "changed": 0, "unchanged": 0, "rejected": len(rejected_rows)}
    expect(page.locator("#confirm-import")).to_contain_text(f"{len(rejected_rows)} 行有错误")
    assert set(issues_by_row(page)) == set(rejected_rows)  # the rest of a broken household goes back too
    assert not Household.objects.filter(number__in=info["numbers"]).exists()
    confirm(page)
    assert counts(page) == {"new": valid, "changed": 0, "unchanged": 0, "rejected": len(rejected_rows)}
    assert set(Household.objects.filter(number__in=info["numbers"]).values_list("number", flat=True)) == \
        set(info["valid_numbers"])
    assert Person.objects.filter(household__number__in=info["valid_numbers"]).count() == valid

    # the error workbook: exactly the rejected rows, the file's own columns, plus the reason
    name, data = download(page, "#download-errors")
    assert name.startswith("错误行")
    header, rows = sheet_rows(data)
    assert header == ["原行号", *HEADER, "错误原因"]
    assert [r["原行号"] for r in rows] == rejected_rows
    for r, source in zip(rows, bad_rows[valid:]):
        assert {h: r[h] for h in ("户号", "姓名", "身份证号码", "政治面貌")} == \
            {h: source[h] for h in ("户号", "姓名", "身份证号码", "政治面貌")}
        assert r["错误原因"]
    by_row = {r["原行号"]: r["错误原因"] for r in rows}
    assert "校验位错误" in by_row[info["rows"]["checksum"]]
    assert "政治面貌" in by_row[info["rows"]["political"]]
    assert all("缺少户主" in by_row[r] for r in info["rows"]["no_head"])
    job.refresh_from_db()
    assert job.status == "committed" and job.partial


@pytest.fixture
def paced_households_sheet():
    """Slow the households sheet's writes so the progress bar is seen between its states.

    The work is the real one on the real background thread; only each batch of 150 rows takes a
    little longer, so the page's 1-second poll can catch the second pass filling up. No time is
    asserted.
    """
    sheet = get_sheet("households")
    original_write = sheet.write

    def write(batch, ctx):
        time.sleep(0.35)
        return original_write(batch, ctx)

    sheet.write, sheet.batch_size = write, 150
    yield sheet
    del sheet.write, sheet.batch_size  # back to the class's


def watch_progress(page, until, timeout=90):
    """Sample what the job page shows until it shows status ``until`` without a bar; return every
    (width or None, text) the bar showed meanwhile. The page must get there by itself."""
    states = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = page.evaluate("""() => {
                const job = document.querySelector('#job-status');
                const box = document.querySelector('#progress');
                const bar = box && box.querySelector('[role=progressbar]');
                return {status: job && job.dataset.status, running: !!box,
                        now: bar && bar.getAttribute('aria-valuenow'), text: box ? box.innerText : ''};
            }""")
        except PlaywrightError:  # the page is reloading itself
            state = None
        if state and state["running"]:
            entry = (int(state["now"]) if state["now"] is not None else None, " ".join(state["text"].split()))
            if not states or states[-1] != entry:
                states.append(entry)
        elif state and state["status"]:
            assert state["status"] == until, (state, states)
            return states
        page.wait_for_timeout(100)
    raise AssertionError(f"the job page did not reach “{until}” by itself: {states}")


def test_background_import_shows_a_truthful_progress_bar(new_page, sign_in, unique, settings,
                                                          paced_households_sheet, screenshot):
    # The embedded default: a worker thread, the page polls. (This test once sat at "排队等待后台处理…": on
    # the test's shared-cache SQLite database a lock never waits, and the thread, started inside the
    # request, met that request's own session save and died before claiming the job. The thread now
    # starts once the response is sent, page views skip their session refresh while it runs, and a
    # thread that dies marks its job failed — so the page can no longer wait for nobody.)
    settings.EXCHANGE_INLINE = False
    prefix = unique(f"{WLNE}Y").upper()
    rng = random.Random()
    rows = []
    for i in range(300):
        number, grid = f"{prefix}{i:03d}", f"0{1 + i % 2}"
        rows += [member(number, f"进度{i:03d}甲", "户主", new_id_number(rng), grid=grid),
                 member(number, f"进度{i:03d}乙", "配偶", new_id_number(rng), grid=grid),
                 member(number, f"进度{i:03d}丙", "子女", new_id_number(rng), grid=grid)]
    page = sign_in(new_page(), "wlne_secretary")

    # the check runs on the thread: the bar is there, then the page turns into the preview by itself
    job = upload(page, workbook(rows), "户籍台账-大文件.xlsx")
    expect(page.locator("#progress")).to_be_visible()
    expect(page.locator("#job-status")).to_contain_text("正在检查")
    screenshot(page, "exchange-progress-check")
    check_states = watch_progress(page, "checked")
    expect(page.locator("#progress")).to_have_count(0)
    assert counts(page) == {"new": len(rows), "changed": 0, "unchanged": 0, "rejected": 0}
    assert not Household.objects.filter(number__startswith=prefix).exists()

    # 确认导入: the page keeps the bar (never the confirm button again) until the result is there. The
    # page turned into the preview by reloading itself; a click before that load ends could be taken
    # for it (once, in CI, the test then saw the preview again), so wait for it, then for the POST's
    # own answer rather than for "a navigation".
    page.wait_for_load_state("load")
    commit_url = f"/exchange/jobs/{job.pk}/commit/"
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith(commit_url)) as answer:
        page.click("#confirm-import")
    assert answer.value.status == 302, answer.value.status
    page.wait_for_url(re.compile(rf"/exchange/jobs/{job.pk}/$"))
    expect(page.locator("#job-status")).to_contain_text("正在导入")
    expect(page.locator("#confirm-import")).to_have_count(0)
    commit_states = watch_progress(page, "committed")
    screenshot(page, "exchange-progress-done")
    assert counts(page) == {"new": len(rows), "changed": 0, "unchanged": 0, "rejected": 0}
    assert Household.objects.filter(number__startswith=prefix).count() == 300

    for states, step2 in ((check_states, "试算新增和修改（不保存）"), (commit_states, "写入数据库")):
        assert states, "no progress bar was shown"
        widths = [w for w, _ in states if w is not None]
        assert widths == sorted(widths), states  # never runs backwards
        assert all(w < 100 for w in widths), states  # 100 % only once finished (then the page reloads)
        mid = [(w, text) for w, text in states if w is not None and 50 < w < 100]
        assert mid, states  # the second pass was seen filling up ...
        for w, text in mid:  # ... and the words say what the width says
            assert step2 in text and f"{w}%" in text, (w, text)
            done = int(re.search(r"([\d,]+) / 900 行", text)[1].replace(",", ""))
            # all 900 rows written but the step not yet ended (the commit, the counts) stays at 99 %
            assert w == 50 + min(49, done * 50 // 900), (w, text)
    job.refresh_from_db()
    assert job.status == "committed" and job.counts["new"] == len(rows)
    assert job.progress["phase"] == "done" and job.progress["done"] == len(rows)  # the row says so too


def test_grid_choices_follow_the_chosen_village(new_page, sign_in):
    page = sign_in(new_page(), "town_admin")
    page.goto("/people/households/new/")
    grid_values = lambda: [v for v in page.locator("#id_grid option").evaluate_all(  # noqa: E731
        "os => os.map(o => o.value)") if v]

    page.select_option("#id_village", WLNE)
    wlne = grid_values()
    assert wlne and all(v.startswith(WLNE) for v in wlne)
    page.select_option("#id_grid", f"{WLNE}01")
    page.select_option("#id_village", NLXL)
    nlxl = grid_values()
    assert nlxl and all(v.startswith(NLXL) for v in nlxl)
    expect(page.locator("#id_grid")).to_have_value("")  # the other village's grid is no longer chosen
    # choosing a grid first fills in its village
    page.select_option("#id_village", "")
    assert len(grid_values()) >= len(wlne) + len(nlxl)
    page.select_option("#id_grid", f"{WLNE}02")
    expect(page.locator("#id_village")).to_have_value(WLNE)
    assert all(v.startswith(WLNE) for v in grid_values())

    # the household list's filter narrows the same way
    page.goto("/people/households/")
    page.select_option("#id_village", NLXL)
    assert all(v.startswith(NLXL) for v in grid_values())


@pytest.mark.parametrize("url", ["/exchange/", "/exchange/upload/?sheet=households", "/people/persons/"])
def test_exchange_pages_on_a_phone(new_page, sign_in, screenshot, url):
    page = sign_in(new_page(viewport=PHONE), "wlne_secretary")
    assert page.goto(url).status == 200
    assert page_width(page) <= PHONE["width"] + 2, (url, page_width(page))
    screenshot(page, "phone" + re.sub(r"\W+", "-", url.split("?")[0]).rstrip("-"))


def test_the_api_runs_an_import_on_the_background_thread(new_page, sign_in, unique, settings, e2e_server):
    """POST /api/imports/ answers 202 at once; the check runs on a thread started after that answer was
    sent (like the pages), the client polls the job, commits it, and the households are there."""
    settings.EXCHANGE_INLINE = False
    prefix = unique(f"{WLNE}A").upper()
    rng = random.Random()
    rows = [member(f"{prefix}{i:02d}", f"接口{i:02d}甲", "户主", new_id_number(rng)) for i in range(20)]
    page = sign_in(new_page(), "wlne_secretary")
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    api = page.request

    def wait_for(job_id, status):
        for _ in range(120):
            job = api.get(f"{e2e_server.url}/api/imports/{job_id}/").json()
            if job["status"] == status:
                return job
            assert job["status"] not in ("failed", "rejected"), job
            time.sleep(0.5)
        raise AssertionError(f"job {job_id} never reached {status}: {job}")

    r = api.post(f"{e2e_server.url}/api/imports/", headers={"X-CSRFToken": csrf, "Referer": e2e_server.url},
                 multipart={"sheet": "households", "region": WLNE,
                            "file": {"name": "接口导入.xlsx", "mimeType": XLSX, "buffer": workbook(rows)}})
    assert r.status == 202, r.text()
    job_id = r.json()["id"]
    checked = wait_for(job_id, "checked")
    assert checked["counts"]["new"] == len(rows)
    assert not Household.objects.filter(number__startswith=prefix).exists()
    r = api.post(f"{e2e_server.url}/api/imports/{job_id}/commit/",
                 headers={"X-CSRFToken": csrf, "Referer": e2e_server.url})
    assert r.status == 202, r.text()
    wait_for(job_id, "committed")
    assert Household.objects.filter(number__startswith=prefix).count() == len(rows)
