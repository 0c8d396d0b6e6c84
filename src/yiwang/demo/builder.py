"""Build the demo town: run every registered step inside one transaction under the "demo" channel."""
from django.db import transaction

from yiwang.core.context import request_context

from . import steps as _steps  # noqa: F401  (registers the steps)
from .registry import DemoContext, TOWN_CODE, steps


def is_loaded() -> bool:
    from yiwang.accounts.models import User
    from yiwang.areas.models import Region

    return Region.objects.filter(code=TOWN_CODE).exists() and User.objects.filter(is_demo=True).exists()


def load(log=print):
    ctx = DemoContext(log=log)
    with request_context(channel="demo"), transaction.atomic():
        for step in steps():
            step(ctx)
    return ctx
