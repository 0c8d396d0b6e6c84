"""``yiwang exchange sweep [--older-than SECONDS]``: mark failed the imports whose worker died.

A job 排队中 / 检查中 / 导入中 whose task has written no progress for ``EXCHANGE_STALE_MINUTES`` (or
``--older-than`` seconds) lost its worker — a killed process or a crashed thread; its data is as before
the import. It is marked 失败 with the reason 后台任务中断，数据未改变，请重新导入, and audited. The
exchange pages do the same when they are opened, and Celery beat every 5 minutes; cron can call this.
"""
from django.core.management.base import BaseCommand

from yiwang.core.context import request_context
from yiwang.exchange import tasks


class Command(BaseCommand):
    help = "导入：把后台任务已中断的导入标为失败 / exchange: fail the imports whose worker died"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="sub", required=True)
        sweep = sub.add_parser("sweep", help="把长时间没有进展的导入标为失败")
        sweep.add_argument("--older-than", type=float, default=None,
                           help="没有进展的秒数（默认：EXCHANGE_STALE_MINUTES 分钟）")

    def handle(self, *args, sub, older_than=None, **options):
        with request_context(channel="cli"):
            ids = tasks.sweep_stale_jobs(older_than=older_than)
        self.stdout.write(f"已标为失败的导入 failed: {len(ids)}" + (f"（#{'、#'.join(map(str, ids))}）" if ids else ""))
