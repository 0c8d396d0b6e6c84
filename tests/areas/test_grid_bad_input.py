"""Creating a grid (网格) with bad input, through the action, the page and the API: a grid code must
extend its own village's code by 1–3 digits; a bad code or name gets a Chinese message naming the field
and nothing is written. A grid for a village outside one's scope, or a forged code: 404.
"""
import contextlib
import re

import pytest
from django.test import Client

from yiwang.accounts.models import User
from yiwang.areas.actions import create_grid, update_region
from yiwang.areas.models import Region
from yiwang.core.errors import ActionError
from yiwang.core.models import AuditEntry

WLNE = "150627105215"
NLXL = "150627105214"
TOWN = "150627105"
CJK = re.compile(r"[\u4e00-\u9fff]")

pytestmark = pytest.mark.django_db


@contextlib.contextmanager
def nothing_written():
    before = (list(Region.objects.values_list("code", "name", "path", "note")), AuditEntry.objects.count())
    yield
    assert (list(Region.objects.values_list("code", "name", "path", "note")), AuditEntry.objects.count()) == before


@pytest.fixture
def client_for(db):
    def make(username):
        client = Client()
        client.force_login(User.objects.get(username=username), backend="django.contrib.auth.backends.ModelBackend")
        return client

    return make


CASES = [
    ("code-of-sibling-village", "code", {"code": NLXL + "99"}),
    ("code-of-the-town", "code", {"code": TOWN + "99"}),
    ("code-is-the-village", "code", {"code": WLNE}),
    ("code-four-more-digits", "code", {"code": WLNE + "0001"}),
    ("code-letters", "code", {"code": WLNE + "AB"}),
    ("code-script", "code", {"code": "<script>"}),
    ("code-blank", "code", {"code": ""}),
    ("code-exists", "code", {"code": WLNE + "01"}),
    ("name-script", "name", {"name": "<script>alert(1)</script>"}),
    ("name-nul", "name", {"name": "第\x00网格"}),
    ("name-101-chars", "name", {"name": "网" * 101}),
    ("name-blank", "name", {"name": ""}),
]


def grid_input(overrides):
    return {"code": WLNE + "77", "name": "乌兰淖尔第七十七网格", **overrides}


@pytest.mark.parametrize("case, field, overrides", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("username", ["wlne_secretary", "town_admin"])
def test_create_grid_bad_input_action(case, field, overrides, username, demo_user):
    village = Region.objects.get(code=WLNE)
    with nothing_written(), pytest.raises(ActionError) as info:
        create_grid(village, by=demo_user(username), **grid_input(overrides))
    assert info.value.field == field
    assert CJK.search(info.value.text)


@pytest.mark.parametrize("case, field, overrides", CASES, ids=[c[0] for c in CASES])
def test_create_grid_bad_input_form(case, field, overrides, client_for):
    client = client_for("wlne_secretary")
    with nothing_written():
        response = client.post(f"/areas/{WLNE}/grids/new/", grid_input(overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field], errors
    assert CJK.search(errors[field][0])
    assert 'class="invalid-feedback d-block"' in response.content.decode()


@pytest.mark.parametrize("case, field, overrides", CASES, ids=[c[0] for c in CASES])
def test_create_grid_bad_input_api(case, field, overrides, client_for):
    client = client_for("wlne_secretary")
    with nothing_written():
        response = client.post(f"/api/regions/{WLNE}/grids/", grid_input(overrides), content_type="application/json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["field"] == field and CJK.search(body["detail"]), body


def test_the_code_hint_names_the_village_code(demo_user):
    with pytest.raises(ActionError) as info:
        create_grid(Region.objects.get(code=WLNE), code=NLXL + "99", name="x", by=demo_user("wlne_secretary"))
    assert WLNE in info.value.text and f"{WLNE}01" in info.value.text


@pytest.mark.parametrize("parent", [TOWN, WLNE + "01", "150627"])
def test_grid_only_under_a_village(parent, client_for):
    """Under a town, a grid or a banner: refused (field "parent"), from the action, the page and the API."""
    region = Region.objects.get(code=parent)
    code = parent + "9"
    with nothing_written(), pytest.raises(ActionError) as info:
        create_grid(region, code=code, name="错层网格", by=None)
    assert info.value.field == "parent" and "嘎查村或社区" in info.value.text
    admin = client_for("town_admin")
    with nothing_written():
        page = admin.post(f"/areas/{parent}/grids/new/", {"code": code, "name": "错层网格"})
        api = admin.post(f"/api/regions/{parent}/grids/", {"code": code, "name": "错层网格"},
                         content_type="application/json")
    if parent == "150627":  # above the town admin's scope: not even there
        assert page.status_code == api.status_code == 404
        return
    assert page.status_code == 200 and "嘎查村或社区" in page.context["form"].non_field_errors()[0]
    assert api.status_code == 400 and api.json()["field"] == "parent"


@pytest.mark.parametrize("code", [NLXL, "999999999999", "150627105215%00", "<script>"])
def test_grid_for_a_village_out_of_scope_or_forged_is_404(code, client_for):
    client = client_for("wlne_secretary")
    with nothing_written():
        assert client.get(f"/areas/{code}/grids/new/").status_code == 404
        assert client.post(f"/areas/{code}/grids/new/", {"code": code + "01", "name": "x"}).status_code == 404
        assert client.post(f"/api/regions/{code}/grids/", {"code": code + "01", "name": "x"},
                           content_type="application/json").status_code == 404
        assert client.post(f"/areas/{code}/edit/", {"name": "x"}).status_code == 404


def test_grid_worker_may_not_create_grids(demo_user, client_for):
    """Allowed input from someone without ``areas.change``: refused (403) and the refusal is audited."""
    worker = demo_user("wlne_grid1")
    village = Region.objects.get(code=WLNE)
    regions = Region.objects.count()
    with pytest.raises(Exception) as info:
        create_grid(village, code=WLNE + "77", name="第七十七网格", by=worker)
    assert type(info.value).__name__ == "PermissionRefused"
    assert Region.objects.count() == regions
    refusal = AuditEntry.objects.order_by("-id").first()
    assert refusal.action == "areas.create_grid" and refusal.allowed is False


@pytest.mark.parametrize("field, value, expect", [
    ("name", "<b>x</b>", "不允许的字符"),
    ("name", "x" * 101, "过长"),
    ("boundary", {"type": "Point", "coordinates": [1, 2]}, "GeoJSON"),
    ("boundary", "not json", "GeoJSON"),
])
def test_update_region_bad_input(field, value, expect):
    grid = Region.objects.get(code=WLNE + "01")
    with nothing_written(), pytest.raises(ActionError) as info:
        update_region(grid, by=None, **{field: value})
    assert info.value.field == field and expect in info.value.text


def test_official_name_only_from_the_file(client_for):
    client = client_for("town_admin")
    with nothing_written():
        page = client.post(f"/areas/{WLNE}/edit/", {"name": "改名村", "note": "", "boundary": ""})
    assert page.status_code == 200 and "导入区划文件" in page.context["form"].errors["name"][0]
    with nothing_written():
        page = client.post(f"/areas/{WLNE}/edit/", {"name": Region.objects.get(code=WLNE).name, "note": "",
                                                    "boundary": "{not json"})
    assert "GeoJSON" in page.context["form"].errors["boundary"][0]
