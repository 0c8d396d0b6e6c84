"""Every write to households and persons, and the audited reading of full ID numbers and phones.

Forms, the API, the Excel importer, the demo builder and the CLI all call these functions. Each
checks permission at the target's region, validates with Chinese messages naming the field, writes
in one transaction and records an audit entry with field diffs.
"""
import datetime
import functools
import re

from django.db import transaction
from django.db.models import Prefetch
from pypinyin import Style, lazy_pinyin

from yiwang.areas.models import Region
from yiwang.core import audit, crypto
from yiwang.core.errors import ActionError
from yiwang.core.idnumber import parse_id_number
from yiwang.core.permissions import require
from yiwang.core.text import clean_choice, clean_date, clean_phone, clean_text

from .models import DEFAULT_TAGS, Household, Person, Tag
from .validators import clean_household_number

HOUSEHOLD_FIELDS = ["number", "village", "grid", "address", "registered_on", "closed_on"]
PERSON_FIELDS = ["name", "household", "gender", "birth_date", "political_status", "relation", "status",
                 "status_changed_on", "registered_on", "id_suffix"]


@functools.lru_cache(maxsize=65536)  # pypinyin costs ~40 µs a name; a town's names repeat a lot
def _initials(name: str) -> str:
    return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")).upper()[:50]


def initials(name: str) -> str:
    """拼音首字母 of a name (张三 -> ZS), for search."""
    return _initials(name)


def _placement(village: Region, grid: Region | None):
    if village is None or not village.is_village_level:
        raise ActionError("请选择嘎查村或社区", field="village")
    if grid is not None:
        if grid.kind != Region.Kind.GRID:
            raise ActionError(f"“{grid}”不是网格", field="grid")
        if grid.parent_id != village.pk:
            raise ActionError(f"网格“{grid}”不属于“{village}”", field="grid")
        return grid.path
    return village.path


def _tags(tags, applies_to):
    tags = list(tags or [])
    for t in tags:
        if not isinstance(t, Tag):
            raise ActionError(f"未知的特殊群体标签“{t}”", field="tags")
        if t.applies_to != applies_to:
            raise ActionError(f"标签“{t}”不适用于{Tag.AppliesTo(applies_to).label}", field="tags")
    return tags


def _clean_number(number):
    return clean_household_number(number)


def create_household(*, number, village, grid=None, address="", registered_on=None, tags=(), by,
                     is_demo=False) -> Household:
    path = _placement(village, grid)
    require(by, "people.change", path, action="people.create_household")
    number = _clean_number(number)
    if Household.objects.filter(number=number).exists():
        raise ActionError(f"户号 {number} 已存在", field="number")
    household = Household(
        number=number, village=village, grid=grid, region_path=path,
        address=clean_text(address, field="address", label="地址", max_length=200),
        registered_on=clean_date(registered_on or datetime.date.today(), field="registered_on", label="登记日期"),
        is_demo=is_demo,
    )
    tags = _tags(tags, Tag.AppliesTo.HOUSEHOLD)
    with transaction.atomic():
        household.save()
        if tags:  # a new row has no tags: skip the read that set() would do
            household.tags.add(*tags)
        audit.record("people.create_household", by=by, obj=household,
                     changes=audit.diff({}, audit.snapshot(household, HOUSEHOLD_FIELDS)))
    return household


def update_household(household: Household, *, by, address=None, registered_on=None, closed_on=None,
                     tags=None) -> Household:
    require(by, "people.change", household.region_path, action="people.update_household", obj=household)
    before = audit.snapshot(household, HOUSEHOLD_FIELDS)
    before_tags = sorted(t.code for t in household.tags.all())
    if address is not None:
        household.address = clean_text(address, field="address", label="地址", max_length=200)
    if registered_on is not None:
        household.registered_on = clean_date(registered_on, field="registered_on", label="登记日期")
    if closed_on is not None:
        household.closed_on = clean_date(closed_on, field="closed_on", label="注销日期") if closed_on else None
    changes = audit.diff(before, audit.snapshot(household, HOUSEHOLD_FIELDS))
    with transaction.atomic():
        household.save()
        if tags is not None:
            tags = _tags(tags, Tag.AppliesTo.HOUSEHOLD)
            household.tags.set(tags)
            after_tags = sorted(t.code for t in tags)
            if after_tags != before_tags:
                changes["tags"] = [before_tags, after_tags]
        if changes:
            audit.record("people.update_household", by=by, obj=household, changes=changes)
    return household


