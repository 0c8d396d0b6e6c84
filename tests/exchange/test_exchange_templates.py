"""Downloadable templates, opened with openpyxl: a Chinese README sheet, the header row with a note on
every column (required or not, format, example), dropdowns for each enumeration (from a hidden list
sheet; tag columns that take several values only warn), text format for codes and ID numbers — and a
template filled in goes in as it is. For every registered sheet, from the page and the API."""
import io

import pytest
from django.test import Client
from exchange_kit import TOWN, WLNE, fresh_ids, run, save
from openpyxl import load_workbook

from yiwang.exchange.sheets import all_sheets, get_sheet
from yiwang.people.models import Household, Person, Tag

ENUMS = {
    "households": {"与户主关系": ["户主", "配偶", "子女", "父母", "孙子女", "兄弟姐妹", "其他"],
                   "政治面貌": ["中共党员", "中共预备党员", "共青团员", "群众"], "人员状态": ["在册", "迁出", "死亡"],
                   "户特殊群体": None, "个人特殊群体": None},
    "regions": {"层级": ["省/自治区", "市/盟", "旗/县/区", "镇/苏木/街道", "嘎查/村", "社区", "网格"]},
    "tags": {"适用对象": ["户", "人"]},
}


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def open_template(client, key, api=False):
    r = client.get(f"/api/sheets/{key}/template/" if api else f"/exchange/templates/{key}/")
    assert r.status_code == 200, r.status_code
    assert r["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in r["Content-Disposition"]
    return load_workbook(io.BytesIO(r.content))


def dropdowns(wb, ws):
    """{header: list of allowed labels} from the sheet's list validations."""
    lists = wb["可选值"]
    headers = {c.column_letter: c.value for c in ws[1]}
    out = {}
    for dv in ws.data_validations.dataValidation:
        assert dv.type == "list"
        ref = dv.formula1.split("!")[1].replace("$", "")
        start, end = ref.split(":")
        labels = [c.value for row in lists[f"{start}:{end}"] for c in row]
        for rng in dv.sqref.ranges:
            out[headers[rng.coord.split(":")[0].rstrip("0123456789")]] = (labels, dv)
    return out


def test_every_registered_sheet_has_a_template():
    assert {"households", "regions", "tags"} <= {s.key for s in all_sheets()}


@pytest.mark.parametrize("key", ["households", "regions", "tags"])
@pytest.mark.parametrize("api", [False, True], ids=["page", "api"])
def test_template_has_readme_notes_and_dropdowns(demo_user, key, api):
    sheet = get_sheet(key)
    wb = open_template(client_for(demo_user("town_admin")), key, api=api)
    assert wb.sheetnames == ["填写说明", sheet.title, "可选值"]
    assert wb["可选值"].sheet_state == "hidden" and wb[sheet.title].sheet_state == "visible"
    assert wb.active.title == sheet.title  # opens on the data sheet

    readme = [[c for c in row if c is not None] for row in wb["填写说明"].iter_rows(values_only=True)]
    assert readme[0] == [f"{sheet.title} 导入模板（一网）"]
    text = "\n".join("".join(str(c) for c in row) for row in readme)
    assert sheet.readme in text and "列的顺序可以调整" in text and "2023年5月1日" in text
    assert ["列名", "必填", "说明", "示例"] in readme
    described = {row[0]: row for row in readme[readme.index(["列名", "必填", "说明", "示例"]) + 1:] if row}
    assert list(described) == [c.header for c in sheet.columns]
    for col in sheet.columns:
        assert described[col.header][1] == ("是" if col.required else "否")

    ws = wb[sheet.title]
    headers = [c.value for c in ws[1]]
    assert headers == [c.header for c in sheet.columns]
    for cell, col in zip(ws[1], sheet.columns, strict=True):
        assert cell.comment is not None, col.header
        note = cell.comment.text
        assert note.startswith("必填。" if col.required else "可空。"), note
        if col.example:
            assert f"例：{col.example}" in note
        assert cell.font.bold
    assert ws.freeze_panes == "A2"

    found = dropdowns(wb, ws)
    assert set(found) == set(ENUMS[key]), found.keys()
    for header, labels in ENUMS[key].items():
        got, dv = found[header]
        if labels is None:  # the tag columns: the tags of the database, several allowed (a warning only)
            applies = "household" if header == "户特殊群体" else "person"
            assert got == list(Tag.objects.filter(applies_to=applies).values_list("name", flat=True))
            assert dv.errorStyle == "warning" and "顿号" in dv.error
        else:
            assert got == labels and dv.showErrorMessage and (dv.errorStyle in (None, "stop"))


def test_codes_and_id_numbers_are_text_cells(demo_user):
    wb = open_template(client_for(demo_user("wlne_secretary")), "households")
    ws = wb["户籍人员"]
    col = {c.value: c.column_letter for c in ws[1]}
    for header in ("身份证号码", "户号", "嘎查村代码", "网格代码", "联系电话"):
        assert ws[f"{col[header]}2"].number_format == "@", header  # 18 digits stay 18 digits
    assert ws[f"{col['姓名']}2"].number_format == "General"


def test_a_filled_in_template_goes_in(demo_user):
    user = demo_user("wlne_secretary")
    wb = open_template(client_for(user), "households")
    ws = wb["户籍人员"]
    col = {c.value: c.column for c in ws[1]}
    ids = fresh_ids(2)
    for r, values in enumerate([
        {"户号": "TPL-1", "嘎查村代码": WLNE, "姓名": "模板户主", "身份证号码": ids[0], "与户主关系": "户主", "户特殊群体": "低保户、脱贫户"},
        {"户号": "TPL-1", "嘎查村代码": WLNE, "姓名": "模板子女", "身份证号码": ids[1], "与户主关系": "子女",
         "户特殊群体": "低保户、脱贫户", "个人特殊群体": "留守儿童"},
    ], start=2):
        for header, value in values.items():
            ws.cell(row=r, column=col[header], value=value)
    job = run("households", save(wb), by=user)
    assert job.status == "committed", (job.file_error, job.issues)
    h = Household.objects.get(number="TPL-1")
    assert sorted(h.tags.values_list("name", flat=True)) == ["低保户", "脱贫户"]
    assert list(Person.objects.get(household=h, relation="child").tags.values_list("name", flat=True)) == ["留守儿童"]


def test_an_untouched_template_is_refused_as_empty(demo_user):
    data = client_for(demo_user("town_admin")).get("/exchange/templates/regions/").content
    job = run("regions", data, by=demo_user("town_admin"), region=TOWN)
    assert job.status == "rejected" and job.file_error == "表格中没有数据行（只有表头或全是空行）"


def test_templates_follow_the_module_permission(demo_user):
    auditor = client_for(demo_user("auditor"))
    assert auditor.get("/exchange/templates/households/").status_code == 404
    assert auditor.get("/exchange/templates/nosuch/").status_code == 404
    assert client_for(demo_user("town_admin")).get("/exchange/templates/nosuch/").status_code == 404
    keys = {s["key"] for s in client_for(demo_user("wlne_secretary")).get("/api/sheets/").json()}
    assert {"households", "regions", "tags"} <= keys
