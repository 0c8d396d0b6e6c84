"""Tables of the economy registry lists (django-tables2). Every related value they show is selected or
annotated by the view's queryset, and the pairing list's incomes come from one aggregate the view
passes in: a row never costs a query. Amounts are Decimal yuan, shown with thousands separators."""
import django_tables2 as tables
from django.utils.html import format_html

from ..models import Enterprise, PooledProject, Project, VillagePairing


def yuan(value):
    return "—" if value is None else f"{value:,.2f}"


class MoneyColumn(tables.Column):
    attrs = {"td": {"class": "text-end text-nowrap"}, "th": {"class": "text-end"}}

    def render(self, value):
        return yuan(value)


class ProjectTable(tables.Table):
    code = tables.Column(linkify=True)
    name = tables.Column(linkify=True)
    village = tables.Column(verbose_name="嘎查村", accessor="village__name", order_by=("region_path",))
    kind = tables.Column()
    status = tables.Column()
    start_date = tables.DateColumn(verbose_name="开始", format="Y-m-d")
    zone = tables.Column(verbose_name="产业布局", accessor="zone__name", default="—", orderable=False)
    product = tables.Column(default="—")
    is_base = tables.BooleanColumn(verbose_name="基地", yesno="是,—")

    class Meta:
        model = Project
        fields = ("code", "name", "village", "kind", "status", "start_date", "zone", "product", "is_base")
        attrs = {"class": "table table-sm table-striped table-hover"}


class PoolTable(tables.Table):
    code = tables.Column(linkify=True)
    name = tables.Column(linkify=True)
    host = tables.Column(verbose_name="所在村", accessor="host__name", order_by=("region_path",))
    participants = tables.Column(verbose_name="参与村数", accessor="participant_count", orderable=False,
                                 attrs={"td": {"class": "text-end"}})
    total_capital = MoneyColumn(verbose_name="总出资额（元）")
    last_run = tables.Column(verbose_name="最近分红", accessor="last_run_year", orderable=False, default="—")

    class Meta:
        model = PooledProject
        fields = ("code", "name", "host", "participants", "total_capital", "last_run")
        attrs = {"class": "table table-sm table-striped table-hover"}

    def render_last_run(self, value, record):
        from ..models import DividendRun

        status = dict(DividendRun.Status.choices).get(record.last_run_status, "")
        return f"{value} 年 · {status}"


class PairingTable(tables.Table):
    """``incomes`` = {(village id, year): operating income}, from the one aggregate of the page;
    ``ledger_paths`` = where the user reads the ledger (a strong village's cadre may not read the weak one's)."""

    weak = tables.Column(verbose_name="受帮村", accessor="weak__name", linkify=lambda record: record.get_absolute_url(),
                         order_by=("region_path",))
    strong = tables.Column(verbose_name="帮带村", accessor="strong_label", empty_values=(), orderable=False)
    cross_town = tables.Column(verbose_name="跨镇", empty_values=(), orderable=False)
    start_date = tables.DateColumn(verbose_name="开始", format="Y-m-d")
    end_date = tables.DateColumn(verbose_name="结束", format="Y-m-d", default="进行中")
    income_before = tables.Column(verbose_name="帮带前一年经营性收入（元）", empty_values=(), orderable=False,
                                  attrs={"td": {"class": "text-end text-nowrap"}})
    income_last = tables.Column(verbose_name="上一完整年度经营性收入（元）", empty_values=(), orderable=False,
                                attrs={"td": {"class": "text-end text-nowrap"}})

    class Meta:
        model = VillagePairing
        fields = ("weak", "strong", "cross_town", "start_date", "end_date", "income_before", "income_last")
        attrs = {"class": "table table-sm table-striped table-hover"}

    def __init__(self, *args, incomes=None, last_year=None, ledger_paths=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.incomes, self.last_year, self.ledger_paths = incomes or {}, last_year, tuple(ledger_paths)
        self.columns["income_last"].column.verbose_name = f"{last_year} 年经营性收入（元）"

    def _income(self, record, year):
        if not record.weak.path.startswith(self.ledger_paths):
            return "—"  # the weak village's ledger is outside the user's scope (a strong village's cadre)
        return format_html("{} <small class=\"text-muted\">（{} 年）</small>",
                           yuan(self.incomes.get((record.weak_id, year), 0)), year)

    def render_strong(self, record):
        return record.strong_label

    def render_cross_town(self, record):
        return "跨镇" if record.is_cross_town else "本镇"

    def render_income_before(self, record):
        return self._income(record, record.start_date.year - 1)

    def render_income_last(self, record):
        return self._income(record, self.last_year)


class EnterpriseTable(tables.Table):
    name = tables.Column(linkify=True)
    industry = tables.Column(default="—")
    partners = tables.Column(verbose_name="结对村数", accessor="partner_count", orderable=False,
                             attrs={"td": {"class": "text-end"}})
    produce_sales = MoneyColumn(verbose_name="帮销农特产品（元）", accessor="produce_total", orderable=False)
    jobs = tables.Column(verbose_name="帮助就业（人次）", accessor="jobs_total", orderable=False,
                         attrs={"td": {"class": "text-end"}})
    collective_income = MoneyColumn(verbose_name="带动村集体收入（元）", accessor="income_total", orderable=False)

    class Meta:
        model = Enterprise
        fields = ("name", "industry", "partners", "produce_sales", "jobs", "collective_income")
        attrs = {"class": "table table-sm table-striped table-hover"}
