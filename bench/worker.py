"""One benchmark measurement in a fresh process (so each peak RSS is its own): prints one JSON line.

    python bench/worker.py setup                      # migrate, the demo town's regions and grids, tags
    python bench/worker.py openpyxl FILE              # raw read, openpyxl read-only (parse ceiling)
    python bench/worker.py calamine FILE              # raw read, python-calamine (parse ceiling)
    python bench/worker.py check FILE                 # the product: upload + dry run (check)
    python bench/worker.py commit JOB                 # the product: commit the job the check left
    python bench/worker.py crypto FILE                # the per-row ID check, hashes and encryption alone
    python bench/worker.py rawwrite FILE              # the same rows inserted by raw SQL, rolled back
    python bench/worker.py ixp FILE [--bulk] [--limit=N] [--dry-run]   # django-import-export
The database is the one DATABASE_URL names (run.py points it at the benchmark databases only).
"""
import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, os.environ.get("BENCH_SRC") or str(ROOT / "src"))  # BENCH_SRC: compare another checkout
sys.path.insert(0, str(ROOT / "bench"))
TOWN = "150627105"


def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def django_setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
    import django

    django.setup()


def out(**kw):
    kw.setdefault("peak_rss_mb", round(peak_mb(), 1))
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the import's helper process, when it ran
    if children.ru_maxrss:
        kw.setdefault("helper_peak_rss_mb", round(children.ru_maxrss / 1024, 1))
        kw.setdefault("helper_cpu_s", round(children.ru_utime + children.ru_stime, 2))
    print(json.dumps(kw, ensure_ascii=False), flush=True)


def setup():
    django_setup()
    from django.core.management import call_command

    from yiwang.core.context import request_context
    from yiwang.demo.registry import DemoContext
    from yiwang.demo.steps.regions import load_regions
    from yiwang.people.actions import ensure_default_tags

    t = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    with request_context(channel="cli"):
        load_regions(DemoContext(log=lambda *a: None))
        ensure_default_tags()
    from yiwang.areas.models import Region

    out(task="setup", seconds=round(time.perf_counter() - t, 2), regions=Region.objects.count())


def read_openpyxl(path):
    from openpyxl import load_workbook

    before = rss_mb()
    t = time.perf_counter()
    wb = load_workbook(path, read_only=True, data_only=True)
    ws = wb["户籍人员"]
    n = sum(1 for _ in ws.iter_rows(min_row=2, values_only=True))
    wb.close()
    s = time.perf_counter() - t
    out(task="openpyxl", rows=n, seconds=round(s, 3), rows_per_s=round(n / s), rss_before_mb=round(before, 1))


def read_calamine(path):
    import io

    from python_calamine import CalamineWorkbook

    before = rss_mb()
    t = time.perf_counter()
    data = Path(path).read_bytes()
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    sheet = book.get_sheet_by_name("户籍人员")
    n = sum(1 for _ in sheet.iter_rows()) - 1
    s = time.perf_counter() - t
    out(task="calamine", rows=n, seconds=round(s, 3), rows_per_s=round(n / s), rss_before_mb=round(before, 1))


