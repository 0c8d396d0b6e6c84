"""Open311 GeoReport v2 (JSON only) over the cases app: the discovery document, services (the category
tree's leaves), service requests (POST to report, GET to follow) and tokens.

Field names, status values and the error format (``[{"code": 403, "description": "..."}]``) are the
specification's (http://wiki.open311.org/GeoReport_v2). Deviations, each on purpose and written up in
docs/open311.md: reading requests needs an ``api_key`` too (a township's cases carry personal data),
a key sees and reports only inside its region, and a request names its grid or village with the
extension field ``region_code`` (or ``jurisdiction_id`` / ``address_id``), since lat/long alone cannot
place it in our region tree.

Authentication is the key alone: the session is ignored, which is also why the views may be CSRF
exempt (a signed-in browser visiting a hostile page gives that page nothing). Every write goes through
``cases.actions.create_case``; nothing here writes a model. Reporter names and phones never leave.
"""
import datetime
import functools
import json
import re

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db.models import Max
from django.http import JsonResponse
from django.urls import reverse
from django.utils import dateparse, timezone
from django.views.decorators.csrf import csrf_exempt

from yiwang.areas.models import Region
from yiwang.core.context import request_context
from yiwang.core.errors import ActionError, PermissionRefused
from yiwang.core.text import clean_coordinate

from .. import actions
from . import lookups
from ..models import ApiKey, Case, Category

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CONTACT = "红庆河镇综治中心（一网统管平台管理员）"
# Our states → the specification's two statuses. A resolved case waits only for the resident's
# rating: the work is done, so it is "closed" (a dissatisfied rating reopens it: "open" again).
STATUS = {
    Case.State.SUBMITTED: "open", Case.State.ACCEPTED: "open", Case.State.IN_PROGRESS: "open",
    Case.State.ESCALATED: "open", Case.State.RESOLVED: "closed", Case.State.CLOSED: "closed",
    Case.State.REJECTED: "closed", Case.State.MERGED: "closed",
}
REQUEST_FIELDS = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"]
DEFAULT_WINDOW = datetime.timedelta(days=90)  # the specification's default and widest date range
MAX_RESULTS = 1000
MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


class Open311Error(Exception):
    """An answer in the specification's error format: HTTP ``status`` and ``[{"code", "description"}]``."""

    def __init__(self, status, description):
        super().__init__(description)
        self.status, self.description = status, description


