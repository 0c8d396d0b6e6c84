"""Writing workbooks with openpyxl: templates (header notes, dropdowns, a README sheet), exports and
error workbooks (the original columns plus a reason column). Big exports use write-only mode."""
import datetime
import io

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

HEADER_FILL = PatternFill("solid", fgColor="FDE9E7")
REQUIRED_FONT = Font(bold=True, color="B71C1C")
TEXT_KEYS = {"id_number", "phone", "number", "village", "grid", "code", "parent_code"}


def _header_label(col, unit=""):
    return f"{col.header}（{unit}）" if unit else col.header


def template(sheet) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet.title
    lists = wb.create_sheet("可选值")
    lists.sheet_state = "hidden"
    for i, col in enumerate(sheet.columns, start=1):
        unit = "元" if col.money else ""
        cell = ws.cell(row=1, column=i, value=_header_label(col, unit))
        cell.fill = HEADER_FILL
        cell.font = REQUIRED_FONT if col.required else Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
        note = "必填。" if col.required else "可空。"
        if col.note:
            note += col.note + "。"
        if col.example:
            note += f"例：{col.example}"
        cell.comment = Comment(note, "一网")
        ws.column_dimensions[get_column_letter(i)].width = col.width
        letter = get_column_letter(i)
        if col.key in TEXT_KEYS:
            for r in range(2, 2002):
                ws.cell(row=r, column=i).number_format = "@"
        choices = col.choices or _dynamic_choices(col)
        if choices:
            for r, label in enumerate(choices, start=1):
                lists.cell(row=r, column=i, value=label)
            if col.multiple:  # "低保户、脱贫户" is not one item of the list: warn, let the user keep it
                dv = DataValidation(type="list", formula1=f"'可选值'!${letter}$1:${letter}${len(choices)}",
                                    allow_blank=True, showErrorMessage=True, errorStyle="warning",
                                    errorTitle="请确认", error=f"{col.header}可以填多个，用顿号“、”分隔，每一个都应是下拉列表中的值")
            else:
                dv = DataValidation(type="list", formula1=f"'可选值'!${letter}$1:${letter}${len(choices)}",
                                    allow_blank=not col.required, showErrorMessage=True,
                                    errorTitle="不是可选值", error=f"请从下拉列表中选择{col.header}")
            ws.add_data_validation(dv)
            dv.add(f"{letter}2:{letter}100000")
    ws.freeze_panes = "A2"
    readme = wb.create_sheet("填写说明", 0)
    readme.column_dimensions["A"].width = 18
    readme.column_dimensions["B"].width = 10
    readme.column_dimensions["C"].width = 60
    readme.column_dimensions["D"].width = 24
    readme.append([f"{sheet.title} 导入模板（一网）"])
    readme["A1"].font = Font(bold=True, size=14)
    readme.append([sheet.readme])
    readme.append(["数据填写在“" + sheet.title + "”工作表，第 1 行是表头，从第 2 行开始填写；列的顺序可以调整，表头名称不要改动。"])
    readme.append(["日期可写 2023-05-01、2023/5/1、2023.5.1 或 2023年5月1日；金额列表头写“（万元）”时按万元计，否则按元计。"])
    readme.append([])
    readme.append(["列名", "必填", "说明", "示例"])
    for c in readme[6]:
        c.font = Font(bold=True)
    for col in sheet.columns:
        choices = col.choices or _dynamic_choices(col)
        note = col.note + (f"；可选：{'、'.join(choices)}" if choices else "")
        readme.append([col.header, "是" if col.required else "否", note.strip("；"), col.example])
    wb.active = 1
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _dynamic_choices(col):
    if col.key in ("hh_tags", "person_tags"):
        from yiwang.people.models import Tag

        return list(Tag.objects.filter(applies_to="household" if col.key == "hh_tags" else "person")
                    .values_list("name", flat=True))
    return []


def rows_workbook(sheet, rows, *, extra_header=None) -> bytes:
    """An export (or an error workbook when ``extra_header`` names the reason column), write-only."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet.title)
    headers = [_header_label(c, "元" if c.money else "") for c in sheet.columns]
    if extra_header:
        headers.append(extra_header)
    ws.append(headers)
    keys = [c.key for c in sheet.columns]
    for row in rows:
        out = []
        for k in keys:
            v = row.get(k)
            out.append(v if not isinstance(v, list) else "、".join(v))
        if extra_header:
            out.append(row.get("_reason", ""))
        ws.append(out)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def export_filename(sheet):
    return f"{sheet.title}-{datetime.date.today():%Y%m%d}.xlsx"
