"""Figures from the region tree: villages (嘎查村, communities not counted) and grids under a region."""
from yiwang.insights.registry import metric

from .models import Region


def _under(region, kind):
    return Region.objects.filter(path__startswith=region.path, kind=kind)


@metric("areas.villages", label="嘎查村数", label_en="Villages", unit="个",
        records=lambda region, period: _under(region, Region.Kind.VILLAGE), order=1)
def villages(region, period):
    return _under(region, Region.Kind.VILLAGE).count()


@metric("areas.grids", label="网格数", label_en="Grids", unit="个",
        records=lambda region, period: _under(region, Region.Kind.GRID), order=2)
def grids(region, period):
    return _under(region, Region.Kind.GRID).count()
