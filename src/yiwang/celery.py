"""Celery app for production background work (Redis broker). On the embedded default tasks run eagerly
in-process (CELERY_TASK_ALWAYS_EAGER), so correctness never depends on a worker running."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
app = Celery("yiwang")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
