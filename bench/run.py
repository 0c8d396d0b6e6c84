"""The Excel import benchmark: `make bench` (or `.venv/bin/python bench/run.py`). Writes docs/BENCHMARKS.md.

For a workbook of 100,000 households (≈300,000 person rows, the 14 columns of the households sheet,
generated once and cached under var/bench/), in one run on this machine:
  - the parse ceilings: the same file read raw by openpyxl (read-only mode) and by python-calamine;
  - the floors of the work every import of this sheet must do: the per-row ID check, keyed hashes and
    encryption alone, and the same rows inserted by raw SQL alone (per database);
  - the product (upload → dry run → commit, as the CLI and the UI run it) on SQLite (a fresh file under
    var/bench/sqlite/) and on PostgreSQL (the database ``yiwang_bench``, dropped and created anew);
    the commit three times from the dry run's state (the median is the figure); then a re-import dry
    run of the same file (every row unchanged: the diff path);
  - django-import-export importing the same rows (bench/ixp_resources.py), with its defaults and in its
    bulk mode, on the first --ixp-rows rows (it runs ~100–300 rows/s: the whole file would take hours);
  - the peak RSS of each measured process.
Every measurement runs in its own process (bench/worker.py) so each peak RSS is its own. Nothing
here touches var/yiwang.sqlite3 or a test database. Not part of the test suite or CI.

Options: --households N (default 100000) · --ixp-rows N (default 15000; 0 = all) · --no-postgres ·
--no-ixp · --pg URL (server, default postgres://postgres@127.0.0.1:5432) · --out FILE (default
docs/BENCHMARKS.md).
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
VAR = ROOT / "var" / "bench"
PY = sys.executable
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402

PG_DB = "yiwang_bench"


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def worker(env, *args):
    """Run one measurement in a fresh process; return its JSON line."""
    proc = subprocess.run([PY, str(BENCH / "worker.py"), *map(str, args)], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"worker {args[0]} failed ({proc.returncode})")
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1]
    result = json.loads(line)
    log(f"  {args[0]}: {result.get('rows_per_s', '')} rows/s, peak RSS {result.get('peak_rss_mb')} MB"
        f" ({result.get('seconds', '')} s)")
    return result


def base_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "YIWANG_"))}
    env.update(DJANGO_SETTINGS_MODULE="yiwang.settings", YIWANG_DEBUG="0", PYTHONPATH=str(ROOT / "src"))
    env.pop("REDIS_URL", None)  # progress goes to the in-process cache: no server in the figures
    return env


def sqlite_env():
    folder = VAR / "sqlite"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    env = base_env()
    env.update(DATABASE_URL=f"sqlite:///{folder / 'bench.sqlite3'}", YIWANG_VAR_DIR=str(folder))
    return env


def pg_admin(server, *statements):
    """Run statements on the server's maintenance database (autocommit: CREATE DATABASE needs it)."""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def pg_env(server):
    pg_admin(server, f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)', f'CREATE DATABASE "{PG_DB}"')
    folder = VAR / "postgresql"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    env = base_env()
    env.update(DATABASE_URL=f"{server}/{PG_DB}", YIWANG_VAR_DIR=str(folder))
    return env


