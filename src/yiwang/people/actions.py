"""Every write to households and persons, and the audited reading of full ID numbers and phones.

Forms, the API, the Excel importer, the demo builder and the CLI all call these functions. Each
checks permission at the target's region, validates with Chinese messages naming the field, writes
in one transaction and records an audit entry with field diffs.
"""
import datetime

from django.db import transaction
from pypinyin import Style, lazy_pinyin

from yiwang.areas.models import Region
from yiwang.core import audit, crypto
from yiwang.core.errors import ActionError
from yiwang.core.idnumber import parse_id_number
from yiwang.core.permissions import require
from yiwang.core.text import clean_date, clean_phone, clean_text

from .models import DEFAULT_TAGS, Household, Person, Tag

HOUSEHOLD_FIELDS = ["number", "village", "grid", "address", "registered_on", "closed_on"]
PERSON_FIELDS = ["name", "household", "gender", "birth_date", "political_status", "relation", "status",
                 "status_changed_on", "registered_on", "id_suffix"]


def initials(name: str) -> str:
    return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")).upper()[:50]


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
    number = clean_text(number, field="number", label="户号", max_length=30, required=True)
    if not number.replace("-", "").isalnum():
        raise ActionError("户号只能包含字母、数字和短横线", field="number")
    return number


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


def _choice(value, choices, *, field, label):
    if value in choices.values:
        return value
    by_label = {str(lbl): v for v, lbl in choices.choices}
    if value in by_label:
        return by_label[value]
    raise ActionError(f"{label}“{value}”无效：可选 {'、'.join(by_label)}", field=field)


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
    relation = _choice(relation, Person.Relation, field="relation", label="与户主关系")
    _check_relation(household, relation)
    person = Person(
        household=household, name=name, name_initials=initials(name), id_hash=id_hash,
        id_cipher=crypto.encrypt(parsed.number), id_prefix=parsed.number[:6], id_suffix=parsed.number[-4:],
        gender=parsed.gender, birth_date=parsed.birth_date,
        phone_hash=crypto.lookup_hash(phone), phone_cipher=crypto.encrypt(phone), phone_suffix=phone[-4:],
        political_status=_choice(political_status, Person.Political, field="political_status", label="政治面貌"),
        relation=relation, status=_choice(status, Person.Status, field="status", label="状态"),
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
        person.political_status = _choice(political_status, Person.Political, field="political_status",
                                          label="政治面貌")
    if relation is not None:
        person.relation = _choice(relation, Person.Relation, field="relation", label="与户主关系")
        _check_relation(household, person.relation, exclude=person)
    if status is not None:
        new_status = _choice(status, Person.Status, field="status", label="状态")
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
