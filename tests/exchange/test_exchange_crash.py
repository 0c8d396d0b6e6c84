"""A crash or a killed process mid-import leaves the database as it was before the import.

- a crash: the write raises on its 3rd batch (after two batches really went into the tables); the job
  is "failed", the registry is exactly as before, no people.* entry is left in the audit log, and the
  failure itself is audited as a refused commit;
- a killed process: ``yiwang import households BIG.xlsx --commit`` runs as a real subprocess against a
  database file of its own (a copy of the test database: migrated, demo loaded) — or against the
  PostgreSQL test database when the suite runs on PostgreSQL — and is SIGKILLed while its progress
  (printed by the CLI on a terminal) says it is writing. Meanwhile this process reads the job row: the
  progress is there (this process shares no cache with the CLI). Afterwards no household or person of
  the file exists, the database is sound, ``yiwang exchange sweep`` marks the silent job failed, and the
  next import goes in.
"""
import json
import os
import pty
import re
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from exchange_kit import (WLNE, WLNE_GRID1, backup_test_database, household_rows, last_audit_pk, registry, run,
                          xlsx)
from openpyxl import Workbook

from yiwang.core import crypto
from yiwang.core.models import AuditEntry
from yiwang.exchange import actions
from yiwang.exchange.sheets import get_sheet
from yiwang.people import actions as people_actions
from yiwang.people.models import Household, Person

YIWANG = Path(sys.executable).with_name("yiwang")


# --------------------------------------------------------------------------- a crash on the 3rd batch


def test_a_crash_on_the_third_batch_leaves_the_database_as_before(demo_user, monkeypatch):
    user = demo_user("wlne_secretary")
    rows = household_rows("CRASH", 10)  # 20 rows, batches of 4: the 3rd batch is rows 9-12
    job = run("households", xlsx(rows), by=user, commit=False)
    assert job.status == "checked" and job.counts["new"] == 20

    monkeypatch.setattr(get_sheet("households"), "batch_size", 4)
    real, calls = people_actions.upsert_member_rows, []

    def crashing(batch, **kwargs):
        calls.append(len(batch))
        if len(calls) == 3:
            # the first two batches are in the tables, inside the import's transaction
            assert Person.objects.filter(household__number__startswith="CRASH").count() == 8
            raise RuntimeError("磁盘已满（模拟）")
        return real(batch, **kwargs)

    monkeypatch.setattr(people_actions, "upsert_member_rows", crashing)
    before, since = registry(), last_audit_pk()
    job = actions.commit(job, by=user)
    assert calls == [4, 4, 4]
    assert job.status == "failed"
    assert job.file_error == "导入出错，未写入任何数据：磁盘已满（模拟）"
    assert registry() == before
    assert not Household.objects.filter(number__startswith="CRASH").exists()
    assert not AuditEntry.objects.filter(pk__gt=since, action__startswith="people.").exists()
    refusal = AuditEntry.objects.get(pk__gt=since, action="exchange.commit")
    assert refusal.allowed is False and "磁盘已满" in refusal.reason
    # the failed job cannot be confirmed again by mistake
    from yiwang.core.errors import ActionError

    with pytest.raises(ActionError, match="失败"):
        actions.commit(job, by=user)


def test_a_crash_in_a_dry_run_writes_nothing_either(demo_user, monkeypatch):
    user = demo_user("wlne_secretary")
    from yiwang.exchange import actions as exchange_actions

    job = exchange_actions.upload(sheet_key="households", data=xlsx(household_rows("DRYCRASH", 3)), name="x.xlsx",
                                  region=Household.objects.filter(village__code=WLNE).first().village, by=user)

    def crashing(batch, **kwargs):
        raise ValueError("坏数据（模拟）")

    monkeypatch.setattr(people_actions, "upsert_member_rows", crashing)
    before = registry()
    job = exchange_actions.check(job, by=user)
    assert job.status == "failed" and "坏数据" in job.file_error
    assert registry() == before


# --------------------------------------------------------------------------- a killed process


def big_ledger(path, households):
    """``households`` new households of two in 乌兰淖尔 (write-only openpyxl: a real .xlsx, built fast)."""
    rows = household_rows("KILL", households, grid=WLNE_GRID1)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("户籍人员")
    keys = ["number", "village", "grid", "name", "id_number", "relation"]
    ws.append(["户号", "嘎查村代码", "网格代码", "姓名", "身份证号码", "与户主关系"])
    for r in rows:
        ws.append([r[k] for k in keys])
    wb.save(path)
    return [crypto.lookup_hash(r["id_number"]) for r in rows]


