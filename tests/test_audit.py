"""Audit: every action writes its entry, every refused action writes a refusal and changes nothing,
reading a full ID number or phone is logged, the log is append-only, sign-in events are audited.

``CASES`` holds one case per action: how to run it (over HTTP where a page or the API offers it, so the
entry must carry the client's IP) and how to have it refused. ``test_every_action_has_a_case`` walks
``src/yiwang/*/actions.py``: a new public function there fails until it gets a case here (or is listed
in ``HELPERS`` as not writing anything), so no write escapes the audit log unnoticed.
"""
import datetime
import importlib
import importlib.util
import inspect
import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test import Client

from yiwang.accounts import actions as account_actions
from yiwang.accounts.models import RoleAssignment, User
from yiwang.areas import actions as area_actions
from yiwang.areas.models import Region
from yiwang.core import crypto, testing
from yiwang.core.context import request_context
from yiwang.core.errors import PermissionRefused
from yiwang.core.idnumber import make_id_number
from yiwang.core.models import AuditEntry
from yiwang.demo.accounts import DEMO_PASSWORD
from yiwang.people import actions as people_actions
from yiwang.people.models import Household, Person, Tag

WLNE, NLXL, GRID1, GRID2 = "150627105215", "150627105214", "15062710521501", "15062710521502"
HTTP_IP = "127.0.0.1"  # the test client's REMOTE_ADDR
DIRECT_IP = "198.51.100.7"  # set by request_context around direct calls, as the middleware does

# Public functions of actions.py that write nothing (so they need no audit case), each with why.
HELPERS = {
    "yiwang.areas.actions.normalise_code": "turns a padded 12-digit code into the unit's code; reads only",
    "yiwang.areas.actions.get_region": "looks a region up within the user's scope; reads only",
    "yiwang.areas.actions.read_divisions": "parses a divisions CSV; writes nothing (load_divisions does)",
    "yiwang.people.actions.initials": "pinyin initials of a name; pure function",
}


@dataclass
class Expect:
    """The entry an action must have written."""

    action: str
    obj: object = None
    by: object = None  # None: the system
    changes: dict = field(default_factory=dict)  # a subset of the entry's field diffs
    ip: str | None = None
    allowed: bool = True
    secrets: tuple = ()  # strings that must not appear anywhere in the entry (a full ID number, a phone)


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def send(client, method, url, body=None):
    if url.startswith("/api/"):
        return client.generic(method, url, json.dumps(body or {}), content_type="application/json")
    return client.post(url, body or {})


def region(code):
    return Region.objects.get(code=code)


def household_in(code):
    return Household.objects.filter(region_path__startswith=region(code).path).order_by("pk").first()


def fresh_id_number():
    for seq in range(1, 1000):
        number = make_id_number("150627", datetime.date(1991, 7, 9), seq)
        if not Person.objects.filter(id_hash=crypto.lookup_hash(number)).exists():
            return number
    raise AssertionError("no free ID number")


def entry_for(expect: Expect, since: int) -> AuditEntry:
    entries = AuditEntry.objects.filter(pk__gt=since, action=expect.action, allowed=expect.allowed)
    if expect.obj is not None:
        entries = entries.filter(model=expect.obj._meta.label, object_id=str(expect.obj.pk))
    found = list(entries)
    assert len(found) == 1, f"{expect.action}: want one entry, found {len(found)}"
    return found[0]


def check(expect: Expect, since: int):
    entry = entry_for(expect, since)
    if expect.by is None:
        assert entry.actor_id is None and entry.actor_label == "system"
    else:
        assert entry.actor_id == expect.by.pk and entry.actor_label == expect.by.username
    for name, (old, new) in expect.changes.items():
        assert entry.changes.get(name) == [old, new], (expect.action, name, entry.changes)
    assert entry.ip == expect.ip, (expect.action, entry.ip)
    text = json.dumps(entry.changes, ensure_ascii=False) + entry.object_repr + entry.reason
    for secret in expect.secrets:
        assert secret and secret not in text, f"{expect.action} records personal data in clear"
    return entry


