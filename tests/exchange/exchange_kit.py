"""Helpers for the Excel exchange tests: build real .xlsx files with openpyxl, fresh valid ID numbers,
run an import through the actions (upload → check → commit), snapshot the registry.

Not a test module (no ``test_`` prefix); the test files next to it import it by name."""
import datetime
import io

from openpyxl import Workbook, load_workbook

from yiwang.areas.models import Region
from yiwang.core import crypto
from yiwang.core.idnumber import make_id_number
from yiwang.core.models import AuditEntry
from yiwang.people.models import Household, Person, Tag

TOWN, WLNE, NLXL = "150627105", "150627105215", "150627105214"
WLNE_GRID1, WLNE_GRID2 = "15062710521501", "15062710521502"
NLXL_GRID1 = "15062710521401"

HEADERS = ["户号", "嘎查村代码", "网格代码", "地址", "户登记日期", "户特殊群体", "姓名", "身份证号码", "与户主关系",
           "联系电话", "政治面貌", "人员状态", "登记日期", "个人特殊群体"]
KEYS = ["number", "village", "grid", "address", "hh_registered_on", "hh_tags", "name", "id_number", "relation",
        "phone", "political_status", "status", "registered_on", "person_tags"]
BY_KEY = dict(zip(KEYS, HEADERS))


def xlsx(rows, headers=HEADERS, *, title="户籍人员", before=(), build=None) -> bytes:
    """A workbook whose sheet ``title`` holds ``before`` rows (titles above the header), the header row
    and ``rows`` (lists, or dicts keyed by column key or header). ``build(wb, ws)`` may add more."""
    wb = Workbook()
    ws = wb.active
    ws.title = title
    for row in before:
        ws.append(list(row))
    ws.append(list(headers))
    for row in rows:
        if isinstance(row, dict):
            row = [row.get(h, row.get(_key(h), "")) for h in headers]
        ws.append(list(row))
    if build is not None:
        build(wb, ws)
    return save(wb)


def _key(header):
    return next((k for k, h in BY_KEY.items() if h == header), header)


def save(wb) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def read_rows(data: bytes, sheet=None):
    """All rows of a workbook's sheet (the active one by default), as lists of values, via openpyxl."""
    wb = load_workbook(io.BytesIO(data))
    ws = wb[sheet] if sheet else wb.active
    return [list(r) for r in ws.iter_rows(values_only=True)]


def fresh_ids(n, *, start=datetime.date(1931, 1, 1), area="150627"):
    """``n`` valid ID numbers registered nowhere yet (nor repeated), the same on every call."""
    taken = set(Person.objects.values_list("id_hash", flat=True))
    out, day = [], start
    while len(out) < n:
        for seq in range(1, 1000, 7):
            number = make_id_number(area, day, seq)
            if crypto.lookup_hash(number) not in taken:
                out.append(number)
                if len(out) == n:
                    break
        day += datetime.timedelta(days=1)
    return out


def household_rows(prefix, count, *, village=WLNE, grid=WLNE_GRID1, members=2, ids=None, **extra):
    """Rows for ``count`` new households of ``members`` persons each (the first one the head)."""
    ids = iter(ids or fresh_ids(count * members))
    rows = []
    for h in range(count):
        for m in range(members):
            rows.append({"number": f"{prefix}{h:05d}", "village": village, "grid": grid, "address": f"测试路{h}号",
                         "hh_registered_on": "2020-01-02", "name": f"测试{h}号{m}", "id_number": next(ids),
                         "relation": "户主" if m == 0 else "子女", "phone": "", "political_status": "群众",
                         "status": "在册", "registered_on": "2020-01-02", **extra})
    return rows


def run(sheet, data, *, by, region=WLNE, partial=False, commit=True, name="测试.xlsx"):
    """upload → check → (commit when the preview passed); returns the job."""
    from yiwang.exchange import actions

    job = actions.upload(sheet_key=sheet, data=data, name=name, region=Region.objects.get(code=region), by=by,
                         partial=partial)
    job = actions.check(job, by=by)
    if commit and job.status == "checked":
        job = actions.commit(job, by=by)
    return job


def registry():
    """Everything an import of households, regions or tags could change (timestamps included)."""
    return {
        "households": list(Household.objects.order_by("pk").values_list(
            "pk", "number", "village_id", "grid_id", "region_path", "address", "head_id", "registered_on",
            "updated_at")),
        "persons": list(Person.objects.order_by("pk").values_list(
            "pk", "household_id", "name", "id_hash", "phone_hash", "relation", "political_status", "status",
            "registered_on", "updated_at")),
        "household_tags": sorted(Household.tags.through.objects.values_list("household_id", "tag_id")),
        "person_tags": sorted(Person.tags.through.objects.values_list("person_id", "tag_id")),
        "regions": list(Region.objects.order_by("pk").values_list("pk", "code", "name", "kind", "parent_id", "path")),
        "tags": list(Tag.objects.order_by("pk").values_list("pk", "code", "name", "applies_to")),
    }


def last_audit_pk():
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def issues_of(job):
    """{(row, column): reason} of a job's rejected cells."""
    return {(i["row"], i["column"]): i["reason"] for i in job.issues}


def backup_test_database(path):
    """Copy the SQLite test database (migrated, demo loaded) to the file ``path``. Call it outside a
    test's transaction (a module-scoped fixture): with ``transaction_mode="IMMEDIATE"`` an open
    transaction holds the write lock, and SQLite's backup waits for it forever."""
    import sqlite3

    from django.db import connection

    assert not connection.in_atomic_block, "backup_test_database inside a transaction would never finish"
    target = sqlite3.connect(path)
    connection.ensure_connection()
    connection.connection.backup(target)
    target.close()
    return path
