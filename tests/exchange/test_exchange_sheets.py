"""The region and tag sheets, declared like the household ledger and driven by the same engine.

Regions: a village cadre adds and renames the grids of their village (through ``create_grid`` /
``update_region``, audited) and nothing else — a grid under another village, or an official unit, is
rejected with the reason; the system administrator adds official units (``load_divisions``) and their
grids in one file; codes, levels and parents are checked row by row, nothing is moved by an import.
Tags: maintained by holders of ``people.tags`` only (system administrator, town staff of people).
"""
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from exchange_kit import NLXL, TOWN, WLNE, WLNE_GRID1, issues_of, last_audit_pk, registry, run, xlsx

from yiwang.areas.models import Region
from yiwang.core.errors import PermissionRefused
from yiwang.core.models import AuditEntry
from yiwang.people.models import Tag

REGION_HEADERS = ["区划代码", "名称", "层级", "上级代码"]
TAG_HEADERS = ["代码", "名称", "适用对象"]


def regions(rows):
    return xlsx(rows, REGION_HEADERS, title="区划与网格")


def tags(rows):
    return xlsx(rows, TAG_HEADERS, title="特殊群体标签")


# --------------------------------------------------------------------------- regions


def test_a_village_cadre_adds_and_renames_grids_of_their_village(demo_user):
    user = demo_user("wlne_secretary")
    grid1 = Region.objects.get(code=WLNE_GRID1)
    village = Region.objects.get(code=WLNE)
    rows = [[f"{WLNE}09", "乌兰淖尔村第9网格", "网格", WLNE], [WLNE_GRID1, "一组网格", "网格", WLNE],
            [WLNE, village.name, "村", TOWN]]  # its own village, unchanged ("村" reads as 嘎查/村)
    since = last_audit_pk()
    job = run("regions", regions(rows), by=user)
    assert job.status == "committed", job.issues
    assert job.counts == {"new": 1, "changed": 1, "unchanged": 1, "rejected": 0}
    new = Region.objects.get(code=f"{WLNE}09")
    assert (new.kind, new.parent.code, new.path) == ("grid", WLNE, f"{grid1.parent.path}{WLNE}09/")
    assert Region.objects.get(code=WLNE_GRID1).name == "一组网格"
    entries = AuditEntry.objects.filter(pk__gt=since, action__startswith="areas.")
    assert sorted((e.action, e.actor_id) for e in entries) == [("areas.create_grid", user.pk),
                                                               ("areas.update_region", user.pk)]
    assert entries.get(action="areas.update_region").changes == {"name": [grid1.name, "一组网格"]}
    before = registry()
    again = run("regions", regions(rows), by=user)
    assert again.counts == {"new": 0, "changed": 0, "unchanged": 3, "rejected": 0}
    assert registry() == before


def test_a_grid_under_a_village_outside_scope_is_rejected_with_the_reason(demo_user):
    rows = [[f"{NLXL}09", "越权网格", "网格", NLXL], [f"{WLNE}08", "本村网格", "网格", WLNE]]
    before = registry()
    job = run("regions", regions(rows), by=demo_user("wlne_secretary"))
    assert job.status == "rejected"
    assert issues_of(job) == {(2, "上级代码"): f"网格所在的嘎查村 {NLXL} 不在您的管辖范围内，不能新增或修改其网格"}
    assert registry() == before
    # partial: the own village's grid goes in, the other is returned
    job = run("regions", regions(rows), by=demo_user("wlne_secretary"), partial=True)
    assert job.counts == {"new": 1, "changed": 0, "unchanged": 0, "rejected": 1}
    assert Region.objects.filter(code=f"{WLNE}08").exists() and not Region.objects.filter(code=f"{NLXL}09").exists()


def test_official_units_need_the_system_administrator(demo_user):
    rows = [["150627105297", "新设村", "嘎查/村", TOWN], [WLNE, "乌兰淖尔嘎查", "嘎查/村", TOWN]]
    before = registry()
    for who, region in (("wlne_secretary", WLNE), ("town_admin", TOWN)):
        job = run("regions", regions(rows), by=demo_user(who), region=region)
        assert job.status == "rejected", who
        reasons = issues_of(job)
        if who == "town_admin":
            assert reasons[(2, "区划代码")] == "官方区划只能由系统管理员新增（需要 areas.manage 权限）；村镇干部只能维护网格"
        assert reasons[(3, "区划代码")] == "官方区划只能由系统管理员修改（需要 areas.manage 权限）；村镇干部只能维护网格"
    assert registry() == before


