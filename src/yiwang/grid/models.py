"""Grid workers (网格员), their household pairings (包户/结对) and visits (走访).

Scope: ``GridWorker.region_path`` is the path of the worker's primary grid and ``Visit.region_path`` the
path of the visited household at the time of the visit, both denormalised like ``Household.region_path``
so scope is one indexed prefix filter; a pairing is scoped through its household. Party membership is
never stored here: it is the person's political status (中共党员 / 中共预备党员). Rows are written by
``grid.actions`` only.
"""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from yiwang.core.scope import Scope, ScopedQuerySet

PARTY_STATUSES = ("member", "probationary")


class GridWorkerQuerySet(ScopedQuerySet):
    def active_on(self, day):
        return self.filter(start_date__lte=day).filter(Q(end_date__isnull=True) | Q(end_date__gt=day))

    def party(self):
        return self.filter(person__political_status__in=PARTY_STATUSES)


class GridWorker(models.Model):
    """网格员: a person serving one or more grids of a village, full-time (专职) or part-time (兼职)."""

    class Kind(models.TextChoices):
        FULL_TIME = "full_time", "专职"
        PART_TIME = "part_time", "兼职"

    person = models.ForeignKey("people.Person", verbose_name="人员", on_delete=models.PROTECT,
                               related_name="grid_roles")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name="登录账号", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="grid_worker")
    grid = models.ForeignKey("areas.Region", verbose_name="主网格", on_delete=models.PROTECT,
                             related_name="primary_grid_workers")
    grids = models.ManyToManyField("areas.Region", verbose_name="服务网格", blank=True, related_name="grid_workers")
    region_path = models.CharField("区域路径", max_length=255, db_index=True, editable=False)
    kind = models.CharField("类型", max_length=20, choices=Kind.choices, default=Kind.PART_TIME)
    start_date = models.DateField("任职日期")
    end_date = models.DateField("离任日期", null=True, blank=True)
    is_demo = models.BooleanField("演示数据", default=False)
    updated_at = models.DateTimeField(auto_now=True)

    scope = Scope(path_lookup="region_path", module="grid")
    objects = GridWorkerQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "网格员"
        ordering = ["region_path", "id"]
        constraints = [models.UniqueConstraint(fields=["person"], condition=Q(end_date__isnull=True),
                                               name="grid_worker_one_active_per_person")]

    def __str__(self):
        return self.person.name

    @property
    def audit_region_path(self):
        return self.region_path

    def get_absolute_url(self):
        return reverse("grid:worker_detail", args=[self.pk])

    @property
    def is_party_member(self):
        return self.person.political_status in PARTY_STATUSES

    def is_active_on(self, day):
        return self.start_date <= day and (self.end_date is None or self.end_date > day)


class PairingQuerySet(ScopedQuerySet):
    def current_on(self, day):
        return self.filter(start_date__lte=day).filter(Q(end_date__isnull=True) | Q(end_date__gt=day))


class Pairing(models.Model):  # 包户/结对
    """One household's responsible grid worker over a span; ``end_date`` null = the current pairing.
    History is kept: re-pairing ends the old row and starts a new one."""

    household = models.ForeignKey("people.Household", verbose_name="户", on_delete=models.PROTECT,
                                  related_name="pairings")
    worker = models.ForeignKey(GridWorker, verbose_name="网格员", on_delete=models.PROTECT, related_name="pairings")
    start_date = models.DateField("结对日期")
    end_date = models.DateField("解除日期", null=True, blank=True)
    is_demo = models.BooleanField("演示数据", default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    scope = Scope(path_lookup="household__region_path", module="grid")
    objects = PairingQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "包户结对"
        ordering = ["household_id", "-start_date", "-id"]
        constraints = [models.UniqueConstraint(fields=["household"], condition=Q(end_date__isnull=True),
                                               name="grid_pairing_one_current_per_household")]

    def __str__(self):
        return f"{self.household_id}↔{self.worker_id}"

    @property
    def audit_region_path(self):
        return self.household.region_path

    @property
    def is_current(self):
        return self.end_date is None


class Visit(models.Model):  # 走访
    class Kind(models.TextChoices):
        ROUTINE = "routine", "常规走访"
        FOLLOW_UP = "follow_up", "回访"
        SPECIAL_GROUP = "special_group", "特殊群体关爱"

    household = models.ForeignKey("people.Household", verbose_name="户", on_delete=models.PROTECT,
                                  related_name="visits")
    worker = models.ForeignKey(GridWorker, verbose_name="网格员", on_delete=models.PROTECT, related_name="visits")
    date = models.DateField("走访日期", db_index=True)
    kind = models.CharField("走访类型", max_length=20, choices=Kind.choices, default=Kind.ROUTINE)
    findings = models.TextField("发现情况", blank=True)
    photo = models.ImageField("照片", upload_to="grid/visits/%Y/%m/", blank=True)
    thumbnail = models.ImageField("缩略图", upload_to="grid/visits/%Y/%m/", blank=True)
    latitude = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    region_path = models.CharField("区域路径", max_length=255, db_index=True, editable=False)
    case = models.ForeignKey("cases.Case", verbose_name="转为诉求", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="visits")
    is_demo = models.BooleanField("演示数据", default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    scope = Scope(path_lookup="region_path", module="grid")
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "走访记录"
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["household", "date"], name="grid_visit_household_date")]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()}"

    @property
    def audit_region_path(self):
        return self.region_path

    def get_absolute_url(self):
        return reverse("grid:visit_detail", args=[self.pk])
