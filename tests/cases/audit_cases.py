"""Audit cases of the cases app's actions (loaded by tests/test_audit.py): each action done by a user
allowed to, and refused for a user who is not — the refusal recorded and nothing changed."""
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from test_audit import DIRECT_IP, GRID1, Expect, region
from yiwang.cases import actions
from yiwang.cases.models import ApiKey, Case, CaseEvent, Category, Department, Extension, Notification, Whistle
from yiwang.core.context import request_context
from yiwang.core.errors import PermissionRefused

HELPERS = {
    "yiwang.cases.actions.suggest_duplicates": "lists possible duplicates of a new report; reads only",
    "yiwang.cases.actions.key_for": "finds the Open311 key matching a presented api_key; reads only",
    "yiwang.cases.actions.distance_m": "haversine distance between two points; pure function",
    "yiwang.cases.actions.as_seen": "compares the version a page read with the case's; reads only",
}


def state():
    return {
        "cases": list(Case.objects.order_by("pk").values_list("pk", "state", "version", "supervision", "resolve_due")),
        "case_events": CaseEvent.objects.count(),
        "categories": list(Category.objects.order_by("pk").values_list("pk", "code", "accept_hours", "resolve_hours")),
        "extensions": list(Extension.objects.order_by("pk").values_list("pk", "status")),
        "whistles": list(Whistle.objects.order_by("pk").values_list("pk", "reported_at")),
        "notifications": Notification.objects.count(),
        "api_keys": list(ApiKey.objects.order_by("pk").values_list("pk", "active")),
    }


def png(name="photo.png"):
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buf, format="PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


def category(code="infrastructure-light"):
    actions.ensure_default_categories(by=None)
    return Category.objects.get(code=code)


def new_case(to="submitted", **kw):
    """A case in 乌兰淖尔 grid 1, taken by the system to state ``to``."""
    case = actions.create_case(category=category(), region=region(GRID1), description="审计测试：路灯不亮",
                               reporter_phone="13800001234", by=None, **kw)
    if to in ("accepted", "in_progress", "resolved"):
        actions.accept_case(case, by=None)
    if to in ("in_progress", "resolved"):
        actions.assign_case(case, by=None, level="village")
    if to == "resolved":
        actions.resolve_case(case, by=None, result="已更换灯泡")
    return case


def _done(name, user, fn, changes=None, obj=None):
    def run(u):
        with request_context(ip=DIRECT_IP):
            result = fn(u)
        target = obj(result) if obj else result
        return Expect(f"cases.{name}", target, u(user) if user else None, changes or {}, DIRECT_IP)
    return run


def prepared(prepare):
    """Mark a refusal case whose target is made first (``prepare(u)``), outside test_audit's comparison."""
    def wrap(fn):
        fn.prepare = prepare
        return fn
    return wrap


def _ensure_done(u):
    Category.objects.filter(code="policy").update(code="policy-renamed")  # a default gone missing
    with request_context(ip=DIRECT_IP):
        actions.ensure_default_categories(by=u("town_admin"))
    return Expect("cases.ensure_default_categories", None, u("town_admin"), ip=DIRECT_IP)


def _ensure_refused(u):
    with request_context(ip=DIRECT_IP), pytest.raises(PermissionRefused):
        actions.ensure_default_categories(by=u("wlne_secretary"))
    return Expect("cases.ensure_default_categories", None, u("wlne_secretary"), ip=DIRECT_IP, allowed=False)


def _save_category_done(u):
    cat = category()
    with request_context(ip=DIRECT_IP):
        actions.save_category(code=cat.code, name=cat.name, parent=cat.parent, accept_hours=12,
                              resolve_hours=cat.resolve_hours, by=u("town_admin"))
    return Expect("cases.save_category", cat, u("town_admin"), {"accept_hours": [cat.accept_hours, 12]}, DIRECT_IP)