def state():
    """What a refused action must leave untouched."""
    return {
        "users": list(User.objects.order_by("pk").values_list("pk", "password", "is_active")),
        "assignments": list(RoleAssignment.objects.order_by("pk").values_list("pk", "role", "region_id")),
        "regions": list(Region.objects.order_by("pk").values_list("pk", "name", "note", "boundary")),
        "households": list(Household.objects.order_by("pk").values_list("pk", "region_path", "address", "updated_at")),
        "persons": list(Person.objects.order_by("pk").values_list("pk", "name", "phone_hash", "updated_at")),
        "tags": list(Tag.objects.order_by("pk").values_list("pk", "code")),
        **{k: v for extra in _STATES for k, v in extra().items()},
    }


# --------------------------------------------------------------------------- the cases
# Each ``done`` runs the action as a user allowed to and returns the Expect; each ``refused`` runs it as a
# user who is not, returns the Expect of the refusal, and must leave state() unchanged.


def create_user_done(u):
    with request_context(ip=DIRECT_IP):
        user = account_actions.create_user(username="audit_new", password="Audit@2023x", by=u("sysadmin"))
    return Expect("accounts.create_user", user, u("sysadmin"), {"username": [None, "audit_new"]}, DIRECT_IP)


def create_user_refused(u):
    with request_context(ip=DIRECT_IP), pytest.raises(PermissionRefused):
        account_actions.create_user(username="audit_new", password="Audit@2023x", by=u("wlne_secretary"))
    return Expect("accounts.create_user", None, u("wlne_secretary"), ip=DIRECT_IP, allowed=False)


def _bare_user():
    return account_actions.create_user(username="audit_bare", password="Audit@2023x", by=None)


def assign_role_done(u):
    user = _bare_user()
    with request_context(ip=DIRECT_IP):
        account_actions.assign_role(user, role="grid_worker", region=region(GRID1), by=u("secadmin"))
    return Expect("accounts.assign_role", user, u("secadmin"),
                  {"role": [None, "grid_worker"], "region": [None, GRID1]}, DIRECT_IP)


def assign_role_refused(u):
    user = _bare_user()
    before = state()
    with request_context(ip=DIRECT_IP), pytest.raises(PermissionRefused):  # 三员分立: not the system admin
        account_actions.assign_role(user, role="village_cadre", region=region(WLNE), by=u("sysadmin"))
    assert state() == before
    return Expect("accounts.assign_role", user, u("sysadmin"), ip=DIRECT_IP, allowed=False)


def set_password_done(u):
    user = u("wlne_grid1")
    with request_context(ip=DIRECT_IP):
        account_actions.set_password(user, password="Changed@2023x", by=u("sysadmin"))
    return Expect("accounts.set_password", user, u("sysadmin"), ip=DIRECT_IP,
                  secrets=("Changed@2023x", User.objects.get(pk=user.pk).password))


def set_password_refused(u):
    user = u("wlne_grid1")
    with request_context(ip=DIRECT_IP), pytest.raises(PermissionRefused):
        account_actions.set_password(user, password="Changed@2023x", by=u("secadmin"))
    return Expect("accounts.set_password", user, u("secadmin"), ip=DIRECT_IP, allowed=False)


NEW_VILLAGE = [{"code": "150627105298", "name": "审计测试村", "level": "village", "parent_code": "150627105"}]


def load_divisions_done(u):
    with request_context(ip=DIRECT_IP):
        area_actions.load_divisions(NEW_VILLAGE, under="150627105", by=u("sysadmin"))
    return Expect("areas.create_region", region("150627105298"), u("sysadmin"),
                  {"name": [None, "审计测试村"], "kind": [None, "village"]}, DIRECT_IP)


def load_divisions_refused(u):
    with request_context(ip=DIRECT_IP), pytest.raises(PermissionRefused):
        area_actions.load_divisions(NEW_VILLAGE, under="150627105", by=u("wlne_secretary"))
    return Expect("areas.load_divisions", None, u("wlne_secretary"), ip=DIRECT_IP, allowed=False)


def create_grid_done(u):
    r = send(client_for(u("wlne_secretary")), "POST", f"/api/regions/{WLNE}/grids/",
             {"code": f"{WLNE}77", "name": "审计测试网格"})
    assert r.status_code == 201, r.content
    return Expect("areas.create_grid", region(f"{WLNE}77"), u("wlne_secretary"),
                  {"code": [None, f"{WLNE}77"], "name": [None, "审计测试网格"]}, HTTP_IP)


