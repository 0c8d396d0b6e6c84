"""The scope matrix: every URL the resolver knows, every scoped model, two sibling villages.

The two village secretaries of the demo (乌兰淖尔村 and 纳林希里村) hold the same role one village
apart. For each of them, and in both directions:

- every URL pattern naming an object (pk, code, …) answers 404 for the other village's object, with
  every method it routes (GET, POST, PUT, PATCH; the write endpoints create/update/move/reveal/grids),
  never 403 and never 200, and changes nothing; the same URL with the user's own object works, so
  the 404 is not an accident of a wrong URL;
- every list page and API list holds only rows of the user's own village, also with
  ``?region=<other village>`` and with the other village forged into the session;
- no page or API answer mentions the other village (its code or its name) at all;
- every model with a ``scope`` answers ``visible_to`` with exactly the user's own village.

Nothing here lists URLs or models by hand: they come from ``django.urls.get_resolver()`` and
``django.apps.apps.get_models()`` (see ``yiwang.core.testing``), so a pattern or model added later is
covered the day it is added, and a view that is neither scope-guarded, public nor allowlisted below
fails ``test_every_view_is_guarded``. Anonymous visitors get the login page or a 401/403 with no data.
"""
import json

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.db.models import ForeignKey, ManyToManyField, OneToOneField
from django.test import Client
from django.urls import path
from rest_framework.views import APIView

from yiwang.areas.models import Region
from yiwang.core import testing
from yiwang.core.models import AuditEntry
from yiwang.core.views import ScopedListView
from yiwang.people.models import Household, Person

SECRETARIES = {"wlne_secretary": "150627105215", "nlxl_secretary": "150627105214"}
PAIRS = [("wlne_secretary", "nlxl_secretary"), ("nlxl_secretary", "wlne_secretary")]

# Views that are neither scope-guarded nor public pages, each with the reason it may stay so. Keep this
# short: a view that shows records belongs on ScopedMixin / ScopedViewSetMixin or reads through
# ``visible_to`` and is marked ``scoped = True``.
ALLOWLIST = {
    # stops an Open311 key: keys are reference data with no scope (UNSCOPED_ON_PURPOSE below); the view
    # answers 404 unless the user holds cases.policy over the key's region (tests/cases/test_open311_keys_page.py)
    "yiwang.cases.console.keys.api_key_deactivate",
    # signing out shows nothing; it needs a session to end (anonymous visitors are sent to the login)
    "django.contrib.auth.views.LogoutView",
    # sets the language cookie and redirects; reads no records
    "django.views.i18n.set_language",
    # DRF's API root lists the endpoint URLs (no records); IsAuthenticated like every API view
    "rest_framework.routers.APIRootView",
    # the OpenAPI schema and its two viewers: shapes of the API, no records; SERVE_PERMISSIONS=IsAuthenticated
    "drf_spectacular.views.SpectacularAPIView",
    "drf_spectacular.views.SpectacularSwaggerView",
    "drf_spectacular.views.SpectacularRedocView",
}
# Models linked to a region or to scoped rows that declare no scope, each with why no page or API lists
# them by region. Keep this short.
UNSCOPED_ON_PURPOSE = {
    # town departments (派出所, 司法所 …): reference data of the town a case can be sent to, like the category
    # list; names only, shown as choices to those who dispatch
    "cases.Department": "reference data",
    # Open311 client keys: only their hash is stored; listed and created on the policy page (cases.policy)
    "cases.ApiKey": "keys page requires cases.policy",
    # the outbox: read by the senders (the system), and on a case page through the case already looked up
    # with visible_to; no page or API lists it by itself
    "cases.Notification": "read through its case",
    # the town's industry layout (四区五园十基地): names only, offered as choices on project forms like a category
    "economy.Zone": "reference data",
}
# Reachable without signing in, on purpose (the login page is marked login_not_required itself).
ANONYMOUS_OK = {"django.views.i18n.set_language"}