def move_household(household: Household, *, grid: Region | None, village: Region | None = None, by) -> Household:
    """Move a household to another grid (of its village, or of another village when both are given)."""
    require(by, "people.change", household.region_path, action="people.move_household", obj=household)
    village = village or household.village
    path = _placement(village, grid)
    require(by, "people.change", path, action="people.move_household", obj=household)
    before = audit.snapshot(household, ["village", "grid", "region_path"])
    household.village, household.grid, household.region_path = village, grid, path
    changes = audit.diff(before, audit.snapshot(household, ["village", "grid", "region_path"]))
    if changes:
        with transaction.atomic():
            household.save(update_fields=["village", "grid", "region_path", "updated_at"])
            audit.record("people.move_household", by=by, obj=household, changes=changes)
    return household


def _check_relation(household, relation, exclude=None):
    if relation == Person.Relation.HEAD:
        others = household.members.filter(relation=Person.Relation.HEAD)
        if exclude is not None:
            others = others.exclude(pk=exclude.pk)
        if others.exists():
            raise ActionError(f"户 {household.number} 已有户主", field="relation")


def add_person(household: Household, *, name, id_number, phone="", political_status=Person.Political.MASSES,
               relation=Person.Relation.OTHER, status=Person.Status.LIVING, registered_on=None, tags=(), by,
               is_demo=False, today=None) -> Person:
    require(by, "people.change", household.region_path, action="people.add_person", obj=household)
    name = clean_text(name, field="name", label="姓名", max_length=50, required=True)
    parsed = parse_id_number(id_number, today=today)
    id_hash = crypto.lookup_hash(parsed.number)
    if Person.objects.filter(id_hash=id_hash).exists():
        raise ActionError(f"身份证号码 {crypto.mask_id_number(parsed.number)} 已登记", field="id_number")
    phone = clean_phone(phone)
    relation = clean_choice(relation, Person.Relation, field="relation", label="与户主关系")
    _check_relation(household, relation)
    person = Person(
        household=household, name=name, name_initials=initials(name), id_hash=id_hash,
        id_cipher=crypto.encrypt(parsed.number), id_prefix=parsed.number[:6], id_suffix=parsed.number[-4:],
        gender=parsed.gender, birth_date=parsed.birth_date,
        phone_hash=crypto.lookup_hash(phone), phone_cipher=crypto.encrypt(phone), phone_suffix=phone[-4:],
        political_status=clean_choice(political_status, Person.Political, field="political_status", label="政治面貌"),
        relation=relation, status=clean_choice(status, Person.Status, field="status", label="状态"),
        registered_on=clean_date(registered_on or datetime.date.today(), field="registered_on", label="登记日期",
                                 today=today),
        is_demo=is_demo,
    )
    tags = _tags(tags, Tag.AppliesTo.PERSON)
    with transaction.atomic():
        person.save()
        if tags:
            person.tags.add(*tags)
        if relation == Person.Relation.HEAD:
            Household.objects.filter(pk=household.pk).update(head=person)
            household.head = person
        audit.record("people.add_person", by=by, obj=person, region_path=household.region_path,
                     changes=audit.diff({}, audit.snapshot(person, PERSON_FIELDS)))
    return person


