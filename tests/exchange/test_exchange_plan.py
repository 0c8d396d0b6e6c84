"""The preview's plan (exchange.plan): what a households dry run learnt, handed to its commit.

- preview then confirm writes from the plan (the commit's audit entry says ``from_plan``), and writes
  exactly what a commit reading the file again writes; the commit deletes the plan; a rejected or
  failed preview leaves none;
- the plan is not used, and the commit is still right, when what the checks read changed meanwhile
  (a tag, a grid, the user, the day) or the plan itself is gone or altered;
- the commit from a plan still runs the cross-row checks against the database: an ID number or a 户号
  registered meanwhile is refused (the job 有错误，未导入, nothing written) or updated, not duplicated;
- the plan on disk holds no clear ID number or phone, and the sweep deletes old plans;
- ``core.bulk.Ids`` and ``core.bulk.select_in``, which the write pass and ``finish`` rely on.
"""
import datetime
import errno
import os
import pickle
import struct
import time
import zlib

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from exchange_kit import NLXL, WLNE, WLNE_GRID1, WLNE_GRID2, fresh_ids, household_rows, issues_of, registry, xlsx

from yiwang.areas import actions as areas_actions
from yiwang.areas.models import Region
from yiwang.core import crypto
from yiwang.core.bulk import Ids, select_in
from yiwang.core.models import AuditEntry
from yiwang.exchange import actions, plan, tasks
from yiwang.exchange.models import ImportJob
from yiwang.people import actions as people_actions
from yiwang.people import sheets as people_sheets
from yiwang.people.models import Household, Person, Tag


# --------------------------------------------------------------------------- helpers


def sample_rows(prefix, ids=None):
    """Four households (two with a grid, one without, one of three members) with tags, phones and a
    blank date: everything the write pass derives from a row."""
    ids = ids or fresh_ids(9)
    rows = (household_rows(prefix, 2, grid=WLNE_GRID1, ids=ids[:4], hh_tags="低保户")
            + household_rows(f"{prefix}G", 1, grid=WLNE_GRID2, members=3, ids=ids[4:7], person_tags="残疾人、独居老人")
            + household_rows(f"{prefix}N", 1, grid="", ids=ids[7:9]))
    rows[0]["phone"] = "138-0000-1111"
    rows[3]["phone"] = "13900002222"
    rows[5]["registered_on"] = ""  # becomes today at the write
    rows[7]["address"] = rows[8]["address"] = ""  # household columns repeat on every row
    return rows


def preview(data, *, by, region=WLNE, partial=False):
    job = actions.upload(sheet_key="households", data=data, name="计划.xlsx", region=Region.objects.get(code=region),
                         by=by, partial=partial)
    return actions.check(job, by=by)


def commit_entry(job):
    return AuditEntry.objects.get(action="exchange.commit", object_id=str(job.pk))


def from_plan(job):
    return commit_entry(job).changes["from_plan"][1]


def ledger(prefix):
    """The households and persons whose 户号 starts with ``prefix``, by natural key (no primary keys),
    with the people.* audit entries written for them."""
    households = Household.objects.filter(number__startswith=prefix).select_related("village", "grid", "head")
    persons = Person.objects.filter(household__number__startswith=prefix).select_related("household")
    by_pk = {("people.Household", str(h.pk)): h.number for h in households}
    by_pk.update({("people.Person", str(p.pk)): crypto.decrypt(p.id_cipher) for p in persons})
    hh_number = {str(h.pk): h.number for h in households}
    entries = []
    for e in AuditEntry.objects.filter(model__in=["people.Household", "people.Person"],
                                       object_id__in=[pk for _, pk in by_pk]):
        key = by_pk.get((e.model, e.object_id))
        if key is None:
            continue
        changes = dict(e.changes)
        if "household" in changes:  # a primary key: compared as the 户号
            changes["household"] = [hh_number.get(v, v) for v in changes["household"]]
        entries.append((e.action, key, e.actor_label, e.region_path, e.object_repr, sorted(changes.items())))
    return {
        "households": sorted(
            (h.number, h.village.code, h.grid.code if h.grid else None, h.region_path, h.address, h.registered_on,
             crypto.decrypt(h.head.id_cipher) if h.head else None, sorted(h.tags.values_list("code", flat=True)))
            for h in households),
        "persons": sorted(
            (crypto.decrypt(p.id_cipher), p.household.number, p.name, p.name_initials, p.id_hash, p.id_prefix,
             p.id_suffix, p.gender, p.birth_date, p.phone_hash, crypto.decrypt(p.phone_cipher), p.phone_suffix,
             p.political_status, p.relation, p.status, p.registered_on, sorted(p.tags.values_list("code", flat=True)))
            for p in persons),
        "audit": sorted(entries),
    }


