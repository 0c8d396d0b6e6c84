"""Figures of the grid app: workers in office and party-member workers as of a period's end,
households with a pairing current at that day, visits made within the period.

A worker counts under a region by their primary grid; party membership is the person's political
status now (the registry keeps no history of it)."""
from yiwang.insights.registry import metric

from .models import GridWorker, Pairing, Visit


def worker_records(region, period):
    return GridWorker.objects.filter(region_path__startswith=region.path).active_on(period.end)


def party_worker_records(region, period):
    return worker_records(region, period).party()


def paired_records(region, period):
    return Pairing.objects.filter(household__region_path__startswith=region.path).current_on(period.end)


def visit_records(region, period):
    qs = Visit.objects.filter(region_path__startswith=region.path, date__lte=period.end)
    return qs.filter(date__gte=period.start) if period.start else qs  # an as-of period: every visit up to then


@metric("grid.workers", label="网格员", label_en="Grid workers", unit="名", records=worker_records, order=1)
def workers(region, period):
    return worker_records(region, period).count()


@metric("grid.workers_party", label="党员网格员", label_en="Party-member grid workers", unit="名",
        records=party_worker_records, order=2)
def workers_party(region, period):
    return party_worker_records(region, period).count()


@metric("grid.households_paired", label="结对户数", label_en="Households paired", unit="户",
        records=paired_records, order=3)
def households_paired(region, period):
    return paired_records(region, period).values("household").distinct().count()


@metric("grid.visits", label="走访次数", label_en="Visits", unit="次", records=visit_records, order=4)
def visits(region, period):
    return visit_records(region, period).count()
