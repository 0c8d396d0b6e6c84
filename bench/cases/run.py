"""The cases benchmark: `make bench-cases` (or `.venv/bin/python bench/cases/run.py`).

Under gunicorn (2 workers, ``sync`` worker class by default, ``yiwang.wsgi:application``) on loopback,
in production mode (``YIWANG_ENV=production``: DEBUG off, secure cookies; the secret, field and hash
keys are generated for the run and never written anywhere), against the PostgreSQL database
``yiwang_bench4`` holding the demo town plus 1,000,000 generated cases (bench/cases/generate.py, run
first; it does nothing when the cases are there), wrk measures for --duration seconds each, with
--connections connections (bench/cases/wrk.lua gives requests/s, p95 and the count of each status):
  - Open311 intake: POST /open311/v2/requests.json (api_key, service_code, lat/long, region_code
    cycling through the town's grids, a unique description), with a key made by ``create_api_key``;
  - the dispatch console /cases/ as town_admin (logged in once through the login form; the session
    and csrftoken cookies go in a header), its overdue queue (?warning=overdue) and a page deep in the
    list: rows 499,951..500,000 of the newest-first order (what ?page=10000 was), reached as the console's
    较早 link reaches it, by the keyset cursor of row 499,950 (``?older=<cursor>``, looked up in the
    set-up with one OFFSET query that is not measured); each console scenario after 3 s of unmeasured
    load (``warm_up``), its cold first request timed on its own;
  - the two ceilings, served in the same server by bench/cases/bench_urls.py (bench/cases/
    bench_settings.py; never in the product's URLs): a view that answers at once, and one that does
    one raw INSERT into the same database (a table of its own, emptied when a run starts);
  - the same two ceilings on SQLite (a file under var/bench/cases/sqlite/), unless --no-sqlite.
Every response is counted by status: a figure whose responses were not all 200 is marked so.
Raw outputs go to bench/cases/results/ (latest.json, and wrk's own text per scenario); the section
"## Grid governance: Open311 intake and the dispatch console" of docs/BENCHMARKS.md is rewritten
(only that section). Not part of the test suite or CI. Needs gunicorn (`pip install -e '.[bench]'`),
wrk (Debian: `apt-get install wrk`) and a PostgreSQL server (--pg).

Options: --duration S (30) · --connections N (4) · --threads N (2) · --worker-class sync|gthread ·
--no-sqlite · --no-docs · --pg URL (server, default postgres://postgres@127.0.0.1:5432).
"""
import argparse
import datetime
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
VAR = ROOT / "var" / "bench" / "cases"
RESULTS = HERE / "results"
PG_DB = "yiwang_bench4"
GUNICORN = Path(sys.executable).parent / "gunicorn"
CEILING_TABLE = "bench_ceiling_insert"
DEEP_PAGE = 10000  # the deep scenario shows the rows of this page of 50 (by cursor, not ?page=)
DEEP_ROWS = (DEEP_PAGE - 1) * 50 + 1, DEEP_PAGE * 50
SECTION = "## Grid governance: Open311 intake and the dispatch console"


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --------------------------------------------------------------------------- environment