def create_grid_refused(u):
    with pytest.raises(PermissionRefused):
        area_actions.create_grid(region(WLNE), code=f"{WLNE}77", name="越权网格", by=u("nlxl_secretary"))
    return Expect("areas.create_grid", region(WLNE), u("nlxl_secretary"), allowed=False)


def update_region_done(u):
    grid = region(GRID1)
    r = send(client_for(u("wlne_secretary")), "POST", f"/areas/{GRID1}/edit/",
             {"name": grid.name, "note": "审计备注", "boundary": ""})
    assert r.status_code == 302, r.status_code
    return Expect("areas.update_region", grid, u("wlne_secretary"), {"note": [grid.note, "审计备注"]}, HTTP_IP)


def update_region_refused(u):
    with pytest.raises(PermissionRefused):
        area_actions.update_region(region(GRID1), note="越权备注", by=u("nlxl_secretary"))
    return Expect("areas.update_region", region(GRID1), u("nlxl_secretary"), allowed=False)


def create_household_done(u):
    r = send(client_for(u("wlne_secretary")), "POST", "/api/households/",
             {"number": "AUDIT-1", "village": WLNE, "grid": GRID1, "address": "审计路1号", "registered_on": "2020-01-02"})
    assert r.status_code == 201, r.content
    household = Household.objects.get(number="AUDIT-1")
    return Expect("people.create_household", household, u("wlne_secretary"),
                  {"number": [None, "AUDIT-1"], "address": [None, "审计路1号"], "registered_on": [None, "2020-01-02"]},
                  HTTP_IP)


def create_household_refused(u):
    r = send(client_for(u("banner_viewer")), "POST", "/api/households/",
             {"number": "AUDIT-2", "village": WLNE, "grid": GRID1, "registered_on": "2020-01-02"})
    assert r.status_code == 403, r.content
    return Expect("people.create_household", None, u("banner_viewer"), ip=HTTP_IP, allowed=False)


def update_household_done(u):
    household = household_in(WLNE)
    r = send(client_for(u("wlne_secretary")), "PATCH", f"/api/households/{household.pk}/", {"address": "审计新址"})
    assert r.status_code == 200, r.content
    return Expect("people.update_household", household, u("wlne_secretary"),
                  {"address": [household.address, "审计新址"]}, HTTP_IP)


def update_household_refused(u):
    household = household_in(WLNE)
    with pytest.raises(PermissionRefused):
        people_actions.update_household(household, address="越权地址", by=u("nlxl_secretary"))
    return Expect("people.update_household", household, u("nlxl_secretary"), allowed=False)


def move_household_done(u):
    household = Household.objects.filter(grid__code=GRID1).order_by("pk").first()
    r = send(client_for(u("wlne_secretary")), "POST", f"/api/households/{household.pk}/move/", {"grid": GRID2})
    assert r.status_code == 200, r.content
    return Expect("people.move_household", household, u("wlne_secretary"),
                  {"grid": [str(region(GRID1).pk), str(region(GRID2).pk)],
                   "region_path": [region(GRID1).path, region(GRID2).path]}, HTTP_IP)


def move_household_refused(u):
    household = household_in(WLNE)
    other_grid = region(NLXL).children.filter(kind="grid").first()
    with pytest.raises(PermissionRefused):
        people_actions.move_household(household, grid=other_grid, village=region(NLXL), by=u("nlxl_secretary"))
    return Expect("people.move_household", household, u("nlxl_secretary"), allowed=False)


def add_person_done(u):
    household = household_in(WLNE)
    number = fresh_id_number()
    r = send(client_for(u("wlne_secretary")), "POST", "/api/persons/",
             {"household": household.number, "name": "审计新人", "id_number": number, "phone": "13912345678",
              "relation": "child", "registered_on": "2020-01-02"})
    assert r.status_code == 201, r.content
    person = Person.objects.get(pk=r.json()["id"])
    return Expect("people.add_person", person, u("wlne_secretary"),
                  {"name": [None, "审计新人"], "relation": [None, "child"], "birth_date": [None, "1991-07-09"]},
                  HTTP_IP, secrets=(number, "13912345678"))


