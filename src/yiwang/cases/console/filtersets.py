"""Filters of the dispatch console, shared by the console page and the cases API.

The deadline queues (超时 / 红 / 黄 / 正常) are computed in SQL, the same rule as ``Case.warning``:
overdue = open and past ``resolve_due``, or still waiting past ``accept_due``; red / yellow = open, not
overdue, and the share of the resolve window already used (``now - reported_at`` over
``resolve_due - reported_at``) at or above the category's ``red_pct`` / ``yellow_pct``. Timestamps are
compared as seconds since the epoch (``Epoch`` below) so the rule is one WHERE clause on SQLite and
PostgreSQL alike; nothing is computed per row in Python.
"""
import django_filters
from django import forms
from django.db.models import F, FloatField, Func, Q, Value
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from yiwang.accounts.models import User
from yiwang.areas.models import Region

from ..models import Case, Category

WARNING_CHOICES = [("overdue", "超时"), ("red", "红色预警"), ("yellow", "黄色预警"), ("normal", "正常")]


class Epoch(Func):
    """Seconds since 1970 of a datetime column (float)."""

    output_field = FloatField()

    def as_sql(self, compiler, connection, **extra):  # PostgreSQL (and any backend with EXTRACT)
        return super().as_sql(compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)", **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # SQLite keeps datetimes as UTC text; julianday() reads it, days → seconds since 1970-01-01
        return super().as_sql(compiler, connection, template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)",
                              **extra)


def overdue_q(now):
    return Q(state__in=Case.OPEN_STATES) & (
        Q(resolve_due__lt=now) | Q(state=Case.State.SUBMITTED, accepted_at__isnull=True, accept_due__lt=now))


def with_window_use(queryset, now):
    """Annotate ``used_x100`` (100 × seconds of the window used) and ``window_s`` (the window's seconds),
    so that "used ≥ pct" reads ``used_x100 >= pct × window_s`` without a division."""
    now_s = now.timestamp()
    return queryset.annotate(
        used_x100=(Value(now_s, output_field=FloatField()) - Epoch("reported_at")) * 100.0,
        window_s=Epoch("resolve_due") - Epoch("reported_at"))


def filter_warning(queryset, value, now=None):
    """The cases of one deadline queue: overdue, red, yellow or normal (open and none of these)."""
    now = now or timezone.now()
    if value == "overdue":
        return queryset.filter(overdue_q(now))
    qs = with_window_use(queryset.filter(state__in=Case.OPEN_STATES).exclude(overdue_q(now)), now)
    red = Q(used_x100__gte=F("category__red_pct") * F("window_s"))
    yellow = Q(used_x100__gte=F("category__yellow_pct") * F("window_s"))
    if value == "red":
        return qs.filter(red)
    if value == "yellow":
        return qs.filter(yellow).exclude(red)
    if value == "normal":
        return qs.exclude(yellow)
    return queryset


class RegionChoice(forms.ModelChoiceField):
    """Villages and their grids in one select, grids indented under their village (ordered by path)."""

    def label_from_instance(self, region):
        return f"　{region.name}" if region.kind == Region.Kind.GRID else region.name


@extend_schema_field(OpenApiTypes.STR)  # a region code (12 or 14 digits)
class RegionFilter(django_filters.ModelChoiceFilter):
    field_class = RegionChoice


class CaseFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="编号/标题", method="search")
    state = django_filters.ChoiceFilter(label="状态", choices=Case.State.choices, empty_label="全部")
    warning = django_filters.ChoiceFilter(label="时限预警", choices=WARNING_CHOICES, method="by_warning",
                                         empty_label="全部")
    # not "region": the API's ?region= is the scope narrowing of ScopedViewSetMixin
    area = RegionFilter(label="嘎查村/网格", queryset=Region.objects.none(), to_field_name="code",
                          method="by_region")
    category = django_filters.ModelChoiceFilter(label="分类", queryset=Category.objects.none(), to_field_name="code",
                                                method="by_category")
    channel = django_filters.ChoiceFilter(label="来源", choices=Case.Channel.choices, empty_label="全部")
    level = django_filters.ChoiceFilter(label="办理层级", choices=Case.Level.choices, empty_label="全部")
    handler = django_filters.ModelChoiceFilter(label="承办人", queryset=User.objects.none(), to_field_name="username")
    supervision = django_filters.ChoiceFilter(label="督办", choices=[("yellow", "黄牌督办"), ("red", "红牌督办"),
                                                                     ("any", "有督办")], method="by_supervision",
                                           empty_label="全部")
    reported_from = django_filters.DateFilter(label="上报日期从", field_name="reported_at", lookup_expr="date__gte",
                                              widget=forms.DateInput(attrs={"type": "date"}))
    reported_to = django_filters.DateFilter(label="至", field_name="reported_at", lookup_expr="date__lte",
                                            widget=forms.DateInput(attrs={"type": "date"}))

    class Meta:
        model = Case
        fields = ["q", "state", "warning", "area", "category", "channel", "level", "handler", "supervision",
                  "reported_from", "reported_to"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        user = getattr(request, "user", None)
        regions = Region.objects.visible_to(user) if user is not None else Region.objects.none()
        self.filters["area"].queryset = regions.filter(
            kind__in=[Region.Kind.VILLAGE, Region.Kind.COMMUNITY, Region.Kind.GRID]).order_by("path").only(
            "id", "code", "name", "kind", "path")
        self.filters["category"].queryset = Category.objects.select_related("parent")
        # handlers: the people who hold a case the user can see (one query, no per-row lookups)
        visible = Case.objects.visible_to(user) if user is not None else Case.objects.none()
        self.filters["handler"].queryset = User.objects.filter(
            pk__in=visible.filter(handler__isnull=False).values("handler")).order_by("username").only(
            "id", "username", "display_name")

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(number__icontains=value) | Q(title__icontains=value)) if value else queryset

    def by_warning(self, queryset, name, value):
        return filter_warning(queryset, value)

    def by_region(self, queryset, name, value):
        return queryset.filter(region_path__startswith=value.path)

    def by_category(self, queryset, name, value):
        return queryset.filter(Q(category=value) | Q(category__parent=value))

    def by_supervision(self, queryset, name, value):
        if value == "any":
            return queryset.exclude(supervision="")
        return queryset.filter(supervision=value)


def queue_counts(queryset, now) -> dict:
    """How many cases wait in each working state and each deadline queue: two aggregate queries over the
    active cases only (open or awaiting a rating), which a partial index keeps small however many finished
    cases the town has. Finished states (closed, rejected, merged) are not counted on every page: their
    count is None (the list shows it when that queue is chosen)."""
    from django.db.models import Count

    active = queryset.order_by().filter(state__in=Case.ACTIVE_STATES)
    counts = {state: None for state in Case.State.values}
    counts.update({row["state"]: row["n"] for row in active.values("state").annotate(n=Count("pk"))})
    for state in Case.ACTIVE_STATES:
        counts[state] = counts.get(state) or 0
    overdue = overdue_q(now)
    open_in_time = ~overdue
    red = Q(used_x100__gte=F("category__red_pct") * F("window_s"))
    yellow = Q(used_x100__gte=F("category__yellow_pct") * F("window_s"))
    counts.update(with_window_use(queryset.order_by().filter(state__in=Case.OPEN_STATES), now).aggregate(
        overdue=Count("pk", filter=overdue), red=Count("pk", filter=open_in_time & red),
        yellow=Count("pk", filter=open_in_time & yellow & ~red), normal=Count("pk", filter=open_in_time & ~yellow)))
    return counts
