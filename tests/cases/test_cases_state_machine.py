"""The case state machine through its actions: every allowed path, every refused transition with its
Chinese message, deadlines fixed from the category's policy, the one-time reopen on a dissatisfied
rating, extensions, 吹哨, duplicate suggestions, photos, and two people acting on one case at once."""
import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from yiwang.areas.models import Region
from yiwang.cases import actions
from yiwang.cases.models import Attachment, Case, CaseEvent, Category, Department, Notification
from yiwang.core.errors import ActionError, PermissionRefused
from yiwang.people.models import Household

GRID1, WLNE, NLXL = "15062710521501", "150627105215", "150627105214"


def png_bytes(width=40, height=30):
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def setup(db, demo_user):
    actions.ensure_default_categories(by=None)

    class S:
        grid = Region.objects.get(code=GRID1)
        village = Region.objects.get(code=WLNE)
        other_village = Region.objects.get(code=NLXL)
        light = Category.objects.get(code="infrastructure-light")
        water = Category.objects.get(code="livelihood-water")
        fire = Category.objects.get(code="safety-fire")
        secretary = demo_user("wlne_secretary")
        other_secretary = demo_user("nlxl_secretary")
        worker = demo_user("wlne_grid1")
        town = demo_user("town_admin")
        resident = demo_user("wlne_resident")

    return S


def report(s, **kw):
    kw.setdefault("category", s.light)
    kw.setdefault("region", s.grid)
    kw.setdefault("description", "村口路灯不亮三天了")
    kw.setdefault("by", s.worker)
    return actions.create_case(**kw)


def test_deadlines_come_from_the_category_policy(setup):
    s = setup
    at = timezone.now() - datetime.timedelta(hours=1)
    water = report(s, category=s.water, reported_at=at)
    fire = report(s, category=s.fire, reported_at=at)
    light = report(s, reported_at=at)
    assert water.resolve_due - water.reported_at == datetime.timedelta(hours=24)
    assert fire.resolve_due - fire.reported_at == datetime.timedelta(hours=2)
    assert light.resolve_due - light.reported_at == datetime.timedelta(days=7)
    assert water.accept_due - water.reported_at == datetime.timedelta(hours=2)
    # editing the policy changes new cases only
    actions.save_category(code=s.light.code, name=s.light.name, parent=s.light.parent, accept_hours=4,
                          resolve_hours=72, by=s.town)
    s.light.refresh_from_db()
    again = report(s, reported_at=at)
    assert again.resolve_due - again.reported_at == datetime.timedelta(hours=72)
    light.refresh_from_db()
    assert light.resolve_due - light.reported_at == datetime.timedelta(days=7)
    assert water.number.startswith(timezone.localtime(at).strftime("%Y%m%d")) and len(water.number) == 13


def test_the_whole_path_with_one_reopen(setup):
    s = setup
    case = report(s, by=s.resident, channel="resident")
    assert case.state == "submitted" and case.reporter == s.resident and case.level == "grid"
    actions.accept_case(case, by=s.secretary, note="已受理")
    actions.assign_case(case, by=s.secretary, level="grid", handler=s.worker)
    assert Notification.objects.filter(case=case, kind="assigned", recipient=s.worker).count() == 1
    actions.escalate_case(case, by=s.worker, reason="需要村里协调电工")
    assert case.state == "escalated" and case.level == "village" and case.handler is None
    actions.assign_case(case, by=s.secretary, level="village", handler=s.secretary)
    actions.resolve_case(case, by=s.secretary, result="已更换灯泡")
    assert Notification.objects.filter(case=case, kind="resolved", recipient=s.resident).count() == 1
    actions.rate_case(case, by=s.resident, rating="dissatisfied", comment="第二天又不亮了")
    case.refresh_from_db()
    assert case.state == "in_progress" and case.reopen_count == 1 and case.resolved_at is None
    assert case.first_rating == "dissatisfied"
    actions.resolve_case(case, by=s.secretary, result="更换了整套灯具")
    assert Notification.objects.filter(case=case, kind="resolved").count() == 2
    actions.rate_case(case, by=s.resident, rating="dissatisfied")
    case.refresh_from_db()
    assert case.state == "closed" and case.rating == "dissatisfied" and case.reopen_count == 1  # reopened once only
    steps = list(CaseEvent.objects.filter(case=case).values_list("action", flat=True))
    assert steps == ["create", "accept", "assign", "escalate", "assign", "resolve", "rate", "resolve", "rate"]


