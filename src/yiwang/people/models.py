"""Households, persons and special-group tags.

ID numbers and phones are never stored in clear: ciphertext + keyed hash (exact lookup) + the parts
a mask shows anyway (first six, last four) for "search by last digits". ``region_path`` is the path
of the household's grid (or village when no grid is set), denormalised so scope is one indexed
prefix filter; it is kept in step by ``people.actions`` only.
"""
from django.db import models
from django.urls import reverse

from yiwang.core import crypto
from yiwang.core.scope import Scope, ScopedQuerySet


class Tag(models.Model):
    """特殊群体标签: 低保户, 特困供养, 脱贫户, 防返贫监测户, 残疾人, 独居老人, 留守儿童, ..."""

    class AppliesTo(models.TextChoices):
        HOUSEHOLD = "household", "户"
        PERSON = "person", "人"

    code = models.SlugField("代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=40, unique=True)
    applies_to = models.CharField("适用对象", max_length=10, choices=AppliesTo.choices)
    order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        verbose_name = verbose_name_plural = "特殊群体标签"
        ordering = ["order", "code"]

    def __str__(self):
        return self.name


DEFAULT_TAGS = [
    ("dibao", "低保户", "household"), ("tekun", "特困供养", "household"), ("tuopin", "脱贫户", "household"),
    ("jiance", "防返贫监测户", "household"), ("canji", "残疾人", "person"), ("dujulaoren", "独居老人", "person"),
    ("liushou", "留守儿童", "person"), ("junshu", "军烈属", "household"), ("kongchao", "空巢老人", "person"),
]


class Household(models.Model):
    """户: one registered household with its 户号, address, village and grid."""

    number = models.CharField("户号", max_length=30)  # unique: Meta.constraints
    village = models.ForeignKey("areas.Region", verbose_name="嘎查村", on_delete=models.PROTECT,
                                related_name="households")
    grid = models.ForeignKey("areas.Region", verbose_name="网格", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="grid_households")
    region_path = models.CharField("区域路径", max_length=255, editable=False)  # indexed: Meta.indexes
    address = models.CharField("地址", max_length=200, blank=True)
    # indexed although nothing looks households up by their head: SQLite, whose foreign keys are
    # checked at commit, finds a household naming a person inserted after it (a head, in an import) by it
    head = models.ForeignKey("Person", verbose_name="户主", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    tags = models.ManyToManyField(Tag, verbose_name="特殊群体", blank=True, related_name="households")
    registered_on = models.DateField("登记日期")
    closed_on = models.DateField("注销日期", null=True, blank=True)
    is_demo = models.BooleanField("演示数据", default=False)
    updated_at = models.DateTimeField(auto_now=True)

    scope = Scope(path_lookup="region_path", module="people")
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "户"
        ordering = ["number"]
        # One index each, as the lookups need (on PostgreSQL unique=/db_index= would add a LIKE twin to
        # each: the 户号 is matched exactly or by icontains, which no index serves; the region path by
        # prefix, which the varchar_pattern_ops index serves, equality too). SQLite ignores opclasses.
        constraints = [models.UniqueConstraint(fields=["number"], name="household_number_uniq")]
        indexes = [models.Index(fields=["region_path"], opclasses=["varchar_pattern_ops"],
                                name="household_region_path_idx")]

    def __str__(self):
        return self.number

    @property
    def audit_region_path(self):
        return self.region_path

    def get_absolute_url(self):
        return reverse("people:household_detail", args=[self.pk])


class Person(models.Model):
    """人: a member of a household. Gender and birth date derive from the ID number."""

    class Political(models.TextChoices):
        MEMBER = "member", "中共党员"
        PROBATIONARY = "probationary", "中共预备党员"
        LEAGUE = "league", "共青团员"
        MASSES = "masses", "群众"

    class Relation(models.TextChoices):
        HEAD = "head", "户主"
        SPOUSE = "spouse", "配偶"
        CHILD = "child", "子女"
        PARENT = "parent", "父母"
        GRANDCHILD = "grandchild", "孙子女"
        SIBLING = "sibling", "兄弟姐妹"
        OTHER = "other", "其他"

    class Status(models.TextChoices):
        LIVING = "living", "在册"
        MOVED_OUT = "moved_out", "迁出"
        DECEASED = "deceased", "死亡"

    class Gender(models.TextChoices):
        MALE = "M", "男"
        FEMALE = "F", "女"

    household = models.ForeignKey(Household, verbose_name="户", on_delete=models.PROTECT, related_name="members")
    name = models.CharField("姓名", max_length=50)
    name_initials = models.CharField("拼音首字母", max_length=50, editable=False)  # not indexed: Meta
    id_hash = models.CharField(max_length=64, editable=False)  # unique: Meta.constraints
    id_cipher = models.TextField(editable=False)
    id_prefix = models.CharField(max_length=6, editable=False)
    id_suffix = models.CharField("身份证后四位", max_length=4, editable=False)
    gender = models.CharField("性别", max_length=1, choices=Gender.choices, editable=False)
    birth_date = models.DateField("出生日期", editable=False)
    phone_hash = models.CharField(max_length=64, blank=True, editable=False)
    phone_cipher = models.TextField(blank=True, editable=False)
    phone_suffix = models.CharField(max_length=4, blank=True, editable=False)
    political_status = models.CharField("政治面貌", max_length=20, choices=Political.choices, default=Political.MASSES)
    relation = models.CharField("与户主关系", max_length=20, choices=Relation.choices, default=Relation.OTHER)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.LIVING)
    status_changed_on = models.DateField("状态变更日期", null=True, blank=True)
    registered_on = models.DateField("登记日期")
    tags = models.ManyToManyField(Tag, verbose_name="特殊群体", blank=True, related_name="persons")
    is_demo = models.BooleanField("演示数据", default=False)
    updated_at = models.DateTimeField(auto_now=True)

    scope = Scope(path_lookup="household__region_path", module="people")
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "人员"
        ordering = ["household__number", "id"]
        # Declared here rather than with unique=/db_index= on the fields: on PostgreSQL those add a
        # second, varchar_pattern_ops index for LIKE to each, and the keyed hash and the last four
        # digits are only ever matched exactly. No index on the phone hash (nothing looks a person up
        # by phone) nor on the initials: the search that reads them also matches the name anywhere
        # in it, which no index serves, so it scans the persons either way (each index costs every
        # insert; a town's import writes 300,000 persons; decision 0012).
        constraints = [models.UniqueConstraint(fields=["id_hash"], name="person_id_hash_uniq")]
        indexes = [models.Index(fields=["id_suffix"], name="person_id_suffix_idx")]

    def __str__(self):
        return self.name

    @property
    def audit_region_path(self):
        return self.household.region_path

    def get_absolute_url(self):
        return reverse("people:person_detail", args=[self.pk])

    @property
    def id_masked(self):
        return f"{self.id_prefix}{'*' * 8}{self.id_suffix}"

    @property
    def phone_masked(self):
        return f"{'*' * 7}{self.phone_suffix}" if self.phone_suffix else ""

    def id_number_plain(self):
        """The full ID number. Only ``people.actions.reveal`` may call this: it audits the reading."""
        return crypto.decrypt(self.id_cipher)

    def phone_plain(self):
        return crypto.decrypt(self.phone_cipher)

    @property
    def is_party_member(self):
        return self.political_status in (self.Political.MEMBER, self.Political.PROBATIONARY)
