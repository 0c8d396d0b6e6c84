"""The region list for the Excel engine: official units and grids, one row per region.

Natural key: 区划代码. Official units (province … village, community) carry their 统计用区划代码 and go
through ``areas.actions.load_divisions``: creating or changing one needs ``areas.manage`` (the system
administrator); an official row that matches the database exactly is simply "unchanged", so anyone's
export re-imports. Grids (网格) go through ``create_grid`` / ``update_region`` under the village's
``areas.change`` — a village cadre may add and rename the grids of their own village, and a grid row
under a village outside their scope is rejected with the reason. A row's parent must already exist or
come earlier in the file (an export lists parents first); nothing is moved to another parent by import.
"""
from yiwang.exchange.columns import CellError, Column, parse_code, parse_text, to_text
from yiwang.exchange.sheets import Sheet, register

from .actions import CODE_LENGTHS, _kind_for
from .models import Region

KIND_LABELS = [str(label) for _, label in Region.Kind.choices]
_KINDS = {str(label): value for value, label in Region.Kind.choices} | {value: value for value in Region.Kind.values}
# what ledgers write instead of the exact label
_KINDS |= {"省": "province", "自治区": "province", "市": "city", "盟": "city", "旗": "county", "县": "county",
           "区": "county", "旗县": "county", "镇": "town", "乡": "town", "苏木": "town", "街道": "town",
           "嘎查": "village", "村": "village", "嘎查村": "village", "行政村": "village", "居委会": "community"}
GRID = Region.Kind.GRID


def parse_kind(value, ctx=None):
    text = to_text(value).replace(" ", "")
    if not text:
        return None
    if text in _KINDS:
        return _KINDS[text]
    raise CellError(f"“{text}”不是可选的层级；可选：{'、'.join(KIND_LABELS)}")


