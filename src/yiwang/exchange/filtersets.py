"""Filters of the import list: which sheet (by its Chinese title) and which status."""
import django_filters

from .models import ImportJob
from .sheets import all_sheets


class ImportJobFilterSet(django_filters.FilterSet):
    sheet = django_filters.ChoiceFilter(label="表格", empty_label="全部",
                                        choices=lambda: [(s.key, s.title) for s in all_sheets()])
    status = django_filters.ChoiceFilter(label="状态", empty_label="全部", choices=ImportJob.Status.choices)

    class Meta:
        model = ImportJob
        fields = ["sheet", "status"]
