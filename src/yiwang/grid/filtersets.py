"""Filters of the grid app, shared by the list pages and the API. Region choices are only those the
user sees (a village of another scope is not even offered, so it cannot be named)."""
import datetime

import django_filters
from django.db.models import Q

from yiwang.areas.models import Region
from yiwang.areas.widgets import ChildRegionSelect

from .models import PARTY_STATUSES, GridWorker, Pairing, Visit

YES_NO = [("1", "是"), ("0", "否")]


class RegionChoicesMixin:
    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        user = getattr(request, "user", None)
        regions = Region.objects.visible_to(user) if user is not None else Region.objects.none()
        if "village" in self.filters:
            self.filters["village"].queryset = regions.filter(kind__in=["village", "community"])
        if "grid" in self.filters:
            self.filters["grid"].queryset = regions.filter(kind="grid")
        if "worker" in self.filters:
            self.filters["worker"].queryset = GridWorker.objects.visible_to(user).select_related("person") \
                if user is not None else GridWorker.objects.none()


def _village(path_field):
    def method(self, queryset, name, value):
        return queryset.filter(**{f"{path_field}__startswith": value.path}) if value else queryset

    return method


class GridWorkerFilterSet(RegionChoicesMixin, django_filters.FilterSet):
    q = django_filters.CharFilter(label="姓名", field_name="person__name", lookup_expr="icontains")
    village = django_filters.ModelChoiceFilter(label="嘎查村", queryset=Region.objects.none(), to_field_name="code",
                                               method="filter_village")
    grid = django_filters.ModelChoiceFilter(label="服务网格", field_name="grids", queryset=Region.objects.none(),
                                            to_field_name="code", widget=ChildRegionSelect(follows="village"))
    kind = django_filters.ChoiceFilter(label="类型", choices=GridWorker.Kind.choices)
    party = django_filters.ChoiceFilter(label="党员", choices=YES_NO, method="filter_party")
    active = django_filters.ChoiceFilter(label="在任", choices=YES_NO, method="filter_active")

    class Meta:
        model = GridWorker
        fields = ["q", "village", "grid", "kind", "party", "active"]

    filter_village = _village("region_path")

    def filter_party(self, queryset, name, value):
        q = Q(person__political_status__in=PARTY_STATUSES)
        return queryset.filter(q) if value == "1" else queryset.exclude(q)

    def filter_active(self, queryset, name, value):
        today = datetime.date.today()
        q = Q(start_date__lte=today) & (Q(end_date__isnull=True) | Q(end_date__gt=today))
        return queryset.filter(q) if value == "1" else queryset.exclude(q)


class PairingFilterSet(RegionChoicesMixin, django_filters.FilterSet):
    village = django_filters.ModelChoiceFilter(label="嘎查村", queryset=Region.objects.none(), to_field_name="code",
                                               method="filter_village")
    grid = django_filters.ModelChoiceFilter(label="网格", field_name="household__grid", queryset=Region.objects.none(),
                                            to_field_name="code", widget=ChildRegionSelect(follows="village"))
    worker = django_filters.ModelChoiceFilter(label="网格员", queryset=GridWorker.objects.none())
    household = django_filters.CharFilter(label="户号", field_name="household__number")
    current = django_filters.ChoiceFilter(label="当前结对", choices=YES_NO, method="filter_current")

    class Meta:
        model = Pairing
        fields = ["village", "grid", "worker", "household", "current"]

    filter_village = _village("household__region_path")

    def filter_current(self, queryset, name, value):
        return queryset.filter(end_date__isnull=value == "1")


class UnvisitedFilterSet(PairingFilterSet):
    class Meta(PairingFilterSet.Meta):
        fields = ["village", "grid", "worker", "household"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.filters["current"]


class VisitFilterSet(RegionChoicesMixin, django_filters.FilterSet):
    village = django_filters.ModelChoiceFilter(label="嘎查村", queryset=Region.objects.none(), to_field_name="code",
                                               method="filter_village")
    grid = django_filters.ModelChoiceFilter(label="网格", field_name="household__grid", queryset=Region.objects.none(),
                                            to_field_name="code", widget=ChildRegionSelect(follows="village"))
    worker = django_filters.ModelChoiceFilter(label="网格员", queryset=GridWorker.objects.none())
    kind = django_filters.ChoiceFilter(label="走访类型", choices=Visit.Kind.choices)
    household = django_filters.CharFilter(label="户号", field_name="household__number")
    date_from = django_filters.DateFilter(label="起始日期", field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(label="截止日期", field_name="date", lookup_expr="lte")

    class Meta:
        model = Visit
        fields = ["village", "grid", "worker", "kind", "household", "date_from", "date_to"]

    filter_village = _village("region_path")
