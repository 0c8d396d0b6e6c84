"""The household registry as a village secretary uses it: search, create, edit, move, tags — through
the pages and the API, each write visible in the records and the audit log."""
import datetime

import pytest

from yiwang.areas.models import Region
from yiwang.core.idnumber import make_id_number
from yiwang.core.models import AuditEntry
from yiwang.people.models import Household, Person

WLNE = "150627105215"


def _fresh_id(day=datetime.date(1988, 3, 14)):
    for seq in range(1, 1000):
        number = make_id_number("150627", day, seq)
        from yiwang.core import crypto

        if not Person.objects.filter(id_hash=crypto.lookup_hash(number)).exists():
            return number
    raise AssertionError("no free sequence")


@pytest.fixture
def wlne(login):
    return login("wlne_secretary")


def test_search_by_name_initials_and_last_digits(wlne, demo_user):
    person = Person.objects.visible_to(demo_user("wlne_secretary")).order_by("id").first()
    for q in (person.name, person.name_initials, person.id_suffix):
        page = wlne.get("/people/persons/", {"q": q})
        assert page.status_code == 200
        assert person.name in page.content.decode(), q
        api = wlne.get("/api/persons/", {"q": q}).json()
        assert person.id in [r["id"] for r in api["results"]] or api["count"] > 50, q
    # the full number finds exactly that person through the keyed hash
    api = wlne.get("/api/persons/", {"q": person.id_number_plain()}).json()
    assert [r["id"] for r in api["results"]] == [person.id]


def test_search_never_reaches_outside_scope(wlne):
    other = Person.objects.filter(household__village__code="150627105214").order_by("id").first()
    api = wlne.get("/api/persons/", {"q": other.id_number_plain()}).json()
    assert api["count"] == 0


def test_create_household_and_member_through_pages(wlne):
    village = Region.objects.get(code=WLNE)
    grid = village.children.order_by("code").first()
    response = wlne.post("/people/households/new/", {
        "number": "T-WLNE-0001", "village": WLNE, "grid": grid.code, "address": "乌兰淖尔3组8号",
        "registered_on": "2023-05-01", "tags": ["dibao"]})
    assert response.status_code == 302, response.content.decode()[:2000]
    household = Household.objects.get(number="T-WLNE-0001")
    assert household.region_path == grid.path and [t.code for t in household.tags.all()] == ["dibao"]
    number = _fresh_id()
    response = wlne.post(f"/people/households/{household.pk}/members/new/", {
        "name": "张三", "id_number": number.lower(), "phone": "138 1234-5678", "political_status": "member",
        "relation": "head", "status": "living", "registered_on": "2023-05-01"})
    assert response.status_code == 302, response.content.decode()[:2000]
    person = Person.objects.get(household=household)
    household.refresh_from_db()
    assert household.head == person
    assert person.name_initials == "ZS" and person.gender in ("M", "F")
    assert person.birth_date == datetime.date(1988, 3, 14)
    assert person.id_number_plain() == number and person.phone_plain() == "13812345678"
    # stored protected: no clear ID number or phone in any column
    raw = Person.objects.filter(pk=person.pk).values().get()
    assert number not in str(raw) and "13812345678" not in str(raw)
    detail = wlne.get(f"/people/persons/{person.pk}/").content.decode()
    assert number not in detail and person.id_masked in detail
    actions = set(AuditEntry.objects.filter(object_id__in=[str(household.pk), str(person.pk)])
                  .values_list("action", flat=True))
    assert {"people.create_household", "people.add_person"} <= actions


def test_move_household_between_grids_page_and_api(wlne):
    village = Region.objects.get(code=WLNE)
    grids = list(village.children.order_by("code"))
    household = Household.objects.filter(village=village, grid=grids[0]).order_by("id").first()
    response = wlne.post(f"/people/households/{household.pk}/move/", {"grid": grids[1].code})
    assert response.status_code == 302
    household.refresh_from_db()
    assert household.grid == grids[1] and household.region_path == grids[1].path
    response = wlne.post(f"/api/households/{household.pk}/move/", {"grid": grids[2].code},
                         content_type="application/json")
    assert response.status_code == 200 and response.json()["grid"] == grids[2].code
    entry = AuditEntry.objects.filter(action="people.move_household", object_id=str(household.pk)).first()
    assert entry.changes["grid"] == [str(grids[1].pk), str(grids[2].pk)]


def test_move_to_a_grid_of_another_village_is_404_material(wlne):
    household = Household.objects.filter(village__code=WLNE).order_by("id").first()
    foreign_grid = Region.objects.filter(parent__code="150627105214", kind="grid").first()
    response = wlne.post(f"/api/households/{household.pk}/move/", {"grid": foreign_grid.code},
                         content_type="application/json")
    assert response.status_code == 400  # the grid does not exist for this user
    household.refresh_from_db()
    assert household.grid.parent.code == WLNE


def test_edit_person_through_api_records_diff(wlne, demo_user):
    person = Person.objects.visible_to(demo_user("wlne_secretary")).filter(status="living").order_by("id").first()
    response = wlne.patch(f"/api/persons/{person.pk}/", {"political_status": "league"},
                          content_type="application/json")
    assert response.status_code == 200, response.content
    person.refresh_from_db()
    assert person.political_status == "league"
    entry = AuditEntry.objects.filter(action="people.update_person", object_id=str(person.pk)).latest("id")
    assert entry.changes["political_status"][1] == "league"


def test_the_last_four_digits_are_found_through_their_index(wlne, demo_user):
    """Four digits are the end of an ID number, which no name holds: the search matches them alone, so
    the id_suffix index serves it (ORed with the name, which no index serves, every person was read)."""
    from django.db import connection

    from yiwang.people.filtersets import person_search_q

    person = Person.objects.visible_to(demo_user("wlne_secretary")).order_by("id").first()
    api = wlne.get("/api/persons/", {"q": person.id_suffix}).json()
    assert api["count"] > 0 and all(r["id_number"].endswith(person.id_suffix) for r in api["results"])
    sql, params = Person.objects.filter(person_search_q(person.id_suffix)).values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")  # the planner's choice on a small table aside
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "person_id_suffix_idx" in plan, plan
