"""Filters of the accounts app (audit log search)."""
import django_filters
from django import forms

from yiwang.core.models import AuditEntry


class AuditFilterSet(django_filters.FilterSet):
    actor_label = django_filters.CharFilter(label="操作人", lookup_expr="icontains")
    action = django_filters.CharFilter(label="动作", lookup_expr="icontains")
    allowed = django_filters.BooleanFilter(label="结果", widget=forms.Select(
        choices=[("", "全部"), ("true", "成功"), ("false", "拒绝")]))
    at_after = django_filters.DateFilter(label="起始日期", field_name="at", lookup_expr="date__gte",
                                         widget=forms.DateInput(attrs={"type": "date"}))
    at_before = django_filters.DateFilter(label="截止日期", field_name="at", lookup_expr="date__lte",
                                          widget=forms.DateInput(attrs={"type": "date"}))

    class Meta:
        model = AuditEntry
        fields = ["actor_label", "action", "allowed"]