def _json(data, status=200):
    response = JsonResponse(data, status=status, safe=False, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/json; charset=utf-8"
    return response


def _error(status, description):
    return _json([{"code": status, "description": description}], status=status)


def endpoint(*methods):
    """An Open311 view: JSON only (``.xml`` or any other format is a 400), the listed methods only, no
    session login and no CSRF token (the key authenticates), errors in the specification's format,
    audit entries on the "api" channel."""

    def wrap(view):
        @functools.wraps(view)
        def run(request, *args, format, **kwargs):
            if request.method not in methods:
                response = _error(405, f"不支持 {request.method} 方法 / method not allowed")
                response["Allow"] = ", ".join(methods)
                return response
            if format != "json":
                return _error(400, "仅支持 JSON 格式，请把扩展名改为 .json / only the JSON format is supported, use .json")
            try:
                with request_context(ip=request.META.get("REMOTE_ADDR"), channel="api"):
                    return _json(view(request, *args, **kwargs))
            except Open311Error as e:
                return _error(e.status, e.description)

        return csrf_exempt(login_not_required(run))

    return wrap


# --------------------------------------------------------------------------- helpers


def _key(params, query=None) -> ApiKey:
    plain = params.get("api_key") or (query or {}).get("api_key")
    if not plain:
        raise Open311Error(403, "缺少 api_key / api_key is required")
    key = lookups.active_key(plain)
    if key is None:
        raise Open311Error(403, "api_key 无效或已停用 / invalid api_key")
    return key


def _within_key(key: ApiKey):
    """The cases a key may read: its region's subtree. The key's counterpart of ``visible_to`` (a key
    holds one region, not role assignments)."""
    return (Case.objects.filter(region_path__startswith=key.region.path)
            .select_related("category", "department", "merged_into", "region__parent__parent"))


def _throttle(key: ApiKey):
    """At most OPEN311_RATE_LIMIT posts per key per minute: one cache incr on a per-minute counter."""
    limit = getattr(settings, "OPEN311_RATE_LIMIT", 60)
    counter = f"open311:rate:{key.key_hash[:24]}:{int(timezone.now().timestamp() // 60)}"
    try:
        count = cache.incr(counter)
    except ValueError:  # the minute's first post
        cache.set(counter, 1, timeout=90)
        count = 1
    if count > limit:
        raise Open311Error(429, f"提交过于频繁：每分钟最多 {limit} 件，请稍后再试 / rate limit exceeded "
                                f"({limit} requests per minute)")


def _iso(value):
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def _redact(text, case):
    """Free text written by a reporter may hold their own phone or name: both masked on the way out."""
    text = MOBILE.sub(r"\1****\2", text or "")
    if case.reporter_name and len(case.reporter_name) >= 2:
        text = text.replace(case.reporter_name, "*" * len(case.reporter_name))
    return text


def _status_notes(case):
    detail = ""
    if case.state == Case.State.REJECTED:
        detail = case.reject_reason
    elif case.state == Case.State.MERGED and case.merged_into is not None:
        detail = f"与诉求 {case.merged_into.number} 重复，已合并办理 / merged into {case.merged_into.number}"
    elif case.state in Case.DONE_STATES:
        detail = case.result
    label = case.get_state_display()
    return _redact(f"{label}：{detail}" if detail else label, case)


def _agency(case):
    """The department handling it, else the unit at the case's level: its grid, village or town."""
    if case.department is not None:
        return case.department.name
    chain = [case.region, case.region.parent, case.region.parent.parent if case.region.parent else None]
    wanted = {Case.Level.GRID: (Region.Kind.GRID,), Case.Level.VILLAGE: (Region.Kind.VILLAGE, Region.Kind.COMMUNITY)}
    kinds = wanted.get(case.level, (Region.Kind.TOWN,))
    unit = next((r for r in chain if r is not None and r.kind in kinds), None)
    return unit.name if unit is not None else case.get_level_display()


def _notice(case):
    return (f"诉求编号 {case.number}：{_iso(case.accept_due)} 前受理，{_iso(case.resolve_due)} 前办结 / "
            f"to be accepted by {_iso(case.accept_due)}, resolved by {_iso(case.resolve_due)}")


def _request(case) -> dict:
    return {
        "service_request_id": case.number,
        "status": STATUS[case.state],
        "status_notes": _status_notes(case),
        "service_name": case.category.name,
        "service_code": case.category.code,
        "description": _redact(case.description, case),
        "agency_responsible": _agency(case),
        "service_notice": _notice(case),
        "requested_datetime": _iso(case.reported_at),
        "updated_datetime": _iso(case.updated_at),
        "expected_datetime": _iso(case.resolve_due),
        "address": _redact(case.address, case),
        "address_id": case.region.code,
        "zipcode": "",
        "lat": float(case.latitude) if case.latitude is not None else None,
        "long": float(case.longitude) if case.longitude is not None else None,
        "media_url": "",
    }


def _service(category) -> dict:
    names = [category.parent.name, category.name] if category.parent else [category.name]
    days = category.resolve_hours / 24
    resolve = f"{days:g} 天" if category.resolve_hours % 24 == 0 else f"{category.resolve_hours} 小时"
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": f"{'/'.join(names)}：{category.accept_hours} 小时内受理，{resolve}内办结"
                       + ("（紧急类）" if category.is_emergency else ""),
        "metadata": False,
        "type": "realtime",
        "keywords": ",".join(names + (["紧急"] if category.is_emergency else [])),
        "group": names[0],
    }


def _split(value, *, limit=MAX_RESULTS, name):
    items = [v.strip() for v in str(value).split(",") if v.strip()]
    if len(items) > limit:
        raise Open311Error(400, f"{name} 最多 {limit} 个 / at most {limit} values of {name}")
    return items


