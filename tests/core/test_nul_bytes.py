"""A NUL byte anywhere in a request never reaches the database: PostgreSQL refuses NUL in text outright,
so an unguarded lookup is a 500 there (SQLite happily stores it). In the path: 404; in a query
parameter or an API body field: 400 naming it; in a page's form: the form's error beside the field."""
import json

import pytest
from django.test import Client

from yiwang.accounts.models import User
from yiwang.areas.models import Region
from yiwang.core.models import AuditEntry
from yiwang.people.models import Household

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(username="town_admin"), backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.mark.parametrize("url", [
    "/areas/150627105%00/", "/areas/150627105215%00/grids/new/", "/api/regions/1506%00/", "/people/households/1%00/",
    "/api/households/1%00/", "/api/persons/1%00/reveal/id_number/",
])
def test_nul_in_the_path_is_404(url, client):
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("url, field", [
    ("/api/households/?region=150627105%00", "region"),
    ("/api/metrics/?region=150627105%00&asof=2023-06-30", "region"),
    ("/api/metrics/?region=150627105&period=2022%00", "period"),
    ("/api/persons/?q=%00", "q"),
    ("/api/regions/?code%00=1", "code"),
])
def test_nul_in_an_api_query_is_400_naming_it(url, field, client):
    response = client.get(url)
    assert response.status_code == 400
    assert response.json()["field"] == field and "控制字符" in response.json()["detail"]


@pytest.mark.parametrize("url", ["/people/persons/?q=a%00b", "/people/households/?village=1%00", "/areas/?q=%00"])
def test_nul_in_a_page_query_is_400(url, client):
    response = client.get(url)
    assert response.status_code == 400 and "控制字符" in response.content.decode()


@pytest.mark.parametrize("url, body, field", [
    ("/api/households/", {"number": "X", "village": "150627105215\x00", "registered_on": "2023-01-01"}, "village"),
    ("/api/households/", {"number": "X", "village": "150627105215", "tags": ["dibao\x00"],
                          "registered_on": "2023-01-01"}, "tags"),
    ("/api/persons/", {"household": "1\x00", "name": "张三", "id_number": "1", "registered_on": "2023-01-01"},
     "household"),
    ("/api/persons/", {"household": "1", "name": "张\x00三", "id_number": "1", "registered_on": "2023-01-01"}, "name"),
    ("/api/regions/150627105215/grids/", {"code": "15062710521599\x00", "name": "x"}, "code"),
])
def test_nul_in_an_api_body_is_400_naming_the_field(url, body, field, client):
    before = (Household.objects.count(), Region.objects.count(), AuditEntry.objects.count())
    as_json = client.post(url, body, content_type="application/json")
    as_form = client.post(url, body)  # the API takes form-encoded bodies too
    for response in (as_json, as_form):
        assert response.status_code == 400, response.content
        assert response.json()["field"] == field and "控制字符" in response.json()["detail"]
    assert (Household.objects.count(), Region.objects.count(), AuditEntry.objects.count()) == before


def test_json_without_nul_passes_through(client):
    """An escaped backslash followed by u0000 is not a NUL: the request goes on to the view."""
    body = json.dumps({"number": "X", "village": "999", "address": "\\u0000", "registered_on": "2023-01-01"})
    response = client.post("/api/households/", body, content_type="application/json")
    assert response.status_code == 400 and response.json()["field"] == "village"


def test_region_switcher_with_nul_is_404(client):
    assert client.post("/areas/switch/", {"region": "150627105\x00"}).status_code == 404
    assert client.post("/areas/switch/", {"region": "150627105215"}).status_code == 302


def test_sign_in_with_nul_is_a_form_error():
    response = Client(raise_request_exception=False).post("/accounts/login/", {"username": "town\x00admin",
                                                                               "password": "x"})
    assert response.status_code == 200