def add_person_refused(u):
    household = household_in(WLNE)
    r = send(client_for(u("banner_viewer")), "POST", f"/people/households/{household.pk}/members/new/",
             {"name": "越权", "id_number": fresh_id_number(), "political_status": "masses", "relation": "child",
              "status": "living", "registered_on": "2020-01-02"})
    assert r.status_code == 403, r.status_code
    return Expect("people.add_person", household, u("banner_viewer"), ip=HTTP_IP, allowed=False)


def update_person_done(u):
    person = household_in(WLNE).members.order_by("pk").first()
    r = send(client_for(u("wlne_secretary")), "POST", f"/people/persons/{person.pk}/edit/",
             {"name": "审计改名", "phone": "13787654321", "political_status": person.political_status,
              "relation": person.relation, "status": person.status})
    assert r.status_code == 302, r.context["form"].errors if r.context else r.status_code
    return Expect("people.update_person", person, u("wlne_secretary"),
                  {"name": [person.name, "审计改名"], "phone": ["***", "***"]}, HTTP_IP, secrets=("13787654321",))


def update_person_refused(u):
    person = household_in(WLNE).members.order_by("pk").first()
    with pytest.raises(PermissionRefused):
        people_actions.update_person(person, name="越权改名", by=u("nlxl_secretary"))
    return Expect("people.update_person", person, u("nlxl_secretary"), allowed=False)


def reveal_done(u):
    person = household_in(WLNE).members.order_by("pk").first()
    r = send(client_for(u("wlne_secretary")), "POST", f"/people/persons/{person.pk}/reveal/id_number/")
    assert r.status_code == 200 and r.json() == {"id_number": person.id_number_plain()}
    return Expect("people.reveal_id_number", person, u("wlne_secretary"), ip=HTTP_IP,
                  secrets=(person.id_number_plain(),))


def reveal_refused(u):
    person = household_in(WLNE).members.order_by("pk").first()
    r = send(client_for(u("banner_viewer")), "POST", f"/api/persons/{person.pk}/reveal/id_number/")
    assert r.status_code == 403 and person.id_number_plain() not in r.content.decode()
    return Expect("people.reveal_id_number", person, u("banner_viewer"), ip=HTTP_IP, allowed=False)


def ensure_default_tags_done(u):
    Tag.objects.filter(code="kongchao").delete()
    with request_context(ip=DIRECT_IP):
        people_actions.ensure_default_tags()
    return Expect("people.create_tag", Tag.objects.get(code="kongchao"), None,
                  {"code": [None, "kongchao"], "name": [None, "空巢老人"]}, DIRECT_IP)


CASES = {
    "yiwang.accounts.actions.create_user": (create_user_done, create_user_refused),
    "yiwang.accounts.actions.assign_role": (assign_role_done, assign_role_refused),
    "yiwang.accounts.actions.set_password": (set_password_done, set_password_refused),
    "yiwang.areas.actions.load_divisions": (load_divisions_done, load_divisions_refused),
    "yiwang.areas.actions.create_grid": (create_grid_done, create_grid_refused),
    "yiwang.areas.actions.update_region": (update_region_done, update_region_refused),
    "yiwang.people.actions.create_household": (create_household_done, create_household_refused),
    "yiwang.people.actions.update_household": (update_household_done, update_household_refused),
    "yiwang.people.actions.move_household": (move_household_done, move_household_refused),
    "yiwang.people.actions.add_person": (add_person_done, add_person_refused),
    "yiwang.people.actions.update_person": (update_person_done, update_person_refused),
    "yiwang.people.actions.reveal": (reveal_done, reveal_refused),
    # the system's own bootstrap of reference data: no user may call it, so there is no refusal
    "yiwang.people.actions.ensure_default_tags": (ensure_default_tags_done, None),
}


# --------------------------------------------------------------------------- exchange (Excel)


def _ledger(user_name, u):
    from yiwang.exchange import actions as exchange_actions
    from yiwang.exchange.sheets import get_sheet

    sheet = get_sheet("households")
    return exchange_actions.export(sheet_key="households", queryset=sheet.export_queryset(u(user_name)), by=None,
                                   full_pii=True)