def assert_written(rows, *, by):
    """Every row of ``rows`` is in the registry as the file says, each household with its head."""
    today = datetime.date.today()
    persons = {crypto.decrypt(p.id_cipher): p for p in
               Person.objects.filter(id_hash__in=[crypto.lookup_hash(r["id_number"]) for r in rows])
               .select_related("household__village", "household__grid", "household__head")}
    assert len(persons) == len(rows)
    tag_codes = dict(Tag.objects.values_list("name", "code"))
    for r in rows:
        p = persons[r["id_number"]]
        h = p.household
        assert (h.number, h.village.code, h.grid.code if h.grid else "") == (r["number"], r["village"], r["grid"])
        assert p.name == r["name"] and p.get_relation_display() == r["relation"]
        assert crypto.decrypt(p.phone_cipher) == r["phone"].replace("-", "")
        assert p.registered_on == (datetime.date.fromisoformat(r["registered_on"]) if r["registered_on"] else today)
        want = sorted(tag_codes[t] for t in r.get("person_tags", "").split("、") if t)
        assert sorted(p.tags.values_list("code", flat=True)) == want
        want = sorted(tag_codes[t] for t in r.get("hh_tags", "").split("、") if t)
        assert sorted(h.tags.values_list("code", flat=True)) == want
        if r["relation"] == "户主":
            assert h.head_id == p.pk
    created = AuditEntry.objects.filter(action="people.add_person", model="people.Person",
                                        object_id__in=[str(p.pk) for p in persons.values()])
    assert created.count() == len(rows) and set(created.values_list("actor_label", flat=True)) == {by.username}


class Undo(Exception):
    pass


# --------------------------------------------------------------------------- 1. preview, then confirm


def test_a_confirmed_preview_writes_from_its_plan_what_the_file_would_give(demo_user):
    user = demo_user("wlne_secretary")
    data = xlsx(sample_rows("PLAN"))
    outcomes = {}
    for use_plan in (True, False):
        try:
            with transaction.atomic():  # each commit starts from the same registry: undone afterwards
                job = preview(data, by=user)
                assert job.status == ImportJob.Status.CHECKED
                assert plan.path_for(job).exists()
                if not use_plan:
                    plan.path_for(job).unlink()
                job = actions.commit(job, by=user)
                assert job.status == ImportJob.Status.COMMITTED, job.issues
                assert from_plan(job) is use_plan
                assert not plan.path_for(job).exists()
                outcomes[use_plan] = (job.counts, job.total_rows, job.issue_count, ledger("PLAN"))
                raise Undo
        except Undo:
            pass
    assert not Household.objects.filter(number__startswith="PLAN").exists()
    counts, total, issues, written = outcomes[True]
    assert counts == {"new": 9, "changed": 0, "unchanged": 0, "rejected": 0} and total == 9 and issues == 0
    assert len(written["households"]) == 4 and len(written["persons"]) == 9
    assert len(written["audit"]) == 4 + 9  # one per household and per person
    assert all(head for *_, head, _ in written["households"])
    assert outcomes[True] == outcomes[False]


def test_a_confirmed_preview_is_right_in_every_detail(demo_user):
    user = demo_user("wlne_secretary")
    rows = sample_rows("PLANX")
    job = preview(xlsx(rows), by=user)
    job = actions.commit(job, by=user)
    assert job.status == ImportJob.Status.COMMITTED and from_plan(job) is True
    assert_written(rows, by=user)
    entry = commit_entry(job)
    assert entry.changes["counts"] == [None, {"new": 9, "changed": 0, "unchanged": 0, "rejected": 0}]
    assert entry.changes["rows"] == [None, 9] and entry.allowed


