"""Open311 keys in the browser: the town issues a key (shown once), a client posts with it, the town stops
it with 停用 (after the confirmation dialog), and the next post with it is refused."""
from urllib.parse import urlencode

from playwright.sync_api import expect

from yiwang.cases import actions
from yiwang.cases.models import ApiKey


def test_town_issues_and_stops_a_key(new_page, sign_in, unique, e2e_server):
    name = unique("热线对接")
    actions.ensure_default_categories(by=None)
    page = sign_in(new_page(), "town_admin")
    page.goto("/cases/api-keys/")
    page.fill("#id_name", name)
    page.select_option("#id_region", value="150627105215")
    page.click("form.yw-form button:has-text('创建')")
    plain = page.locator("#yw-new-key code").inner_text().strip()
    key = ApiKey.objects.get(name=name)

    def post():
        body = urlencode({"api_key": plain, "service_code": "infrastructure-light", "lat": "39.29",
                          "long": "109.74", "description": f"{name}：路灯不亮"})
        return page.request.post(f"{e2e_server.url}/open311/v2/requests.json", data=body,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})

    assert post().status == 200
    row = page.locator("#yw-keys tr", has_text=name)
    dialogs = []
    page.once("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    row.locator("button:has-text('停用')").click()
    expect(page.locator(".alert-success")).to_contain_text(f"已停用密钥“{name}”")
    assert dialogs and "不能重新启用" in dialogs[0]
    expect(page.locator("#yw-keys tr", has_text=name).locator("button")).to_have_count(0)
    key.refresh_from_db()
    assert key.active is False
    refused = post()
    assert refused.status == 403 and "api_key" in refused.json()[0]["description"]
