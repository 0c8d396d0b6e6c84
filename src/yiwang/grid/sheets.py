"""Sheets of the grid app for the Excel engine: grid workers, and household pairings (包户).

Natural keys: a worker is the person's ID number (by keyed hash) — one in-office worker per person;
a pairing is the household's 户号 (one current pairing per household) with the worker's ID number.
Pass 1 checks each row against the user's scope; pass 2 writes through ``grid.actions`` row by row
(a town has a few hundred workers and a few thousand pairings: no bulk path needed).
"""
import re

from yiwang.areas.models import Region
from yiwang.core import crypto
from yiwang.core.errors import ActionError
from yiwang.core.idnumber import parse_id_number
from yiwang.exchange.columns import CellError, Column, parse_choice, parse_code, parse_date, parse_id_text, \
    parse_text, to_text
from yiwang.exchange.sheets import Sheet, register
from yiwang.people.models import Household, Person

from .models import GridWorker, Pairing


def parse_codes(value, ctx=None):
    codes = [c for c in re.split(r"[、,，;；\s]+", to_text(value)) if c]
    if any(not c.isdigit() for c in codes):
        raise CellError("网格代码应为数字，多个用顿号分隔")
    return codes


def _person(ctx, id_number):
    """The person of an ID number, inside the user's scope, or None."""
    cache = ctx.state.setdefault("persons", {})
    if id_number not in cache:
        try:
            number = parse_id_number(id_number).number
        except ActionError as e:
            raise CellError(e.text) from None
        qs = Person.objects.all() if ctx.user is None else Person.objects.visible_to(ctx.user)
        cache[id_number] = qs.filter(id_hash=crypto.lookup_hash(number)).select_related("household").first()
    return cache[id_number]


def _grids(ctx):
    if "grids" not in ctx.state:
        qs = Region.objects.filter(kind="grid")
        if ctx.user is not None:
            qs = qs.filter(pk__in=Region.objects.visible_to(ctx.user, "view").values("pk"))
        if ctx.region is not None:
            qs = qs.filter(path__startswith=ctx.region.path)
        ctx.state["grids"] = {g.code: g for g in qs}
    return ctx.state["grids"]


@register
class GridWorkerSheet(Sheet):
    key = "grid_workers"
    title = "网格员"
    module = "grid"
    personal_data = True
    batch_size = 500
    readme = ("每行一名网格员，以身份证号码识别（须已登记在户籍中）。服务网格可填多个，用顿号分隔，须与主网格属于同一嘎查村。"
              "填写离任日期表示该网格员离任，其当前包户同日解除。身份证号码列请设为文本格式。")
    columns = [
        Column("id_number", "身份证号码", parse_id_text, required=True, example="150627198803140012", width=22,
               aliases=("公民身份号码", "身份证号"), note="18 位，文本格式"),
        Column("name", "姓名", parse_text(50), example="张三", note="仅供核对，须与户籍一致"),
        Column("grid", "主网格代码", parse_code, required=True, example="15062710521501"),
        Column("grids", "服务网格代码", parse_codes, example="15062710521501、15062710521502", note="多个用顿号分隔；可空"),
        Column("kind", "类型", parse_choice(GridWorker.Kind.choices), required=True, example="兼职",
               choices=[str(label) for _, label in GridWorker.Kind.choices]),
        Column("start_date", "任职日期", parse_date, required=True, example="2021-03-01"),
        Column("end_date", "离任日期", parse_date, example="", note="在任的留空"),
    ]

    def check(self, row_no, v, ctx):
        try:
            person = _person(ctx, v["id_number"])
        except CellError as e:
            ctx.reject(row_no, "身份证号码", v["id_number"], e.reason)
            return
        if person is None:
            ctx.reject(row_no, "身份证号码", v["id_number"], "户籍中没有该身份证号码的人员，或不在您的管辖范围内")
            return
        if v.get("name") and v["name"] != person.name:
            ctx.reject(row_no, "姓名", v["name"], f"与户籍登记的姓名“{person.name}”不一致")
            return
        grids = _grids(ctx)
        for code in [v["grid"], *(v.get("grids") or [])]:
            if code not in grids:
                ctx.reject(row_no, "主网格代码" if code == v["grid"] else "服务网格代码", code,
                           "网格不存在或不在您的管辖范围内")
                return
            if grids[code].parent_id != grids[v["grid"]].parent_id:
                ctx.reject(row_no, "服务网格代码", code, "服务网格须与主网格属于同一嘎查村")
                return
        seen = ctx.state.setdefault("seen", {})
        if person.pk in seen:
            ctx.reject(row_no, "身份证号码", "", f"与第 {seen[person.pk]} 行是同一人")
            return
        seen[person.pk] = row_no

    def write(self, batch, ctx):
        from . import actions

        grids, outcomes = _grids(ctx), []
        for _, v in batch:
            person = _person(ctx, v["id_number"])
            grid = grids[v["grid"]]
            served = sorted({grid.code, *(v.get("grids") or [])})
            worker = (GridWorker.objects.filter(person=person, end_date__isnull=True).first()
                      or GridWorker.objects.filter(person=person).order_by("pk").last())
            if worker is None or (worker.end_date is not None and v.get("end_date") is None):
                actions.create_worker(person=person, grid=grid, grids=[grids[c] for c in served], kind=v["kind"],
                                      start_date=v["start_date"], end_date=v.get("end_date"), by=ctx.user)
                outcomes.append("new")
                continue
            same = (worker.grid_id == grid.pk and worker.kind == v["kind"] and worker.start_date == v["start_date"]
                    and worker.end_date == v.get("end_date")
                    and sorted(worker.grids.values_list("code", flat=True)) == served)
            if same:
                outcomes.append("unchanged")
                continue
            actions.update_worker(worker, grid=grid, grids=[grids[c] for c in served], kind=v["kind"],
                                  start_date=v["start_date"], end_date=v.get("end_date"), by=ctx.user)
            outcomes.append("changed")
        return outcomes

    def export_queryset(self, user):
        return (GridWorker.objects.visible_to(user).select_related("person", "grid").prefetch_related("grids")
                .order_by("region_path", "pk"))

    def export_rows(self, queryset, ctx):
        for w in queryset:
            yield {"id_number": w.person.id_number_plain() if ctx.full_pii else w.person.id_masked,
                   "name": w.person.name, "grid": w.grid.code,
                   "grids": "、".join(sorted(g.code for g in w.grids.all())), "kind": w.get_kind_display(),
                   "start_date": w.start_date, "end_date": w.end_date}

    def export_for_request(self, request):
        from yiwang.core.regions import current_region

        from .filtersets import GridWorkerFilterSet

        qs = self.export_queryset(request.user)
        region = current_region(request)
        if region is not None:
            qs = qs.filter(region_path__startswith=region.path)
        return GridWorkerFilterSet(request.GET, queryset=qs, request=request).qs


