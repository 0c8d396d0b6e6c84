"""Figures from the household registry, as of a period's end: households registered by then and not
closed, persons registered by then whose status was still "living" at that day."""
from django.db.models import Q

from yiwang.insights.registry import metric

from .models import Household, Person


def household_records(region, period):
    end = period.end
    return Household.objects.filter(region_path__startswith=region.path, registered_on__lte=end).filter(
        Q(closed_on__isnull=True) | Q(closed_on__gt=end))


def person_records(region, period):
    end = period.end
    return Person.objects.filter(household__region_path__startswith=region.path, registered_on__lte=end).filter(
        Q(status=Person.Status.LIVING) | Q(status_changed_on__gt=end))


@metric("people.households", label="户数", label_en="Households", unit="户", records=household_records, order=1)
def households(region, period):
    return household_records(region, period).count()


@metric("people.persons", label="人口数", label_en="Persons", unit="人", records=person_records, order=2)
def persons(region, period):
    return person_records(region, period).count()
