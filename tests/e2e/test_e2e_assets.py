"""Front-end assets and the API docs come from this server (npm packages, drf-spectacular-sidecar), never a
CDN: every request a page makes is recorded and must go to the live server (checked for every e2e test by
the ``new_page`` fixture, and explicitly here)."""
import re

import pytest
from playwright.sync_api import expect

VENDOR = {
    "bootstrap css": ("/static/vendor/bootstrap/css/bootstrap.min.css", "text/css"),
    "bootstrap js": ("/static/vendor/bootstrap/js/bootstrap.bundle.min.js", "javascript"),
    "htmx": ("/static/vendor/htmx/htmx.min.js", "javascript"),
    "echarts": ("/static/vendor/echarts/echarts.min.js", "javascript"),
    "leaflet js": ("/static/vendor/leaflet/leaflet.js", "javascript"),
    "leaflet css": ("/static/vendor/leaflet/leaflet.css", "text/css"),
    "yiwang css": ("/static/yiwang/yiwang.css", "text/css"),
}


def record_responses(page):
    responses = {}
    page.on("response", lambda r: responses.__setitem__(r.url, r.status))
    return responses


@pytest.mark.parametrize("name", list(VENDOR))
def test_vendor_asset_is_served_by_the_app(page, name):
    path, content_type = VENDOR[name]
    response = page.request.get(path)
    assert response.status == 200, (path, response.status)
    assert content_type in response.headers["content-type"], response.headers["content-type"]
    assert len(response.body()) > 1000


def test_pages_load_only_local_assets(page, sign_in, e2e_server):
    responses = record_responses(page)
    sign_in(page, "town_admin")
    for url in ("/", "/people/households/", "/areas/", "/insights/metrics/"):
        page.goto(url)
        page.wait_for_load_state("networkidle")
    foreign = page.watch.foreign_requests()
    assert not foreign, foreign
    assert all(url.startswith(e2e_server.url) for url in page.watch.requests)
    static = {url: status for url, status in responses.items() if "/static/" in url}
    for needed in ("bootstrap.min.css", "bootstrap.bundle.min.js", "htmx.min.js", "yiwang.css", "favicon.svg"):
        assert any(needed in url for url in static), f"{needed} not loaded: {sorted(static)}"
    assert all(status in (200, 304) for status in static.values()), static
    # the scripts ran: Bootstrap and htmx are live in the page
    assert page.evaluate("typeof window.bootstrap === 'object' && typeof window.htmx === 'object'")


def test_echarts_and_leaflet_run_from_local_files(page, sign_in):
    """No page draws a chart or a map yet; load both libraries into an app page and use them."""
    sign_in(page, "town_admin")
    page.add_script_tag(url=VENDOR["echarts"][0])
    page.add_script_tag(url=VENDOR["leaflet js"][0])
    page.add_style_tag(url=VENDOR["leaflet css"][0])
    drawn = page.evaluate("""() => {
        const box = document.createElement('div'); box.style.width = '300px'; box.style.height = '200px';
        document.body.appendChild(box);
        const chart = echarts.init(box);
        chart.setOption({xAxis: {data: ['户', '人']}, yAxis: {}, series: [{type: 'bar', data: [3, 7]}]});
        const mapBox = document.createElement('div'); mapBox.style.height = '200px'; document.body.appendChild(mapBox);
        const map = L.map(mapBox).setView([39.3, 109.8], 10);
        return [box.querySelectorAll('canvas').length, mapBox.classList.contains('leaflet-container')];
    }""")
    assert drawn == [1, True]
    assert not page.watch.foreign_requests()


def test_api_docs_are_served_locally(page, sign_in, e2e_server, screenshot):
    responses = record_responses(page)
    sign_in(page, "wlne_secretary")
    assert page.goto("/api/docs/").status == 200
    expect(page.locator("#swagger-ui .opblock").first).to_be_visible(timeout=20_000)
    expect(page.locator("#swagger-ui")).to_contain_text("/api/households/")
    expect(page.locator("#swagger-ui .title")).to_contain_text("一网 Yiwang API")
    page.wait_for_load_state("networkidle")
    assets = [url for url in responses if "/static/" in url]
    assert any("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in u for u in assets), assets
    assert any("swagger-ui.css" in u for u in assets), assets
    assert all(responses[u] in (200, 304) for u in assets), {u: responses[u] for u in assets}
    assert responses.get(f"{e2e_server.url}/api/schema/") == 200
    assert not page.watch.foreign_requests(), page.watch.foreign_requests()
    # on a real host name Swagger UI would fetch a badge from validator.swagger.io unless switched off
    assert page.evaluate("ui.getConfigs().validatorUrl") is None
    screenshot(page, "api-docs")


def test_api_docs_need_sign_in(page):
    response = page.goto("/api/docs/")
    assert response.status in (401, 403)
    assert page.locator("#swagger-ui .opblock").count() == 0
    schema = page.request.get("/api/schema/")
    assert schema.status in (401, 403)
    assert not re.search("openapi", schema.text())
