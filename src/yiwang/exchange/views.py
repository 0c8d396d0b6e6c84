"""Import and export pages: upload → preview (progress while checking) → confirm → result; templates;
the original file and the error workbook for download; exports of list pages with their filters."""
import time

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from yiwang.core.errors import ActionError, PermissionRefused
from yiwang.core.permissions import allowed
from yiwang.core.views import ActionFormView, ScopedDetailView, ScopedListView, get_scoped_or_404

from . import actions, jobs, tasks
from .filtersets import ImportJobFilterSet
from .forms import UploadForm
from .models import ImportJob
from .progress import CACHE_SECONDS, progress_key
from .progress import describe as describe_progress
from .sheets import all_sheets, get_sheet
from .tables import ImportJobTable
from .workbook import export_filename, template

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(data, filename):
    from urllib.parse import quote

    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


class JobListView(ScopedListView):
    model = ImportJob
    table_class = ImportJobTable
    filterset_class = ImportJobFilterSet
    title = "导入记录"
    create_url_name = "exchange:upload"
    create_label = "导入 Excel"
    breadcrumbs = [("导入导出", None)]
    template_name = "exchange/job_list.html"

    def get_queryset(self):
        return super().get_queryset().select_related("region", "created_by")

    def get(self, request, *args, **kwargs):
        tasks.sweep_stale_jobs()  # jobs whose worker died are listed as failed, not as running forever
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["sheets"] = all_sheets()
        return ctx


class UploadView(ActionFormView):
    model = ImportJob
    form_class = UploadForm
    title = "导入 Excel"
    template_name = "exchange/upload.html"
    breadcrumbs = [("导入导出", "/exchange/"), ("导入 Excel", None)]
    success_message = "文件已上传"  # the job page itself says whether it is checking or checked

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self):
        from yiwang.core.regions import current_region

        region = current_region(self.request)
        return {"region": region.code if region else None, "sheet": self.request.GET.get("sheet")}

    def perform(self, form):
        d = form.cleaned_data
        self.job = actions.upload(sheet_key=d["sheet"], data=d["file"].read(), name=d["file"].name,
                                  region=d["region"], by=self.request.user, partial=d["partial"])
        return self.job

    def form_valid(self, form):
        self.job = None
        response = super().form_valid(form)
        if self.job is not None:  # uploaded: check it once this response (and its session) is written
            tasks.dispatch(self.job, by=self.request.user, commit=False, after=response)
        return response


class JobDetailView(ScopedDetailView):
    model = ImportJob
    template_name = "exchange/job_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("region", "created_by", "committed_by")

    def get_object(self, queryset=None):
        return given_up_if_stale(super().get_object(queryset))

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["progress"] = describe_progress(self.object, jobs.get_progress(self.object))
        ctx["sheet"] = sheet = get_sheet(self.object.sheet)
        # the kept file and the error rows of a personal-data sheet hold full ID numbers: offer them
        # only to those allowed to see those (the download itself refuses everyone else)
        ctx["can_download"] = not getattr(sheet, "personal_data", False) or allowed(
            self.request.user, "pii.reveal", self.object.region_path)
        ctx["issues"] = self.object.issues if ctx["can_download"] else masked_issues(sheet, self.object.issues)
        return ctx

    def get_breadcrumbs(self):
        return [("导入导出", "/exchange/"), (self.object.original_name, None)]


def given_up_if_stale(job):
    """The job as stored after ``tasks.sweep_stale_jobs`` had a look at it — a write only when the job
    runs and its task has been silent too long (its worker died)."""
    if job.status in ImportJob.RUNNING and (job.heartbeat_at or job.created_at) < tasks.stale_cutoff():
        if tasks.sweep_stale_jobs(job_ids=[job.pk]):
            job.refresh_from_db()
    return job


def masked_issues(sheet, issues):
    """The rejected cells with ID numbers and phones masked, for those who may not see them in full."""
    from yiwang.core.crypto import mask_id_number, mask_phone

    maskers = {c.header: mask_id_number if c.key == "id_number" else mask_phone
               for c in sheet.columns if c.key in ("id_number", "phone")}
    out = []
    for i in issues:
        if i["column"] in maskers and i["value"]:
            masked = maskers[i["column"]](i["value"])  # the reason may quote the value ("电话号码“…”格式错误")
            i = {**i, "value": masked, "reason": i["reason"].replace(i["value"], masked)}
        out.append(i)
    return out


