"""The demo town: ``yiwang demo load`` is idempotent (twice = the same database) and deterministic (a
fresh load writes exactly what the session's load wrote), every record is flagged as demo, and
``yiwang demo accounts`` lists each login with its role and region.

Determinism without a second 30-second build: the people step is run again with recorders in place of
the actions, which yields every input it would write (names, ID numbers, phones, dates, tags, status
changes); running it twice gives the same inputs, and the records loaded for this session match them
one for one. The actions themselves are deterministic functions of their inputs (only the Fernet
ciphertext is random, so rows are compared by decrypted value and keyed hash).
"""
import csv
import datetime
import hashlib
import io
import json
from types import SimpleNamespace

import pytest
from django.core.management import call_command

from yiwang.accounts.models import RoleAssignment, User
from yiwang.areas.management.commands.regions import bundled_ordos_text
from yiwang.areas.models import Region
from yiwang.core import crypto
from yiwang.core.models import AuditEntry
from yiwang.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
from yiwang.demo.registry import DemoContext, REFERENCE_DATE, TOWN_CODE
from yiwang.people.models import Household, Person

pytestmark = pytest.mark.django_db


def _plain(value):
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def table_rows():
    """The rows of the five tables by their natural keys, without primary keys, timestamps, password
    hashes (salted) or ciphertext (Fernet is randomised): decrypted values and keyed hashes instead."""
    regions = [
        [r.code, r.name, r.kind, r.parent.code if r.parent else None, r.path, r.depth, r.note,
         json.dumps(r.boundary, sort_keys=True)]
        for r in Region.objects.select_related("parent").order_by("code")
    ]
    households = [
        [h.number, h.village.code, h.grid.code if h.grid else None, h.region_path, h.address,
         h.head.id_hash if h.head else None, _plain(h.registered_on), _plain(h.closed_on), h.is_demo,
         sorted(t.code for t in h.tags.all())]
        for h in Household.objects.select_related("village", "grid", "head").prefetch_related("tags").order_by("number")
    ]
    persons = [
        [p.household.number, p.name, p.name_initials, p.id_hash, p.id_number_plain(), p.id_prefix, p.id_suffix,
         p.gender, _plain(p.birth_date), p.phone_hash, p.phone_plain(), p.phone_suffix, p.political_status,
         p.relation, p.status, _plain(p.status_changed_on), _plain(p.registered_on), p.is_demo,
         sorted(t.code for t in p.tags.all())]
        for p in Person.objects.select_related("household").prefetch_related("tags").order_by("id_hash")
    ]
    users = [
        [u.username, u.display_name, u.first_name, u.last_name, u.email, u.is_demo, u.is_active, u.is_staff,
         u.is_superuser, u.has_usable_password()]
        for u in User.objects.order_by("username")
    ]
    assignments = sorted(
        [a.user.username, a.role, a.region.code, a.module] for a in RoleAssignment.objects.select_related("user", "region")
    )
    return {"Region": regions, "Household": households, "Person": persons, "User": users,
            "RoleAssignment": assignments}


def digest(rows=None):
    rows = rows or table_rows()
    return {name: hashlib.sha256(json.dumps(value, ensure_ascii=False).encode()).hexdigest()
            for name, value in rows.items()}


def test_load_twice_gives_the_same_database():
    before_rows, audits = table_rows(), AuditEntry.objects.count()
    out = io.StringIO()
    call_command("demo", "load", stdout=out)  # the command a user runs, a second time this session
    assert "演示镇已载入" in out.getvalue()
    after_rows = table_rows()
    for name in before_rows:  # per table, so a failure says which one moved
        assert digest({name: after_rows[name]}) == digest({name: before_rows[name]}), name
    assert AuditEntry.objects.count() == audits  # and nothing was (re)written, not even an audit entry
    assert len(before_rows["Household"]) > 3000 and len(before_rows["Person"]) > 9000


def test_if_absent_skips():
    out = io.StringIO()
    call_command("demo", "load", "--if-absent", stdout=out)
    assert "已存在" in out.getvalue()


# ---- determinism: regenerate the inputs ------------------------------------------------------------------

def regenerate_people(monkeypatch):
    """Run the people step with recorders in place of the actions; return what it would write."""
    from yiwang.demo.steps import people as step

    calls = {"households": [], "persons": [], "updates": []}

    class Recorder:
        @staticmethod
        def ensure_default_tags():
            pass

        @staticmethod
        def create_household(**kw):
            calls["households"].append(kw)
            return SimpleNamespace(**kw)

        @staticmethod
        def add_person(household, **kw):
            calls["persons"].append({"household": household.number, **kw})
            return SimpleNamespace(id_number=kw["id_number"])

        @staticmethod
        def update_person(person, **kw):
            calls["updates"].append({"id_number": person.id_number, **kw})

    class NoHouseholds:  # as on a fresh database: the step's "already loaded" check finds nothing
        class objects:
            @staticmethod
            def filter(*args, **kwargs):
                return SimpleNamespace(exists=lambda: False, count=lambda: 0)

    with monkeypatch.context() as m:
        m.setattr(step, "people_actions", Recorder)
        m.setattr(step, "Household", NoHouseholds)
        step.load_people(DemoContext(log=lambda msg: None))
    return calls


def _codes(tags):
    return sorted(t.code for t in tags)


