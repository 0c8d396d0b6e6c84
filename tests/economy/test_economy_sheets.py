"""The economy sheets on the Excel engine, with real .xlsx files built here: projects (项目) and the income
ledger (收入台账). A dry run counts without writing, a commit writes through the actions, the same file
again changes nothing; a changed amount is a correction (reversal + corrected entry, the ledger stays
append-only); a 万元 header converts exactly; each bad cell is rejected with its Chinese reason and, by
default, nothing is written; export → re-import is unchanged for every row."""
import datetime
import io
import sys
from decimal import Decimal
from pathlib import Path

from django.test import Client
from openpyxl import load_workbook

from yiwang.areas.models import Region
from yiwang.core.models import AuditEntry
from yiwang.economy import actions
from yiwang.economy.models import IncomeEntry, Project, Zone

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "exchange"))
from exchange_kit import issues_of, read_rows, run, xlsx  # noqa: E402

TOWN, WLNE, NLXL = "150627105", "150627105215", "150627105214"
YEAR = datetime.date.today().year - 1
NEXT_MONTH = (datetime.date.today().replace(day=1) + datetime.timedelta(days=32)).replace(day=1)

PROJECT_HEADERS = ["项目编号", "项目名称", "嘎查村代码", "类型", "状态", "开始日期", "终止日期", "地点", "产业布局",
                   "一村一品", "规模化基地"]
ENTRY_HEADERS = ["嘎查村代码", "月份", "收入类别", "金额", "项目编号", "凭证号", "摘要"]


def region(code):
    return Region.objects.get(code=code)


def third_village():
    return (Region.objects.filter(parent__code=TOWN, kind=Region.Kind.VILLAGE).exclude(code__in=[WLNE, NLXL])
            .order_by("code").first())


def ledger_rows():
    return list(IncomeEntry.objects.order_by("pk").values_list("pk", "village_id", "month", "category", "amount",
                                                                "project_id", "source_document", "reverses_id"))


def project_rows():
    return list(Project.objects.order_by("pk").values_list("pk", "code", "name", "village_id", "kind", "status",
                                                            "start_date", "end_date", "zone_id", "product", "is_base",
                                                            "updated_at"))


def export(user, key, params=None):
    client = Client()
    client.force_login(user)
    r = client.get(f"/exchange/export/{key}/", params or {})
    assert r.status_code == 200, r.status_code
    return r.content


# --------------------------------------------------------------------------- projects


def test_projects_dry_run_commit_and_the_same_file_again(demo_user):
    user = demo_user("wlne_secretary")
    zone = Zone.objects.filter(town__code=TOWN).order_by("pk").first()
    rows = [["T-XL-01", "肉羊育肥场", WLNE, "养殖", "运营", "2022-03-01", "", "二社", zone.name if zone else "", "肉羊", "是"],
            ["T-XL-02", "温室大棚", WLNE, "种植", "筹建", "2023年4月1日", "", "", "", "", "否"]]
    data = xlsx(rows, PROJECT_HEADERS, title="项目")
    before = project_rows()

    job = run("projects", data, by=user, commit=False)
    assert job.status == "checked", (job.file_error, job.issues)
    assert job.counts == {"new": 2, "changed": 0, "unchanged": 0, "rejected": 0}
    assert project_rows() == before  # a dry run writes nothing

    job = run("projects", data, by=user)
    assert job.status == "committed", (job.file_error, job.issues)
    first = Project.objects.get(code="T-XL-01")
    assert (first.village.code, first.kind, first.status, first.start_date, first.is_base, first.product) == (
        WLNE, "breeding", "operating", datetime.date(2022, 3, 1), True, "肉羊")
    assert first.zone == zone
    assert Project.objects.get(code="T-XL-02").start_date == datetime.date(2023, 4, 1)
    assert AuditEntry.objects.filter(action="economy.create_project", object_id=str(first.pk)).exists()

    after = project_rows()
    job = run("projects", data, by=user)
    assert job.counts == {"new": 0, "changed": 0, "unchanged": 2, "rejected": 0}, job.issues
    assert project_rows() == after

    rows[1][1], rows[1][4] = "智能温室大棚", "运营"
    job = run("projects", xlsx(rows, PROJECT_HEADERS, title="项目"), by=user)
    assert job.counts == {"new": 0, "changed": 1, "unchanged": 1, "rejected": 0}, job.issues
    second = Project.objects.get(code="T-XL-02")
    assert (second.name, second.status) == ("智能温室大棚", "operating")