def job_progress(request, pk):
    # A poll is not the user's activity: it neither extends the idle session nor writes at all. (With
    # SESSION_SAVE_EVERY_REQUEST every request writes its session; on SQLite that write would wait on
    # the running import's transaction — the one thing this page is waiting for.)
    request.session.save = lambda *args, **kwargs: None
    job = given_up_if_stale(get_scoped_or_404(ImportJob, request.user, pk=pk))
    progress = describe_progress(job, jobs.get_progress(job))
    if not progress["running"] and request.htmx:
        response = HttpResponse("")
        response["HX-Refresh"] = "true"  # reload the page to show the preview or the result
        return response
    return render(request, "exchange/_progress.html", {"object": job, "progress": progress})


@require_POST
def job_commit(request, pk):
    job = get_scoped_or_404(ImportJob, request.user, pk=pk)
    if job.status != ImportJob.Status.CHECKED:
        messages.error(request, f"该导入当前状态为“{job.get_status_display()}”，不能确认")
        return redirect(job)
    if not request.user.has_any(get_sheet(job.sheet).change_permission):
        raise PermissionDenied
    # until the worker marks the job 导入中, the page must keep polling rather than offer 确认 again — in
    # this process (the cache) and in any other (the row)
    queued = {"phase": "queued", "commit": True, "at": time.time(), "done": 0, "total": 0}
    cache.set(progress_key(job.pk), queued, CACHE_SECONDS)
    ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.CHECKED).update(progress=queued)
    response = redirect(job)
    try:
        tasks.dispatch(job, by=request.user, commit=True, after=response)
    except (ActionError, PermissionRefused) as e:
        cache.delete(progress_key(job.pk))
        ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.CHECKED).update(progress={})
        messages.error(request, e.text)
    # on success the job page says itself whether it is importing or imported
    return response


def job_file(request, pk):
    job = get_scoped_or_404(ImportJob, request.user, pk=pk)
    try:
        data = actions.download(job, by=request.user)
    except PermissionRefused:
        raise PermissionDenied("原始文件含完整身份证号码和电话，需要查看完整信息的权限") from None
    return xlsx_response(data, job.original_name)


def job_errors(request, pk):
    job = get_scoped_or_404(ImportJob, request.user, pk=pk)
    try:
        data = actions.download(job, by=request.user, errors=True)
    except PermissionRefused:
        raise PermissionDenied("错误行含完整身份证号码和电话，需要查看完整信息的权限") from None
    return xlsx_response(data, f"错误行-{job.original_name}")


def sheet_template(request, key):
    try:
        sheet = get_sheet(key)
    except ActionError:
        raise Http404 from None
    if not request.user.has_any(f"{sheet.module}.view"):
        raise Http404
    return xlsx_response(template(sheet), f"{sheet.title}-导入模板.xlsx")


def sheet_export(request, key):
    try:
        sheet = get_sheet(key)
    except ActionError:
        raise Http404 from None
    if not request.user.has_any(f"{sheet.module}.view"):
        raise Http404
    full = request.GET.get("full") == "1"
    if full and not jobs.can_export_full(request.user, key):
        from yiwang.core import audit

        audit.refuse("exchange.export_full", by=request.user, reason="缺少权限 pii.reveal")  # a refusal is audited too
        raise PermissionDenied("无权导出完整身份证号码")
    queryset = sheet.export_for_request(request)
    data = actions.export(sheet_key=key, queryset=queryset, by=request.user, full_pii=full)
    name = export_filename(sheet)
    return xlsx_response(data, name.replace(".xlsx", "-含完整身份证号.xlsx") if full else name)


# function views that read only through get_scoped_or_404(ImportJob, ...) ...
for _view in (job_progress, job_commit, job_file, job_errors):
    _view.scoped = True
    _view.scope_model = ImportJob
# ... or through a sheet's scoped export queryset; sheet_template reads no records (column
# declarations and tag names only)
for _view in (sheet_template, sheet_export):
    _view.scoped = True
