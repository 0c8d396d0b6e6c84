"""The embedded default (SQLite) while an import holds the database: other users' writes wait and go
in, or get a Chinese "busy" answer — never a 500.

- on a file database configured exactly as the embedded default (a copy of the test database, the
  settings' OPTIONS: WAL, ``transaction_mode="IMMEDIATE"``, ``timeout``), a real write transaction
  held longer than Python's 5-second default — as an import's write pass does — and a short write
  from another process (``yiwang shell``: a session saved and a grid renamed through its action):
  both wait their turn and go in;
- the same with a timeout of 1 s, shorter than the long transaction: a page view still answers 200
  (its routine session refresh is skipped, not failed), and a form's write answers 503 with the
  Chinese message and writes nothing.
"""
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from exchange_kit import WLNE_GRID1, backup_test_database

from yiwang.core.sqlite import BUSY

YIWANG = Path(sys.executable).with_name("yiwang")
pytestmark = [pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's one writer at a time; "
                                 "PostgreSQL writers do not lock each other out"),
              pytest.mark.django_db]  # (the copy is made by a module fixture, before the test's transaction)

SHORT_WRITE = f"""
import time
from django.conf import settings
from importlib import import_module
from yiwang.areas import actions
from yiwang.areas.models import Region
started = time.monotonic()
store = import_module(settings.SESSION_ENGINE).SessionStore()
store["region"] = "150627105215"
store.save()
grid = Region.objects.get(code="{WLNE_GRID1}")
actions.update_region(grid, name="并发改名网格", by=None)
print("OK", store.session_key, round(time.monotonic() - started, 2))
"""


@pytest.fixture(scope="module")
def sqlite_copy(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        return backup_test_database(tmp_path_factory.mktemp("yiwang-busy") / "yiwang.sqlite3")


@pytest.mark.skipif(not YIWANG.exists(), reason="the yiwang console script is not installed in this venv")
def test_a_short_write_waits_for_a_long_transaction_and_goes_in(sqlite_copy):
    assert settings.DATABASES["default"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    path = sqlite_copy
    tmp = path.parent
    env = {"DATABASE_URL": f"sqlite:///{path}", "YIWANG_VAR_DIR": str(tmp), "PATH": "/usr/bin:/bin",
           "HOME": str(tmp), "YIWANG_SQLITE_TIMEOUT": "30"}

    # the long writer: a write transaction of its own, like an import's write pass, held for 7 s
    hold, held = 7.0, threading.Event()

    def long_transaction():
        c = sqlite3.connect(path, timeout=30, isolation_level=None)
        c.execute("PRAGMA journal_mode=WAL")
        c.execute("BEGIN IMMEDIATE")
        c.execute("UPDATE areas_region SET note = 'long write' WHERE code = ?", [WLNE_GRID1])
        held.set()
        time.sleep(hold)
        c.execute("COMMIT")
        c.close()

    writer = threading.Thread(target=long_transaction)
    writer.start()
    held.wait(10)
    started = time.monotonic()
    done = subprocess.run([str(YIWANG), "shell", "--no-imports", "-c", SHORT_WRITE], env=env, capture_output=True, text=True,
                          timeout=120, cwd=tmp)
    waited = time.monotonic() - started
    writer.join()
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("OK"), done.stdout
    assert waited > 5.5  # it waited past Python's default 5 s for the long transaction, and went in
    with sqlite3.connect(path) as c:
        assert c.execute("SELECT name, note FROM areas_region WHERE code = ?", [WLNE_GRID1]).fetchone() == (
            "并发改名网格", "long write")
        session_key = done.stdout.split()[1]
        assert c.execute("SELECT COUNT(*) FROM django_session WHERE session_key = ?", [session_key]).fetchone() == (1,)



BUSY_CLIENT = f"""
import sys
from django.test import Client
from yiwang.accounts.models import User
client = Client()
client.force_login(User.objects.get(username="wlne_secretary"))
print("READY", flush=True)
sys.stdin.readline()
page = client.get("/areas/")
print("GET", page.status_code, flush=True)
edit = client.post("/areas/{WLNE_GRID1}/edit/", {{"name": "改不了的名字", "note": "", "boundary": ""}})
print("POST", edit.status_code, edit.headers.get("Retry-After"), flush=True)
print(edit.content.decode(), flush=True)
"""


@pytest.mark.skipif(not YIWANG.exists(), reason="the yiwang console script is not installed in this venv")
def test_past_the_timeout_a_page_answers_and_a_write_gets_the_chinese_busy_page(sqlite_copy):
    path = sqlite_copy
    env = {"DATABASE_URL": f"sqlite:///{path}", "YIWANG_VAR_DIR": str(path.parent), "PATH": "/usr/bin:/bin",
           "HOME": str(path.parent), "YIWANG_SQLITE_TIMEOUT": "1", "YIWANG_SWEEP_INLINE_SECONDS": "0"}
    proc = subprocess.Popen([str(YIWANG), "shell", "--no-imports", "-c", BUSY_CLIENT], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=path.parent)
    try:
        assert proc.stdout.readline().strip() == "READY", proc.stderr.read()[-2000:]
        c = sqlite3.connect(path, timeout=30, isolation_level=None)
        c.execute("BEGIN IMMEDIATE")  # the long writer, as an import's write pass
        c.execute("UPDATE areas_region SET note = 'long write' WHERE code = ?", [WLNE_GRID1])
        proc.stdin.write("go\n")
        proc.stdin.flush()
        out, err = proc.communicate(timeout=60)
        c.execute("COMMIT")
        c.close()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-2000:]
    lines = out.splitlines()
    assert lines[0] == "GET 200", out[:500]
    assert lines[1] == "POST 503 10", out[:500]
    assert BUSY in out
    with sqlite3.connect(path) as c:
        assert c.execute("SELECT name FROM areas_region WHERE code = ?", [WLNE_GRID1]).fetchone() != ("改不了的名字",)