def _datetime(value, name, *, end=False):
    text = str(value).strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):  # a bare date: its start, or the next day's start for end_date
            day = dateparse.parse_date(text) + datetime.timedelta(days=1 if end else 0)
            parsed = datetime.datetime.combine(day, datetime.time())
        else:
            parsed = dateparse.parse_datetime(text)
    except (ValueError, OverflowError):
        parsed = None
    if parsed is None:
        raise Open311Error(400, f"{name} 格式错误：应为 W3C/ISO 8601 日期时间，如 2023-06-30T08:00:00+08:00 / "
                                f"{name} is not a valid W3C (ISO 8601) datetime, e.g. 2023-06-30T08:00:00+08:00")
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def _window(params):
    start = _datetime(params["start_date"], "start_date") if params.get("start_date") else None
    end = _datetime(params["end_date"], "end_date", end=True) if params.get("end_date") else None
    if start is None and end is None:
        end = timezone.now()
    if start is None:
        start = end - DEFAULT_WINDOW
    if end is None:
        end = start + DEFAULT_WINDOW
    if end < start:
        raise Open311Error(400, "end_date 早于 start_date / end_date is before start_date")
    if end - start > DEFAULT_WINDOW:
        raise Open311Error(400, "start_date 与 end_date 相隔不能超过 90 天 / the date range may not span more than "
                                "90 days")
    return start, end


def _body(request) -> dict:
    """The POST body: form-encoded as the specification says, or a JSON object."""
    if (request.content_type or "").startswith("application/json"):
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise Open311Error(400, "请求体不是有效的 JSON / the body is not valid JSON") from None
        if not isinstance(data, dict):
            raise Open311Error(400, "请求体应为 JSON 对象 / the body must be a JSON object")
        params = {k: v for k, v in data.items() if isinstance(v, (str, int, float)) and not isinstance(v, bool)}
    else:
        params = request.POST.dict()
    # PostgreSQL refuses NUL in any text it is asked to compare: refuse it here rather than answer a 500
    bad = next((k for k, v in params.items() if "\x00" in f"{k}{v}"), None)
    if bad is not None:
        raise Open311Error(400, f"{bad.replace(chr(0), '')} 含有不可见的控制字符（NUL） / {bad.replace(chr(0), '')} "
                                "contains a NUL character")
    return params


def _report_region(key: ApiKey, params) -> Region:
    """The grid or village a report lands in: the extension field ``region_code`` (or ``jurisdiction_id``,
    or ``address_id``, the code our answers give as address_id), else the key's own region when that is
    a grid or village. Whether the key may report there is ``create_case``'s decision."""
    given = {str(params[f]).strip() for f in ("region_code", "jurisdiction_id", "address_id")
             if str(params.get(f) or "").strip()}
    if len(given) > 1:
        raise Open311Error(400, "region_code、jurisdiction_id、address_id 不一致 / region_code, jurisdiction_id "
                                "and address_id name different regions")
    if not given:
        placed = _placed(key, params)
        if placed is not None:
            return placed
        if key.region.kind == Region.Kind.GRID or key.region.is_village_level:
            return key.region
        if _point(params) is not None:
            raise Open311Error(400, "该位置不在本密钥范围内任何已划定边界的网格或嘎查村中，请提供 region_code / the "
                                    "point lies in no grid or village with a boundary in this key's region: give "
                                    "region_code")
        raise Open311Error(400, "需要 region_code（12 位村级区划代码或网格代码） / region_code required (a 12-digit "
                                "village code or a grid code)")
    code = given.pop()
    if not re.fullmatch(r"\d{12,16}", code):
        raise Open311Error(400, "region_code 应为 12 位村级区划代码或 14 位网格代码 / region_code must be a 12-digit "
                                "village code or a grid code")
    region = lookups.region_by_code(code)
    if region is None:
        raise Open311Error(400, f"区划代码“{code}”不存在 / unknown region_code")
    return region


def _point(params):
    """(lat, long) as numbers in range, or None: a bad value is create_case's to refuse, with its message."""
    try:
        lat = clean_coordinate(params.get("lat"), field="lat", label="纬度", limit=90)
        lon = clean_coordinate(params.get("long"), field="long", label="经度", limit=180)
    except ActionError:
        return None
    return None if lat is None or lon is None else (lat, lon)


def _placed(key: ApiKey, params):
    """Without a region field, the grid or village whose boundary (Region.boundary, GeoJSON) holds the
    request's lat/long, inside the key's region."""
    point = _point(params)
    if point is None or key.region.kind == Region.Kind.GRID:
        return None
    return lookups.region_at(key.region, *point)


def _reporter_name(params):
    first, last = str(params.get("first_name") or "").strip(), str(params.get("last_name") or "").strip()
    if re.search(r"[\u4e00-\u9fff]", first + last):
        return last + first  # 姓 + 名
    return f"{first} {last}".strip()


# --------------------------------------------------------------------------- views


