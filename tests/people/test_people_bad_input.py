"""Bad input to the household registry, through each of the three doors — the action, the web form and
the API: every case answers with a Chinese message naming the field (beside the field on a page,
HTTP 400 ``{"detail", "field"}`` from the API), and nothing is written: the row counts and the audit
log are the same before and after. A forged object id answers 404.
"""
import contextlib
import datetime
import re

import pytest

from yiwang.accounts.models import RoleAssignment, User
from yiwang.areas.actions import get_region
from yiwang.areas.models import Region
from yiwang.core import crypto
from yiwang.core.errors import ActionError
from yiwang.core.idnumber import check_digit, make_id_number
from yiwang.core.models import AuditEntry
from yiwang.people import actions
from yiwang.people.models import Household, Person, Tag

WLNE = "150627105215"  # 乌兰淖尔村: the secretary's own village
NLXL = "150627105214"  # 纳林希里村: the sibling village
CJK = re.compile(r"[\u4e00-\u9fff]")
FORGED = 2_000_000_000


def counts():
    return {m.__name__: m.objects.count() for m in (Household, Person, Region, AuditEntry, Tag, User, RoleAssignment)}


@contextlib.contextmanager
def nothing_written(*objects):
    """Row counts of every table the registry touches, the audit log and the given objects' fields."""
    before = counts()
    rows = [(type(o), o.pk, type(o).objects.filter(pk=o.pk).values().get()) for o in objects]
    yield
    assert counts() == before
    for model, pk, values in rows:
        assert model.objects.filter(pk=pk).values().get() == values


def chinese(text):
    assert CJK.search(text), f"message not in Chinese: {text!r}"
    return text


def fresh_id(day=datetime.date(1991, 7, 9)):
    for seq in range(1, 1000):
        number = make_id_number("150627", day, seq)
        if not Person.objects.filter(id_hash=crypto.lookup_hash(number)).exists():
            return number
    raise AssertionError("no free sequence number")


def with_check(first17):
    return first17 + check_digit(first17)


@pytest.fixture
def login(db):
    """A client signed in as a demo user without the password round (the sign-in itself is tested in
    tests/accounts; hashing the password for each of these cases would dominate their time)."""
    from django.test import Client

    def make(username):
        client = Client()
        client.force_login(User.objects.get(username=username), backend="django.contrib.auth.backends.ModelBackend")
        return client

    return make


@pytest.fixture
def wlne(login):
    return login("wlne_secretary")


@pytest.fixture
def secretary(demo_user):
    return demo_user("wlne_secretary")


@pytest.fixture
def household():
    return Household.objects.filter(village__code=WLNE).order_by("number").first()


def existing_id_number():
    """A number already registered (in the sibling village: a duplicate is refused town-wide)."""
    return Person.objects.filter(household__village__code=NLXL).order_by("id").first().id_number_plain()


def wrong_checksum():
    number = fresh_id()
    return number[:17] + ("0" if number[17] != "0" else "1")


FUTURE = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()

# (case id, field, input overrides). Callables are evaluated inside the test (they read the database).
PERSON_CASES = [
    ("wrong-checksum", "id_number", {"id_number": wrong_checksum}),
    ("impossible-birth-date", "id_number", {"id_number": lambda: with_check("15062719990230123")}),
    ("future-birth-date", "id_number", {"id_number": lambda: make_id_number("150627", datetime.date(2099, 1, 1), 1)}),
    ("unknown-area-code", "id_number", {"id_number": lambda: make_id_number("999999", datetime.date(1990, 1, 1), 1)}),
    ("id-wrong-length", "id_number", {"id_number": "15062719900101123"}),
    ("duplicate-id-number", "id_number", {"id_number": existing_id_number}),
    ("name-51-chars", "name", {"name": "张" * 51}),
    ("name-script", "name", {"name": "<script>alert(1)</script>"}),
    ("name-nul", "name", {"name": "张\x00三"}),
    ("name-bidi-override", "name", {"name": "\u202e明小王"}),
    ("name-blank", "name", {"name": "   "}),
    ("date-impossible", "registered_on", {"registered_on": "2023-02-30"}),
    ("date-garbage", "registered_on", {"registered_on": "去年春天"}),
    ("date-future", "registered_on", {"registered_on": FUTURE}),
    ("phone-short", "phone", {"phone": "12345"}),
    ("phone-letters", "phone", {"phone": "1381234567a"}),
    ("phone-foreign", "phone", {"phone": "+1 555 0100"}),
    ("phone-script", "phone", {"phone": "<script>alert(1)</script>"}),
    ("second-head", "relation", {"relation": "head"}),
]


