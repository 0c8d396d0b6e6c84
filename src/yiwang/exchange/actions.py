"""Every write of the exchange app: upload (keep the file), check (dry run), commit, and exports.

``upload`` stores the file with its hash and size and records the job; ``check`` runs the engine as a
dry run (keeping its plan for the commit, ``exchange.plan``); ``commit`` runs it for real in one
transaction; ``mark_failed`` gives up on a job whose worker is gone. Each is audited with the file's hash and the
counts. A job runs in the background (``tasks.dispatch``) so the page can show progress; the CLI and
tests run it inline. Exports honour scope and masking; a full-ID export is allowed only with
``pii.reveal`` and is audited as such.
"""
import contextlib
import hashlib
import json
import logging
import time
import traceback

from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from yiwang.core import audit
from yiwang.core.errors import ActionError
from yiwang.core.permissions import require

from . import engine, plan
from .jobs import error_workbook, read_file
from .models import ImportJob
from .progress import CACHE_SECONDS, EMPTY, Reporter, progress_key
from .reader import max_bytes
from .sheets import Context, get_sheet
from .workbook import rows_workbook

log = logging.getLogger("yiwang.exchange")


def upload(*, sheet_key, data: bytes, name, region, by, partial=False) -> ImportJob:
    sheet = get_sheet(sheet_key)
    require(by, sheet.change_permission, region.path, action="exchange.upload")
    if len(data) > max_bytes():
        raise ActionError(f"文件过大：上限 {max_bytes() / 1048576:.0f} MB；请分批导入", field="file")
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        job = ImportJob(sheet=sheet.key, original_name=(name or "upload.xlsx")[:255], sha256=digest, size=len(data),
                        region=region, region_path=region.path,
                        created_by=by if by is not None and by.is_authenticated else None, partial=partial)
        job.created_at = timezone.now()
        job.file.save(f"{digest}.xlsx", ContentFile(data), save=False)
        job.save()
        audit.record("exchange.upload", by=by, obj=job,
                     changes={"sheet": [None, sheet.key], "sha256": [None, digest], "size": [None, len(data)],
                              "name": [None, job.original_name]})
    return job


def _ctx(job, by, commit):
    return Context(user=by, region=job.region, commit=commit, partial=job.partial)


def check(job: ImportJob, *, by) -> ImportJob:
    """Dry run: every row checked and written inside a transaction that is rolled back."""
    require(by, get_sheet(job.sheet).change_permission, job.region_path, action="exchange.check", obj=job)
    return _run(job, by=by, commit=False)


def commit(job: ImportJob, *, by) -> ImportJob:
    sheet = get_sheet(job.sheet)
    require(by, sheet.change_permission, job.region_path, action="exchange.commit", obj=job)
    if job.status != ImportJob.Status.CHECKED:
        raise ActionError(f"该导入当前状态为“{job.get_status_display()}”，只有预览通过的导入可以确认", field="status")
    updated = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.CHECKED).update(
        status=ImportJob.Status.COMMITTING)
    if not updated:  # someone else confirmed it a moment ago
        raise ActionError("该导入已被确认或正在导入", field="status")
    job.status = ImportJob.Status.COMMITTING
    return _run(job, by=by, commit=True)