def _job(u, *, checked=False):
    from yiwang.exchange import actions as exchange_actions

    job = exchange_actions.upload(sheet_key="households", data=_ledger("wlne_secretary", u), name="审计.xlsx",
                                  region=region(WLNE), by=None)
    return exchange_actions.check(job, by=None) if checked else job


def upload_done(u):
    import hashlib

    from django.core.files.uploadedfile import SimpleUploadedFile

    from yiwang.exchange.models import ImportJob

    data = _ledger("wlne_secretary", u)
    r = client_for(u("wlne_secretary")).post("/api/imports/", {
        "sheet": "households", "region": WLNE, "file": SimpleUploadedFile("台账.xlsx", data)})
    assert r.status_code == 202, r.content
    job = ImportJob.objects.get(pk=r.json()["id"])
    return Expect("exchange.upload", job, u("wlne_secretary"), {"sha256": [None, hashlib.sha256(data).hexdigest()]},
                  HTTP_IP)


def upload_refused(u):
    from yiwang.exchange import actions as exchange_actions

    with pytest.raises(PermissionRefused):
        exchange_actions.upload(sheet_key="households", data=b"PK", name="x.xlsx", region=region(NLXL),
                                by=u("wlne_secretary"))
    return Expect("exchange.upload", None, u("wlne_secretary"), allowed=False)


def check_done(u):
    from yiwang.exchange import actions as exchange_actions

    job = _job(u)
    with request_context(ip=DIRECT_IP):
        job = exchange_actions.check(job, by=u("wlne_secretary"))
    assert job.status == "checked", (job.status, job.file_error, job.issues[:3])
    return Expect("exchange.check", job, u("wlne_secretary"), ip=DIRECT_IP)


def _demo_job():
    from yiwang.exchange.models import ImportJob

    return ImportJob.objects.filter(region__code=WLNE).order_by("pk").first()  # the demo's own import


def check_refused(u):
    from yiwang.exchange import actions as exchange_actions

    job = _demo_job()
    with pytest.raises(PermissionRefused):
        exchange_actions.check(job, by=u("nlxl_secretary"))
    return Expect("exchange.check", job, u("nlxl_secretary"), allowed=False)


def commit_done(u):
    job = _job(u, checked=True)
    r = client_for(u("wlne_secretary")).post(f"/exchange/jobs/{job.pk}/commit/")
    assert r.status_code == 302
    job.refresh_from_db()
    assert job.status == "committed" and job.counts["unchanged"] == job.total_rows
    return Expect("exchange.commit", job, u("wlne_secretary"), ip=HTTP_IP)


def commit_refused(u):
    from yiwang.exchange import actions as exchange_actions

    job = _demo_job()
    with pytest.raises(PermissionRefused):
        exchange_actions.commit(job, by=u("banner_viewer"))
    return Expect("exchange.commit", job, u("banner_viewer"), allowed=False)


def mark_failed_done(u):
    """The system's sweep gives up on a job whose worker is gone: 失败, audited as the system's."""
    from yiwang.exchange import actions as exchange_actions
    from yiwang.exchange.models import ImportJob

    job = _job(u)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.CHECKING)
    assert exchange_actions.mark_failed(job.pk, "后台任务中断，数据未改变，请重新导入") is True
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and job.file_error == "后台任务中断，数据未改变，请重新导入"
    assert exchange_actions.mark_failed(job.pk, "再一次") is False  # a finished job is left alone, unaudited
    return Expect("exchange.interrupted", job, None, {"status": ["checking", "failed"]})


def export_done(u):
    r = client_for(u("wlne_secretary")).get("/exchange/export/households/", {"full": "1"})
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    return Expect("exchange.export_full", None, u("wlne_secretary"), {"full_pii": [None, True]}, HTTP_IP)


def export_refused(u):
    r = client_for(u("banner_viewer")).get("/api/sheets/households/export/", {"full": "1"})
    assert r.status_code == 403
    from yiwang.exchange import actions as exchange_actions

    with pytest.raises(PermissionRefused):
        exchange_actions.export(sheet_key="households", queryset=Person.objects.none(), by=u("banner_viewer"),
                                full_pii=True)
    return Expect("exchange.export_full", None, u("banner_viewer"), allowed=False)