def test_bad_project_rows_are_rejected_with_the_reason_and_nothing_written(demo_user):
    user = demo_user("wlne_secretary")
    theirs = actions.create_project(village=region(NLXL), code="T-NL-01", name="别村项目", kind="planting",
                                    start_date=datetime.date(2021, 1, 1), by=None)
    ok = ["T-OK-01", "好项目", WLNE, "养殖", "", "2022-01-01", "", "", "", "", ""]
    rows = [ok,
            ["T-BAD-02", "别村的", NLXL, "养殖", "", "2022-01-01", "", "", "", "", ""],
            ["T-BAD-03", "类型错", WLNE, "炼钢", "", "2022-01-01", "", "", "", "", ""],
            [theirs.code, "抢编号", WLNE, "养殖", "", "2022-01-01", "", "", "", "", ""],
            ["T-BAD-05", "倒着的", WLNE, "养殖", "", "2022-05-01", "2022-01-01", "", "", "", ""],
            ["T-OK-01", "重复行", WLNE, "养殖", "", "2022-01-01", "", "", "", "", ""],
            ["T-BAD-07", "无此布局", WLNE, "养殖", "", "2022-01-01", "", "", "没有的园区", "", ""],
            ["T 空格", "坏编号", WLNE, "养殖", "", "2022-01-01", "", "", "", "", ""],
            ["T-BAD-09", "基地乱填", WLNE, "养殖", "", "2022-01-01", "", "", "", "", "大概"]]
    before = project_rows()
    job = run("projects", xlsx(rows, PROJECT_HEADERS, title="项目"), by=user)
    assert job.status == "rejected"
    issues = issues_of(job)
    assert "管辖范围" in issues[(3, "嘎查村代码")]
    assert "不是可选值" in issues[(4, "类型")]
    assert issues[(5, "项目编号")] == "项目编号已被使用，请换一个编号"  # no word of where it is used
    assert "不能早于" in issues[(6, "终止日期")]
    assert "第 2 行" in issues[(7, "项目编号")]
    assert "产业布局" in issues[(8, "产业布局")]
    assert "字母、数字" in issues[(9, "项目编号")]
    assert "是”或“否" in issues[(10, "规模化基地")]
    assert (2, "项目编号") not in issues and len({r for r, _ in issues}) == 8
    assert project_rows() == before


def test_projects_export_then_import_is_unchanged(demo_user):
    user = demo_user("wlne_secretary")
    actions.create_project(village=region(WLNE), code="T-EX-01", name="出口测试", kind="solar", is_base=True,
                           start_date=datetime.date(2021, 6, 1), end_date=datetime.date(2030, 1, 1), by=None)
    data = export(user, "projects")
    rows = read_rows(data, "项目")
    n = Project.objects.visible_to(user).count()
    assert rows[0] == PROJECT_HEADERS and len(rows) == n + 1
    assert {r[2] for r in rows[1:]} == {WLNE}
    before = project_rows()
    job = run("projects", data, by=user)
    assert job.counts == {"new": 0, "changed": 0, "unchanged": n, "rejected": 0}, (job.file_error, job.issues[:3])
    assert project_rows() == before


# --------------------------------------------------------------------------- the income ledger


def entry_rows():
    return [[WLNE, f"{YEAR}-03", "经营性收入", "12500.50", "", "XL-001", "乌驴销售"],
            [WLNE, f"{YEAR}年4月", "发包及上交收入", 3000, "", "XL-002", "草场发包"]]


