"""Sheets of the people app for the Excel engine: households with their members (one row per person,
household columns repeated), and the special-group tag list.

Natural keys: 户号 for a household, the ID number (by keyed hash) for a person. Pass 1 checks every
row and keeps only keys; cross-row checks (a household's columns must agree on every row, exactly one
户主 per household, an ID number twice in the file or already registered in another household) run in
``finish`` with a few batched queries. Pass 2 writes through ``people.actions.upsert_member_rows``.
"""
import datetime

from yiwang.areas.models import Region
from yiwang.core import crypto
from yiwang.core.bulk import select_in
from yiwang.core.errors import ActionError
from yiwang.core.idnumber import parse_id_number
from yiwang.exchange.columns import (
    Column, parse_choice, parse_code, parse_date, parse_id_text, parse_labels, parse_phone, parse_text, to_text,
)
from yiwang.exchange.sheets import Sheet, register

from .models import Household, Person, Tag
from .validators import parse_household_number

HH_TABLE, PERSON_TABLE = Household._meta.db_table, Person._meta.db_table
HOUSEHOLD_KEYS = ("village", "grid", "address", "hh_registered_on", "hh_tags")


def _tag_labels(applies_to):
    def load():
        return {t.name: t.code for t in Tag.objects.filter(applies_to=applies_to)}

    return load