def test_a_rejected_preview_leaves_no_plan(demo_user):
    user = demo_user("wlne_secretary")
    rows = household_rows("PLANREJ", 2)
    rows[3]["phone"] = "12345"
    job = preview(xlsx(rows), by=user)
    assert job.status == ImportJob.Status.REJECTED
    assert not plan.path_for(job).exists()
    assert not list(plan.folder().glob(f"{job.pk}.plan*"))  # nor a half-written one


def test_a_failed_preview_leaves_no_plan(demo_user, monkeypatch):
    def broken(self, batch, ctx):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(people_sheets.HouseholdMemberSheet, "write", broken)
    job = preview(xlsx(household_rows("PLANFAIL", 2)), by=demo_user("wlne_secretary"))
    assert job.status == ImportJob.Status.FAILED
    assert not list(plan.folder().glob(f"{job.pk}.plan*"))


def test_a_partial_preview_with_rejected_rows_commits_from_its_plan(demo_user):
    user = demo_user("wlne_secretary")
    rows = household_rows("PLANPART", 3)
    rows[3]["phone"] = "12345"
    job = preview(xlsx(rows), by=user, partial=True)
    assert job.status == ImportJob.Status.CHECKED and plan.path_for(job).exists()
    job = actions.commit(job, by=user)
    assert job.status == ImportJob.Status.COMMITTED and from_plan(job) is True
    assert job.counts == {"new": 4, "changed": 0, "unchanged": 0, "rejected": 2}
    assert issues_of(job) == {
        (5, "联系电话"): "电话号码“12345”格式错误：应为 11 位手机号或带区号的固定电话",
        (4, "户号"): "同户第 5 行有错误，整户未导入"}
    assert sorted(Household.objects.filter(number__startswith="PLANPART").values_list("number", flat=True)) == [
        "PLANPART00000", "PLANPART00002"]


# --------------------------------------------------------------------------- 2. the plan not used


def _add_tag(by):
    people_actions.upsert_tag("plan-new", "计划新标签", "person", by=by)


def _new_grid(by):
    areas_actions.create_grid(Region.objects.get(code=WLNE), code=f"{WLNE}77", name="新网格", by=by)


def _tomorrow(monkeypatch):
    real = datetime.date.today()

    class Tomorrow(datetime.date):
        @classmethod
        def today(cls):
            return real + datetime.timedelta(days=1)

    monkeypatch.setattr(people_sheets, "datetime", type("datetime", (), {"date": Tomorrow}))


def _delete(job):
    plan.path_for(job).unlink()


def _flip(offset):
    def flip(job):
        path = plan.path_for(job)
        data = bytearray(path.read_bytes())
        data[offset] ^= 0x01
        path.write_bytes(bytes(data))

    return flip


def _cut(job):
    path = plan.path_for(job)
    path.write_bytes(path.read_bytes()[:-40])


def _other_jobs_plan(job):
    """Another job's plan (the same file uploaded again and previewed) put in this one's place."""
    other = preview(actions.read_file(job), by=job.created_by)
    os.replace(plan.path_for(other), plan.path_for(job))


MEANWHILE = {
    "a tag added": lambda job, users, mp: _add_tag(users["town_admin"]),
    "a grid added": lambda job, users, mp: _new_grid(users["town_admin"]),
    "the next day": lambda job, users, mp: _tomorrow(mp),
    "the plan deleted": lambda job, users, mp: _delete(job),
    "a byte of the header flipped": lambda job, users, mp: _flip(20)(job),
    "another job's plan": lambda job, users, mp: _other_jobs_plan(job),
}


