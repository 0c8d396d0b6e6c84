"""Sheets of the economy app for the Excel engine: collective projects (项目) and the income ledger
(收入台账).

Natural keys: a project is its 项目编号 (its village never changes); a ledger entry is village + month +
category + project + 凭证号 — the voucher is required in the sheet, so importing the same file again
finds every row and changes nothing. Pass 1 checks each row against the user's scope (``economy.change``
at the village, inside the import's region) and reads what the rows name in a few queries kept in
``ctx.state``; pass 2 writes through ``economy.actions`` row by row (a town's ledger is a few thousand
entries a year). The ledger is append-only, so a changed amount is a correction (``correct_entry``:
a reversing entry plus the corrected one), never an edit. Nothing here writes a model itself.
"""
import datetime
import re

from yiwang.areas.models import Region
from yiwang.exchange.columns import CellError, Column, parse_choice, parse_code, parse_date, parse_month, \
    parse_text, to_text
from yiwang.exchange.sheets import Sheet, register

from .models import DividendAllocation, IncomeCategory, Project, Zone

CORRECTION_REASON = "Excel 导入更正"
_CODE = re.compile(r"[0-9A-Za-z_-]+")


def parse_yes_no(value, ctx=None):
    text = to_text(value)
    if text in ("", "否", "不是", "N", "n", "no", "No", "0", "False", "FALSE"):
        return False
    if text in ("是", "Y", "y", "yes", "Yes", "1", "True", "TRUE", "√"):
        return True
    raise CellError(f"“{text}”应为“是”或“否”")


def _villages(ctx):
    """{code: village} the import may write to: villages where the user holds economy.change, inside the
    import's region (the system, ctx.user None, may write anywhere)."""
    if "villages" not in ctx.state:
        qs = Region.objects.filter(kind=Region.Kind.VILLAGE)
        if ctx.region is not None:
            qs = qs.filter(path__startswith=ctx.region.path)
        if ctx.user is not None and not ctx.user.is_superuser:
            qs = qs.filter(pk__in=Region.objects.visible_to(ctx.user).values("pk"))
            writable = ctx.user.scope_paths("economy.change")
            villages = {r.code: r for r in qs if any(r.path.startswith(p) for p in writable)}
        else:
            villages = {r.code: r for r in qs}
        ctx.state["villages"] = villages
    return ctx.state["villages"]


def _village_or_reject(row_no, code, ctx):
    village = _villages(ctx).get(code)
    if village is None:
        ctx.reject(row_no, "嘎查村代码", code, "嘎查村代码不存在或不在您的管辖范围内（须有集体经济的修改权限）")
    return village


def _visible_projects(ctx):
    return Project.objects.all() if ctx.user is None else Project.objects.visible_to(ctx.user)


def _export_region_filter(qs, request):
    from yiwang.core.regions import current_region

    region = current_region(request)
    return qs.filter(region_path__startswith=region.path) if region is not None else qs


# --------------------------------------------------------------------------- projects

PROJECT_COMPARED = ("name", "kind", "status", "start_date", "end_date", "location", "zone_id", "product", "is_base")