@register
class HouseholdMemberSheet(Sheet):
    key = "households"
    title = "户籍人员"
    module = "people"
    personal_data = True
    readme = ("每行一名人员；同一户的多名成员重复填写户号、嘎查村代码、网格代码、地址等户信息。"
              "每户必须且只能有一行“与户主关系”为“户主”。身份证号码列请设为文本格式。")
    columns = [
        Column("number", "户号", parse_household_number, required=True, example="1506271059990001", note="每户唯一"),
        Column("village", "嘎查村代码", parse_code, required=True, example="150627105999",
               aliases=("村代码", "嘎查村编码", "村（社区）代码"), note="12 位统计用区划代码"),
        Column("grid", "网格代码", parse_code, example="15062710599901", aliases=("网格编码",),
               note="村代码后加 1–3 位；可空"),
        Column("address", "地址", parse_text(200), example="某村3组8号", width=24),
        Column("hh_registered_on", "户登记日期", parse_date, example="2015-03-01", note="可写 2015/3/1、2015年3月1日"),
        Column("hh_tags", "户特殊群体", parse_labels(_tag_labels("household")), example="低保户",
               note="多个用顿号分隔", choices=[], multiple=True),
        Column("name", "姓名", parse_text(50), required=True, example="张三"),
        Column("id_number", "身份证号码", parse_id_text, required=True, example="150627198803140012",
               aliases=("公民身份号码", "身份证号"), note="18 位，文本格式", width=22),
        Column("relation", "与户主关系", parse_choice(Person.Relation.choices), required=True, example="户主",
               choices=[str(label) for _, label in Person.Relation.choices]),
        Column("phone", "联系电话", parse_phone, example="13812345678", aliases=("电话", "手机号", "手机")),
        Column("political_status", "政治面貌", parse_choice(Person.Political.choices), example="群众",
               choices=[str(label) for _, label in Person.Political.choices]),
        Column("status", "人员状态", parse_choice(Person.Status.choices), example="在册", aliases=("状态",),
               choices=[str(label) for _, label in Person.Status.choices]),
        Column("registered_on", "登记日期", parse_date, example="2015-03-01", aliases=("人员登记日期",)),
        Column("person_tags", "个人特殊群体", parse_labels(_tag_labels("person")), example="残疾人",
               note="多个用顿号分隔", multiple=True),
    ]

    # the keys of the file that ``finish`` and ``write`` use (``exchange.plan``)
    plan_state = ("households", "ids", "head_rows", "rows_by_number")
    preview_vacuums = (Household, Person, Household.tags.through, Person.tags.through, "core.AuditEntry")

    def plan_fingerprint(self, ctx):
        """What ``parse`` and ``check`` read besides the file: the regions and grids the user may write
        to, the special-group tags (labels of the tag columns), the user's scope (``finish`` asks it too)
        and today (dates after it are refused; blank dates become it)."""
        regions = sorted((code, r.pk, r.path, r.kind, r.parent_id) for code, r in self._regions(ctx).items())
        tags = sorted(Tag.objects.values_list("pk", "code", "name", "applies_to"))
        user = ctx.user
        scope = None if user is None else (user.pk, user.is_superuser, sorted(user.scope_paths("people.change")),
                                           sorted(user.scope_paths("people.view")))
        # the keyed hashes in the plan are the lookup key's: a changed key (by its own hash) reads again
        key = crypto.lookup_hash("yiwang import plan")
        return (datetime.date.today().isoformat(), ctx.region.pk if ctx.region else None, regions, tags, scope, key)

    # ---- pass 1 ---------------------------------------------------------------------------------
    def _regions(self, ctx):
        if "regions" not in ctx.state:
            qs = Region.objects.all() if ctx.user is None else Region.objects.visible_to(ctx.user, "view")
            if ctx.region is not None:
                qs = qs.filter(path__startswith=ctx.region.path)
            regions = {r.code: r for r in qs.filter(kind__in=["village", "community", "grid"])}
            writable = None
            if ctx.user is not None and not ctx.user.is_superuser:
                writable = ctx.user.scope_paths("people.change")
            ctx.state["regions"] = {c: r for c, r in regions.items()
                                    if writable is None or any(r.path.startswith(p) for p in writable)}
        return ctx.state["regions"]

    def parse(self, row_no, cells, layout, ctx):
        values = super().parse(row_no, cells, layout, ctx)
        if values is None:  # a bad cell: its household is held back whole, and its head row is still a head row
            def raw(key):
                idx = layout.columns.get(key)
                return to_text(cells[idx]) if idx is not None and idx < len(cells) else ""

            number = raw("number")
            if number and ctx.partial:
                ctx.state.setdefault("rows_by_number", {}).setdefault(number, []).append(row_no)
            if number and raw("relation") in (Person.Relation.HEAD.label, Person.Relation.HEAD.value):
                ctx.state.setdefault("head_rows", set()).add(number)
        return values

    def check(self, row_no, v, ctx):
        if ctx.partial:  # every row of a household, whatever check below rejects it
            ctx.state.setdefault("rows_by_number", {}).setdefault(v["number"], []).append(row_no)
        if v["relation"] == Person.Relation.HEAD:  # a head row, even if rejected below for another reason
            ctx.state.setdefault("head_rows", set()).add(v["number"])
        regions = self._regions(ctx)
        village = regions.get(v["village"])
        if village is None or not village.is_village_level:
            ctx.reject(row_no, "嘎查村代码", v["village"], "嘎查村代码不存在或不在您的管辖范围内")
            return
        if v.get("grid"):
            grid = regions.get(v["grid"])
            if grid is None or grid.kind != "grid":
                ctx.reject(row_no, "网格代码", v["grid"], "网格不存在或不在您的管辖范围内")
                return
            if grid.parent_id != village.pk:
                ctx.reject(row_no, "网格代码", v["grid"], f"网格 {v['grid']} 不属于嘎查村 {v['village']}")
                return
        try:
            parsed = parse_id_number(v["id_number"])
        except ActionError as e:
            ctx.reject(row_no, "身份证号码", v["id_number"], e.text)
            return
        today = datetime.date.today()
        for key, label in (("registered_on", "登记日期"), ("hh_registered_on", "户登记日期")):
            if v.get(key) and v[key] > today:
                ctx.reject(row_no, label, v[key], "日期不能晚于今天")
                return
        id_hash = crypto.lookup_hash(parsed.number)
        # what the write pass would compute again: the normalised number, gender, birth date, hash
        v["_id"] = (parsed.number, parsed.gender, parsed.birth_date, id_hash)
        ids = ctx.state.setdefault("ids", {})
        if id_hash in ids:
            ctx.reject(row_no, "身份证号码", v["id_number"], f"与第 {ids[id_hash][0]} 行的身份证号码重复")
            return
        ids[id_hash] = (row_no, v["number"])
        households = ctx.state.setdefault("households", {})
        hh_values = tuple(v.get(k) if not isinstance(v.get(k), list) else tuple(v.get(k)) for k in HOUSEHOLD_KEYS)
        entry = households.get(v["number"])
        if entry is None:
            households[v["number"]] = entry = {"first": row_no, "values": hh_values, "rows": [], "heads": []}
        elif entry["values"] != hh_values:
            diffs = [self.column(k).header for k, a, b in zip(HOUSEHOLD_KEYS, entry["values"], hh_values) if a != b]
            ctx.reject(row_no, diffs[0], "", f"同一户号的户信息（{'、'.join(diffs)}）与第 {entry['first']} 行不一致")
            return
        entry["rows"].append(row_no)
        if v["relation"] == Person.Relation.HEAD:
            entry["heads"].append(row_no)

    def finish(self, ctx):
        households = ctx.state.get("households", {})
        ids = ctx.state.get("ids", {})
        head_rows = ctx.state.get("head_rows", set())
        existing = {number: (path, head_hash) for number, path, head_hash in select_in(
            f"SELECT h.number, h.region_path, p.id_hash FROM {HH_TABLE} h LEFT JOIN {PERSON_TABLE} p "
            "ON p.id = h.head_id WHERE h.number {in_keys}", households)}
        ctx.state["known_numbers"] = set(existing)  # the write pass looks up only these (and known_ids)
        writable = None if ctx.user is None or ctx.user.is_superuser else ctx.user.scope_paths("people.change")
        for number, entry in households.items():
            rows = [r for r in entry["rows"] if r not in ctx.rejected_rows]
            if number in existing and writable is not None and not any(
                    existing[number][0].startswith(p) for p in writable):
                for r in rows:
                    ctx.reject(r, "户号", number, "该户号已登记在您管辖范围以外的地区")
                continue
            heads = [r for r in entry["heads"] if r not in ctx.rejected_rows]
            if len(heads) > 1:
                for r in heads[1:]:
                    ctx.reject(r, "与户主关系", "户主", f"户 {number} 有多个户主（第 {heads[0]} 行已是户主）")
            elif not heads and not (number in existing and existing[number][1]) and number not in head_rows:
                # (a head row rejected for another reason is reported there: not "missing" as well)
                for r in rows:
                    ctx.reject(r, "与户主关系", "", f"户 {number} 缺少户主：需要一行“与户主关系”为“户主”")
        readable = None if ctx.user is None or ctx.user.is_superuser else ctx.user.scope_paths("people.view")
        known_ids = ctx.state["known_ids"] = set()
        for id_hash, number, path in select_in(
                f"SELECT p.id_hash, h.number, h.region_path FROM {PERSON_TABLE} p JOIN {HH_TABLE} h "
                "ON h.id = p.household_id WHERE p.id_hash {in_keys}", ids):
            known_ids.add(id_hash)
            row_no, file_number = ids[id_hash]
            if number != file_number and row_no not in ctx.rejected_rows:
                if readable is None or any(path.startswith(p) for p in readable):
                    reason = f"该身份证号码已登记在户 {number}，不能在户 {file_number} 重复登记"
                else:  # refused all the same, without telling which household outside scope holds it
                    reason = f"该身份证号码已在您管辖范围以外的地区登记，不能在户 {file_number} 重复登记"
                ctx.reject(row_no, "身份证号码", "", reason)
        if ctx.partial:  # a household is written whole or not at all
            for number, rows in ctx.state.get("rows_by_number", {}).items():
                bad = [r for r in rows if r in ctx.rejected_rows]
                if bad:
                    for r in rows:
                        if r not in ctx.rejected_rows:
                            ctx.reject(r, "户号", number, f"同户第 {bad[0]} 行有错误，整户未导入")

    # ---- pass 2 ---------------------------------------------------------------------------------
    def protect(self, v):
        """What the write of a new person computes from its row alone — pinyin initials, the ID number
        and the phone encrypted, the phone's keyed hash — done by the engine's helper process while
        pass 1 goes on (``upsert_member_rows`` uses it, or computes it when absent)."""
        from .actions import initials

        phone = v.get("phone") or ""
        return (initials(v["name"]), crypto.encrypt(v["_id"][0]), crypto.lookup_hash(phone), crypto.encrypt(phone))

    def protect_warm(self):
        self.protect({"name": "张三", "_id": ("150627198803140012",), "phone": "13812345678"})

    def write(self, batch, ctx):
        from . import actions

        state = ctx.state
        if "person_ids" not in state:
            # keys for every new household and person of the file at once (``core.bulk.Ids``): what
            # ``finish`` found registered already is updated, not inserted
            from yiwang.core.bulk import Ids

            rejected, known_ids = ctx.rejected_rows, state.get("known_ids", set())
            known_numbers = state.get("known_numbers", set())
            state["person_ids"] = Ids(Person, ahead=sum(
                1 for id_hash, (row_no, _) in state.get("ids", {}).items()
                if id_hash not in known_ids and row_no not in rejected))
            state["household_ids"] = Ids(Household, ahead=sum(
                1 for number, entry in state.get("households", {}).items()
                if number not in known_numbers and any(r not in rejected for r in entry["rows"])))
        return actions.upsert_member_rows(batch, by=ctx.user, regions=self._regions(ctx), cache=state)

    # ---- export ---------------------------------------------------------------------------------
    def export_queryset(self, user):
        return (Person.objects.visible_to(user).select_related("household__village", "household__grid")
                .prefetch_related("tags", "household__tags").order_by("household__number", "id"))

    def export_rows(self, queryset, ctx):
        for p in queryset.iterator(chunk_size=2000):
            h = p.household
            yield {
                "number": h.number, "village": h.village.code, "grid": h.grid.code if h.grid else "",
                "address": h.address, "hh_registered_on": h.registered_on,
                "hh_tags": "、".join(sorted(t.name for t in h.tags.all())),
                "name": p.name, "id_number": p.id_number_plain() if ctx.full_pii else p.id_masked,
                "relation": p.get_relation_display(), "phone": p.phone_plain() if ctx.full_pii else p.phone_masked,
                "political_status": p.get_political_status_display(), "status": p.get_status_display(),
                "registered_on": p.registered_on, "person_tags": "、".join(sorted(t.name for t in p.tags.all())),
            }

    def export_for_request(self, request):
        """The persons behind the list page the user is on, with its filters, in the switcher's region."""
        from yiwang.core.regions import current_region

        from .filtersets import HouseholdFilterSet, PersonFilterSet

        qs = self.export_queryset(request.user)
        region = current_region(request)
        if region is not None:
            qs = qs.filter(household__region_path__startswith=region.path)
        if request.GET.get("from") == "households":
            households = HouseholdFilterSet(request.GET, queryset=Household.objects.visible_to(request.user),
                                            request=request).qs
            return qs.filter(household__in=households.values("pk"))
        return PersonFilterSet(request.GET, queryset=qs, request=request).qs


