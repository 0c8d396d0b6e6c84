"""An import job: the uploaded file (kept, with its hash and size), who, where, and what it did.

Rows are never deleted: the job is the record of an import for audit and can be downloaded again
by users whose scope covers its region.
"""
from django.conf import settings
from django.db import models
from django.urls import reverse

from yiwang.core.scope import Scope, ScopedQuerySet


class ImportJobQuerySet(ScopedQuerySet):
    def visible_to(self, user, action="view"):
        """A job is seen under the permissions of its sheet (``Sheet.job_permissions``): the household
        ledger by those who see households there, the region list by those who may edit regions, the
        tag list also by those who maintain tags — so the system administrator sees the region and tag
        imports they ran, and never a household ledger. Jobs of an unregistered sheet are seen by nobody."""
        from functools import reduce
        from operator import or_

        from .sheets import all_sheets

        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        groups = {}
        for sheet in all_sheets():
            groups.setdefault(frozenset(sheet.job_permissions(action)), []).append(sheet.key)
        conditions = []
        for perms, keys in groups.items():
            paths = {p for perm in perms for p in user.scope_paths(perm)}
            if paths:
                conditions.append(models.Q(sheet__in=keys)
                                  & reduce(or_, (models.Q(region_path__startswith=p) for p in sorted(paths))))
        return self.filter(reduce(or_, conditions)) if conditions else self.none()


def upload_path(job, filename):
    return f"imports/{job.created_at:%Y/%m}/{job.sha256}.xlsx"


class ImportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        CHECKING = "checking", "检查中"
        CHECKED = "checked", "已预览，待确认"
        REJECTED = "rejected", "有错误，未导入"
        COMMITTING = "committing", "导入中"
        COMMITTED = "committed", "已导入"
        FAILED = "failed", "失败（未写入）"

    sheet = models.CharField("表格", max_length=40)
    file = models.FileField("文件", upload_to=upload_path, max_length=255)
    original_name = models.CharField("文件名", max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    size = models.PositiveBigIntegerField("大小（字节）")
    region = models.ForeignKey("areas.Region", verbose_name="区域", on_delete=models.PROTECT, related_name="+")
    region_path = models.CharField(max_length=255, db_index=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="导入人", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    partial = models.BooleanField("只导入正确的行", default=False)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField("数据行", default=0)
    counts = models.JSONField("统计", default=dict, blank=True)
    issues = models.JSONField("错误（前 1000 处）", default=list, blank=True)
    issues_file = models.FileField("全部错误", upload_to="imports/issues/", blank=True, max_length=255)
    issue_count = models.PositiveIntegerField("错误数", default=0)
    file_error = models.CharField("文件错误", max_length=500, blank=True)
    unknown_headers = models.JSONField(default=list, blank=True)
    checked_at = models.DateTimeField("预览时间", null=True, blank=True)
    committed_at = models.DateTimeField("导入时间", null=True, blank=True)
    committed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="确认人", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    seconds = models.FloatField("耗时（秒）", default=0)
    # what the running task last reported ({"phase", "done", "total", "at"}), written by the task itself
    # (throttled, ``progress.Reporter``) so any server process can show it, with or without a shared cache
    progress = models.JSONField("进度", default=dict, blank=True)
    # when the running task last wrote its progress: a job running but silent for EXCHANGE_STALE_MINUTES
    # lost its worker (killed, crashed) and is marked failed (``tasks.sweep_stale_jobs``)
    heartbeat_at = models.DateTimeField("最近进展", null=True, blank=True)

    scope = Scope(path_lookup="region_path", module="people")  # the household ledger's; see ImportJobQuerySet
    objects = ImportJobQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "导入记录"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.original_name}（{self.get_status_display()}）"

    @property
    def audit_region_path(self):
        return self.region_path

    def get_absolute_url(self):
        return reverse("exchange:job_detail", args=[self.pk])

    RUNNING = (Status.QUEUED, Status.CHECKING, Status.COMMITTING)

    @property
    def finished(self):
        return self.status in (self.Status.CHECKED, self.Status.REJECTED, self.Status.COMMITTED, self.Status.FAILED)
