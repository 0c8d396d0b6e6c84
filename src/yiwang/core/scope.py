"""Scope: the one restriction for every read (NetBox's ``RestrictedQuerySet.restrict`` idea).

A model's manager is built from ``ScopedQuerySet`` and the model names, in ``scope``, the lookup to a
region materialised path (``"path"`` for Region, ``"region_path"`` for Household, ...) and the module
whose permissions govern it. ``visible_to(user, action)`` keeps the rows under any region where one of
the user's role assignments grants ``<module>.<action>``; no grant means an empty queryset, and
callers turn a missing object into 404 (never 403: no existence leak).
"""
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db import models


@dataclass(frozen=True)
class Scope:
    path_lookup: str  # lookup from the model to a region path string
    module: str  # permission namespace, e.g. "people"


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
        lookup = f"{scope.path_lookup}__startswith"
        return self.filter(reduce(or_, (models.Q(**{lookup: p}) for p in paths)))