@pytest.mark.parametrize("action,call", [
    ("受理", lambda c, by: actions.accept_case(c, by=by)),
    ("办结", lambda c, by: actions.resolve_case(c, by=by, result="x")),
    ("上报", lambda c, by: actions.escalate_case(c, by=by, reason="x")),
    ("评价", lambda c, by: actions.rate_case(c, by=None, rating="satisfied")),
])
def test_a_transition_not_allowed_from_the_state_is_refused_and_changes_nothing(setup, action, call):
    s = setup
    case = report(s)
    actions.reject_case(case, by=s.secretary, reason="重复反映，已在办理")
    before = (case.state, case.version, CaseEvent.objects.filter(case=case).count())
    with pytest.raises(ActionError) as e:
        call(case, s.secretary)
    assert f"当前状态为“不予受理”，不能{action}" in e.value.text
    case.refresh_from_db()
    assert (case.state, case.version, CaseEvent.objects.filter(case=case).count()) == before


def test_outside_scope_is_refused(setup):
    s = setup
    with pytest.raises(PermissionRefused):
        report(s, by=s.other_secretary)  # 纳林希里's secretary reporting in 乌兰淖尔's grid
    case = report(s)
    with pytest.raises(PermissionRefused):
        actions.accept_case(case, by=s.other_secretary)
    with pytest.raises(PermissionRefused):
        actions.supervise_case(case, by=s.secretary, level="red", note="村里不能督办")
    other_household = Household.objects.filter(region_path__startswith=s.other_village.path).first()
    with pytest.raises(ActionError, match="不在"):
        report(s, household=other_household)


def test_only_the_reporter_rates(setup):
    s = setup
    case = report(s, by=s.resident, channel="resident")
    actions.assign_case(case, by=s.secretary, level="village", handler=s.secretary)
    actions.resolve_case(case, by=s.secretary, result="已处理")
    for stranger in (s.secretary, s.worker, s.town):
        with pytest.raises(PermissionRefused, match="报告人"):
            actions.rate_case(case, by=stranger, rating="satisfied")
    case.refresh_from_db()
    assert case.state == "resolved" and case.rating == ""
    actions.rate_case(case, by=s.resident, rating="basic")
    assert case.state == "closed"


def test_a_walk_in_case_is_rated_by_call_back(setup):
    s = setup
    case = report(s, by=s.secretary, channel="walk_in", reporter_name="张三", reporter_phone="138 0000 5678")
    assert case.reporter_phone_suffix == "5678" and "13800005678" not in case.reporter_phone_cipher
    actions.assign_case(case, by=s.secretary, level="village", handler=s.secretary)
    actions.resolve_case(case, by=s.secretary, result="已调解")
    with pytest.raises(PermissionRefused):
        actions.rate_case(case, by=s.other_secretary, rating="satisfied")
    actions.rate_case(case, by=s.secretary, rating="satisfied", comment="回访：满意")
    assert case.state == "closed"


def test_bad_input_gets_chinese_messages(setup):
    s = setup
    with pytest.raises(ActionError, match="分类"):
        actions.create_case(category=None, region=s.grid, description="x", by=s.worker)
    with pytest.raises(ActionError, match="问题描述不能为空"):
        report(s, description="  ")
    with pytest.raises(ActionError, match="纬度"):
        report(s, latitude="abc", longitude="109.1")
    with pytest.raises(ActionError, match="同时"):
        report(s, latitude="39.2")
    with pytest.raises(ActionError, match="不能包含"):
        report(s, description="<script>alert(1)</script>")
    with pytest.raises(ActionError, match="晚于现在"):
        report(s, reported_at=timezone.now() + datetime.timedelta(days=1), by=None)
    case = report(s)
    with pytest.raises(ActionError, match="理由"):
        actions.reject_case(case, by=s.secretary, reason="")
    with pytest.raises(ActionError, match="层级"):
        actions.assign_case(case, by=s.secretary, level="province")
    with pytest.raises(ActionError, match="权限"):
        actions.assign_case(case, by=s.secretary, level="village", handler=s.other_secretary)
    with pytest.raises(ActionError, match="部门"):
        actions.assign_case(case, by=s.secretary, level="department")
    assert Case.objects.filter(region=s.grid, description__contains="script").count() == 0