@pytest.mark.parametrize("change", list(MEANWHILE))
def test_the_commit_reads_the_file_again_when_the_plan_no_longer_holds(demo_user, monkeypatch, change):
    users = {name: demo_user(name) for name in ("wlne_secretary", "town_admin")}
    user = users["wlne_secretary"]
    rows = sample_rows("PLANNOT")
    job = preview(xlsx(rows), by=user)
    assert job.status == ImportJob.Status.CHECKED and plan.path_for(job).exists()
    MEANWHILE[change](job, users, monkeypatch)
    job = actions.commit(job, by=user)
    assert job.status == ImportJob.Status.COMMITTED, (job.status, job.file_error, job.issues)
    assert from_plan(job) is False
    assert job.counts == {"new": 9, "changed": 0, "unchanged": 0, "rejected": 0}
    assert not plan.path_for(job).exists()
    assert_written(rows, by=user)


# A plan that cannot be read to its end, or cannot be written at all, only costs time (exchange.plan:
# "the plan only saves time, it never decides an outcome"): the commit reads the file again, the
# preview passes without a plan. A plan altered past its header used to fail the commit (its chunks were
# unsealed only in pass 2, where ``plan.Unusable`` made the job FAILED), and a full disk the preview.


@pytest.mark.parametrize("change", ["the last byte flipped", "the plan cut short"])
def test_a_plan_altered_after_its_header_is_not_used_either(demo_user, change):
    user = demo_user("wlne_secretary")
    rows = sample_rows("PLANBAD")
    job = preview(xlsx(rows), by=user)
    assert job.status == ImportJob.Status.CHECKED and plan.path_for(job).exists()
    (_flip(-1) if change == "the last byte flipped" else _cut)(job)
    job = actions.commit(job, by=user)
    assert job.status == ImportJob.Status.COMMITTED, (job.status, job.file_error)
    assert from_plan(job) is False
    assert_written(rows, by=user)


def test_a_plan_that_cannot_be_opened_is_not_used_either(demo_user):
    """Here a folder in the plan's place (IsADirectoryError); in production a plan the worker may not
    read (PermissionError, e.g. a preview run by another account with a strict umask)."""
    user = demo_user("wlne_secretary")
    rows = household_rows("PLANDIR", 2)
    job = preview(xlsx(rows), by=user)
    path = plan.path_for(job)
    path.unlink()
    path.mkdir()
    try:
        job = actions.commit(job, by=user)
        assert job.status == ImportJob.Status.COMMITTED, (job.status, job.file_error)
        assert from_plan(job) is False
        assert_written(rows, by=user)
    finally:
        path.rmdir()


class _FullDisk:
    """A file on a disk that is full from its ``writes``-th write on."""

    def __init__(self, real, writes):
        self.real, self.writes = real, writes

    def write(self, data):
        self.writes -= 1
        if self.writes <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.real.write(data)

    def __getattr__(self, name):
        return getattr(self.real, name)


def _disk_fills(monkeypatch, writes):
    def plan_open(path, mode="r", *args, **kwargs):
        f = open(path, mode, *args, **kwargs)
        return _FullDisk(f, writes) if "w" in mode else f

    monkeypatch.setattr(plan, "open", plan_open, raising=False)  # the plan module's files only


def _no_folder(monkeypatch, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"")
    monkeypatch.setattr(plan, "folder", lambda: blocker / "plans")


@pytest.mark.parametrize("trouble", ["the folder cannot be made", "the disk fills at once", "the disk fills later"])
def test_a_preview_that_cannot_write_its_plan_still_passes(demo_user, monkeypatch, tmp_path, trouble):
    user = demo_user("wlne_secretary")
    rows = household_rows("PLANFULL", 2)
    job = actions.upload(sheet_key="households", data=xlsx(rows), name="满.xlsx", region=Region.objects.get(code=WLNE),
                         by=user)
    with monkeypatch.context() as mp:
        if trouble == "the folder cannot be made":
            _no_folder(mp, tmp_path)
        else:
            # a record is two writes (length, sealed bytes): the header's, or the rows' after it
            _disk_fills(mp, 1 if trouble == "the disk fills at once" else 4)
        job = actions.check(job, by=user)
        assert job.status == ImportJob.Status.CHECKED, (job.status, job.file_error)
        assert job.counts == {"new": 4, "changed": 0, "unchanged": 0, "rejected": 0}
    assert not list(plan.folder().glob(f"{job.pk}.plan*"))  # neither a plan nor a part of one
    job = actions.commit(job, by=user)
    assert job.status == ImportJob.Status.COMMITTED and from_plan(job) is False
    assert_written(rows, by=user)


