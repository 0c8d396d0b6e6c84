"""Query counts of list pages and API lists: bounded, and the same whatever the number of rows shown
(Zulip's ``assert_database_query_count``, NetBox's query_counts). An N+1 — a query per row for a
related object or a tag — shows up as a count that grows with the page.

The lists are found by walking the URL resolver (every ``ScopedListView`` page, every API route with a
``list`` action), so a list added later is measured too. Each is read by the demo user who sees the
most of it; pages compare ``?per_page=2`` with ``?per_page=100``, API lists compare pages of different
lengths (page 1 against the last page, and against users who see fewer rows).
"""
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from yiwang.accounts.models import User
from yiwang.core import testing
from yiwang.core.views import ScopedListView

# Absolute ceilings. Today a page costs ~14–17 queries (session, user, grants, the region switcher,
# filter choices, two counts, the rows, the session save) and an API list ~8–9; the margin is for the
# shell growing a little, not for rows: rows must never add queries.
PAGE_BOUND = 20
API_BOUND = 12

ENDPOINTS = testing.walk()
PAGES = [e for e in ENDPOINTS if not e.is_drf and e.view_class and issubclass(e.view_class, ScopedListView)]
API_LISTS = [e for e in ENDPOINTS if e.is_drf and "list" in (getattr(e.callback, "actions", None) or {}).values()
             and "format" not in e.kwargs]


def readers(model, action="view"):
    """Demo users who see rows of ``model``, the one who sees most first. A model with no rows at all
    (nothing in the demo yet, e.g. import jobs) cannot show growth: the test is skipped, saying so."""
    if not model._default_manager.exists():
        pytest.skip(f"no {model._meta.label} rows to measure: add some to the demo to cover this list")
    counts = [(model.objects.visible_to(u, action).count(), u) for u in User.objects.filter(is_demo=True)]
    return [u for n, u in sorted(counts, key=lambda c: (-c[0], c[1].username)) if n]


def measure(client, url, params):
    client.get(url, params)  # warm-up: per-process caches (content types, translations) are not the page's cost
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200, (url, params, response.status_code)
    return len(ctx.captured_queries), response, [q["sql"] for q in ctx.captured_queries]


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_walk_finds_the_lists():
    routes = {e.route for e in PAGES + API_LISTS}
    for expected in ("people/households/", "people/persons/", "areas/", "accounts/audit/", "accounts/users/",
                     "api/^regions/$", "api/^households/$", "api/^persons/$", "cases/", "api/^cases/$"):
        assert expected in routes


@pytest.mark.parametrize("endpoint", PAGES, ids=str)
def test_list_page_query_count_does_not_grow_with_rows(endpoint, db):
    view = endpoint.view_class
    users = readers(view.model, view.scope_action)
    assert users, f"no demo user reads {endpoint}"
    client = client_for(users[0])
    small, r_small, _ = measure(client, endpoint.url(), {"per_page": 2})
    large, r_large, sql = measure(client, endpoint.url(), {"per_page": 100})
    rows_small, rows_large = len(r_small.context["table"].page.object_list), len(r_large.context["table"].page.object_list)
    assert rows_small < rows_large, f"{endpoint}: {users[0]} sees too few rows to compare ({rows_large})"
    assert small == large, f"{endpoint}: {small} queries for {rows_small} rows, {large} for {rows_large}:\n" + \
        "\n".join(sql)
    assert large <= PAGE_BOUND, f"{endpoint}: {large} queries (bound {PAGE_BOUND}):\n" + "\n".join(sql)


@pytest.mark.parametrize("endpoint", API_LISTS, ids=str)
def test_api_list_query_count_does_not_grow_with_rows(endpoint, db):
    users = readers(endpoint.model)
    assert users, f"no demo user reads {endpoint}"
    seen = {}
    for user, params in [(users[0], {}), (users[0], {"page": "last"})] + [(u, {"page": "last"}) for u in users[1:]]:
        count, response, sql = measure(client_for(user), endpoint.url(), params)
        rows = len(response.json()["results"])
        seen[(user.username, params.get("page", 1), rows)] = count
        assert count <= API_BOUND, f"{endpoint} as {user}: {count} queries (bound {API_BOUND}):\n" + "\n".join(sql)
    assert len({rows for _, _, rows in seen}) > 1, f"{endpoint}: every reader got the same number of rows: {seen}"
    assert len(set(seen.values())) == 1, f"{endpoint}: query count changes with rows: {seen}"
