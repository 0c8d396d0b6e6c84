"""Dispatch in the browser: the town opens the console, takes the overdue queue, finds a case, assigns it
to the village secretary; the secretary resolves it with a photo, which comes back as a thumbnail
through the scoped photo view. The console and the case page also fit a phone."""
import datetime
import io
import re

from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from yiwang.areas.models import Region
from yiwang.cases import actions
from yiwang.cases.models import Case, Category

WLNE_GRID1 = "15062710521501"
PHONE = {"width": 360, "height": 780}


def overdue_case(title):
    """A hotline case reported 10 days ago in 乌兰淖尔 grid 1, never accepted: in the 超时 queue."""
    actions.ensure_default_categories(by=None)
    return actions.create_case(category=Category.objects.get(code="environment-waste"),
                               region=Region.objects.get(code=WLNE_GRID1), title=title,
                               description=f"{title}：村口垃圾十天没人清运", by=None, channel=Case.Channel.HOTLINE,
                               reporter_name="李大爷", reporter_phone="13900001111",
                               reported_at=timezone.now() - datetime.timedelta(days=10))


def png_file():
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (30, 120, 60)).save(buffer, "PNG")
    return {"name": "清运后.png", "mimeType": "image/png", "buffer": buffer.getvalue()}


def test_town_assigns_an_overdue_case_and_the_village_resolves_it(new_page, sign_in, unique, screenshot):
    title = unique("垃圾清运")
    case = overdue_case(title)

    # the town: console → 超时 queue → search → the case
    page = sign_in(new_page(), "town_admin")
    page.locator("#yw-nav a[data-module='cases']").click()
    expect(page.locator("main h1")).to_contain_text("诉求调度台")
    page.locator("#yw-warning-queues a[data-queue='overdue']").click()
    expect(page).to_have_url(re.compile(r"/cases/\?warning=overdue$"))
    expect(page.locator("#yw-warning-queues a[data-queue='overdue']")).to_have_class(re.compile(r"\bbtn-danger\b"))
    page.locator("details:has(#yw-filter) > summary").click()
    page.fill("#id_q", title)
    with page.expect_navigation():
        page.click("#yw-filter button:has-text('筛选')")
    row = page.locator(f"tr[data-case='{case.number}']")
    expect(row).to_be_visible()
    expect(row.locator(".yw-warning")).to_have_text("超时")
    expect(page.locator("#yw-total")).to_have_text("1")
    screenshot(page, "dispatch-console-overdue")
    row.locator(f"a:has-text('{case.number}')").click()

    # the case page: masked phone, the timeline, then 分派 to the village secretary
    expect(page.locator("#yw-case-title")).to_contain_text(title)
    expect(page.locator("#reporter-phone")).to_have_text("*******1111")
    expect(page.locator("#yw-timeline li")).to_have_count(1)
    page.locator("#form-assign > summary").click()
    page.select_option("#form-assign select[name=level]", "village")
    page.select_option("#form-assign select[name=handler]", "wlne_secretary")
    page.fill("#form-assign input[name=note]", "请村里今天清运")
    with page.expect_navigation():
        page.click("#form-assign button:has-text('分派')")
    expect(page.locator(".alert-success")).to_contain_text("已分派")
    expect(page.locator("#yw-case-state")).to_have_text("办理中")
    expect(page.locator("#yw-handler")).to_contain_text("乌兰淖尔村书记")
    expect(page.locator("#yw-timeline li")).to_have_count(2)
    expect(page.locator("#yw-timeline")).to_contain_text("待受理 → 办理中")
    case.refresh_from_db()
    assert (case.state, case.level, case.handler.username) == ("in_progress", "village", "wlne_secretary")

    # the village secretary resolves it with a photo
    page = sign_in(new_page(), "wlne_secretary")
    page.goto(case.get_absolute_url())
    page.locator("#form-resolve > summary").click()
    page.fill("#form-resolve textarea[name=result]", "已组织保洁员清运完毕")
    page.set_input_files("#form-resolve input[type=file]", png_file())
    with page.expect_navigation():
        page.click("#form-resolve button:has-text('办结')")
    expect(page.locator(".alert-success")).to_contain_text("已办结")
    expect(page.locator("#yw-case-state")).to_have_text("已办结待评价")
    expect(page.locator("#yw-result")).to_contain_text("已组织保洁员清运完毕")
    thumb = page.locator("#yw-photos img").first
    expect(thumb).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
    assert "/media/" not in thumb.get_attribute("src")
    screenshot(page, "dispatch-case-resolved")
    case.refresh_from_db()
    assert case.state == "resolved" and case.attachments.count() == 1
    assert list(case.events.values_list("action", flat=True)) == ["create", "assign", "resolve"]


def test_console_and_case_page_fit_a_phone(new_page, sign_in, unique, screenshot):
    case = overdue_case(unique("手机"))
    page = sign_in(new_page(viewport=PHONE), "wlne_secretary")
    for url in ("/cases/", case.get_absolute_url(), "/cases/categories/"):
        assert page.goto(url).status == 200
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"] + 2, (url, width)
    screenshot(page, "dispatch-categories-360")


def test_console_pages_older_and_newer_by_cursor_on_a_phone(new_page, sign_in, screenshot):
    """较早 shows the next rows of the newest-first list and keeps the queue; 较新 comes back to the first
    rows, where 较新 is disabled. On a phone, the pager stays on the page."""
    from yiwang.accounts.models import User
    from yiwang.cases.console.tables import DEFAULT_ORDER

    town_admin = User.objects.get(username="town_admin")
    want = list(Case.objects.visible_to(town_admin).filter(state="closed").order_by(*DEFAULT_ORDER)
                .values_list("number", flat=True)[:10])
    assert len(want) == 10, "the demo town should have closed cases for two pages of five"
    page = sign_in(new_page(viewport=PHONE), "town_admin")
    page.goto("/cases/?state=closed&per_page=5")
    rows = page.locator("table.yw-case-table tbody tr[data-case]")

    def shown():
        return [r.get_attribute("data-case") for r in rows.all()]

    assert shown() == want[:5]
    expect(page.locator("#yw-pager .yw-prev")).to_have_class(re.compile(r"\bdisabled\b"))
    with page.expect_navigation():
        page.locator("#yw-pager a", has_text="较早").click()
    expect(page).to_have_url(re.compile(r"state=closed.*older=\d+_\d+"))
    expect(page.locator("#yw-state-queues a[data-queue='closed']")).to_have_class(re.compile(r"\bbtn-primary\b"))
    assert shown() == want[5:10]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 2
    screenshot(page, "dispatch-console-older-360")
    with page.expect_navigation():
        page.locator("#yw-pager a", has_text="较新").click()
    assert shown() == want[:5]
    expect(page.locator("#yw-pager .yw-prev")).to_have_class(re.compile(r"\bdisabled\b"))
