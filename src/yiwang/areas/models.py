"""The region tree with a materialised path.

``path`` is the codes from the root joined by "/" with a trailing "/" ("/15/1506/150627/150627105/"), so
a subtree is one ``path LIKE 'prefix%'`` on SQLite and PostgreSQL (Django adds a ``varchar_pattern_ops``
index on PostgreSQL). Official units keep their 统计用区划代码 as published in the source extract (a
town is 9 digits, a village 12); grids extend their village's code with two or three digits.
"""
from django.db import models

from yiwang.core.scope import Scope, ScopedQuerySet


class Region(models.Model):
    class Kind(models.TextChoices):
        PROVINCE = "province", "省/自治区"
        CITY = "city", "市/盟"
        COUNTY = "county", "旗/县/区"
        TOWN = "town", "镇/苏木/街道"
        VILLAGE = "village", "嘎查/村"
        COMMUNITY = "community", "社区"
        GRID = "grid", "网格"

    code = models.CharField("区划代码", max_length=16, unique=True)
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("层级", max_length=12, choices=Kind.choices, db_index=True)
    parent = models.ForeignKey("self", verbose_name="上级", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children")
    path = models.CharField("路径", max_length=255, unique=True)
    depth = models.PositiveSmallIntegerField("深度", default=0)
    boundary = models.JSONField("边界 GeoJSON", null=True, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)

    scope = Scope(path_lookup="path", module="areas")
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "区域"
        ordering = ["path"]

    def __str__(self):
        return self.name

    @property
    def audit_region_path(self):
        return self.path

    @property
    def short_name(self):
        for suffix in ("村民委员会", "村委会", "居委会", "居民委员会"):
            if self.name.endswith(suffix):
                return self.name[: -len(suffix)]
        return self.name

    def ancestors(self):
        codes = [c for c in self.path.strip("/").split("/")][:-1]
        by_code = {r.code: r for r in Region.objects.filter(code__in=codes)}
        return [by_code[c] for c in codes if c in by_code]

    def subtree(self):
        return Region.objects.filter(path__startswith=self.path)

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("areas:region_detail", args=[self.code])

    @property
    def depth_indent(self):
        return range(max(0, self.depth - 3))

    @property
    def is_village_level(self):
        return self.kind in (self.Kind.VILLAGE, self.Kind.COMMUNITY)