@prepared(lambda u: category())
def _save_category_refused(u, cat):
    with request_context(ip=DIRECT_IP), pytest.raises(PermissionRefused):
        actions.save_category(code=cat.code, name="越权", accept_hours=1, resolve_hours=2, by=u("wlne_secretary"))
    return Expect("cases.save_category", None, u("wlne_secretary"), ip=DIRECT_IP, allowed=False)


def _api_key_done(u):
    with request_context(ip=DIRECT_IP):
        key, _ = actions.create_api_key(name="审计测试应用", region=region("150627105"), by=u("town_admin"))
    return Expect("cases.create_api_key", key, u("town_admin"), {"name": [None, "审计测试应用"]}, DIRECT_IP)


def _api_key_refused(u):
    with request_context(ip=DIRECT_IP), pytest.raises(PermissionRefused):
        actions.create_api_key(name="越权", region=region("150627105"), by=u("wlne_secretary"))
    return Expect("cases.create_api_key", None, u("wlne_secretary"), ip=DIRECT_IP, allowed=False)


def _town_key():
    return actions.create_api_key(name="待停用应用", region=region("150627105"), by=None)[0]


def _deactivate_key_done(u):
    key = _town_key()
    with request_context(ip=DIRECT_IP):
        actions.deactivate_api_key(key, by=u("town_admin"))
    return Expect("cases.deactivate_api_key", key, u("town_admin"), {"active": [True, False]}, DIRECT_IP)


@prepared(lambda u: _town_key())
def _deactivate_key_refused(u, key):
    with request_context(ip=DIRECT_IP), pytest.raises(PermissionRefused):
        actions.deactivate_api_key(key, by=u("wlne_secretary"))
    return Expect("cases.deactivate_api_key", key, u("wlne_secretary"), ip=DIRECT_IP, allowed=False)


def _create_done(u):
    with request_context(ip=DIRECT_IP):
        case = actions.create_case(category=category(), region=region(GRID1), description="审计：井盖缺失",
                                   photos=[png()], by=u("wlne_grid1"))
    return Expect("cases.create_case", case, u("wlne_grid1"), {"region": [None, GRID1]}, DIRECT_IP)


@prepared(lambda u: category())
def _create_refused(u, cat):
    with request_context(ip=DIRECT_IP), pytest.raises(PermissionRefused):
        actions.create_case(category=cat, region=region(GRID1), description="越权上报", by=u("nlxl_secretary"))
    return Expect("cases.create_case", None, u("nlxl_secretary"), ip=DIRECT_IP, allowed=False)


def transition(name, state_from, call, changes, user="wlne_secretary", prepare=None):
    """Done and refused cases for a transition on a case prepared in ``state_from``."""

    def done(u):
        case = prepare(u) if prepare else new_case(state_from)
        with request_context(ip=DIRECT_IP):
            call(case, u(user), u)
        return Expect(f"cases.{name}", case, u(user), changes, DIRECT_IP)

    @prepared(lambda u: prepare(u) if prepare else new_case(state_from))
    def refused(u, case):
        with request_context(ip=DIRECT_IP), pytest.raises(PermissionRefused):
            call(case, u("nlxl_secretary"), u)
        return Expect(f"cases.{name}", case, u("nlxl_secretary"), ip=DIRECT_IP, allowed=False)

    return done, refused


def _whistle(case, by, u):
    actions.whistle_case(case, by=by, departments=list(Department.objects.all()[:2]), note="多部门会商")


def _whistled(u):
    case = new_case("in_progress")
    actions.whistle_case(case, by=None, departments=list(Department.objects.all()[:1]), note="会商")
    return case


def _report_whistle(case, by, u):
    actions.report_whistle(case.whistles.get(), by=by, report="已到场")


def _extension_asked(u):
    case = new_case("in_progress")
    actions.request_extension(case, by=None, hours=48, reason="等待配件")
    return case


def _decide(case, by, u):
    actions.decide_extension(case.extensions.get(), by=by, approve=True, note="同意")


def _reveal(case, by, u):
    assert actions.reveal_reporter_phone(case, by=by) == "13800001234"