def test_the_system_administrator_adds_a_village_and_its_grids_in_one_file(demo_user):
    admin = demo_user("sysadmin")
    rows = [["150627105297", "新设村", "嘎查/村", TOWN], ["15062710529701", "新设村第1网格", "网格", "150627105297"],
            ["150627105296", "新区社区", "嘎查/村", TOWN]]  # named 社区: stored as a community
    since = last_audit_pk()
    job = run("regions", regions(rows), by=admin, region=TOWN)
    assert job.status == "committed", job.issues
    assert job.counts["new"] == 3
    village = Region.objects.get(code="150627105297")
    assert (village.kind, village.parent.code) == ("village", TOWN)
    assert Region.objects.get(code="15062710529701").parent == village
    assert Region.objects.get(code="150627105296").kind == "community"
    assert sorted(AuditEntry.objects.filter(pk__gt=since, action__startswith="areas.").values_list(
        "action", "actor__username")) == [("areas.create_grid", "sysadmin"), ("areas.create_region", "sysadmin"),
                                          ("areas.create_region", "sysadmin")]
    before = registry()
    assert run("regions", regions(rows), by=admin, region=TOWN).counts["unchanged"] == 3
    assert registry() == before


@pytest.mark.parametrize("row,column,reason", [
    (["15062710521599", "孤儿网格", "网格", "150627105299"], "上级代码", "上级区划 150627105299 不存在：请先导入它，或把它排在本行之前"),
    (["15062710521499", "错位网格", "网格", WLNE], "区划代码", f"网格代码应为村代码 {WLNE} 后加 1–3 位数字，例如 {WLNE}01"),
    ([f"{WLNE_GRID1}1", "网格下的网格", "网格", WLNE_GRID1], "上级代码", "网格只能建在嘎查村或社区之下"),
    ([WLNE_GRID1, "搬家网格", "网格", NLXL], "上级代码", f"{WLNE_GRID1} 已登记在上级 {WLNE} 之下，导入不能移动区域"),
    (["1506271052", "位数不对", "嘎查/村", TOWN], "区划代码", "嘎查/村的区划代码应为 12 位，实际 10 位"),
    ([f"{WLNE}07", "无上级", "网格", ""], "上级代码", "必填：只有省级区划可以没有上级"),
    ([f"{WLNE}07", "怪层级", "生产队", WLNE], "层级", "“生产队”不是可选的层级；可选：省/自治区、市/盟、旗/县/区、镇/苏木/街道、嘎查/村、社区、网格"),
    ([f"{WLNE}07", "<b>网格</b>", "网格", WLNE], "名称", "含有不允许的字符（< > 或控制字符）"),
    (["１５０６２７１０５２１５０７", "", "网格", WLNE], "名称", "必填，不能为空"),
])
def test_bad_region_rows_say_why(demo_user, row, column, reason):
    before = registry()
    job = run("regions", regions([row]), by=demo_user("town_admin"), region=TOWN)
    assert job.status == "rejected"
    assert issues_of(job) == {(2, column): reason}
    assert registry() == before


def test_a_code_twice_in_the_file(demo_user):
    rows = [[f"{WLNE}07", "甲", "网格", WLNE], [f"{WLNE}07", "乙", "网格", WLNE]]
    job = run("regions", regions(rows), by=demo_user("wlne_secretary"))
    assert issues_of(job) == {(3, "区划代码"): "与第 2 行的区划代码重复"}


def test_rows_outside_the_import_region(demo_user):
    rows = [["150627105297", "他镇村", "嘎查/村", TOWN]]
    job = run("regions", regions(rows), by=demo_user("sysadmin"), region=WLNE)
    assert issues_of(job) == {(2, "区划代码"): "不在导入区域“乌兰淖尔村”之内"}


# --------------------------------------------------------------------------- tags


def test_tags_are_maintained_by_the_system_administrator_and_town_staff_only(demo_user, tmp_path):
    data = tags([["gugua", "孤寡老人", "人"]])
    for who in ("wlne_secretary", "town_leader", "banner_viewer"):
        with pytest.raises(PermissionRefused):
            run("tags", data, by=demo_user(who), region=WLNE if who == "wlne_secretary" else TOWN)
    path = tmp_path / "标签.xlsx"
    path.write_bytes(data)
    with pytest.raises(CommandError, match="无权执行此操作（people.tags）"):
        call_command("import", "tags", str(path), "--region", WLNE, "--user", "wlne_secretary")
    assert not Tag.objects.filter(code="gugua").exists()
    job = run("tags", data, by=demo_user("sysadmin"), region=TOWN)
    assert job.status == "committed" and job.counts["new"] == 1
    assert Tag.objects.get(code="gugua").name == "孤寡老人"


def test_the_upload_form_offers_each_user_the_sheets_they_may_import(demo_user):
    from yiwang.exchange.forms import UploadForm

    def offered(who):
        return {k for k, _ in UploadForm(user=demo_user(who)).fields["sheet"].choices}

    assert offered("wlne_secretary") == {"households", "regions", "grid_workers", "pairings", "projects",
                                         "income_entries"}
    assert offered("town_admin") == {"households", "regions", "tags", "grid_workers", "pairings", "projects",
                                     "income_entries"}
    assert offered("sysadmin") == {"regions", "tags"}
    assert offered("banner_viewer") == set()
