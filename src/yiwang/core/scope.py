"""Scope: the one restriction for every read (NetBox's ``RestrictedQuerySet.restrict`` idea).

A model's manager is built from ``ScopedQuerySet`` and the model names, in ``scope``, the lookup to a
region materialised path (``"path"`` for Region, ``"region_path"`` for Household, ...) and the module
whose permissions govern it. ``visible_to(user, action)`` keeps the rows under any region where one of
the user's role assignments grants ``<module>.<action>``; no grant means an empty queryset, and
callers turn a missing object into 404 (never 403: no existence leak).

A record that belongs to two places at once — a strong village helping a weak one, a pooled project
and the villages that put capital into it — names the other places' paths in ``also``: it is then
under each of those subtrees too (read through a ``pk IN (…)`` subquery, so a to-many lookup never
duplicates rows). ``Scope.q`` is the one place that builds the filter; views, the API, metrics and the
tests' ground truth (``core.testing.under``) all use it.
"""
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db import models


@dataclass(frozen=True)
class Scope:
    path_lookup: str  # lookup from the model to a region path string
    module: str  # permission namespace, e.g. "people"
    also: tuple = ()  # further lookups to region paths under which the record also lies

    def q(self, model, paths) -> models.Q:
        """Rows of ``model`` under any of ``paths`` (region path prefixes)."""
        paths = [paths] if isinstance(paths, str) else list(paths)
        parts = [models.Q(**{f"{self.path_lookup}__startswith": p}) for p in paths]
        for lookup in self.also:
            extra = reduce(or_, (models.Q(**{f"{lookup}__startswith": p}) for p in paths))
            parts.append(models.Q(pk__in=model._default_manager.filter(extra).values("pk")))
        return reduce(or_, parts)


class ScopedQuerySet(models.QuerySet):
    def visible_to(self, user, action="view"):
        scope: Scope = self.model.scope
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        paths = user.scope_paths(f"{scope.module}.{action}")
        if not paths:
            return self.none()
        return self.filter(scope.q(self.model, paths))

    def under(self, region_or_path):
        """Rows under a region's subtree (no user involved: metrics and the system's own reads)."""
        path = getattr(region_or_path, "path", region_or_path)
        return self.filter(self.model.scope.q(self.model, path))
