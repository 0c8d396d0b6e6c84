"""What a running job reports (``Reporter``) and what the job page's progress bar says from it — and
nothing more.

The engine reports ``(phase, done, total)``; ``Reporter`` keeps each report in the cache at once (the
fast path: one process, or several sharing Redis) and writes it to the job row (``progress``,
``heartbeat_at``) at most every ``DB_EVERY`` seconds and on each change of phase, so a page served by
another process without a shared cache still reads it (``jobs.get_progress`` takes the newer of the
two). The row is written through a connection of its own in autocommit, never inside the engine's
transaction (there it would be invisible until the end, and rolled back by a dry run). On SQLite, which
has one writer at a time, that write never waits: while the import's write pass holds the database it
is skipped, so the row's figures stand still during that pass (the cache still moves).

- ``start``: the file is being opened and read;
- ``check``: pass 1, every 5,000 rows; ``total`` is the sheet's height as the file stores it
  (it may count trailing blank rows, so it is shown as "约");
- ``write``: pass 2 after each batch — for a preview a trial write that is rolled back, for a
  confirmed import the real one; ``total`` is the data rows pass 1 saw;
- ``done``.

Pass 1 fills the first half of the bar and pass 2 the second, so the bar never runs backwards between
the passes and shows 100 % only when the job has finished. While nothing has been counted yet the bar
is indeterminate (no width is claimed). ``views.job_commit`` marks a confirmed job ``queued`` until the
worker picks it up, so the page keeps polling instead of showing the preview again.
"""
import logging
import time

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.utils import timezone

from .models import ImportJob

log = logging.getLogger("yiwang.exchange")
QUEUED_PATIENCE = 120  # seconds a confirmed job may wait for its worker before the page says so
DB_EVERY = 1.0  # seconds between two progress writes to the job row (a change of phase is written at once)
CACHE_SECONDS = 3600
EMPTY = {"phase": "", "done": 0, "total": 0}


def progress_key(job_id):
    return f"yiwang:exchange:job:{job_id}:progress"


class Reporter:
    """The ``progress(phase, done, total)`` callback of one run of one job. Call ``close`` at the end."""

    def __init__(self, job_id):
        self.job_id = job_id
        self.phase, self.written, self.side = None, 0.0, None

    def __call__(self, phase, done, total, **extra):
        entry = {"phase": phase, "done": done, "total": total, "at": time.time(), **extra}
        cache.set(progress_key(self.job_id), entry, CACHE_SECONDS)
        if phase != self.phase or entry["at"] - self.written >= DB_EVERY:
            self.phase = phase
            if self._store(entry):
                self.written = entry["at"]

    def _store(self, entry):
        """Write ``entry`` to the row if it can be done without waiting; False when it was skipped."""
        try:
            if self.side is None:
                self.side = connections.create_connection(DEFAULT_DB_ALIAS)
                with self.side.cursor() as cursor:
                    if self.side.vendor == "sqlite":
                        cursor.execute("PRAGMA busy_timeout = 0")  # SQLite's one writer may be this job's own pass
                    elif self.side.vendor == "postgresql":
                        cursor.execute("SET lock_timeout = '1s'")
            ops = self.side.ops
            with self.side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {ImportJob._meta.db_table} SET progress = %s, heartbeat_at = %s "
                    f"WHERE id = %s AND status IN ({', '.join(['%s'] * len(ImportJob.RUNNING))})",
                    [ops.adapt_json_value(entry, None), ops.adapt_datetimefield_value(timezone.now()), self.job_id,
                     *[str(s) for s in ImportJob.RUNNING]])
            return True
        except DatabaseError as e:  # locked (SQLite's writer is busy), or a test's uncommitted job: the cache has it
            log.debug("progress of import %s not stored: %s", self.job_id, e)
            return False

    def close(self):
        if self.side is not None:
            raw = self.side.connection
            self.side.close()
            if raw is not None and self.side.vendor == "sqlite" and self.side.is_in_memory_db():
                # Django keeps an in-memory database's connections open (tests); this one is ours
                raw.close()
            self.side = None


def running(job, progress):
    """Whether the page should show the bar and poll: the job is unfinished, or confirmed and waiting."""
    if not job.finished:
        return True
    return job.status == ImportJob.Status.CHECKED and progress.get("phase") == "queued" and not stalled(progress)


def stalled(progress):
    return progress.get("phase") == "queued" and time.time() - progress.get("at", time.time()) > QUEUED_PATIENCE


def describe(job, progress):
    phase = progress.get("phase") or ""
    done, total = int(progress.get("done") or 0), int(progress.get("total") or 0)
    committing = job.status == ImportJob.Status.COMMITTING or phase == "queued" and progress.get("commit")
    if not job.finished and phase == "done":  # a previous run's "done" before this run reported "start"
        phase, done, total = "start", 0, 0
    view = {"phase": phase, "done": done, "total": total, "percent": None, "step": 0, "steps": 2,
            "committing": committing, "label": "", "detail": "", "running": running(job, progress)}
    if phase == "queued" or (not phase and job.status == ImportJob.Status.QUEUED):
        view["label"] = "排队等待后台处理…"
    elif phase in ("", "start"):
        view["label"] = "正在读取文件…"
    elif phase == "check":
        view.update(step=1, label="第 1 步（共 2 步）：逐行检查")
        view["percent"] = min(49, done * 50 // total) if total else 0
        view["detail"] = (f"已检查 {done:,} 行" + (f"，共约 {total:,} 行" if total else "")) if done else "正在检查…"
    elif phase == "write":
        view.update(step=2, label="第 2 步（共 2 步）：" + ("写入数据库" if committing else "试算新增和修改（不保存）"))
        view["percent"] = 50 + min(49, done * 50 // total) if total else 50
        view["detail"] = f"{done:,} / {total:,} 行"
    elif phase == "done":
        view.update(step=2, percent=100, label="完成，正在显示结果…")
    return view
