"""The Open311 key page's 停用 button: the town stops a key; the key is refused at once; a user without
``cases.policy`` over the key's region gets a 404, and nothing changes."""
import re
from urllib.parse import urlencode

from django.test import Client

from yiwang.areas.models import Region
from yiwang.cases import actions
from yiwang.cases.models import ApiKey
from yiwang.core.models import AuditEntry

WLNE, TOWN = "150627105215", "150627105"


def _post_report(plain):
    actions.ensure_default_categories(by=None)
    return Client().post("/open311/v2/requests.json", urlencode({
        "api_key": plain, "service_code": "infrastructure-light", "lat": "39.29", "long": "109.74",
        "region_code": WLNE, "description": "停用测试：路灯不亮"}), content_type="application/x-www-form-urlencoded")


def test_the_town_stops_a_key_from_its_page(login):
    key, plain = actions.create_api_key(name="旧的对接应用", region=Region.objects.get(code=WLNE), by=None)
    assert _post_report(plain).status_code == 200
    admin = login("town_admin")
    page = admin.get("/cases/api-keys/").content.decode()
    assert f'/cases/api-keys/{key.pk}/deactivate/' in page
    r = admin.post(f"/cases/api-keys/{key.pk}/deactivate/", follow=True)
    assert r.status_code == 200 and "已停用密钥“旧的对接应用”" in r.content.decode()
    key.refresh_from_db()
    assert key.active is False
    assert f'/cases/api-keys/{key.pk}/deactivate/' not in r.content.decode()  # no button on a stopped key
    assert _post_report(plain).status_code == 403
    assert AuditEntry.objects.filter(action="cases.deactivate_api_key", object_id=str(key.pk), allowed=True).count() == 1
    again = admin.post(f"/cases/api-keys/{key.pk}/deactivate/", follow=True)  # a second click: told, nothing written
    assert "已停用" in again.content.decode()
    assert AuditEntry.objects.filter(action="cases.deactivate_api_key", object_id=str(key.pk), allowed=True).count() == 1


def test_a_key_outside_the_users_scope_is_a_404_and_stays_on(login):
    key, plain = actions.create_api_key(name="镇级应用", region=Region.objects.get(code=TOWN), by=None)
    secretary = login("wlne_secretary")
    assert secretary.post(f"/cases/api-keys/{key.pk}/deactivate/").status_code == 404
    assert login("town_admin").get(f"/cases/api-keys/{key.pk}/deactivate/").status_code == 405
    assert login("town_admin").post("/cases/api-keys/999999/deactivate/").status_code == 404
    assert ApiKey.objects.get(pk=key.pk).active is True
    assert _post_report(plain).status_code == 200
