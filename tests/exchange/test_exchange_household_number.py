"""One 户号 rule for the create form, the create action and the household sheet (people.validators): a
number one of them refuses, every other refuses too, with the same Chinese message."""
import pytest
from exchange_kit import WLNE, WLNE_GRID1, household_rows, issues_of, registry, run, xlsx

from yiwang.core.errors import ActionError
from yiwang.people import actions as people_actions
from yiwang.people.models import Household
from yiwang.people.validators import MESSAGE, clean_household_number

# what a ledger holds that the form refuses: a space, a slash, a 号, a '#', a doubled or trailing dash
REFUSED = ["A 1", "2023/17", "乌兰3号", "WLNE#1", "A--1", "A1-"]
# and what it accepts, some after NFKC (full-width digits and letters, surrounding spaces)
ACCEPTED = {"1506271052150001": "1506271052150001", "WLNE-0012": "WLNE-0012", "１２３": "123", "ＡＢ-1": "AB-1",
            "  T-9 ": "T-9"}


def form_data(number):
    return {"number": number, "village": WLNE, "grid": WLNE_GRID1, "address": "乌兰淖尔1组1号",
            "registered_on": "2023-01-01"}


@pytest.mark.parametrize("number", REFUSED)
def test_the_rule_refuses_with_one_chinese_message(number):
    with pytest.raises(ActionError) as info:
        clean_household_number(number)
    assert info.value.field == "number" and info.value.text == MESSAGE


@pytest.mark.parametrize("number, stored", ACCEPTED.items())
def test_the_rule_accepts_and_normalises(number, stored):
    assert clean_household_number(number) == stored


def test_the_rule_counts_length_after_normalising():
    assert clean_household_number("9" * 30) == "9" * 30
    with pytest.raises(ActionError, match="户号过长：最多 30 个字符，实际 31 个"):
        clean_household_number("9" * 31)


@pytest.mark.parametrize("number", REFUSED)
def test_the_create_form_refuses_what_the_rule_refuses(number, login):
    client = login("wlne_secretary")
    before = Household.objects.count()
    response = client.post("/people/households/new/", form_data(number))
    assert response.status_code == 200
    assert response.context["form"].errors == {"number": [MESSAGE]}
    assert Household.objects.count() == before


def test_the_create_form_stores_the_normalised_number(login):
    client = login("wlne_secretary")
    response = client.post("/people/households/new/", form_data("ＦＯＲＭ-７７"))
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    assert Household.objects.filter(number="FORM-77", village__code=WLNE).exists()


def test_the_create_action_refuses_what_the_form_refuses(demo_user):
    from yiwang.areas.models import Region

    user = demo_user("wlne_secretary")
    with pytest.raises(ActionError) as info:
        people_actions.create_household(number="乌兰3号", village=Region.objects.get(code=WLNE),
                                        grid=Region.objects.get(code=WLNE_GRID1), registered_on="2023-01-01",
                                        by=user)
    assert info.value.text == MESSAGE


def test_the_household_sheet_refuses_what_the_form_refuses(demo_user):
    user = demo_user("wlne_secretary")
    rows = household_rows("HHNO", len(REFUSED) + 1, members=1)
    for row, number in zip(rows, REFUSED):
        row["number"] = number
    rows[-1]["number"] = "ＨＨＮＯ-１"  # full-width: accepted as HHNO-1
    before = registry()
    job = run("households", xlsx(rows), by=user)
    assert job.status == "rejected"
    assert issues_of(job) == {(2 + i, "户号"): MESSAGE for i in range(len(REFUSED))}
    assert registry() == before
    # with the refused rows gone the file goes in, and the full-width number is stored as the form would
    job = run("households", xlsx(rows[-1:]), by=user)
    assert job.status == "committed" and job.counts["new"] == 1
    assert Household.objects.filter(number="HHNO-1").exists()
