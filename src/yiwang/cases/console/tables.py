"""The dispatch console's table. Every column reads the row and its select_related neighbours (category,
region, handler, department) only: no column may query per row."""
import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html

from ..models import Case

WARNING_BADGES = {
    "overdue": ("bg-danger", "超时"),
    "red": ("bg-danger-subtle text-danger-emphasis border border-danger", "红"),
    "yellow": ("bg-warning text-dark", "黄"),
    "": ("bg-success-subtle text-success-emphasis", "正常"),
}
SUPERVISION_BADGES = {"yellow": "bg-warning text-dark", "red": "bg-danger"}


def remaining_text(delta) -> str:
    """A short Chinese duration: 剩余 2天3小时 / 超时 5小时 / 剩余 40分钟."""
    seconds = int(delta.total_seconds())
    prefix = "剩余" if seconds >= 0 else "超时"
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return f"{prefix} {days}天{hours}小时"
    if hours:
        return f"{prefix} {hours}小时"
    return f"{prefix} {max(rest // 60, 1)}分钟"


def deadline_badge(case, now=None):
    """The deadline cell of a case: its resolve deadline, what remains and the warning colour."""
    now = now or timezone.now()
    if not case.is_open:
        late = case.state in Case.DONE_STATES and case.is_overdue(now)
        return format_html('{}<span class="text-muted small">{}</span>',
                           format_html('<span class="badge text-bg-secondary">{}</span> ', "超时办结") if late else "",
                           timezone.localtime(case.resolve_due).strftime("%m-%d %H:%M"))
    warning = case.warning(now)
    css, label = WARNING_BADGES[warning]
    if case.state == Case.State.SUBMITTED and warning == "overdue" and case.accept_due < now <= case.resolve_due:
        detail = "受理超时"
    else:
        detail = remaining_text(case.remaining(now))
    return format_html('<span class="badge {} yw-warning" data-warning="{}">{}</span> '
                       '<span class="small text-nowrap">{}</span><br><span class="small text-muted">{}</span>',
                       css, warning or "normal", label, detail,
                       timezone.localtime(case.resolve_due).strftime("%m-%d %H:%M"))


class CaseTable(tables.Table):
    selection = tables.CheckBoxColumn(accessor="pk", attrs={"th__input": {"class": "form-check-input yw-select-all",
                                                                          "aria-label": "全选"},
                                                            "td__input": {"class": "form-check-input",
                                                                          "name": "cases"}})
    number = tables.Column(linkify=True)
    title = tables.Column(attrs={"td": {"class": "text-wrap"}})
    category = tables.Column(verbose_name="分类", accessor="category__name", order_by="category__order")
    region = tables.Column(verbose_name="网格/村", accessor="region__name", order_by="region_path")
    state = tables.Column()
    level = tables.Column()
    handler = tables.Column(verbose_name="承办", empty_values=(), order_by="handler__username")
    resolve_due = tables.Column(verbose_name="办结时限", empty_values=())
    supervision = tables.Column(empty_values=())

    class Meta:
        model = Case
        fields = ("selection", "number", "title", "category", "region", "state", "level", "handler", "resolve_due",
                  "supervision")
        attrs = {"class": "table table-sm table-striped table-hover align-middle yw-case-table"}
        row_attrs = {"data-case": lambda record: record.number}
        order_by = ("-reported_at",)

    def __init__(self, *args, now=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = now or timezone.now()

    def render_handler(self, record):
        if record.department_id:
            return record.department.name
        if record.handler_id:
            return str(record.handler)
        return format_html('<span class="text-muted">{}待领</span>', record.get_level_display())

    def render_resolve_due(self, record):
        return deadline_badge(record, self.now)

    def render_supervision(self, record):
        if not record.supervision:
            return ""
        return format_html('<span class="badge {}">{}</span>', SUPERVISION_BADGES[record.supervision],
                           record.get_supervision_display())
