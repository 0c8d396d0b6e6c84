"""The three rates page: its town figures equal the metrics of the same region and period, its village
rows add up to the town, a village cadre sees only their village, and its queries don't grow with rows."""
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from yiwang.areas.models import Region
from yiwang.core.periods import Period
from yiwang.insights import registry

TOWN, WLNE, NLXL = "150627105", "150627105215", "150627105214"


def figure(html, key):
    return re.search(rf'data-figure="{key}">([^<]*)<', html).group(1).strip()


def test_town_figures_equal_the_metrics_and_rows_add_up(login):
    client = login("town_admin")
    html = client.get("/cases/rates/?asof=2023-06-30&by=village").content.decode()
    town = Region.objects.get(code=TOWN)
    period = Period.parse("asof:2023-06-30", field="asof")
    assert figure(html, "solved") == str(registry.get("cases.solved").value(town, period))
    assert figure(html, "received") == str(registry.get("cases.received").value(town, period))
    rate = registry.get("cases.satisfaction_rate").value(town, period)
    assert figure(html, "satisfaction_rate") == f"{rate}%"
    rows = re.findall(r'<tr data-code="(\d+)"><td>[^<]*</td><td class="text-end">(\d+)</td><td class="text-end">(\d+)</td>',
                      html)
    assert len(rows) == 28  # every demo village has cases
    assert sum(int(solved) for _, _, solved in rows) == int(figure(html, "solved"))


def test_a_village_cadre_sees_their_village_only(login):
    client = login("wlne_secretary")
    html = client.get("/cases/rates/?asof=2023-06-30&by=grid").content.decode()
    codes = re.findall(r'<tr data-code="(\d+)"', html)
    assert codes and all(c.startswith(WLNE) for c in codes)
    assert NLXL not in html
    village = Region.objects.get(code=WLNE)
    period = Period.parse("asof:2023-06-30", field="asof")
    assert figure(html, "solved") == str(registry.get("cases.solved").value(village, period))
    # a forged region in the query string does not widen the scope
    html = client.get(f"/cases/rates/?asof=2023-06-30&region={NLXL}&by=village").content.decode()
    assert re.findall(r'<tr data-code="(\d+)"', html) == [WLNE]
    assert figure(html, "solved") == str(registry.get("cases.solved").value(village, period))


def test_bad_period_is_a_chinese_message(login):
    html = login("town_admin").get("/cases/rates/?period=2023-13").content.decode()
    assert "alert-danger" in html


def test_residents_have_no_rates_page(login):
    assert login("wlne_resident").get("/cases/rates/").status_code == 403


def test_queries_do_not_grow_with_rows(login):
    client = login("town_admin")
    counts = []
    for by in ("grid", "village", "category"):  # 141 rows, 28 rows, 6 rows
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/cases/rates/?period=2023&by={by}").status_code == 200
        counts.append(len(ctx.captured_queries))
    assert max(counts) == min(counts) and max(counts) <= 15, counts


def test_a_resident_lands_on_the_phone_page(login):
    response = login("wlne_resident").get("/")
    assert response.status_code == 302 and response["Location"] == "/cases/m/"
