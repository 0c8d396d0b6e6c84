"""The phone screens: a resident reports with a real photo, follows it by number and rates the answer;
a grid worker's report, duplicate hints and "my cases"; the handler's actions on the compact case page;
and the bad input of the issue — a renamed executable as photo, a grid outside the reporter's scope, an
unknown category, a rating by someone else — each refused in Chinese with nothing written.

Cases used here are made through ``cases.actions`` (as the pages do) inside each test's transaction.
"""
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from yiwang.accounts import actions as account_actions
from yiwang.areas.models import Region
from yiwang.cases import actions
from yiwang.cases.models import Attachment, Case, CaseEvent, Category
from yiwang.demo.accounts import DEMO_PASSWORD
from yiwang.people.models import Household

WLNE, NLXL = "150627105215", "150627105214"
GRID1 = "15062710521501"


def png(name="photo.png", colour=(200, 30, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def renamed_executable():
    # the start of a Windows PE file: "MZ" header, DOS stub text, then a "PE" signature
    body = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"This program cannot be run in DOS mode." \
        + b"\x00" * 64 + b"PE\x00\x00" + bytes(range(256)) * 4
    return SimpleUploadedFile("photo.jpg", body, content_type="image/jpeg")


def without_tokens(response, number):
    """A page's text with the asked number and the (per-response) CSRF tokens blanked out."""
    text = response.content.decode().replace(number, "X")
    return re.sub(r'(csrfmiddlewaretoken" value="|X-CSRFToken": ")[^"]+', r"\1", text)


@pytest.fixture
def category(db):
    return Category.objects.filter(active=True, parent__isnull=False, parent__active=True).order_by("order").first()


def region(code):
    return Region.objects.get(code=code)


def report_data(category, region_code, **extra):
    return {"category_group": category.parent_id, "category": category.pk, "region": region_code,
            "description": "村东头水井的水泵坏了，三户人家没水吃", "address": "3组东头水井", **extra}


def new_case(by, category, region_code=WLNE, **kwargs):
    kwargs.setdefault("description", "路灯不亮")
    return actions.create_case(category=category, region=region(region_code), by=by,
                               channel=kwargs.pop("channel", Case.Channel.GRID), **kwargs)


@pytest.fixture
def second_resident(demo_user):
    """Another resident of 乌兰淖尔 (the demo has one), made through the accounts actions."""
    user = account_actions.create_user(username="wlne_resident_2", password=DEMO_PASSWORD, display_name="村民二",
                                       by=None)
    account_actions.assign_role(user, role="resident", region=region(WLNE), by=None)
    return user


# --------------------------------------------------------------------------- resident


def test_resident_reports_with_a_photo_and_follows_it(login, demo_user, category):
    client = login("wlne_resident")
    page = client.get("/cases/m/report/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'capture="environment"' in html and 'accept="image/*"' in html and "multiple" in html
    assert 'name="household"' not in html  # residents do not pick households
    regions = {r.code for r in page.context["form"].fields["region"].queryset}
    assert WLNE in regions and GRID1 in regions and NLXL not in regions
    assert all(code.startswith(WLNE) for code in regions)
    token = page.context["form"].initial["submission"]

    before = Case.objects.count()
    r = client.post("/cases/m/report/", report_data(category, WLNE, submission=token, photos=[png()]))
    assert r.status_code == 302, r.context["form"].errors if r.context else r
    case = Case.objects.get(pk=int(r["Location"].strip("/").split("/")[-2]))
    assert Case.objects.count() == before + 1
    assert case.reporter == demo_user("wlne_resident") and case.channel == Case.Channel.RESIDENT
    assert case.category == category and case.region.code == WLNE
    assert case.attachments.count() == 1 and case.attachments.get().content_type == "image/png"

    done = client.get(r["Location"])
    assert case.number in done.content.decode() and "办结时限" in done.content.decode()

    # the same form posted again (a retry on a weak signal) finds the case instead of making a second
    again = client.post("/cases/m/report/", report_data(category, WLNE, submission=token, photos=[png()]))
    assert again.status_code == 302 and again["Location"] == r["Location"]
    assert Case.objects.count() == before + 1

    found = client.get("/cases/m/track/", {"number": case.number})
    assert found.status_code == 302 and found["Location"] == f"/cases/m/c/{case.pk}/"
    detail = client.get(found["Location"])
    assert detail.status_code == 200
    assert "已提交，等待受理" in detail.content.decode()
    photo = client.get(f"/cases/m/c/{case.pk}/photo/", {"n": 0})
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"
    mine = client.get("/cases/m/mine/")
    assert [row["case"].pk for row in mine.context["rows"]] == [case.pk] + [
        row["case"].pk for row in mine.context["rows"][1:]]
    assert all(row["case"].reporter_id == case.reporter_id for row in mine.context["rows"])


def test_a_renamed_executable_as_photo_is_refused_in_chinese_and_nothing_is_written(login, category):
    client = login("wlne_resident")
    counts = (Case.objects.count(), Attachment.objects.count(), CaseEvent.objects.count())
    r = client.post("/cases/m/report/", report_data(category, WLNE, photos=[png("ok.png"), renamed_executable()]))
    assert r.status_code == 200
    errors = r.context["form"].errors["photos"]
    assert any("不是图片" in e for e in errors), errors
    html = r.content.decode()
    assert "村东头水井的水泵坏了" in html and "3组东头水井" in html  # what was typed is kept
    assert "照片需要重新选择" in html
    assert (Case.objects.count(), Attachment.objects.count(), CaseEvent.objects.count()) == counts


def test_too_many_photos_are_refused(login, category):
    client = login("wlne_resident")
    count = Case.objects.count()
    r = client.post("/cases/m/report/", report_data(category, WLNE, photos=[png(f"{i}.png") for i in range(7)]))
    assert r.status_code == 200 and "照片最多 6 张" in r.context["form"].errors["photos"][0]
    assert Case.objects.count() == count


def test_a_grid_outside_the_reporters_scope_is_refused_and_nothing_written(login, category):
    count = Case.objects.count()
    other_grid = region(NLXL).children.filter(kind=Region.Kind.GRID).first()
    for username, code in (("wlne_resident", NLXL), ("wlne_resident", other_grid.code),
                           ("wlne_grid1", WLNE + "02"), ("wlne_grid1", WLNE)):
        r = login(username).post("/cases/m/report/", report_data(category, code))
        assert r.status_code == 200, (username, code)
        assert r.context["form"].errors["region"] == ["所选网格/村不在您可以上报的范围内"], (username, code)
        assert NLXL not in r.content.decode() or code == NLXL
    assert Case.objects.count() == count


def test_an_unknown_or_mismatched_category_is_refused_in_chinese(login, category):
    client = login("wlne_resident")
    count = Case.objects.count()
    r = client.post("/cases/m/report/", {**report_data(category, WLNE), "category_group": "999999", "category": ""})
    assert "请选择有效的问题分类" in r.context["form"].errors["category_group"][0]
    r = client.post("/cases/m/report/", {**report_data(category, WLNE), "category": "abc"})
    assert "请选择有效的问题分类" in r.context["form"].errors["category"][0]
    other_group = Category.objects.filter(parent__isnull=True, active=True).exclude(pk=category.parent_id).first()
    r = client.post("/cases/m/report/", {**report_data(category, WLNE), "category_group": other_group.pk})
    assert "不属于大类" in r.context["form"].errors["category"][0]
    r = client.post("/cases/m/report/", {**report_data(category, WLNE), "category_group": "", "category": ""})
    assert r.context["form"].errors["category_group"] == ["请选择问题分类"]
    inactive = Category.objects.create(code="m-test-off", name="停用分类", parent=category.parent, active=False)
    r = client.post("/cases/m/report/", {**report_data(category, WLNE), "category": inactive.pk})
    assert "请选择有效的问题分类" in r.context["form"].errors["category"][0]
    assert Case.objects.count() == count


def test_a_resident_sees_only_their_own_cases(login, demo_user, category, second_resident):
    resident = demo_user("wlne_resident")
    theirs = new_case(second_resident, category, channel=Case.Channel.RESIDENT)
    staff_made = new_case(demo_user("wlne_grid1"), category, GRID1)
    mine = new_case(resident, category, channel=Case.Channel.RESIDENT)
    client = login("wlne_resident")
    assert client.get(f"/cases/m/c/{mine.pk}/").status_code == 200
    missing = client.get("/cases/m/track/", {"number": "20990000001"})
    for other in (theirs, staff_made):
        for url in (f"/cases/m/c/{other.pk}/", f"/cases/m/c/{other.pk}/done/", f"/cases/m/c/{other.pk}/photo/"):
            assert client.get(url).status_code == 404, url
        assert client.post(f"/cases/m/c/{other.pk}/", {"action": "rate", "rate-version": other.version,
                                                      "rate-rating": "satisfied"}).status_code == 404
        # "not yours" reads exactly like "not there"
        r = client.get("/cases/m/track/", {"number": other.number})
        assert r.status_code == 200
        assert without_tokens(r, other.number) == without_tokens(missing, "20990000001")
    listed = {row["case"].pk for row in client.get("/cases/m/mine/").context["rows"]}
    assert mine.pk in listed and not listed & {theirs.pk, staff_made.pk}


def test_a_grid_worker_gets_404_for_another_villages_case(login, demo_user, category):
    other = new_case(demo_user("nlxl_secretary"), category, NLXL)
    client = login("wlne_grid1")
    for url in (f"/cases/m/c/{other.pk}/", f"/cases/m/c/{other.pk}/done/", f"/cases/m/c/{other.pk}/photo/"):
        assert client.get(url).status_code == 404
    before = Case.objects.values().get(pk=other.pk)
    assert client.post(f"/cases/m/c/{other.pk}/", {"action": "accept", "accept-version": other.version}).status_code == 404
    assert Case.objects.values().get(pk=other.pk) == before
    assert client.get("/cases/m/track/", {"number": other.number}).status_code == 200  # the "not found" answer


# --------------------------------------------------------------------------- rating


def _resolved_case(demo_user, category):
    resident = demo_user("wlne_resident")
    case = new_case(resident, category, channel=Case.Channel.RESIDENT)
    secretary = demo_user("wlne_secretary")
    actions.assign_case(case, by=secretary, level=Case.Level.VILLAGE, handler=secretary)
    actions.resolve_case(case, by=secretary, result="已更换水泵")
    return case


def test_a_rating_by_someone_who_is_not_the_reporter_is_refused(login, demo_user, category, second_resident):
    case = _resolved_case(demo_user, category)
    before = Case.objects.values().get(pk=case.pk)
    post = {"action": "rate", "rate-version": case.version, "rate-rating": "satisfied"}
    other_resident = login("wlne_resident_2")
    assert other_resident.post(f"/cases/m/c/{case.pk}/", post).status_code == 404
    assert login("nlxl_secretary").post(f"/cases/m/c/{case.pk}/", post).status_code == 404
    r = login("wlne_secretary").post(f"/cases/m/c/{case.pk}/", post)  # sees the case, is not its reporter
    assert r.status_code == 403
    assert "只有报告人本人可以评价此诉求" in r.content.decode()
    assert Case.objects.values().get(pk=case.pk) == before


def test_the_resident_rates_and_dissatisfied_reopens_only_once(login, demo_user, category):
    case = _resolved_case(demo_user, category)
    client = login("wlne_resident")
    page = client.get(f"/cases/m/c/{case.pk}/").content.decode()
    assert "已办结，请您评价" in page and "已更换水泵" in page and 'name="rate-rating"' in page

    r = client.post(f"/cases/m/c/{case.pk}/", {"action": "rate", "rate-version": case.version,
                                                "rate-rating": "dissatisfied", "rate-comment": "水还是不来"})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.state == Case.State.IN_PROGRESS and case.reopen_count == 1 and case.first_rating == "dissatisfied"

    secretary = demo_user("wlne_secretary")
    actions.resolve_case(case, by=secretary, result="重新接通了管线")
    r = client.post(f"/cases/m/c/{case.pk}/", {"action": "rate", "rate-version": case.version,
                                                "rate-rating": "dissatisfied"})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.state == Case.State.CLOSED and case.reopen_count == 1 and case.rating == "dissatisfied"


def test_a_stale_rating_gets_the_conflict_message_and_keeps_the_comment(login, demo_user, category):
    case = _resolved_case(demo_user, category)
    stale = case.version - 1
    r = login("wlne_resident").post(f"/cases/m/c/{case.pk}/", {
        "action": "rate", "rate-version": stale, "rate-rating": "satisfied", "rate-comment": "谢谢"})
    assert r.status_code == 200
    assert "刚被其他人处理过" in r.content.decode() and "谢谢" in r.content.decode()
    assert Case.objects.get(pk=case.pk).state == Case.State.RESOLVED


def test_the_resident_timeline_hides_staff_internal_notes(login, demo_user, category):
    resident = demo_user("wlne_resident")
    case = new_case(resident, category, channel=Case.Channel.RESIDENT)
    secretary, town = demo_user("wlne_secretary"), demo_user("town_admin")
    actions.assign_case(case, by=town, level=Case.Level.VILLAGE, handler=secretary, note="内部 先联系水务站")
    actions.supervise_case(case, by=town, level=Case.Supervision.YELLOW, note="督办 三天内解决")
    actions.resolve_case(case, by=secretary, result="已修复水泵")
    seen = login("wlne_resident").get(f"/cases/m/c/{case.pk}/").content.decode()
    assert "已修复水泵" in seen and "已安排办理" in seen
    for internal in ("内部 先联系水务站", "督办", secretary.username, town.username, secretary.display_name):
        assert internal not in seen, internal
    staff = login("wlne_secretary").get(f"/cases/m/c/{case.pk}/").content.decode()
    assert "内部 先联系水务站" in staff and "督办 三天内解决" in staff


# --------------------------------------------------------------------------- grid worker


def test_a_grid_worker_reports_with_a_household_and_sees_duplicates_first(login, demo_user, category):
    client = login("wlne_grid1")
    page = client.get("/cases/m/report/")
    form = page.context["form"]
    assert [r.code for r in form.fields["region"].queryset] == [GRID1]
    households = list(form.fields["household"].queryset)
    assert households and all(h.grid.code == GRID1 for h in households)
    household = households[0]
    data = report_data(category, GRID1, household=household.number, latitude="39.412345", longitude="109.512345")
    r = client.post("/cases/m/report/", data)
    assert r.status_code == 302
    first = Case.objects.get(pk=int(r["Location"].strip("/").split("/")[-2]))
    assert first.channel == Case.Channel.GRID and first.household == household and first.latitude is not None

    count = Case.objects.count()
    r = client.post("/cases/m/report/", data)  # same household, same category: a possible duplicate
    assert r.status_code == 200 and Case.objects.count() == count
    assert [c.pk for c in r.context["duplicates"]] == [first.pk]
    assert "仍然上报" in r.content.decode() and first.number in r.content.decode()
    hint = client.get("/cases/m/report/duplicates/", {"category": category.pk, "household": household.number})
    assert first.number in hint.content.decode()
    r = client.post("/cases/m/report/", {**data, "confirm_new": "on"})
    assert r.status_code == 302 and Case.objects.count() == count + 1


def test_a_household_of_another_grid_is_refused(login, category):
    elsewhere = Household.objects.filter(region_path__startswith=region(WLNE).path).exclude(
        grid__code=GRID1).first()
    count = Case.objects.count()
    r = login("wlne_grid1").post("/cases/m/report/", report_data(category, GRID1, household=elsewhere.number))
    assert r.context["form"].errors["household"] == ["所选户不在您的网格内，请按户号重新选择"]
    assert Case.objects.count() == count


def test_residents_get_no_duplicate_hints(login, demo_user, category):
    new_case(demo_user("wlne_grid1"), category, GRID1, latitude="39.4", longitude="109.5")
    client = login("wlne_resident")
    hint = client.get("/cases/m/report/duplicates/", {"category": category.pk, "latitude": "39.4",
                                                      "longitude": "109.5"})
    assert hint.status_code == 200 and hint.content.decode().strip() == ""
    r = client.post("/cases/m/report/", report_data(category, WLNE, latitude="39.4", longitude="109.5"))
    assert r.status_code == 302


def test_my_cases_lists_the_grid_workers_assigned_cases_with_bounded_queries(login, demo_user, category):
    worker, town = demo_user("wlne_grid1"), demo_user("town_admin")
    client = login("wlne_grid1")

    def assign_new(n):
        made = []
        for i in range(n):
            case = new_case(town, category, GRID1, description=f"第{i}件")
            actions.assign_case(case, by=town, level=Case.Level.GRID, handler=worker)
            made.append(case)
        return made

    def measure():
        client.get("/cases/m/mine/")
        with CaptureQueriesContext(connection) as ctx:
            r = client.get("/cases/m/mine/")
        assert r.status_code == 200
        return len(ctx.captured_queries), r

    made = assign_new(2)
    small, r_small = measure()
    made += assign_new(6)
    large, r_large = measure()
    listed = [row["case"].pk for row in r_large.context["rows"]]
    assert {c.pk for c in made} <= set(listed)
    assert all(row["case"].handler_id == worker.pk or row["case"].reporter_id == worker.pk
               for row in r_large.context["rows"])
    assert len(r_large.context["rows"]) > len(r_small.context["rows"])
    assert small == large, f"{small} queries for {len(r_small.context['rows'])} rows, {large} for more"
    assert large <= 20
    open_rows = [row["case"] for row in r_large.context["rows"] if row["case"].is_open]
    assert [c.resolve_due for c in open_rows] == sorted(c.resolve_due for c in open_rows)
    states = [row["case"].is_open for row in r_large.context["rows"]]
    assert states == sorted(states, reverse=True)  # open first
    html = r_large.content.decode()
    assert "剩余" in html and made[0].number in html


def test_the_handler_accepts_resolves_with_a_photo_escalates_and_asks_for_more_time(login, demo_user, category):
    worker, town = demo_user("wlne_grid1"), demo_user("town_admin")
    client = login("wlne_grid1")
    case = new_case(demo_user("wlne_resident"), category, GRID1, channel=Case.Channel.RESIDENT)
    queue = client.get("/cases/m/mine/").context["queue"]
    assert case.pk in [row["case"].pk for row in queue]
    page = client.get(f"/cases/m/c/{case.pk}/")
    assert [a for a, _ in page.context["action_forms"]] == ["accept"]

    r = client.post(f"/cases/m/c/{case.pk}/", {"action": "accept", "accept-version": case.version})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.state == Case.State.ACCEPTED
    # the same (now stale) accept again: refused in Chinese, nothing changed
    r = client.post(f"/cases/m/c/{case.pk}/", {"action": "accept", "accept-version": case.version - 1})
    assert r.status_code == 200 and "不能受理" in r.content.decode()

    r = client.post(f"/cases/m/c/{case.pk}/", {"action": "extend", "extend-version": case.version,
                                                "extend-hours": "48", "extend-reason": "等配件"})
    assert r.status_code == 302 and case.extensions.get().hours == 48
    r = client.post(f"/cases/m/c/{case.pk}/", {"action": "escalate", "escalate-version": case.version,
                                                "escalate-reason": ""})
    assert r.status_code == 200 and "请填写上报理由" in r.content.decode()
    r = client.post(f"/cases/m/c/{case.pk}/", {"action": "escalate", "escalate-version": case.version,
                                                "escalate-reason": "需要村里协调"})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.state == Case.State.ESCALATED and case.level == Case.Level.VILLAGE

    actions.assign_case(case, by=town, level=Case.Level.GRID, handler=worker)
    case.refresh_from_db()
    counts = (Attachment.objects.count(), case.version)
    r = client.post(f"/cases/m/c/{case.pk}/", {"action": "resolve", "resolve-version": case.version,
                                                "resolve-result": "已修好", "resolve-photos": [renamed_executable()]})
    assert r.status_code == 200 and "不是图片" in r.content.decode() and "已修好" in r.content.decode()
    case.refresh_from_db()
    assert (Attachment.objects.count(), case.version) == counts and case.state == Case.State.IN_PROGRESS
    r = client.post(f"/cases/m/c/{case.pk}/", {"action": "resolve", "resolve-version": case.version,
                                                "resolve-result": "已修好", "resolve-photos": [png("after.png")]})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.state == Case.State.RESOLVED and case.attachments.filter(purpose="result").count() == 1


def test_a_resident_holds_no_case_view_and_the_pages_fit_a_phone(login, demo_user):
    assert not demo_user("wlne_resident").has_any("cases.view")
    client = login("wlne_resident")
    for url in ("/cases/m/", "/cases/m/report/", "/cases/m/mine/", "/cases/m/track/"):
        r = client.get(url)
        assert r.status_code == 200, url
        assert 'name="viewport"' in r.content.decode()
    nav = client.get("/cases/m/").context["nav_items"]
    assert {"cases:m_report", "cases:m_mine"} <= {item.url_name for item in nav}
