"""Collective economy (产业振兴): projects, the income ledger, tiers, pooled enclave projects (飞地抱团)
with their dividend runs, strong–weak village pairings (强村带弱村) and enterprise partners (万企兴万村).

Money is ``Decimal`` yuan with two places (``MONEY``). The ledger is append-only: an ``IncomeEntry`` is
never edited or deleted once written; a correction is a reversing entry (``reverses``) plus, where
needed, a new entry. Tiers are derived from the ledger each time they are read (``economy.tiers``);
only a manual designation (``TierDesignation``) is stored. Rows are written by ``economy.actions`` only.

Scope: a record lies under its village (``region_path``). Records of two places at once name the other
paths in ``Scope.also``: a pooled project is under its host village and under every participant, a
pairing under the weak village and the strong one, an enterprise under its town and its partner
villages. Zones are the town's reference data (names only).
"""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from yiwang.core.scope import Scope, ScopedQuerySet

MONEY = {"max_digits": 16, "decimal_places": 2}


class Zone(models.Model):
    """产业布局: the town's configurable industry layout, e.g. "四区五园十基地" (areas, parks, bases)."""

    class Kind(models.TextChoices):
        AREA = "area", "区"
        PARK = "park", "园"
        BASE = "base", "基地"

    town = models.ForeignKey("areas.Region", verbose_name="镇", on_delete=models.PROTECT, related_name="zones")
    name = models.CharField("名称", max_length=60)
    kind = models.CharField("类别", max_length=10, choices=Kind.choices)
    order = models.PositiveSmallIntegerField("排序", default=100)

    class Meta:
        verbose_name = verbose_name_plural = "产业布局"
        ordering = ["town_id", "kind", "order", "name"]
        constraints = [models.UniqueConstraint(fields=["town", "name"], name="economy_zone_unique_name")]

    def __str__(self):
        return self.name


class Project(models.Model):
    """集体经济项目 of a village."""

    class Kind(models.TextChoices):
        BREEDING = "breeding", "养殖"
        PLANTING = "planting", "种植"
        LEASING = "leasing", "物业租赁"
        EQUITY = "equity", "入股分红"
        SERVICE = "service", "服务"
        PROCESSING = "processing", "加工"
        SOLAR = "solar", "光伏"
        TOURISM = "tourism", "乡村旅游"
        OTHER = "other", "其他"

    class Status(models.TextChoices):
        PLANNED = "planned", "筹建"
        OPERATING = "operating", "运营"
        SUSPENDED = "suspended", "停运"
        ENDED = "ended", "终止"

    code = models.CharField("项目编号", max_length=30, unique=True)
    name = models.CharField("项目名称", max_length=100)
    village = models.ForeignKey("areas.Region", verbose_name="嘎查村", on_delete=models.PROTECT,
                                related_name="economy_projects")
    region_path = models.CharField("区域路径", max_length=255, db_index=True, editable=False)
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.OPERATING)
    start_date = models.DateField("开始日期")
    end_date = models.DateField("终止日期", null=True, blank=True)
    location = models.CharField("地点", max_length=200, blank=True)
    latitude = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    zone = models.ForeignKey(Zone, verbose_name="产业布局", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="projects")
    product = models.CharField("一村一品", max_length=60, blank=True)
    is_base = models.BooleanField("规模化基地", default=False)
    description = models.TextField("简介", blank=True)
    is_demo = models.BooleanField("演示数据", default=False)
    updated_at = models.DateTimeField(auto_now=True)

    scope = Scope(path_lookup="region_path", module="economy")
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "集体经济项目"
        ordering = ["region_path", "code"]

    def __str__(self):
        return self.name

    @property
    def audit_region_path(self):
        return self.region_path

    def get_absolute_url(self):
        return reverse("economy:project_detail", args=[self.pk])