# A write payload that would be valid for most write endpoints (extra fields are ignored): sent with the
# other village's object it must still change nothing, so a view that skipped the scoped lookup would
# show up as a write, not only as a missing 404.
PROBE = {"address": "越权探测", "name": "越权探测", "note": "越权探测", "registered_on": "2020-01-01"}

ENDPOINTS = testing.walk()


def _id(e):
    return f"{e.route}"


def _guarded(e):
    return testing.guard_of(e, ALLOWLIST) in ("scoped-view", "scoped-viewset", "marked")


OBJECT_ENDPOINTS = [e for e in ENDPOINTS if e.object_kwargs and _guarded(e)]
PLAIN_ENDPOINTS = [e for e in ENDPOINTS if not e.object_kwargs]


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def request(client, url, method, data=None, **extra):
    if method == "get":
        return client.get(url, data or {}, **extra)
    if url.startswith("/api/"):
        return client.generic(method.upper(), url, json.dumps(data or {}), content_type="application/json", **extra)
    return client.generic(method.upper(), url, _form_encode(data or {}),
                          content_type="application/x-www-form-urlencoded", **extra)


def _form_encode(data):
    from urllib.parse import urlencode

    return urlencode(data)


def village(code):
    return Region.objects.get(code=code)


def mentions(body: str, region: Region) -> list[str]:
    """Which tell-tales of ``region`` (its code, its short name) appear in a response body. The page's
    own URL echoed back (``?region=<code>`` in a link or a hidden "next" field) is not a tell-tale."""
    for echo in (f"region={region.code}", f"region%3D{region.code}"):
        body = body.replace(echo, "")
    return [s for s in (region.code, region.short_name) if s in body]


def snapshot(obj):
    obj = type(obj)._default_manager.get(pk=obj.pk)
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def first_under(model, region):
    return testing.under(model, region).order_by("pk").first()


# --------------------------------------------------------------------------- guards


def test_every_view_is_guarded():
    """Fails when a view is added that is neither scoped, public, nor allowlisted above with a reason."""
    unguarded = [f"{e.route} → {e.dotted}" for e in ENDPOINTS if testing.guard_of(e, ALLOWLIST) is None]
    assert not unguarded, ("views without a scope guard (derive from ScopedMixin / ScopedViewSetMixin, read "
                           "through visible_to and mark scoped = True, or allowlist with a reason):\n"
                           + "\n".join(unguarded))


def test_guard_check_catches_unguarded_views():
    """The check itself: a plain function, a Django view and a DRF view without the mixin are caught."""
    from django.http import HttpResponse
    from django.views.generic import TemplateView

    def plain(request):
        return HttpResponse("")

    class Loose(APIView):  # DRF marks every view login_not_required: that must not count as a guard
        pass

    class Scoped(ScopedListView):
        pass

    def marked(request):
        return HttpResponse("")

    marked.scoped = True
    walked = testing.walk([path("a/", plain), path("b/", TemplateView.as_view()), path("c/", Loose.as_view()),
                           path("d/", Scoped.as_view()), path("e/", marked)])
    guards = {e.route: testing.guard_of(e, ALLOWLIST) for e in walked}
    assert guards == {"a/": None, "b/": None, "c/": None, "d/": "scoped-view", "e/": "marked"}


def test_allowlist_has_no_stale_entries():
    present = {e.dotted for e in ENDPOINTS}
    assert ALLOWLIST <= present, f"allowlisted views no longer routed: {sorted(ALLOWLIST - present)}"


