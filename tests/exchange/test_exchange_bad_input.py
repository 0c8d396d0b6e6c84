"""Bad input, each in a real .xlsx built here: a clear Chinese answer naming the row, the column, the
value and the fix — and the database exactly as before (nothing is written unless the user chose a
partial import; see test_exchange_roundtrip.py for that).

Rows: wrong ID checksums, an ID twice in the file or already in another household, a household without
户主, a grid of another village, unknown enumerations, a birth date in the future, text where a code or
a date belongs. Files: empty, a renamed .csv, a zip bomb, over the size limit, no header, only a
header, and a sheet of 100,000 rows.
"""
import datetime
import io
import time
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from exchange_kit import (
    NLXL, NLXL_GRID1, TOWN, WLNE, WLNE_GRID1, fresh_ids, household_rows, issues_of, last_audit_pk, registry, run,
    xlsx,
)
from openpyxl import Workbook

from yiwang.core.idnumber import make_id_number
from yiwang.core.models import AuditEntry
from yiwang.exchange.models import ImportJob
from yiwang.people.models import Household, Person


@pytest.fixture
def secretary(demo_user):
    return demo_user("wlne_secretary")


def rejected(job):
    """The job was refused whole, and nothing of the registry moved (checked by the caller's snapshot)."""
    assert job.status == "rejected", (job.status, job.file_error, job.issues)
    assert job.committed_at is None
    return job


def assert_untouched(before, since):
    assert registry() == before, "a rejected import changed the registry"
    written = AuditEntry.objects.filter(pk__gt=since, action__startswith="people.")
    assert not written.exists(), list(written.values_list("action", flat=True))


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


# --------------------------------------------------------------------------- rows


def test_wrong_checksums_name_the_right_check_digit(secretary):
    rows = household_rows("BADSUM", 2)
    good = rows[1]["id_number"]
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    rows[1]["id_number"] = wrong
    before, since = registry(), last_audit_pk()
    job = rejected(run("households", xlsx(rows), by=secretary))
    assert job.issues == [{"row": 3, "column": "身份证号码", "value": wrong,
                           "reason": f"身份证号码校验位错误：末位应为 {good[17]}"}]
    assert job.counts["rejected"] == 1 and job.total_rows == 4
    assert_untouched(before, since)


def test_duplicate_id_numbers_inside_the_file(secretary):
    rows = household_rows("DUPIN", 2)
    rows[3]["id_number"] = rows[0]["id_number"].lower()  # the same person, spelled with a small x or not
    before, since = registry(), last_audit_pk()
    job = rejected(run("households", xlsx(rows), by=secretary))
    assert issues_of(job) == {(5, "身份证号码"): "与第 2 行的身份证号码重复"}
    assert_untouched(before, since)


def test_an_id_number_already_in_another_household(secretary):
    other = Person.objects.filter(household__village__code=WLNE).order_by("pk").first()
    rows = household_rows("DUPDB", 1)
    rows[1]["id_number"] = other.id_number_plain()
    before, since = registry(), last_audit_pk()
    job = rejected(run("households", xlsx(rows), by=secretary))
    assert issues_of(job) == {
        (3, "身份证号码"): f"该身份证号码已登记在户 {other.household.number}，不能在户 DUPDB00000 重复登记"}
    assert_untouched(before, since)


def test_an_id_number_of_another_village_is_refused_without_naming_that_household(secretary):
    """Refused as a duplicate, but the answer must not tell a 乌兰淖尔 cadre which 纳林希里 household holds it."""
    other = Person.objects.filter(household__village__code=NLXL).order_by("pk").first()
    rows = household_rows("DUPNL", 1)
    rows[1]["id_number"] = other.id_number_plain()
    before, since = registry(), last_audit_pk()
    job = rejected(run("households", xlsx(rows), by=secretary))
    assert issues_of(job) == {(3, "身份证号码"): "该身份证号码已在您管辖范围以外的地区登记，不能在户 DUPNL00000 重复登记"}
    assert other.household.number not in str(job.issues)
    assert_untouched(before, since)


def test_a_household_without_its_head(secretary):
    rows = household_rows("NOHEAD", 2)
    rows[2]["relation"] = "配偶"  # the second household's head row now says spouse
    before, since = registry(), last_audit_pk()
    job = rejected(run("households", xlsx(rows), by=secretary))
    reason = "户 NOHEAD00001 缺少户主：需要一行“与户主关系”为“户主”"
    assert issues_of(job) == {(4, "与户主关系"): reason, (5, "与户主关系"): reason}
    assert_untouched(before, since)


def test_two_heads_in_one_household(secretary):
    rows = household_rows("TWOHEAD", 1, members=3)
    rows[2]["relation"] = "户主"
    job = rejected(run("households", xlsx(rows), by=secretary))
    assert issues_of(job) == {(4, "与户主关系"): "户 TWOHEAD00000 有多个户主（第 2 行已是户主）"}