class Phases:
    """Wall and CPU time of the engine's two passes, from its progress reports (pass 2 starts with
    ``write 0/N``), and the write rate over the first and the last tenth of the rows: a slowdown as the
    tables grow shows there. Installed by wrapping ``exchange.actions._progress_for``."""

    def __init__(self):
        self.marks = []

    def install(self):
        from yiwang.exchange import actions

        marks = self.marks

        def mark(phase, done, total):
            marks.append((phase, done, total, time.perf_counter(), time.process_time()))

        if hasattr(actions, "_progress_for"):  # the engine's progress callback as first written
            original = actions._progress_for

            def progress_for(job):
                report = original(job)

                def both(phase, done, total, **extra):
                    mark(phase, done, total)
                    report(phase, done, total, **extra)

                return both

            actions._progress_for = progress_for
            return

        class Reporter(actions.Reporter):  # the job's Reporter (exchange.progress)
            def __call__(self, phase, done, total, **extra):
                mark(phase, done, total)
                return super().__call__(phase, done, total, **extra)

        actions.Reporter = Reporter

    def begin(self):
        self.marks[:] = [("begin", 0, 0, time.perf_counter(), time.process_time())]

    def report(self):
        end = (time.perf_counter(), time.process_time())
        t0, c0 = self.marks[0][3], self.marks[0][4]
        out = {"wall_s": round(end[0] - t0, 2), "cpu_s": round(end[1] - c0, 2)}
        writes = [m for m in self.marks if m[0] == "write"]
        if writes:
            w0 = writes[0]
            out["pass1_wall_s"], out["pass1_cpu_s"] = round(w0[3] - t0, 2), round(w0[4] - c0, 2)
            out["pass2_wall_s"], out["pass2_cpu_s"] = round(end[0] - w0[3], 2), round(end[1] - w0[4], 2)
            total = w0[2]

            def rate(lo, hi):
                pts = [m for m in writes if lo * total <= m[1] <= hi * total]
                if len(pts) < 2 or pts[-1][3] == pts[0][3]:
                    return None
                return round((pts[-1][1] - pts[0][1]) / (pts[-1][3] - pts[0][3]))

            out["write_rows_per_s_first_tenth"] = rate(0, 0.1)
            out["write_rows_per_s_last_tenth"] = rate(0.9, 1.0)
        return out


def _profile(task):
    """BENCH_PROFILE=DIR: write a cProfile of the measured part to DIR/<task>.prof."""
    target = os.environ.get("BENCH_PROFILE")
    if not target:
        return None
    import cProfile

    prof = cProfile.Profile()
    prof.enable()
    return lambda: (prof.disable(), prof.dump_stats(str(Path(target) / f"{task}.prof")))


def _file_rows(path):
    import io

    from python_calamine import CalamineWorkbook

    sheet = CalamineWorkbook.from_filelike(io.BytesIO(Path(path).read_bytes())).get_sheet_by_name("户籍人员")
    rows = sheet.iter_rows()
    next(rows)
    return list(rows)


def crypto_floor(path):
    """The per-row protection every import must pay, alone: the ID number's validation, its keyed
    hash, encryption (core.crypto: AES-GCM) of the ID number and of the phone, the phone's keyed hash."""
    django_setup()
    from yiwang.core import crypto
    from yiwang.core.idnumber import parse_id_number
    from yiwang.core.text import clean_phone

    rows = _file_rows(path)
    t, c = time.perf_counter(), time.process_time()
    for r in rows:
        n = parse_id_number(r[7]).number
        crypto.lookup_hash(n)
        crypto.encrypt(n)
        phone = clean_phone(str(r[9] or ""))
        crypto.lookup_hash(phone)
        crypto.encrypt(phone)
    s, cpu = time.perf_counter() - t, time.process_time() - c
    out(task="crypto", rows=len(rows), seconds=round(s, 3), rows_per_s=round(len(rows) / s),
        cpu_rows_per_s=round(len(rows) / cpu))