def test_every_endpoint_can_be_walked():
    """Every pattern has a name (to be reversed), and every object kwarg maps to a field of a scoped model."""
    problems = []
    for e in ENDPOINTS:
        if not e.name:
            problems.append(f"{e.route}: give the URL pattern a name")
            continue
        if not e.object_kwargs or not _guarded(e):
            continue
        model = e.model
        if model is None or getattr(model, "scope", None) is None:
            problems.append(f"{e.route}: the view names no scoped model (set model / queryset / scope_model)")
            continue
        if len(e.object_kwargs) != 1:
            problems.append(f"{e.route}: more than one object kwarg; teach the matrix which is which")
            continue
        try:
            e.key_field(model, e.object_kwargs[0])
        except LookupError as exc:
            problems.append(str(exc))
    assert not problems, "\n".join(problems)


def test_api_viewsets_restrict_before_anything_else():
    """ScopedViewSetMixin must come before DRF's classes so its get_queryset is the one that runs."""
    from yiwang.core.api import ScopedViewSetMixin

    wrong = {e.dotted for e in ENDPOINTS if e.is_drf and issubclass(e.view_class, ScopedViewSetMixin)
             and e.view_class.get_queryset is not ScopedViewSetMixin.get_queryset}
    assert not wrong, f"viewsets overriding get_queryset (restrict in optimise() instead): {sorted(wrong)}"


# --------------------------------------------------------------------------- models


def test_every_model_linked_to_a_region_declares_a_scope():
    """A model pointing at a region or at a scoped model holds scoped data: it must say how it is scoped."""
    scoped = set(testing.scoped_models())
    missing = []
    for model in apps.get_models():
        if model in scoped or model._meta.label in UNSCOPED_ON_PURPOSE:
            continue
        for f in model._meta.get_fields():
            if isinstance(f, (ForeignKey, OneToOneField, ManyToManyField)) and (
                    f.related_model is Region or f.related_model in scoped):
                missing.append(f"{model._meta.label}.{f.name}")
    assert not missing, f"models linked to scoped data without a scope: {missing}"


@pytest.mark.parametrize("model", testing.scoped_models(), ids=lambda m: m._meta.label)
def test_visible_to_is_exactly_the_own_village(model, demo_user):
    anonymous = AnonymousUser()
    assert not model.objects.visible_to(anonymous).exists()
    assert not model.objects.visible_to(None).exists()
    for username, other_name in PAIRS:
        user, own, other = demo_user(username), village(SECRETARIES[username]), village(SECRETARIES[other_name])
        assert testing.under(model, other).exists(), (
            f"the demo town has no {model._meta.label} in {other.name}: the matrix proves nothing for it; "
            "add demo rows for it in both villages")
        for action in ("view", "change", "manage", "reveal"):
            visible = model.objects.visible_to(user, action)
            leaked = visible.filter(pk__in=testing.under(model, other).values("pk"))
            assert not leaked.exists(), f"{username} sees {model._meta.label} of {other.name} ({action})"
            outside = visible.exclude(pk__in=testing.under(model, own).values("pk"))
            assert not outside.exists(), f"{username} sees {model._meta.label} outside {own.name} ({action})"
        if user.scope_paths(f"{model.scope.module}.view"):
            assert (set(model.objects.visible_to(user).values_list("pk", flat=True))
                    == set(testing.under(model, own).values_list("pk", flat=True)))
        user.is_active = False
        assert not model.objects.visible_to(user).exists()
        user.is_active = True


# --------------------------------------------------------------------------- object URLs


