"""我的消息: each user reads the outbox messages addressed to them, and nobody else's; a message links to
its case where the reader may see it (the staff page, or the resident's own phone page)."""
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yiwang.areas.models import Region
from yiwang.cases import actions
from yiwang.cases.models import Category, Notification

GRID1 = "15062710521501"


def new_case(by=None, title="消息测试：水管漏水"):
    actions.ensure_default_categories(by=None)
    return actions.create_case(category=Category.objects.get(code="livelihood-water"),
                               region=Region.objects.get(code=GRID1), description=title, by=by)


def test_the_handler_reads_the_assignment_and_others_do_not(login, demo_user):
    case = new_case()
    actions.assign_case(case, by=None, level="grid", handler=demo_user("wlne_grid1"))
    html = login("wlne_grid1").get("/cases/messages/").content.decode()
    assert case.number in html and f'href="/cases/{case.pk}/"' in html and 'data-kind="assigned"' in html
    for other in ("wlne_secretary", "nlxl_secretary", "town_admin"):
        assert case.number not in login(other).get("/cases/messages/").content.decode(), other


def test_the_resident_is_asked_to_rate_with_a_link_to_their_own_case(login, demo_user):
    resident = demo_user("wlne_resident")
    case = new_case(by=resident, title="消息测试：路面塌陷")
    actions.assign_case(case, by=None, level="village")
    actions.resolve_case(case, by=None, result="已回填压实")
    html = login("wlne_resident").get("/cases/messages/").content.decode()
    assert 'data-kind="resolved"' in html and "请对办理结果进行评价" in html
    assert f'href="/cases/m/c/{case.pk}/"' in html and f'href="/cases/{case.pk}/"' not in html


def test_queries_do_not_grow_with_messages(login, demo_user):
    worker = demo_user("wlne_grid1")
    client = login("wlne_grid1")

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/cases/messages/").status_code == 200
        return len(ctx.captured_queries)

    actions.assign_case(new_case(), by=None, level="grid", handler=worker)
    one = count()
    for i in range(5):
        actions.assign_case(new_case(title=f"消息测试 {i}"), by=None, level="grid", handler=worker)
    assert Notification.objects.filter(recipient=worker).count() >= 6
    assert count() == one
