"""How the embedded default's SQLite database meets concurrent writers (an Excel import above all).

SQLite has one writer at a time; an import holds the write for its whole write pass. Settings give
every write a long wait (``timeout``, ``transaction_mode="IMMEDIATE"``; see ``settings``). Here:

- ``SessionStore``: with ``SESSION_SAVE_EVERY_REQUEST`` every page view rewrites its session only to
  push the idle expiry on. Such a refresh is skipped while a long writer of this process runs
  (``long_writer()``: a background import), since it would only queue behind it, and when it cannot
  get the database in time — the session stays valid, a later request pushes it on — instead of
  failing the page. A session whose data changed (sign-in, region switch) is saved as always.
- ``DatabaseBusyMiddleware``: a view whose own write waited past the timeout answers 503 with a Chinese
  message that nothing was saved and to try again, never a 500.

Nothing here applies to PostgreSQL, whose writers do not lock each other out (the checks match only
SQLite's "locked" errors).
"""
import contextlib
import logging
import threading

from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

log = logging.getLogger("yiwang")
BUSY = "系统正在写入大批数据（例如 Excel 导入），数据库暂时繁忙，您刚才的操作没有保存。请稍等片刻后重试。"


def is_locked(error) -> bool:
    """SQLite's "database is locked" (a writer waited past its timeout) or "database table is locked"
    (a shared-cache database, as in tests, where nothing waits)."""
    return isinstance(error, OperationalError) and "locked" in str(error)


_long_writers = 0
_lock = threading.Lock()


@contextlib.contextmanager
def long_writer():
    """Around work of this process that holds the database for long (a background import)."""
    global _long_writers
    with _lock:
        _long_writers += 1
    try:
        yield
    finally:
        with _lock:
            _long_writers -= 1


class SessionStore(DatabaseSessionStore):
    def save(self, must_create=False):
        if must_create or self.modified:
            return super().save(must_create=must_create)
        if _long_writers:
            return None  # a refresh only: not worth queueing behind an import
        try:
            return super().save()
        except UpdateError as e:
            # Django turns any database error of an update into UpdateError (then "session interrupted",
            # a 400); only the one caused by SQLite's lock is a refresh that can wait for the next request
            if not is_locked(e.__context__):
                raise
            log.info("session refresh skipped: the database is busy (%s)", e.__context__)
            return None


class DatabaseBusyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_locked(exception):
            return None
        log.warning("database busy: %s %s answered 503 (%s)", request.method, request.path, exception)
        if request.path.startswith("/api/"):
            response = JsonResponse({"detail": BUSY, "code": "database_busy"}, status=503)
        else:
            response = HttpResponse(render_to_string("503.html", {"message": BUSY}), status=503)
        response["Retry-After"] = "10"
        return response