class ProjectParty(models.Model):
    """项目参与方: the parties of a project and what each puts in — the six-party mechanism of the
    donkey bases (政府+企业+村集体+农户+银行+保险公司); an insurer gives the insured head count."""

    class Role(models.TextChoices):
        GOVERNMENT = "government", "政府"
        ENTERPRISE = "enterprise", "企业"
        COLLECTIVE = "collective", "村集体"
        FARMERS = "farmers", "农户"
        BANK = "bank", "银行"
        INSURER = "insurer", "保险公司"

    project = models.ForeignKey(Project, verbose_name="项目", on_delete=models.PROTECT, related_name="parties")
    role = models.CharField("角色", max_length=20, choices=Role.choices)
    name = models.CharField("名称", max_length=100)
    amount = models.DecimalField("金额（元）", null=True, blank=True, **MONEY)
    insured_heads = models.PositiveIntegerField("参保头数", null=True, blank=True)
    note = models.CharField("说明", max_length=200, blank=True)
    is_demo = models.BooleanField("演示数据", default=False)

    scope = Scope(path_lookup="project__region_path", module="economy")
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "项目参与方"
        ordering = ["project_id", "role", "id"]

    def __str__(self):
        return f"{self.get_role_display()}：{self.name}"

    @property
    def audit_region_path(self):
        return self.project.region_path


class IncomeCategory(models.TextChoices):
    OPERATING = "operating", "经营性收入"
    INVESTMENT = "investment", "投资收益"
    CONTRACT = "contract", "发包及上交收入"
    SUBSIDY = "subsidy", "补助收入"
    OTHER = "other", "其他收入"


class IncomeEntryQuerySet(ScopedQuerySet):
    REVIEW_FIELDS = {"reviewed_by", "reviewed_at"}

    def update(self, **kwargs):
        if not set(kwargs) <= self.REVIEW_FIELDS:
            raise PermissionError("收入台账只可追加：更正请用冲销分录 / the ledger is append-only")
        return super().update(**kwargs)

    def delete(self):
        raise PermissionError("收入台账只可追加：更正请用冲销分录 / the ledger is append-only")


