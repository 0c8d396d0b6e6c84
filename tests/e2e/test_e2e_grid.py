"""The grid worker's phone flow in Debian's chromium at 375 px: 我的包户 → 记录走访 with a photo from the
file picker and the location the phone gives → back on 我的包户 with the visit of today; the photo is
stored (sniffed, re-encoded, thumbnailed) and shown on the visit page."""
import datetime
import io
import re

from PIL import Image
from playwright.sync_api import expect

from yiwang.grid.models import GridWorker, Pairing, Visit

PHONE = {"width": 375, "height": 812}


def png():
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 120, 60)).save(buf, format="PNG")
    return buf.getvalue()


def test_grid_worker_records_a_visit_with_a_photo_on_a_phone(new_page, sign_in, unique, screenshot):
    page = new_page(viewport=PHONE, geolocation={"latitude": 39.181234, "longitude": 109.561234},
                    permissions=["geolocation"], is_mobile=True, has_touch=True)
    sign_in(page, "wlne_grid1")
    page.goto("/grid/mine/")
    worker = GridWorker.objects.get(user__username="wlne_grid1")
    pairing = Pairing.objects.filter(worker=worker, end_date__isnull=True).order_by("household__number").first()
    item = page.locator(".yw-mine li", has_text=pairing.household.number)
    expect(item).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 2
    screenshot(page, "grid-mine-375")
    item.get_by_role("link", name="记录走访").click()

    expect(page.locator("#id_photo")).to_have_attribute("capture", "environment")
    expect(page.locator("#geo-status")).to_contain_text("39.181234")  # filled by the page's few lines of JS
    finding = unique("屋顶漏雨")
    page.select_option("#id_kind", "special_group")
    page.fill("#id_findings", finding)
    page.set_input_files("#id_photo", files=[{"name": "IMG_0001.png", "mimeType": "image/png", "buffer": png()}])
    screenshot(page, "grid-visit-form-375")
    with page.expect_navigation():
        page.get_by_role("button", name="保存走访").click()

    expect(page).to_have_url(re.compile(r"/grid/mine/$"))
    expect(page.locator(".alert-success")).to_contain_text("走访已记录")
    expect(page.locator(".yw-mine li", has_text=pairing.household.number)).to_contain_text(
        datetime.date.today().strftime("%Y-%m-%d"))
    visit = Visit.objects.get(findings=finding)
    assert (visit.kind, visit.worker_id, str(visit.latitude)) == ("special_group", worker.pk, "39.181234")
    assert visit.photo and visit.thumbnail

    page.goto(f"/grid/visits/{visit.pk}/")
    img = page.locator("img.img-thumbnail")
    expect(img).to_be_visible()
    # the thumbnail really loads (visible is only its box): wait until the image has pixels, as the
    # dispatch test does; reading naturalWidth at once failed on PostgreSQL while it was still loading
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    expect(page.get_by_role("link", name="转为诉求")).to_be_visible()
    screenshot(page, "grid-visit-375")
