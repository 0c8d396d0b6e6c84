"""``yiwang import SHEET FILE [--region CODE] [--user NAME] [--commit] [--partial]``.

Checks every row (a dry run that writes nothing) and prints the counts and each rejected cell with
its row, column, value and reason; with ``--commit`` it then writes, in one transaction. Progress goes
to stderr. Exit status 1 when the file is rejected.
"""
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from yiwang.accounts.models import User
from yiwang.areas.actions import get_region
from yiwang.areas.models import Region
from yiwang.core.context import request_context
from yiwang.core.errors import ActionError, PermissionRefused
from yiwang.exchange import actions, jobs
from yiwang.exchange.sheets import all_sheets


class Command(BaseCommand):
    help = "从 Excel 导入（先检查，--commit 才写入） / import a sheet from Excel"

    def add_arguments(self, parser):
        parser.add_argument("sheet", help="表格：" + "、".join(s.key for s in all_sheets()))
        parser.add_argument("file")
        parser.add_argument("--region", help="导入到该区域（其外的行被拒绝）；默认为全部")
        parser.add_argument("--user", help="以该用户的权限导入（默认：系统）")
        parser.add_argument("--commit", action="store_true", help="检查通过后写入")
        parser.add_argument("--partial", action="store_true", help="只导入正确的行")

    def handle(self, *args, sheet, file, region=None, user=None, commit=False, partial=False, **opts):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件：{file}")
        by = None
        if user:
            by = User.objects.filter(username=user, is_active=True).first()
            if by is None:
                raise CommandError(f"用户“{user}”不存在")
        try:
            target = get_region(region, user=by) if region else Region.objects.filter(parent__isnull=True).first()
            with request_context(channel="cli"):
                job = actions.upload(sheet_key=sheet, data=path.read_bytes(), name=path.name, region=target, by=by,
                                     partial=partial)
                job = self._run(actions.check, job, by)
                self._report(job)
                if job.status == job.Status.CHECKED and commit:
                    job = self._run(actions.commit, job, by)
                    self._report(job)
        except (ActionError, PermissionRefused) as e:
            raise CommandError(e.text) from None
        if job.status in (job.Status.REJECTED, job.Status.FAILED):
            sys.exit(1)

    def _run(self, fn, job, by):
        import threading

        done = threading.Event()
        holder = {}

        def work():
            try:
                holder["job"] = fn(job, by=by)
            except Exception as e:  # surfaced below, in the main thread
                holder["error"] = e
            finally:
                done.set()

        if not sys.stderr.isatty():
            work()
        else:
            threading.Thread(target=work, daemon=True).start()
            while not done.wait(0.5):
                p = jobs.get_progress(job.pk)
                if p.get("total"):
                    sys.stderr.write(f"\r{p['phase']} {p['done']}/{p['total']} ")
                    sys.stderr.flush()
            sys.stderr.write("\r")
        if "error" in holder:
            raise holder["error"]
        return holder["job"]

    def _report(self, job):
        c = job.counts
        self.stdout.write(f"{job.get_status_display()}：共 {job.total_rows} 行；新增 {c.get('new', 0)}，修改 "
                          f"{c.get('changed', 0)}，未变 {c.get('unchanged', 0)}，错误 {c.get('rejected', 0)}"
                          f"（{job.seconds:.1f} 秒，导入记录 #{job.pk}）")
        if job.file_error:
            self.stdout.write(f"文件错误：{job.file_error}")
        for i in job.issues[:50]:
            self.stdout.write(f"  第 {i['row']} 行 [{i['column']}] “{i['value']}”：{i['reason']}")
        if job.issue_count > 50:
            self.stdout.write(f"  ……共 {job.issue_count} 处错误")
