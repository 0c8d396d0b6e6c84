"""Idempotent upsert and round trips, all-or-nothing versus partial, and the error workbook.

- the same file imported twice: the second time every row is "unchanged", the registry is identical
  (timestamps included) and no people.* audit entry is written;
- export → import changes nothing: the household ledger (full ID numbers, by a cadre allowed to export
  them), the region list (as the system administrator and as a village cadre), the tag list;
  a masked export is refused with the reason, not half-imported;
- a corrected file goes in after a rejected one; changes in a re-import are counted and audited;
- default all-or-nothing versus partial: partial writes the valid households whole; the error workbook
  (page and API) holds the original columns plus a reason, for exactly the rejected rows — and, corrected,
  goes in itself.
"""
import io

import pytest
from django.test import Client
from exchange_kit import (
    HEADERS, NLXL, TOWN, WLNE, WLNE_GRID1, household_rows, issues_of, last_audit_pk, read_rows, registry, run, xlsx,
)
from openpyxl import load_workbook

from yiwang.areas.models import Region
from yiwang.core.models import AuditEntry
from yiwang.people.models import Household, Person, Tag


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def people_entries(since):
    return list(AuditEntry.objects.filter(pk__gt=since, action__regex=r"^(people|areas)\.")
                .values_list("action", flat=True))


