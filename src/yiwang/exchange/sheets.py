"""Sheet declarations: one per registry, driving template, import, export and the list's export button.

A subclass declares ``key``, ``title``, ``module`` (whose permissions govern it), ``columns`` and:
- ``check(row_no, values, ctx)`` — per-row checks against the database and earlier rows (pass 1);
- ``finish(ctx)`` — cross-row checks once every row has been seen (e.g. a household without head);
  it must read the database afresh each time (a commit from the preview's plan runs it again);
- ``write(batch, ctx)`` — apply a batch of accepted rows through the app's actions, returning
  per-row outcomes "new" / "changed" / "unchanged";
- ``export_rows(queryset, ctx)`` and ``export_queryset(user)`` — rows for export, masked unless
  ``ctx.full_pii``.
Apps register their sheets in ``sheets.py`` modules (autodiscovered) with ``register``.
"""
from dataclasses import dataclass, field

from .columns import CellError, Column


@dataclass
class Issue:
    row: int
    column: str
    value: str
    reason: str

    def as_dict(self):
        return {"row": self.row, "column": self.column, "value": self.value, "reason": self.reason}


@dataclass
class Context:
    user: object  # None = the system (CLI)
    region: object = None  # the region the import is for (scope), or None
    commit: bool = False
    partial: bool = False
    full_pii: bool = False
    state: dict = field(default_factory=dict)  # sheet-specific cross-row state
    issues: list = field(default_factory=list)
    rejected_rows: set = field(default_factory=set)
    counts: dict = field(default_factory=lambda: {"new": 0, "changed": 0, "unchanged": 0, "rejected": 0})

    def reject(self, row, column, value, reason):
        self.issues.append(Issue(row, column, "" if value is None else str(value)[:200], reason))
        self.rejected_rows.add(row)


class Sheet:
    key = ""
    title = ""
    module = ""
    columns: list[Column] = []
    batch_size = 2000
    readme = ""
    # who may import it (upload, preview, confirm) at the job's region; default "<module>.change".
    # Reference data that belongs to no village names its own (the tag list: "people.tags").
    permission = ""
    # who sees its import jobs (and may download the kept file) at the job's region, besides those who
    # may import it; default "<module>.view"
    view_permission = ""
    # rows hold full ID numbers or phones: the kept file and the error workbook are personal data
    personal_data = False
    # A sheet whose preview may hand its commit what it learnt (``exchange.plan``) declares
    # ``plan_fingerprint(ctx)``: a value (repr-able) of everything its ``parse`` and ``check`` read
    # besides the file, equal at the commit only if they would answer every row the same; and in
    # ``plan_state`` the ``ctx.state`` keys pass 1 fills that ``finish`` and ``write`` need.
    plan_state = ()
    # the models a large preview writes and rolls back: on PostgreSQL they are vacuumed after it, so the
    # commit does not meet the preview's dead rows in the very indexes it writes (``engine``)
    preview_vacuums = ()

    @property
    def change_permission(self):
        return self.permission or f"{self.module}.change"

    def job_permissions(self, action="view"):
        """The permissions under which a user sees this sheet's import jobs (``ImportJob.visible_to``)."""
        if action != "view":
            return {f"{self.module}.{action}"}
        return {self.view_permission or f"{self.module}.view", self.change_permission}

    def column(self, key) -> Column:
        return next(c for c in self.columns if c.key == key)

    def plan(self, layout):
        """The parse plan of this sheet for one file's layout: per declared column (key, cell index or
        None, parser, required, header), built once per file instead of once per row."""
        plans = layout.plans
        plan = plans.get(self.key)
        if plan is None:
            from .columns import parse_money

            plan = []
            for col in self.columns:
                if col.money:
                    unit = layout.units.get(col.key, "")

                    def parser(raw, ctx=None, unit=unit):
                        return parse_money(raw, unit=unit)
                else:
                    parser = col.parse
                plan.append((col.key, layout.columns.get(col.key), parser, col.required, col.header))
            plan = plans[self.key] = tuple(plan)
        return plan

    def parse(self, row_no, cells, layout, ctx):
        """Cells -> values by declared column; each bad cell becomes an issue on this row.

        Parsers are called as ``parse(raw, ctx)``: one that needs the database (tag labels) keeps what
        it read in ``ctx.state`` for the rest of the file."""
        values, ok = {}, True
        width = len(cells)
        for key, idx, parser, required, header in self.plan(layout):
            raw = cells[idx] if idx is not None and idx < width else None
            if parser is not None:
                try:
                    value = parser(raw, ctx)
                except CellError as e:
                    ctx.reject(row_no, header, raw, e.reason)
                    ok = False
                    continue
            else:
                value = raw
            if required and (value is None or value == "" or value == []):
                ctx.reject(row_no, header, raw, "必填，不能为空")
                ok = False
                continue
            values[key] = value
        return values if ok else None

    # hooks for subclasses
    def check(self, row_no, values, ctx):
        pass

    def finish(self, ctx):
        pass

    def write(self, batch, ctx):
        raise NotImplementedError

    def export_queryset(self, user):
        raise NotImplementedError

    def export_rows(self, queryset, ctx):
        raise NotImplementedError


_sheets: dict[str, Sheet] = {}


def register(sheet_class):
    _sheets[sheet_class.key] = sheet_class()
    return sheet_class


def get_sheet(key) -> Sheet:
    from yiwang.core.errors import ActionError

    try:
        return _sheets[key]
    except KeyError:
        raise ActionError(f"未知的表格“{key}”；可选：{'、'.join(_sheets)}", field="sheet") from None


def all_sheets():
    return list(_sheets.values())
