"""Helpers around import jobs that write nothing: progress in the cache, reading the kept file, the
error workbook, and who may export full personal data. (Writes are in ``actions``.)"""
import io
import json

from django.core.cache import cache

from yiwang.core.errors import ActionError
from yiwang.core.permissions import allowed

from .models import ImportJob
from .reader import open_sheet
from .sheets import get_sheet


def progress_key(job_id):
    return f"yiwang:exchange:job:{job_id}:progress"


def get_progress(job_id):
    return cache.get(progress_key(job_id)) or {"phase": "", "done": 0, "total": 0}


def read_file(job):
    job.file.open("rb")
    try:
        return job.file.read()
    finally:
        job.file.close()


def error_workbook(job: ImportJob) -> bytes:
    """The rejected rows with the file's own columns (as uploaded) plus a 错误原因 column."""
    sheet = get_sheet(job.sheet)
    data = read_file(job)
    issues = job.issues
    if job.issues_file:
        with job.issues_file.open("rb") as f:
            issues = json.loads(f.read())
    reasons = {}
    for issue in issues:
        reasons.setdefault(issue["row"], []).append(f"{issue['column']}：{issue['reason']}")
    layout, rows, _ = open_sheet(data, sheet.columns, preferred_title=sheet.title)
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("错误行")
    header_cells = _header_cells(data, sheet, layout)
    ws.append(["原行号", *header_cells, "错误原因"])
    for row_no, cells in rows:
        if row_no in reasons:
            ws.append([row_no, *["" if c is None else c for c in cells], "；".join(reasons[row_no])])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _header_cells(data, sheet, layout):
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    ws = book.get_sheet_by_name(layout.sheet_name)
    start = (ws.start or (0, 0))[0]
    for i, row in enumerate(ws.iter_rows()):
        if start + i + 1 == layout.header_row:
            return ["" if c is None else c for c in row]
    return []


def can_export_full(user, sheet_key):
    return allowed(user, "pii.reveal", None) and allowed(user, f"{get_sheet(sheet_key).module}.view", None)


def validate_upload_name(name):
    if name and not name.lower().endswith((".xlsx", ".xlsm")):
        raise ActionError("请上传 Excel .xlsx 文件", field="file")