def test_photos_are_images_only(setup, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    s = setup
    before = Case.objects.count()
    exe = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, content_type="image/jpeg")
    with pytest.raises(ActionError, match="不是图片"):
        report(s, photos=[exe])
    assert Case.objects.count() == before and Attachment.objects.filter(case__region=s.grid).count() == 0
    case = report(s, photos=[SimpleUploadedFile("a.png", png_bytes(800, 600), content_type="image/png")])
    att = case.attachments.get()
    assert att.width == 800 and att.content_type == "image/png" and att.sha256
    from PIL import Image

    with att.thumbnail.open("rb") as f:
        assert max(Image.open(f).size) <= 320
    with pytest.raises(ActionError, match="最多 6 张"):
        report(s, photos=[SimpleUploadedFile(f"{i}.png", png_bytes(), content_type="image/png") for i in range(7)])


def test_duplicate_suggestions(setup):
    s = setup
    household = Household.objects.filter(grid=s.grid).first()
    first = report(s, household=household, latitude="39.300000", longitude="109.700000")
    actions.reject_case(first, by=s.secretary, reason="测试：已关闭的也要提示")
    near = actions.suggest_duplicates(category=s.light, latitude="39.300300", longitude="109.700000")  # ~33 m
    assert first in near
    far = actions.suggest_duplicates(category=s.light, latitude="39.301000", longitude="109.700000")  # ~111 m
    assert first not in far
    assert first in actions.suggest_duplicates(category=s.light, household=household)
    assert first not in actions.suggest_duplicates(category=s.water, household=household)
    later = timezone.now() + datetime.timedelta(days=31)
    assert first not in actions.suggest_duplicates(category=s.light, household=household, at=later)
    dup = report(s, household=household)
    actions.merge_case(dup, into=first, by=s.secretary)
    assert dup.state == "merged" and dup.merged_into == first
    assert CaseEvent.objects.filter(case=first, action="merged_in").exists()


def test_extension_and_supervision(setup):
    s = setup
    case = report(s)
    actions.assign_case(case, by=s.secretary, level="village", handler=s.secretary)
    due = case.resolve_due
    ext = actions.request_extension(case, by=s.secretary, hours=48, reason="等待配件到货")
    with pytest.raises(ActionError, match="待审批"):
        actions.request_extension(case, by=s.secretary, hours=24, reason="再等等")
    with pytest.raises(PermissionRefused):
        actions.decide_extension(ext, by=s.secretary, approve=True)  # a village may not approve its own
    actions.decide_extension(ext, by=s.town, approve=True, note="同意")
    case.refresh_from_db()
    assert case.resolve_due == due + datetime.timedelta(hours=48)
    with pytest.raises(ActionError, match="已批准"):
        actions.decide_extension(ext, by=s.town, approve=False)
    actions.supervise_case(case, by=s.town, level="yellow", note="请加快")
    assert case.supervision == "yellow"


def test_whistle_departments_report_within_thirty_minutes(setup):
    s = setup
    case = report(s, category=s.fire)
    depts = list(Department.objects.filter(code__in=["police", "safety"]))
    t0 = timezone.now() - datetime.timedelta(minutes=40)
    whistles = actions.whistle_case(case, by=s.town, departments=depts, note="草场火情", at=t0)
    assert case.state == "escalated" and case.level == "town"
    assert all(w.due_at == t0 + datetime.timedelta(minutes=30) for w in whistles)
    actions.report_whistle(whistles[0], by=s.town, report="已到场", at=t0 + datetime.timedelta(minutes=20))
    actions.report_whistle(whistles[1], by=s.town, report="已到场", at=t0 + datetime.timedelta(minutes=35))
    late = dict(CaseEvent.objects.filter(case=case, action="whistle_report").values_list("data__department",
                                                                                         "data__late"))
    assert late == {depts[0].name: False, depts[1].name: True} or late == {depts[1].name: False, depts[0].name: True}
    with pytest.raises(ActionError, match="已于"):
        actions.report_whistle(whistles[0], by=s.town, report="again")


