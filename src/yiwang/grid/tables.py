"""Tables of the grid app (django-tables2). Every related value they show is selected or annotated by
the view's queryset: a row never costs a query."""
import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from .models import GridWorker, Pairing, Visit


class GridWorkerTable(tables.Table):
    name = tables.Column(verbose_name="姓名", accessor="person__name", linkify=lambda record: record.get_absolute_url(),
                         order_by=("person__name",))
    party = tables.Column(verbose_name="党员", accessor="person__political_status", orderable=False)
    kind = tables.Column()
    grid = tables.Column(verbose_name="主网格", accessor="grid__name", order_by=("region_path",))
    paired = tables.Column(verbose_name="包户数", accessor="paired_count", orderable=False)
    start_date = tables.DateColumn(format="Y-m-d")
    end_date = tables.DateColumn(format="Y-m-d", default="在任")

    class Meta:
        model = GridWorker
        fields = ("name", "party", "kind", "grid", "paired", "start_date", "end_date")
        attrs = {"class": "table table-sm table-striped table-hover"}

    def render_party(self, record):
        return "党员" if record.is_party_member else "群众"


class VisitTable(tables.Table):
    date = tables.DateColumn(format="Y-m-d", linkify=True)
    household = tables.Column(verbose_name="户号", accessor="household__number")
    worker = tables.Column(verbose_name="网格员", accessor="worker__person__name")
    kind = tables.Column()
    findings = tables.Column(orderable=False)
    photo = tables.Column(verbose_name="照片", orderable=False, empty_values=())

    class Meta:
        model = Visit
        fields = ("date", "household", "worker", "kind", "findings", "photo")
        attrs = {"class": "table table-sm table-striped table-hover"}

    def render_findings(self, value):
        return value if len(value) <= 30 else value[:30] + "…"

    def render_photo(self, record):
        return "有" if record.photo else "—"


class UnvisitedTable(tables.Table):
    worker = tables.Column(verbose_name="网格员", accessor="worker__person__name",
                           linkify=lambda record: reverse("grid:worker_detail", args=[record.worker_id]),
                           order_by=("worker__person__name", "worker_id"))
    household = tables.Column(verbose_name="户号", accessor="household__number",
                              linkify=lambda record: reverse("grid:household", args=[record.household_id]))
    grid = tables.Column(verbose_name="网格", accessor="household__grid__name", orderable=False, default="—")
    last_visit = tables.DateColumn(verbose_name="最近走访", format="Y-m-d", default="从未走访")
    start_date = tables.DateColumn(verbose_name="结对日期", format="Y-m-d")
    action = tables.Column(verbose_name="", orderable=False, empty_values=())

    class Meta:
        model = Pairing
        fields = ("worker", "household", "grid", "last_visit", "start_date", "action")
        attrs = {"class": "table table-sm table-striped table-hover"}

    def render_action(self, record):
        return format_html('<a class="btn btn-sm btn-outline-primary" href="{}">记录走访</a>',
                           reverse("grid:visit_create", args=[record.household_id]))


class UnpairedTable(tables.Table):
    number = tables.Column(verbose_name="户号", linkify=lambda record: reverse("grid:household", args=[record.pk]))
    head = tables.Column(verbose_name="户主", accessor="head__name", default="—")
    grid = tables.Column(verbose_name="网格", accessor="grid__name", default="—")
    address = tables.Column(verbose_name="地址")
    action = tables.Column(verbose_name="", orderable=False, empty_values=())

    def render_action(self, record):
        return format_html('<a class="btn btn-sm btn-outline-primary" href="{}">结对</a>',
                           reverse("grid:pair", args=[record.pk]))

    class Meta:
        attrs = {"class": "table table-sm table-striped table-hover"}