@register
class PairingSheet(Sheet):
    key = "pairings"
    title = "包户结对"
    module = "grid"
    personal_data = True
    batch_size = 500
    readme = ("每行一户的当前结对：户号与负责网格员的身份证号码。若该户已与其他网格员结对，导入后改为与本行网格员结对"
              "（原结对在结对日期当天解除，历史保留）。网格员须在任，且服务该户所在的嘎查村。")
    columns = [
        Column("number", "户号", parse_text(30), required=True, example="1506271052150001"),
        Column("worker_id_number", "网格员身份证号码", parse_id_text, required=True, example="150627198803140012",
               width=22, note="18 位，文本格式"),
        Column("worker_name", "网格员姓名", parse_text(50), example="张三", note="仅供核对"),
        Column("start_date", "结对日期", parse_date, example="2022-03-01", note="空则为今天"),
    ]

    def check(self, row_no, v, ctx):
        qs = Household.objects.all() if ctx.user is None else Household.objects.visible_to(ctx.user)
        if ctx.region is not None:
            qs = qs.filter(region_path__startswith=ctx.region.path)
        household = qs.filter(number=v["number"]).first()
        if household is None:
            ctx.reject(row_no, "户号", v["number"], "户号不存在或不在您的管辖范围内")
            return
        try:
            person = _person(ctx, v["worker_id_number"])
        except CellError as e:
            ctx.reject(row_no, "网格员身份证号码", v["worker_id_number"], e.reason)
            return
        worker = GridWorker.objects.filter(person=person, end_date__isnull=True).select_related("grid").first() \
            if person is not None else None
        if worker is None:
            ctx.reject(row_no, "网格员身份证号码", v["worker_id_number"], "不是在任网格员，或不在您的管辖范围内")
            return
        if v.get("worker_name") and v["worker_name"] != person.name:
            ctx.reject(row_no, "网格员姓名", v["worker_name"], f"与户籍登记的姓名“{person.name}”不一致")
            return
        seen = ctx.state.setdefault("seen", {})
        if household.pk in seen:
            ctx.reject(row_no, "户号", v["number"], f"与第 {seen[household.pk]} 行是同一户")
            return
        seen[household.pk] = row_no
        ctx.state.setdefault("resolved", {})[row_no] = (household, worker)

    def write(self, batch, ctx):
        from . import actions

        outcomes = []
        for row_no, v in batch:
            household, worker = ctx.state["resolved"][row_no]
            if Pairing.objects.filter(household=household, worker=worker, end_date__isnull=True).exists():
                outcomes.append("unchanged")
                continue
            changed = Pairing.objects.filter(household=household, end_date__isnull=True).exists()
            actions.pair_household(household, worker, start_date=v.get("start_date"), by=ctx.user)
            outcomes.append("changed" if changed else "new")
        return outcomes

    def export_queryset(self, user):
        return (Pairing.objects.visible_to(user).filter(end_date__isnull=True)
                .select_related("household", "worker__person").order_by("household__number"))

    def export_rows(self, queryset, ctx):
        for p in queryset:
            person = p.worker.person
            yield {"number": p.household.number,
                   "worker_id_number": person.id_number_plain() if ctx.full_pii else person.id_masked,
                   "worker_name": person.name, "start_date": p.start_date}

    def export_for_request(self, request):
        from yiwang.core.regions import current_region

        qs = self.export_queryset(request.user)
        region = current_region(request)
        if region is not None:
            qs = qs.filter(household__region_path__startswith=region.path)
        return qs