def raw_write(path):
    """The database's share alone: the same households, persons, person audit entries and household
    audit entries (values precomputed, fake ciphertexts of the real length) inserted by raw SQL on the
    DB-API cursor the way the import now does — primary keys taken ahead (no RETURNING), each household
    with its head; executemany on SQLite, binary COPY with the column types set on PostgreSQL — in one
    transaction that is rolled back (so PostgreSQL's deferred foreign-key checks at COMMIT are not in it)."""
    django_setup()
    import datetime as dt

    from django.db import connection, transaction

    from yiwang.areas.models import Region
    from yiwang.core.bulk import _json_dumps

    rows = _file_rows(path)
    regions = dict(Region.objects.values_list("code", "pk"))
    paths = dict(Region.objects.values_list("code", "path"))
    households, persons = {}, []
    for r in rows:
        if r[0] not in households:
            households[r[0]] = (r[0], regions[r[1]], regions.get(r[2]), paths[r[2] or r[1]], r[3], dt.date(2015, 3, 1))
        persons.append((r[0], r[6], "ZS", os.urandom(32).hex(), "a1:" + "g" * 64, r[7][:6], r[7][-4:], "M",
                        dt.date(1980, 1, 1), os.urandom(32).hex(), "a1:" + "g" * 60, "5678", "masses", "head", "living",
                        dt.date(2015, 3, 1)))
    now = dt.datetime.now(dt.timezone.utc)
    pg = connection.vendor == "postgresql"
    hh_cols = "id, number, village_id, grid_id, region_path, address, registered_on, head_id, is_demo, updated_at"
    p_cols = ("id, household_id, name, name_initials, id_hash, id_cipher, id_prefix, id_suffix, gender, birth_date, "
              "phone_hash, phone_cipher, phone_suffix, political_status, relation, status, registered_on, is_demo, "
              "updated_at")
    a_cols = "at, actor_label, channel, action, model, object_id, object_repr, region_path, changes, allowed, reason"
    types = {
        "people_household": ["bigint", "varchar", "bigint", "bigint", "varchar", "varchar", "date", "bigint",
                             "boolean", "timestamptz"],
        "people_person": ["bigint", "bigint"] + ["varchar"] * 7 + ["date"] + ["varchar"] * 6 + ["date", "boolean",
                                                                                             "timestamptz"],
        "core_auditentry": ["timestamptz"] + ["varchar"] * 7 + ["jsonb", "boolean", "varchar"],
    }
    t, c = time.perf_counter(), time.process_time()
    try:
        with transaction.atomic(), connection.cursor() as cur:
            raw = cur.cursor  # the DB-API cursor under Django's wrapper
            if not pg:  # the page cache the import sets for its write pass (exchange.engine)
                raw.execute("PRAGMA cache_size = -65536")

            def first_id(table):
                raw.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
                return raw.fetchone()[0]

            def insert(table, cols, data):
                if pg:
                    from psycopg.types.json import set_json_dumps

                    set_json_dumps(_json_dumps, raw)
                    with raw.copy(f"COPY {table} ({cols}) FROM STDIN (FORMAT BINARY)") as copy:
                        copy.set_types(types[table])
                        for row in data:
                            copy.write_row(row)
                    return
                marks = ", ".join("?" * len(data[0]))
                raw.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})",
                                [tuple(v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else
                                       (_json_dumps(v).decode() if isinstance(v, dict) else v) for v in row)
                                 for row in data])

            h0, p0 = first_id("people_household"), first_id("people_person")
            hh_pk = {number: h0 + i for i, number in enumerate(households)}
            head = {}
            p_rows = []
            for i, p in enumerate(persons):
                head.setdefault(p[0], p0 + i)
                p_rows.append((p0 + i, hh_pk[p[0]]) + p[1:] + (False, now))
            hh_rows = [(hh_pk[h[0]],) + h + (head[h[0]], False, now) for h in households.values()]
            insert("people_household", hh_cols, hh_rows)
            insert("people_person", p_cols, p_rows)
            audit = [(now, "system", "cli", "people.add_person", "people.Person", str(p[0]), p[2], "/15/1506/",
                      {"name": [None, p[2]], "household": [None, str(p[1])], "relation": [None, "head"],
                       "id_suffix": [None, p[7]]}, True, "") for p in p_rows]
            audit += [(now, "system", "cli", "people.create_household", "people.Household", str(h[0]), h[1], h[4],
                       {"number": [None, h[1]], "village": [None, str(h[2])], "grid": [None, str(h[3])],
                        "tags": [None, []]}, True, "") for h in hh_rows]
            insert("core_auditentry", a_cols, audit)
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    s, cpu = time.perf_counter() - t, time.process_time() - c
    out(task="rawwrite", rows=len(rows), seconds=round(s, 3), rows_per_s=round(len(rows) / s),
        cpu_rows_per_s=round(len(rows) / cpu), households=len(households))


def check(path):
    django_setup()
    from yiwang.areas.models import Region
    from yiwang.core.context import request_context
    from yiwang.exchange import actions

    data = Path(path).read_bytes()
    town = Region.objects.get(code=TOWN)
    with request_context(channel="cli"):
        job = actions.upload(sheet_key="households", data=data, name=Path(path).name, region=town, by=None)
        del data
        before = rss_mb()
        phases = Phases()
        phases.install()
        stop = _profile("check")
        phases.begin()
        t = time.perf_counter()
        job = actions.check(job, by=None)
        s = time.perf_counter() - t
        stop and stop()
    if job.status != job.Status.CHECKED:
        raise SystemExit(f"check failed: {job.status} {job.file_error} {job.issues[:5]}")
    out(task="check", job=job.pk, rows=job.total_rows, counts=job.counts, seconds=round(s, 3),
        rows_per_s=round(job.total_rows / s), rss_before_mb=round(before, 1), phases=phases.report(),
        load=os.getloadavg()[0])