def test_ledger_dry_run_commit_same_file_again_and_a_correction(demo_user):
    user = demo_user("wlne_secretary")
    data = xlsx(entry_rows(), ENTRY_HEADERS, title="收入台账")
    before = ledger_rows()
    job = run("income_entries", data, by=user, commit=False)
    assert job.status == "checked" and job.counts["new"] == 2, (job.file_error, job.issues)
    assert ledger_rows() == before

    job = run("income_entries", data, by=user)
    assert job.status == "committed" and job.counts == {"new": 2, "changed": 0, "unchanged": 0, "rejected": 0}
    first = IncomeEntry.objects.get(source_document="XL-001")
    assert (first.village.code, first.month, first.category, first.amount, first.note) == (
        WLNE, datetime.date(YEAR, 3, 1), "operating", Decimal("12500.50"), "乌驴销售")
    assert IncomeEntry.objects.get(source_document="XL-002").month == datetime.date(YEAR, 4, 1)

    after = ledger_rows()
    job = run("income_entries", data, by=user)
    assert job.counts == {"new": 0, "changed": 0, "unchanged": 2, "rejected": 0}, job.issues
    assert ledger_rows() == after

    rows = entry_rows()
    rows[0][3] = "12050.50"
    job = run("income_entries", xlsx(rows, ENTRY_HEADERS, title="收入台账"), by=user)
    assert job.counts == {"new": 0, "changed": 1, "unchanged": 1, "rejected": 0}, job.issues
    # the original stays as written, reversed; the corrected entry stands; the month nets to the new amount
    assert IncomeEntry.objects.get(pk=first.pk).amount == Decimal("12500.50")
    reversal = IncomeEntry.objects.get(reverses=first)
    assert reversal.amount == Decimal("-12500.50")
    standing = IncomeEntry.objects.filter(source_document="XL-001", reverses__isnull=True, reversal__isnull=True)
    assert [e.amount for e in standing] == [Decimal("12050.50")]
    assert sum(IncomeEntry.objects.filter(source_document="XL-001").values_list("amount", flat=True)) == Decimal(
        "12050.50")
    assert AuditEntry.objects.filter(action="economy.correct_entry", reason="Excel 导入更正").exists()


def test_a_wan_yuan_header_converts_exactly(demo_user):
    user = demo_user("wlne_secretary")
    headers = [h if h != "金额" else "金额（万元）" for h in ENTRY_HEADERS]
    rows = [[WLNE, f"{YEAR}-07", "经营性收入", 1.5, "", "WAN-1", ""],
            [WLNE, f"{YEAR}-07", "经营性收入", "0.123456", "", "WAN-2", ""],
            [WLNE, f"{YEAR}-07", "经营性收入", "0.1234567", "", "WAN-3", ""]]
    job = run("income_entries", xlsx(rows[:2], headers, title="收入台账"), by=user)
    assert job.status == "committed", (job.file_error, job.issues)
    assert IncomeEntry.objects.get(source_document="WAN-1").amount == Decimal("15000.00")
    assert IncomeEntry.objects.get(source_document="WAN-2").amount == Decimal("1234.56")
    job = run("income_entries", xlsx(rows[2:], headers, title="收入台账"), by=user)
    assert job.status == "rejected" and "两位小数" in issues_of(job)[(2, "金额")]


def test_bad_ledger_rows_are_rejected_each_with_its_reason(demo_user):
    user = demo_user("town_admin")
    other = third_village()
    elsewhere = actions.create_project(village=other, code="T-ELSE-01", name="别村项目", kind="planting",
                                       start_date=datetime.date(2021, 1, 1), by=None)
    good = [WLNE, f"{YEAR}-05", "经营性收入", "100.00", "", "BAD-0", ""]
    rows = [good,
            [WLNE, f"{YEAR}-05", "经营性收入", "12.345", "", "BAD-1", ""],
            [WLNE, f"{YEAR}-05", "经营性收入", "0", "", "BAD-2", ""],
            [WLNE, f"{YEAR}-05", "经营性收入", "一百元", "", "BAD-3", ""],
            [WLNE, f"{NEXT_MONTH:%Y-%m}", "经营性收入", "100", "", "BAD-4", ""],
            [WLNE, f"{YEAR}-05", "彩票收入", "100", "", "BAD-5", ""],
            [WLNE, f"{YEAR}-05", "经营性收入", "100", elsewhere.code, "BAD-6", ""],
            ["150627999999", f"{YEAR}-05", "经营性收入", "100", "", "BAD-7", ""],
            list(good),
            [WLNE, f"{YEAR}-05", "经营性收入", "100", "", "", ""],
            [WLNE, f"{YEAR}-05", "经营性收入", "-3", "", "BAD-10", ""]]
    before = ledger_rows()
    job = run("income_entries", xlsx(rows, ENTRY_HEADERS, title="收入台账"), by=user)
    assert job.status == "rejected"
    issues = issues_of(job)
    assert "两位小数" in issues[(3, "金额")]
    assert "大于零" in issues[(4, "金额")]
    assert "不是数字" in issues[(5, "金额")]
    assert "不能晚于本月" in issues[(6, "月份")]
    assert "不是可选值" in issues[(7, "收入类别")]
    assert f"不属于{region(WLNE).short_name}" in issues[(8, "项目编号")]
    assert "管辖范围" in issues[(9, "嘎查村代码")]
    assert "第 2 行" in issues[(10, "凭证号")]
    assert issues[(11, "凭证号")] == "必填，不能为空"
    assert "大于零" in issues[(12, "金额")]
    assert (2, "金额") not in issues and len({r for r, _ in issues}) == 10
    assert ledger_rows() == before