def person_input(overrides):
    data = {"name": "王小明", "id_number": fresh_id(), "phone": "13912345678", "political_status": "masses",
            "relation": "child", "status": "living", "registered_on": "2023-01-01"}
    data.update({k: v() if callable(v) else v for k, v in overrides.items()})
    return data


@pytest.mark.parametrize("case, field, overrides", PERSON_CASES, ids=[c[0] for c in PERSON_CASES])
def test_add_person_bad_input_action(case, field, overrides, secretary, household):
    data = person_input(overrides)
    if case == "second-head":
        assert household.head_id is not None
    with nothing_written(household), pytest.raises(ActionError) as info:
        actions.add_person(household, by=secretary, **data)
    assert info.value.field == field
    chinese(info.value.text)


@pytest.mark.parametrize("case, field, overrides", PERSON_CASES, ids=[c[0] for c in PERSON_CASES])
def test_add_person_bad_input_form(case, field, overrides, wlne, household):
    data = person_input(overrides)
    with nothing_written(household):
        response = wlne.post(f"/people/households/{household.pk}/members/new/", data)
    assert response.status_code == 200  # the form again, not a redirect
    form = response.context["form"]
    assert list(form.errors) == [field], form.errors
    message = chinese(form.errors[field][0])
    html = response.content.decode()
    # the message is rendered in the field's own block, after its input
    block = html[html.index(f'name="{field}"'):]
    block = block[:block.index('<div class="mb-3">')] if '<div class="mb-3">' in block else block
    assert "invalid-feedback" in block
    from django.utils.html import escape

    assert escape(message) in block


