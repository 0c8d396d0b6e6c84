"""Tables of the ledger pages (django-tables2). Every related value they show is selected by the view's
queryset (village, project, the reversed entry, the reversal, who entered it): a row never costs a query.
Amounts are shown as 元 to the cent with thousands separators."""
import django_tables2 as tables
from django.utils.html import format_html

from yiwang.core.money import group_yuan

from ..models import IncomeEntry

yuan = group_yuan  # the tables' money cells


def entry_status(entry) -> str:
    if entry.reverses_id is not None:
        return "冲销分录"
    if getattr(entry, "reversal", None) is not None:
        return "已冲销"
    return "有效"


class IncomeEntryTable(tables.Table):
    month = tables.DateColumn(verbose_name="月份", format="Y-m", linkify=True)
    village = tables.Column(verbose_name="嘎查村", accessor="village__name", order_by=("region_path", "month"))
    category = tables.Column(verbose_name="收入类别")
    amount = tables.Column(verbose_name="金额（元）", attrs={"td": {"class": "text-end text-nowrap"},
                                                          "th": {"class": "text-end"}})
    project = tables.Column(verbose_name="项目", accessor="project__name", default="—", order_by=("project__code",))
    source_document = tables.Column(verbose_name="凭证", default="—")
    note = tables.Column(verbose_name="摘要", orderable=False, default="—")
    status = tables.Column(verbose_name="状态", orderable=False, empty_values=())
    reviewed_at = tables.Column(verbose_name="审核", empty_values=(), order_by=("reviewed_at",))

    class Meta:
        model = IncomeEntry
        fields = ("month", "village", "category", "amount", "project", "source_document", "note", "status",
                  "reviewed_at")
        attrs = {"class": "table table-sm table-striped table-hover"}

    def render_village(self, record):
        return record.village.short_name

    def render_amount(self, value):
        return format_html('<span class="{}">{}</span>', "text-danger" if value < 0 else "", yuan(value))

    def render_note(self, value):
        return value if len(value) <= 24 else value[:24] + "…"

    def render_status(self, record):
        label = entry_status(record)
        css = {"冲销分录": "bg-warning text-dark", "已冲销": "bg-secondary", "有效": "bg-success"}[label]
        return format_html('<span class="badge {}">{}</span>', css, label)

    def render_reviewed_at(self, record):
        return "已审核" if record.reviewed_at else "未审核"