def upsert_member_rows_done(u):
    person = household_in(WLNE).members.order_by("pk").first()
    h = person.household
    row = {"number": h.number, "village": h.village.code, "grid": h.grid.code if h.grid else "", "address": "审计新址",
           "hh_registered_on": None, "hh_tags": sorted(t.code for t in h.tags.all()), "name": person.name,
           "id_number": person.id_number_plain(), "relation": person.relation, "phone": person.phone_plain(),
           "political_status": None, "status": None, "registered_on": None,
           "person_tags": sorted(t.code for t in person.tags.all())}
    regions = {r.code: r for r in Region.objects.filter(code__in=[row["village"], row["grid"]])}
    with request_context(ip=DIRECT_IP):
        outcomes = people_actions.upsert_member_rows([(2, row)], by=u("wlne_secretary"), regions=regions, cache={})
    assert outcomes == ["changed"]
    return Expect("people.update_household", h, u("wlne_secretary"), {"address": [h.address, "审计新址"]}, DIRECT_IP,
                  secrets=(person.id_number_plain(),))


def upsert_member_rows_refused(u):
    h = household_in(WLNE)
    person = h.members.order_by("pk").first()
    row = {"number": h.number, "village": h.village.code, "grid": h.grid.code if h.grid else "", "address": "越权",
           "name": person.name, "id_number": person.id_number_plain(), "relation": person.relation}
    regions = {r.code: r for r in Region.objects.filter(code__in=[row["village"], row["grid"]])}
    with pytest.raises(PermissionRefused):
        people_actions.upsert_member_rows([(2, row)], by=u("nlxl_secretary"), regions=regions, cache={})
    return Expect("people.upsert_member_rows", None, u("nlxl_secretary"), allowed=False)


def download_done(u):
    job = _demo_job()
    r = client_for(u("wlne_secretary")).get(f"/exchange/jobs/{job.pk}/file/")
    assert r.status_code == 200 and r.content == job.file.open("rb").read()
    return Expect("exchange.download_file", job, u("wlne_secretary"), ip=HTTP_IP)


def download_refused(u):
    # the banner viewer sees the job, but its file holds full ID numbers: no pii.reveal, no download
    job = _demo_job()
    r = client_for(u("banner_viewer")).get(f"/exchange/jobs/{job.pk}/file/")
    assert r.status_code == 403
    return Expect("exchange.download_file", job, u("banner_viewer"), ip=HTTP_IP, allowed=False)


def upsert_tag_done(u):
    with request_context(ip=DIRECT_IP):
        tag, outcome = people_actions.upsert_tag("audit_tag", "审计标签", "人", by=u("town_admin"))
    assert outcome == "new" and tag.applies_to == "person"
    return Expect("people.create_tag", tag, u("town_admin"),
                  {"code": [None, "audit_tag"], "name": [None, "审计标签"], "applies_to": [None, "person"]}, DIRECT_IP)


def upsert_tag_refused(u):
    # the tag list is shared by every village: a village secretary may not rename 低保户 for all of them
    with request_context(ip=DIRECT_IP), pytest.raises(PermissionRefused):
        people_actions.upsert_tag("dibao", "越权改名", "户", by=u("wlne_secretary"))
    return Expect("people.upsert_tag", None, u("wlne_secretary"), ip=DIRECT_IP, allowed=False)


CASES.update({
    "yiwang.people.actions.upsert_tag": (upsert_tag_done, upsert_tag_refused),
    "yiwang.exchange.actions.upload": (upload_done, upload_refused),
    "yiwang.exchange.actions.download": (download_done, download_refused),
    "yiwang.exchange.actions.check": (check_done, check_refused),
    "yiwang.exchange.actions.commit": (commit_done, commit_refused),
    "yiwang.exchange.actions.mark_failed": (mark_failed_done, None),  # the system's own sweep: no user to refuse
    "yiwang.exchange.actions.export": (export_done, export_refused),
    "yiwang.people.actions.upsert_member_rows": (upsert_member_rows_done, upsert_member_rows_refused),
})


