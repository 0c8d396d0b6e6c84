"""Reading an uploaded workbook safely and fast (python-calamine; openpyxl is kept for writing).

``check_file`` refuses what is not a real .xlsx before any parser sees it: over the size limit, not a
zip (a renamed .csv), a zip bomb (uncompressed size or ratio too large), no workbook inside.
``open_sheet`` picks the visible sheet that matches the declared columns, finds the header row (the
best match among the first rows, merged header cells filled from their anchor), maps columns by
header name — in any order, with or without the unit, hidden or not — and yields data rows with
their Excel row numbers, skipping blank rows.
"""
import io
import itertools
import zipfile
from dataclasses import dataclass, field

from django.conf import settings
from python_calamine import CalamineWorkbook, SheetVisibleEnum

from .columns import header_unit, normalise_header

HEADER_SCAN_ROWS = 15


class FileRejected(Exception):
    """The file as a whole cannot be read; ``reason`` is Chinese and says what to do."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def max_bytes():
    return getattr(settings, "EXCHANGE_MAX_BYTES", 50 * 1024 * 1024)


def check_file(data: bytes, *, name=""):
    if not data:
        raise FileRejected("文件是空的")
    if len(data) > max_bytes():
        raise FileRejected(f"文件过大：{len(data) / 1048576:.1f} MB，上限 {max_bytes() / 1048576:.0f} MB；请分批导入")
    if not data.startswith(b"PK\x03\x04"):
        hint = "（看起来是 CSV 或文本文件改了扩展名）" if data[:200].count(b",") or data[:3] == b"\xef\xbb\xbf" else ""
        raise FileRejected(f"文件不是有效的 Excel .xlsx 工作簿{hint}；请在 Excel 中“另存为 .xlsx”后再上传")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
            names = {i.filename for i in infos}
            total = sum(i.file_size for i in infos)
    except zipfile.BadZipFile:
        raise FileRejected("文件已损坏，无法作为 .xlsx 打开") from None
    limit = getattr(settings, "EXCHANGE_MAX_UNCOMPRESSED", 1024 * 1024 * 1024)
    if total > limit or (len(data) > 0 and total / len(data) > 200 and total > 100 * 1024 * 1024):
        raise FileRejected("文件解压后异常巨大（疑似压缩炸弹），已拒绝")
    if "xl/workbook.xml" not in names:
        raise FileRejected("压缩包中没有 Excel 工作簿（xl/workbook.xml）；请上传 .xlsx 文件")


@dataclass
class SheetLayout:
    sheet_name: str
    header_row: int  # 1-based Excel row of the header
    columns: dict  # column key -> 0-based index
    units: dict  # column key -> unit text from the header ("万元")
    unknown_headers: list
    missing_required: list
    plans: dict = field(default_factory=dict, repr=False, compare=False)  # Sheet.plan per sheet key


def _score(row, wanted):
    return sum(1 for cell in row if normalise_header(cell) in wanted)


def _merged_fill(rows, merged, offset_row, offset_col):
    """Fill every cell of a merged range with its anchor value (header rows only)."""
    for (r1, c1), (r2, c2) in merged or []:
        r1, r2, c1, c2 = r1 - offset_row, r2 - offset_row, c1 - offset_col, c2 - offset_col
        if r1 < 0 or r1 >= len(rows):
            continue
        anchor = rows[r1][c1] if c1 < len(rows[r1]) else ""
        for r in range(r1, min(r2, len(rows) - 1) + 1):
            for c in range(c1, c2 + 1):
                if c < len(rows[r]) and rows[r][c] in ("", None):
                    rows[r][c] = anchor


def open_sheet(data: bytes, columns, *, preferred_title=""):
    """Return (layout, rows iterator of (excel_row_number, [cells]), total_rows)."""
    layout, rows, total = open_rows(data, columns, preferred_title=preferred_title)
    return layout, rows(), total


def open_rows(data: bytes, columns, *, preferred_title=""):
    """Like ``open_sheet`` but returns a function that iterates the data rows afresh on each call, over
    the sheet read once (the engine's second pass reads it again without unzipping and parsing the
    XML a second time)."""
    check_file(data)
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as e:  # calamine raises its own errors for broken parts
        raise FileRejected(f"无法读取工作簿：{e}") from None
    wanted = {}
    for col in columns:
        for n in col.names():
            wanted[n] = col.key
    candidates = []
    for meta in book.sheets_metadata:
        if meta.visible != SheetVisibleEnum.Visible:  # hidden and very hidden sheets are lookup lists
            continue
        sheet = book.get_sheet_by_name(meta.name)
        head = [list(r) for _, r in zip(range(HEADER_SCAN_ROWS), sheet.iter_rows())]
        try:
            merged = sheet.merged_cell_ranges
        except Exception:
            merged = None
        start_row, start_col = sheet.start or (0, 0)
        _merged_fill(head, merged, start_row, start_col)
        best = max(range(len(head)), key=lambda i: _score(head[i], wanted), default=None)
        score = _score(head[best], wanted) if best is not None else 0
        candidates.append((meta.name == preferred_title, score, meta.name, sheet, head, best, start_row))
    if not candidates:
        raise FileRejected("工作簿中没有可见的工作表")
    candidates.sort(key=lambda c: (c[0], c[1]), reverse=True)
    _, score, name, sheet, head, best, start_row = candidates[0]
    if not score:
        expected = "、".join(c.header for c in columns if c.required)
        raise FileRejected(f"找不到表头：第一张可见工作表中没有认得的列名；应包含 {expected}")
    header = head[best]
    mapping, units, unknown = {}, {}, []
    for idx, cell in enumerate(header):
        key = wanted.get(normalise_header(cell))
        if key is None:
            if str(cell or "").strip():
                unknown.append(str(cell))
            continue
        if key not in mapping:
            mapping[key] = idx
            units[key] = header_unit(cell)
    missing = [c.header for c in columns if c.required and c.key not in mapping]
    layout = SheetLayout(name, start_row + best + 1, mapping, units, unknown, missing)
    total = max(0, sheet.height - best - 1)

    def rows():
        # blank rows are skipped: None, "" and text of spaces only are blank (a row "cleared" by typing a
        # space), 0 and False are values. The first cell settles the usual data row; the exact test runs
        # only on rows whose first cell is blank
        for i, row in enumerate(itertools.islice(sheet.iter_rows(), best + 1, None), start=start_row + best + 2):
            first = row[0] if row else None
            if (first is None or first.__class__ is str and (not first or first.isspace())) and all(
                    v is None or v.__class__ is str and (not v or v.isspace()) for v in row):
                continue
            yield i, row

    return layout, rows, total