@register
class ProjectSheet(Sheet):
    key = "projects"
    title = "项目"
    module = "economy"
    batch_size = 500
    readme = ("每行一个村集体经济项目，以项目编号识别：新编号为新项目，已有编号按本行更新（项目编号和所属嘎查村不能修改）。"
              "产业布局填写本镇产业布局的名称；规模化基地填“是”或“否”。")
    columns = [
        Column("code", "项目编号", parse_text(30), required=True, example="XM-150627105999-09",
               note="字母、数字、- 和 _；全镇唯一，导入后不要改", width=22),
        Column("name", "项目名称", parse_text(100), required=True, example="乌驴养殖基地", width=24),
        Column("village", "嘎查村代码", parse_code, required=True, example="150627105999",
               aliases=("村代码", "嘎查村编码"), note="12 位统计用区划代码"),
        Column("kind", "类型", parse_choice(Project.Kind.choices), required=True, example="养殖",
               choices=[str(label) for _, label in Project.Kind.choices]),
        Column("status", "状态", parse_choice(Project.Status.choices), example="运营", note="空为运营",
               choices=[str(label) for _, label in Project.Status.choices]),
        Column("start_date", "开始日期", parse_date, required=True, example="2021-03-01"),
        Column("end_date", "终止日期", parse_date, example="", note="进行中的留空"),
        Column("location", "地点", parse_text(200), example="某村三社", width=20),
        Column("zone", "产业布局", parse_text(60), example="", note="本镇产业布局的名称；可空"),
        Column("product", "一村一品", parse_text(60), example="乌驴"),
        Column("is_base", "规模化基地", parse_yes_no, example="否", choices=["是", "否"], note="是/否；空为否"),
    ]

    def _zones(self, ctx):
        if "zones" not in ctx.state:
            ctx.state["zones"] = {(z.town_id, z.name): z for z in Zone.objects.all()}
        return ctx.state["zones"]

    def check(self, row_no, v, ctx):
        if not _CODE.fullmatch(v["code"]):
            ctx.reject(row_no, "项目编号", v["code"], "项目编号只能含字母、数字、- 和 _")
            return
        village = _village_or_reject(row_no, v["village"], ctx)
        if village is None:
            return
        if v.get("end_date") and v["end_date"] < v["start_date"]:
            ctx.reject(row_no, "终止日期", v["end_date"], "终止日期不能早于开始日期")
            return
        zone = None
        if v.get("zone"):
            zone = self._zones(ctx).get((village.parent_id, v["zone"]))
            if zone is None:
                ctx.reject(row_no, "产业布局", v["zone"], "不是本镇的产业布局名称")
                return
        existing = Project.objects.filter(code=v["code"]).values_list("pk", "village_id").first()
        if existing is not None:
            visible = _visible_projects(ctx).filter(pk=existing[0]).exists()
            if not visible:  # a project outside scope: refused without telling where it is
                ctx.reject(row_no, "项目编号", v["code"], "项目编号已被使用，请换一个编号")
                return
            if existing[1] != village.pk:
                ctx.reject(row_no, "嘎查村代码", v["village"], "已有项目的所属嘎查村不能修改")
                return
        seen = ctx.state.setdefault("seen", {})
        if v["code"] in seen:
            ctx.reject(row_no, "项目编号", v["code"], f"与第 {seen[v['code']]} 行的项目编号重复")
            return
        seen[v["code"]] = row_no
        ctx.state.setdefault("resolved", {})[row_no] = (village, zone, existing[0] if existing else None)

    def write(self, batch, ctx):
        from . import actions

        outcomes = []
        for row_no, v in batch:
            village, zone, pk = ctx.state["resolved"][row_no]
            values = {"name": v["name"], "kind": v["kind"], "status": v.get("status") or Project.Status.OPERATING,
                      "start_date": v["start_date"], "end_date": v.get("end_date"), "location": v.get("location", ""),
                      "zone": zone, "product": v.get("product", ""), "is_base": bool(v.get("is_base"))}
            if pk is None:
                actions.create_project(village=village, code=v["code"], by=ctx.user, **values)
                outcomes.append("new")
                continue
            project = Project.objects.get(pk=pk)
            wanted = {**values, "zone_id": zone.pk if zone else None}
            wanted.pop("zone")
            if all(getattr(project, k) == wanted[k] for k in PROJECT_COMPARED):
                outcomes.append("unchanged")
                continue
            actions.update_project(project, by=ctx.user, **values)
            outcomes.append("changed")
        return outcomes

    def export_queryset(self, user):
        return Project.objects.visible_to(user).select_related("village", "zone").order_by("region_path", "code")

    def export_rows(self, queryset, ctx):
        for p in queryset:
            yield {"code": p.code, "name": p.name, "village": p.village.code, "kind": p.get_kind_display(),
                   "status": p.get_status_display(), "start_date": p.start_date, "end_date": p.end_date,
                   "location": p.location, "zone": p.zone.name if p.zone_id else "", "product": p.product,
                   "is_base": "是" if p.is_base else "否"}

    def export_for_request(self, request):
        from .filtersets import ProjectFilterSet

        qs = _export_region_filter(self.export_queryset(request.user), request)
        return ProjectFilterSet(request.GET, queryset=qs, request=request).qs


# --------------------------------------------------------------------------- the income ledger


