"""Each demo login lands on its own scope; a village secretary sees only their village, anywhere."""
import re

import pytest
from playwright.sync_api import expect

from yiwang.areas.models import Region
from yiwang.demo.accounts import DEMO_ACCOUNTS
from yiwang.people.models import Household

WLNE, NLXL, TOWN = "150627105215", "150627105214", "150627105"
ACCOUNTS = {a.username: a for a in DEMO_ACCOUNTS}


def csrf_post(page, url, form):
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    return page.request.post(url, form=form, headers={"X-CSRFToken": token, "Referer": page.url},
                             max_redirects=0)


@pytest.mark.parametrize("username", ["town_admin", "town_leader", "wlne_secretary", "nlxl_secretary",
                                      "wlne_grid1", "banner_viewer"])
def test_demo_login_lands_on_its_own_region(page, sign_in, username):
    account = ACCOUNTS[username]
    region = Region.objects.get(code=account.region_code)
    sign_in(page, username)
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("main h1")).to_contain_text(region.name)
    expect(page.locator("#yw-user")).to_contain_text(account.display_name)
    # the home figures are those of that region
    households = Household.objects.filter(region_path__startswith=region.path).count()
    shown = page.locator("[data-metric='people.households']").inner_text()
    assert int(re.sub(r"[^\d]", "", shown)) == households, shown


@pytest.mark.parametrize("username, landing, heading", [
    ("auditor", "/accounts/audit/", "审计日志"),
    ("sysadmin", "/accounts/users/", "用户"),
    ("secadmin", "/accounts/users/", "用户"),
])
def test_administrators_land_on_their_own_page(page, sign_in, username, landing, heading):
    sign_in(page, username)
    expect(page).to_have_url(re.compile(re.escape(landing) + "$"))
    expect(page.locator("main h1")).to_contain_text(heading)
    if username == "auditor":
        expect(page.locator("#yw-nav a[data-module='people']")).to_have_count(0)


def test_village_secretary_sees_only_their_village(page, sign_in):
    village = Region.objects.get(code=WLNE)
    expected = Household.objects.filter(village=village).count()
    sign_in(page, "wlne_secretary")
    page.goto("/people/households/")
    expect(page.locator("#yw-total")).to_have_text(str(expected))
    seen = 0
    while True:
        villages = page.locator("table tbody tr td:nth-child(3)").all_inner_texts()
        assert villages and set(villages) == {village.name}, set(villages)
        seen += len(villages)
        nxt = page.locator(".pagination li.next a")
        if not nxt.count():
            break
        nxt.click()
        page.wait_for_load_state()
    assert seen == expected
    # the filter offers only their own village
    expect(page.locator("#id_village option")).to_have_text(["全部", village.name])
    # searching for another village's household number finds nothing
    other = Household.objects.filter(village__code=NLXL).order_by("number").first()
    page.goto(f"/people/households/?q={other.number}")
    expect(page.locator("#yw-total")).to_have_text("0")


def test_other_village_household_is_404_by_url(page, sign_in):
    other = Household.objects.filter(village__code=NLXL).order_by("number").first()
    own = Household.objects.filter(village__code=WLNE).order_by("number").first()
    sign_in(page, "wlne_secretary")
    assert page.goto(f"/people/households/{own.pk}/").status == 200
    expect(page.locator("main h1")).to_contain_text(own.number)

    response = page.goto(f"/people/households/{other.pk}/")
    assert response.status == 404
    expect(page.locator("#yw-error")).to_contain_text("页面不存在")
    expect(page.locator("body")).not_to_contain_text(other.number)
    for url in (f"/people/households/{other.pk}/edit/", f"/people/households/{other.pk}/members/new/",
                f"/api/households/{other.pk}/", f"/areas/{NLXL}/"):
        assert page.request.get(url).status == 404, url
    member = other.members.first()
    assert page.goto(f"/people/persons/{member.pk}/").status == 404
    assert csrf_post(page, f"/people/persons/{member.pk}/reveal/id_number/", {}).status == 404


def test_region_switcher_offers_only_regions_in_scope(page, sign_in):
    sign_in(page, "wlne_secretary")
    options = page.locator("#region-switcher select option")
    assert page.locator("#region-switcher select option").evaluate_all("os => os.map(o => o.value)") == [WLNE]
    expect(options).to_have_text([Region.objects.get(code=WLNE).name])
    # a forged switch to the neighbouring village is refused and changes nothing
    assert csrf_post(page, "/areas/switch/", {"region": NLXL, "next": "/"}).status == 404
    page.goto("/")
    expect(page.locator("main h1")).to_contain_text(Region.objects.get(code=WLNE).name)


def test_town_switcher_lists_the_town_and_narrows_lists(page, sign_in):
    town = Region.objects.get(code=TOWN)
    sign_in(page, "town_admin")
    values = page.locator("#region-switcher select option").evaluate_all("os => os.map(o => o.value)")
    expected = set(town.subtree().exclude(kind=Region.Kind.GRID).values_list("code", flat=True))
    assert set(values) == expected
    village_level = Region.objects.filter(parent=town, kind__in=["village", "community"]).count()
    assert len(values) == 1 + village_level  # the town, its villages and community; grids are not listed
    assert all(v.startswith(TOWN) for v in values)

    page.goto("/people/households/")
    expect(page.locator("#yw-total")).to_have_text(str(Household.objects.filter(
        region_path__startswith=town.path).count()))
    with page.expect_navigation():
        page.select_option("#region-switcher select", NLXL)
    expect(page).to_have_url(re.compile("/people/households/"))
    expect(page.locator("#yw-total")).to_have_text(str(Household.objects.filter(village__code=NLXL).count()))
    villages = set(page.locator("table tbody tr td:nth-child(3)").all_inner_texts())
    assert villages == {Region.objects.get(code=NLXL).name}
