"""Smoke: the demo town loads and a village secretary signs in to their own village."""
from yiwang.people.models import Household


def test_secretary_sees_only_own_village(login, demo_user):
    client = login("wlne_secretary")
    response = client.get("/people/households/")
    assert response.status_code == 200
    user = demo_user("wlne_secretary")
    visible = Household.objects.visible_to(user)
    assert visible.exists()
    assert not visible.exclude(village__code="150627105215").exists()
    other = Household.objects.filter(village__code="150627105214").first()
    assert client.get(f"/people/households/{other.pk}/").status_code == 404
    assert client.get(f"/api/households/{other.pk}/").status_code == 404
