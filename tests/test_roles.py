"""Roles beyond the village secretaries: 三员分立 (system, security and audit administrators apart), the
read-only banner leader, and the grid worker held to one grid.

- the auditor reads the audit log and nothing of the registry; nobody else reads the audit log;
- the system and security administrators manage accounts but read no household or person;
- the banner viewer reads the whole banner but every write (page, API, action) is refused, audited,
  and changes nothing;
- the grid worker sees exactly the households of their grid, not the rest of the village.
"""
import json

import pytest
from django.test import Client

from yiwang.areas.models import Region
from yiwang.core import testing
from yiwang.core.models import AuditEntry
from yiwang.people.models import Household, Person

TOWN, WLNE, GRID = "150627105", "150627105215", "15062710521501"


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def post_json(client, url, body, method="POST"):
    return client.generic(method, url, json.dumps(body), content_type="application/json")


def region(code):
    return Region.objects.get(code=code)


def some_household():
    return Household.objects.filter(region_path__startswith=region(WLNE).path).order_by("pk").first()


@pytest.mark.parametrize("username", ["auditor", "sysadmin", "secadmin"])
def test_administrators_read_no_household_or_person(username, demo_user):
    user = demo_user(username)
    client = client_for(user)
    household = some_household()
    person = household.members.order_by("pk").first()
    assert not Household.objects.visible_to(user).exists()
    assert not Person.objects.visible_to(user).exists()
    for url in ("/people/households/", "/people/persons/"):
        r = client.get(url)
        assert r.status_code == 403, (url, r.status_code)  # a module the role holds nowhere
        assert household.number not in r.content.decode()
    for url in ("/api/households/", "/api/persons/"):
        data = client.get(url).json()
        assert data["count"] == 0 and data["results"] == [], url
    for url in (f"/people/households/{household.pk}/", f"/people/persons/{person.pk}/",
                f"/api/households/{household.pk}/", f"/api/persons/{person.pk}/"):
        assert client.get(url).status_code == 404, url
    for url in (f"/people/persons/{person.pk}/reveal/id_number/", f"/api/persons/{person.pk}/reveal/id_number/"):
        assert client.post(url).status_code == 404, url
    figures = client.get("/api/metrics/", {"region": TOWN, "asof": "2023-06-30"})
    assert figures.status_code in (200, 404)
    if figures.status_code == 200:
        assert not [k for k in figures.json() if k.startswith("people.")]


def test_only_the_auditor_reads_the_audit_log(demo_user):
    auditor = demo_user("auditor")
    r = client_for(auditor).get("/accounts/audit/")
    assert r.status_code == 200
    assert r.context["table"].paginator.count == AuditEntry.objects.visible_to(auditor).count() > 0
    for username in ("sysadmin", "secadmin", "town_admin", "town_leader", "banner_viewer", "wlne_secretary",
                     "wlne_grid1"):
        user = demo_user(username)
        assert not AuditEntry.objects.visible_to(user).exists(), username
        assert client_for(user).get("/accounts/audit/").status_code == 403, username


def test_auditor_sees_events_tied_to_no_region(demo_user):
    """Sign-in failures for unknown names and new accounts belong to no region: the auditor sees them."""
    from yiwang.accounts import actions

    auditor = demo_user("auditor")
    Client().post("/accounts/login/", {"username": "nobody_here", "password": "Guess@2023x"})
    user = actions.create_user(username="fresh_account", password="Fresh@2023x", by=demo_user("sysadmin"))
    visible = AuditEntry.objects.visible_to(auditor)
    assert visible.filter(action="accounts.login", allowed=False, actor_label="nobody_here").exists()
    assert visible.filter(action="accounts.create_user", object_id=str(user.pk)).exists()
    body = client_for(auditor).get("/accounts/audit/").content.decode()
    assert "nobody_here" in body and "fresh_account" in body
    for username in ("wlne_secretary", "sysadmin", "town_admin"):
        assert not AuditEntry.objects.visible_to(demo_user(username)).exists(), username


def test_account_administration_is_split(demo_user):
    """The system admin creates users but cannot grant roles; the security admin grants but cannot create."""
    from yiwang.accounts import actions
    from yiwang.core.errors import PermissionRefused

    sysadmin, secadmin = demo_user("sysadmin"), demo_user("secadmin")
    user = actions.create_user(username="split_test", password="Split@2023x", by=sysadmin)
    with pytest.raises(PermissionRefused):
        actions.create_user(username="split_test2", password="Split@2023x", by=secadmin)
    with pytest.raises(PermissionRefused):
        actions.assign_role(user, role="village_cadre", region=region(WLNE), by=sysadmin)
    actions.assign_role(user, role="village_cadre", region=region(WLNE), by=secadmin)
    assert user.scope_paths("people.view") == [region(WLNE).path]


# --------------------------------------------------------------------------- banner viewer


def test_banner_viewer_reads_the_whole_banner(demo_user):
    user = demo_user("banner_viewer")
    client = client_for(user)
    banner = region("150627")
    assert client.get("/api/households/").json()["count"] == testing.under(Household, banner).count() > 0
    household = some_household()
    person = household.members.order_by("pk").first()
    for url in (f"/people/households/{household.pk}/", f"/people/persons/{person.pk}/",
                f"/api/households/{household.pk}/", f"/api/persons/{person.pk}/"):
        assert client.get(url).status_code == 200, url
    data = client.get(f"/api/persons/{person.pk}/").json()
    assert "*" in data["id_number"]  # masked: reading is not revealing
    assert client.get("/api/metrics/", {"region": TOWN, "asof": "2023-06-30"}).json()["people.households"] > 0


def _refusals(user):
    return AuditEntry.objects.filter(actor=user, allowed=False).count()


