"""Where the console's time goes: every SQL query of a console page, timed, and EXPLAIN ANALYZE of the
slow ones, on the cases benchmark database.

    .venv/bin/python bench/cases/explain.py [--min-ms 20] [--profile N] [PATH ...]   # default: run.py's pages

The page is rendered in-process by Django's test client as town_admin (``force_login``), with the
queries captured; each query that took at least --min-ms is run again under ``EXPLAIN (ANALYZE,
BUFFERS)``. Writes bench/cases/results/explain.txt and prints a summary. Reads only (EXPLAIN ANALYZE
of a SELECT runs it; the session row the login writes is the test client's own).

The deep page is run.py's: rows 499,951..500,000 of the newest-first order, reached by the keyset
cursor of row 499,950 (``?older=<cursor>``; the cursor is looked up here with one OFFSET query, which
is not timed). ``--profile N`` also renders each page N times under cProfile and prints the 25 most
expensive functions (cumulative), to see where the Python time goes.
"""
import argparse
import os
import re
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DEEP_ROW = 500_000  # the deep page ends at this row (1-based) of the newest-first order
PAGES = ["/cases/", "/cases/?warning=overdue", "DEEP"]


def deep_page_path(user, last_row=DEEP_ROW, per_page=50):
    """The console URL of rows last_row-per_page+1 .. last_row: ``?older=`` the cursor of the row before."""
    from yiwang.cases.console.tables import DEFAULT_ORDER, encode_cursor
    from yiwang.cases.models import Case

    at, pk = (Case.objects.visible_to(user).order_by(*DEFAULT_ORDER)
              .values_list("reported_at", "id")[last_row - per_page - 1])
    return f"/cases/?older={encode_cursor(at, pk)}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="*", default=PAGES)
    ap.add_argument("--min-ms", type=float, default=20)
    ap.add_argument("--profile", type=int, default=0, metavar="N")
    ap.add_argument("--out", default=str(HERE / "results" / "explain.txt"))
    args = ap.parse_args()
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/yiwang_bench4")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
    os.environ.setdefault("YIWANG_VAR_DIR", str(ROOT / "var" / "bench" / "cases" / "postgresql"))
    os.environ["YIWANG_SWEEP_INLINE_SECONDS"] = "1000000000"  # time the page, not an SLA sweep
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from yiwang.accounts.models import User
    from yiwang.cases.models import Case

    admin = User.objects.get(username="town_admin")
    client = Client()
    client.force_login(admin)
    client.get("/cases/")  # warm: imports, templates, the connection
    out = [f"cases in the database: {Case.objects.count():,}", ""]
    paths = [deep_page_path(admin) if p == "DEEP" else p for p in args.paths]
    for path in paths:
        started = time.monotonic()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        total_ms = (time.monotonic() - started) * 1000
        sql_ms = sum(float(q["time"]) for q in captured.captured_queries) * 1000
        out.append(f"=== GET {path}: {response.status_code}, {total_ms:.0f} ms in all, "
                   f"{len(captured.captured_queries)} queries, {sql_ms:.0f} ms in SQL")
        for i, q in enumerate(captured.captured_queries, 1):
            ms = float(q["time"]) * 1000
            sql = re.sub(r"'[^']{40,}'", "'…'", q["sql"])  # the session's signed data stays out of the file
            out.append(f"  [{i}] {ms:8.1f} ms  {sql[:160]}")
        for i, q in enumerate(captured.captured_queries, 1):
            if float(q["time"]) * 1000 < args.min_ms or not q["sql"].lstrip().upper().startswith("SELECT"):
                continue
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + q["sql"])
                plan = "\n".join("      " + r[0] for r in cursor.fetchall())
            out += ["", f"  --- [{i}] {float(q['time']) * 1000:.1f} ms", "      " + q["sql"], plan]
        out.append("")
        if args.profile:
            profile_lines = profile(client, path, args.profile)
            out += profile_lines
            print("\n".join(profile_lines))
    text = "\n".join(out) + "\n"
    Path(args.out).write_text(text, encoding="utf-8")
    print("\n".join(line for line in out if line.startswith(("===", "  [", "cases"))))


def profile(client, path, times):
    """cProfile of ``times`` renders of ``path``: the top functions by cumulative time, as lines."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    started = time.monotonic()
    profiler.enable()
    for _ in range(times):
        client.get(path)
    profiler.disable()
    each = (time.monotonic() - started) * 1000 / times
    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(25)
    return [f"  --- cProfile of {times} × GET {path}: {each:.0f} ms each (with the profiler's overhead)"] + [
        "      " + line for line in buffer.getvalue().splitlines() if line.strip()]


if __name__ == "__main__":
    main()