@pytest.mark.parametrize("endpoint", OBJECT_ENDPOINTS, ids=_id)
def test_other_villages_object_answers_404(endpoint, demo_user):
    model = endpoint.model
    problems = []
    for username, other_name in PAIRS:
        user = demo_user(username)
        own, other = village(SECRETARIES[username]), village(SECRETARIES[other_name])
        client = client_for(user)
        theirs, mine = first_under(model, other), first_under(model, own)
        assert theirs is not None and mine is not None, (
            f"no {model._meta.label} in {own.name} or {other.name}: the matrix cannot probe {endpoint}; "
            "add demo rows of it in both villages (a demo step)")
        before = snapshot(theirs)
        audit_before = AuditEntry.objects.filter(actor=user, allowed=True).count()

        url = endpoint.url_for(theirs)
        statuses = {m: request(client, url, m, None if m == "get" else PROBE).status_code for m in endpoint.methods}
        allowed = {404} if endpoint.is_drf else {404, 405}
        if not set(statuses.values()) <= allowed or 404 not in statuses.values():
            problems.append(f"{username} → {url} ({other.name}): {statuses}, want 404")
        if snapshot(theirs) != before:
            problems.append(f"{username} → {url}: the other village's object changed")
        if AuditEntry.objects.filter(actor=user, allowed=True).count() != audit_before:
            problems.append(f"{username} → {url}: an action was recorded as done")

        url = endpoint.url_for(mine)
        answers = {m: request(client, url, m) for m in endpoint.methods}
        codes = {m: r.status_code for m, r in answers.items()}
        if not any(c <= 400 for c in codes.values()) or any(c >= 500 for c in codes.values()):
            problems.append(f"{username} → {url} (own {own.name}): {codes}, want one method to work")
        for m, r in answers.items():
            told = mentions(testing.response_text(r), other)
            if told:
                problems.append(f"{username} → {m.upper()} {url} mentions {other.name}: {told}")
    assert not problems, "\n".join(problems)


# Object keys a forger might put in a URL: absent, malformed, out of range, NUL, markup, overlong.
FORGED_KEYS = ["987654321", "0", "-1", "abc", "1%00", "%00", "%3Cscript%3E", "9" * 40, "x" * 300]


@pytest.mark.parametrize("endpoint", OBJECT_ENDPOINTS, ids=_id)
def test_forged_keys_answer_404(endpoint, demo_user):
    """A forged object key is simply not there: 404 (405 for a method the page lacks), never 400 or 500."""
    client = client_for(demo_user("wlne_secretary"))
    placeholder = "7654321987"
    template = endpoint.url(**{k: placeholder for k in endpoint.object_kwargs})
    problems = []
    for key in FORGED_KEYS:
        url = template.replace(placeholder, key)
        for method in endpoint.methods:
            status = request(client, url, method, None if method == "get" else PROBE).status_code
            if status not in ({404} if endpoint.is_drf else {404, 405}):
                problems.append(f"{method.upper()} {url[:120]} → {status}")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- lists and pages


def _list_rows(response):
    """The full (unpaginated) queryset behind a list page, when the view exposes one."""
    view = (response.context or {}).get("view") if response.context is not None else None
    qs = getattr(view, "object_list", None)
    return qs if hasattr(qs, "model") and getattr(qs.model, "scope", None) else None


def _holds_module(user, endpoint):
    model, cls = endpoint.model, endpoint.view_class
    if model is None or getattr(model, "scope", None) is None:
        return True
    return user.has_any(f"{model.scope.module}.{getattr(cls, 'scope_action', 'view')}")


def _forge_session_region(client, code):
    session = client.session
    session["region"] = code
    session.save()


@pytest.mark.parametrize("endpoint", [e for e in PLAIN_ENDPOINTS if e.name and testing.guard_of(e, ALLOWLIST)],
                         ids=_id)
