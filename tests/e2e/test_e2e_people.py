"""A village secretary registers a household and a member in the browser, and reads the full ID number
(htmx, audited); a bad ID number is refused next to the field with nothing written."""
import datetime
import random
import re

import pytest
from playwright.sync_api import expect

from yiwang.core import crypto
from yiwang.core.idnumber import make_id_number
from yiwang.core.models import AuditEntry
from yiwang.people.models import Household, Person

WLNE = "150627105215"


def unused_id_number():
    """A valid ID number of the banner that no person holds (the demo uses seq 000-999 on random dates)."""
    rng = random.Random()
    while True:
        birth = datetime.date(1950, 1, 1) + datetime.timedelta(days=rng.randrange(365 * 50))
        number = make_id_number("150627", birth, rng.randrange(1000))
        if not Person.objects.filter(id_hash=crypto.lookup_hash(number)).exists():
            return number


def wrong_check_digit(number):
    return number[:17] + next(c for c in "0123456789X" if c != number[17])


def fill_member_form(page, *, name, id_number, relation="户主"):
    page.fill("#id_name", name)
    page.fill("#id_id_number", id_number)
    page.fill("#id_phone", "13912345678")
    page.select_option("#id_political_status", label="群众")
    page.select_option("#id_relation", label=relation)
    page.select_option("#id_status", label="在册")
    page.fill("#id_registered_on", "2023-05-01")


def test_secretary_registers_household_and_member_and_reveals_id(page, sign_in, unique, screenshot):
    number = unique(f"{WLNE}E").upper()
    name = "测试" + unique("")[:4]
    id_number = unused_id_number()
    sign_in(page, "wlne_secretary")

    # the household, from the list page's 新增 button
    page.goto("/people/households/")
    page.click("text=新增")
    expect(page.locator("main h1")).to_have_text("新增户")
    page.fill("#id_number", number)
    page.select_option("#id_village", WLNE)
    page.select_option("#id_grid", f"{WLNE}01")
    page.fill("#id_address", "乌兰淖尔村1组99号")
    page.fill("#id_registered_on", "2023-05-01")
    page.check("input[name=tags][value=dibao]")
    with page.expect_navigation():
        page.click("form.yw-form button:has-text('保存')")
    household = Household.objects.get(number=number)
    expect(page).to_have_url(re.compile(f"/people/households/{household.pk}/$"))
    expect(page.locator(".alert")).to_contain_text("已保存")
    expect(page.locator("main h1")).to_contain_text(number)
    expect(page.locator("main dl")).to_contain_text("2023年5月1日")
    expect(page.locator("main dl")).to_contain_text("低保户")
    assert household.village.code == WLNE and household.grid.code == f"{WLNE}01"
    assert AuditEntry.objects.filter(action="people.create_household", object_id=str(household.pk),
                                     actor__username="wlne_secretary").exists()

    # a member, from the household page's 新增成员 button
    page.click("text=新增成员")
    expect(page.locator("main h1")).to_have_text("新增成员")
    fill_member_form(page, name=name, id_number=id_number)
    with page.expect_navigation():
        page.click("form.yw-form button:has-text('保存')")
    person = Person.objects.get(household=household)
    assert person.name == name and person.id_number_plain() == id_number
    expect(page).to_have_url(re.compile(f"/people/persons/{person.pk}/$"))

    # the detail page shows the number masked, never in full ...
    masked = crypto.mask_id_number(id_number)
    shown = page.locator("#id-number")
    expect(shown).to_have_text(masked)
    assert id_number not in page.content()
    expect(page.locator("main dl")).to_contain_text(f"{person.birth_date.year}年{person.birth_date.month}月"
                                                    f"{person.birth_date.day}日")
    assert not AuditEntry.objects.filter(action="people.reveal_id_number", object_id=str(person.pk)).exists()
    screenshot(page, "person-masked")

    # ... until 查看完整 is clicked: htmx swaps in the full number, and the reading is audited
    page.locator("#id-number + button").click()
    expect(shown).to_have_text(id_number)
    expect(page).to_have_url(re.compile(f"/people/persons/{person.pk}/$"))  # in place, no page load
    entry = AuditEntry.objects.get(action="people.reveal_id_number", object_id=str(person.pk))
    assert entry.actor.username == "wlne_secretary" and entry.allowed and entry.ip == "127.0.0.1"
    assert id_number not in str(entry.changes)

    # the household page lists the new head with the masked number
    page.goto(household.get_absolute_url())
    expect(page.locator("main dl")).to_contain_text(name)  # 户主
    expect(page.locator("main table")).to_contain_text(masked)


@pytest.mark.parametrize("mistake, message", [
    ("checksum", "校验位错误"),
    ("length", "应为 18 位"),
])
def test_bad_id_number_is_refused_next_to_the_field(page, sign_in, unique, mistake, message):
    household = Household.objects.filter(village__code=WLNE).order_by("number").first()
    members_before = household.members.count()
    persons_before = Person.objects.count()
    audit_before = AuditEntry.objects.filter(action="people.add_person").count()
    name = "错号" + unique("")[:4]
    good = unused_id_number()
    bad = wrong_check_digit(good) if mistake == "checksum" else good[:-1]

    sign_in(page, "wlne_secretary")
    page.goto(f"/people/households/{household.pk}/members/new/")
    fill_member_form(page, name=name, id_number=bad, relation="子女")
    page.click("form.yw-form button:has-text('保存')")
    page.wait_for_load_state()

    field = page.locator("#id_id_number")
    expect(field).to_have_class(re.compile(r"\bis-invalid\b"))
    error = page.locator("#id_id_number ~ .invalid-feedback")
    expect(error).to_be_visible()
    expect(error).to_contain_text("身份证号码")
    expect(error).to_contain_text(message)
    # nothing else is flagged, and what was typed is still there to correct
    expect(page.locator(".is-invalid")).to_have_count(1)
    expect(page.locator("#id_name")).to_have_value(name)
    expect(field).to_have_value(bad)
    expect(page.locator(".alert-success")).to_have_count(0)

    assert household.members.count() == members_before
    assert Person.objects.count() == persons_before
    assert not Person.objects.filter(name=name).exists()
    assert AuditEntry.objects.filter(action="people.add_person").count() == audit_before


def test_reveal_without_the_right_is_refused_on_the_page_and_audited(page, sign_in):
    """The town leader may look at persons but holds no 查看完整 right (pii.reveal)."""
    person = Person.objects.filter(household__village__code=WLNE).order_by("pk").first()
    refusals = AuditEntry.objects.filter(action="people.reveal_id_number", object_id=str(person.pk), allowed=False)
    before = refusals.count()
    sign_in(page, "town_leader")
    page.goto(person.get_absolute_url())
    shown = page.locator("#id-number")
    masked = shown.inner_text()
    button = page.locator("#id-number + button")
    button.click()
    expect(button).to_have_text(re.compile("无权查看"))
    expect(button).to_be_disabled()
    expect(shown).to_have_text(masked)
    assert "*" in masked and len(masked) == 18
    assert refusals.count() == before + 1
