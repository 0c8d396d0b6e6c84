"""Users and role assignments. A user's scope for a permission is the set of region paths where an
assignment grants it; ``scope_paths`` is cached on the user object so a page costs one query."""
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as BaseUserManager
from django.db import models

from yiwang.core.scope import Scope, ScopedQuerySet

from .roles import Role, perms_for


class UserQuerySet(ScopedQuerySet):
    def visible_to(self, user, action="view"):
        return super().visible_to(user, action).distinct()


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    display_name = models.CharField("姓名", max_length=50, blank=True)
    is_demo = models.BooleanField("演示数据", default=False)

    scope = Scope(path_lookup="assignments__region__path", module="accounts")
    objects = UserManager()

    class Meta:
        verbose_name = verbose_name_plural = "用户"

    def __str__(self):
        return self.display_name or self.username

    @property
    def audit_region_path(self):
        first = self.assignments.select_related("region").first() if self.pk else None
        return first.region.path if first else ""

    def _grants(self):
        if not hasattr(self, "_grant_cache"):
            rows = list(self.assignments.select_related("region").values_list("role", "module", "region__path"))
            grants: dict[str, set[str]] = {}
            for role, module, path in rows:
                for perm in perms_for(role, module):
                    grants.setdefault(perm, set()).add(path)
            self._grant_cache = grants
        return self._grant_cache

    def refresh_grants(self):
        self.__dict__.pop("_grant_cache", None)

    def scope_paths(self, perm) -> list[str]:
        """Region paths where ``perm`` holds, without nested duplicates (a path under another is dropped)."""
        paths = sorted(self._grants().get(perm, ()))
        kept = []
        for p in paths:
            if not any(p.startswith(k) for k in kept):
                kept.append(p)
        return kept

    def has_any(self, perm) -> bool:
        return self.is_superuser or bool(self._grants().get(perm))

    @property
    def roles_display(self):
        return "、".join(f"{a.get_role_display()}（{a.region.name}）" for a in self.assignments.all())


class RoleAssignment(models.Model):
    """角色分配: role + region (+ module for town staff). Its scope is the region's subtree."""

    user = models.ForeignKey(User, verbose_name="用户", on_delete=models.CASCADE, related_name="assignments")
    role = models.CharField("角色", max_length=20, choices=Role.choices)
    region = models.ForeignKey("areas.Region", verbose_name="区域", on_delete=models.PROTECT, related_name="+")
    module = models.CharField("业务模块", max_length=20, blank=True)

    scope = Scope(path_lookup="region__path", module="accounts")
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "角色分配"
        constraints = [models.UniqueConstraint(fields=["user", "role", "region", "module"], name="uniq_assignment")]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.region}"

    @property
    def audit_region_path(self):
        return self.region.path