def test_another_user_confirming_reads_the_file_again(demo_user):
    secretary, admin = demo_user("wlne_secretary"), demo_user("town_admin")
    rows = sample_rows("PLANUSER")
    job = preview(xlsx(rows), by=secretary)
    job = actions.commit(job, by=admin)
    assert job.status == ImportJob.Status.COMMITTED and from_plan(job) is False
    assert job.committed_by == admin
    assert_written(rows, by=admin)  # written in the confirming user's name


def test_a_renamed_tag_is_read_by_its_new_meaning(demo_user):
    """The file says 空巢老人; meanwhile that tag is renamed and a new tag takes the name: the commit
    reads the label again and gives the new tag (the plan would have given the old one)."""
    admin, user = demo_user("town_admin"), demo_user("wlne_secretary")
    old = Tag.objects.get(name="空巢老人")
    rows = household_rows("PLANTAG", 1, members=2, person_tags="空巢老人")
    job = preview(xlsx(rows), by=user)
    assert job.status == ImportJob.Status.CHECKED
    people_actions.upsert_tag(old.code, "空巢老年人", old.applies_to, by=admin)
    people_actions.upsert_tag("plan-kongchao", "空巢老人", "person", by=admin)
    job = actions.commit(job, by=user)
    assert job.status == ImportJob.Status.COMMITTED and from_plan(job) is False
    for p in Person.objects.filter(household__number__startswith="PLANTAG"):
        assert list(p.tags.values_list("code", flat=True)) == ["plan-kongchao"]


def test_a_date_no_longer_allowed_on_the_day_of_the_commit_is_refused(demo_user, monkeypatch):
    """The checks run again with the commit's today (here the clock went back a day)."""
    user = demo_user("wlne_secretary")
    real = datetime.date.today()
    rows = household_rows("PLANDAY", 1, members=2, registered_on=real.isoformat())
    job = preview(xlsx(rows), by=user)
    assert job.status == ImportJob.Status.CHECKED

    class Yesterday(datetime.date):
        @classmethod
        def today(cls):
            return real - datetime.timedelta(days=1)

    monkeypatch.setattr(people_sheets, "datetime", type("datetime", (), {"date": Yesterday}))
    before = registry()
    job = actions.commit(job, by=user)
    assert job.status == ImportJob.Status.REJECTED and from_plan(job) is False
    assert issues_of(job) == {(2, "登记日期"): "日期不能晚于今天", (3, "登记日期"): "日期不能晚于今天"}
    assert registry() == before


# --------------------------------------------------------------------------- 3. the database changed meanwhile


def test_an_id_number_registered_meanwhile_in_another_household_is_refused(demo_user):
    user = demo_user("wlne_secretary")
    rows = sample_rows("PLANDUP")
    job = preview(xlsx(rows), by=user)
    assert job.status == ImportJob.Status.CHECKED
    other = Household.objects.filter(region_path__startswith=Region.objects.get(code=WLNE).path).order_by("pk").first()
    people_actions.add_person(other, name="抢先登记", id_number=rows[4]["id_number"], by=user)
    before = registry()
    job = actions.commit(job, by=user)
    assert from_plan(job) is True
    assert job.status == ImportJob.Status.REJECTED and job.committed_at is None
    assert issues_of(job) == {
        (6, "身份证号码"): f"该身份证号码已登记在户 {other.number}，不能在户 {rows[4]['number']} 重复登记"}
    assert job.counts["rejected"] == 1
    assert registry() == before
    assert not Household.objects.filter(number__startswith="PLANDUP").exists()
    assert not plan.path_for(job).exists()
    assert job.get_status_display() == "有错误，未导入"


