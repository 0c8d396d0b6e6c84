"""Browser tests: Playwright (sync API) driving Debian's chromium against a live server thread.

- ``e2e_server`` (session): Django's ``LiveServerThread`` with ``StaticFilesHandler`` (so /static/ serves
  the npm vendor assets and the sidecar Swagger UI), on the session's test database with the demo town
  loaded. Tests here use no ``db`` fixture: the server thread must see committed data, so anything a
  test creates is committed and must be uniquely named. (The fixture is deliberately not called
  ``live_server``: pytest-django would then flush the database after each test.)
- ``browser`` (session): chromium from ``YIWANG_CHROMIUM`` (default /usr/bin/chromium), never a
  downloaded one. A missing /usr/bin/chromium skips these tests; a missing ``YIWANG_CHROMIUM`` (set by
  .ci/run, which installs chromium) fails them.
- ``page`` (per test): a fresh context (no cookies), ``base_url`` set to the live server. Every request
  the page makes is recorded; a request to any other host, or an uncaught JavaScript error, fails the test.
"""
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connections

CHROMIUM = os.environ.get("YIWANG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-gpu", "--no-first-run", "--disable-sync"]
SCREENSHOTS = Path(settings.PROJECT_DIR) / "var" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}


def _live_server_thread():
    """Django's ``LiveServerThread`` whose server keeps its request threads, so that the fixture can wait
    for them before it stops sharing the SQLite test connection with them: each closes that connection
    as it ends, and one ending later (a keep-alive socket of the last test) failed the thread-sharing check."""
    import threading

    from django.core.servers.basehttp import ThreadedWSGIServer
    from django.test.testcases import LiveServerThread

    class Server(ThreadedWSGIServer):
        def process_request(self, request, client_address):  # socketserver.ThreadingMixIn's, keeping the thread
            self.request_threads = [t for t in getattr(self, "request_threads", []) if t.is_alive()]
            thread = threading.Thread(target=self.process_request_thread, args=(request, client_address),
                                      daemon=True)
            self.request_threads.append(thread)
            thread.start()

    class Thread(LiveServerThread):
        server_class = Server

        def terminate(self):
            super().terminate()
            for thread in getattr(getattr(self, "httpd", None), "request_threads", []):
                thread.join(timeout=10)

    return Thread


@dataclass
class LiveServer:
    url: str

    @property
    def netloc(self):
        return urlsplit(self.url).netloc


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        reason = f"浏览器测试需要 Debian chromium（{CHROMIUM} 不存在）：apt-get install chromium fonts-noto-cjk"
        if "YIWANG_CHROMIUM" in os.environ:  # asked for explicitly (.ci/run sets it): missing is an error
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop on this thread; Django's ORM would refuse to run
    # beside it. The ORM calls here are ordinary blocking ones (test set-up and checks), so allow them.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    # Django keeps its connections per context (asgiref's Local), and the ORM calls made while Playwright
    # runs happen in another context than those made before: a connection opened before it started would
    # stay open, unreachable, and on PostgreSQL block the drop of the test database at the end.
    connections.close_all()
    try:
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
            connections.close_all()  # those opened while Playwright ran, in its context
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def e2e_server(request, browser, django_db_blocker):
    from django.contrib.staticfiles.handlers import StaticFilesHandler

    # the test database (made here when only browser tests were collected), with the demo town
    request.getfixturevalue("django_db_setup")
    with django_db_blocker.unblock():  # the server thread and the tests read committed data
        from yiwang.people.models import Household

        if not Household.objects.filter(is_demo=True).exists():
            # a transactional test earlier in the session flushed the tables: load the demo town again
            from yiwang.demo import builder

            builder.load(log=lambda msg: None)
        # An in-memory SQLite test database lives in this one connection: hand it to the server thread.
        overrides = {c.alias: c for c in connections.all() if c.vendor == "sqlite" and c.is_in_memory_db()}
        for conn in overrides.values():
            conn.inc_thread_sharing()
        thread = _live_server_thread()("127.0.0.1", StaticFilesHandler, connections_override=overrides, port=0)
        thread.daemon = True
        thread.start()
        thread.is_ready.wait()
        try:
            if thread.error:
                raise thread.error
            yield LiveServer(url=f"http://127.0.0.1:{thread.port}")
        finally:
            thread.terminate()
            for conn in overrides.values():
                conn.dec_thread_sharing()


@dataclass
class Watch:
    """What a page did: every request URL, and uncaught JavaScript errors."""

    server: LiveServer
    requests: list = field(default_factory=list)
    page_errors: list = field(default_factory=list)

    def foreign_requests(self):
        out = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue
            if parts.netloc != self.server.netloc:
                out.append(url)
        return out


@pytest.fixture
def new_page(browser, e2e_server, request):
    """``new_page(viewport=...)`` -> a page in a fresh browser context; checked for foreign requests."""
    contexts = []

    def make(viewport=None, **kwargs):
        context = browser.new_context(base_url=e2e_server.url, viewport=viewport or DESKTOP, locale="zh-CN",
                                      **kwargs)
        context.set_default_timeout(15_000)
        page = context.new_page()
        watch = Watch(e2e_server)
        page.on("request", lambda req: watch.requests.append(req.url))
        page.on("pageerror", lambda err: watch.page_errors.append(str(err)))
        page.watch = watch
        contexts.append((context, watch))
        return page

    yield make
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for context, watch in contexts:
        context.close()
        if not failed:
            assert not watch.foreign_requests(), f"请求离开了本服务器: {watch.foreign_requests()}"
            assert not watch.page_errors, f"页面脚本错误: {watch.page_errors}"


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _unique(prefix):
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def _sign_in(page, username, password=None):
    from yiwang.demo.accounts import DEMO_PASSWORD

    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password or DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    return page


def _screenshot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def unique():
    """``unique("e2e_")`` -> a name no other test (nor an earlier run on a kept database) uses."""
    return _unique


@pytest.fixture
def sign_in():
    """``sign_in(page, "wlne_secretary")`` signs in through the login form (demo password by default)."""
    return _sign_in


@pytest.fixture
def screenshot():
    """``screenshot(page, "name")`` saves a full-page PNG under var/screenshots/ (git-ignored)."""
    return _screenshot
