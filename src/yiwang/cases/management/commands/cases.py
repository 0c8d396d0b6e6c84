"""``yiwang cases sweep``: run the SLA sweep now — record "deadline near" / "overdue" messages that are
due and deliver pending ones — and print the counts.

On the embedded default (no Celery worker) this is the way to sweep on a schedule: cron
``*/5 * * * * yiwang cases sweep``; pages also trigger it at most every 5 minutes (``cases.tasks``).
Running it again or at the same time as another sweep never sends a message twice.
"""
import json

from django.core.management.base import BaseCommand

from yiwang.cases import tasks
from yiwang.cases.models import Notification
from yiwang.core.context import request_context


class Command(BaseCommand):
    help = "诉求：时限巡检（临期、超时提醒）/ cases: the SLA sweep"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="sub", required=True)
        sweep = sub.add_parser("sweep", help="立即巡检时限并发送待发消息")
        sweep.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, sub, format="text", **options):
        with request_context(channel="cli"):
            counts = tasks.sweep()
        counts["failed"] = Notification.objects.filter(status=Notification.Status.FAILED).count()
        counts["pending"] = Notification.objects.filter(status=Notification.Status.PENDING).count()
        if format == "json":
            self.stdout.write(json.dumps(counts, sort_keys=True))
            return
        self.stdout.write(f"临期提醒 deadline near: {counts['deadline_near']}")
        self.stdout.write(f"超时提醒 overdue: {counts['overdue']}")
        self.stdout.write(f"已发送 sent: {counts['sent']}")
        self.stdout.write(f"待发送 pending: {counts['pending']}  发送失败（累计）failed: {counts['failed']}")