def test_an_id_number_registered_meanwhile_outside_scope_is_refused_without_saying_where(demo_user):
    user, admin = demo_user("wlne_secretary"), demo_user("town_admin")
    rows = household_rows("PLANOUT", 2)
    job = preview(xlsx(rows), by=user)
    outside = Household.objects.filter(region_path__startswith=Region.objects.get(code=NLXL).path).first()
    people_actions.add_person(outside, name="外村登记", id_number=rows[1]["id_number"], by=admin)
    before = registry()
    job = actions.commit(job, by=user)
    assert from_plan(job) is True and job.status == ImportJob.Status.REJECTED
    assert issues_of(job) == {
        (3, "身份证号码"): f"该身份证号码已在您管辖范围以外的地区登记，不能在户 {rows[1]['number']} 重复登记"}
    assert registry() == before


def test_a_household_number_registered_meanwhile_outside_scope_is_refused(demo_user):
    user, admin = demo_user("wlne_secretary"), demo_user("town_admin")
    rows = household_rows("PLANHH", 2)
    job = preview(xlsx(rows), by=user)
    people_actions.create_household(number=rows[2]["number"], village=Region.objects.get(code=NLXL), by=admin)
    before = registry()
    job = actions.commit(job, by=user)
    assert from_plan(job) is True and job.status == ImportJob.Status.REJECTED
    assert issues_of(job) == {(4, "户号"): "该户号已登记在您管辖范围以外的地区",
                              (5, "户号"): "该户号已登记在您管辖范围以外的地区"}
    assert registry() == before


def test_a_household_created_meanwhile_in_scope_is_updated_not_duplicated(demo_user):
    user = demo_user("wlne_secretary")
    rows = household_rows("PLANMEAN", 2)
    job = preview(xlsx(rows), by=user)
    made = people_actions.create_household(number=rows[0]["number"], village=Region.objects.get(code=WLNE),
                                           address="旧地址", by=user)
    job = actions.commit(job, by=user)
    assert job.status == ImportJob.Status.COMMITTED and from_plan(job) is True, (job.file_error, job.issues)
    assert job.counts == {"new": 4, "changed": 0, "unchanged": 0, "rejected": 0}  # counted by person
    made.refresh_from_db()
    assert made.address == rows[0]["address"] and made.grid.code == WLNE_GRID1
    assert Household.objects.filter(number=rows[0]["number"]).count() == 1
    assert made.head is not None and crypto.decrypt(made.head.id_cipher) == rows[0]["id_number"]
    update = AuditEntry.objects.get(action="people.update_household", object_id=str(made.pk))
    assert update.changes["address"] == ["旧地址", rows[0]["address"]]
    assert_written(rows, by=user)


# --------------------------------------------------------------------------- 4. the plan on disk


def _records(raw):
    out, at, size = [], 0, struct.Struct(">I")
    while at < len(raw):
        (n,) = size.unpack_from(raw, at)
        out.append(raw[at + size.size:at + size.size + n])
        at += size.size + n
    assert at == len(raw)
    return out


def test_the_plan_holds_no_clear_id_number_or_phone(demo_user):
    user = demo_user("wlne_secretary")
    rows = household_rows("PLANSEAL", 3)
    for i, r in enumerate(rows):
        r["phone"] = f"1380013{i:04d}"
    job = preview(xlsx(rows), by=user)
    raw = plan.path_for(job).read_bytes()
    secrets = [r["id_number"] for r in rows] + [r["phone"] for r in rows]
    for s in secrets:
        for encoded in (s.encode(), s.encode("utf-16-le"), s[-8:].encode()):
            assert encoded not in raw, s
    records = _records(raw)
    assert len(records) == 1 + 2 + 1  # header, one chunk with its (empty) helper result, end
    for blob in records:  # sealed: no record is a zlib stream or a pickle as it stands
        with pytest.raises(zlib.error):
            zlib.decompress(blob)
        with pytest.raises(Exception):
            pickle.loads(blob)
    # sealed, not absent: read through the plan's own reader the numbers are there
    reader = plan.Reader(job)
    try:
        header = reader.header()
        inside = [values for packed, _ in reader.chunks() for _, values in pickle.loads(zlib.decompress(packed))]
    finally:
        reader.close()
    assert {v["id_number"] for v in inside} == {r["id_number"] for r in rows}
    assert {v["phone"] for v in inside} == {r["phone"] for r in rows}
    assert set(header["state"]["households"]) == {r["number"] for r in rows}