def machine(pg_server, with_pg):
    info = {"python": platform.python_version(), "platform": platform.platform(), "cores": os.cpu_count()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["ram_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    import sqlite3
    from importlib.metadata import version

    info["sqlite"] = sqlite3.sqlite_version
    for pkg in ("Django", "python-calamine", "openpyxl", "psycopg", "cryptography", "django-import-export", "tablib"):
        try:
            info[pkg] = version(pkg)
        except Exception:
            info[pkg] = "—"
    if with_pg:
        import psycopg

        with psycopg.connect(f"{pg_server}/postgres") as conn:
            info["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
    return info


def raw_write(env, path, label):
    log(f"{label}: the same rows by raw SQL (rolled back)")
    worker(env, "setup")
    return worker(env, "rawwrite", path)


COMMIT_RUNS = 3


class Snapshot:
    """The benchmark's var folder (the upload, the plan; on SQLite the database file too) as the dry run
    left it, put back before a commit."""

    def __init__(self, env):
        self.folder = Path(env["YIWANG_VAR_DIR"])
        self.copy = self.folder.with_name(self.folder.name + ".snapshot")

    def take(self):
        shutil.rmtree(self.copy, ignore_errors=True)
        shutil.copytree(self.folder, self.copy)

    def restore(self):
        shutil.rmtree(self.folder)
        shutil.copytree(self.copy, self.folder)

    def before_commit(self):
        pass

    def drop(self):
        shutil.rmtree(self.copy, ignore_errors=True)


class PgSnapshot(Snapshot):
    """The same on PostgreSQL: the benchmark database copied as a template (file copy, which checkpoints
    first, so the copy writes no WAL that the next commit would wait on), and a CHECKPOINT before every
    commit, so that each starts with the same dirty pages and full-page writes ahead of it."""

    def __init__(self, env, server):
        super().__init__(env)
        self.server, self.snap = server, PG_DB + "_snapshot"

    def _copy(self, source, target):
        try:
            pg_admin(self.server, f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)',
                     f'CREATE DATABASE "{target}" TEMPLATE "{source}" STRATEGY FILE_COPY')
        except Exception:  # PostgreSQL before 15: no STRATEGY, and file copy is the only way
            pg_admin(self.server, f'CREATE DATABASE "{target}" TEMPLATE "{source}"')

    def take(self):
        super().take()
        self._copy(PG_DB, self.snap)

    def restore(self):
        super().restore()
        self._copy(self.snap, PG_DB)

    def before_commit(self):
        pg_admin(self.server, "CHECKPOINT")

    def drop(self):
        super().drop()
        pg_admin(self.server, f'DROP DATABASE IF EXISTS "{self.snap}" WITH (FORCE)')


def product(env, path, label, snapshot):
    """Setup, the dry run, then its commit COMMIT_RUNS times from the same state (the machine's speed
    drifts by tens of percent within minutes: the median run is the figure, all are kept), then a
    re-import dry run of the same file."""
    log(f"{label}: setup (migrate, the demo town's regions and grids, tags)")
    worker(env, "setup")
    log(f"{label}: import {path.name}")
    check = worker(env, "check", path)
    snapshot.take()
    runs = []
    for i in range(COMMIT_RUNS):
        if i:
            snapshot.restore()
        snapshot.before_commit()
        runs.append(worker(env, "commit", check["job"]))
    snapshot.drop()
    commit = dict(sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2],
                  runs=[{"seconds": r["seconds"], "rows_per_s": r["rows_per_s"]} for r in runs])
    again = worker(env, "check", path)
    return {"check": check, "commit": commit, "reimport_check": again}


def ixp(env_factory, path, rows, label):
    out = {}
    for mode in ("default", "bulk"):
        env = env_factory()
        worker(env, "setup")
        log(f"{label}: django-import-export ({mode}) on {rows or 'all'} rows")
        args = ["ixp", path] + (["--bulk"] if mode == "bulk" else []) + ([f"--limit={rows}"] if rows else [])
        out[mode] = worker(env, *args)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=100_000)
    ap.add_argument("--ixp-rows", type=int, default=15_000)
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--no-ixp", action="store_true")
    ap.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    ap.add_argument("--out", default=str(ROOT / "docs" / "BENCHMARKS.md"))
    args = ap.parse_args()

    started = time.time()
    path, persons = generate.workbook(VAR, args.households, log=log)
    results = {"started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
               "file": {"name": path.name, "bytes": path.stat().st_size, "households": args.households,
                        "rows": persons, "sha256": generate.sha256(path)},
               "machine": machine(args.pg, not args.no_postgres), "load_start": os.getloadavg()}
    log(f"file: {path.name}, {persons:,} person rows, {path.stat().st_size / 1e6:.1f} MB")
    env = base_env()
    results["ceilings"] = {"openpyxl": worker(env, "openpyxl", path), "calamine": worker(env, "calamine", path)}
    results["ceilings"]["crypto"] = worker(sqlite_env(), "crypto", path)
    results["ceilings"]["rawwrite_sqlite"] = raw_write(sqlite_env(), path, "SQLite")
    env = sqlite_env()
    results["sqlite"] = product(env, path, "SQLite", Snapshot(env))
    if not args.no_postgres:
        results["ceilings"]["rawwrite_postgresql"] = raw_write(pg_env(args.pg), path, "PostgreSQL")
        env = pg_env(args.pg)
        results["postgresql"] = product(env, path, "PostgreSQL", PgSnapshot(env, args.pg))
    if not args.no_ixp:
        results["ixp"] = {"sqlite": ixp(sqlite_env, path, args.ixp_rows, "SQLite")}
        if not args.no_postgres:
            results["ixp"]["postgresql"] = ixp(lambda: pg_env(args.pg), path, args.ixp_rows, "PostgreSQL")
    results["load_end"] = os.getloadavg()
    results["minutes"] = round((time.time() - started) / 60, 1)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (VAR / f"results-{stamp}.json").write_text(json.dumps(results, ensure_ascii=False, indent=1))
    import report

    out = Path(args.out)
    text = report.render(results)
    # keep the sections other benchmarks write into the same file (bench/cases: its own "## " section)
    cases_section = "## Grid governance: Open311 intake and the dispatch console"
    if out.exists() and cases_section in (old := out.read_text()):
        kept = old[old.index(cases_section):]
        text = text.rstrip("\n") + "\n\n" + kept
    out.write_text(text)
    log(f"wrote {args.out} and var/bench/results-{stamp}.json in {results['minutes']} min")


if __name__ == "__main__":
    main()