def update_person(person: Person, *, by, name=None, phone=None, political_status=None, relation=None,
                  status=None, status_changed_on=None, tags=None) -> Person:
    household = person.household
    require(by, "people.change", household.region_path, action="people.update_person", obj=person)
    before = audit.snapshot(person, PERSON_FIELDS)
    if name is not None:
        person.name = clean_text(name, field="name", label="姓名", max_length=50, required=True)
        person.name_initials = initials(person.name)
    if phone is not None:
        phone = clean_phone(phone)
        if crypto.lookup_hash(phone) != person.phone_hash:
            before["phone"] = "***"
            person.phone_hash, person.phone_cipher, person.phone_suffix = (
                crypto.lookup_hash(phone), crypto.encrypt(phone), phone[-4:])
    if political_status is not None:
        person.political_status = clean_choice(political_status, Person.Political, field="political_status",
                                          label="政治面貌")
    if relation is not None:
        person.relation = clean_choice(relation, Person.Relation, field="relation", label="与户主关系")
        _check_relation(household, person.relation, exclude=person)
    if status is not None:
        new_status = clean_choice(status, Person.Status, field="status", label="状态")
        if new_status != person.status:
            person.status = new_status
            person.status_changed_on = clean_date(status_changed_on or datetime.date.today(),
                                                  field="status_changed_on", label="状态变更日期")
    changes = audit.diff(before, audit.snapshot(person, PERSON_FIELDS))
    if "phone" in before:
        changes["phone"] = ["***", "***"]  # the diff never carries a phone in clear
    with transaction.atomic():
        person.save()
        if person.relation == Person.Relation.HEAD and household.head_id != person.pk:
            Household.objects.filter(pk=household.pk).update(head=person)
        elif person.relation != Person.Relation.HEAD and household.head_id == person.pk:
            Household.objects.filter(pk=household.pk).update(head=None)
        if tags is not None:
            before_tags = sorted(t.code for t in person.tags.all())
            tags = _tags(tags, Tag.AppliesTo.PERSON)
            person.tags.set(tags)
            if sorted(t.code for t in tags) != before_tags:
                changes["tags"] = [before_tags, sorted(t.code for t in tags)]
        if changes:
            audit.record("people.update_person", by=by, obj=person, changes=changes)
    return person


def reveal(person: Person, *, field, by) -> str:
    """Return the full ID number or phone of a person; the reading is audited (and refused if not allowed)."""
    if field not in ("id_number", "phone"):
        raise ActionError("只能查看身份证号码或电话", field="field")
    require(by, "pii.reveal", person.household.region_path, action=f"people.reveal_{field}", obj=person)
    audit.record(f"people.reveal_{field}", by=by, obj=person, region_path=person.household.region_path)
    return person.id_number_plain() if field == "id_number" else person.phone_plain()


def ensure_default_tags():
    """Create the default special-group tags that are missing (reference data, by the system: demo, set-up)."""
    with transaction.atomic():
        for order, (code, name, applies_to) in enumerate(DEFAULT_TAGS):
            tag, created = Tag.objects.get_or_create(code=code, defaults={"name": name, "applies_to": applies_to,
                                                                          "order": order})
            if created:
                audit.record("people.create_tag", by=None, obj=tag,
                             changes={"code": [None, code], "name": [None, name], "applies_to": [None, applies_to]})


TAG_CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


def upsert_tag(code, name, applies_to, *, by):
    """Create a special-group tag, or rename it / change what it applies to, by its code (natural key).

    Tags are reference data for the whole system, so the permission is region-less ``people.tags``
    (system administrator, town staff of the people module). A tag already on households or persons
    keeps what it applies to. Returns ``(tag, outcome)`` with outcome "new", "changed" or "unchanged";
    an unchanged tag writes no audit entry.
    """
    require(by, "people.tags", None, action="people.upsert_tag")
    code = clean_text(code, field="code", label="标签代码", max_length=40, required=True).lower()
    if not TAG_CODE.fullmatch(code):
        raise ActionError(f"标签代码“{code}”无效：只能用小写字母、数字、短横线和下划线，以字母或数字开头", field="code")
    name = clean_text(name, field="name", label="标签名称", max_length=40, required=True)
    applies_to = clean_choice(applies_to, Tag.AppliesTo, field="applies_to", label="适用对象")
    with transaction.atomic():
        tag = Tag.objects.select_for_update().filter(code=code).first()
        clash = Tag.objects.filter(name=name).exclude(code=code).first()
        if clash is not None:
            raise ActionError(f"标签名称“{name}”已被标签 {clash.code} 使用", field="name")
        if tag is None:
            tag = Tag.objects.create(code=code, name=name, applies_to=applies_to)
            audit.record("people.create_tag", by=by, obj=tag,
                         changes={"code": [None, code], "name": [None, name], "applies_to": [None, applies_to]})
            return tag, "new"
        if applies_to != tag.applies_to:
            used = tag.households.count() + tag.persons.count()
            if used:
                raise ActionError(f"标签“{tag.name}”已用于 {used} 户或人，不能改为适用于"
                                  f"{Tag.AppliesTo(applies_to).label}", field="applies_to")
        before = audit.snapshot(tag, ["name", "applies_to"])
        tag.name, tag.applies_to = name, applies_to
        changes = audit.diff(before, audit.snapshot(tag, ["name", "applies_to"]))
        if not changes:
            return tag, "unchanged"
        tag.save(update_fields=["name", "applies_to"])
        audit.record("people.update_tag", by=by, obj=tag, changes=changes)
        return tag, "changed"