def test_the_sweep_deletes_old_plans_only(demo_user):
    user = demo_user("wlne_secretary")
    old = preview(xlsx(household_rows("PLANOLD", 1)), by=user)
    young = preview(xlsx(household_rows("PLANYOUNG", 1)), by=user)
    long_ago = time.time() - (plan.PLAN_HOURS + 1) * 3600
    os.utime(plan.path_for(old), (long_ago, long_ago))
    killed = plan.folder() / f"{young.pk}.plan.999999.part"  # what a preview killed half-way leaves
    killed.write_bytes(b"half a plan")
    os.utime(killed, (long_ago, long_ago))
    assert plan.sweep() >= 2
    assert not plan.path_for(old).exists() and not killed.exists() and plan.path_for(young).exists()
    tasks.sweep_stale_jobs()  # the beat task sweeps plans too
    assert plan.path_for(young).exists()
    os.utime(plan.path_for(young), (long_ago, long_ago))
    tasks.sweep_stale_jobs()
    assert not plan.path_for(young).exists()
    # a swept plan only costs time: the commit reads the file again
    job = actions.commit(old, by=user)
    assert job.status == ImportJob.Status.COMMITTED and from_plan(job) is False
    assert Household.objects.filter(number__startswith="PLANOLD").count() == 1


def test_sweep_with_zero_hours_deletes_every_plan(demo_user):
    job = preview(xlsx(household_rows("PLANZERO", 1)), by=demo_user("wlne_secretary"))
    past = time.time() - 5
    os.utime(plan.path_for(job), (past, past))
    assert plan.sweep(hours=0) >= 1
    assert not plan.path_for(job).exists()


# --------------------------------------------------------------------------- 5. core.bulk