# Per-app cases live beside the app's tests (``tests/<app>/audit_cases.py``: ``CASES``, optional ``HELPERS``
# and ``state()`` adding what that app's refused actions must leave untouched), so apps built in parallel
# don't edit this file at once. They import Expect, DIRECT_IP, ... from this module.
_STATES = []
for _path in sorted(Path(__file__).parent.glob("*/audit_cases.py")):
    _spec = importlib.util.spec_from_file_location(f"audit_cases_{_path.parent.name}", _path)
    _mod = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_mod)
    CASES.update(_mod.CASES)
    HELPERS.update(getattr(_mod, "HELPERS", {}))
    if hasattr(_mod, "state"):
        _STATES.append(_mod.state)


def _action_functions():
    for config in apps.get_app_configs():
        if not config.name.startswith("yiwang."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.actions")
        except ModuleNotFoundError:
            continue
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and not name.startswith("_"):
                yield f"{module.__name__}.{name}", fn


def test_every_action_has_a_case():
    found = dict(_action_functions())
    missing = sorted(set(found) - set(CASES) - set(HELPERS))
    assert not missing, f"actions without an audit case in tests/test_audit.py: {missing}"
    no_refusal = sorted(n for n, fn in found.items() if "by" in inspect.signature(fn).parameters
                        and n in CASES and CASES[n][1] is None)
    assert not no_refusal, f"actions a user can call need a refusal case: {no_refusal}"
    stale = sorted((set(CASES) | set(HELPERS)) - set(found))
    assert not stale, f"cases for actions that no longer exist: {stale}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_action_writes_its_audit_entry(name, demo_user):
    since = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    expect = CASES[name][0](demo_user)
    check(expect, since)


@pytest.mark.parametrize("name", sorted(n for n, (_, refused) in CASES.items() if refused))
def test_refused_action_writes_a_refusal_and_changes_nothing(name, demo_user):
    refused = CASES[name][1]
    # a refusal case may first make its target as the system (``refused.prepare(u)``), outside the comparison
    args = (refused.prepare(demo_user),) if hasattr(refused, "prepare") else ()
    before = state()
    since = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    expect = refused(demo_user, *args)
    if "assign_role" not in name:  # that case makes its own target user first, then compares
        assert state() == before, f"{name}: a refused action changed records"
    entry = check(expect, since)
    assert entry.allowed is False and entry.reason
    done = AuditEntry.objects.filter(pk__gt=since, allowed=True).exclude(action__in=["accounts.login",
                                                                                    "accounts.create_user"])
    assert not done.exists(), f"{name}: refused, yet {list(done.values_list('action', flat=True))} recorded as done"


# --------------------------------------------------------------------------- reading personal data


def test_every_way_to_read_a_full_id_number_or_phone_is_logged(demo_user):
    user = demo_user("wlne_secretary")
    client = client_for(user)
    person = Person.objects.filter(household__region_path__startswith=region(WLNE).path).exclude(
        phone_suffix="").order_by("pk").first()
    ways = [
        ("id_number", lambda: client.post(f"/people/persons/{person.pk}/reveal/id_number/").json()["id_number"], HTTP_IP),
        ("phone", lambda: client.post(f"/people/persons/{person.pk}/reveal/phone/").json()["phone"], HTTP_IP),
        ("id_number", lambda: send(client, "POST", f"/api/persons/{person.pk}/reveal/id_number/").json()["id_number"],
         HTTP_IP),
        ("phone", lambda: send(client, "POST", f"/api/persons/{person.pk}/reveal/phone/").json()["phone"], HTTP_IP),
        ("id_number", lambda: people_actions.reveal(person, field="id_number", by=user), None),
    ]
    for field_name, read, ip in ways:
        since = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
        value = read()
        assert value == (person.id_number_plain() if field_name == "id_number" else person.phone_plain())
        check(Expect(f"people.reveal_{field_name}", person, user, ip=ip, secrets=(value,)), since)
    # the pages and the API show masks only: no full number leaves without a logged reveal
    for url in (f"/people/persons/{person.pk}/", f"/api/persons/{person.pk}/", "/api/persons/",
                f"/people/households/{person.household_id}/"):
        body = client.get(url).content.decode()
        assert person.id_number_plain() not in body and person.phone_plain() not in body, url


# --------------------------------------------------------------------------- append-only


def test_audit_log_is_append_only(demo_user):
    entry = AuditEntry.objects.order_by("pk").first()
    original = (entry.action, entry.reason, entry.allowed)
    entry.reason = "篡改"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).update(reason="篡改")
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.visible_to(demo_user("auditor")).update(allowed=False)
    entry = AuditEntry.objects.get(pk=entry.pk)
    assert (entry.action, entry.reason, entry.allowed) == original


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the database trigger exists on PostgreSQL only")
def test_audit_log_refuses_raw_sql_changes_on_postgresql(db):
    from django.db import DatabaseError

    entry = AuditEntry.objects.order_by("pk").first()
    for sql in ("UPDATE core_auditentry SET reason = 'x' WHERE id = %s", "DELETE FROM core_auditentry WHERE id = %s"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])
    assert AuditEntry.objects.filter(pk=entry.pk, reason=entry.reason).exists()