@endpoint("GET")
def discovery(request):
    base = request.build_absolute_uri(reverse("open311-discovery", kwargs={"format": "json"})).rsplit("/", 1)[0]
    # the specification's changeset is "the last time this document was updated": the services are the
    # categories, so the newest change of a category is that time
    changed = Category.objects.aggregate(changed=Max("changed_at"))["changed"]
    changeset = _iso(changed) or "1970-01-01T08:00:00+08:00"
    return {
        "changeset": changeset,
        "contact": CONTACT,
        "key_service": "由镇综治中心签发：yiwang open311 key 名称 --region 区划代码 / keys are issued by the town "
                       "(management command: yiwang open311 key NAME --region CODE)",
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": base,
            "changeset": changeset,
            "type": "production",
            "formats": ["application/json"],
        }],
    }


@endpoint("GET")
def services(request):
    return [_service(c) for c in lookups.services().values()]


@endpoint("GET")
def service_definition(request, service_code):
    category = lookups.services().get(service_code)
    if category is None:
        raise Open311Error(404, "未知的 service_code / unknown service_code")
    return {"service_code": category.code, "attributes": []}


@endpoint("GET", "POST")
def requests(request):
    if request.method == "POST":
        return _post_request(request)
    params = request.GET
    key = _key(params)
    cases = _within_key(key)
    if params.get("service_request_id"):  # the specification: this overrides every other parameter
        return [_request(c) for c in cases.filter(number__in=_split(params["service_request_id"],
                                                                    name="service_request_id"))]
    start, end = _window(params)
    cases = cases.filter(reported_at__gte=start, reported_at__lte=end)
    if params.get("service_code"):
        cases = cases.filter(category__code__in=_split(params["service_code"], name="service_code"))
    if params.get("status"):
        wanted = set(_split(params["status"], name="status"))
        if not wanted <= {"open", "closed"}:
            raise Open311Error(400, "status 只能是 open 或 closed / status must be open or closed")
        cases = cases.filter(state__in=[s for s, v in STATUS.items() if v in wanted])
    region_code = params.get("region_code") or params.get("jurisdiction_id")
    if region_code:  # narrows within the key's region; a region outside it simply matches nothing
        region = Region.objects.filter(code=str(region_code)[:16], path__startswith=key.region.path).first()
        cases = cases.filter(region_path__startswith=region.path) if region else cases.none()
    return [_request(c) for c in cases.order_by("-reported_at", "-id")[:MAX_RESULTS]]


def _post_request(request):
    params = _body(request)
    key = _key(params, request.GET)  # in the body as the specification says; the query string works too
    _throttle(key)
    code = str(params.get("service_code") or "").strip()
    if not code:
        raise Open311Error(400, "缺少 service_code / service_code is required")
    category = lookups.services().get(code[:40])
    if category is None:
        raise Open311Error(400, f"未知的 service_code“{code[:40]}” / unknown service_code")
    has_point = params.get("lat") not in (None, "") and params.get("long") not in (None, "")
    if not (has_point or params.get("address_string") or params.get("address_id")):
        raise Open311Error(400, "需要位置：lat 和 long，或 address_string，或 address_id / a location is required: "
                                "lat and long, address_string or address_id")
    region = _report_region(key, params)
    try:
        case = actions.create_case(
            category=category, region=region, description=params.get("description", ""), by=None,
            channel=Case.Channel.OPEN311, api_key=key, address=params.get("address_string", ""),
            latitude=params.get("lat"), longitude=params.get("long"), reporter_name=_reporter_name(params),
            reporter_phone=params.get("phone", ""))
    except PermissionRefused:
        raise Open311Error(403, "该区域不在此 api_key 的范围内 / the region is outside this api_key's region") from None
    except ActionError as e:
        raise Open311Error(400, f"{e.text} / invalid {e.field or 'request'}") from None
    return [{"service_request_id": case.number, "token": case.token, "service_notice": _notice(case),
             "account_id": None}]


@endpoint("GET")
def request_detail(request, service_request_id):
    key = _key(request.GET)
    case = _within_key(key).filter(number=service_request_id).first()
    if case is None:
        raise Open311Error(404, "未找到该诉求 / service request not found")
    return [_request(case)]


@endpoint("GET")
def token(request, token):
    key = _key(request.GET)
    found = Case.objects.filter(region_path__startswith=key.region.path, token=token).values_list("number", "token")
    if not found:
        raise Open311Error(404, "未找到该 token / token not found")
    number, token = found[0]
    return [{"service_request_id": number, "token": token}]