def _merge_done(u):
    first, dup = new_case("submitted"), new_case("submitted")
    with request_context(ip=DIRECT_IP):
        actions.merge_case(dup, into=first, by=u("wlne_secretary"))
    return Expect("cases.merge_case", dup, u("wlne_secretary"), {"state": ["submitted", "merged"]}, DIRECT_IP)


@prepared(lambda u: (new_case("submitted"), new_case("submitted")))
def _merge_refused(u, pair):
    first, dup = pair
    with request_context(ip=DIRECT_IP), pytest.raises(PermissionRefused):
        actions.merge_case(dup, into=first, by=u("nlxl_secretary"))
    return Expect("cases.merge_case", dup, u("nlxl_secretary"), ip=DIRECT_IP, allowed=False)


CASES = {
    "yiwang.cases.actions.ensure_default_categories": (_ensure_done, _ensure_refused),
    "yiwang.cases.actions.save_category": (_save_category_done, _save_category_refused),
    "yiwang.cases.actions.create_api_key": (_api_key_done, _api_key_refused),
    "yiwang.cases.actions.deactivate_api_key": (_deactivate_key_done, _deactivate_key_refused),
    "yiwang.cases.actions.create_case": (_create_done, _create_refused),
    "yiwang.cases.actions.accept_case": transition(
        "accept_case", "submitted", lambda c, by, u: actions.accept_case(c, by=by), {"state": ["submitted", "accepted"]}),
    "yiwang.cases.actions.reject_case": transition(
        "reject_case", "submitted", lambda c, by, u: actions.reject_case(c, by=by, reason="不属于受理范围"),
        {"state": ["submitted", "rejected"]}),
    "yiwang.cases.actions.assign_case": transition(
        "assign_case", "accepted", lambda c, by, u: actions.assign_case(c, by=by, level="grid", handler=u("wlne_grid1")),
        {"state": ["accepted", "in_progress"]}),
    "yiwang.cases.actions.escalate_case": transition(
        "escalate_case", "in_progress", lambda c, by, u: actions.escalate_case(c, by=by, reason="需镇级协调"),
        {"state": ["in_progress", "escalated"], "level": ["village", "town"]}),
    "yiwang.cases.actions.whistle_case": transition(
        "whistle_case", "in_progress", _whistle, {"state": ["in_progress", "escalated"]}, user="town_admin"),
    "yiwang.cases.actions.report_whistle": transition("report_whistle", "in_progress", _report_whistle, {},
                                                      prepare=_whistled),
    "yiwang.cases.actions.resolve_case": transition(
        "resolve_case", "in_progress", lambda c, by, u: actions.resolve_case(c, by=by, result="已修复"),
        {"state": ["in_progress", "resolved"]}),
    "yiwang.cases.actions.rate_case": transition(
        "rate_case", "resolved", lambda c, by, u: actions.rate_case(c, by=by, rating="satisfied"),
        {"state": ["resolved", "closed"], "rating": ["", "satisfied"]}),
    "yiwang.cases.actions.close_case": transition(
        "close_case", "resolved", lambda c, by, u: actions.close_case(c, by=by, note="多次联系不上"),
        {"state": ["resolved", "closed"]}),
    "yiwang.cases.actions.supervise_case": transition(
        "supervise_case", "in_progress", lambda c, by, u: actions.supervise_case(c, by=by, level="red", note="限期办结"),
        {"supervision": ["", "red"]}, user="town_admin"),
    "yiwang.cases.actions.request_extension": transition(
        "request_extension", "in_progress", lambda c, by, u: actions.request_extension(c, by=by, hours=24, reason="等配件"),
        {"extension_hours": [None, 24]}),
    "yiwang.cases.actions.decide_extension": transition("decide_extension", "in_progress", _decide, {},
                                                        user="town_admin", prepare=_extension_asked),
    "yiwang.cases.actions.reveal_reporter_phone": transition("reveal_reporter_phone", "submitted", _reveal, {}),
    "yiwang.cases.actions.merge_case": (_merge_done, _merge_refused),
}
