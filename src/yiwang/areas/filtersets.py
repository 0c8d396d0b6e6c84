"""Filters of the areas app (one FilterSet for the list page and the API)."""
import django_filters

from .models import Region


class RegionFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="名称或代码", method="search")
    kind = django_filters.ChoiceFilter(label="层级", choices=Region.Kind.choices)

    class Meta:
        model = Region
        fields = ["kind"]

    def search(self, queryset, name, value):
        from django.db.models import Q

        return queryset.filter(Q(name__icontains=value) | Q(code__startswith=value))
