"""The SLA sweep as background work: "deadline near" and "overdue" messages into the outbox, then delivery.

In production Celery beat runs ``sweep`` every 5 minutes (``CELERY_BEAT_SCHEDULE`` in settings) on a
worker. The embedded default has no worker: ``yiwang cases sweep`` runs it at once (cron can call it),
and ``sweep_after_request`` — connected to ``request_finished`` — runs it inline after a response has
been sent, at most once per ``CASES_SWEEP_INLINE_SECONDS`` per cache (a ``cache.add`` claim), never
inside an open transaction (a test's, or a request's own). Running it more often, or twice at once,
is harmless: the outbox's unique keys record each message once, and delivery claims each row first.
Correctness never depends on the sweep: overdue is derived from the records (see ``rates``).
"""
import logging

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from . import notify

log = logging.getLogger("yiwang.notifications")
CLAIM_KEY = "yiwang:cases:sweep-claim"


@shared_task(name="yiwang.cases.sweep")
def sweep() -> dict:
    """Record due deadline messages and deliver pending ones; returns the counts."""
    return notify.sweep()


def inline_interval() -> int:
    """Seconds between inline sweeps on the embedded default; 0 when a Celery broker does the work."""
    if settings.CELERY_BROKER_URL:
        return 0
    return int(getattr(settings, "CASES_SWEEP_INLINE_SECONDS", 300))


def sweep_after_request(sender=None, **kwargs):
    """``request_finished`` receiver: the throttled inline sweep of the embedded default."""
    seconds = inline_interval()
    if seconds <= 0 or connection.in_atomic_block:
        return None
    if not cache.add(CLAIM_KEY, 1, timeout=seconds):  # another request claimed this interval
        return None
    try:
        return sweep()
    except Exception:  # a failing sweep must never break serving pages; the next interval retries
        log.exception("inline SLA sweep failed")
        return None