def test_pages_and_lists_hold_only_the_own_village(endpoint, demo_user):
    if "get" not in endpoint.methods or testing.guard_of(endpoint, ALLOWLIST) == "public":
        pytest.skip("not a page to read")
    problems = []
    for username, other_name in PAIRS:
        user = demo_user(username)
        own, other = village(SECRETARIES[username]), village(SECRETARIES[other_name])
        client = client_for(user)
        url = endpoint.url()
        variants = [("plain", {}, False), ("?region=other", {"region": other.code}, False),
                    ("session region=other", {}, True)]
        for label, params, forge in variants:
            if forge:
                _forge_session_region(client, other.code)
            r = client.get(url, params)
            if r.status_code == 405:
                continue  # POST-only (the region switcher: see its own test)
            if r.status_code == 403 and not _holds_module(user, endpoint):
                pass  # a page of a module the user holds nowhere (the auditor's log for a secretary)
            elif r.status_code >= 500 or r.status_code == 403:
                problems.append(f"{username} {label} → {url}: {r.status_code}")
                continue
            told = mentions(testing.response_text(r), other)
            if told:
                problems.append(f"{username} {label} → {url} mentions {other.name}: {told}")
            rows = _list_rows(r) if not endpoint.is_api else None
            if rows is not None:
                bad = rows.exclude(pk__in=testing.under(rows.model, own).values("pk"))
                if bad.exists():
                    problems.append(f"{username} {label} → {url}: rows outside {own.name}: {list(bad[:3])}")
            is_json = r.get("Content-Type", "").startswith("application/json")
            if endpoint.is_api and r.status_code == 200 and is_json and "results" in r.json():
                model = endpoint.model
                expected = 0 if params else model.objects.visible_to(user).count()
                if r.json()["count"] != expected:
                    problems.append(f"{username} {label} → {url}: count {r.json()['count']}, want {expected}")
            if endpoint.is_api and r.status_code == 200 and is_json:  # the browsable API renders filter forms too
                html = testing.response_text(client.get(url, params, HTTP_ACCEPT="text/html"))
                told = mentions(html, other)
                if told:
                    problems.append(f"{username} {label} → {url} (browsable) mentions {other.name}: {told}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.is_drf and "list" in
                                      (getattr(e.callback, "actions", None) or {}).values()
                                      and "format" not in e.kwargs], ids=_id)
def test_api_lists_count_only_the_own_village(endpoint, demo_user):
    model = endpoint.model
    for username, other_name in PAIRS:
        user = demo_user(username)
        own, other = village(SECRETARIES[username]), village(SECRETARIES[other_name])
        client = client_for(user)
        data = client.get(endpoint.url()).json()
        assert data["count"] == testing.under(model, own).count() == model.objects.visible_to(user).count()
        assert client.get(endpoint.url(), {"region": other.code}).json()["count"] == 0
        assert client.get(endpoint.url(), {"region": "999999999999"}).json()["count"] == 0
        assert client.get(endpoint.url(), {"region": own.code}).json()["count"] == data["count"]


def test_metrics_api_answers_only_inside_scope(demo_user):
    for username, other_name in PAIRS:
        client = client_for(demo_user(username))
        own, other = village(SECRETARIES[username]), village(SECRETARIES[other_name])
        mine = client.get("/api/metrics/", {"region": own.code, "asof": "2023-06-30"})
        assert mine.status_code == 200
        assert mine.json()["people.households"] == testing.under(Household, own).count()
        for code in (other.code, own.parent.code, "999999999999"):
            r = client.get("/api/metrics/", {"region": code, "asof": "2023-06-30"})
            assert r.status_code == 404, (username, code, r.status_code)
            assert mentions(r.content.decode(), other) == []


def test_region_switcher_refuses_the_other_village(demo_user):
    for username, other_name in PAIRS:
        client = client_for(demo_user(username))
        own, other = village(SECRETARIES[username]), village(SECRETARIES[other_name])
        assert client.post("/areas/switch/", {"region": other.code, "next": "/"}).status_code == 404
        assert client.session.get("region") in (None, own.code)
        assert client.post("/areas/switch/", {"region": own.code, "next": "/"}).status_code == 302
        assert client.session["region"] == own.code


# --------------------------------------------------------------------------- writes naming other records


