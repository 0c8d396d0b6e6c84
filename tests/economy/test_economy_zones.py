"""产业布局 (the town's "四区五园十基地"): the town lists and adds its zones on a page; a name carrying a
village's name is refused (zones are offered to every village); a village secretary may add none."""
from yiwang.economy.models import Zone
from yiwang.core.models import AuditEntry

TOWN = "150627105"


def test_the_town_lists_and_adds_a_zone(login):
    client = login("town_admin")
    page = client.get("/economy/zones/")
    assert page.status_code == 200
    html = page.content.decode()
    for zone in Zone.objects.filter(town__code=TOWN):
        assert zone.name in html
    r = client.post("/economy/zones/", {"town": TOWN, "kind": "park", "name": "测试食品加工园"})
    assert r.status_code == 302 and r["Location"] == "/economy/zones/"
    zone = Zone.objects.get(town__code=TOWN, name="测试食品加工园")
    assert zone.kind == "park"
    assert AuditEntry.objects.filter(action="economy.create_zone", object_id=str(zone.pk), allowed=True).exists()
    assert "测试食品加工园" in client.get("/economy/projects/new/").content.decode()  # offered on project forms


def test_a_zone_named_after_a_village_or_twice_is_refused(login):
    client = login("town_admin")
    count = Zone.objects.count()
    r = client.post("/economy/zones/", {"town": TOWN, "kind": "base", "name": "纳林希里养殖基地"})
    assert r.status_code == 200 and "村名" in r.content.decode()
    existing = Zone.objects.filter(town__code=TOWN).first()
    r = client.post("/economy/zones/", {"town": TOWN, "kind": existing.kind, "name": existing.name})
    assert r.status_code == 200 and "已存在" in r.content.decode()
    assert Zone.objects.count() == count


def test_a_village_secretary_adds_no_zone(login):
    client = login("wlne_secretary")
    assert client.get("/economy/zones/").status_code == 200
    count = Zone.objects.count()
    r = client.post("/economy/zones/", {"town": TOWN, "kind": "park", "name": "越权园区"})
    assert r.status_code == 200 and r.context["form"].errors.get("town")  # the town is not among the choices
    assert Zone.objects.count() == count
