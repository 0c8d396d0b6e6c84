"""Filters of the economy app, shared by the list pages, the API and the Excel export. Region choices
are only those the user sees (a village of another scope is not even offered, so it cannot be named)."""
import django_filters

from yiwang.areas.models import Region

from .models import DividendRun, IncomeCategory, IncomeEntry, PooledProject, Project, VillagePairing


class VillageChoicesMixin:
    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        user = getattr(request, "user", None)
        regions = Region.objects.visible_to(user) if user is not None else Region.objects.none()
        if "village" in self.filters:
            self.filters["village"].queryset = regions.filter(kind=Region.Kind.VILLAGE)
        if "project" in self.filters:
            self.filters["project"].queryset = (Project.objects.visible_to(user) if user is not None
                                                else Project.objects.none())


def _under(path_field):
    def method(self, queryset, name, value):
        return queryset.filter(**{f"{path_field}__startswith": value.path}) if value else queryset

    return method


class ProjectFilterSet(VillageChoicesMixin, django_filters.FilterSet):
    q = django_filters.CharFilter(label="名称或编号", method="filter_q")
    village = django_filters.ModelChoiceFilter(label="嘎查村", queryset=Region.objects.none(), to_field_name="code",
                                               method="filter_village")
    kind = django_filters.ChoiceFilter(label="类型", choices=Project.Kind.choices)
    status = django_filters.ChoiceFilter(label="状态", choices=Project.Status.choices)
    is_base = django_filters.BooleanFilter(label="规模化基地")

    class Meta:
        model = Project
        fields = ["q", "village", "kind", "status", "is_base"]

    filter_village = _under("region_path")

    def filter_q(self, queryset, name, value):
        from django.db.models import Q

        return queryset.filter(Q(name__icontains=value) | Q(code__icontains=value)) if value else queryset


class IncomeEntryFilterSet(VillageChoicesMixin, django_filters.FilterSet):
    village = django_filters.ModelChoiceFilter(label="嘎查村", queryset=Region.objects.none(), to_field_name="code",
                                               method="filter_village")
    year = django_filters.NumberFilter(label="年度", field_name="month", lookup_expr="year")
    month_from = django_filters.DateFilter(label="起始月份", field_name="month", lookup_expr="gte")
    month_to = django_filters.DateFilter(label="截止月份", field_name="month", lookup_expr="lte")
    category = django_filters.ChoiceFilter(label="收入类别", choices=IncomeCategory.choices)
    project = django_filters.ModelChoiceFilter(label="项目", queryset=Project.objects.none())
    reviewed = django_filters.BooleanFilter(label="已审核", field_name="reviewed_at", lookup_expr="isnull",
                                            exclude=True)

    class Meta:
        model = IncomeEntry
        fields = ["village", "year", "month_from", "month_to", "category", "project", "reviewed"]

    filter_village = _under("region_path")


class PoolFilterSet(VillageChoicesMixin, django_filters.FilterSet):
    village = django_filters.ModelChoiceFilter(label="所在村", queryset=Region.objects.none(), to_field_name="code",
                                               method="filter_village")

    class Meta:
        model = PooledProject
        fields = ["village"]

    filter_village = _under("region_path")


class DividendRunFilterSet(django_filters.FilterSet):
    year = django_filters.NumberFilter(label="年度")
    status = django_filters.ChoiceFilter(label="状态", choices=DividendRun.Status.choices)

    class Meta:
        model = DividendRun
        fields = ["pool", "year", "status"]


class PairingFilterSet(VillageChoicesMixin, django_filters.FilterSet):
    village = django_filters.ModelChoiceFilter(label="受帮村", queryset=Region.objects.none(), to_field_name="code",
                                               method="filter_village")
    active = django_filters.BooleanFilter(label="进行中", field_name="end_date", lookup_expr="isnull")

    class Meta:
        model = VillagePairing
        fields = ["village", "active"]

    filter_village = _under("region_path")
