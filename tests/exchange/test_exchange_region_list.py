"""The regions/grids list page carries the Excel buttons like the other list pages, and its export is
the list as filtered: the same regions in the same scope, re-importing unchanged.

The export link is taken from the page itself (what the user clicks), never built by the test.
"""
import re
from html import unescape

import pytest
from django.test import Client
from exchange_kit import NLXL, TOWN, WLNE, last_audit_pk, read_rows, registry, run

from yiwang.areas.models import Region
from yiwang.core.models import AuditEntry


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def page_buttons(client, query):
    r = client.get("/areas/", {**query, "per_page": 100})
    assert r.status_code == 200
    html = r.content.decode()
    hrefs = {m[0]: unescape(m[1]) for m in re.findall(r'id="(export-xlsx|import-xlsx|template-xlsx)" href="([^"]+)"', html)}
    listed = set(re.findall(r'href="/areas/(\d+)/"', html))
    return hrefs, listed, r


@pytest.mark.parametrize("username, query", [
    ("wlne_secretary", {"kind": "grid"}),
    ("wlne_secretary", {"q": f"{WLNE}0"}),
    ("town_admin", {"kind": "village"}),
    ("town_admin", {"q": "乌兰淖尔"}),
])
def test_the_filtered_region_list_exports_its_own_rows_and_reimports_unchanged(username, query, demo_user):
    user = demo_user(username)
    client = client_for(user)
    hrefs, listed, response = page_buttons(client, query)
    assert {"export-xlsx", "import-xlsx", "template-xlsx"} <= set(hrefs), hrefs
    assert hrefs["import-xlsx"] == "/exchange/upload/?sheet=regions"

    r = client.get(hrefs["export-xlsx"])
    assert r.status_code == 200
    rows = read_rows(r.content)
    assert rows[0] == ["区划代码", "名称", "层级", "上级代码"]
    exported = {row[0] for row in rows[1:]}
    # exactly the list's rows: the filter and the scope, as the page shows them
    shown = set(response.context["table"].data.data.values_list("code", flat=True))
    assert exported == shown and listed <= shown and exported
    assert exported == set(Region.objects.visible_to(user).filter(
        code__in=exported).values_list("code", flat=True))

    before, since = registry(), last_audit_pk()
    job = run("regions", r.content, by=user, region=TOWN if username == "town_admin" else WLNE)
    assert job.status == "committed", (job.file_error, job.issues[:3])
    assert job.counts == {"new": 0, "changed": 0, "unchanged": len(rows) - 1, "rejected": 0}
    assert registry() == before
    assert not AuditEntry.objects.filter(pk__gt=since, action__startswith="areas.").exists()


def test_the_grid_filter_keeps_each_village_to_its_own_grids(demo_user):
    own = client_for(demo_user("wlne_secretary"))
    neighbour = client_for(demo_user("nlxl_secretary"))
    hrefs, _, _ = page_buttons(own, {"kind": "grid"})
    # the neighbour follows the same link (the same query string) and gets only their own grids
    mine = {r[0] for r in read_rows(own.get(hrefs["export-xlsx"]).content)[1:]}
    theirs = {r[0] for r in read_rows(neighbour.get(hrefs["export-xlsx"]).content)[1:]}
    assert mine and theirs and not mine & theirs
    assert all(code.startswith(WLNE) for code in mine) and all(code.startswith(NLXL) for code in theirs)
    assert mine == set(Region.objects.filter(parent__code=WLNE, kind="grid").values_list("code", flat=True))


def test_a_viewer_gets_the_export_but_no_import(demo_user):
    user = demo_user("town_leader")
    assert not user.has_any("areas.change")
    hrefs, _, _ = page_buttons(client_for(user), {"kind": "village"})
    assert "export-xlsx" in hrefs and "import-xlsx" not in hrefs and "template-xlsx" not in hrefs