def test_people_inputs_are_deterministic_and_match_the_records(monkeypatch):
    first, second = regenerate_people(monkeypatch), regenerate_people(monkeypatch)
    assert first == second  # seeded: the same inputs every time

    town = Region.objects.get(code=TOWN_CODE)
    households = {h.number: h for h in Household.objects.filter(region_path__startswith=town.path, is_demo=True)
                  .select_related("village", "grid").prefetch_related("tags")}
    assert sorted(households) == sorted(kw["number"] for kw in first["households"])
    for kw in first["households"]:
        h = households[kw["number"]]
        assert (h.village, h.grid, h.address, h.registered_on, _codes(h.tags.all())) == (
            kw["village"], kw["grid"], kw["address"], kw["registered_on"], _codes(kw["tags"])), kw["number"]

    persons = {p.id_hash: p for p in Person.objects.filter(household__region_path__startswith=town.path, is_demo=True)
               .select_related("household").prefetch_related("tags")}
    assert len(persons) == len(first["persons"])
    updates = {u["id_number"]: u for u in first["updates"]}
    for kw in first["persons"]:
        p = persons[crypto.lookup_hash(kw["id_number"])]
        assert p.id_number_plain() == kw["id_number"] and p.household.number == kw["household"]
        assert (p.name, p.phone_plain(), p.political_status, p.relation, p.registered_on, _codes(p.tags.all())) == (
            kw["name"], kw["phone"], kw["political_status"], kw["relation"], kw["registered_on"],
            _codes(kw["tags"])), kw["id_number"]
        update = updates.get(kw["id_number"])
        assert (p.status, p.status_changed_on) == ((update["status"], update["status_changed_on"]) if update
                                                   else ("living", None))
        assert p.birth_date <= REFERENCE_DATE and p.registered_on <= REFERENCE_DATE
    assert {u["id_number"] for u in first["updates"]} <= {kw["id_number"] for kw in first["persons"]}


def test_regions_are_the_file_and_the_grid_rule():
    from yiwang.demo.steps.regions import grid_count

    rows = {r["code"]: r for r in csv.DictReader(io.StringIO(bundled_ordos_text())) if r["code"].startswith(TOWN_CODE)}
    town = Region.objects.get(code=TOWN_CODE)
    official = {r.code: r for r in town.subtree().exclude(kind=Region.Kind.GRID)}
    assert set(official) == set(rows)
    assert all(official[c].name == rows[c]["name"] for c in rows)
    expected_grids = {f"{v.code}{n:02d}" for v in town.children.all() for n in range(1, grid_count(v) + 1)}
    assert set(town.subtree().filter(kind=Region.Kind.GRID).values_list("code", flat=True)) == expected_grids
    assert town.children.filter(kind=Region.Kind.VILLAGE).count() == 28
    assert list(town.children.filter(kind=Region.Kind.COMMUNITY).values_list("code", flat=True)) == ["150627105003"]


def test_generated_id_numbers_are_valid_and_unique():
    """Every demo ID number passes the validator as it stands (checksum, area 150627, birth date)."""
    from yiwang.core.idnumber import parse_id_number

    numbers = [p.id_number_plain() for p in Person.objects.filter(is_demo=True)]
    assert len(numbers) == len(set(numbers))
    for number in numbers:
        parsed = parse_id_number(number, today=REFERENCE_DATE)
        assert number.startswith("150627") and parsed.number == number


# ---- demo flags ----------------------------------------------------------------------------------------

def test_every_demo_record_is_flagged():
    town = Region.objects.get(code=TOWN_CODE)
    assert not Household.objects.filter(region_path__startswith=town.path, is_demo=False).exists()
    assert not Person.objects.filter(household__region_path__startswith=town.path, is_demo=False).exists()
    assert Household.objects.filter(is_demo=True).count() == Household.objects.filter(
        region_path__startswith=town.path).count() > 0
    for account in DEMO_ACCOUNTS:
        assert User.objects.get(username=account.username).is_demo


def test_demo_region_notes_say_the_records_are_invented():
    town = Region.objects.get(code=TOWN_CODE)
    for village in town.children.all():
        assert "演示" in village.note and "虚构" in village.note


# ---- demo accounts ---------------------------------------------------------------------------------------

def test_demo_accounts_json_lists_each_login_with_role_and_region():
    out = io.StringIO()
    call_command("demo", "accounts", "--format", "json", stdout=out)
    listed = json.loads(out.getvalue())
    assert [row["username"] for row in listed] == [a.username for a in DEMO_ACCOUNTS]
    required = {"town_admin", "wlne_secretary", "nlxl_secretary", "wlne_grid1", "banner_viewer", "auditor"}
    assert required <= {row["username"] for row in listed}
    for row in listed:
        user = User.objects.get(username=row["username"])
        region = Region.objects.get(code=row["region"])
        assert RoleAssignment.objects.filter(user=user, role=row["role"], region=region).exists(), row
        assert row["region_name"] in (region.name, region.short_name), row
        assert row["role_label"] and row["password"] == DEMO_PASSWORD
    by_name = {row["username"]: row for row in listed}
    assert by_name["wlne_secretary"]["region"] == "150627105215"
    assert by_name["nlxl_secretary"]["region"] == "150627105214"
    assert by_name["town_admin"]["region"] == TOWN_CODE


def test_demo_accounts_sign_in_with_the_listed_password():
    from django.contrib.auth.hashers import check_password

    for account in DEMO_ACCOUNTS:
        assert check_password(DEMO_PASSWORD, User.objects.get(username=account.username).password), account.username


def test_demo_accounts_text_lists_each_login():
    out = io.StringIO()
    call_command("demo", "accounts", stdout=out)
    text = out.getvalue()
    assert DEMO_PASSWORD in text
    for account in DEMO_ACCOUNTS:
        assert account.username in text and account.region_code in text
