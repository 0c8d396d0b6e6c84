"""Core models: the append-only audit log, and the scoped queryset every domain model uses.

``AuditEntry`` rows are written by ``core.audit`` only; saving an existing row, updating or deleting
raises (and on PostgreSQL a trigger refuses UPDATE/DELETE at the database too).
"""
from django.conf import settings
from django.db import models

from .scope import Scope, ScopedQuerySet


class AppendOnlyQuerySet(ScopedQuerySet):
    def visible_to(self, user, action="view"):
        """Entries under the user's audit scope, plus the entries tied to no region at all: sign-in
        failures for unknown user names, accounts not yet given a role, reference data made by the
        system. Those belong to no subtree, and an auditor who could not see them would miss exactly
        the brute-force attempts and account changes the log is kept for."""
        scoped = super().visible_to(user, action)
        if user is None or not user.is_authenticated or not user.is_active or user.is_superuser:
            return scoped
        if not user.has_any(f"{self.model.scope.module}.{action}"):
            return scoped
        return scoped | self.filter(region_path="")

    def update(self, **kwargs):
        raise PermissionError("审计日志只可追加 / audit log is append-only")

    def delete(self):
        raise PermissionError("审计日志只可追加 / audit log is append-only")


class AuditEntry(models.Model):
    """审计日志: who did what to which record, from where, allowed or refused."""

    # not indexed: the log lists newest first by id (entries are appended in time order, so the primary
    # key orders them as their time does); an index on the time cost every import ~0.6 s per 400,000
    # entries (decision 0012) and served only that order
    at = models.DateTimeField("时间", auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, blank=True,
                              on_delete=models.DO_NOTHING, related_name="+", db_constraint=False,
                              db_index=False)  # the log is searched by actor_label; an index per entry costs
    actor_label = models.CharField("操作人", max_length=150, blank=True)
    ip = models.GenericIPAddressField("IP", null=True, blank=True)
    channel = models.CharField("渠道", max_length=20, default="web")  # web / api / cli / demo / import
    action = models.CharField("动作", max_length=100)
    model = models.CharField("对象类型", max_length=100, blank=True)
    object_id = models.CharField("对象ID", max_length=64, blank=True)
    object_repr = models.CharField("对象", max_length=200, blank=True)
    region_path = models.CharField("区域路径", max_length=255, blank=True)  # indexed: Meta.indexes
    changes = models.JSONField("变更", default=dict, blank=True)
    allowed = models.BooleanField("结果", default=True)
    reason = models.CharField("说明", max_length=500, blank=True)

    scope = Scope(path_lookup="region_path", module="audit")
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "审计日志"
        ordering = ["-id"]
        default_permissions = ()
        # Every import writes an entry per record, so each index counts (decision 0012): only the region
        # path, by prefix (scope). Nothing looks entries up by action: the log's search is icontains,
        # which no index serves, and Open311's changeset reads the categories' own time.
        indexes = [models.Index(fields=["region_path"], opclasses=["varchar_pattern_ops"],
                                name="audit_region_path_idx")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("审计日志只可追加 / audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("审计日志只可追加 / audit log is append-only")