def export(user, key, **params):
    r = client_for(user).get(f"/exchange/export/{key}/", params)
    assert r.status_code == 200, r.status_code
    assert r["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return r.content


# --------------------------------------------------------------------------- the same file twice


def test_importing_the_same_file_twice_changes_nothing_the_second_time(demo_user):
    user = demo_user("wlne_secretary")
    rows = household_rows("TWICE", 5, members=3, hh_tags="低保户", person_tags="")
    rows[1]["person_tags"] = "残疾人、独居老人"
    rows[2]["phone"] = "138-0000-1111"
    data = xlsx(rows)
    first = run("households", data, by=user)
    assert first.status == "committed"
    assert first.counts == {"new": 15, "changed": 0, "unchanged": 0, "rejected": 0}
    assert Household.objects.filter(number__startswith="TWICE").count() == 5
    assert Person.objects.filter(household__number__startswith="TWICE").count() == 15
    assert people_entries(0)  # the first import is audited row by row
    before, since = registry(), last_audit_pk()
    second = run("households", data, by=user)
    assert second.status == "committed"
    assert second.counts == {"new": 0, "changed": 0, "unchanged": 15, "rejected": 0}
    assert registry() == before
    assert people_entries(since) == []
    assert set(AuditEntry.objects.filter(pk__gt=since).values_list("action", flat=True)) == {
        "exchange.upload", "exchange.check", "exchange.commit"}


def test_a_changed_row_is_counted_and_audited_once(demo_user):
    user = demo_user("wlne_secretary")
    rows = household_rows("CHG", 2)
    run("households", xlsx(rows), by=user)
    rows[0]["address"] = rows[1]["address"] = "新地址1号"  # household columns repeat on both rows
    rows[3]["name"] = "改名"
    since = last_audit_pk()
    job = run("households", xlsx(rows), by=user)
    assert job.counts == {"new": 0, "changed": 2, "unchanged": 2, "rejected": 0}
    entries = AuditEntry.objects.filter(pk__gt=since, action__startswith="people.")
    assert sorted(entries.values_list("action", flat=True)) == ["people.update_household", "people.update_person"]
    assert entries.get(action="people.update_person").changes["name"] == ["测试1号1", "改名"]


# --------------------------------------------------------------------------- export → import


def test_household_ledger_export_reimports_unchanged(demo_user):
    user = demo_user("wlne_secretary")  # a village cadre holds pii.reveal: may export full ID numbers
    data = export(user, "households", full="1")
    rows = read_rows(data)
    assert rows[0] == HEADERS
    persons = Person.objects.visible_to(user)
    assert len(rows) - 1 == persons.count() > 100
    some = persons.order_by("pk").first()
    assert some.id_number_plain() in {r[7] for r in rows[1:]}  # full numbers, as text cells
    before, since = registry(), last_audit_pk()
    job = run("households", data, by=user, name="导出.xlsx")
    assert job.status == "committed", (job.file_error, job.issues[:3])
    assert job.counts == {"new": 0, "changed": 0, "unchanged": persons.count(), "rejected": 0}
    assert registry() == before
    assert people_entries(since) == []


def test_a_masked_export_is_refused_with_the_reason(demo_user):
    user = demo_user("wlne_secretary")
    data = export(user, "households")
    assert "*" in read_rows(data)[1][7]
    before = registry()
    job = run("households", data, by=user)
    assert job.status == "rejected" and job.counts["rejected"] == job.total_rows
    first = {i["column"]: i["reason"] for i in job.issues if i["row"] == 2}
    assert first["身份证号码"] == "身份证号码是遮挡的（含 *）；请用“导出（含完整身份证号）”导出的表格，或填写完整的 18 位号码"
    if "联系电话" in first:
        assert first["联系电话"].startswith("电话号码是遮挡的（含 *）")
    assert registry() == before


def test_region_list_export_reimports_unchanged_for_the_system_administrator(demo_user):
    user = demo_user("sysadmin")
    data = export(user, "regions")
    rows = read_rows(data)
    assert rows[0] == ["区划代码", "名称", "层级", "上级代码"]
    assert rows[1] == [TOWN, "红庆河镇", "镇/苏木/街道", "150627"]
    assert [WLNE_GRID1, "乌兰淖尔村第1网格", "网格", WLNE] in rows or any(
        r[0] == WLNE_GRID1 and r[2] == "网格" and r[3] == WLNE for r in rows)
    assert len(rows) - 1 == Region.objects.filter(path__startswith=Region.objects.get(code=TOWN).path).count()
    before, since = registry(), last_audit_pk()
    job = run("regions", data, by=user, region=TOWN)
    assert job.status == "committed", (job.file_error, job.issues[:3])
    assert job.counts == {"new": 0, "changed": 0, "unchanged": len(rows) - 1, "rejected": 0}
    assert registry() == before and people_entries(since) == []


def test_region_list_export_reimports_unchanged_for_a_village_cadre(demo_user):
    user = demo_user("wlne_secretary")
    data = export(user, "regions")
    rows = read_rows(data)
    assert {r[0] for r in rows[1:]} == set(Region.objects.visible_to(user).values_list("code", flat=True))
    before, since = registry(), last_audit_pk()
    job = run("regions", data, by=user)
    assert job.status == "committed", job.issues
    assert job.counts["unchanged"] == len(rows) - 1
    assert registry() == before and people_entries(since) == []


def test_tag_list_export_reimports_unchanged_and_edits_go_in(demo_user):
    user = demo_user("town_admin")
    data = export(user, "tags")
    rows = read_rows(data)
    assert rows[0] == ["代码", "名称", "适用对象"] and ["dibao", "低保户", "户"] in rows
    assert len(rows) - 1 == Tag.objects.count()
    before, since = registry(), last_audit_pk()
    job = run("tags", data, by=user, region=TOWN)
    assert job.status == "committed" and job.counts["unchanged"] == len(rows) - 1, job.issues
    assert registry() == before and people_entries(since) == []
    # an edited list: one renamed, one new; the rest unchanged
    edited = [r if r[0] != "kongchao" else ["kongchao", "空巢老年人", "人"] for r in rows[1:]] + [["yibao", "医保特殊人群", "人"]]
    job = run("tags", xlsx(edited, rows[0], title="特殊群体标签"), by=user, region=TOWN)
    assert job.counts == {"new": 1, "changed": 1, "unchanged": len(rows) - 2, "rejected": 0}
    assert Tag.objects.get(code="kongchao").name == "空巢老年人"
    assert Tag.objects.get(code="yibao").applies_to == "person"
    entries = AuditEntry.objects.filter(pk__gt=since, action__in=["people.create_tag", "people.update_tag"])
    assert sorted(entries.values_list("action", "changes")) == [
        ("people.create_tag", {"code": [None, "yibao"], "name": [None, "医保特殊人群"], "applies_to": [None, "person"]}),
        ("people.update_tag", {"name": ["空巢老人", "空巢老年人"]})]
    # the new tag is usable in the household ledger at once
    rows = household_rows("NEWTAG", 1, members=1, person_tags="医保特殊人群")
    job = run("households", xlsx(rows), by=demo_user("wlne_secretary"))
    assert job.status == "committed", job.issues
    assert list(Person.objects.get(household__number="NEWTAG00000").tags.values_list("code", flat=True)) == ["yibao"]


def test_tag_rows_that_cannot_go_in_say_why(demo_user):
    user = demo_user("town_admin")
    rows = [["dibao", "低保户", "人"],  # already on households: cannot become a person's tag
            ["new-one", "残疾人", "人"],  # the name belongs to canji
            ["Bad Code", "坏代码", "户"],
            ["twice", "两次", "户"], ["twice", "两次2", "户"],
            ["unk", "未知对象", "村"]]
    before = registry()
    job = run("tags", xlsx(rows, ["代码", "名称", "适用对象"], title="特殊群体标签"), by=user, region=TOWN)
    assert job.status == "rejected"
    used = Household.objects.filter(tags__code="dibao").count()
    assert issues_of(job) == {
        (2, "适用对象"): f"标签“低保户”已用于 {used} 户或人，不能改变适用对象",
        (3, "名称"): "名称已被标签 canji 使用",
        (4, "代码"): "只能用小写字母、数字、短横线和下划线，以字母或数字开头，最多 40 个字符",
        (6, "代码"): "与第 5 行的代码重复",
        (7, "适用对象"): "“村”不是可选值；可选：户、人"}
    assert registry() == before


# --------------------------------------------------------------------------- rejected, then corrected


def test_a_corrected_file_goes_in_after_a_rejected_one(demo_user):
    user = demo_user("wlne_secretary")
    rows = household_rows("FIX", 3)
    good = rows[4]["id_number"]
    rows[4]["id_number"] = good[:-1] + ("1" if good[-1] != "1" else "2")
    rows[5]["relation"] = "表亲"
    before = registry()
    job = run("households", xlsx(rows), by=user)
    assert job.status == "rejected" and sorted(issues_of(job)) == [(6, "身份证号码"), (7, "与户主关系")]
    assert registry() == before
    rows[4]["id_number"], rows[5]["relation"] = good, "子女"
    job = run("households", xlsx(rows), by=user)
    assert job.status == "committed" and job.counts["new"] == 6
    assert Person.objects.filter(household__number__startswith="FIX").count() == 6
    job = run("households", xlsx(rows), by=user)
    assert job.counts["unchanged"] == 6


# --------------------------------------------------------------------------- all-or-nothing vs partial


def mixed_rows():
    """Three households of two; household 1 has a bad phone on its second row."""
    rows = household_rows("PART", 3)
    rows[3]["phone"] = "12345"
    return rows


def test_default_is_all_or_nothing(demo_user):
    before = registry()
    job = run("households", xlsx(mixed_rows()), by=demo_user("wlne_secretary"))
    assert job.status == "rejected" and job.counts["rejected"] == 1
    assert registry() == before
    assert not Household.objects.filter(number__startswith="PART").exists()


def test_partial_imports_whole_valid_households_and_returns_the_rest(demo_user):
    user = demo_user("wlne_secretary")
    rows = mixed_rows()
    data = xlsx(rows)
    job = run("households", data, by=user, partial=True)
    assert job.status == "committed", (job.status, job.issues)
    assert job.counts == {"new": 4, "changed": 0, "unchanged": 0, "rejected": 2}
    assert sorted(Household.objects.filter(number__startswith="PART").values_list("number", flat=True)) == [
        "PART00000", "PART00002"]
    assert issues_of(job) == {
        (5, "联系电话"): "电话号码“12345”格式错误：应为 11 位手机号或带区号的固定电话",
        (4, "户号"): "同户第 5 行有错误，整户未导入"}

    # the error workbook, from the page and from the API: original columns + a reason, rejected rows only
    client = client_for(user)
    for url in (f"/exchange/jobs/{job.pk}/errors/", f"/api/imports/{job.pk}/errors/"):
        r = client.get(url)
        assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats"), url
        got = read_rows(r.content)
        assert got[0] == ["原行号", *HEADERS, "错误原因"], url
        assert [g[0] for g in got[1:]] == [4, 5]
        for g, original in zip(got[1:], rows[2:4], strict=True):
            assert g[1] == original["number"] and g[7] == original["name"] and g[8] == original["id_number"]
        assert got[1][-1] == "户号：同户第 5 行有错误，整户未导入"
        assert got[2][-1] == "联系电话：电话号码“12345”格式错误：应为 11 位手机号或带区号的固定电话"

    # corrected in the error workbook itself, it goes in (原行号 and 错误原因 are ignored as unknown columns)
    wb = load_workbook(io.BytesIO(client.get(f"/exchange/jobs/{job.pk}/errors/").content))
    ws = wb.active
    ws.cell(row=3, column=1 + 1 + HEADERS.index("联系电话"), value="13900001111")
    buf = io.BytesIO()
    wb.save(buf)
    fixed = run("households", buf.getvalue(), by=user)
    assert fixed.status == "committed" and fixed.counts["new"] == 2, fixed.issues
    assert fixed.unknown_headers == ["原行号", "错误原因"]
    assert Household.objects.filter(number__startswith="PART").count() == 3
    # and the original file now changes nothing
    again = run("households", data, by=user, partial=True)
    assert again.counts["rejected"] == 2 and again.counts["unchanged"] == 4 and again.counts["new"] == 0


def test_partial_with_a_duplicate_id_keeps_the_first_household(demo_user):
    rows = household_rows("PDUP", 2)
    rows[3]["id_number"] = rows[1]["id_number"]
    job = run("households", xlsx(rows), by=demo_user("wlne_secretary"), partial=True)
    assert job.status == "committed"
    assert issues_of(job) == {(5, "身份证号码"): "与第 3 行的身份证号码重复", (4, "户号"): "同户第 5 行有错误，整户未导入"}
    assert list(Household.objects.filter(number__startswith="PDUP").values_list("number", flat=True)) == ["PDUP00000"]


def test_a_partial_import_outside_scope_writes_only_the_own_village(demo_user):
    rows = household_rows("PSCOPE", 1) + household_rows("PSCOPEN", 1, village=NLXL, grid="")
    job = run("households", xlsx(rows), by=demo_user("wlne_secretary"), partial=True)
    assert job.counts["new"] == 2 and job.counts["rejected"] == 2
    assert {i["reason"] for i in job.issues} == {"嘎查村代码不存在或不在您的管辖范围内"}
    assert not Household.objects.filter(number__startswith="PSCOPEN").exists()


@pytest.mark.parametrize("partial", [False, True])
def test_dry_run_counts_are_what_the_commit_does(demo_user, partial):
    user = demo_user("wlne_secretary")
    rows = mixed_rows() if partial else household_rows("DRY", 3)
    from yiwang.exchange import actions

    job = run("households", xlsx(rows), by=user, partial=partial, commit=False)
    before, preview = registry(), dict(job.counts)
    assert job.status == "checked"
    assert registry() == before
    job = actions.commit(job, by=user)
    assert job.counts == preview