def test_a_household_whose_rows_disagree(secretary):
    rows = household_rows("SPLIT", 1)
    rows[1]["address"] = "另一个地址"
    job = rejected(run("households", xlsx(rows), by=secretary))
    assert issues_of(job) == {(3, "地址"): "同一户号的户信息（地址）与第 2 行不一致"}


def test_a_grid_of_another_village(secretary, demo_user):
    rows = household_rows("OTHERGRID", 1, grid=NLXL_GRID1)
    before, since = registry(), last_audit_pk()
    # the cadre of 乌兰淖尔 cannot see 纳林希里's grid at all
    job = rejected(run("households", xlsx(rows), by=secretary))
    assert issues_of(job) == {(2, "网格代码"): "网格不存在或不在您的管辖范围内",
                              (3, "网格代码"): "网格不存在或不在您的管辖范围内"}
    # town staff see both villages: the grid exists, but not in the village the row names
    job = rejected(run("households", xlsx(rows), by=demo_user("town_admin"), region=TOWN))
    assert issues_of(job)[(2, "网格代码")] == f"网格 {NLXL_GRID1} 不属于嘎查村 {WLNE}"
    assert_untouched(before, since)


@pytest.mark.parametrize("column,value,reason", [
    ("relation", "表亲", "“表亲”不是可选值；可选：户主、配偶、子女、父母、孙子女、兄弟姐妹、其他"),
    ("political_status", "民主人士", "“民主人士”不是可选值；可选：中共党员、中共预备党员、共青团员、群众"),
    ("status", "失踪", "“失踪”不是可选值；可选：在册、迁出、死亡"),
    ("person_tags", "残疾人、贫困户", "未知的标签“贫困户”"),
    ("hh_tags", "低保户，残疾人", "未知的标签“残疾人”"),  # a person's tag is not a household's
])
def test_unknown_enumerations(secretary, column, value, reason):
    from exchange_kit import BY_KEY

    rows = household_rows("ENUM", 1, members=1)
    rows[0][column] = value
    before, since = registry(), last_audit_pk()
    job = rejected(run("households", xlsx(rows), by=secretary))
    [issue] = job.issues
    assert (issue["row"], issue["column"], issue["value"]) == (2, BY_KEY[column], value)
    assert issue["reason"].startswith(reason), issue["reason"]
    assert_untouched(before, since)


def test_a_birth_date_in_the_future(secretary):
    future = make_id_number("150627", datetime.date.today() + datetime.timedelta(days=40), 11)
    rows = household_rows("FUTURE", 1)
    rows[1]["id_number"] = future
    rows[0]["registered_on"] = (datetime.date.today() + datetime.timedelta(days=3)).isoformat()
    before, since = registry(), last_audit_pk()
    job = rejected(run("households", xlsx(rows), by=secretary))
    assert issues_of(job) == {(2, "登记日期"): "日期不能晚于今天", (3, "身份证号码"): "身份证号码中的出生日期晚于今天"}
    assert_untouched(before, since)


def test_text_in_a_code_or_date_column(secretary):
    rows = household_rows("TEXT", 1)
    rows[0]["village"] = "乌兰淖尔村"
    rows[1]["registered_on"] = "去年"
    before, since = registry(), last_audit_pk()
    job = rejected(run("households", xlsx(rows), by=secretary))
    assert issues_of(job) == {(2, "嘎查村代码"): "代码应为数字",
                              (3, "登记日期"): "日期格式无法识别；可写 2023-05-01、2023/5/1、2023.5.1 或 2023年5月1日"}
    assert_untouched(before, since)


def test_every_bad_cell_of_a_row_is_reported_not_only_the_first(secretary):
    rows = household_rows("MANY", 1, members=1)
    rows[0].update(village="x", relation="?", phone="123", registered_on="明天")
    job = rejected(run("households", xlsx(rows), by=secretary))
    assert {i["column"] for i in job.issues} == {"嘎查村代码", "与户主关系", "联系电话", "登记日期"}


# --------------------------------------------------------------------------- files


def upload_api(user, data, name="台账.xlsx", **extra):
    return client_for(user).post("/api/imports/", {"sheet": "households", "region": WLNE,
                                                   "file": SimpleUploadedFile(name, data), **extra})


def test_an_empty_file(secretary):
    r = upload_api(secretary, b"")
    assert r.status_code == 400 and "空" in r.content.decode(), r.content
    job = rejected(run("households", xlsx([]), by=secretary))
    assert job.file_error == "表格中没有数据行（只有表头或全是空行）"


def test_a_workbook_without_a_known_header(secretary):
    job = rejected(run("households", xlsx([["a", "b"]], ["甲", "乙"]), by=secretary))
    assert job.file_error.startswith("找不到表头") and "户号" in job.file_error


def test_a_missing_required_column_is_named(secretary):
    headers = ["户号", "嘎查村代码", "姓名", "与户主关系"]
    job = rejected(run("households", xlsx([["X1", WLNE, "甲", "户主"]], headers), by=secretary))
    assert job.file_error == "缺少必填列：身份证号码（表头在第 1 行）"


