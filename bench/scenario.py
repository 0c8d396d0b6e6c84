"""A behaviour record of the households import, for checking that a speed change changes nothing.

    python bench/scenario.py OUT.json        # on a copy of a demo database (DATABASE_URL)
    SCENARIO_SRC=/other/checkout/src …      # the same scenario run by another version of the code
    SCENARIO_BATCH=7 …                      # tiny write batches: households spanning batches
    SCENARIO_PROTECT_MIN=0 …                # the engine's helper process even on these small files

Runs one fixed scenario through the product path (upload → check → commit) on the demo town:
re-import of a village's export (nothing changes), a file of edits (addresses, grids, phones, status,
tags, a head switch, new members and households), a file full of mistakes (all-or-nothing, then
partial), and a village secretary importing rows of another village. Writes, per step, the job's
status, counts and every issue, and every audit entry the step added and the state of every household
and person it touched — keyed by natural keys (户号, ID hash), not by primary keys, so two runs of the
same behaviour give the same file whatever order rows were inserted in. Diff the files of two runs.
Not a test: the test suite covers the importer; this is the benchmark's guard for optimisations.
"""
import datetime
import io
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, os.environ.get("SCENARIO_SRC") or str(ROOT / "src"))  # another checkout's code to compare
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")

WLNE, NLXL = "150627105215", "150627105214"


