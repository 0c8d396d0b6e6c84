"""Running an import's check or commit in the background, and giving up on jobs whose worker died.

With a Celery broker (production) the work goes to a worker; on the embedded default it runs on a
thread of this process so the page can poll its progress; with ``EXCHANGE_INLINE`` (tests, CLI) it
runs at once. Correctness never depends on which: the job's state is in the database.

A thread is started only once the request that asked for it has been sent (``after=response``): that
request still writes its session at the end, and the thread's first writes would otherwise meet it;
while it runs, page views skip their mere session refresh (``core.sqlite.long_writer``).
A thread whose run raises (before the engine's own error handling could record it) marks its job
failed rather than leaving it 排队中 with nobody working on it.

A job whose worker was killed or crashed stays 检查中 / 导入中 with its data untouched (the engine's
one transaction died with it). ``sweep_stale_jobs`` marks every running job whose task has reported
nothing for ``EXCHANGE_STALE_MINUTES`` failed with ``STALE_REASON``; the user uploads again. It runs on
the exchange pages (a read first: a write only when something is stale, so a page never waits on an
import's lock), from ``yiwang exchange sweep`` (cron) and, with Celery, from beat.
"""
import datetime
import logging
import threading

from celery import shared_task
from django.conf import settings
from django.db import connections
from django.db.models import Q
from django.utils import timezone

log = logging.getLogger("yiwang.exchange")
STALE_REASON = "后台任务中断，数据未改变，请重新导入"


def _load(job_id, user_id):
    from yiwang.accounts.models import User

    from .models import ImportJob

    job = ImportJob.objects.select_related("region").get(pk=job_id)
    user = User.objects.get(pk=user_id) if user_id else None
    return job, user


@shared_task
def run_job(job_id, user_id, commit):
    from . import actions
    from .models import ImportJob

    job, user = _load(job_id, user_id)
    if job.status == ImportJob.Status.FAILED:  # given up on while it waited for a worker: the user was told
        return job.status
    return (actions.commit if commit else actions.check)(job, by=user).status


def _threaded(job_id, user_id, commit):
    from yiwang.core.sqlite import long_writer

    try:
        with long_writer():  # page views meanwhile skip their session refresh (core.sqlite)
            run_job(job_id, user_id, commit)
    except Exception as e:
        log.exception("background import %s did not run", job_id)
        try:
            from .actions import mark_failed

            if not mark_failed(job_id, f"后台任务未能运行，数据未改变，请重新导入（{type(e).__name__}）") and commit:
                _commit_not_started(job_id)
        except Exception:
            log.exception("background import %s: could not record that it did not run", job_id)
    finally:
        # the thread ends here: close its own connections (close_old_connections would keep a
        # PostgreSQL connection within CONN_MAX_AGE open, orphaned, until garbage collection)
        connections.close_all()


def _commit_not_started(job_id):
    """A confirmed job whose thread died before it claimed the job is still 已预览 (its data untouched):
    the page says at once that the import did not start and may be confirmed again (``progress.stalled``)."""
    from django.core.cache import cache

    from .models import ImportJob
    from .progress import CACHE_SECONDS, progress_key

    given_up = {"phase": "queued", "commit": True, "done": 0, "total": 0, "at": 0}
    cache.set(progress_key(job_id), given_up, CACHE_SECONDS)
    ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.CHECKED).update(progress=given_up)


def silent_since(cutoff):
    """Jobs that have not reported since ``cutoff`` (no heartbeat, or none yet and created before it)."""
    return Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)


def stale_cutoff(older_than=None):
    seconds = older_than if older_than is not None else 60 * float(getattr(settings, "EXCHANGE_STALE_MINUTES", 10))
    return timezone.now() - datetime.timedelta(seconds=seconds)


@shared_task(name="yiwang.exchange.sweep_stale")
def sweep_stale_jobs(older_than=None, job_ids=None) -> list:
    """Mark failed the running jobs silent for ``older_than`` seconds (default EXCHANGE_STALE_MINUTES);
    returns their ids. ``job_ids`` limits the sweep to those jobs (a job's own page)."""
    from . import plan
    from .actions import mark_failed
    from .models import ImportJob

    plan.sweep()  # previews' plans older than a day: never confirmed, or their commit died
    cutoff = stale_cutoff(older_than)
    found = ImportJob.objects.filter(silent_since(cutoff), status__in=ImportJob.RUNNING)
    if job_ids is not None:
        found = found.filter(pk__in=job_ids)
    return [pk for pk in found.values_list("pk", flat=True)
            if mark_failed(pk, STALE_REASON, silent_since=silent_since(cutoff))]


def dispatch(job, *, by, commit, after=None):
    """Run the job's check (or commit) in the background. ``after``: the response of the request asking
    for it; a thread then starts when that response has been sent."""
    user_id = by.pk if by is not None else None
    if getattr(settings, "EXCHANGE_INLINE", False):
        return run_job(job.pk, user_id, commit)
    if settings.CELERY_BROKER_URL:
        return run_job.delay(job.pk, user_id, commit)
    thread = threading.Thread(target=_threaded, args=(job.pk, user_id, commit), daemon=True, name=f"import-{job.pk}")
    if after is not None:
        # HttpResponse.close() runs its closers once the server has sent the response (Django's own
        # hook for resources a response holds)
        after._resource_closers.append(thread.start)
    else:
        thread.start()
    return None
