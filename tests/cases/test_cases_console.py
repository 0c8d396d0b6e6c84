"""The town dispatch console and the staff case page (/cases/): queues by state and by deadline computed
in SQL (checked against ``Case.warning``), filters, bulk actions all-or-nothing with Chinese results,
the case page's fields, masked phone and audited reveal, scoped photos, duplicate suggestions, the
timeline and each transition form; two people acting at once (one wins, the other is told); handler
choices; the category policy and Open311 key pages.

Cases are made here through the actions (the demo's cases may or may not be there), dated in the past
with ``reported_at`` so that deadlines have passed.
"""
import datetime
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from yiwang.accounts.models import User
from yiwang.areas.models import Region
from yiwang.cases import actions
from yiwang.cases.console.filtersets import filter_warning, queue_counts
from yiwang.cases.console.forms import handlers_for
from yiwang.cases.models import ApiKey, Case, CaseEvent, Category, Department, Extension, Whistle
from yiwang.core.models import AuditEntry

WLNE, NLXL = "150627105215", "150627105214"
WLNE_GRID1, NLXL_GRID1 = "15062710521501", "15062710521401"


def region(code):
    return Region.objects.get(code=code)


def category(code="environment-waste"):
    return Category.objects.get(code=code)


def ago(**delta):
    return timezone.now() - datetime.timedelta(**delta)


def make_case(title="路边垃圾堆积", *, where=WLNE_GRID1, cat="environment-waste", reported_at=None, by=None,
              phone="", **extra):
    """A case reported by the system (a hotline transfer: no reporter account) unless ``by`` is given."""
    return actions.create_case(category=category(cat), region=region(where), description=f"{title}，请尽快处理",
                               title=title, by=by, channel=Case.Channel.HOTLINE, reporter_name="王大姐",
                               reporter_phone=phone, reported_at=reported_at, **extra)