HH_IMPORT_FIELDS = ["village", "grid", "region_path", "address", "registered_on"]
PERSON_IMPORT_FIELDS = ["name", "name_initials", "relation", "political_status", "status", "status_changed_on",
                        "registered_on", "phone_hash", "phone_cipher", "phone_suffix"]


def upsert_member_rows(batch, *, by, regions, cache, today=None):
    """The Excel importer's write: upsert households (by 户号) and persons (by ID number) in bulk.

    ``batch`` is [(row_no, values)] already checked by ``HouseholdMemberSheet`` (scope, grids of the
    village, ID validity, one head per household, no ID registered in another household); ``regions``
    maps the codes the user may write to. Runs inside the engine's transaction; writes one audit entry
    per created or changed household and person, with field diffs (never a clear ID number or phone).
    Returns the outcome of each row: "new", "changed" or "unchanged".

    New rows — the bulk of a first import — go in as plain tuples through ``core.bulk.insert_rows``
    (and their audit entries through ``audit.record_rows``) with primary keys taken ahead
    (``core.bulk.Ids``): no ``RETURNING``, so ``COPY`` on PostgreSQL, and a new household names its
    head in its own INSERT when the head's row is in the same batch (else one UPDATE later). Rows that
    already exist are loaded as model instances and diffed field by field. Across batches ``cache``
    keeps per household only (pk, region path, head pk), so memory does not grow with model
    instances. When the sheet's ``finish`` left ``known_numbers`` / ``known_ids`` in ``cache`` (what
    exists already), only those are looked up; a row created meanwhile by someone else fails the
    unique key and the import rolls back.
    """
    from yiwang.core.bulk import Ids, insert_rows

    today = today or datetime.date.today()
    targets = {v.get("grid") or v["village"] for _, v in batch}
    for code in sorted(targets):  # defence in depth: the sheet checked scope, the action checks again
        region = regions.get(code)
        if region is None:
            raise ActionError(f"嘎查村或网格 {code} 不存在", field="village")
        require(by, "people.change", region.path, action="people.upsert_member_rows")
    tags = cache.get("tag_objects")
    if tags is None:
        tags = cache["tag_objects"] = {t.code: t for t in Tag.objects.all()}
    household_ids = cache.get("household_ids") or cache.setdefault("household_ids", Ids(Household))
    person_ids_ahead = cache.get("person_ids") or cache.setdefault("person_ids", Ids(Person))
    info = cache.setdefault("hh_info", {})  # 户号 -> [pk, region_path, head pk]
    loaded = {}
    wanted = {v["number"] for _, v in batch if v["number"] not in info}
    if "known_numbers" in cache:  # the sheet's check found which 户号 exist: look up only those
        wanted &= cache["known_numbers"]
    if wanted:
        # the village and grid are read by the audit snapshot; the tags into a list (a related manager
        # per object costs more than the rest of the comparison)
        for h in (Household.objects.filter(number__in=wanted).select_related("village", "grid")
                  .prefetch_related(Prefetch("tags", to_attr="tag_list"))):
            h._tag_codes = sorted(t.code for t in h.tag_list)
            loaded[h.number] = h
    audits, hh_outcome = [], {}
    new_hh, changed_hh, retag_hh = [], [], []  # new_hh: [number, row list, tag codes, village id, grid id]
    for _, v in batch:
        number = v["number"]
        if number in info:
            continue
        village, grid = regions[v["village"]], regions.get(v["grid"]) if v.get("grid") else None
        h = loaded.get(number)
        if h is None:
            path = (grid or village).path
            info[number] = [None, path, None]
            new_hh.append((number, [None, number, village.pk, grid.pk if grid else None, path, v.get("address") or "",
                                    v.get("hh_registered_on") or today, None], v.get("hh_tags") or [],
                           village.pk, grid.pk if grid else None))
            hh_outcome[number] = "new"
            continue
        before = audit.snapshot(h, HH_IMPORT_FIELDS)
        h.village, h.grid, h.region_path = village, grid, (grid or village).path
        h.address = v.get("address") or ""
        if v.get("hh_registered_on"):
            h.registered_on = v["hh_registered_on"]
        changes = audit.diff(before, audit.snapshot(h, HH_IMPORT_FIELDS))
        new_tags = v.get("hh_tags") or []
        if new_tags != h._tag_codes:
            changes["tags"] = [h._tag_codes, new_tags]
            h._tag_codes = new_tags
            retag_hh.append(h)
        if changes:
            changed_hh.append(h)
            h._changes = changes
        hh_outcome[number] = "changed" if changes else "unchanged"
        info[number] = [h.pk, h.region_path, h.head_id]
    new_hh_row = {}  # 户号 -> its row, for the head to be written in the household's own INSERT
    for (number, row, *_), pk in zip(new_hh, household_ids.take(len(new_hh))):
        row[0] = info[number][0] = pk
        new_hh_row[number] = row

    ids = {}  # row -> (number, gender, birth date, keyed hash); the sheet's check derived them already
    for row_no, v in batch:
        derived = v.get("_id")
        if derived is None:
            parsed = parse_id_number(v["id_number"], today=today)
            derived = (parsed.number, parsed.gender, parsed.birth_date, crypto.lookup_hash(parsed.number))
        ids[row_no] = derived
    lookup = [d[3] for d in ids.values()]
    if "known_ids" in cache:  # likewise the ID numbers already registered
        lookup = [h for h in lookup if h in cache["known_ids"]]
    existing = {p.id_hash: p for p in Person.objects.filter(id_hash__in=lookup).prefetch_related(
        Prefetch("tags", to_attr="tag_list"))} if lookup else {}
    new_people, changed_people, retag_people, outcomes, heads = [], [], [], [], []
    for row_no, v in batch:
        hh = info[v["number"]]
        phone = v.get("phone") or ""
        number, gender, birth_date, id_hash = ids[row_no]
        p = existing.get(id_hash)
        # initials, ID cipher, phone hash, phone cipher: from the engine's helper process when it ran
        name_initials, id_cipher, phone_hash, phone_cipher = v.get("_protect") or (None,) * 4
        if p is None:
            name = v["name"]
            if name_initials is None:
                name_initials, id_cipher = initials(name), crypto.encrypt(number)
                phone_hash, phone_cipher = crypto.lookup_hash(phone), crypto.encrypt(phone)
            new_people.append((
                [None, hh[0], name, name_initials, id_hash, id_cipher, number[:6],
                 number[-4:], gender, birth_date, phone_hash,
                 phone_cipher, phone[-4:], v.get("political_status") or Person.Political.MASSES,
                 v["relation"], v.get("status") or Person.Status.LIVING, v.get("registered_on") or today],
                v.get("person_tags") or [], hh))
            outcome = "new"
        else:
            before = audit.snapshot(p, PERSON_IMPORT_FIELDS)
            p.name, p.name_initials, p.relation = v["name"], name_initials or initials(v["name"]), v["relation"]
            if v.get("political_status"):
                p.political_status = v["political_status"]
            if v.get("status") and v["status"] != p.status:
                p.status, p.status_changed_on = v["status"], today
            if v.get("registered_on"):
                p.registered_on = v["registered_on"]
            if phone_hash is None:
                phone_hash = crypto.lookup_hash(phone)
            if phone_hash != p.phone_hash:
                p.phone_hash, p.phone_cipher, p.phone_suffix = (
                    phone_hash, phone_cipher if phone_cipher is not None else crypto.encrypt(phone), phone[-4:])
            changes = audit.diff(before, audit.snapshot(p, PERSON_IMPORT_FIELDS))
            for secret in ("phone_hash", "phone_cipher", "phone_suffix"):
                if changes.pop(secret, None) is not None:
                    changes["phone"] = ["***", "***"]
            old_tags = sorted(t.code for t in p.tag_list)
            p._tag_codes = v.get("person_tags") or []
            if p._tag_codes != old_tags:
                changes["tags"] = [old_tags, p._tag_codes]
                retag_people.append(p)
            if changes:
                changed_people.append((p, hh))
                p._changes = changes
            outcome = "changed" if changes else "unchanged"
        if outcome == "unchanged" and hh_outcome.get(v["number"]) in ("new", "changed"):
            outcome = "changed"
        hh_outcome.pop(v["number"], None)  # a household's own change counts once, on its first row
        if v["relation"] == Person.Relation.HEAD:
            heads.append((v["number"], hh, new_people[-1][0] if p is None else p))
        outcomes.append(outcome)
    for (row, _, _), pk in zip(new_people, person_ids_ahead.take(len(new_people))):
        row[0] = pk
    head_changed = []
    for number, hh, p in heads:
        pk = p[0] if isinstance(p, list) else p.pk
        if hh[2] != pk:
            hh[2] = pk
            hh_row = new_hh_row.get(number)
            if hh_row is not None:  # a household of this batch: its head goes in with it
                hh_row[7] = pk
            else:
                head_changed.append((pk, hh[0]))
    if new_hh:
        insert_rows(Household, ["id", "number", "village", "grid", "region_path", "address", "registered_on", "head"],
                    [row for _, row, _, _, _ in new_hh])
    if changed_hh:
        Household.objects.bulk_update(changed_hh, HH_IMPORT_FIELDS, batch_size=1000)
    through = Household.tags.through
    if retag_hh:
        through.objects.filter(household_id__in=[h.pk for h in retag_hh]).delete()
    insert_rows(through, ["household", "tag"],
                [(row[0], tags[c].pk) for _, row, codes, _, _ in new_hh for c in codes]
                + [(h.pk, tags[c].pk) for h in retag_hh for c in h._tag_codes])
    for number, row, codes, village_id, grid_id in new_hh:
        audits.append(("people.create_household", "people.Household", row[0], number, row[4], {
            "number": [None, number], "village": [None, str(village_id)],
            "grid": [None, str(grid_id) if grid_id else None], "tags": [None, codes]}))
    for h in changed_hh:
        audits.append(("people.update_household", "people.Household", h.pk, str(h), h.region_path, h._changes))
    insert_rows(Person, ["id", "household", "name", "name_initials", "id_hash", "id_cipher", "id_prefix",
                         "id_suffix", "gender", "birth_date", "phone_hash", "phone_cipher",
                         "phone_suffix", "political_status", "relation", "status", "registered_on"],
                [row for row, _, _ in new_people])
    if changed_people:
        Person.objects.bulk_update([p for p, _ in changed_people], PERSON_IMPORT_FIELDS, batch_size=1000)
    pthrough = Person.tags.through
    if retag_people:
        pthrough.objects.filter(person_id__in=[p.pk for p in retag_people]).delete()
    insert_rows(pthrough, ["person", "tag"],
                [(row[0], tags[c].pk) for row, codes, _ in new_people for c in codes]
                + [(p.pk, tags[c].pk) for p in retag_people for c in p._tag_codes])
    if head_changed:
        from django.db import connection

        table, qn = Household._meta.db_table, connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.executemany(f"UPDATE {qn(table)} SET {qn('head_id')} = %s WHERE {qn('id')} = %s", head_changed)
    for row, _, hh in new_people:
        audits.append(("people.add_person", "people.Person", row[0], row[2], hh[1], {
            "name": [None, row[2]], "household": [None, str(hh[0])], "relation": [None, row[14]],
            "id_suffix": [None, row[7]]}))
    for p, hh in changed_people:
        audits.append(("people.update_person", "people.Person", p.pk, str(p), hh[1], p._changes))
    audit.record_rows(audits, by=by)
    return outcomes