def test_ids_refuses_outside_a_transaction(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        assert not connection.in_atomic_block
        with pytest.raises(RuntimeError, match="inside the transaction"):
            Ids(Tag).take(2)
        assert Ids(Tag).take(0) == []


def test_ids_are_above_the_largest_and_do_not_overlap(db):
    largest = Tag.objects.order_by("-pk").values_list("pk", flat=True).first()
    ids = Ids(Tag)
    first, second = ids.take(3), ids.take(2)
    assert all(i > largest for i in first + second)
    assert len(set(first + second)) == 5
    assert first == sorted(first) and second == sorted(second) and min(second) > max(first)
    # the keys are good for an INSERT, and a row inserted normally afterwards takes none of them
    Tag.objects.create(pk=second[-1], code="ids-a", name="Ids甲", applies_to="person")
    later = Tag.objects.create(code="ids-b", name="Ids乙", applies_to="person")
    assert later.pk > second[-1]
    assert Ids(Tag).take(1)[0] > later.pk


def test_select_in_returns_every_match_across_chunks(db):
    numbers = list(Household.objects.order_by("pk").values_list("number", flat=True)[:7])
    assert len(numbers) == 7
    keys = numbers + ["NOSUCH1", "NOSUCH2"]
    sql = f"SELECT number, id FROM {Household._meta.db_table} WHERE number {{in_keys}}"
    with CaptureQueriesContext(connection) as queries:
        found = select_in(sql, keys, chunk=3)
    assert len(queries) == 3  # nine keys, three a query
    assert sorted(found) == sorted(Household.objects.filter(number__in=numbers).values_list("number", "id"))
    assert select_in(sql, [], chunk=3) == []
    assert select_in(sql, numbers[:2]) and len(select_in(sql, numbers[:2])) == 2


def test_select_in_matches_keys_exactly_whatever_they_hold(db):
    """Keys are sent joined by a separator on PostgreSQL: a key holding it, an empty key, quotes,
    commas and braces still match exactly themselves, nothing else."""
    odd = ["A\x1fB", "", "a,b", '{"x"}', "it's", "户号 1", "NULL"]
    for i, number in enumerate(odd):
        Household.objects.filter(pk=Household.objects.order_by("pk").values_list("pk", flat=True)[i]).update(
            number=number or "EMPTY-PLACEHOLDER")
    sql = f"SELECT number FROM {Household._meta.db_table} WHERE number {{in_keys}}"
    assert sorted(r[0] for r in select_in(sql, odd)) == sorted(k for k in odd if k)
    # without the key that holds the separator, the joined form must not split "A" and "B" out of it
    assert sorted(r[0] for r in select_in(sql, ["A", "B", "a", "b", "a,b"])) == ["a,b"]
    assert select_in(sql, ["A\x1fB"]) == [("A\x1fB",)]
    assert select_in(sql, [""]) == []


def _vacuum_counts(cursor, tables):
    cursor.execute("SELECT pg_stat_clear_snapshot()")
    cursor.execute("SELECT relname, vacuum_count FROM pg_stat_user_tables WHERE relname = ANY(%s)", [tables])
    return dict(cursor.fetchall())


def test_a_large_preview_vacuums_what_it_rolled_back_on_postgresql(django_db_setup, django_db_blocker):
    """The tables a preview wrote and rolled back are vacuumed after it (PostgreSQL), outside any
    transaction; inside one (where VACUUM cannot run) nothing happens and nothing fails."""
    from yiwang.exchange import engine

    sheet = people_sheets.HouseholdMemberSheet()
    tables = [Household._meta.db_table, Person._meta.db_table, AuditEntry._meta.db_table,
              Household.tags.through._meta.db_table, Person.tags.through._meta.db_table]
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            with transaction.atomic():
                engine._vacuum(sheet)  # nothing to do on SQLite
            pytest.skip("VACUUM is PostgreSQL's")
        with connection.cursor() as cursor:
            before = _vacuum_counts(cursor, tables)
            with transaction.atomic():
                engine._vacuum(sheet)  # inside a transaction: skipped, no error
            assert _vacuum_counts(cursor, tables) == before
            engine._vacuum(sheet)
            after = _vacuum_counts(cursor, tables)
    assert set(after) == set(tables)
    assert all(after[t] == before.get(t, 0) + 1 for t in tables)


def test_the_engine_vacuums_after_a_large_preview_and_never_after_a_commit(demo_user, monkeypatch):
    """The call site of ``engine._vacuum``: after a preview that wrote at least VACUUM_AFTER_ROWS rows
    (lowered here) and rolled them back; not after a smaller one, and not after the commit."""
    from yiwang.exchange import engine

    calls = []
    monkeypatch.setattr(engine, "_vacuum", lambda sheet: calls.append(sheet.key))
    user = demo_user("wlne_secretary")
    rows = sample_rows("VAC")
    monkeypatch.setattr(engine, "VACUUM_AFTER_ROWS", len(rows) + 1)
    job = preview(xlsx(rows), by=user)
    assert job.status == ImportJob.Status.CHECKED and calls == []
    monkeypatch.setattr(engine, "VACUUM_AFTER_ROWS", len(rows))
    job = preview(xlsx(sample_rows("VAD")), by=user)
    assert job.status == ImportJob.Status.CHECKED and calls == ["households"]
    job = actions.commit(job, by=user)
    assert job.status == ImportJob.Status.COMMITTED and calls == ["households"]


def test_the_commit_and_only_the_commit_plans_its_deferred_checks_on_indexes(demo_user, monkeypatch):
    """The call site of ``core.bulk.index_scans_for_deferred_checks``: once, at the end of a commit's
    write, inside its transaction (a preview rolls back: it runs no deferred check)."""
    from django.db import connection

    from yiwang.exchange import engine

    calls = []

    def spy():
        calls.append(connection.in_atomic_block)

    monkeypatch.setattr(engine, "index_scans_for_deferred_checks", spy)
    user = demo_user("wlne_secretary")
    job = preview(xlsx(sample_rows("DEF")), by=user)
    assert job.status == ImportJob.Status.CHECKED and calls == []
    job = actions.commit(job, by=user)
    assert job.status == ImportJob.Status.COMMITTED and calls == [True]
