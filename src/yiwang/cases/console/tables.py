"""The dispatch console's table: its columns, sorting, pagination and the HTML of its rows.

Not a django-tables2 table: on 50 rows its per-cell machinery (accessors, ``render_*`` dispatch by
signature, a template node per cell) cost ≈ 45 ms of a ≈ 75 ms page. Here each row is one string
formatted from values read off the row, its select_related neighbours (category, handler, department)
and a dict of region names: no column may query per row, and every value from the database is escaped.

Pagination:

- in the default order (newest first: ``reported_at DESC, id DESC``) by **keyset**: 较早 (older) is
  "the rows after the last one shown" (``?older=<cursor>``), 较新 (newer) "the rows before the first one
  shown" (``?newer=<cursor>``), each one index range scan however deep (the ``case_recent_idx`` and, for the
  active queues, ``case_active_idx`` indexes of ``cases.0002``). A cursor is ``<µs since 1970>_<id>`` of a
  row; one that does not parse gives the first page and a message, never an error;
- in an order the user chose by a column heading (``?sort=``), by page number (``?page=``: an OFFSET;
  the ties of the chosen column are broken by id so that pages neither repeat nor skip rows), down to
  row MAX_SORTED_ROWS: deeper, an OFFSET costs seconds on a million cases; a deeper page number shows
  the last allowed page and says so.
"""
import datetime
import re

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

from yiwang.areas.models import Region

from ..models import Case

WARNING_BADGES = {
    "overdue": ("bg-danger", "超时"),
    "red": ("bg-danger-subtle text-danger-emphasis border border-danger", "红"),
    "yellow": ("bg-warning text-dark", "黄"),
    "": ("bg-success-subtle text-success-emphasis", "正常"),
}
SUPERVISION_BADGES = {"yellow": "bg-warning text-dark", "red": "bg-danger"}

# column, heading, the ORDER BY of ?sort=<column> (the id breaks ties)
COLUMNS = [
    ("number", Case._meta.get_field("number").verbose_name, ("number",)),
    ("title", Case._meta.get_field("title").verbose_name, ("title",)),
    ("category", "分类", ("category__order", "category__code")),
    ("region", "网格/村", ("region_path",)),
    ("state", Case._meta.get_field("state").verbose_name, ("state",)),
    ("level", Case._meta.get_field("level").verbose_name, ("level",)),
    ("handler", "承办", ("handler__username",)),
    ("resolve_due", "办结时限", ("resolve_due",)),
    ("supervision", Case._meta.get_field("supervision").verbose_name, ("supervision",)),
]
SORTS = {name: order for name, _, order in COLUMNS}
DEFAULT_ORDER = ("-reported_at", "-id")
PER_PAGE, MAX_PER_PAGE = 50, 500
NAV_PARAMS = ("older", "newer", "page")
CURSOR_ERROR = "翻页位置无效（链接不完整或被改动），已显示最新的诉求。"
MAX_SORTED_ROWS = 10_000  # how deep page numbers go in a chosen order
SORTED_DEPTH_NOTE = ("按所选列排序时最多翻到第 {pages} 页。要查看更早的诉求，请按默认顺序（最新在前）用“较早”翻页，"
                     "或用筛选缩小范围。")

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_US = datetime.timedelta(microseconds=1)
_CURSOR = re.compile(r"(-?[0-9]{1,17})_([0-9]{1,19})")  # ASCII digits only: \d takes ４２ too
_MAX_ID = 2**63 - 1  # a bigint: a larger id would be an error in the database, not "no rows"


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
    due = timezone.localtime(case.resolve_due).strftime("%m-%d %H:%M")
    if not case.is_open:
        late = case.state in Case.DONE_STATES and case.is_overdue(now)
        return mark_safe(('<span class="badge text-bg-secondary">超时办结</span> ' if late else "")
                         + f'<span class="text-muted small">{due}</span>')
    warning = case.warning(now)
    css, label = WARNING_BADGES[warning]
    if case.state == Case.State.SUBMITTED and warning == "overdue" and case.accept_due < now <= case.resolve_due:
        detail = "受理超时"
    else:
        detail = remaining_text(case.remaining(now))
    return mark_safe(f'<span class="badge {css} yw-warning" data-warning="{warning or "normal"}">{label}</span> '
                     f'<span class="small text-nowrap">{detail}</span><br><span class="small text-muted">{due}</span>')


# --------------------------------------------------------------------------- cursors


def encode_cursor(reported_at, pk) -> str:
    """The cursor of a row: its ``reported_at`` in whole microseconds since 1970 (UTC), and its id."""
    return f"{(reported_at - _EPOCH) // _US}_{pk}"