def test_a_renamed_csv(secretary):
    before, since = registry(), last_audit_pk()
    csv = "户号,嘎查村代码,姓名,身份证号码,与户主关系\nX1,150627105215,甲,150627198803140012,户主\n".encode()
    r = upload_api(secretary, "\ufeff".encode() + csv, name="台账.xlsx")
    assert r.status_code == 202
    body = r.json()
    assert body["status"] == "rejected"
    assert body["file_error"] == "文件不是有效的 Excel .xlsx 工作簿（看起来是 CSV 或文本文件改了扩展名）；请在 Excel 中“另存为 .xlsx”后再上传"
    assert_untouched(before, since)


def test_a_corrupt_zip(secretary):
    job = rejected(run("households", b"PK\x03\x04" + b"\x00" * 200, by=secretary))
    assert job.file_error == "文件已损坏，无法作为 .xlsx 打开"


def zip_bomb(member_bytes, *, chunk=1 << 20):
    """A small zip whose one member inflates to ``member_bytes`` of zeros, beside a workbook part."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            zeros = b"\x00" * chunk
            for _ in range(member_bytes // chunk):
                member.write(zeros)
    return buf.getvalue()


def test_a_zip_bomb_under_a_small_limit(secretary, settings):
    settings.EXCHANGE_MAX_UNCOMPRESSED = 8 * 1024 * 1024
    data = zip_bomb(16 * 1024 * 1024)
    assert len(data) < 100_000
    before, since = registry(), last_audit_pk()
    job = rejected(run("households", data, by=secretary))
    assert job.file_error == "文件解压后异常巨大（疑似压缩炸弹），已拒绝"
    assert_untouched(before, since)


def test_a_zip_bomb_under_the_default_limits(secretary):
    """120 MB of zeros in a few hundred KB: refused by its ratio before anything inflates it."""
    data = zip_bomb(120 * 1024 * 1024)
    assert len(data) < 1_000_000
    r = upload_api(secretary, data)
    assert r.status_code == 202 and r.json()["file_error"] == "文件解压后异常巨大（疑似压缩炸弹），已拒绝"


def test_a_file_over_the_size_limit(secretary, settings):
    settings.EXCHANGE_MAX_BYTES = 20_000
    data = xlsx(household_rows("BIG", 300))
    assert len(data) > 20_000
    jobs = ImportJob.objects.count()
    before, since = registry(), last_audit_pk()
    r = upload_api(secretary, data)
    assert r.status_code == 400, r.content
    assert "文件过大" in r.content.decode() and "请分批导入" in r.content.decode()
    r = client_for(secretary).post("/exchange/upload/", {"sheet": "households", "region": WLNE,
                                                         "file": SimpleUploadedFile("台账.xlsx", data)})
    assert r.status_code == 200 and "文件过大" in r.content.decode()  # the form again, with the reason
    assert ImportJob.objects.count() == jobs  # not even kept
    assert_untouched(before, since)


def test_a_file_that_is_not_xlsx_by_name_is_refused_on_upload(secretary):
    r = upload_api(secretary, xlsx([]), name="台账.xls")
    assert r.status_code == 400 and ".xlsx" in r.content.decode()


def test_a_sheet_of_100000_rows_gets_a_clear_answer(secretary, capsys):
    """100,000 rows, every one naming a village outside the cadre's scope: the whole sheet is read and
    checked, each row is rejected with its reason, every reason is kept for the error workbook, and
    nothing is written. (The time is printed, never asserted: bench/ measures speed.)"""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("户籍人员")
    ws.append(["户号", "嘎查村代码", "姓名", "身份证号码", "与户主关系"])
    number = make_id_number("150627", datetime.date(1980, 1, 1), 1)
    for i in range(100_000):
        ws.append([f"H{i:06d}", NLXL, "某人", number, "户主"])
    buf = io.BytesIO()
    wb.save(buf)
    before, since = registry(), last_audit_pk()
    started = time.perf_counter()
    job = rejected(run("households", buf.getvalue(), by=secretary))
    seconds = time.perf_counter() - started
    assert job.total_rows == 100_000 and job.counts["rejected"] == 100_000 and job.issue_count == 100_000
    assert len(job.issues) == 1000 and job.issues_file  # the page shows 1000; the file keeps all
    assert job.issues[0] == {"row": 2, "column": "嘎查村代码", "value": NLXL, "reason": "嘎查村代码不存在或不在您的管辖范围内"}
    assert_untouched(before, since)
    with capsys.disabled():
        print(f"\n100,000-row sheet: {len(buf.getvalue()) / 1e6:.1f} MB, rejected in {seconds:.1f} s")


def test_household_rows_helper_makes_valid_rows(secretary):
    job = run("households", xlsx(household_rows("OKROW", 2)), by=secretary, commit=False)
    assert job.status == "checked" and job.counts["new"] == 4, job.issues
    assert not Household.objects.filter(number__startswith="OKROW").exists()  # a dry run writes nothing
    assert WLNE_GRID1 in {h.grid.code for h in Household.objects.filter(village__code=WLNE)}
