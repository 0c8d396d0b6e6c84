"""What the job page's progress bar says, from what the running job reports — and nothing more.

The engine reports ``(phase, done, total)`` (``actions._progress_for``, kept in the cache):

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
import time

from .models import ImportJob

QUEUED_PATIENCE = 120  # seconds a confirmed job may wait for its worker before the page says so


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