def test_api_create_cannot_name_the_other_village(demo_user):
    """Naming another village (or its grid, or its household) reads exactly like naming nothing."""
    for username, other_name in PAIRS:
        client = client_for(demo_user(username))
        own, other = village(SECRETARIES[username]), village(SECRETARIES[other_name])
        other_grid = other.children.filter(kind=Region.Kind.GRID).first()
        counts = (Household.objects.count(), Person.objects.count())

        def create_household(**refs):
            body = {"number": "X-PROBE-1", "village": own.code, "registered_on": "2020-01-01", **refs}
            return client.post("/api/households/", body, content_type="application/json")

        for field, theirs in (("village", other.code), ("grid", other_grid.code)):
            r_theirs, r_none = create_household(**{field: theirs}), create_household(**{field: "999999999999"})
            assert r_theirs.status_code == r_none.status_code == 400
            assert r_theirs.json() == json.loads(r_none.content.decode().replace("999999999999", theirs))

        their_household = first_under(Household, other)
        person = {"name": "探测", "id_number": "150627199001011234", "registered_on": "2020-01-01"}
        r_theirs = client.post("/api/persons/", {**person, "household": their_household.number},
                               content_type="application/json")
        r_none = client.post("/api/persons/", {**person, "household": "NO-SUCH"}, content_type="application/json")
        assert r_theirs.status_code == r_none.status_code == 400
        assert r_theirs.json() == json.loads(r_none.content.decode().replace("NO-SUCH", their_household.number))

        mine = first_under(Household, own)
        r_theirs = client.post(f"/api/households/{mine.pk}/move/", {"grid": other_grid.code},
                               content_type="application/json")
        assert r_theirs.status_code == 400
        assert Household.objects.get(pk=mine.pk).region_path == mine.region_path
        assert (Household.objects.count(), Person.objects.count()) == counts


def test_page_forms_cannot_name_the_other_village(demo_user):
    for username, other_name in PAIRS:
        client = client_for(demo_user(username))
        own, other = village(SECRETARIES[username]), village(SECRETARIES[other_name])
        other_grid = other.children.filter(kind=Region.Kind.GRID).first()
        count = Household.objects.count()
        r = client.post("/people/households/new/", {"number": "X-PROBE-2", "village": other.code,
                                                    "registered_on": "2020-01-01"})
        assert r.status_code == 200 and r.context["form"].errors.get("village")
        assert Household.objects.count() == count
        mine = first_under(Household, own)
        r = client.post(f"/people/households/{mine.pk}/move/", {"grid": other_grid.code})
        assert r.status_code == 200 and r.context["form"].errors.get("grid")
        assert Household.objects.get(pk=mine.pk).region_path == mine.region_path


# --------------------------------------------------------------------------- anonymous visitors


def _anonymous_targets():
    for e in ENDPOINTS:
        guard = testing.guard_of(e, ALLOWLIST)
        if guard == "public" or e.dotted in ANONYMOUS_OK or not e.name:
            continue
        yield e


@pytest.mark.parametrize("endpoint", list(_anonymous_targets()), ids=_id)
def test_anonymous_visitors_get_the_login_or_401_403(endpoint, db):
    wlne = village(SECRETARIES["wlne_secretary"])
    obj = first_under(endpoint.model, wlne) if endpoint.object_kwargs and endpoint.model else None
    url = endpoint.url_for(obj) if obj is not None else endpoint.url_for_any()
    client = Client()
    for method in endpoint.methods:
        r = request(client, url, method, None if method == "get" else PROBE)
        if endpoint.is_api:
            assert r.status_code in (401, 403), (method, url, r.status_code)
            if r["Content-Type"].startswith("application/json"):
                assert set(r.json()) <= {"detail"}, (method, url, r.json())
        else:
            assert r.status_code == 302, (method, url, r.status_code)
            assert r["Location"].startswith("/accounts/login/?next="), (method, url, r["Location"])
        assert not mentions(testing.response_text(r), wlne)


def test_anonymous_allowed_pages_show_no_records(db):
    client = Client()
    for e in ENDPOINTS:
        if testing.guard_of(e, ALLOWLIST) == "public" or e.dotted in ANONYMOUS_OK:
            r = client.get(e.url_for_any())  # placeholder keys for public URLs naming an object (Open311's by key)
            assert r.status_code < 500
            for code in SECRETARIES.values():
                assert code not in r.content.decode(errors="replace")