def decode_cursor(text):
    """``(reported_at, id)`` of a cursor, or None when it is not one (malformed, out of range)."""
    match = _CURSOR.fullmatch(text or "")
    if match is None:
        return None
    pk = int(match.group(2))
    if not 0 < pk <= _MAX_ID:
        return None
    try:
        at = _EPOCH + int(match.group(1)) * _US
    except OverflowError:
        return None
    return at, pk


def older_than(queryset, key):
    """Rows after ``key`` in the newest-first order. ``reported_at <= t`` is the index range; the OR
    then drops the rows of the same instant that were already shown (ids not below the cursor's)."""
    at, pk = key
    return queryset.filter(Q(reported_at__lt=at) | Q(reported_at=at, id__lt=pk), reported_at__lte=at)


def newer_than(queryset, key):
    at, pk = key
    return queryset.filter(Q(reported_at__gt=at) | Q(reported_at=at, id__gt=pk), reported_at__gte=at)


# --------------------------------------------------------------------------- the table


class Page:
    """What the template and the query-count test read of a page (``table.page.object_list``)."""

    def __init__(self, object_list, number=None, has_next=False, has_previous=False):
        self.object_list, self.number = object_list, number
        self.has_next, self.has_previous = has_next, has_previous


class ConsoleTable:
    """One page of the console's cases, read at construction (one query, two when 较新 reaches the
    newest rows), and its HTML (``as_html``)."""

    def __init__(self, queryset, params, now, *, region_names=None):
        self.params, self.now = params, now
        self.cursor_error = ""
        self.per_page = self._per_page(params.get("per_page"))
        sort = params.get("sort", "")
        self.sort = sort if sort.removeprefix("-") in SORTS else ""
        self.page_note = ""
        if self.sort:
            self._read_by_page_number(queryset)
        else:
            self._read_by_keyset(queryset)
        self.detail_url = reverse("cases:case_detail", args=[0])[:-2]  # "/cases/" + pk + "/"
        self.region_names = self._with_missing_regions(region_names)

    def _with_missing_regions(self, names):
        """``names`` (id → region name) completed with the regions of this page it does not hold: read
        live (one query, none when the page's regions are all there). Without ``names``, the rows'
        ``region`` must be loaded with them."""
        if names is None:
            return None
        missing = {c.region_id for c in self.page.object_list} - names.keys()
        if not missing:
            return names
        return {**names, **dict(Region.objects.filter(pk__in=missing).values_list("id", "name"))}

    @staticmethod
    def _per_page(value):
        try:
            return min(max(int(value), 1), MAX_PER_PAGE)
        except (TypeError, ValueError):
            return PER_PAGE

    def _read_by_keyset(self, queryset):
        n = self.per_page
        ordered = queryset.order_by(*DEFAULT_ORDER)
        older, newer = self.params.get("older"), self.params.get("newer")
        key = decode_cursor(older or newer) if (older or newer) else None
        if (older or newer) and key is None:
            self.cursor_error = CURSOR_ERROR
        rows, has_newer = None, False
        if key is not None and older:
            rows = list(older_than(ordered, key)[:n + 1])
            has_newer, has_older = True, len(rows) > n
            rows = rows[:n]
        elif key is not None:
            ahead = list(newer_than(queryset, key).order_by("reported_at", "id")[:n + 1])
            if len(ahead) > n:  # more newer rows beyond these: a page in the middle
                rows, has_newer, has_older = ahead[:n][::-1], True, True
        if rows is None:  # the first page (asked for, or 较新 reached the newest rows)
            rows = list(ordered[:n + 1])
            has_older = len(rows) > n
            rows = rows[:n]
        self.page = Page(rows, None, has_next=has_older, has_previous=has_newer)
        self.is_first_page = not has_newer
        self.is_last_page = not has_older

    def _read_by_page_number(self, queryset):
        n = self.per_page
        raw = self.params.get("page") or "1"
        digits = raw.isascii() and raw.isdigit()
        number = max(int(raw[:13]), 1) if digits else 1  # 13 digits: more than any limit, and no 4,300-digit int
        last_allowed = max(MAX_SORTED_ROWS // n, 1)
        if number > last_allowed:  # an OFFSET that deep costs seconds: the cursor pages are for that
            number, self.page_note = last_allowed, SORTED_DEPTH_NOTE.format(pages=last_allowed)
        desc = self.sort.startswith("-")
        order = [("-" if desc else "") + f for f in SORTS[self.sort.lstrip("-")]] + ["-id" if desc else "id"]
        offset = (number - 1) * n
        rows = list(queryset.order_by(*order)[offset:offset + n + 1])
        if not rows and number > 1:  # past the end (a stale link): the first page
            number, rows = 1, list(queryset.order_by(*order)[:n + 1])
        self.page = Page(rows[:n], number, has_next=len(rows) > n and number < last_allowed,
                         has_previous=number > 1)
        self.is_first_page = number == 1
        self.is_last_page = len(rows) <= n

    # ----------------------------------------------------------------------- links

    def url(self, **changes):
        """This page's query string with ``changes`` (a None value drops the parameter)."""
        params = {k: v for k, v in self.params.items() if k not in changes}
        params.update({k: v for k, v in changes.items() if v is not None})
        return "?" + urlencode(params) if params else "?"

    def nav_links(self):
        """(label, url or None, rel) of the pagination: 最新 · 较新 · 较早 in the default order, 第一页 · 上一页 ·
        下一页 in a chosen one."""
        page, drop = self.page, dict.fromkeys(NAV_PARAMS)
        rows = page.object_list
        if not self.sort:
            newer = (self.url(**{**drop, "newer": encode_cursor(rows[0].reported_at, rows[0].pk)})
                     if page.has_previous and rows else None)
            older = (self.url(**{**drop, "older": encode_cursor(rows[-1].reported_at, rows[-1].pk)})
                     if page.has_next and rows else None)
            return [("最新", self.url(**drop) if page.has_previous else None, "first"),
                    ("较新", newer, "prev"), ("较早", older, "next")]
        number = page.number
        return [("第一页", self.url(**drop) if number > 1 else None, "first"),
                ("上一页", self.url(**{**drop, "page": number - 1}) if number > 1 else None, "prev"),
                ("下一页", self.url(**{**drop, "page": number + 1}) if page.has_next else None, "next")]

    # ----------------------------------------------------------------------- HTML

    def _headings(self):
        out = ['<th scope="col"><input type="checkbox" class="form-check-input yw-select-all" aria-label="全选"></th>']
        for name, label, _ in COLUMNS:
            if self.sort.lstrip("-") == name:
                css, nxt = ("desc", name) if self.sort.startswith("-") else ("asc", "-" + name)
            else:
                css, nxt = "", name
            href = escape(self.url(sort=nxt, **dict.fromkeys(NAV_PARAMS)))
            out.append(f'<th class="{f"orderable {css}" if css else "orderable"}" scope="col">'
                       f'<a href="{href}">{escape(label)}</a></th>')
        return "".join(out)

    def _rows(self):
        now, url, regions = self.now, self.detail_url, self.region_names
        states, levels = dict(Case.State.choices), dict(Case.Level.choices)
        supervisions = dict(Case.Supervision.choices)
        out = []
        for i, c in enumerate(self.page.object_list):
            number = escape(c.number)
            if c.department_id:
                handler = escape(c.department.name)
            elif c.handler_id:
                handler = escape(str(c.handler))
            else:
                handler = f'<span class="text-muted">{escape(levels.get(c.level, c.level))}待领</span>'
            supervision = (f'<span class="badge {SUPERVISION_BADGES[c.supervision]}">'
                           f'{escape(supervisions[c.supervision])}</span>'
                           if c.supervision in SUPERVISION_BADGES else "")
            out.append(
                f'<tr data-case="{number}" class="{"odd" if i % 2 else "even"}">'
                f'<td><input type="checkbox" name="cases" value="{c.pk}" class="form-check-input"></td>'
                f'<td><a href="{url}{c.pk}/">{number}</a></td>'
                f'<td class="text-wrap">{escape(c.title)}</td>'
                f'<td>{escape(c.category.name)}</td>'
                f'<td>{escape(regions[c.region_id] if regions is not None else c.region.name)}</td>'
                f'<td>{escape(states.get(c.state, c.state))}</td>'
                f'<td>{escape(levels.get(c.level, c.level))}</td>'
                f'<td>{handler}</td>'
                f'<td>{deadline_badge(c, now)}</td>'
                f'<td>{supervision}</td></tr>')
        if not out:
            out.append(f'<tr><td colspan="{len(COLUMNS) + 1}" class="text-muted">没有符合条件的诉求</td></tr>')
        return "".join(out)

    def _nav(self):
        items = []
        for label, href, rel in self.nav_links():
            if href is None:
                items.append(f'<li class="page-item disabled yw-{rel}"><span class="page-link">{label}</span></li>')
            else:
                items.append(f'<li class="page-item yw-{rel}"><a class="page-link" rel="{rel}" '
                             f'href="{escape(href)}">{label}</a></li>')
        return ('<nav aria-label="翻页" id="yw-pager"><ul class="pagination pagination-sm justify-content-center">'
                + "".join(items) + "</ul></nav>")

    @property
    def as_html(self):
        return mark_safe(
            '<div class="table-container table-responsive">'
            '<table class="table table-sm table-striped table-hover align-middle yw-case-table">'
            f'<thead><tr>{self._headings()}</tr></thead><tbody>{self._rows()}</tbody></table>'
            f'{self._nav()}</div>')
