"""Sign-in in the browser: a Chinese page with the demo logins, Chinese errors, lockout after 5 failures."""
import re

import pytest
from playwright.sync_api import expect

from yiwang.accounts import actions as account_actions
from yiwang.areas.models import Region
from yiwang.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD

WLNE = "150627105215"


def test_login_page_is_chinese_and_lists_demo_accounts(page, screenshot):
    page.goto("/accounts/login/")
    expect(page).to_have_title(re.compile("登录"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator("h1")).to_contain_text("登录一网")
    expect(page.locator("label[for=id_username]")).to_have_text("用户名")
    expect(page.locator("label[for=id_password]")).to_have_text("密码")
    expect(page.locator("button[type=submit]")).to_have_text("登录")
    hint = page.locator("#demo-accounts")
    expect(hint).to_contain_text("演示账号")
    expect(hint).to_contain_text("正式环境不存在默认密码")
    expect(hint).to_contain_text(DEMO_PASSWORD)
    for account in DEMO_ACCOUNTS:
        expect(hint).to_contain_text(account.username)
    screenshot(page, "login-desktop")


def test_wrong_password_shows_chinese_error_and_stays_signed_out(page):
    page.goto("/accounts/login/")
    page.fill("#id_username", "wlne_secretary")
    page.fill("#id_password", "not-the-password")
    page.click("button[type=submit]")
    error = page.locator("form .alert-danger")
    expect(error).to_be_visible()
    expect(error).to_contain_text("密码")
    assert not re.search("[A-Za-z]{4,}", error.inner_text()), error.inner_text()  # no English fallback
    expect(page).to_have_url(re.compile("/accounts/login/"))
    page.goto("/people/households/")
    expect(page).to_have_url(re.compile("/accounts/login/"))  # still not signed in


@pytest.fixture
def throwaway_user(unique):
    """A fresh village cadre of 乌兰淖尔 (never a demo login, which other tests need unlocked)."""
    username = unique("e2e_lock_")
    password = "Lockout#2024x"
    user = account_actions.create_user(username=username, password=password, display_name="锁定测试", by=None)
    account_actions.assign_role(user, role="village_cadre", region=Region.objects.get(code=WLNE), by=None)
    return username, password


def test_five_failures_lock_the_account(new_page, sign_in, throwaway_user):
    username, password = throwaway_user
    # the account works with its password ...
    page = sign_in(new_page(), username, password)
    expect(page.locator("#yw-user")).to_be_visible()

    page = new_page()
    page.goto("/accounts/login/")
    for attempt in range(1, 6):
        page.fill("#id_username", username)
        page.fill("#id_password", f"wrong-{attempt}")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        if attempt < 5:
            expect(page.locator("form .alert-danger")).to_contain_text("密码")
            expect(page.locator("#locked-out")).to_have_count(0)
    # ... the fifth failure locks it, with a Chinese message
    locked = page.locator("#locked-out")
    expect(locked).to_contain_text("已锁定 30 分钟")
    expect(locked).to_contain_text("安全管理员")

    # and while locked the right password does not get in either
    page = new_page()
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    expect(page.locator("#locked-out")).to_contain_text("已锁定")
    page.goto("/people/households/")
    expect(page).to_have_url(re.compile("/accounts/login/"))