@register
class RegionSheet(Sheet):
    key = "regions"
    title = "区划与网格"
    module = "areas"
    view_permission = "areas.change"  # the jobs (and their files) are seen by those who may edit regions
    batch_size = 500
    readme = ("每行一个区域：官方区划（省、市、旗县、镇、嘎查村、社区）或网格。上级必须已在系统中，或在本表中排在前面。"
              "官方区划的新增和改名只能由系统管理员导入；村干部可以新增和改名本村的网格（网格代码为村代码后加 1–3 位）。")
    columns = [
        Column("code", "区划代码", parse_code, required=True, example="15062710521501",
               aliases=("代码", "区划编码", "网格代码"), note="官方区划用统计用区划代码（镇 9 位、村 12 位）；网格为村代码后加 1–3 位",
               width=18),
        Column("name", "名称", parse_text(100), required=True, example="乌兰淖尔村第1网格", aliases=("区域名称", "网格名称"),
               width=24),
        Column("kind", "层级", parse_kind, required=True, example="网格", choices=KIND_LABELS, aliases=("类型", "级别")),
        Column("parent_code", "上级代码", parse_code, example="150627105215", aliases=("上级区划代码", "所属村代码"),
               note="省级可空", width=18),
    ]

    # ---- pass 1 ---------------------------------------------------------------------------------
    def _known(self, ctx):
        """Every region by code (pk, name, kind, parent code, path): a town has a few hundred, a city a few
        thousand; existence is checked against all of them, scope against the user's grants."""
        if "known" not in ctx.state:
            ctx.state["known"] = {
                code: {"name": name, "kind": kind, "parent": parent or "", "path": path}
                for code, name, kind, parent, path in Region.objects.values_list(
                    "code", "name", "kind", "parent__code", "path")}
            ctx.state["seen"] = {}
            user = ctx.user
            ctx.state["writable"] = (None if user is None or user.is_superuser
                                     else user.scope_paths("areas.change"))
            from yiwang.core.permissions import allowed

            ctx.state["manage"] = allowed(user, "areas.manage", None)
        return ctx.state["known"]

    def check(self, row_no, v, ctx):
        known = self._known(ctx)
        seen, writable = ctx.state["seen"], ctx.state["writable"]
        code, name, parent_code = v["code"], v["name"], v.get("parent_code") or ""
        kind = _kind_for(v["kind"], name) or v["kind"]  # a 社区 named so under 嘎查/村 is stored as 社区
        if code in seen:
            ctx.reject(row_no, "区划代码", code, f"与第 {seen[code]['row']} 行的区划代码重复")
            return
        if not parent_code and kind != Region.Kind.PROVINCE:
            ctx.reject(row_no, "上级代码", "", "必填：只有省级区划可以没有上级")
            return
        parent = seen.get(parent_code) or known.get(parent_code) if parent_code else None
        if parent_code and parent is None:
            ctx.reject(row_no, "上级代码", parent_code, f"上级区划 {parent_code} 不存在：请先导入它，或把它排在本行之前")
            return
        path = (parent["path"] if parent else "/") + code + "/"
        if kind == GRID and writable is not None and not any(parent["path"].startswith(p) for p in writable):
            ctx.reject(row_no, "上级代码", parent_code, f"网格所在的嘎查村 {parent_code} 不在您的管辖范围内，不能新增或修改其网格")
            return
        if ctx.region is not None and not (path.startswith(ctx.region.path) or ctx.region.path.startswith(path)):
            ctx.reject(row_no, "区划代码", code, f"不在导入区域“{ctx.region.short_name}”之内")
            return
        existing = known.get(code)
        if existing is not None and existing["parent"] != parent_code:
            ctx.reject(row_no, "上级代码", parent_code,
                       f"{code} 已登记在上级 {existing['parent'] or '（无）'} 之下，导入不能移动区域")
            return
        if kind == GRID:
            if parent["kind"] not in (Region.Kind.VILLAGE, Region.Kind.COMMUNITY):
                ctx.reject(row_no, "上级代码", parent_code, "网格只能建在嘎查村或社区之下")
                return
            if not (code.startswith(parent_code) and 1 <= len(code) - len(parent_code) <= 3):
                ctx.reject(row_no, "区划代码", code,
                           f"网格代码应为村代码 {parent_code} 后加 1–3 位数字，例如 {parent_code}01")
                return
            if existing is not None and existing["kind"] != GRID:
                ctx.reject(row_no, "层级", "网格", f"{code} 已是{Region.Kind(existing['kind']).label}，不是网格")
                return
        else:
            if len(code) != CODE_LENGTHS[kind]:
                ctx.reject(row_no, "区划代码", code,
                           f"{Region.Kind(kind).label}的区划代码应为 {CODE_LENGTHS[kind]} 位，实际 {len(code)} 位")
                return
            if parent_code and not (code.startswith(parent_code) and len(parent_code) < len(code)):
                ctx.reject(row_no, "上级代码", parent_code, f"{code} 不以上级代码 {parent_code} 开头")
                return
            if parent is not None and parent["kind"] == GRID:
                ctx.reject(row_no, "上级代码", parent_code, "官方区划不能建在网格之下")
                return
            unchanged = existing is not None and existing["name"] == name and existing["kind"] == kind
            if not unchanged and not ctx.state["manage"]:
                what = "新增" if existing is None else "修改"
                ctx.reject(row_no, "区划代码", code,
                           f"官方区划只能由系统管理员{what}（需要 areas.manage 权限）；村镇干部只能维护网格")
                return
        seen[code] = {"row": row_no, "name": name, "kind": kind, "parent": parent_code, "path": path}

    # ---- pass 2 ---------------------------------------------------------------------------------
    def write(self, batch, ctx):
        from . import actions

        existing = {r.code: r for r in Region.objects.filter(code__in=[v["code"] for _, v in batch])
                    .select_related("parent")}
        outcomes, official = [], []
        for _, v in batch:
            kind = _kind_for(v["kind"], v["name"]) or v["kind"]
            r = existing.get(v["code"])
            if r is None:
                outcomes.append("new")
            elif r.name == v["name"] and r.kind == kind:
                outcomes.append("unchanged")
            else:
                outcomes.append("changed")
            if kind != GRID and outcomes[-1] != "unchanged":
                official.append({"code": v["code"], "name": v["name"], "level": kind,
                                 "parent_code": v.get("parent_code") or ""})
        if official:  # in file order; load_divisions creates parents before children
            actions.load_divisions(official, by=ctx.user)
        for (_, v), outcome in zip(batch, outcomes):
            if v["kind"] != GRID or outcome == "unchanged":
                continue
            if outcome == "new":
                village = Region.objects.get(code=v["parent_code"])
                actions.create_grid(village, code=v["code"], name=v["name"], by=ctx.user)
            else:
                actions.update_region(existing[v["code"]], name=v["name"], by=ctx.user)
        return outcomes

    # ---- export ---------------------------------------------------------------------------------
    def export_queryset(self, user):
        return Region.objects.visible_to(user).select_related("parent").order_by("path")

    def export_rows(self, queryset, ctx):
        for r in queryset.iterator(chunk_size=2000):
            yield {"code": r.code, "name": r.name, "kind": r.get_kind_display(),
                   "parent_code": r.parent.code if r.parent_id else ""}

    def export_for_request(self, request):
        """The regions of the list page with its filters (层级, 名称或代码), in the switcher's region."""
        from yiwang.core.regions import current_region

        from .filtersets import RegionFilterSet

        qs = self.export_queryset(request.user)
        region = current_region(request)
        if region is not None:
            qs = qs.filter(path__startswith=region.path)
        return RegionFilterSet(request.GET, queryset=qs, request=request).qs
