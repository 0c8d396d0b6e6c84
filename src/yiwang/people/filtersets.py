"""Filters of the people app, shared by the list pages and the API.

``q`` searches a person by name, pinyin initials (拼音首字母, e.g. "ZS" for 张三) or the last digits
of the ID number (up to four, the part a mask shows); a full 18-digit number is matched by keyed hash.
"""
import django_filters
from django.db.models import Q

from yiwang.areas.models import Region
from yiwang.areas.widgets import ChildRegionSelect
from yiwang.core import crypto
from yiwang.core.idnumber import normalise

from .models import Household, Person, Tag


def person_search_q(value, prefix=""):
    value = (value or "").strip()
    if not value:
        return Q()
    norm = normalise(value)
    if len(norm) == 18:
        return Q(**{f"{prefix}id_hash": crypto.lookup_hash(norm)})
    if norm[:-1].isdigit() and 1 <= len(norm) <= 4:
        # the end of an ID number, which no name holds: all four digits are an exact match, which the
        # id_suffix index serves (ORed with the name, the search would scan every person); fewer, the ending
        return Q(**{f"{prefix}id_suffix": norm} if len(norm) == 4 else {f"{prefix}id_suffix__endswith": norm})
    q = Q(**{f"{prefix}name__icontains": value})
    if value.isascii() and value.isalpha():
        q |= Q(**{f"{prefix}name_initials__startswith": value.upper()})
    return q


class HouseholdFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="户号/户主/身份证后四位", method="search")
    village = django_filters.ModelChoiceFilter(label="嘎查村", queryset=Region.objects.none(), to_field_name="code")
    grid = django_filters.ModelChoiceFilter(label="网格", queryset=Region.objects.none(), to_field_name="code",
                                            widget=ChildRegionSelect(follows="village"))
    tag = django_filters.ModelChoiceFilter(label="特殊群体", field_name="tags", queryset=Tag.objects.filter(
        applies_to="household"), to_field_name="code")

    class Meta:
        model = Household
        fields = ["q", "village", "grid", "tag"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        user = getattr(request, "user", None)
        regions = Region.objects.visible_to(user) if user is not None else Region.objects.none()
        self.filters["village"].queryset = regions.filter(kind__in=["village", "community"])
        self.filters["grid"].queryset = regions.filter(kind="grid")

    def search(self, queryset, name, value):
        return queryset.filter(Q(number__icontains=value) | person_search_q(value, "members__")).distinct()


class PersonFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="姓名/拼音首字母/身份证后四位", method="search")
    political_status = django_filters.ChoiceFilter(label="政治面貌", choices=Person.Political.choices)
    status = django_filters.ChoiceFilter(label="状态", choices=Person.Status.choices)
    gender = django_filters.ChoiceFilter(label="性别", choices=Person.Gender.choices)
    tag = django_filters.ModelChoiceFilter(label="特殊群体", field_name="tags", queryset=Tag.objects.filter(
        applies_to="person"), to_field_name="code")
    household = django_filters.CharFilter(label="户号", field_name="household__number")

    class Meta:
        model = Person
        fields = ["q", "political_status", "status", "gender", "tag", "household"]

    def search(self, queryset, name, value):
        return queryset.filter(person_search_q(value))
