"""Helpers around import jobs that write nothing: a job's progress (from the cache or the job row),
reading the kept file, the error workbook, and who may export full personal data. (Writes are in
``actions``; the running task's progress is written by ``progress.Reporter``.)"""
import io
import json

from django.core.cache import cache

from yiwang.core.errors import ActionError
from yiwang.core.permissions import allowed

from .models import ImportJob
from .progress import EMPTY, progress_key
from .reader import open_sheet
from .sheets import get_sheet


def get_progress(job):
    """What the job's task last reported: the newer of the cache's entry (written at every report, seen
    by this process or those sharing its cache) and the job row's (written every second or so, seen by
    every process). ``job`` may be an id: then the cache only (the CLI, polling its own run)."""
    cached = cache.get(progress_key(job if isinstance(job, int) else job.pk))
    found = [p for p in (cached, None if isinstance(job, int) else job.progress) if p]
    return dict(max(found, key=lambda p: p.get("at") or 0)) if found else dict(EMPTY)


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