def server_env(database_url):
    """The server's environment: production mode with keys made for this run only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "YIWANG_", "DJANGO_"))}
    env.pop("REDIS_URL", None)
    env.pop("CELERY_BROKER_URL", None)
    env.update(
        DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="bench_settings",
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(HERE)]),
        YIWANG_ENV="production", YIWANG_SECRET_KEY=secrets.token_urlsafe(64),
        YIWANG_FIELD_KEY=secrets.token_urlsafe(32), YIWANG_HASH_KEY=secrets.token_urlsafe(32),
        YIWANG_VAR_DIR=str(VAR / ("sqlite" if database_url.startswith("sqlite") else "postgresql")),
        YIWANG_LOG_LEVEL="WARNING",
    )
    return env


def prepare(with_product):
    """In the server's environment (same keys): the ceiling table, and for the product an Open311 key
    made by the action, the codes a POST needs and the number of cases. Prints one JSON line."""
    import django

    django.setup()
    from django.db import connection

    with connection.cursor() as cursor:
        serial = "BIGSERIAL" if connection.vendor == "postgresql" else "INTEGER"
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {CEILING_TABLE} (id {serial} PRIMARY KEY, body TEXT NOT NULL)")
        cursor.execute(f"DELETE FROM {CEILING_TABLE}")
    out = {"vendor": connection.vendor}
    if with_product:
        from yiwang.accounts.models import User
        from yiwang.areas.models import Region
        from yiwang.cases import actions
        from yiwang.cases.models import Case, Category

        # the Open311 posts of earlier runs go, so every run starts from the same cases — and the same
        # share of today's 100,000 case numbers already taken (a clash draws again and costs a write);
        # their text is stored NFKC-folded, so the full-width "（压测 n）" posted reads "(压测 n)"
        Case.objects.filter(channel=Case.Channel.OPEN311, description__contains="(压测 ").delete()
        town = Region.objects.get(code="150627105")
        admin = User.objects.get(username="town_admin")
        _, plain = actions.create_api_key(name=f"bench {time.strftime('%Y%m%d-%H%M%S')}", region=town, by=admin)
        leaf = Category.objects.filter(active=True, children__isnull=True, is_emergency=False).order_by("order").first()
        grids = list(Region.objects.filter(path__startswith=town.path, kind=Region.Kind.GRID)
                     .order_by("path").values_list("code", flat=True))
        from yiwang.cases.console.tables import DEFAULT_ORDER, encode_cursor

        # the cursor of the row just before the deep page, in town_admin's newest-first order
        at, pk = (Case.objects.visible_to(admin).order_by(*DEFAULT_ORDER)
                  .values_list("reported_at", "id")[DEEP_ROWS[0] - 2])
        out.update(api_key=plain, service_code=leaf.code, regions=grids, cases=Case.objects.count(),
                   generated=Case.objects.filter(token__startswith="bench").count(),
                   open=Case.objects.filter(state__in=Case.OPEN_STATES).count(),
                   deep_path=f"/cases/?older={encode_cursor(at, pk)}")
    print(json.dumps(out))


def run_prepare(env, with_product):
    proc = subprocess.run([sys.executable, __file__, "--prepare"] + (["--product"] if with_product else []),
                          env=env, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit("prepare failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- server and client


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn in its own process group, stopped by its pid when the block ends."""

    def __init__(self, env, worker_class, workers, label):
        self.env, self.worker_class, self.workers, self.label = env, worker_class, workers, label
        self.port = free_port()
        self.log_path = VAR / f"gunicorn-{label}.log"

    def __enter__(self):
        VAR.mkdir(parents=True, exist_ok=True)
        args = [str(GUNICORN), "yiwang.wsgi:application", "--workers", str(self.workers), "--worker-class",
                self.worker_class, "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning",
                "--graceful-timeout", "5"]
        if self.worker_class == "gthread":
            args += ["--threads", "4"]
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, env=self.env, cwd=ROOT, stdout=self.log_file, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited ({self.proc.returncode}); see {self.log_path}")
            try:
                if request(self.port, "GET", "/bench/empty/")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit(f"gunicorn did not answer in 60 s; see {self.log_path}")

    def __exit__(self, *exc):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log_file.close()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"


