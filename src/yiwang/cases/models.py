"""Resident cases (诉求/矛盾纠纷/安全隐患 …) from report to rating, with their timeline, photos, deadline
extensions, 吹哨 calls to departments, the notification outbox and Open311 API keys.

A case's ``region_path`` is the path of the grid (or village) where it happened, so scope is one prefix
filter as everywhere else. Deadlines are fixed at intake from the category's policy (``accept_due``,
``resolve_due``); whether a case is overdue is derived from those and the timestamps, never stored, so
correctness does not depend on a sweep having run. ``version`` makes every transition a conditional
update: of two people acting on the same case at once, one wins and the other is told.
"""
import datetime

from django.db import models
from django.urls import reverse
from django.utils import timezone

from yiwang.core.scope import Scope, ScopedQuerySet


class Category(models.Model):
    """分类 with its policy: accept within ``accept_hours``, resolve within ``resolve_hours``; yellow and
    red warnings when that share of the resolve window has passed. Reference data of the whole system."""

    code = models.SlugField("代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=40)
    parent = models.ForeignKey("self", verbose_name="上级分类", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children")
    accept_hours = models.PositiveIntegerField("受理时限（小时）", default=24)
    resolve_hours = models.PositiveIntegerField("办结时限（小时）", default=168)
    yellow_pct = models.PositiveSmallIntegerField("黄色预警（时限已用 %）", default=50)
    red_pct = models.PositiveSmallIntegerField("红色预警（时限已用 %）", default=80)
    is_emergency = models.BooleanField("紧急类", default=False)
    active = models.BooleanField("启用", default=True)
    order = models.PositiveSmallIntegerField(default=100)
    # the newest of these is the Open311 discovery document's changeset (the services are the categories)
    changed_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "诉求分类"
        ordering = ["order", "code"]

    def __str__(self):
        return f"{self.parent.name} / {self.name}" if self.parent_id and self.parent else self.name


class Department(models.Model):
    """A town department a case can be dispatched to or whistled (吹哨): 派出所, 司法所, 供电所, ..."""

    code = models.SlugField("代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=60)
    region = models.ForeignKey("areas.Region", verbose_name="所属区域", on_delete=models.PROTECT,
                               related_name="departments")
    phone = models.CharField("电话", max_length=30, blank=True)
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "职能部门"
        ordering = ["code"]

    def __str__(self):
        return self.name


class Case(models.Model):
    class Channel(models.TextChoices):
        GRID = "grid", "网格员上报"
        RESIDENT = "resident", "群众手机上报"
        WALK_IN = "walk_in", "服务中心来访"
        HOTLINE = "hotline", "12345热线转办"
        INSPECTION = "inspection", "巡查发现"
        OPEN311 = "open311", "Open311 接口"

    class State(models.TextChoices):
        SUBMITTED = "submitted", "待受理"
        ACCEPTED = "accepted", "已受理"
        REJECTED = "rejected", "不予受理"
        MERGED = "merged", "已合并"
        IN_PROGRESS = "in_progress", "办理中"
        ESCALATED = "escalated", "已上报"
        RESOLVED = "resolved", "已办结待评价"
        CLOSED = "closed", "已关闭"

    class Level(models.TextChoices):
        GRID = "grid", "网格"
        VILLAGE = "village", "村"
        TOWN = "town", "镇"
        DEPARTMENT = "department", "部门"

    class Rating(models.TextChoices):
        SATISFIED = "satisfied", "满意"
        BASIC = "basic", "基本满意"
        DISSATISFIED = "dissatisfied", "不满意"

    class Supervision(models.TextChoices):
        NONE = "", "无"
        YELLOW = "yellow", "黄牌督办"
        RED = "red", "红牌督办"

    OPEN_STATES = (State.SUBMITTED, State.ACCEPTED, State.IN_PROGRESS, State.ESCALATED)
    ACTIVE_STATES = OPEN_STATES + (State.RESOLVED,)  # still someone's work: handling, or awaiting a rating
    DONE_STATES = (State.RESOLVED, State.CLOSED)

    number = models.CharField("编号", max_length=20, unique=True)
    token = models.CharField(max_length=32, unique=True, editable=False)  # Open311 token; unguessable
    channel = models.CharField("来源渠道", max_length=20, choices=Channel.choices)
    category = models.ForeignKey(Category, verbose_name="分类", on_delete=models.PROTECT, related_name="cases")
    region = models.ForeignKey("areas.Region", verbose_name="所在网格/村", on_delete=models.PROTECT,
                               related_name="cases")
    # indexes of region_path, state, reporter_phone_hash and reported_at: Meta.indexes (one each, no twins)
    region_path = models.CharField("区域路径", max_length=255, editable=False)
    household = models.ForeignKey("people.Household", verbose_name="涉及户", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="cases")
    reporter = models.ForeignKey("accounts.User", verbose_name="报告人账号", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="reported_cases")
    reporter_name = models.CharField("报告人", max_length=50, blank=True)
    reporter_phone_hash = models.CharField(max_length=64, blank=True, editable=False)
    reporter_phone_cipher = models.TextField(blank=True, editable=False)
    reporter_phone_suffix = models.CharField(max_length=4, blank=True, editable=False)
    title = models.CharField("标题", max_length=100)
    description = models.TextField("描述")
    address = models.CharField("地点", max_length=200, blank=True)
    latitude = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)

    state = models.CharField("状态", max_length=20, choices=State.choices, default=State.SUBMITTED)
    level = models.CharField("办理层级", max_length=20, choices=Level.choices, default=Level.GRID)
    handler = models.ForeignKey("accounts.User", verbose_name="承办人", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="handled_cases")
    department = models.ForeignKey(Department, verbose_name="承办部门", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="cases")
    merged_into = models.ForeignKey("self", verbose_name="合并到", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="duplicates")
    reject_reason = models.CharField("不予受理理由", max_length=200, blank=True)
    result = models.TextField("办理结果", blank=True)

    reported_at = models.DateTimeField("上报时间")
    accept_due = models.DateTimeField("受理时限")
    resolve_due = models.DateTimeField("办结时限")
    accepted_at = models.DateTimeField("受理时间", null=True, blank=True)
    resolved_at = models.DateTimeField("办结时间", null=True, blank=True)
    closed_at = models.DateTimeField("关闭时间", null=True, blank=True)
    rating = models.CharField("评价", max_length=20, choices=Rating.choices, blank=True)
    rating_comment = models.CharField("评价意见", max_length=200, blank=True)
    rated_at = models.DateTimeField("评价时间", null=True, blank=True)
    first_rating = models.CharField("首次评价", max_length=20, choices=Rating.choices, blank=True)
    reopen_count = models.PositiveSmallIntegerField("重办次数", default=0)
    supervision = models.CharField("督办", max_length=10, choices=Supervision.choices, blank=True, default="")
    supervised_at = models.DateTimeField("督办时间", null=True, blank=True)

    version = models.PositiveIntegerField(default=1)
    is_demo = models.BooleanField("演示数据", default=False)
    updated_at = models.DateTimeField(auto_now=True)

    scope = Scope(path_lookup="region_path", module="cases")
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "诉求"
        ordering = ["-reported_at", "-id"]
        # Every index is paid by every intake (an INSERT writes each one): db_index=True on a CharField
        # gave PostgreSQL two (plain + varchar_pattern_ops), and composites below already lead with state
        # and reported_at, so those columns carry none of their own (migration 0003, docs/BENCHMARKS.md).
        indexes = [
            # scope is a path prefix (LIKE 'x%'): pattern ops serve it under any collation, and equality
            models.Index(fields=["region_path"], name="case_region_path_ops", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["reporter_phone_hash"], name="case_reporter_phone_idx"),  # equality only
            models.Index(fields=["state", "resolve_due"]),
            models.Index(fields=["region_path", "reported_at"]),
            # the console's queues and counts read active cases only (a few % of a town's history):
            # a partial index keeps them fast on millions of finished cases (docs/BENCHMARKS.md)
            models.Index(fields=["region_path", "-reported_at", "-id"], name="case_active_idx",
                         condition=models.Q(state__in=["submitted", "accepted", "in_progress", "escalated",
                                                       "resolved"]),
                         include=["state", "accept_due", "resolve_due", "accepted_at", "category"]),
            # the full list's order (newest first), with the scope prefix to filter without the table
            models.Index(fields=["-reported_at", "-id"], name="case_recent_idx", include=["region_path"]),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    @property
    def audit_region_path(self):
        return self.region_path

    def get_absolute_url(self):
        return reverse("cases:case_detail", args=[self.pk])

    @property
    def is_open(self):
        return self.state in self.OPEN_STATES

    @property
    def reporter_phone_masked(self):
        return f"{'*' * 7}{self.reporter_phone_suffix}" if self.reporter_phone_suffix else ""

    def is_overdue(self, now=None) -> bool:
        """Past its deadline: not accepted by ``accept_due`` or not resolved by ``resolve_due``."""
        now = now or timezone.now()
        if self.state in (self.State.REJECTED, self.State.MERGED):
            return False
        if self.accepted_at is None and self.state == self.State.SUBMITTED and now > self.accept_due:
            return True
        done = self.resolved_at if self.state in self.DONE_STATES else None
        return (done or now) > self.resolve_due

    def warning(self, now=None) -> str:
        """'' / 'yellow' / 'red' / 'overdue' for an open case, from the share of its window that has passed."""
        if not self.is_open:
            return ""
        now = now or timezone.now()
        if self.is_overdue(now):
            return "overdue"
        window = (self.resolve_due - self.reported_at).total_seconds() or 1
        used = 100 * (now - self.reported_at).total_seconds() / window
        if used >= self.category.red_pct:
            return "red"
        if used >= self.category.yellow_pct:
            return "yellow"
        return ""

    def remaining(self, now=None) -> datetime.timedelta:
        return self.resolve_due - (now or timezone.now())


class CaseEvent(models.Model):
    """One line of a case's timeline: each transition, note, photo, whistle and rating."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField("时间", db_index=True)
    by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    by_label = models.CharField("操作人", max_length=80)
    action = models.CharField("操作", max_length=30)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    note = models.TextField("说明", blank=True)
    data = models.JSONField(default=dict, blank=True)

    scope = Scope(path_lookup="case__region_path", module="cases")  # a case's parts are seen with the case
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.case_id} {self.action}"


def _attachment_path(instance, filename):
    return f"cases/{instance.case_id}/{filename}"


class Attachment(models.Model):
    """A photo of a case (at report or with the result): sniffed, re-encoded, with a thumbnail."""

    class Purpose(models.TextChoices):
        REPORT = "report", "上报照片"
        RESULT = "result", "办结照片"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    purpose = models.CharField(max_length=10, choices=Purpose.choices, default=Purpose.REPORT)
    image = models.FileField(upload_to=_attachment_path, max_length=200)
    thumbnail = models.FileField(upload_to=_attachment_path, max_length=200)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    content_type = models.CharField(max_length=40)
    original_name = models.CharField(max_length=100, blank=True)
    uploaded_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField()

    scope = Scope(path_lookup="case__region_path", module="cases")  # a case's parts are seen with the case
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["uploaded_at", "id"]


class Extension(models.Model):
    """A request to move a case's resolve deadline; approved or refused by the town."""

    class Status(models.TextChoices):
        PENDING = "pending", "待审批"
        APPROVED = "approved", "已批准"
        REFUSED = "refused", "已驳回"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="extensions")
    hours = models.PositiveIntegerField("延期（小时）")
    reason = models.CharField("理由", max_length=200)
    requested_by = models.ForeignKey("accounts.User", null=True, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=200, blank=True)

    scope = Scope(path_lookup="case__region_path", module="cases")  # a case's parts are seen with the case
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["requested_at", "id"]
        constraints = [models.UniqueConstraint(fields=["case"], condition=models.Q(status="pending"),
                                               name="one_pending_extension_per_case")]


class Whistle(models.Model):
    """吹哨: a call to a department that must report back within ``due_at`` (30 minutes by default)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="whistles")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="whistles")
    called_by = models.ForeignKey("accounts.User", null=True, on_delete=models.PROTECT, related_name="+")
    called_at = models.DateTimeField()
    due_at = models.DateTimeField()
    reported_at = models.DateTimeField(null=True, blank=True)
    report = models.TextField(blank=True)

    scope = Scope(path_lookup="case__region_path", module="cases")  # a case's parts are seen with the case
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["called_at", "id"]


class Notification(models.Model):
    """The outbox: every message the system means to send, recorded before any sender tries it.

    ``key`` is unique: the same event for the same case and recipient is recorded once, so a sweep that
    runs twice (or two sweeps at once) never double-sends.
    """

    class Kind(models.TextChoices):
        ASSIGNED = "assigned", "案件已分派"
        DEADLINE_NEAR = "deadline_near", "临近时限"
        OVERDUE = "overdue", "已超时"
        RESOLVED = "resolved", "已办结请评价"
        WHISTLE = "whistle", "吹哨报到"

    class Status(models.TextChoices):
        PENDING = "pending", "待发送"
        SENDING = "sending", "发送中"
        SENT = "sent", "已发送"
        FAILED = "failed", "发送失败"

    key = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notifications")
    recipient = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recipient_label = models.CharField(max_length=80)
    channel = models.CharField(max_length=20, default="outbox")
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class ApiKey(models.Model):
    """An Open311 client's key: only its hash is stored; requests it posts land in ``region``'s subtree."""

    name = models.CharField("名称", max_length=60)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    region = models.ForeignKey("areas.Region", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey("accounts.User", null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = verbose_name_plural = "Open311 密钥"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"