class Database:
    """Where the subprocess writes, and how this test reads it back afterwards (another connection)."""

    def __init__(self, tmp, copy=None):
        self.vendor = connection.vendor
        if self.vendor == "sqlite":
            # a file copy of the test database (migrated, the demo loaded), made by ``sqlite_copy``
            self.path = tmp / "yiwang.sqlite3"
            shutil.copyfile(copy, self.path)
            self.url = f"sqlite:///{self.path}"
        else:  # the PostgreSQL test database itself: the demo is committed there
            db = settings.DATABASES["default"]
            password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
            self.url = (f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
                        f"{db['NAME']}")

    def query(self, sql, params=()):
        if self.vendor == "sqlite":
            with sqlite3.connect(self.path) as c:
                return c.execute(sql.replace("%s", "?"), params).fetchall()
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as c:
            return c.execute(sql, params).fetchall()

    def forget_job(self, job_id):
        """PostgreSQL: the subprocess's job row outlives the test's rollback; remove it (never the audit)."""
        if self.vendor != "sqlite" and job_id:
            import psycopg

            with psycopg.connect(self.url, autocommit=True) as c:
                c.execute("DELETE FROM exchange_importjob WHERE id = %s", [job_id])


@pytest.fixture(scope="module")
def sqlite_copy(django_db_setup, django_db_blocker, tmp_path_factory):
    """SQLite: a file copy of the test database, made before any test's transaction begins."""
    if connection.vendor != "sqlite":
        return None
    with django_db_blocker.unblock():
        return backup_test_database(tmp_path_factory.mktemp("yiwang-copy") / "yiwang.sqlite3")


def run_cli(db, tmp, *args):
    env = {**os.environ, "DATABASE_URL": db.url, "YIWANG_VAR_DIR": str(tmp), "PYTHONUNBUFFERED": "1",
           "YIWANG_IMPORT_INLINE": "1"}
    return env, [str(YIWANG), "import", "households", *args]