def test_a_secretary_cannot_book_into_another_village_or_name_its_project(demo_user):
    user = demo_user("wlne_secretary")
    theirs = actions.create_project(village=region(NLXL), code="T-NL-02", name="别村项目", kind="planting",
                                    start_date=datetime.date(2021, 1, 1), by=None)
    rows = [[NLXL, f"{YEAR}-05", "经营性收入", "100", "", "SEC-1", ""],
            [WLNE, f"{YEAR}-05", "经营性收入", "100", theirs.code, "SEC-2", ""]]
    before = ledger_rows()
    job = run("income_entries", xlsx(rows, ENTRY_HEADERS, title="收入台账"), by=user)
    issues = issues_of(job)
    assert "管辖范围" in issues[(2, "嘎查村代码")] and "不在您的管辖范围" in issues[(3, "项目编号")]
    assert ledger_rows() == before


def test_partial_import_writes_the_good_rows_only(demo_user):
    user = demo_user("wlne_secretary")
    rows = [[WLNE, f"{YEAR}-08", "经营性收入", "100", "", "PART-1", ""],
            [WLNE, f"{YEAR}-08", "经营性收入", "1.001", "", "PART-2", ""]]
    job = run("income_entries", xlsx(rows, ENTRY_HEADERS, title="收入台账"), by=user, partial=True)
    assert job.status == "committed" and job.counts["new"] == 1 and job.counts["rejected"] == 1
    assert IncomeEntry.objects.filter(source_document="PART-1").exists()
    assert not IncomeEntry.objects.filter(source_document="PART-2").exists()


def test_ledger_export_then_import_is_unchanged(demo_user):
    user = demo_user("wlne_secretary")
    entry = actions.record_income(village=region(WLNE), month=datetime.date(YEAR, 2, 1), category="subsidy",
                                  amount="0.30", source_document="EXP-1", by=None)
    reversed_one = actions.record_income(village=region(WLNE), month=datetime.date(YEAR, 2, 1), category="subsidy",
                                         amount="77.00", source_document="EXP-2", by=None)
    actions.reverse_entry(reversed_one, reason="测试", by=None)
    data = export(user, "income_entries")
    rows = read_rows(data, "收入台账")
    standing = IncomeEntry.objects.visible_to(user).filter(reverses__isnull=True, reversal__isnull=True)
    assert rows[0][:4] == ["嘎查村代码", "月份", "收入类别", "金额（元）"] and len(rows) == standing.count() + 1
    assert {r[0] for r in rows[1:]} == {WLNE}
    vouchers = [r[5] for r in rows[1:]]
    assert "EXP-1" in vouchers and "EXP-2" not in vouchers  # the reversed entry and its reversal are not standing
    before = ledger_rows()
    job = run("income_entries", data, by=user)
    assert job.status == "committed", (job.file_error, job.issues[:5])
    assert job.counts == {"new": 0, "changed": 0, "unchanged": standing.count(), "rejected": 0}
    assert ledger_rows() == before
    assert IncomeEntry.objects.get(pk=entry.pk).amount == Decimal("0.30")


def test_ledger_export_follows_the_list_filters(demo_user):
    user = demo_user("wlne_secretary")
    actions.record_income(village=region(WLNE), month=datetime.date(YEAR, 9, 1), category="other", amount="5",
                          source_document="FLT-1", by=None)
    data = export(user, "income_entries", {"year": YEAR, "category": "other"})
    rows = read_rows(data, "收入台账")[1:]
    expected = IncomeEntry.objects.visible_to(user).filter(month__year=YEAR, category="other", reverses__isnull=True,
                                                            reversal__isnull=True)
    assert len(rows) == expected.count() >= 1
    assert {(r[1][:4], r[2]) for r in rows} == {(str(YEAR), "其他收入")}


def test_the_templates_offer_the_dropdowns(demo_user):
    client = Client()
    client.force_login(demo_user("wlne_secretary"))
    for key, title in (("projects", "项目"), ("income_entries", "收入台账")):
        r = client.get(f"/exchange/templates/{key}/")
        assert r.status_code == 200
        wb = load_workbook(io.BytesIO(r.content))
        assert wb[title].data_validations.dataValidation, key
    ws = load_workbook(io.BytesIO(client.get("/exchange/templates/income_entries/").content))["可选值"]
    assert "经营性收入" in [c.value for c in ws["C"]]