def test_overdue_and_warning_are_derived_from_the_deadlines(setup):
    s = setup
    now = timezone.now()
    case = report(s, by=None, reported_at=now - datetime.timedelta(days=6))  # 7-day window, 86 % used
    assert case.warning(now) == "overdue"  # not accepted within its 24 hours
    actions.accept_case(case, by=None, at=now - datetime.timedelta(days=6) + datetime.timedelta(hours=1))
    assert case.warning(now) == "red" and not case.is_overdue(now)
    assert case.warning(now - datetime.timedelta(days=2)) == "yellow"  # 57 %
    assert case.warning(now + datetime.timedelta(days=2)) == "overdue"
    actions.assign_case(case, by=None, level="village")
    actions.resolve_case(case, by=None, result="done")
    assert not case.is_overdue(now + datetime.timedelta(days=30))  # resolved in time stays in time
    late = report(s, by=None, reported_at=now - datetime.timedelta(days=8))
    assert late.is_overdue(now)
    actions.assign_case(late, by=None, level="village")
    actions.resolve_case(late, by=None, result="done")
    assert late.is_overdue(now + datetime.timedelta(days=30))  # resolved after its deadline


def test_a_stale_version_loses_with_a_clear_message(setup):
    s = setup
    case = report(s)
    mine = Case.objects.get(pk=case.pk)
    theirs = Case.objects.get(pk=case.pk)
    actions.accept_case(theirs, by=s.secretary)
    with pytest.raises(ActionError) as e:
        actions.reject_case(mine, by=s.worker, reason="重复")
    assert e.value.code == "conflict" and "刚被其他人处理过" in e.value.text and "已受理" in e.value.text
    case.refresh_from_db()
    assert case.state == "accepted" and case.events.count() == 2


def test_two_people_at_once_one_wins(django_db_setup, django_db_blocker):
    """Two threads, two connections, the same version read: exactly one transition lands. Committed data
    (no test transaction: each thread has its own connection), removed at the end."""
    from yiwang.accounts.models import User

    if connection.vendor != "postgresql":
        pytest.skip("two connections writing at once need a server database (SQLite serialises writers)")
    django_db_blocker.unblock()
    actions.ensure_default_categories(by=None)
    grid = Region.objects.get(code=GRID1)
    case = actions.create_case(category=Category.objects.get(code="infrastructure-light"), region=grid,
                               description="并发测试", by=None)
    users = [User.objects.get(username="wlne_secretary"), User.objects.get(username="town_admin")]
    barrier, results = threading.Barrier(2), []

    def act(user):
        from django.db import connection as conn

        copy = Case.objects.get(pk=case.pk)
        barrier.wait()
        try:
            actions.accept_case(copy, by=user)
            results.append("ok")
        except ActionError as e:
            results.append(e.code)
        finally:
            conn.close()

    threads = [threading.Thread(target=act, args=(u,)) for u in users]
    try:
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert sorted(results) == ["conflict", "ok"]
        assert CaseEvent.objects.filter(case=case, action="accept").count() == 1
    finally:
        Notification.objects.filter(case=case).delete()
        Case.objects.filter(pk=case.pk).delete()
        django_db_blocker.restore()


def test_a_number_clash_draws_again_and_nothing_half_written(setup, monkeypatch):
    s = setup
    draws = iter([4242, 4242, 777])
    monkeypatch.setattr(actions.secrets, "randbelow", lambda n: next(draws))
    at = timezone.now() - datetime.timedelta(minutes=5)
    first = report(s, reported_at=at)
    events = CaseEvent.objects.count()
    second = report(s, reported_at=at)
    day = timezone.localtime(at).strftime("%Y%m%d")
    assert first.number == f"{day}04242" and second.number == f"{day}00777"
    assert CaseEvent.objects.count() == events + 1  # the clashing attempt left nothing behind


def test_an_extension_asked_on_a_stale_page_is_a_conflict(setup):
    s = setup
    case = report(s)
    actions.assign_case(case, by=s.secretary, level="village", handler=s.secretary)
    stale = Case.objects.get(pk=case.pk)
    actions.supervise_case(case, by=s.town, level="red", note="限期办结")
    with pytest.raises(ActionError) as e:
        actions.request_extension(stale, by=s.secretary, hours=24, reason="等配件")
    assert e.value.code == "conflict" and not case.extensions.exists()
    with pytest.raises(ActionError) as e:
        actions.as_seen(Case.objects.get(pk=case.pk), stale.version)
    assert e.value.code == "conflict"