def test_deleting_a_user_leaves_their_entries_as_written(db):
    user = account_actions.create_user(username="audit_gone", password="Audit@2023x", by=None)
    account_actions.set_password(user, password="Other@2023x", by=user)
    entries = list(AuditEntry.objects.filter(actor_id=user.pk).values_list("pk", "actor_id", "actor_label"))
    assert entries
    user.delete()
    assert list(AuditEntry.objects.filter(pk__in=[e[0] for e in entries]).values_list(
        "pk", "actor_id", "actor_label")) == entries


def test_no_page_or_api_writes_to_the_audit_log(demo_user):
    client = client_for(demo_user("auditor"))
    routes = [e for e in testing.walk() if e.model is AuditEntry]
    assert routes, "the audit log has a page"
    count = AuditEntry.objects.count()
    for e in routes:
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            assert send(client, method, e.url(), {"reason": "x"}).status_code == 405, (e.route, method)
    assert AuditEntry.objects.count() == count


# --------------------------------------------------------------------------- signing in


def _login(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_sign_in_success_failure_and_logout_are_audited(demo_user):
    user = demo_user("wlne_secretary")
    client = Client()
    since = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    assert _login(client, "wlne_secretary", "Wrong@2023x").status_code == 200
    failure = AuditEntry.objects.get(pk__gt=since, action="accounts.login", allowed=False)
    assert failure.actor_label == "wlne_secretary" and failure.ip == HTTP_IP and failure.reason
    assert "Wrong@2023x" not in json.dumps(failure.changes, ensure_ascii=False) + failure.reason
    assert failure.region_path == region(WLNE).path  # so the auditor of the town sees it

    since = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    assert _login(client, "wlne_secretary", DEMO_PASSWORD).status_code == 302
    check(Expect("accounts.login", user, user, ip=HTTP_IP), since)

    since = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    assert client.post("/accounts/logout/").status_code == 302
    check(Expect("accounts.logout", user, user, ip=HTTP_IP), since)

    since = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    _login(Client(), "no_such_user", "Wrong@2023x")
    unknown = AuditEntry.objects.get(pk__gt=since, action="accounts.login", allowed=False)
    assert unknown.actor_id is None and unknown.actor_label == "no_such_user" and unknown.ip == HTTP_IP


def test_lockout_after_five_failures_is_audited(demo_user):
    user = demo_user("nlxl_secretary")
    client = Client()
    since = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    for _ in range(5):
        _login(client, "nlxl_secretary", "Wrong@2023x")
    lockout = AuditEntry.objects.filter(pk__gt=since, action="accounts.lockout", allowed=False)
    assert lockout.count() == 1
    entry = lockout.get()
    assert entry.actor_label == "nlxl_secretary" and entry.ip == HTTP_IP and entry.reason
    assert entry.region_path == region(NLXL).path
    assert AuditEntry.objects.filter(pk__gt=since, action="accounts.login", allowed=False).count() >= 4
    # locked: even the right password is refused now, and no session is opened
    r = _login(client, "nlxl_secretary", DEMO_PASSWORD)
    assert r.status_code != 302
    assert "_auth_user_id" not in client.session
    assert not AuditEntry.objects.filter(pk__gt=since, action="accounts.login", allowed=True, actor=user).exists()