def commit(job_id):
    django_setup()
    from yiwang.core.context import request_context
    from yiwang.exchange import actions
    from yiwang.exchange.models import ImportJob

    job = ImportJob.objects.get(pk=job_id)
    before = rss_mb()
    phases = Phases()
    phases.install()
    with request_context(channel="cli"):
        stop = _profile("commit")
        phases.begin()
        t = time.perf_counter()
        job = actions.commit(job, by=None)
        s = time.perf_counter() - t
        stop and stop()
    if job.status != job.Status.COMMITTED:
        raise SystemExit(f"commit failed: {job.status} {job.file_error} {job.issues[:5]}")
    from yiwang.core.models import AuditEntry
    from yiwang.people.models import Household, Person

    entry = AuditEntry.objects.filter(action="exchange.commit", object_id=str(job.pk)).order_by("-id").first()
    out(task="commit", job=job.pk, rows=job.total_rows, counts=job.counts, seconds=round(s, 3),
        from_plan=bool(entry and (entry.changes.get("from_plan") or [None, False])[1]),
        rows_per_s=round(job.total_rows / s), rss_before_mb=round(before, 1), phases=phases.report(),
        load=os.getloadavg()[0], households=Household.objects.count(), persons=Person.objects.count(),
        audit_entries=AuditEntry.objects.filter(action__startswith="people.").count())


def ixp(path, dry_run=False, bulk=False, limit=None):
    django_setup()
    import tablib
    from django.db import transaction

    import ixp_resources as r

    hh_resource, person_resource = ((r.HouseholdBulkResource, r.PersonBulkResource) if bulk
                                    else (r.HouseholdResource, r.PersonResource))

    before = rss_mb()
    t = time.perf_counter()
    with open(path, "rb") as f:
        dataset = tablib.Dataset().load(f, format="xlsx")
    if limit:  # the first ``limit`` rows, cut at a household boundary
        numbers = dataset["户号"]
        end = limit
        while end < len(numbers) and numbers[end] == numbers[end - 1]:
            end += 1
        dataset = tablib.Dataset(*dataset[:end], headers=dataset.headers)
    read_s = time.perf_counter() - t
    n = len(dataset)
    with transaction.atomic():  # both resources or neither, as the product does
        hh = hh_resource().import_data(r.household_dataset(dataset), dry_run=dry_run, raise_errors=True)
        people = person_resource().import_data(dataset, dry_run=dry_run, raise_errors=True)
    s = time.perf_counter() - t
    from yiwang.people.models import Household, Person

    out(task="ixp" + ("-bulk" if bulk else "") + ("-dry-run" if dry_run else ""), rows=n, seconds=round(s, 3), read_seconds=round(read_s, 3),
        rows_per_s=round(n / s), rss_before_mb=round(before, 1),
        totals={"households": dict(hh.totals), "persons": dict(people.totals)},
        households=Household.objects.count(), persons=Person.objects.count())


if __name__ == "__main__":
    task, args = sys.argv[1], sys.argv[2:]
    if task == "setup":
        setup()
    elif task == "openpyxl":
        read_openpyxl(args[0])
    elif task == "calamine":
        read_calamine(args[0])
    elif task == "check":
        check(args[0])
    elif task == "commit":
        commit(int(args[0]))
    elif task == "crypto":
        crypto_floor(args[0])
    elif task == "rawwrite":
        raw_write(args[0])
    elif task == "ixp":
        limit = next((int(a.split("=", 1)[1]) for a in args if a.startswith("--limit=")), None)
        ixp(args[0], dry_run="--dry-run" in args, bulk="--bulk" in args, limit=limit)
    else:
        raise SystemExit(f"unknown task {task}")