@register
class TagSheet(Sheet):
    """The special-group tag list (低保户, 残疾人, ...): reference data for the whole system, kept by
    ``people.actions.upsert_tag`` under ``people.tags`` (system administrator, town staff of people)."""

    key = "tags"
    title = "特殊群体标签"
    module = "people"
    permission = "people.tags"
    batch_size = 500
    readme = ("每行一个特殊群体标签。代码是标签的唯一标识（导入后不要改），名称显示在户籍台账中，"
              "适用对象为“户”（如低保户）或“人”（如残疾人）。已用于户或人的标签不能改变适用对象。")
    columns = [
        Column("code", "代码", parse_text(40), required=True, example="dibao", aliases=("标签代码",),
               note="小写字母、数字、短横线或下划线"),
        Column("name", "名称", parse_text(40), required=True, example="低保户", aliases=("标签名称", "标签")),
        Column("applies_to", "适用对象", parse_choice(Tag.AppliesTo.choices), required=True, example="户",
               choices=[str(label) for _, label in Tag.AppliesTo.choices]),
    ]

    def check(self, row_no, v, ctx):
        from yiwang.core.permissions import allowed

        from .actions import TAG_CODE

        state = ctx.state
        if "tags" not in state:
            state["tags"] = {code: (name, applies_to, code_id) for code_id, code, name, applies_to in
                             Tag.objects.values_list("pk", "code", "name", "applies_to")}
            state["names"] = {name: code for code, (name, _, _) in state["tags"].items()}
            state["allowed"] = allowed(ctx.user, "people.tags", None)
            state["codes_seen"], state["names_seen"] = {}, {}
        if not state["allowed"]:
            ctx.reject(row_no, "代码", v["code"], "特殊群体标签是全系统共用的，只能由系统管理员或镇工作人员（人口模块）维护")
            return
        code = v["code"].lower()
        if not TAG_CODE.fullmatch(code):
            ctx.reject(row_no, "代码", v["code"], "只能用小写字母、数字、短横线和下划线，以字母或数字开头，最多 40 个字符")
            return
        if code in state["codes_seen"]:
            ctx.reject(row_no, "代码", v["code"], f"与第 {state['codes_seen'][code]} 行的代码重复")
            return
        if v["name"] in state["names_seen"]:
            ctx.reject(row_no, "名称", v["name"], f"与第 {state['names_seen'][v['name']]} 行的名称重复")
            return
        owner = state["names"].get(v["name"])
        if owner is not None and owner != code:
            ctx.reject(row_no, "名称", v["name"], f"名称已被标签 {owner} 使用")
            return
        existing = state["tags"].get(code)
        if existing is not None and existing[1] != v["applies_to"]:
            used = Household.objects.filter(tags=existing[2]).count() + Person.objects.filter(tags=existing[2]).count()
            if used:
                ctx.reject(row_no, "适用对象", v["applies_to"], f"标签“{existing[0]}”已用于 {used} 户或人，不能改变适用对象")
                return
        state["codes_seen"][code], state["names_seen"][v["name"]] = row_no, row_no

    def write(self, batch, ctx):
        from . import actions

        return [actions.upsert_tag(v["code"], v["name"], v["applies_to"], by=ctx.user)[1] for _, v in batch]

    def export_queryset(self, user):
        return Tag.objects.order_by("order", "code")  # reference data: no region, the same for every user

    def export_rows(self, queryset, ctx):
        for t in queryset:
            yield {"code": t.code, "name": t.name, "applies_to": t.get_applies_to_display()}

    def export_for_request(self, request):
        return self.export_queryset(request.user)