@register
class IncomeEntrySheet(Sheet):
    key = "income_entries"
    title = "收入台账"
    module = "economy"
    batch_size = 500
    readme = ("每行一笔收入，以“嘎查村 + 月份 + 收入类别 + 项目 + 凭证号”识别：同一凭证再次导入不会重复入账；金额不同则按"
              "“冲销原分录 + 录入更正后的分录”更正（台账只追加，不修改）。金额列表头写“金额（万元）”时按万元计，否则按元计；"
              "按元计最多两位小数。月份不能晚于本月。分红入账的分录请在分红页面冲销，不能在此更正。")
    columns = [
        Column("village", "嘎查村代码", parse_code, required=True, example="150627105999",
               aliases=("村代码", "嘎查村编码"), note="12 位统计用区划代码"),
        Column("month", "月份", parse_month, required=True, example="2023-05", note="可写 2023-05、2023年5月"),
        Column("category", "收入类别", parse_choice(IncomeCategory.choices), required=True, example="经营性收入",
               choices=[str(label) for _, label in IncomeCategory.choices]),
        Column("amount", "金额", required=True, money=True, example="12500.00", note="大于零"),
        Column("project", "项目编号", parse_text(30), example="XM-150627105999-01", note="可空", width=22),
        Column("source_document", "凭证号", parse_text(200), required=True, example="记-2023-05-017",
               aliases=("凭证", "凭证编号"), note="同一村同月同类别同项目内唯一", width=18),
        Column("note", "摘要", parse_text(200), example="乌驴销售收入", width=24),
    ]

    def _projects(self, ctx):
        if "projects" not in ctx.state:
            ctx.state["projects"] = {p.code: p for p in _visible_projects(ctx).only("pk", "code", "village_id", "name")}
        return ctx.state["projects"]

    def _standing(self, ctx):
        """{key: (entry pk, amount, posted by a dividend run)} of the standing entries with a voucher in the
        villages the import may write to (one query; the key as the sheet names it)."""
        if "standing" not in ctx.state:
            from .actions import live_entries

            villages = {r.pk: code for code, r in _villages(ctx).items()}
            dividend = set(DividendAllocation.objects.filter(entry__isnull=False, village_id__in=villages)
                           .values_list("entry_id", flat=True))
            rows = (live_entries().filter(village_id__in=villages).exclude(source_document="")
                    .values_list("pk", "village_id", "month", "category", "project__code", "source_document", "amount"))
            ctx.state["standing"] = {(villages[vid], month, cat, proj or "", doc): (pk, amount, pk in dividend)
                                     for pk, vid, month, cat, proj, doc, amount in rows}
        return ctx.state["standing"]

    def check(self, row_no, v, ctx):
        village = _village_or_reject(row_no, v["village"], ctx)
        if village is None:
            return
        today = datetime.date.today()
        if v["month"] > today.replace(day=1):
            ctx.reject(row_no, "月份", v["month"].strftime("%Y-%m"), "月份不能晚于本月")
            return
        if v["month"].year < 2000:
            ctx.reject(row_no, "月份", v["month"].strftime("%Y-%m"), "月份早于 2000 年，请检查")
            return
        if v["amount"] <= 0:
            ctx.reject(row_no, "金额", v["amount"],
                       "金额必须大于零（更正请改原凭证的金额，或在台账中冲销原分录）")
            return
        project = None
        if v.get("project"):
            project = self._projects(ctx).get(v["project"])
            if project is None:
                ctx.reject(row_no, "项目编号", v["project"], "项目编号不存在或不在您的管辖范围内")
                return
            if project.village_id != village.pk:
                ctx.reject(row_no, "项目编号", v["project"], f"项目“{project.name}”不属于{village.short_name}")
                return
        key = (v["village"], v["month"], v["category"], v.get("project") or "", v["source_document"])
        seen = ctx.state.setdefault("seen", {})
        if key in seen:
            ctx.reject(row_no, "凭证号", v["source_document"],
                       f"与第 {seen[key]} 行重复（嘎查村、月份、收入类别、项目、凭证号都相同）")
            return
        seen[key] = row_no
        standing = self._standing(ctx).get(key)
        if standing is not None and standing[1] != v["amount"] and standing[2]:
            ctx.reject(row_no, "金额", v["amount"],
                       "该分录由分红入账，不能在此更正；请在分红页面冲销那次分红")
            return
        ctx.state.setdefault("resolved", {})[row_no] = (village, project, standing)

    def write(self, batch, ctx):
        from . import actions
        from .models import IncomeEntry

        outcomes = []
        for row_no, v in batch:
            village, project, standing = ctx.state["resolved"][row_no]
            if standing is None:
                actions.record_income(village=village, month=v["month"], category=v["category"], amount=v["amount"],
                                      project=project, source_document=v["source_document"],
                                      note=v.get("note", ""), by=ctx.user)
                outcomes.append("new")
            elif standing[1] == v["amount"]:
                outcomes.append("unchanged")
            else:
                actions.correct_entry(IncomeEntry.objects.get(pk=standing[0]), amount=v["amount"],
                                      reason=CORRECTION_REASON, by=ctx.user)
                outcomes.append("changed")
        return outcomes

    def export_queryset(self, user):
        from .actions import live_entries

        return (live_entries().visible_to(user).select_related("village", "project")
                .order_by("region_path", "month", "category", "pk"))

    def export_rows(self, queryset, ctx):
        labels = dict(IncomeCategory.choices)
        for e in queryset.iterator(chunk_size=2000):
            yield {"village": e.village.code, "month": f"{e.month:%Y-%m}", "category": str(labels[e.category]),
                   "amount": e.amount, "project": e.project.code if e.project_id else "",
                   "source_document": e.source_document, "note": e.note}

    def export_for_request(self, request):
        """The standing entries behind the ledger list the user is on, with its filters, in the switcher's region."""
        from .filtersets import IncomeEntryFilterSet

        qs = _export_region_filter(self.export_queryset(request.user), request)
        return IncomeEntryFilterSet(request.GET, queryset=qs, request=request).qs