@pytest.mark.parametrize("case, field, overrides", PERSON_CASES, ids=[c[0] for c in PERSON_CASES])
def test_add_person_bad_input_api(case, field, overrides, wlne, household):
    data = {**person_input(overrides), "household": household.number}
    with nothing_written(household):
        response = wlne.post("/api/persons/", data, content_type="application/json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["field"] == field, body
    chinese(body["detail"])


HOUSEHOLD_CASES = [
    ("grid-of-other-village", "grid", {"grid": NLXL + "01"}),
    ("unknown-village-code", "village", {"village": "999999999999"}),
    ("town-as-village", "village", {"village": "150627105"}),
    ("duplicate-number", "number", {"number": lambda: Household.objects.filter(village__code=WLNE).first().number}),
    ("number-script", "number", {"number": "<script>alert(1)</script>"}),
    ("number-spaces", "number", {"number": "A 1"}),
    ("address-script", "address", {"address": "<script>alert(1)</script>"}),
    ("address-nul", "address", {"address": "一组\x00三号"}),
    ("address-201-chars", "address", {"address": "长" * 201}),
    ("date-impossible", "registered_on", {"registered_on": "2023-02-30"}),
    ("date-garbage", "registered_on", {"registered_on": "2023年13月1日"}),
    ("date-future", "registered_on", {"registered_on": FUTURE}),
]


def household_input(overrides):
    data = {"number": "T-BAD-0001", "village": WLNE, "grid": WLNE + "01", "address": "乌兰淖尔1组1号",
            "registered_on": "2023-01-01"}
    data.update({k: v() if callable(v) else v for k, v in overrides.items()})
    return data


def household_action_kwargs(data, user):
    """The action takes regions, not codes: look them up as every door does (an unknown code is the
    region lookup's error, named after the field it came from)."""
    kwargs = dict(data)
    kwargs["village"] = get_region(data["village"], user=user, field="village")
    kwargs["grid"] = get_region(data["grid"], user=user, field="grid") if data.get("grid") else None
    return kwargs


@pytest.mark.parametrize("case, field, overrides", HOUSEHOLD_CASES, ids=[c[0] for c in HOUSEHOLD_CASES])
@pytest.mark.parametrize("username", ["wlne_secretary", "town_admin"])
def test_create_household_bad_input_action(case, field, overrides, username, demo_user):
    user = demo_user(username)
    data = household_input(overrides)
    with nothing_written(), pytest.raises(ActionError) as info:
        actions.create_household(by=user, **household_action_kwargs(data, user))
    assert info.value.field == field
    chinese(info.value.text)


@pytest.mark.parametrize("case, field, overrides", HOUSEHOLD_CASES, ids=[c[0] for c in HOUSEHOLD_CASES])
@pytest.mark.parametrize("username", ["wlne_secretary", "town_admin"])
def test_create_household_bad_input_form(case, field, overrides, username, login):
    client = login(username)
    with nothing_written():
        response = client.post("/people/households/new/", household_input(overrides))
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == [field], form.errors
    chinese(form.errors[field][0])


@pytest.mark.parametrize("case, field, overrides", HOUSEHOLD_CASES, ids=[c[0] for c in HOUSEHOLD_CASES])
@pytest.mark.parametrize("username", ["wlne_secretary", "town_admin"])
def test_create_household_bad_input_api(case, field, overrides, username, login):
    client = login(username)
    with nothing_written():
        response = client.post("/api/households/", household_input(overrides), content_type="application/json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["field"] == field, body
    chinese(body["detail"])


def test_nul_byte_message_says_what_is_wrong(wlne, household):
    """Django's own Chinese text for a NUL byte says "empty strings are not allowed"; ours says what it is."""
    data = person_input({"name": "张\x00三"})
    page = wlne.post(f"/people/households/{household.pk}/members/new/", data)
    api = wlne.post("/api/persons/", {**data, "household": household.number}, content_type="application/json")
    assert "控制字符" in page.context["form"].errors["name"][0]
    assert api.json()["field"] == "name" and "控制字符" in api.json()["detail"]
    with pytest.raises(ActionError, match="控制字符"):
        actions.add_person(household, by=User.objects.get(username="wlne_secretary"), **data)


def test_grid_of_another_village_is_named(demo_user):
    """The town admin sees both villages: the refusal says which grid does not belong where."""
    admin = demo_user("town_admin")
    village, grid = Region.objects.get(code=WLNE), Region.objects.get(code=NLXL + "01")
    with nothing_written(), pytest.raises(ActionError) as info:
        actions.create_household(number="T-BAD-0002", village=village, grid=grid, registered_on="2023-01-01",
                                 by=admin)
    assert grid.name in info.value.text and "不属于" in info.value.text


def test_unknown_region_code(demo_user):
    for code in ("999999999999", "15062710599", "", "<script>"):
        with nothing_written(), pytest.raises(ActionError) as info:
            get_region(code, user=demo_user("town_admin"))
        assert info.value.field == "region" and "不存在" in info.value.text


# ---- moving and editing: bad input leaves the record as it was ----------------------------------------

def test_move_to_grid_of_another_village(secretary, household, demo_user, wlne):
    other_grid = Region.objects.get(code=NLXL + "01")
    for user in (secretary, demo_user("town_admin")):
        with nothing_written(household), pytest.raises(ActionError) as info:
            actions.move_household(household, grid=other_grid, by=user)
        assert info.value.field == "grid"
        chinese(info.value.text)
    with nothing_written(household):
        page = wlne.post(f"/people/households/{household.pk}/move/", {"grid": other_grid.code})
        api = wlne.post(f"/api/households/{household.pk}/move/", {"grid": other_grid.code},
                        content_type="application/json")
    assert page.status_code == 200 and list(page.context["form"].errors) == ["grid"]
    assert api.status_code == 400 and api.json()["field"] == "grid"


@pytest.mark.parametrize("field, value", [
    ("address", "<script>alert(1)</script>"), ("address", "a\x00b"), ("address", "长" * 201),
    ("registered_on", "2023-02-30"), ("closed_on", "not a date"),
])
def test_update_household_bad_input(field, value, secretary, household, wlne):
    with nothing_written(household), pytest.raises(ActionError) as info:
        actions.update_household(household, by=secretary, **{field: value})
    assert info.value.field == field
    chinese(info.value.text)
    if field != "closed_on":  # the edit page has address and registered_on
        form = {"address": household.address, "registered_on": household.registered_on.isoformat(), field: value}
        with nothing_written(household):
            page = wlne.post(f"/people/households/{household.pk}/edit/", form)
        assert page.status_code == 200 and list(page.context["form"].errors) == [field]
    with nothing_written(household):
        api = wlne.patch(f"/api/households/{household.pk}/", {field: value}, content_type="application/json")
    assert api.status_code == 400 and api.json()["field"] == field, api.content
    chinese(api.json()["detail"])


@pytest.mark.parametrize("field, value", [
    ("name", "<script>alert(1)</script>"), ("name", "x\x00y"), ("name", "名" * 51), ("name", ""),
    ("phone", "12345"), ("phone", "<b>13812345678</b>"),
    ("political_status", "党员吧"), ("relation", "邻居"), ("status", "失踪"),
])
def test_update_person_bad_input(field, value, secretary, household, wlne):
    person = household.members.exclude(relation="head").order_by("id").first() or household.members.first()
    with nothing_written(person, household), pytest.raises(ActionError) as info:
        actions.update_person(person, by=secretary, **{field: value})
    assert info.value.field == field
    chinese(info.value.text)
    form = {"name": person.name, "phone": "", "political_status": person.political_status,
            "relation": person.relation, "status": person.status, field: value}
    with nothing_written(person, household):
        page = wlne.post(f"/people/persons/{person.pk}/edit/", form)
    assert page.status_code == 200 and list(page.context["form"].errors) == [field], page.status_code
    chinese(page.context["form"].errors[field][0])
    with nothing_written(person, household):
        api = wlne.patch(f"/api/persons/{person.pk}/", {field: value}, content_type="application/json")
    assert api.status_code == 400 and api.json()["field"] == field, api.content
    chinese(api.json()["detail"])


# ---- forged ids: 404, and nothing written ----------------------------------------------------------------

def other_village_household():
    return Household.objects.filter(village__code=NLXL).order_by("number").first()


@pytest.mark.parametrize("method, url, data", [
    ("get", "/people/households/{hh}/", None),
    ("get", "/people/households/{hh}/edit/", None),
    ("post", "/people/households/{hh}/edit/", {"address": "改", "registered_on": "2023-01-01"}),
    ("post", "/people/households/{hh}/move/", {"grid": WLNE + "02"}),
    ("post", "/people/households/{hh}/members/new/", {"name": "李四", "registered_on": "2023-01-01"}),
    ("get", "/people/persons/{p}/", None),
    ("post", "/people/persons/{p}/edit/", {"name": "李四", "political_status": "masses", "relation": "child",
                                           "status": "living"}),
    ("post", "/people/persons/{p}/reveal/id_number/", {}),
    ("get", "/api/households/{hh}/", None),
    ("patch", "/api/households/{hh}/", {"address": "改"}),
    ("put", "/api/households/{hh}/", {"address": "改", "registered_on": "2023-01-01"}),
    ("post", "/api/households/{hh}/move/", {"grid": WLNE + "02"}),
    ("get", "/api/persons/{p}/", None),
    ("patch", "/api/persons/{p}/", {"name": "李四"}),
    ("post", "/api/persons/{p}/reveal/id_number/", {}),
    ("post", "/api/persons/{p}/reveal/phone/", {}),
])
@pytest.mark.parametrize("target", ["forged", "sibling-village"])
def test_forged_or_foreign_id_is_404(method, url, data, target, wlne):
    if target == "forged":
        hh = p = FORGED
    else:
        household = other_village_household()
        hh, p = household.pk, household.members.order_by("id").first().pk
    kwargs = {"content_type": "application/json"} if url.startswith("/api/") and data is not None else {}
    with nothing_written():
        response = getattr(wlne, method)(url.format(hh=hh, p=p), data, **kwargs)
    assert response.status_code == 404


@pytest.mark.parametrize("url", ["/people/households/abc/", "/people/persons/-1/", "/api/households/abc/",
                                 "/api/persons/1%00/", "/people/households/99999999999999999999999/"])
def test_malformed_ids_are_404(url, wlne):
    assert wlne.get(url).status_code == 404
