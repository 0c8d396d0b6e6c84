"""The case journey of issue 4 in a real browser (Debian chromium):

1. the grid worker wlne_grid1, on a phone-sized page (390×844) with location allowed, reports a problem
   with a photo; the town (town_admin, desk-sized) opens it in the dispatch console at /cases/<pk>/ and
   assigns it to the village secretary; wlne_secretary resolves it on the phone page with a photo; the
   reporter (the grid worker) rates it;
2. the resident wlne_resident reports on a phone, the staff resolve it (through the actions), the resident
   finds it by its number and rates it "满意";
then the village's cases.received and cases.solved have grown by two each, and the cases are visible
through Open311 (GET /open311/v2/requests/<number>.json).

The server thread sees committed data only, so everything made here is committed and uniquely worded.
"""
import datetime
import io

import pytest
from django.urls import Resolver404, resolve
from PIL import Image
from playwright.sync_api import expect

from yiwang.accounts.models import User
from yiwang.areas.models import Region
from yiwang.cases import actions
from yiwang.cases.models import Case, Category

WLNE, GRID1 = "150627105215", "15062710521501"
PHONE = {"width": 390, "height": 844}


def png_bytes(colour):
    buffer = io.BytesIO()
    Image.new("RGB", (120, 90), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def photo(name, colour=(30, 120, 200)):
    return {"name": name, "mimeType": "image/png", "buffer": png_bytes(colour)}


def village_figures():
    """cases.received / cases.solved of 乌兰淖尔 this year, from the metric registry."""
    from yiwang.core.periods import Period
    from yiwang.insights import registry

    village = Region.objects.get(code=WLNE)
    period = Period.year(datetime.date.today().year)
    return {key: registry.get(key).value(village, period) for key in ("cases.received", "cases.solved")}


def fits_the_phone(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def submit(page, selector):
    with page.expect_navigation():
        page.click(selector)


def report_on_phone(page, *, category, region_code, description, photo_name):
    page.goto("/cases/m/report/")
    expect(page.locator("main h1")).to_have_text("上报问题")
    page.select_option("#id_category_group", str(category.parent_id))
    page.select_option("#id_category", str(category.pk))
    if page.locator("#id_region option").count() > 2:
        page.select_option("#id_region", region_code)
    expect(page.locator("#id_region")).to_have_value(region_code)
    page.fill("#id_description", description)
    page.fill("#id_address", "村委会西侧路口")
    page.set_input_files("input[name=photos]", files=[photo(photo_name)])
    submit(page, "#yw-report button[type=submit]")
    if page.locator("#yw-duplicates-found").count():  # an earlier run's report nearby: confirm it is new
        page.check("#id_confirm_new")
        page.set_input_files("input[name=photos]", files=[photo(photo_name)])
        submit(page, "#yw-report button[type=submit]")
    expect(page.locator(".alert-success")).to_contain_text("上报成功")
    number = page.locator("#yw-case-number").inner_text().strip()
    return Case.objects.get(number=number)


def test_case_journey_from_a_phone_report_to_the_rating(new_page, sign_in, unique, screenshot):
    category = Category.objects.filter(active=True, parent__code="infrastructure").order_by("order").first()
    secretary = User.objects.get(username="wlne_secretary")
    before = village_figures()

    # 1. the grid worker reports on a phone; the browser gives the location
    worker = new_page(viewport=PHONE, geolocation={"latitude": 39.123456, "longitude": 109.654321},
                      permissions=["geolocation"])
    sign_in(worker, "wlne_grid1")
    worker.goto("/cases/m/report/")
    expect(worker.locator("#id_latitude")).to_have_value("39.123456")
    expect(worker.locator("#id_longitude")).to_have_value("109.654321")
    assert fits_the_phone(worker)
    screenshot(worker, "cases-mobile-report")
    description = f"路灯不亮，夜里看不见路 {unique('')}"
    case = report_on_phone(worker, category=category, region_code=GRID1, description=description,
                           photo_name="lamp.png")
    assert case.reporter.username == "wlne_grid1" and case.channel == Case.Channel.GRID
    assert case.attachments.count() == 1 and case.latitude is not None
    expect(worker.locator("#yw-resolve-due")).to_contain_text("前")
    assert fits_the_phone(worker)
    screenshot(worker, "cases-mobile-report-done")

    # 2. the town dispatches it from the console on a desk
    desk = new_page()
    sign_in(desk, "town_admin")
    desk.goto(f"/cases/{case.pk}/")
    expect(desk.locator("#yw-case-title")).to_contain_text(case.number)
    desk.click("#form-assign summary")
    desk.select_option("#form-assign select[name=level]", "village")
    desk.select_option("#form-assign select[name=handler]", "wlne_secretary")
    submit(desk, "#form-assign button")
    expect(desk.locator("#yw-handler")).to_contain_text(str(secretary))
    case.refresh_from_db()
    assert case.state == Case.State.IN_PROGRESS and case.handler == secretary

    # 3. the village secretary resolves it on the phone, with a photo of the repaired lamp
    village = new_page(viewport=PHONE)
    sign_in(village, "wlne_secretary")
    village.goto("/cases/m/mine/")
    expect(village.locator(f"[data-case='{case.number}']")).to_be_visible()
    with village.expect_navigation():
        village.click(f"[data-case='{case.number}']")
    village.fill("#id_resolve-result", "已更换灯泡，路灯恢复照明")
    village.set_input_files("#id_resolve-photos", files=[photo("fixed.png", (240, 220, 40))])
    submit(village, "#yw-resolve button[type=submit]")
    expect(village.locator(".alert-success")).to_contain_text("已办结")
    expect(village.locator("#yw-state")).to_have_attribute("data-state", "resolved")
    assert fits_the_phone(village)

    # 4. the reporter (the grid worker) rates the answer
    worker.goto(f"/cases/m/c/{case.pk}/")
    worker.check("#yw-rate input[value=basic]")
    submit(worker, "#yw-rate button[type=submit]")
    expect(worker.locator("#yw-state")).to_have_attribute("data-state", "closed")
    case.refresh_from_db()
    assert case.state == Case.State.CLOSED and case.rating == Case.Rating.BASIC

    # 5. a resident reports on a phone, the staff resolve it, the resident follows it by number and rates it
    resident = new_page(viewport=PHONE)
    sign_in(resident, "wlne_resident")
    description = f"小区门口垃圾三天没清运 {unique('')}"
    waste = Category.objects.get(code="environment-waste")
    second = report_on_phone(resident, category=waste, region_code=WLNE, description=description,
                             photo_name="waste.png")
    assert second.reporter.username == "wlne_resident" and second.channel == Case.Channel.RESIDENT
    town = User.objects.get(username="town_admin")
    actions.assign_case(second, by=town, level=Case.Level.VILLAGE, handler=secretary)
    actions.resolve_case(second, by=secretary, result="已联系保洁公司清运")

    resident.goto("/cases/m/track/")
    resident.fill("#id_number", second.number)
    submit(resident, "form button[type=submit]")
    expect(resident.locator("#yw-state")).to_have_text("已办结，请您评价")
    expect(resident.locator("#yw-timeline")).to_contain_text("已联系保洁公司清运")
    resident.check("#yw-rate input[value=satisfied]")
    expect(resident.locator("label[for=id_rate-rating_0]")).to_have_text("满意")
    submit(resident, "#yw-rate button[type=submit]")
    expect(resident.locator(".alert-success")).to_contain_text("感谢您的评价")
    expect(resident.locator("#yw-state")).to_have_text("已办结")
    assert fits_the_phone(resident)
    screenshot(resident, "cases-mobile-resident-rated")
    second.refresh_from_db()
    assert second.state == Case.State.CLOSED and second.rating == Case.Rating.SATISFIED

    # the figures moved, from the records
    after = village_figures()
    assert after["cases.received"] == before["cases.received"] + 2, (before, after)
    assert after["cases.solved"] == before["cases.solved"] + 2, (before, after)

    # and the cases are visible through Open311
    try:
        resolve(f"/open311/v2/requests/{second.number}.json")
    except Resolver404:
        pytest.skip("Open311 GET /open311/v2/requests/<id>.json is not routed yet (being built in parallel)")
    # reading needs a key too (cases carry personal data); the town issues one for the village
    _, api_key = actions.create_api_key(name=unique("e2e 旅程 "), region=Region.objects.get(code=WLNE), by=town)
    for done in (case, second):
        answer = desk.request.get(f"/open311/v2/requests/{done.number}.json", params={"api_key": api_key})
        assert answer.status == 200, answer.text()
        body = answer.json()
        assert body and body[0]["service_request_id"] == done.number, body
        assert body[0]["status"] == "closed"