@pytest.mark.skipif(not YIWANG.exists(), reason="the yiwang console script is not installed in this venv")
def test_a_killed_import_process_leaves_no_person_of_the_file(sqlite_copy, db, capsys):
    tmp = Path(tempfile.mkdtemp(prefix="yiwang-kill-"))
    database = Database(tmp, sqlite_copy)
    persons_before = database.query("SELECT COUNT(*) FROM people_person")[0][0]
    households = 30_000  # 60,000 rows: 30 batches of 2,000 — over a second to write even at 50,000 rows/s
    hashes = big_ledger(tmp / "BIG.xlsx", households)
    env, argv = run_cli(database, tmp, str(tmp / "BIG.xlsx"), "--region", WLNE, "--commit")

    # stderr on a terminal: the CLI then prints its progress ("write 2000/12000"), which says when to kill;
    # stdout says when the preview is over and the commit has begun
    master, slave = pty.openpty()
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=slave, cwd=tmp)
    os.close(slave)
    progress, out, killed_at, job_id, mark = "", b"", None, None, None
    # what the job row says meanwhile, read by this process (which shares no cache with the CLI)
    newest = database.query("SELECT COALESCE(MAX(id), 0) FROM exchange_importjob")[0][0]
    rows_seen, polled = [], 0.0
    try:
        while proc.poll() is None and time.perf_counter() - started < 300:
            if time.perf_counter() - polled > 0.2:
                polled = time.perf_counter()
                rows_seen += database.query("SELECT status, progress FROM exchange_importjob WHERE id > %s AND "
                                            "original_name = 'BIG.xlsx'", [newest])
            ready, _, _ = select.select([master, proc.stdout], [], [], 0.05)
            if master in ready:
                try:
                    progress += os.read(master, 4096).decode(errors="replace")
                except OSError:
                    pass
            if proc.stdout in ready:
                out += os.read(proc.stdout.fileno(), 4096)
            if mark is None and "已预览".encode() in out:
                mark = len(progress)  # the preview (a dry run: it writes too, then rolls back) is over
            written = [int(d) for d, _ in re.findall(r"write (\d+)/(\d+)", progress[mark:])] if mark is not None else []
            if written and 0 < written[-1] < 2 * households:
                os.kill(proc.pid, signal.SIGKILL)  # mid-write: some batches written, not all
                killed_at = (written[-1], time.perf_counter() - started)
                break
        proc.wait(30)
        out += proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    text = out.decode()
    m = re.search(r"导入记录 #(\d+)", text)
    job_id = int(m[1]) if m else None
    try:
        assert killed_at is not None, (f"never saw the commit's write phase (did the import finish between two "
                                       f"progress lines? then make BIG.xlsx bigger): {progress[-300:]!r} {text!r}")
        assert proc.returncode == -signal.SIGKILL
        rows = 2 * households
        assert f"已预览，待确认：共 {rows} 行；新增 {rows}" in text and "已导入" not in text, text

        # nothing of the file is there, the rest is as it was, the database is sound
        marks = ",".join(["%s"] * len(hashes))
        assert database.query(f"SELECT COUNT(*) FROM people_person WHERE id_hash IN ({marks})", hashes)[0][0] == 0
        assert database.query("SELECT COUNT(*) FROM people_household WHERE number LIKE 'KILL%%'")[0][0] == 0
        assert database.query("SELECT COUNT(*) FROM people_person")[0][0] == persons_before
        assert database.query("SELECT COUNT(*) FROM core_auditentry WHERE action LIKE 'people.%%' AND object_repr "
                              "LIKE 'KILL%%'")[0][0] == 0
        assert database.query("SELECT status FROM exchange_importjob WHERE id = %s", [job_id]) == [("committing",)]
        if database.vendor == "sqlite":
            assert database.query("PRAGMA integrity_check") == [("ok",)]

        # the row carried the progress as it went: the check's pass 1 counting up, and on PostgreSQL the
        # write passes too (SQLite has one writer: the import's own write pass holds it)
        seen = [(status, p["phase"], p["done"], p["total"]) for status, p in
                ((status, json.loads(p) if isinstance(p, str) else p) for status, p in rows_seen) if p]
        assert any(st == "checking" and ph == "check" and 0 < done < total for st, ph, done, total in seen), seen
        if database.vendor != "sqlite":
            assert any(ph == "write" and 0 < done < total for _, ph, done, total in seen), seen

        # the killed job is not left 导入中: silent past the limit, the sweep marks it failed, data unchanged
        sweep = [str(YIWANG), "exchange", "sweep", "--older-than"]
        alive = subprocess.run([*sweep, "600"], env=env, capture_output=True, text=True, timeout=120, cwd=tmp)
        assert alive.returncode == 0 and "failed: 0" in alive.stdout, (alive.stdout, alive.stderr)
        time.sleep(3.5)
        swept = subprocess.run([*sweep, "3"], env=env, capture_output=True, text=True, timeout=120, cwd=tmp)
        assert swept.returncode == 0 and f"#{job_id}" in swept.stdout, (swept.stdout, swept.stderr[-2000:])
        assert database.query("SELECT status, file_error FROM exchange_importjob WHERE id = %s", [job_id]) == [
            ("failed", "后台任务中断，数据未改变，请重新导入")]
        assert database.query("SELECT COUNT(*) FROM people_person")[0][0] == persons_before

        # and the next import goes in (no lock, no half-state left behind); on the shared PostgreSQL
        # test database as a dry run only (it writes and rolls back), so later tests see the demo as it was
        small = tmp / "SMALL.xlsx"
        small.write_bytes(xlsx(household_rows("AFTERKILL", 2)))
        commit = ["--commit"] if database.vendor == "sqlite" else []
        env, argv = run_cli(database, tmp, str(small), "--region", WLNE, *commit)
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, cwd=tmp)
        later = re.search(r"导入记录 #(\d+)", done.stdout)
        later_id = int(later[1]) if later else None
        assert done.returncode == 0, (done.stdout, done.stderr)
        if commit:
            assert "已导入：共 4 行；新增 4" in done.stdout, done.stdout
            assert database.query("SELECT COUNT(*) FROM people_person")[0][0] == persons_before + 4
        else:
            assert "已预览，待确认：共 4 行；新增 4" in done.stdout, done.stdout
    finally:
        database.forget_job(job_id)
        database.forget_job(locals().get("later_id"))
    with capsys.disabled():
        print(f"\nkilled `yiwang import` at write {killed_at[0]}/{2 * households} after {killed_at[1]:.1f} s "
              f"({database.vendor})")
