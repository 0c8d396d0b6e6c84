"""The shell at a phone's 375 px and a desktop's 1920 px: collapsed menu, no sideways page, tables that scroll."""
import pytest
from playwright.sync_api import expect

from yiwang.people.models import Household

PHONE = {"width": 375, "height": 812}
WIDE = {"width": 1920, "height": 1080}
TOLERANCE = 2  # px


def page_width(page):
    return page.evaluate("document.documentElement.scrollWidth")


def test_phone_collapses_the_menu_and_keeps_the_household_table_inside(new_page, sign_in, screenshot):
    page = sign_in(new_page(viewport=PHONE), "wlne_secretary")
    page.goto("/people/households/")
    toggler = page.locator(".navbar-toggler")
    expect(toggler).to_be_visible()
    people_link = page.locator("#yw-nav a[data-module='people']")
    expect(people_link).to_be_hidden()
    # the page itself is never wider than the phone ...
    assert page_width(page) <= PHONE["width"] + TOLERANCE, page_width(page)
    # ... the household table scrolls inside its container instead, one line per cell
    container = page.locator(".table-responsive").first
    inner, outer = container.evaluate("c => [c.scrollWidth, c.clientWidth]")
    assert inner > outer, "the table should be wider than the phone and scroll inside its container"
    assert container.evaluate("c => getComputedStyle(c).overflowX") == "auto"
    row_height = page.locator("table tbody tr").first.evaluate("r => r.getBoundingClientRect().height")
    assert row_height < 60, f"cells wrap one character per line ({row_height}px rows)"
    # pagination and the count stay reachable
    expect(page.locator("#yw-total")).to_be_visible()
    expect(page.locator(".pagination")).to_be_visible()
    screenshot(page, "households-375")

    # the toggler opens the menu (Bootstrap's script is loaded and working)
    toggler.click()
    expect(people_link).to_be_visible()
    expect(page.locator("#region-switcher select")).to_be_visible()
    expect(page.locator("#yw-nav.collapsing")).to_have_count(0)  # the opening animation has ended
    screenshot(page, "households-375-menu")
    people_link.click()
    expect(page.locator("main h1")).to_contain_text("户籍")


@pytest.mark.parametrize("url", ["/", "/people/households/", "/people/persons/", "/areas/",
                                 "/insights/metrics/", "/people/households/new/", "HOUSEHOLD", "PERSON"])
def test_phone_pages_do_not_scroll_sideways(new_page, sign_in, url):
    household = Household.objects.filter(village__code="150627105215").order_by("number").first()
    url = {"HOUSEHOLD": household.get_absolute_url(),
           "PERSON": household.members.first().get_absolute_url()}.get(url, url)
    page = sign_in(new_page(viewport=PHONE), "wlne_secretary")
    assert page.goto(url).status == 200
    assert page_width(page) <= PHONE["width"] + TOLERANCE, (url, page_width(page))


def test_audit_log_on_a_phone(new_page, sign_in):
    page = sign_in(new_page(viewport=PHONE), "auditor")
    expect(page.locator("main h1")).to_contain_text("审计日志")
    assert page_width(page) <= PHONE["width"] + TOLERANCE, page_width(page)


def test_wide_screen_shows_the_menu(new_page, sign_in, screenshot):
    page = sign_in(new_page(viewport=WIDE), "town_admin")
    expect(page.locator(".navbar-toggler")).to_be_hidden()
    for module, label in (("areas", "区域网格"), ("people", "户籍人口"), ("insights", "指标")):
        expect(page.locator(f"#yw-nav a[data-module='{module}']")).to_be_visible()
        expect(page.locator(f"#yw-nav a[data-module='{module}']")).to_have_text(label)
    expect(page.locator("#region-switcher select")).to_be_visible()
    # the project's stylesheet is applied: party-red bar
    assert page.locator(".yw-navbar").evaluate("n => getComputedStyle(n).backgroundColor") == "rgb(183, 28, 28)"
    page.goto("/people/households/")
    assert page_width(page) <= WIDE["width"] + TOLERANCE
    expect(page.locator(".pagination")).to_be_visible()
    screenshot(page, "households-1920")