def test_banner_viewer_cannot_write(demo_user):
    user = demo_user("banner_viewer")
    client = client_for(user)
    household = some_household()
    person = household.members.order_by("pk").first()
    grid = region(GRID)
    other_grid = region(WLNE).children.exclude(pk=household.grid_id).filter(kind="grid").first()
    before = (Household.objects.count(), Person.objects.count(), Region.objects.count(),
              testing.under(Household, region(WLNE)).order_by("pk").values_list("updated_at", flat=True)[0])
    attempts = [
        ("POST", "/api/households/", {"number": "BV-1", "village": WLNE, "grid": GRID, "registered_on": "2020-01-01"}),
        ("PATCH", f"/api/households/{household.pk}/", {"address": "改"}),
        ("PUT", f"/api/households/{household.pk}/", {"address": "改"}),
        ("POST", f"/api/households/{household.pk}/move/", {"grid": other_grid.code}),
        ("POST", "/api/persons/", {"household": household.number, "name": "改", "id_number": "150627199001011234",
                                   "registered_on": "2020-01-01"}),
        ("PATCH", f"/api/persons/{person.pk}/", {"name": "改"}),
        ("POST", f"/api/persons/{person.pk}/reveal/id_number/", {}),
        ("POST", f"/api/regions/{WLNE}/grids/", {"code": f"{WLNE}99", "name": "改"}),
    ]
    for method, url, body in attempts:
        refused = _refusals(user)
        r = post_json(client, url, body, method)
        assert r.status_code == 403, (method, url, r.status_code, r.content[:200])
        assert _refusals(user) == refused + 1, (method, url)
    pages = [
        (f"/people/households/{household.pk}/edit/", {"address": "改", "registered_on": "2020-01-01"}),
        (f"/people/households/{household.pk}/move/", {"grid": grid.code}),
        ("/people/households/new/", {"number": "BV-2", "village": WLNE, "registered_on": "2020-01-01"}),
        (f"/people/persons/{person.pk}/edit/", {"name": "改", "political_status": "masses", "relation": "other",
                                                "status": "living"}),
        (f"/people/persons/{person.pk}/reveal/phone/", {}),
        (f"/areas/{WLNE}/grids/new/", {"code": f"{WLNE}98", "name": "改"}),
        (f"/areas/{GRID}/edit/", {"name": "改", "note": "改"}),
    ]
    for url, body in pages:
        refused = _refusals(user)
        r = client.post(url, body)
        assert r.status_code == 403, (url, r.status_code)
        assert _refusals(user) == refused + 1, url
    after = (Household.objects.count(), Person.objects.count(), Region.objects.count(),
             testing.under(Household, region(WLNE)).order_by("pk").values_list("updated_at", flat=True)[0])
    assert after == before
    assert not AuditEntry.objects.filter(actor=user, allowed=True).exclude(action="accounts.login").exists()


# --------------------------------------------------------------------------- grid worker


def test_grid_worker_sees_only_their_grid(demo_user):
    user = demo_user("wlne_grid1")
    client = client_for(user)
    grid, village = region(GRID), region(WLNE)
    mine = Household.objects.filter(grid=grid)
    assert mine.exists()
    assert set(Household.objects.visible_to(user)) == set(mine)
    assert set(Person.objects.visible_to(user)) == set(Person.objects.filter(household__grid=grid))
    assert list(Region.objects.visible_to(user)) == [grid]

    assert client.get("/api/households/").json()["count"] == mine.count()
    page = client.get("/people/households/", {"per_page": 500})
    assert {h.pk for h in page.context["table"].data} == set(mine.values_list("pk", flat=True))

    neighbour = Household.objects.filter(village=village).exclude(grid=grid).order_by("pk").first()
    neighbour_person = neighbour.members.order_by("pk").first()
    for url in (f"/people/households/{neighbour.pk}/", f"/api/households/{neighbour.pk}/",
                f"/people/persons/{neighbour_person.pk}/", f"/api/persons/{neighbour_person.pk}/",
                f"/areas/{village.code}/", f"/api/regions/{village.code}/"):
        assert client.get(url).status_code == 404, url
    assert client.get("/api/metrics/", {"region": village.code}).status_code == 404
    assert client.get("/api/metrics/", {"region": grid.code, "asof": "2023-06-30"}).json()[
        "people.households"] == mine.count()

    own = mine.order_by("pk").first()
    other_grid = village.children.filter(kind="grid").exclude(pk=grid.pk).first()
    r = post_json(client, f"/api/households/{own.pk}/move/", {"grid": other_grid.code})
    assert r.status_code == 400  # the neighbouring grid is not one the worker can name
    assert Household.objects.get(pk=own.pk).grid_id == grid.pk


def test_the_audit_log_lists_newest_first_and_sorts_by_time_through_the_id(demo_user):
    """The time has no index (decision 0012): the log is ordered by id, which follows the time of an
    append-only log — by default and when the auditor sorts by the time column either way."""
    from yiwang.core import audit

    auditor = demo_user("auditor")
    for n in range(3):
        audit.record(f"test.newest_{n}", by=auditor)
    client = client_for(auditor)
    newest = list(AuditEntry.objects.order_by("-id").values_list("id", flat=True)[:3])
    for params, expected in (({}, newest), ({"sort": "-at"}, newest)):
        rows = list(client.get("/accounts/audit/", params).context["table"].page.object_list)
        assert [row.record.id for row in rows[:3]] == expected, params
        times = [row.record.at for row in rows]
        assert times == sorted(times, reverse=True), params
    rows = list(client.get("/accounts/audit/", {"sort": "at"}).context["table"].page.object_list)
    oldest = list(AuditEntry.objects.visible_to(auditor).order_by("id").values_list("id", flat=True)[:3])
    assert [row.record.id for row in rows[:3]] == oldest
