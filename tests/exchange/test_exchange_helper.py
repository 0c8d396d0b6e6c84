"""The engine's helper process (exchange.engine._Protector): on large files the per-row protection of
the households sheet (pinyin initials, the ID number and phone encrypted, the phone's keyed hash) is
done by a forked helper while pass 1 goes on. What it produced must be exactly what the write pass
would compute itself, and when the helper fails or touches the database the import is the same.

The thresholds are lowered so that a file of 240 rows goes through the helper in several chunks."""
import os

import pytest
from exchange_kit import WLNE, WLNE_GRID1, household_rows, xlsx

from yiwang.areas.models import Region
from yiwang.core import crypto
from yiwang.core.models import AuditEntry
from yiwang.exchange import engine
from yiwang.exchange.sheets import Context, get_sheet
from yiwang.people.actions import initials
from yiwang.people.models import Household, Person
from yiwang.people.sheets import HouseholdMemberSheet

ROWS = 240  # with their households, 360 audit entries: over bulk.PG_COPY_ROWS, so COPY on PostgreSQL


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(engine, "PROTECT_MIN_ROWS", 0)
    monkeypatch.setattr(engine, "KEEP_CHUNK", 25)


def _file(prefix):
    rows = household_rows(prefix, ROWS // 2, grid=WLNE_GRID1)
    for i, r in enumerate(rows):
        r["phone"] = f"1380000{i:04d}" if i % 3 else ""
    return rows, xlsx(rows)


def _import(data, *, commit=True):
    ctx = Context(user=None, region=Region.objects.get(code=WLNE), commit=commit)
    return engine.run(get_sheet("households"), data, ctx)


def _assert_written(rows, prefix):
    persons = {p.id_hash: p for p in Person.objects.filter(household__number__startswith=prefix)}
    assert len(persons) == len(rows)
    for r in rows:
        p = persons[crypto.lookup_hash(r["id_number"])]
        assert crypto.decrypt(p.id_cipher) == r["id_number"]
        assert p.id_cipher.startswith(crypto.GCM_PREFIX)
        assert crypto.decrypt(p.phone_cipher) == r["phone"]
        assert p.phone_hash == crypto.lookup_hash(r["phone"])
        assert p.phone_suffix == r["phone"][-4:]
        assert p.name_initials == initials(r["name"])
    households = Household.objects.filter(number__startswith=prefix)
    assert households.count() == len(rows) // 2
    assert all(h.head_id for h in households)


def test_rows_protected_by_the_helper_are_written_as_the_write_pass_would(db, small_chunks):
    rows, data = _file("H9")
    dry = _import(data, commit=False)
    assert dry.ok and dry.helper_chunks == ROWS // 25 + 1
    assert not Person.objects.filter(household__number__startswith="H9").exists()
    result = _import(data)
    assert result.ok and result.helper_chunks == ROWS // 25 + 1
    assert result.counts == dry.counts == {"new": ROWS, "changed": 0, "unchanged": 0, "rejected": 0}
    _assert_written(rows, "H9")
    assert AuditEntry.objects.filter(action="people.add_person", object_repr__startswith="测试").count() >= ROWS
    again = _import(data)  # the diff path uses the helper's initials and phone hash: nothing changes
    assert again.counts == {"new": 0, "changed": 0, "unchanged": ROWS, "rejected": 0}


def test_a_helper_that_dies_changes_nothing_but_the_speed(db, small_chunks, monkeypatch):
    monkeypatch.setattr(HouseholdMemberSheet, "protect_warm", lambda self: None)
    monkeypatch.setattr(HouseholdMemberSheet, "protect", lambda self, v: os._exit(3))  # runs in the helper only
    rows, data = _file("H8")
    result = _import(data)
    assert result.ok and result.helper_chunks == 0
    assert result.counts["new"] == ROWS
    _assert_written(rows, "H8")


def test_the_helper_may_not_use_the_database(db, small_chunks, monkeypatch):
    real = HouseholdMemberSheet.protect

    def protect_with_a_query(self, v):
        Household.objects.filter(number=v["number"]).exists()  # refused in the helper: it must not read
        return real(self, v)

    monkeypatch.setattr(HouseholdMemberSheet, "protect_warm", lambda self: None)
    monkeypatch.setattr(HouseholdMemberSheet, "protect", protect_with_a_query)
    rows, data = _file("H7")
    result = _import(data)
    assert result.ok and result.helper_chunks == 0  # the helper stopped at its first query
    _assert_written(rows, "H7")
