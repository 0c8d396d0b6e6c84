"""What every Open311 call looks up — the presented key, the services (leaf categories with their
deadline policy), the region a report names — kept in the process for a few seconds.

Each of those was a query per POST (three of the nine round trips of an intake, the services one
with an ``EXISTS`` per category); they change a few times a year. Rules that keep the memo truthful:

- Only reads outside a transaction use or fill it: inside one (a test, a management command, a
  request that just changed a category) the read must see that transaction's own writes, and a
  value read there might yet be rolled back.
- Any save or delete of an ApiKey, Category or Region in this process empties it at once
  (``post_save`` / ``post_delete``). Other server processes see a change when their entry expires:
  ``OPEN311_LOOKUP_SECONDS`` (10 s by default; 0 turns the memo off). So a deactivated key is refused
  everywhere within that time, and immediately by the process that deactivated it.
- Only found keys and regions are kept: a wrong key is looked up every time, so guessing fills
  nothing, and a key created a moment ago works at once.
"""
import threading

import cachetools
from django.conf import settings
from django.db import connection
from django.db.models import Exists, OuterRef
from django.db.models.signals import post_delete, post_save

from yiwang.areas.actions import normalise_code
from yiwang.areas.models import Region
from yiwang.core import crypto

from ..models import ApiKey, Category

_lock = threading.Lock()
_memo = None


def _store():
    global _memo
    if _memo is None:
        _memo = cachetools.TTLCache(maxsize=4096, ttl=max(getattr(settings, "OPEN311_LOOKUP_SECONDS", 10), 0.001))
    return _memo


def _enabled():
    return getattr(settings, "OPEN311_LOOKUP_SECONDS", 10) > 0 and not connection.in_atomic_block


def _remembered(kind, key, load):
    if not _enabled():
        return load()
    with _lock:
        try:
            return _store()[kind, key]
        except KeyError:
            pass
    value = load()
    if value is not None:
        with _lock:
            _store()[kind, key] = value
    return value


def forget(**_):
    """Empty the memo (a key, category or region was saved or deleted in this process)."""
    with _lock:
        _store().clear()


for _model in (ApiKey, Category, Region):
    post_save.connect(forget, sender=_model, dispatch_uid=f"yiwang.open311.forget.{_model.__name__}")
    post_delete.connect(forget, sender=_model, dispatch_uid=f"yiwang.open311.forget.{_model.__name__}.delete")


def services_queryset():
    """Services are the categories a report can name: active ones with no active children."""
    active_children = Category.objects.filter(parent=OuterRef("pk"), active=True)
    return (Category.objects.filter(active=True).exclude(parent__active=False).exclude(Exists(active_children))
            .select_related("parent"))


def services() -> dict:
    """{service_code: Category} in the category tree's order."""
    return _remembered("services", None, lambda: {c.code: c for c in services_queryset()})


def active_key(plain) -> ApiKey | None:
    """The active key matching a presented api_key, with its region."""
    if not plain or len(str(plain)) > 200:
        return None
    digest = crypto.lookup_hash(str(plain))
    return _remembered("key", digest, lambda: ApiKey.objects.filter(key_hash=digest, active=True)
                       .select_related("region").first())


def _shape(geojson):
    from shapely.geometry import shape
    from shapely.ops import unary_union

    if geojson.get("type") == "Feature":
        return _shape(geojson.get("geometry") or {})
    if geojson.get("type") == "FeatureCollection":
        return unary_union([_shape(f) for f in geojson.get("features") or []])
    return shape(geojson)


def _boundaries(path):
    """[(region, prepared shape)] of the grids and villages under ``path`` that have a boundary,
    grids first (a point in a grid is placed in the grid, not only its village), smaller areas first."""
    from shapely.prepared import prep

    found = []
    for region in (Region.objects.filter(path__startswith=path, boundary__isnull=False)
                   .filter(kind__in=[Region.Kind.GRID, Region.Kind.VILLAGE, Region.Kind.COMMUNITY])):
        try:
            geometry = _shape(region.boundary)
        except (TypeError, ValueError, AttributeError, KeyError, IndexError):
            continue  # a malformed boundary places nothing; the region still takes reports by its code
        if not geometry.is_empty:
            found.append((region.kind != Region.Kind.GRID, geometry.area, region.path, region, prep(geometry)))
    return [(region, shape) for *_, region, shape in sorted(found, key=lambda t: t[:3])]


def region_at(within: Region, latitude, longitude) -> Region | None:
    """The grid (else village) under ``within`` whose boundary contains the point, or None."""
    from shapely.geometry import Point

    point = Point(float(longitude), float(latitude))  # GeoJSON order: longitude, latitude
    for region, shape in _remembered("boundaries", within.path, lambda: _boundaries(within.path)):
        if shape.covers(point):
            return region
    return None


def region_by_code(code) -> Region | None:
    code = normalise_code(code)
    return _remembered("region", code, lambda: Region.objects.filter(code=code).first())
