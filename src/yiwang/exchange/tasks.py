"""Running an import's check or commit in the background.

With a Celery broker (production) the work goes to a worker; on the embedded default it runs on a
thread of this process so the page can poll its progress; with ``EXCHANGE_INLINE`` (tests, CLI) it
runs at once. Correctness never depends on which: the job's state is in the database.
"""
import threading

from celery import shared_task
from django.conf import settings
from django.db import connections


def _load(job_id, user_id):
    from yiwang.accounts.models import User

    from .models import ImportJob

    job = ImportJob.objects.select_related("region").get(pk=job_id)
    user = User.objects.get(pk=user_id) if user_id else None
    return job, user


@shared_task
def run_job(job_id, user_id, commit):
    from . import actions

    job, user = _load(job_id, user_id)
    return (actions.commit if commit else actions.check)(job, by=user).status


def _threaded(job_id, user_id, commit):
    try:
        run_job(job_id, user_id, commit)
    finally:
        # the thread ends here: close its own connections (close_old_connections would keep a
        # PostgreSQL connection within CONN_MAX_AGE open, orphaned, until garbage collection)
        connections.close_all()


def dispatch(job, *, by, commit):
    user_id = by.pk if by is not None else None
    if getattr(settings, "EXCHANGE_INLINE", False):
        return run_job(job.pk, user_id, commit)
    if settings.CELERY_BROKER_URL:
        return run_job.delay(job.pk, user_id, commit)
    threading.Thread(target=_threaded, args=(job.pk, user_id, commit), daemon=True,
                     name=f"import-{job.pk}").start()
    return None