def main(out_path):
    import django

    django.setup()
    from openpyxl import load_workbook

    from yiwang.accounts.models import User
    from yiwang.areas.models import Region
    from yiwang.core.context import request_context
    from yiwang.core.models import AuditEntry
    from yiwang.exchange import actions
    from yiwang.exchange.sheets import get_sheet
    from yiwang.people.models import Household, Person

    import generate

    sheet = get_sheet("households")
    if os.environ.get("SCENARIO_BATCH"):  # small batches: households spanning batches
        sheet.batch_size = int(os.environ["SCENARIO_BATCH"])
    if os.environ.get("SCENARIO_PROTECT_MIN"):  # the engine's helper process on these small files too
        from yiwang.exchange import engine

        if hasattr(engine, "PROTECT_MIN_ROWS"):
            engine.PROTECT_MIN_ROWS = int(os.environ["SCENARIO_PROTECT_MIN"])
    record = []

    def state(numbers, hashes):
        hh = {}
        for h in Household.objects.filter(number__in=numbers).select_related("village", "grid", "head"):
            hh[h.number] = [h.village.code, h.grid.code if h.grid else None, h.region_path, h.address,
                            str(h.registered_on), h.head.id_hash[:12] if h.head else None,
                            sorted(t.code for t in h.tags.all())]
        people = {}
        for p in Person.objects.filter(id_hash__in=hashes).select_related("household"):
            people[p.id_hash[:12]] = [p.household.number, p.name, p.name_initials, p.id_prefix, p.id_suffix,
                                      p.gender, str(p.birth_date), p.phone_hash[:12], p.phone_suffix,
                                      bool(p.phone_cipher), p.political_status, p.relation, p.status,
                                      str(p.status_changed_on), str(p.registered_on),
                                      sorted(t.code for t in p.tags.all())]
        return {"households": dict(sorted(hh.items())), "persons": dict(sorted(people.items()))}

    def natural(entry):
        if entry.model == "people.Household":
            h = Household.objects.filter(pk=entry.object_id).first()
            return f"hh:{h.number}" if h else f"hh:?{entry.object_id}"
        if entry.model == "people.Person":
            p = Person.objects.filter(pk=entry.object_id).first()
            return f"p:{p.id_hash[:12]}" if p else f"p:?{entry.object_id}"
        return entry.model

    def keyed_changes(entry):
        changes = dict(entry.changes)
        if entry.model == "people.Person" and "household" in changes:
            changes["household"] = [Household.objects.get(pk=v).number if v else v for v in changes["household"]]
        for k in ("village", "grid"):
            if entry.model == "people.Household" and k in changes:
                changes[k] = [Region.objects.get(pk=v).code if v else v for v in changes[k]]
        return changes

    def step(name, data, *, region, by, partial=False, commit=True):
        last = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
        with request_context(channel="cli"):
            job = actions.upload(sheet_key="households", data=data, name=f"{name}.xlsx", region=region, by=by,
                                 partial=partial)
            job = actions.check(job, by=by)
            checked = {"status": job.status, "counts": job.counts, "total": job.total_rows,
                       "file_error": job.file_error, "issue_count": job.issue_count, "issues": job.issues}
            committed = None
            if commit and job.status == job.Status.CHECKED:
                job = actions.commit(job, by=by)
                committed = {"status": job.status, "counts": job.counts, "total": job.total_rows,
                             "file_error": job.file_error, "issue_count": job.issue_count, "issues": job.issues}
        entries = AuditEntry.objects.filter(id__gt=last, action__startswith="people.").order_by("id")
        audits = sorted([e.action, natural(e), e.region_path, e.actor_label, e.channel, e.allowed,
                         json.dumps(keyed_changes(e), ensure_ascii=False, sort_keys=True)] for e in entries)
        numbers, hashes = set(), set()
        for e in entries:
            k = natural(e)
            if k.startswith("hh:"):
                numbers.add(k[3:])
        for p in Person.objects.filter(id__in=[e.object_id for e in entries if e.model == "people.Person"]):
            hashes.add(p.id_hash)
            numbers.add(p.household.number)
        for h in Household.objects.filter(number__in=numbers):
            hashes.update(h.members.values_list("id_hash", flat=True))
        record.append({"step": name, "check": checked, "commit": committed, "audits": audits,
                       "state": state(numbers, hashes)})
        print(name, checked["status"], checked["counts"], committed and committed["counts"], len(audits),
              flush=True)

    def book(data):
        return load_workbook(io.BytesIO(data))

    def save(wb):
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()

    town = Region.objects.get(code=generate.TOWN_CODE)
    wlne = Region.objects.get(code=WLNE)
    secretary = User.objects.get(username="wlne_secretary")
    persons = (Person.objects.filter(household__village=wlne).select_related("household__village", "household__grid")
               .prefetch_related("tags", "household__tags").order_by("household__number", "id"))
    export = actions.export(sheet_key="households", queryset=persons, by=None, full_pii=True)

    # 1. the export re-imported: nothing changes
    step("reimport", export, region=wlne, by=secretary)

    # 2. edits of every kind, plus new members and new households
    wb = book(export)
    ws = wb.active
    rows = list(ws.iter_rows(min_row=2))
    col = {c.value: i for i, c in enumerate(next(ws.iter_rows(max_row=1)))}
    first_hh = rows[0][col["户号"]].value
    for r in rows:
        if r[col["户号"]].value == first_hh:
            r[col["地址"]].value = "改过的地址 1 号"
            r[col["户特殊群体"]].value = "低保户、脱贫户"
    second_hh = next(r[col["户号"]].value for r in rows if r[col["户号"]].value != first_hh)
    grids = sorted(Region.objects.filter(parent=wlne, kind="grid").values_list("code", flat=True))
    for r in rows:
        if r[col["户号"]].value == second_hh:
            r[col["网格代码"]].value = grids[-1] if r[col["网格代码"]].value != grids[-1] else grids[0]
            r[col["户登记日期"]].value = "2016年3月1日"
    rows[3][col["联系电话"]].value = "139-0000-1111"
    rows[4][col["人员状态"]].value = "迁出"
    rows[5][col["个人特殊群体"]].value = "残疾人"
    rows[6][col["政治面貌"]].value = "中共党员"
    rows[7][col["姓名"]].value = "改名字"
    rows[8][col["登记日期"]].value = datetime.datetime(2019, 7, 1)
    rows[9][col["联系电话"]].value = ""
    # a head switch inside one household that has a head and a spouse
    by_hh = {}
    for r in rows:
        by_hh.setdefault(r[col["户号"]].value, []).append(r)
    for number, members in by_hh.items():
        rels = [m[col["与户主关系"]].value for m in members]
        if number not in (first_hh, second_hh) and "户主" in rels and "配偶" in rels:
            members[rels.index("户主")][col["与户主关系"]].value = "配偶"
            members[rels.index("配偶")][col["与户主关系"]].value = "户主"
            break
    renumber = {}
    for r in generate.rows(6, seed=7):
        n = renumber.setdefault(r[0], len(renumber))
        r[0], r[1] = f"{WLNE}9{n:04d}", WLNE
        r[2] = grids[n % len(grids)] if r[2] else ""
        ws.append(r)
    # a new member of an existing household
    template = [c.value for c in rows[0]]
    template[col["姓名"]], template[col["身份证号码"]] = "新成员", generate.id_number(datetime.date(2001, 2, 3), 77)
    template[col["与户主关系"]], template[col["个人特殊群体"]] = "子女", ""
    ws.append(template)
    edited = save(wb)
    step("edits-dry-run", edited, region=wlne, by=secretary, commit=False)
    step("edits", edited, region=wlne, by=secretary)
    step("edits-again", edited, region=wlne, by=None)

    # 3. mistakes: all-or-nothing first, then partial
    wb = book(edited)
    ws = wb.active
    rows = list(ws.iter_rows(min_row=2))
    bad_id = rows[10][col["身份证号码"]].value
    rows[10][col["身份证号码"]].value = bad_id[:-1] + ("0" if bad_id[-1] != "0" else "1")  # wrong checksum
    rows[11][col["身份证号码"]].value = rows[12][col["身份证号码"]].value  # duplicate inside the file
    rows[13][col["网格代码"]].value = "15062710521401"  # a grid of another village
    rows[14][col["政治面貌"]].value = "无党派"  # unknown enumeration
    rows[15][col["登记日期"]].value = "2099-01-01"  # future date
    rows[16][col["户登记日期"]].value = "不是日期"
    rows[17][col["联系电话"]].value = "12345"
    rows[18][col["姓名"]].value = ""
    rows[19][col["户特殊群体"]].value = "不存在的标签"
    rows[20][col["嘎查村代码"]].value = "999999999999"
    rows[21][col["身份证号码"]].value = 150627198803140012
    renumber = {}
    for r in generate.rows(3, seed=11):
        n = renumber.setdefault(r[0], len(renumber))
        r[0], r[1], r[2] = f"{WLNE}8{n:04d}", WLNE, ""
        if r[8] == "户主":
            r[8] = "配偶"  # a household without head
        ws.append(r)
    other = next(generate.rows(1, seed=13))
    other[0], other[1], other[2], other[8] = f"{NLXL}70001", NLXL, "", "户主"
    ws.append(other)  # another village: outside the secretary's scope
    clash = list(template)
    clash[col["户号"]] = first_hh
    clash[col["姓名"]] = "地址不一致"
    clash[col["地址"]] = "另一个地址"
    clash[col["身份证号码"]] = generate.id_number(datetime.date(1990, 5, 6), 55)
    ws.append(clash)
    taken = list(template)
    taken[col["户号"]] = f"{WLNE}80999"
    taken[col["与户主关系"]] = "户主"
    taken[col["身份证号码"]] = rows[30][col["身份证号码"]].value  # registered in another household
    rows[30][col["身份证号码"]].value = generate.id_number(datetime.date(1991, 5, 6), 56)
    ws.append(taken)
    mistakes = save(wb)
    step("mistakes", mistakes, region=wlne, by=secretary)
    step("mistakes-partial", mistakes, region=wlne, by=secretary, partial=True)
    step("mistakes-system-partial", mistakes, region=town, by=None, partial=True)

    # 4. file-level answers
    step("empty", save(_empty_book()), region=wlne, by=secretary)
    Path(out_path).write_text(json.dumps(record, ensure_ascii=False, indent=1, sort_keys=True, default=str))


def _empty_book():
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "户籍人员"
    wb.active.append(["户号", "嘎查村代码", "姓名", "身份证号码", "与户主关系"])
    return wb


if __name__ == "__main__":
    main(sys.argv[1])
