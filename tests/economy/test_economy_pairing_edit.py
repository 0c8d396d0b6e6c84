"""编辑帮带: the town changes a pairing's measures and ends it through the page; the strong village, which
sees the pairing, may not edit it; a bad end date is refused in Chinese and changes nothing."""
import datetime

from yiwang.economy.models import VillagePairing
from yiwang.core.models import AuditEntry


def _pairing():
    return VillagePairing.objects.filter(strong__code="150627105215", end_date__isnull=True).order_by("pk").first()


def test_town_ends_a_pairing_and_changes_its_measures(login):
    pairing = _pairing()
    client = login("town_admin")
    page = client.get(f"/economy/pairings/{pairing.pk}/")
    assert page.status_code == 200 and f"/economy/pairings/{pairing.pk}/edit/" in page.content.decode()
    r = client.post(f"/economy/pairings/{pairing.pk}/edit/", {"measures": "技术指导、联合销售", "end_date": "2023-06-30"})
    assert r.status_code == 302
    pairing.refresh_from_db()
    assert pairing.end_date == datetime.date(2023, 6, 30) and pairing.measures == "技术指导、联合销售"
    entry = AuditEntry.objects.filter(action="economy.update_pairing", object_id=str(pairing.pk)).latest("pk")
    assert entry.changes["end_date"] == [None, "2023-06-30"]


def test_a_bad_end_date_is_refused_and_changes_nothing(login):
    pairing = _pairing()
    before = (pairing.measures, pairing.end_date)
    r = login("town_admin").post(f"/economy/pairings/{pairing.pk}/edit/",
                                 {"measures": "改", "end_date": f"{pairing.start_date.year - 1}-01-01"})
    assert r.status_code == 200 and "结束日期不能早于开始日期" in r.content.decode()
    pairing.refresh_from_db()
    assert (pairing.measures, pairing.end_date) == before


def test_the_strong_village_sees_the_pairing_but_may_not_edit_it(login):
    pairing = _pairing()
    client = login("wlne_secretary")  # 乌兰淖尔 helps; the pairing lies under the weak village
    page = client.get(f"/economy/pairings/{pairing.pk}/")
    assert page.status_code == 200 and "/edit/" not in page.content.decode()
    r = client.post(f"/economy/pairings/{pairing.pk}/edit/", {"measures": "越权", "end_date": ""})
    assert r.status_code == 403
    pairing.refresh_from_db()
    assert pairing.measures != "越权"