def request(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        conn.close()


def cookies_of(headers):
    """name → value of Set-Cookie headers (the cookies are Secure in production: a client on http://
    would not send them back by itself, so they are passed on by hand)."""
    out = {}
    for name, value in headers:
        if name.lower() == "set-cookie":
            key, _, rest = value.partition("=")
            out[key.strip()] = rest.split(";", 1)[0]
    return out


def login(port, username, password):
    """The session of ``username`` through the login form, as a Cookie header value."""
    status, headers, body = request(port, "GET", "/accounts/login/")
    jar = cookies_of(headers)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": username, "password": password})
    cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
    status, headers, _ = request(port, "POST", "/accounts/login/", form, {
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    jar.update(cookies_of(headers))
    if status != 302 or "sessionid" not in jar:
        raise SystemExit(f"login of {username} failed ({status})")
    return "; ".join(f"{k}={v}" for k, v in jar.items())


# --------------------------------------------------------------------------- measuring


def wrk(name, url, args, *, method="GET", body=None, cookie=None, regions=None):
    env = dict(os.environ, WRK_METHOD=method)
    for key, value in (("WRK_BODY", body), ("WRK_COOKIE", cookie), ("WRK_REGIONS", ",".join(regions or []))):
        if value:
            env[key] = value
    load_before = os.getloadavg()[0]
    proc = subprocess.run(["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{args.duration}s",
                           "--timeout", "30s", "-s", str(HERE / "wrk.lua"), url],
                          env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"wrk failed on {name}")
    text = proc.stdout
    (RESULTS / f"wrk-{name}.txt").write_text(f"$ wrk -t{args.threads} -c{args.connections} -d{args.duration}s "
                                             f"-s bench/cases/wrk.lua {url}\n{text}")
    raw = json.loads(text.split("WRKJSON ", 1)[1].splitlines()[0])
    seconds = raw["duration_us"] / 1e6
    ok = raw["statuses"].get("200", 0) + raw["statuses"].get("201", 0)
    result = {"requests": raw["requests"], "seconds": round(seconds, 1),
              "req_per_s": round(raw["requests"] / seconds, 1), "ok_per_s": round(ok / seconds, 1),
              "p50_ms": raw["p50_us"] / 1000, "p95_ms": raw["p95_us"] / 1000, "p99_ms": raw["p99_us"] / 1000,
              "max_ms": raw["max_us"] / 1000, "statuses": raw["statuses"],
              "socket_errors": {k: v for k, v in raw["errors"].items() if v and k != "status"},
              "load_before": round(load_before, 2)}
    log(f"  {name}: {result['req_per_s']:,.0f} req/s, p95 {result['p95_ms']:.1f} ms, statuses {raw['statuses']}")
    return result


def warm_up(url, args, cookie, seconds=3):
    """wrk for a few seconds, not measured, before a console scenario: its figures are then of a running
    server, not of each worker's first console requests (templates compiled, per-process caches of the
    queue counts, choices and region names filled); the cold first request is ``*_first`` below."""
    env = dict(os.environ, WRK_METHOD="GET", WRK_COOKIE=cookie)
    subprocess.run(["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{seconds}s", "--timeout",
                    "30s", "-s", str(HERE / "wrk.lua"), url], env=env, capture_output=True, text=True)


def check(port, method, path, *, body=None, cookie=None, expect=b"", refuse=b""):
    """One request by hand before wrk: the answer must be 200, hold ``expect`` and not ``refuse`` (wrk
    counts statuses but cannot see a login page, or a first page instead of a deep one, served with 200)."""
    headers = {"Cookie": cookie} if cookie else {}
    if body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    started = time.monotonic()
    status, _, content = request(port, method, path, body, headers)
    ms = round((time.monotonic() - started) * 1000, 1)
    if status != 200 or expect not in content or (refuse and refuse in content):
        raise SystemExit(f"{method} {path}: {status}, {content[:300]!r}")
    return {"status": status, "bytes": len(content), "first_ms": ms}


def open311_body(prep, n="{n}", region="{region}"):
    """A form-encoded POST; "{n}" and "{region}" are left for wrk.lua to fill in."""
    quote = urllib.parse.quote_plus
    return (f"api_key={quote(prep['api_key'])}&service_code={quote(prep['service_code'])}&lat=39.412345"
            f"&long=109.734567&region_code={region}&description={quote('路灯不亮，夜间出行不便（压测 ')}{n}{quote('）')}")


def measure_postgres(args, env):
    prep = run_prepare(env, True)
    out = {"data": {k: prep[k] for k in ("cases", "generated", "open")}, "deep_path": prep["deep_path"]}
    log(f"PostgreSQL: {prep['cases']:,} cases ({prep['open']:,} open); gunicorn {args.workers} × {args.worker_class}")
    with Server(env, args.worker_class, args.workers, "postgresql") as server:
        out["empty"] = wrk("pg-empty", server.url("/bench/empty/"), args)
        check(server.port, "POST", "/bench/insert/", body="x=1")
        out["insert"] = wrk("pg-insert", server.url("/bench/insert/"), args, method="POST", body="note=bench-{n}")
        out["open311_first"] = check(server.port, "POST", "/open311/v2/requests.json",
                                     body=open311_body(prep, n="check", region=prep["regions"][0]),
                                     expect=b"service_request_id")
        out["open311"] = wrk("pg-open311-post", server.url("/open311/v2/requests.json"), args, method="POST",
                             body=open311_body(prep), regions=prep["regions"])
        cookie = login(server.port, "town_admin", "Yiwang@2023")
        for name, path in (("console", "/cases/"), ("console_overdue", "/cases/?warning=overdue"),
                           ("console_deep", prep["deep_path"])):
            # the deep page must be one: a refused cursor would show the first page (and its message)
            out[f"{name}_first"] = check(server.port, "GET", path, cookie=cookie, expect=b"yw-case-table",
                                         refuse=b'id="yw-cursor-error"' if name == "console_deep" else b"")
            warm_up(server.url(path), args, cookie)
            out[name] = wrk(f"pg-{name}", server.url(path), args, cookie=cookie)
    out["data"]["cases_after"] = _count_cases(env)
    return out


def _count_cases(env):
    code = ("import django; django.setup(); from yiwang.cases.models import Case; print(Case.objects.count())")
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)
    return int(proc.stdout.strip()) if proc.returncode == 0 else None


def measure_sqlite(args):
    folder = VAR / "sqlite"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    env = server_env(f"sqlite:///{folder / 'bench.sqlite3'}")
    run_prepare(env, False)
    log("SQLite ceilings")
    with Server(env, args.worker_class, args.workers, "sqlite") as server:
        check(server.port, "POST", "/bench/insert/", body="x=1")
        return {"empty": wrk("sqlite-empty", server.url("/bench/empty/"), args),
                "insert": wrk("sqlite-insert", server.url("/bench/insert/"), args, method="POST",
                              body="note=bench-{n}")}


def machine(pg_server):
    info = {"python": platform.python_version(), "platform": platform.platform(), "cores": os.cpu_count()}
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            info["cpu"] = line.split(":", 1)[1].strip()
            break
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            info["ram_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    import sqlite3
    from importlib.metadata import version

    import psycopg

    info["sqlite"] = sqlite3.sqlite_version
    for pkg in ("Django", "gunicorn", "psycopg"):
        info[pkg] = version(pkg)
    info["wrk"] = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split(" [")[0].strip()
    with psycopg.connect(f"{pg_server}/postgres") as conn:
        info["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
    return info


def ensure_database(server_url, name):
    """A fresh machine has no bench database: create it (empty; generate.py migrates and fills it)."""
    import psycopg

    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--product", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--duration", type=int, default=30)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--no-docs", action="store_true")
    ap.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    args = ap.parse_args()
    if args.prepare:
        return prepare(args.product)
    if shutil.which("wrk") is None or not GUNICORN.exists():
        raise SystemExit("needs wrk (apt-get install wrk) and gunicorn (pip install -e '.[bench]')")
    RESULTS.mkdir(exist_ok=True)
    database_url = f"{args.pg}/{PG_DB}"
    log(f"data: bench/cases/generate.py on {PG_DB} (does nothing when the cases are there)")
    ensure_database(args.pg, PG_DB)
    gen_env = {k: v for k, v in os.environ.items() if not k.startswith(("YIWANG_", "DJANGO_"))}
    gen_env.update(DATABASE_URL=database_url, YIWANG_VAR_DIR=str(VAR / "postgresql"))
    subprocess.run([sys.executable, str(HERE / "generate.py"), "--out", str(RESULTS / "generate.json")], env=gen_env,
                   cwd=ROOT, check=True)
    started = time.time()
    results = {"started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
               "machine": machine(args.pg), "load_start": os.getloadavg(),
               "settings": {"duration_s": args.duration, "connections": args.connections, "threads": args.threads,
                            "workers": args.workers, "worker_class": args.worker_class, "deep_page": DEEP_PAGE,
                            "deep_rows": list(DEEP_ROWS), "deep_by": "keyset cursor (?older=)"}}
    generated = HERE / "results" / "generate.json"
    if generated.exists():
        results["generate"] = json.loads(generated.read_text())
    results["postgresql"] = measure_postgres(args, server_env(database_url))
    if not args.no_sqlite:
        results["sqlite"] = measure_sqlite(args)
    results["load_end"] = os.getloadavg()
    results["minutes"] = round((time.time() - started) / 60, 1)
    (RESULTS / "latest.json").write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n")
    if not args.no_docs:
        import report

        report.write(results, ROOT / "docs" / "BENCHMARKS.md")
        log("wrote docs/BENCHMARKS.md (its cases section) and bench/cases/results/latest.json")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