def _run(job, *, by, commit):
    sheet = get_sheet(job.sheet)
    if not commit:
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.CHECKING)
    report = Reporter(job.pk)
    plan_out = plan_in = None
    try:
        report("start", 0, 0)
        if getattr(sheet, "plan_fingerprint", None) is not None:
            # the preview keeps what it learnt for the commit, which uses it if still true (exchange.plan)
            if commit:
                with contextlib.suppress(plan.Unusable):
                    plan_in = plan.Reader(job)
            else:
                plan_out = plan.Writer(job)
        result = engine.run(sheet, read_file(job), _ctx(job, by, commit), progress=report,
                            plan_out=plan_out, plan_in=plan_in)
    except Exception as e:  # the engine's transaction has rolled back: nothing was written
        log.exception("import %s failed", job.pk)
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.FAILED,
                                                   file_error=f"导入出错，未写入任何数据：{e}"[:500],
                                                   progress={**EMPTY, "phase": "done", "at": time.time()})
        audit.record("exchange.commit" if commit else "exchange.check", by=by, obj=job, allowed=False,
                     reason=traceback.format_exception_only(e)[-1][:400])
        job.refresh_from_db()
        return job
    finally:
        report.close()
        if commit:
            plan.discard(job)
    if commit:
        log.info("import %s committed %s", job.pk, "from its preview's plan" if result.from_plan else
                 f"from the file ({result.plan_unused or 'no plan'})")
    job.total_rows, job.counts, job.seconds = result.total_rows, result.counts, result.seconds
    job.issues = [i.as_dict() for i in result.issues[:1000]]
    if len(result.issues) > 1000:  # every issue is kept for the error workbook; the page shows the first 1000
        payload = json.dumps([i.as_dict() for i in result.issues], ensure_ascii=False).encode()
        job.issues_file.save(f"{job.sha256}-{job.pk}-{'commit' if commit else 'check'}.json", ContentFile(payload),
                             save=False)
    job.issue_count, job.file_error = len(result.issues), result.file_error
    job.unknown_headers = result.unknown_headers
    now = timezone.now()
    if commit and result.committed:
        job.status, job.committed_at = ImportJob.Status.COMMITTED, now
        job.committed_by = by if by is not None and by.is_authenticated else None
    elif commit:  # the records changed since the preview and the checks now refuse rows: nothing written
        job.status = ImportJob.Status.REJECTED
    else:
        job.checked_at = now
        bad = result.file_error or (result.issues and not job.partial)
        job.status = ImportJob.Status.REJECTED if bad else ImportJob.Status.CHECKED
    job.progress = {"phase": "done", "done": job.total_rows, "total": job.total_rows, "at": time.time()}
    with transaction.atomic():
        job.save()
        changes = {"counts": [None, job.counts], "sha256": [None, job.sha256],
                   "issues": [None, job.issue_count], "rows": [None, job.total_rows]}
        if commit:  # whether it wrote what its preview checked (exchange.plan) or read the file again
            changes["from_plan"] = [None, result.from_plan]
        audit.record("exchange.commit" if commit else "exchange.check", by=by, obj=job, changes=changes,
                     reason=job.file_error)
    cache.set(progress_key(job.pk), job.progress, CACHE_SECONDS)
    return job


def mark_failed(job_id, reason, *, silent_since=None) -> bool:
    """The system gives up on a running job whose worker is gone (killed, crashed, never started): it
    becomes 失败 with ``reason`` — never a job that finished meanwhile, nor, with ``silent_since`` (the
    condition under which the sweep found it), one that reported since — and is audited as
    ``exchange.interrupted``. Its data is untouched (the engine's one transaction died with the worker).
    Returns whether it was marked. No user to check: it is the system's own sweep (``tasks``)."""
    jobs = ImportJob.objects.filter(pk=job_id, status__in=ImportJob.RUNNING)
    if silent_since is not None:
        jobs = jobs.filter(silent_since)
    with transaction.atomic():
        was = jobs.values_list("status", flat=True).first()
        updated = was is not None and jobs.update(
            status=ImportJob.Status.FAILED, file_error=reason[:500],
            progress={"phase": "done", "done": 0, "total": 0, "at": time.time()})
        if updated:
            job = ImportJob.objects.get(pk=job_id)
            audit.record("exchange.interrupted", by=None, obj=job, reason=reason,
                         changes={"status": [was, ImportJob.Status.FAILED.value]})
    if updated:
        plan.discard(job)  # it will not be confirmed: its preview's plan goes too
    return bool(updated)


def download(job: ImportJob, *, by, errors=False) -> bytes:
    """The kept file of an import, or its error workbook (the rejected rows as uploaded). A sheet of
    personal data (the household ledger) holds full ID numbers and phones in clear: downloading it needs
    ``pii.reveal`` at the job's region, like revealing one number, and every download is audited."""
    action = "exchange.download_errors" if errors else "exchange.download_file"
    if get_sheet(job.sheet).personal_data:
        require(by, "pii.reveal", job.region_path, action=action, obj=job)
    data = error_workbook(job) if errors else read_file(job)
    audit.record(action, by=by, obj=job)
    return data


def export(*, sheet_key, queryset, by, full_pii=False) -> bytes:
    """Export rows of ``queryset`` (already scoped and filtered by the caller) as the sheet's workbook."""
    sheet = get_sheet(sheet_key)
    if full_pii:
        require(by, "pii.reveal", None, action="exchange.export_full")
    count = queryset.count()
    data = rows_workbook(sheet, sheet.export_rows(queryset, Context(user=by, full_pii=full_pii)))
    paths = by.scope_paths(f"{sheet.module}.view") if by is not None and not by.is_superuser else []
    audit.record("exchange.export_full" if full_pii else "exchange.export", by=by,
                 region_path=paths[0] if paths else "",
                 changes={"sheet": [None, sheet.key], "rows": [None, count], "full_pii": [None, full_pii]})
    return data


__all__ = ["upload", "check", "commit", "mark_failed", "download", "export"]