def png_bytes(colour=(200, 30, 30), size=(640, 480)):
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def upload(name="result.png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture(autouse=True)
def categories(db):
    actions.ensure_default_categories(by=None)


# --------------------------------------------------------------------------- queues


def test_deadline_queues_in_sql_match_case_warning(db):
    """Overdue / red / yellow / normal from the SQL filter equal ``Case.warning`` case by case, and the
    one-query counts agree with both (general category: 24 h to accept, 168 h to resolve, 50 % / 80 %)."""
    now = timezone.now()
    waiting_late = make_case("待受理超时", reported_at=ago(hours=30))  # past accept_due (24 h), not resolve_due
    fresh = make_case("刚上报", reported_at=ago(hours=1))
    yellow = make_case("过半", reported_at=ago(hours=100))  # 100/168 = 60 %
    actions.accept_case(yellow, by=None)
    red = make_case("将超时", reported_at=ago(hours=150))  # 89 %
    actions.accept_case(red, by=None)
    late = make_case("已超时", reported_at=ago(hours=200))
    actions.accept_case(late, by=None)
    closed = make_case("已办结", reported_at=ago(hours=300))
    actions.accept_case(closed, by=None)
    actions.resolve_case(closed, by=None, result="已清运")
    mine = Case.objects.filter(pk__in=[c.pk for c in (waiting_late, fresh, yellow, red, late, closed)])
    expected = {"overdue": {waiting_late.pk, late.pk}, "red": {red.pk}, "yellow": {yellow.pk}, "normal": {fresh.pk}}
    for queue, pks in expected.items():
        got = set(filter_warning(mine, queue, now).values_list("pk", flat=True))
        assert got == pks, queue
        for case in mine.select_related("category").filter(pk__in=pks):
            assert (case.warning(now) or "normal") == queue
    with CaptureQueriesContext(connection) as ctx:
        counts = queue_counts(mine, now)
    assert len(ctx.captured_queries) == 2  # per working state, and the deadline queues of open cases
    assert {k: counts[k] for k in expected} == {k: len(v) for k, v in expected.items()}
    assert counts["submitted"] == 2 and counts["accepted"] == 3 and counts["resolved"] == 1


def test_category_warning_points_are_read_from_the_category(db, demo_user):
    """A stricter category (yellow at 10 %) puts the same age of case in the yellow queue."""
    actions.save_category(by=None, code="environment-waste", name="垃圾清运", parent=category("environment"),
                          accept_hours=24, resolve_hours=168, yellow_pct=10, red_pct=95)
    case = make_case("垃圾", reported_at=ago(hours=30))
    actions.accept_case(case, by=None)
    assert case.pk in set(filter_warning(Case.objects.all(), "yellow").values_list("pk", flat=True))


def test_console_shows_queues_filters_and_only_own_village(login):
    own = make_case("乌兰淖尔超时诉求", reported_at=ago(hours=200))
    actions.accept_case(own, by=None)
    theirs = make_case("纳林希里超时诉求", where=NLXL_GRID1, reported_at=ago(hours=200))
    client = login("wlne_secretary")
    r = client.get("/cases/", {"warning": "overdue"})
    assert r.status_code == 200
    page = r.content.decode()
    assert own.number in page and theirs.number not in page and "纳林希里" not in page
    assert "超时" in page and 'data-warning="overdue"' in page
    rows = r.context["view"].object_list
    assert own in rows and not rows.filter(region_path__startswith=region(NLXL).path).exists()
    # text search, category (a parent matches its children), region and state filters
    assert own.number in client.get("/cases/", {"q": own.number[-5:]}).content.decode()
    assert own.number in client.get("/cases/", {"category": "environment"}).content.decode()
    assert own.number not in client.get("/cases/", {"category": "dispute"}).content.decode()
    assert own.number in client.get("/cases/", {"area": WLNE_GRID1}).content.decode()
    assert own.number not in client.get("/cases/", {"state": "submitted"}).content.decode()
    assert own.number not in client.get("/cases/", {"warning": "normal"}).content.decode()
    town = login("town_admin").get("/cases/", {"warning": "overdue", "per_page": 500}).content.decode()
    assert own.number in town and theirs.number in town


def test_console_query_count_does_not_grow_with_rows(login):
    for i in range(6):
        make_case(f"计数诉求{i}", reported_at=ago(hours=i + 1))
    client = login("wlne_secretary")
    counts = []
    for per_page in (2, 50):
        client.get("/cases/", {"per_page": per_page})
        with CaptureQueriesContext(connection) as ctx:
            r = client.get("/cases/", {"per_page": per_page})
        counts.append(len(ctx.captured_queries))
        assert r.status_code == 200
    assert counts[0] == counts[1] <= 20, counts


# --------------------------------------------------------------------------- bulk


def test_bulk_accept_reports_each_case_in_chinese(login):
    a, b = make_case("批量一"), make_case("批量二")
    client = login("wlne_secretary")
    r = client.post("/cases/bulk/", {"cases": [a.pk, b.pk], "operation": "accept", "next": "/cases/?state=submitted"},
                    follow=True)
    assert r.redirect_chain[-1][0] == "/cases/?state=submitted"
    text = " ".join(messages_of(r))
    assert "已批量受理 2 件" in text and a.number in text and b.number in text
    assert set(Case.objects.filter(pk__in=[a.pk, b.pk]).values_list("state", flat=True)) == {"accepted"}


def test_bulk_is_all_or_nothing_with_the_reason(login):
    a, b = make_case("批量三"), make_case("批量四")
    actions.reject_case(b, by=None, reason="不属于受理范围")
    client = login("wlne_secretary")
    events = CaseEvent.objects.count()
    r = client.post("/cases/bulk/", {"cases": [a.pk, b.pk], "operation": "accept"}, follow=True)
    text = " ".join(messages_of(r))
    assert "批量受理未执行" in text and b.number in text and "不予受理" in text and "不能受理" in text
    assert Case.objects.get(pk=a.pk).state == "submitted"
    assert CaseEvent.objects.count() == events


def test_bulk_assign_and_supervise(login, demo_user):
    a, b = make_case("批量分派一"), make_case("批量分派二")
    client = login("town_admin")
    r = client.post("/cases/bulk/", {"cases": [a.pk, b.pk], "operation": "assign", "level": "village",
                                     "handler": "wlne_secretary", "note": "请村里处理"}, follow=True)
    assert "已批量分派 2 件" in " ".join(messages_of(r))
    for case in Case.objects.filter(pk__in=[a.pk, b.pk]):
        assert (case.state, case.level, case.handler.username) == ("in_progress", "village", "wlne_secretary")
    r = client.post("/cases/bulk/", {"cases": [a.pk], "operation": "supervise", "supervision": "red",
                                     "note": "限期办结"}, follow=True)
    assert "已批量督办 1 件" in " ".join(messages_of(r))
    assert Case.objects.get(pk=a.pk).supervision == "red"
    # a village secretary may not supervise: refused, nothing changed, the refusal audited
    r = login("wlne_secretary").post("/cases/bulk/", {"cases": [b.pk], "operation": "supervise",
                                                      "supervision": "yellow", "note": "x"}, follow=True)
    assert "批量督办未执行" in " ".join(messages_of(r))
    assert Case.objects.get(pk=b.pk).supervision == ""
    assert AuditEntry.objects.filter(action="cases.bulk_supervise", allowed=False,
                                     actor=demo_user("wlne_secretary")).exists()


def test_bulk_cannot_name_the_other_villages_case(login):
    theirs = make_case("纳林希里的", where=NLXL_GRID1)
    r = login("wlne_secretary").post("/cases/bulk/", {"cases": [theirs.pk], "operation": "accept"}, follow=True)
    assert "所选诉求不存在或无权处理" in " ".join(messages_of(r))
    assert Case.objects.get(pk=theirs.pk).state == "submitted"


# --------------------------------------------------------------------------- case page


def test_case_page_fields_masked_phone_and_audited_reveal(login, demo_user):
    case = make_case("噪音扰民", phone="13912345678", address="乌兰淖尔村2组")
    client = login("wlne_secretary")
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "噪音扰民" in page and "乌兰淖尔村2组" in page and "12345热线转办" in page
    assert "*******5678" in page and "13912345678" not in page
    assert "受理" in page and "不予受理理由" in page  # accept and reject forms for a waiting case
    assert "督办意见" not in page and "吹哨部门" not in page  # town supervision only
    r = client.post(f"/cases/{case.pk}/reveal-phone/", HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "13912345678" in r.content.decode()
    assert AuditEntry.objects.filter(action="cases.reveal_reporter_phone", object_id=str(case.pk),
                                     actor=demo_user("wlne_secretary")).exists()
    town_page = login("town_admin").get(f"/cases/{case.pk}/").content.decode()
    assert "督办意见" in town_page and "吹哨部门" not in town_page  # 吹哨 once accepted
    # the resident may not read the staff page at all (no cases.view): 404, no existence leak
    assert login("wlne_resident").get(f"/cases/{case.pk}/").status_code == 404


def test_two_people_accept_at_once_one_wins_the_other_is_told(login):
    case = make_case("同时受理")
    first, second = login("wlne_secretary"), login("town_admin")
    version = first.get(f"/cases/{case.pk}/").context["transitions"][0][1].initial["version"]
    assert second.get(f"/cases/{case.pk}/").status_code == 200
    r1 = first.post(f"/cases/{case.pk}/accept/", {"version": version, "note": "我来"}, follow=True)
    assert "已受理" in " ".join(messages_of(r1))
    r2 = second.post(f"/cases/{case.pk}/accept/", {"version": version, "note": "我也来"}, follow=True)
    told = " ".join(messages_of(r2))
    assert "刚被其他人处理过" in told and "已受理" in told and "请刷新页面" in told
    assert CaseEvent.objects.filter(case=case, action="accept").count() == 1
    # the same stale version on another transition is refused the same way
    r3 = second.post(f"/cases/{case.pk}/reject/", {"version": version, "reason": "重复"}, follow=True)
    assert "刚被其他人处理过" in " ".join(messages_of(r3))
    assert Case.objects.get(pk=case.pk).state == "accepted"


def test_handler_choices_are_people_who_may_handle_the_case(db, demo_user):
    case = make_case("谁来办")
    names = set(handlers_for(case.region_path).values_list("username", flat=True))
    assert {"wlne_secretary", "wlne_grid1", "town_admin"} <= names
    assert not names & {"nlxl_secretary", "wlne_resident", "town_leader", "auditor"}
    with CaptureQueriesContext(connection) as ctx:
        list(handlers_for(case.region_path))
    assert len(ctx.captured_queries) == 1


def test_assign_escalate_resolve_with_photo_and_scoped_photo_view(login, demo_user):
    case = make_case("村道塌陷", cat="infrastructure-road")
    town = login("town_admin")
    page = town.get(f"/cases/{case.pk}/")
    form = next(f for t, f in page.context["transitions"] if t.name == "assign")
    assert "wlne_secretary" in [u.username for u in form.fields["handler"].queryset]
    assert "nlxl_secretary" not in [u.username for u in form.fields["handler"].queryset]
    r = town.post(f"/cases/{case.pk}/assign/", {"version": case.version, "level": "village",
                                                 "handler": "wlne_secretary", "note": "请村里修"}, follow=True)
    assert "已分派" in " ".join(messages_of(r))
    case.refresh_from_db()
    assert (case.state, case.level, case.handler.username) == ("in_progress", "village", "wlne_secretary")
    # naming the other village's secretary is refused on the field
    r = town.post(f"/cases/{case.pk}/assign/", {"version": case.version, "level": "village",
                                                 "handler": "nlxl_secretary"})
    assert r.status_code == 400 and r.context["open_form"] == "assign"

    secretary = login("wlne_secretary")
    r = secretary.post(f"/cases/{case.pk}/resolve/", {"version": case.version, "result": "已修复路面",
                                                       "photos": [upload()]}, follow=True)
    assert "已办结" in " ".join(messages_of(r))
    case.refresh_from_db()
    assert case.state == "resolved" and case.result == "已修复路面"
    photo = case.attachments.get()
    page = secretary.get(f"/cases/{case.pk}/").content.decode()
    assert f"/cases/{case.pk}/photos/?file={photo.pk}&amp;size=thumb" in page
    assert "/media/" not in page
    full = secretary.get(f"/cases/{case.pk}/photos/", {"file": photo.pk})
    thumb = secretary.get(f"/cases/{case.pk}/photos/", {"file": photo.pk, "size": "thumb"})
    assert full.status_code == thumb.status_code == 200
    full_img = Image.open(io.BytesIO(b"".join(full.streaming_content)))
    thumb_img = Image.open(io.BytesIO(b"".join(thumb.streaming_content)))
    assert full_img.size == (640, 480) and max(thumb_img.size) <= 320
    assert secretary.get(f"/cases/{case.pk}/photos/").status_code == 200
    other = login("nlxl_secretary")
    assert other.get(f"/cases/{case.pk}/photos/", {"file": photo.pk}).status_code == 404
    assert secretary.get(f"/cases/{case.pk}/photos/", {"file": photo.pk + 999}).status_code == 404

    # timeline: create, assign, resolve — who, what, from → to
    timeline = [(e.action, e.from_state, e.to_state) for e in case.events.all()]
    assert timeline == [("create", "", "submitted"), ("assign", "submitted", "in_progress"),
                        ("resolve", "in_progress", "resolved")]
    assert "待受理 → 办理中" in page and "办理中 → 已办结待评价" in page


def test_a_renamed_executable_is_refused_next_to_the_field(login):
    from django.core.files.uploadedfile import SimpleUploadedFile

    case = make_case("假照片")
    actions.accept_case(case, by=None)
    r = login("wlne_secretary").post(f"/cases/{case.pk}/resolve/", {
        "version": case.version, "result": "已处理",
        "photos": [SimpleUploadedFile("photo.jpg", b"MZ\x90\x00" + b"\x00" * 200, content_type="image/jpeg")]})
    assert r.status_code == 400
    errors = next(form for t, form in r.context["transitions"] if t.name == "resolve").errors
    assert errors.get("photos")
    assert Case.objects.get(pk=case.pk).state == "accepted"


def test_reject_needs_a_reason_in_chinese(login):
    case = make_case("缺理由")
    r = login("wlne_secretary").post(f"/cases/{case.pk}/reject/", {"version": case.version, "reason": "  "})
    assert r.status_code == 400
    assert "reject" == r.context["open_form"]
    assert Case.objects.get(pk=case.pk).state == "submitted"


def test_a_transition_not_allowed_from_the_state_says_so(login):
    case = make_case("已关闭的")
    actions.reject_case(case, by=None, reason="不属实")
    r = login("wlne_secretary").post(f"/cases/{case.pk}/resolve/", {"version": case.version, "result": "办了"})
    assert r.status_code == 400
    assert "当前状态为“不予受理”，不能办结" in r.content.decode()


def test_duplicate_suggestion_merge_here(login):
    first = make_case("井盖缺失", latitude="39.600000", longitude="109.800000")
    second = make_case("井盖丢了", latitude="39.600100", longitude="109.800100")
    theirs = make_case("纳林希里井盖", where=NLXL_GRID1, latitude="39.600050", longitude="109.800050")
    client = login("wlne_secretary")
    r = client.get(f"/cases/{second.pk}/")
    assert [d.pk for d in r.context["duplicates"]] == [first.pk]  # the other village's is not offered
    assert "合并到此" in r.content.decode() and theirs.number not in r.content.decode()
    r = client.post(f"/cases/{second.pk}/merge/", {"version": second.version, "into": first.number}, follow=True)
    assert "已合并为重复" in " ".join(messages_of(r))
    second.refresh_from_db()
    assert second.state == "merged" and second.merged_into == first
    assert CaseEvent.objects.filter(case=first, action="merged_in").exists()
    # merging into a case of the other village reads as "not found"
    third = make_case("井盖又丢了")
    r = client.post(f"/cases/{third.pk}/merge/", {"version": third.version, "into": theirs.number})
    assert r.status_code == 400 and "找不到编号" in r.content.decode()


def test_escalate_whistle_report_extension_and_supervise(login, demo_user):
    case = make_case("劳资纠纷", cat="dispute-wage")
    secretary, town = login("wlne_secretary"), login("town_admin")
    actions.accept_case(case, by=None)
    r = secretary.post(f"/cases/{case.pk}/escalate/", {"version": case.version, "reason": "需镇里协调"}, follow=True)
    assert "已上报" in " ".join(messages_of(r))
    case.refresh_from_db()
    assert (case.state, case.level) == ("escalated", "village")  # reported in a grid: up one level
    police = Department.objects.get(code="police")
    justice = Department.objects.get(code="justice")
    r = town.post(f"/cases/{case.pk}/whistle/", {"version": case.version, "departments": ["police", "justice"],
                                                  "note": "欠薪聚集，请到场"}, follow=True)
    assert "已吹哨" in " ".join(messages_of(r))
    assert set(Whistle.objects.filter(case=case).values_list("department", flat=True)) == {police.pk, justice.pk}
    whistle = Whistle.objects.get(case=case, department=police)
    case.refresh_from_db()
    r = town.post(f"/cases/{case.pk}/whistle-report/", {"version": case.version, "whistle": whistle.pk,
                                                         "report": "民警已到场"}, follow=True)
    assert "已部门报到" in " ".join(messages_of(r))
    assert Whistle.objects.get(pk=whistle.pk).report == "民警已到场"
    case.refresh_from_db()
    r = secretary.post(f"/cases/{case.pk}/request-extension/", {"version": case.version, "hours": 48,
                                                                 "reason": "等待仲裁"}, follow=True)
    assert "已申请延期" in " ".join(messages_of(r))
    extension = Extension.objects.get(case=case)
    due = Case.objects.get(pk=case.pk).resolve_due
    page = town.get(f"/cases/{case.pk}/").content.decode()
    assert "待审批" in page and "提交审批" in page
    assert "提交审批" not in secretary.get(f"/cases/{case.pk}/").content.decode()
    case.refresh_from_db()
    r = town.post(f"/cases/{case.pk}/decide-extension/", {"version": case.version, "extension": extension.pk,
                                                           "approve": "1", "note": "同意"}, follow=True)
    assert "已审批延期" in " ".join(messages_of(r))
    assert Case.objects.get(pk=case.pk).resolve_due == due + datetime.timedelta(hours=48)
    case.refresh_from_db()
    r = town.post(f"/cases/{case.pk}/supervise/", {"version": case.version, "level": "yellow", "note": "抓紧"},
                  follow=True)
    assert "已督办" in " ".join(messages_of(r)) and "黄牌督办" in r.content.decode()
    # a village secretary posting the town's forms is refused (403), nothing changes
    case.refresh_from_db()
    assert secretary.post(f"/cases/{case.pk}/supervise/", {"version": case.version, "level": "red",
                                                            "note": "x"}).status_code == 403
    assert Case.objects.get(pk=case.pk).supervision == "yellow"
    actions_seen = list(case.events.values_list("action", flat=True))
    assert actions_seen == ["create", "accept", "escalate", "whistle", "whistle_report", "request_extension",
                            "extension_approved", "supervise"]


def test_call_back_rating_and_close(login):
    case = make_case("回访评价")
    actions.accept_case(case, by=None)
    actions.resolve_case(case, by=None, result="已处理")
    client = login("wlne_secretary")
    assert "回访评价" in client.get(f"/cases/{case.pk}/").content.decode()
    r = client.post(f"/cases/{case.pk}/rate/", {"version": case.version, "rating": "dissatisfied",
                                                "comment": "没解决"}, follow=True)
    assert "已记录回访评价" in " ".join(messages_of(r))
    case.refresh_from_db()
    assert (case.state, case.reopen_count, case.first_rating) == ("in_progress", 1, "dissatisfied")
    actions.resolve_case(case, by=None, result="再次处理")
    r = client.post(f"/cases/{case.pk}/close/", {"version": case.version, "note": "联系不上报告人"}, follow=True)
    assert "已关闭" in " ".join(messages_of(r))
    assert Case.objects.get(pk=case.pk).state == "closed"
    # a case reported from a resident's account is rated by that resident only: no call-back form
    own = make_case("居民自报", by=User.objects.get(username="wlne_resident"), where=WLNE)
    actions.accept_case(own, by=None)
    actions.resolve_case(own, by=None, result="好了")
    assert "记录回访评价" not in client.get(f"/cases/{own.pk}/").content.decode()


def test_other_village_case_page_and_transitions_answer_404(login):
    theirs = make_case("别村的", where=NLXL_GRID1)
    client = login("wlne_secretary")
    assert client.get(f"/cases/{theirs.pk}/").status_code == 404
    assert client.post(f"/cases/{theirs.pk}/accept/", {"version": theirs.version}).status_code == 404
    assert client.post(f"/cases/{theirs.pk}/reveal-phone/").status_code == 404
    assert Case.objects.get(pk=theirs.pk).state == "submitted"


# --------------------------------------------------------------------------- categories and keys


def test_category_pages(login, demo_user):
    secretary = login("wlne_secretary")
    page = secretary.get("/cases/categories/").content.decode()
    assert "垃圾清运" in page and "168 小时" in page and "编辑" not in page
    assert secretary.get("/cases/categories/edit/", {"code": "environment-waste"}).status_code == 404
    assert secretary.post("/cases/categories/edit/?code=environment-waste", {"name": "改名"}).status_code == 404
    assert login("wlne_resident").get("/cases/categories/").status_code == 404

    admin = login("town_admin")
    assert "编辑" in admin.get("/cases/categories/").content.decode()
    form = admin.get("/cases/categories/edit/", {"code": "environment-waste"}).context["form"]
    assert form.initial["resolve_hours"] == 168
    data = {"name": "垃圾清运", "parent": "environment", "accept_hours": 12, "resolve_hours": 72,
            "yellow_pct": 40, "red_pct": 70, "active": "on"}
    r = admin.post("/cases/categories/edit/?code=environment-waste", data, follow=True)
    assert "已保存分类“垃圾清运”" in " ".join(messages_of(r))
    waste = category()
    assert (waste.accept_hours, waste.resolve_hours, waste.yellow_pct, waste.red_pct) == (12, 72, 40, 70)
    assert AuditEntry.objects.filter(action="cases.save_category", object_id=str(waste.pk)).exists()
    r = admin.post("/cases/categories/edit/?code=environment-waste", {**data, "yellow_pct": 80, "red_pct": 60})
    assert r.status_code == 400 and "预警点应满足 0 &lt; 黄色 &lt; 红色" in r.content.decode()
    r = admin.post("/cases/categories/edit/", {**data, "code": "environment-dogs", "name": "流浪犬"}, follow=True)
    assert Category.objects.get(code="environment-dogs").parent.code == "environment"
    assert admin.get("/cases/categories/edit/", {"code": "no-such"}).status_code == 404


def test_api_key_page_shows_the_key_once(login, demo_user):
    assert login("wlne_secretary").get("/cases/api-keys/").status_code == 404
    admin = login("town_admin")
    r = admin.post("/cases/api-keys/", {"name": "12345 热线对接", "region": WLNE})
    assert r.status_code == 200
    plain = re.search(r'user-select-all">([^<]+)<', r.content.decode()).group(1)
    key = ApiKey.objects.get(name="12345 热线对接")
    assert actions.key_for(plain) == key and key.region.code == WLNE
    again = admin.get("/cases/api-keys/").content.decode()
    assert plain not in again and key.prefix in again
    assert AuditEntry.objects.filter(action="cases.create_api_key", object_id=str(key.pk)).exists()


def test_queue_counts_are_cached_per_scope_and_the_list_stays_live(login, settings):
    """With the cache on, a new case shows in the list at once while the buttons keep their count for the
    cache's life; another scope never gets this scope's counts."""
    from django.core.cache import cache

    settings.CASES_QUEUE_COUNT_SECONDS = 60
    cache.clear()
    client = login("wlne_secretary")

    def badge(html, queue):
        return int(re.search(rf'data-queue="{queue}">[^<]*<span class="badge[^"]*">(\d+)</span>', html).group(1))

    before = badge(client.get("/cases/").content.decode(), "submitted")
    case = make_case("缓存测试：新上报")
    html = client.get("/cases/?state=submitted").content.decode()
    assert case.number in html  # the list is live
    assert badge(html, "submitted") == before  # the button is a cached count
    other = login("nlxl_secretary").get("/cases/").content.decode()
    nlxl = Case.objects.filter(region_path__startswith=region(NLXL).path, state="submitted").count()
    assert badge(other, "submitted") == nlxl
    cache.clear()
    assert badge(client.get("/cases/").content.decode(), "submitted") == before + 1