class IncomeEntry(models.Model):
    """收入台账分录: one amount of one category for a village (and project) in one month.

    Append-only. A reversing entry (``reverses``) carries the negated amount in the same month, so
    the month's, the year's and any period's totals come out right; the original stays as written."""

    village = models.ForeignKey("areas.Region", verbose_name="嘎查村", on_delete=models.PROTECT,
                                related_name="income_entries")
    region_path = models.CharField("区域路径", max_length=255, db_index=True, editable=False)
    project = models.ForeignKey(Project, verbose_name="项目", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="income_entries")
    month = models.DateField("月份")  # the first day of the month
    category = models.CharField("收入类别", max_length=20, choices=IncomeCategory.choices)
    amount = models.DecimalField("金额（元）", **MONEY)
    source_document = models.CharField("凭证", max_length=200, blank=True)
    note = models.CharField("摘要", max_length=200, blank=True)
    reverses = models.OneToOneField("self", verbose_name="冲销的分录", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="reversal")
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="录入人", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    entered_at = models.DateTimeField("录入时间", auto_now_add=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="审核人", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    is_demo = models.BooleanField("演示数据", default=False)

    scope = Scope(path_lookup="region_path", module="economy")
    objects = IncomeEntryQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "收入台账"
        ordering = ["-month", "region_path", "id"]
        indexes = [models.Index(fields=["region_path", "month"], name="economy_income_path_month"),
                   models.Index(fields=["village", "month", "category"], name="economy_income_village_month")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.get_category_display()} {self.amount}"

    @property
    def audit_region_path(self):
        return self.region_path

    def get_absolute_url(self):
        return reverse("economy:entry_detail", args=[self.pk])

    @property
    def is_reversal(self):
        return self.reverses_id is not None

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("收入台账只可追加：更正请用冲销分录 / the ledger is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("收入台账只可追加：更正请用冲销分录 / the ledger is append-only")


class Tier(models.TextChoices):
    WEAK = "weak", "薄弱村"
    ORDINARY = "ordinary", "一般村"
    DEMONSTRATION = "demonstration", "示范村"


class TierDesignation(models.Model):
    """人工认定: a village's tier for a year set by policy, overriding the one computed from income."""

    village = models.ForeignKey("areas.Region", verbose_name="嘎查村", on_delete=models.PROTECT,
                                related_name="tier_designations")
    region_path = models.CharField("区域路径", max_length=255, db_index=True, editable=False)
    year = models.PositiveSmallIntegerField("年度")
    tier = models.CharField("认定等级", max_length=20, choices=Tier.choices)
    reason = models.CharField("依据", max_length=200)
    designated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="认定人", null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+")
    designated_at = models.DateTimeField("认定时间", auto_now=True)
    is_demo = models.BooleanField("演示数据", default=False)

    scope = Scope(path_lookup="region_path", module="economy")
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "等级认定"
        ordering = ["-year", "region_path"]
        constraints = [models.UniqueConstraint(fields=["village", "year"], name="economy_tier_one_per_year")]

    def __str__(self):
        return f"{self.year} {self.get_tier_display()}"

    @property
    def audit_region_path(self):
        return self.region_path


class PooledProject(models.Model):
    """飞地抱团项目: villages put capital into one project run at a host village's base and share its
    yearly distributable profit pro rata by capital (with an optional guaranteed minimum rate and an
    optional share retained for reinvestment)."""

    code = models.CharField("项目编号", max_length=30, unique=True)
    name = models.CharField("名称", max_length=100)
    host = models.ForeignKey("areas.Region", verbose_name="所在村", on_delete=models.PROTECT,
                             related_name="hosted_pools")
    region_path = models.CharField("区域路径", max_length=255, db_index=True, editable=False)
    project = models.ForeignKey(Project, verbose_name="依托项目", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="pools")
    start_date = models.DateField("开始日期")
    total_capital = models.DecimalField("总出资额（元）", **MONEY)
    guaranteed_rate = models.DecimalField("保底收益率（%/年）", max_digits=5, decimal_places=2, null=True, blank=True)
    retained_percent = models.DecimalField("提留比例（%）", max_digits=5, decimal_places=2, default=0)
    note = models.TextField("说明", blank=True)
    is_demo = models.BooleanField("演示数据", default=False)

    scope = Scope(path_lookup="region_path", module="economy", also=("shares__region_path",))
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "飞地抱团项目"
        ordering = ["code"]

    def __str__(self):
        return self.name

    @property
    def audit_region_path(self):
        return self.region_path

    def get_absolute_url(self):
        return reverse("economy:pool_detail", args=[self.pk])


class PoolShare(models.Model):
    """参与村出资: one village's contributed capital in a pooled project."""

    pool = models.ForeignKey(PooledProject, verbose_name="抱团项目", on_delete=models.PROTECT, related_name="shares")
    village = models.ForeignKey("areas.Region", verbose_name="参与村", on_delete=models.PROTECT,
                                related_name="pool_shares")
    region_path = models.CharField("区域路径", max_length=255, db_index=True, editable=False)
    capital = models.DecimalField("出资额（元）", **MONEY)
    joined_on = models.DateField("加入日期")
    is_demo = models.BooleanField("演示数据", default=False)

    scope = Scope(path_lookup="region_path", module="economy", also=("pool__region_path",))
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "抱团出资"
        ordering = ["pool_id", "region_path"]
        constraints = [models.UniqueConstraint(fields=["pool", "village"], name="economy_share_one_per_village"),
                       models.CheckConstraint(condition=Q(capital__gt=0), name="economy_share_capital_positive")]

    def __str__(self):
        return f"{self.pool_id}:{self.village_id}"

    @property
    def audit_region_path(self):
        return self.region_path


class DividendRun(models.Model):
    """分红: one year's distribution of a pooled project. Proposed as a draft (the preview, stored so
    the approver sees exactly what will be posted), approved = posted into each participant's ledger in
    one transaction, reversed by a reversing run. Never edited."""

    class Status(models.TextChoices):
        DRAFT = "draft", "待审批"
        POSTED = "posted", "已入账"
        REVERSED = "reversed", "已冲销"
        WITHDRAWN = "withdrawn", "已撤回"

    pool = models.ForeignKey(PooledProject, verbose_name="抱团项目", on_delete=models.PROTECT, related_name="runs")
    year = models.PositiveSmallIntegerField("分红年度")
    post_month = models.DateField("入账月份")
    distributable = models.DecimalField("可分配收益（元）", **MONEY)
    retained = models.DecimalField("提留（元）", **MONEY)
    guarantee_topup = models.DecimalField("保底补足（元）", **MONEY)
    payout = models.DecimalField("分配总额（元）", **MONEY)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.DRAFT)
    reverses = models.OneToOneField("self", verbose_name="冲销的分红", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="reversal")
    note = models.CharField("说明", max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="提出人", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField("提出时间", auto_now_add=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="审批人", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    approved_at = models.DateTimeField("审批时间", null=True, blank=True)
    is_demo = models.BooleanField("演示数据", default=False)

    scope = Scope(path_lookup="pool__region_path", module="economy", also=("pool__shares__region_path",))
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "分红"
        ordering = ["pool_id", "-year", "-id"]

    def __str__(self):
        return f"{self.year} 年度分红" + ("（冲销）" if self.reverses_id else "")

    @property
    def audit_region_path(self):
        return self.pool.region_path

    def get_absolute_url(self):
        return reverse("economy:run_detail", args=[self.pk])


class DividendAllocation(models.Model):
    """One participant's part of a dividend run, and the ledger entry that posted it."""

    run = models.ForeignKey(DividendRun, verbose_name="分红", on_delete=models.PROTECT, related_name="allocations")
    share = models.ForeignKey(PoolShare, verbose_name="出资", on_delete=models.PROTECT, related_name="allocations")
    village = models.ForeignKey("areas.Region", verbose_name="参与村", on_delete=models.PROTECT, related_name="+")
    region_path = models.CharField("区域路径", max_length=255, db_index=True, editable=False)
    capital = models.DecimalField("出资额（元）", **MONEY)
    amount = models.DecimalField("分配金额（元）", **MONEY)
    entry = models.OneToOneField(IncomeEntry, verbose_name="入账分录", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="allocation")

    scope = Scope(path_lookup="region_path", module="economy", also=("run__pool__region_path",))
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "分红分配"
        ordering = ["run_id", "region_path"]

    def __str__(self):
        return f"{self.village_id} {self.amount}"

    @property
    def audit_region_path(self):
        return self.region_path


class VillagePairing(models.Model):
    """强村带弱村: a strong village (of this town, or of another town named by name) helps a weak one."""

    strong = models.ForeignKey("areas.Region", verbose_name="帮带村", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="pairings_as_strong")
    strong_name = models.CharField("帮带村（外镇）", max_length=100, blank=True)
    weak = models.ForeignKey("areas.Region", verbose_name="受帮村", on_delete=models.PROTECT,
                             related_name="pairings_as_weak")
    region_path = models.CharField("区域路径", max_length=255, db_index=True, editable=False)
    measures = models.TextField("帮带措施")
    start_date = models.DateField("开始日期")
    end_date = models.DateField("结束日期", null=True, blank=True)
    is_demo = models.BooleanField("演示数据", default=False)

    scope = Scope(path_lookup="region_path", module="economy", also=("strong__path",))
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "强村带弱村"
        ordering = ["region_path", "start_date"]

    def __str__(self):
        return f"{self.strong_label} → {self.weak}"

    @property
    def strong_label(self):
        return self.strong.short_name if self.strong_id else self.strong_name

    @property
    def is_cross_town(self):
        return self.strong_id is None or self.strong.parent_id != self.weak.parent_id

    @property
    def audit_region_path(self):
        return self.region_path

    def get_absolute_url(self):
        return reverse("economy:pairing_detail", args=[self.pk])


class Enterprise(models.Model):
    """万企兴万村 partner enterprise, registered with a town; visible to the town and its partner villages."""

    name = models.CharField("企业名称", max_length=100, unique=True)
    credit_code = models.CharField("统一社会信用代码", max_length=18, unique=True, null=True, blank=True)
    industry = models.CharField("行业", max_length=60, blank=True)
    town = models.ForeignKey("areas.Region", verbose_name="所在镇", on_delete=models.PROTECT, related_name="enterprises")
    region_path = models.CharField("区域路径", max_length=255, db_index=True, editable=False)
    note = models.TextField("说明", blank=True)
    is_demo = models.BooleanField("演示数据", default=False)

    scope = Scope(path_lookup="region_path", module="economy", also=("partnerships__region_path",))
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "合作企业"
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def audit_region_path(self):
        return self.region_path

    def get_absolute_url(self):
        return reverse("economy:enterprise_detail", args=[self.pk])


class Partnership(models.Model):
    """村企结对: an enterprise working with one village (and, where it applies, one of its projects)."""

    enterprise = models.ForeignKey(Enterprise, verbose_name="企业", on_delete=models.PROTECT,
                                   related_name="partnerships")
    village = models.ForeignKey("areas.Region", verbose_name="嘎查村", on_delete=models.PROTECT,
                                related_name="enterprise_partnerships")
    region_path = models.CharField("区域路径", max_length=255, db_index=True, editable=False)
    project = models.ForeignKey(Project, verbose_name="项目", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="partnerships")
    start_date = models.DateField("开始日期")
    investment = models.DecimalField("投资（元）", null=True, blank=True, **MONEY)
    is_demo = models.BooleanField("演示数据", default=False)

    scope = Scope(path_lookup="region_path", module="economy")
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "村企结对"
        ordering = ["enterprise_id", "region_path"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "village"],
                                               name="economy_partnership_unique")]

    def __str__(self):
        return f"{self.enterprise_id}↔{self.village_id}"

    @property
    def audit_region_path(self):
        return self.region_path


class PartnershipYear(models.Model):
    """A partnership's results for one year: produce sold for the village (帮销), jobs given
    (person-times, 就业人次) and income to the village collective."""

    partnership = models.ForeignKey(Partnership, verbose_name="村企结对", on_delete=models.PROTECT,
                                    related_name="years")
    year = models.PositiveSmallIntegerField("年度")
    produce_sales = models.DecimalField("帮销农特产品（元）", default=0, **MONEY)
    jobs = models.PositiveIntegerField("帮助就业（人次）", default=0)
    collective_income = models.DecimalField("带动村集体收入（元）", default=0, **MONEY)
    is_demo = models.BooleanField("演示数据", default=False)

    scope = Scope(path_lookup="partnership__region_path", module="economy")
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "村企结对年度成效"
        ordering = ["partnership_id", "year"]
        constraints = [models.UniqueConstraint(fields=["partnership", "year"], name="economy_partnership_year")]

    def __str__(self):
        return f"{self.year}"

    @property
    def audit_region_path(self):
        return self.partnership.region_path


class JointMeeting(models.Model):
    """万企兴万村联席会议: a meeting of the town's leading group with enterprises and villages."""

    town = models.ForeignKey("areas.Region", verbose_name="镇", on_delete=models.PROTECT, related_name="joint_meetings")
    region_path = models.CharField("区域路径", max_length=255, db_index=True, editable=False)
    date = models.DateField("日期")
    title = models.CharField("议题", max_length=200)
    enterprises = models.ManyToManyField(Enterprise, verbose_name="参会企业", blank=True, related_name="meetings")
    villages = models.ManyToManyField("areas.Region", verbose_name="参会村", blank=True, related_name="joint_meetings_attended")
    minutes = models.TextField("会议纪要", blank=True)
    is_demo = models.BooleanField("演示数据", default=False)

    scope = Scope(path_lookup="region_path", module="economy", also=("villages__path",))
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "联席会议"
        ordering = ["-date", "-id"]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.title}"

    @property
    def audit_region_path(self):
        return self.region_path
