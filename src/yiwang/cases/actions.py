"""Every write to cases: intake, each transition of the state machine, ratings, supervision, deadline
extensions, 吹哨, categories and their policies, departments and Open311 keys.

States: submitted → accepted (or rejected, or merged into an earlier case) → in_progress (assigned to a
handler at grid, village or town level, or dispatched to a department) → escalated (上报 to the next
level, or 吹哨 to departments) → in_progress again at the new level → resolved → rated → closed; a
first "dissatisfied" rating reopens the case once. Each transition checks permission at the case's
region, checks the state it starts from, and writes with a conditional UPDATE on ``version`` inside one
transaction together with its timeline event and audit entry: of two people acting on the same case at
once, the second is told the case changed under them, and nothing of theirs is written.

``at`` lets the demo builder and the importer date an action in the past; pages and the API never pass it.
"""
import datetime
import math
import secrets
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from yiwang.areas.models import Region
from yiwang.core import audit, crypto
from yiwang.core.errors import ActionError, PermissionRefused
from yiwang.core.linked_insert import Ref, insert_together
from yiwang.core.images import clean_image
from yiwang.core.permissions import allowed, require
from yiwang.core.text import clean_phone, clean_text

from . import notify
from .models import ApiKey, Attachment, Case, CaseEvent, Category, Department, Extension, Whistle

CASE_FIELDS = ["state", "level", "handler", "department", "merged_into", "reject_reason", "result", "accepted_at",
               "resolved_at", "closed_at", "rating", "reopen_count", "supervision", "resolve_due"]
MAX_PHOTOS = 6
DUPLICATE_DAYS = 30
DUPLICATE_METRES = 50
WHISTLE_MINUTES = 30
NUMBER_ATTEMPTS = 8

# (code, name, parent code, accept hours, resolve hours, emergency): the defaults of the issue — 2 h for
# emergencies, 24 h for water/power/heating, 7 days general, 15 days complex. All editable afterwards.
DEFAULT_CATEGORIES = [
    ("dispute", "矛盾纠纷", None, 24, 168, False),
    ("dispute-neighbour", "邻里纠纷", "dispute", 24, 168, False),
    ("dispute-family", "婚姻家庭纠纷", "dispute", 24, 168, False),
    ("dispute-land", "土地草场纠纷", "dispute", 24, 360, False),
    ("dispute-wage", "劳资纠纷", "dispute", 24, 360, False),
    ("livelihood", "民生诉求", None, 24, 168, False),
    ("livelihood-water", "供水", "livelihood", 2, 24, False),
    ("livelihood-power", "供电", "livelihood", 2, 24, False),
    ("livelihood-heating", "供暖", "livelihood", 2, 24, False),
    ("livelihood-social", "社保医保", "livelihood", 24, 168, False),
    ("livelihood-assist", "困难救助", "livelihood", 24, 168, False),
    ("safety", "安全隐患", None, 1, 2, True),
    ("safety-fire", "消防隐患", "safety", 1, 2, True),
    ("safety-road", "道路交通隐患", "safety", 1, 2, True),
    ("safety-house", "房屋安全", "safety", 2, 168, False),
    ("environment", "环境卫生", None, 24, 168, False),
    ("environment-waste", "垃圾清运", "environment", 24, 168, False),
    ("environment-sewage", "污水排放", "environment", 24, 168, False),
    ("policy", "政策咨询", None, 24, 168, False),
    ("infrastructure", "基础设施", None, 24, 360, False),
    ("infrastructure-road", "道路维修", "infrastructure", 24, 360, False),
    ("infrastructure-light", "路灯", "infrastructure", 24, 168, False),
    ("infrastructure-irrigation", "农田水利", "infrastructure", 24, 360, False),
]
DEFAULT_DEPARTMENTS = [
    ("police", "派出所"), ("justice", "司法所"), ("power", "供电所"), ("water", "水务站"),
    ("agri", "农牧业综合服务中心"), ("safety", "应急管理办公室"), ("environment", "生态环境办公室"),
    ("social", "社会事务办公室"),
]
LEVEL_UP = {Case.Level.GRID: Case.Level.VILLAGE, Case.Level.VILLAGE: Case.Level.TOWN}
ACTION_LABELS = {
    "accept": "受理", "reject": "不予受理", "merge": "合并", "assign": "分派", "escalate": "上报",
    "whistle": "吹哨", "resolve": "办结", "rate": "评价", "close": "关闭", "supervise": "督办",
    "request_extension": "申请延期",
}


# --------------------------------------------------------------------------- helpers


def _now(at):
    return at or timezone.now()


def _label(by):
    if by is None:
        return "system"
    if getattr(by, "is_authenticated", False):
        return by.get_full_name() or by.get_username()
    return str(by)


def _event_row(case, *, by, action, at, from_state="", to_state="", note="", data=None):
    return CaseEvent(
        case=case, at=at, by=by if getattr(by, "is_authenticated", False) else None, by_label=_label(by),
        action=action, from_state=from_state, to_state=to_state, note=note, data=data or {})


def _event(case, **kwargs):
    event = _event_row(case, **kwargs)
    event.save(force_insert=True)
    return event


def _check_state(case, action, allowed_from):
    if case.state not in allowed_from:
        raise ActionError(f"诉求 {case.number} 当前状态为“{case.get_state_display()}”，不能{ACTION_LABELS[action]}",
                          code="state")


def _conflict(case):
    current = Case.objects.filter(pk=case.pk).values_list("state", flat=True).first()
    label = Case.State(current).label if current else "已删除"
    return ActionError(f"诉求 {case.number} 刚被其他人处理过（现为“{label}”），请刷新页面查看最新状态后再操作",
                       code="conflict")


def as_seen(case, version):
    """The case as a page or client read it: a ``version`` other than the current one means someone acted
    since, answered as a lost race is (the same "conflict" message) before any state check. Reads only."""
    if version is not None and version != case.version:
        raise _conflict(case)
    return case


def _save_transition(case, *, by, action, at, fields: dict, note="", data=None, audit_action=None):
    """Write ``fields`` to the case if nobody changed it since it was read; event + audit in the same
    transaction. Must be called inside ``transaction.atomic``."""
    before = audit.snapshot(case, CASE_FIELDS)
    from_state = case.state
    updated = Case.objects.filter(pk=case.pk, version=case.version).update(
        version=F("version") + 1, updated_at=timezone.now(), **fields)
    if updated != 1:
        raise _conflict(case)
    for name, value in fields.items():
        setattr(case, name, value)
    case.version += 1
    event = _event(case, by=by, action=action, at=at, from_state=from_state, to_state=case.state, note=note, data=data)
    changes = audit.diff(before, audit.snapshot(case, CASE_FIELDS))
    if note:
        changes["note"] = [None, note[:200]]
    audit.record(audit_action or f"cases.{action}", by=by, obj=case, changes=changes)
    return event


def _note(value, *, field="note", label="说明", required=False, max_length=500):
    return clean_text(value, field=field, label=label, max_length=max_length, required=required)


def _save_photos(case, photos, *, by, at, purpose):
    photos = list(photos or [])
    if len(photos) > MAX_PHOTOS:
        raise ActionError(f"照片最多 {MAX_PHOTOS} 张", field="photos")
    cleaned = [clean_image(p, field="photos") for p in photos]  # all checked before anything is written
    saved = []
    for img in cleaned:
        att = Attachment(case=case, purpose=purpose, sha256=img.sha256, size=img.size, width=img.width,
                         height=img.height, content_type=img.content_type, original_name=img.original_name,
                         uploaded_by=by if getattr(by, "is_authenticated", False) else None, uploaded_at=at)
        att.image.save(img.content.name, img.content, save=False)
        att.thumbnail.save(img.thumbnail.name, img.thumbnail, save=False)
        att.save()
        saved.append(att)
    return saved


def _coordinate(value, *, field, label, low, high):
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ActionError(f"{label}不是数字：{str(value)[:20]}", field=field) from None
    if not number.is_finite() or not (low <= number <= high):
        raise ActionError(f"{label}超出范围（{low}～{high}）", field=field)
    return number.quantize(Decimal("0.000001"))


def distance_m(lat1, lon1, lat2, lon2) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(float(lat1)), math.radians(float(lat2))
    dp, dl = p2 - p1, math.radians(float(lon2) - float(lon1))
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371000 * math.asin(math.sqrt(a))


def suggest_duplicates(*, category, household=None, latitude=None, longitude=None, at=None, exclude=None):
    """Possible duplicates at intake: same category in the last 30 days, open or closed, and the same
    household or within 50 m. Reads only; callers pass only what the user may see (their scope)."""
    at = _now(at)
    recent = Case.objects.filter(category=category, reported_at__gte=at - datetime.timedelta(days=DUPLICATE_DAYS),
                                 reported_at__lte=at).exclude(state=Case.State.MERGED)
    if exclude is not None:
        recent = recent.exclude(pk=exclude.pk)
    found = []
    if household is not None:
        found.extend(recent.filter(household=household))
    if latitude is not None and longitude is not None:
        lat, lon = Decimal(str(latitude)), Decimal(str(longitude))
        box = Decimal("0.0006")  # ≈ 67 m of latitude; longitude degrees are shorter here (~39°N), so wider
        near = recent.filter(latitude__range=(lat - box, lat + box), longitude__range=(lon - box * 2, lon + box * 2))
        found.extend(c for c in near if distance_m(lat, lon, c.latitude, c.longitude) <= DUPLICATE_METRES)
    seen, unique = set(), []
    for c in sorted(found, key=lambda c: c.reported_at, reverse=True):
        if c.pk not in seen:
            seen.add(c.pk)
            unique.append(c)
    return unique


# --------------------------------------------------------------------------- reference data


def ensure_default_categories(*, by=None):
    """Create the default category tree and departments where missing (never overwrites an edited policy)."""
    require(by, "cases.policy", None, action="cases.ensure_default_categories")
    created = []
    with transaction.atomic():
        codes = {c.code: c for c in Category.objects.all()}
        for order, (code, name, parent, accept, resolve, emergency) in enumerate(DEFAULT_CATEGORIES):
            if code in codes:
                continue
            cat = Category.objects.create(code=code, name=name, parent=codes.get(parent), accept_hours=accept,
                                          resolve_hours=resolve, is_emergency=emergency, order=order)
            codes[code] = cat
            created.append(code)
        town = Region.objects.filter(kind=Region.Kind.TOWN).order_by("path").first()
        if town is not None:
            have = set(Department.objects.values_list("code", flat=True))
            for code, name in DEFAULT_DEPARTMENTS:
                if code not in have:
                    Department.objects.create(code=code, name=name, region=town)
                    created.append(f"department:{code}")
        if created:
            audit.record("cases.ensure_default_categories", by=by, changes={"created": [None, created]})
    return created


def save_category(*, code, name, by, parent=None, accept_hours=24, resolve_hours=168, yellow_pct=50, red_pct=80,
                  is_emergency=False, active=True) -> Category:
    """Create or edit a category and its policy (accept and resolve limits, warning points)."""
    require(by, "cases.policy", None, action="cases.save_category")
    code = clean_text(code, field="code", label="代码", max_length=40, required=True)
    name = clean_text(name, field="name", label="名称", max_length=40, required=True)
    for field, label, value in (("accept_hours", "受理时限", accept_hours), ("resolve_hours", "办结时限", resolve_hours)):
        if not isinstance(value, int) or value < 1 or value > 24 * 365:
            raise ActionError(f"{label}应为 1～8760 小时", field=field)
    if accept_hours > resolve_hours:
        raise ActionError("受理时限不能长于办结时限", field="accept_hours")
    if not (0 < yellow_pct < red_pct <= 100):
        raise ActionError("预警点应满足 0 < 黄色 < 红色 ≤ 100（时限已用百分比）", field="yellow_pct")
    if parent is not None and parent.parent_id is not None:
        raise ActionError("分类最多两级", field="parent")
    category = Category.objects.filter(code=code).first()
    fields = ["name", "parent", "accept_hours", "resolve_hours", "yellow_pct", "red_pct", "is_emergency", "active"]
    before = audit.snapshot(category, fields) if category else {}
    category = category or Category(code=code)
    if parent is not None and parent.pk == category.pk:
        raise ActionError("上级分类不能是自己", field="parent")
    category.name, category.parent, category.accept_hours, category.resolve_hours = name, parent, accept_hours, resolve_hours
    category.yellow_pct, category.red_pct, category.is_emergency, category.active = yellow_pct, red_pct, is_emergency, active
    changes = audit.diff(before, audit.snapshot(category, fields))
    if changes:
        with transaction.atomic():
            category.save()
            audit.record("cases.save_category", by=by, obj=category, changes=changes)
    return category


def create_api_key(*, name, region, by):
    """A new Open311 key for a client app; the key is shown once, only its hash is stored."""
    require(by, "cases.policy", region.path, action="cases.create_api_key")
    name = clean_text(name, field="name", label="名称", max_length=60, required=True)
    plain = secrets.token_urlsafe(24)
    with transaction.atomic():
        key = ApiKey.objects.create(name=name, key_hash=crypto.lookup_hash(plain), prefix=plain[:6], region=region,
                                    created_by=by if getattr(by, "is_authenticated", False) else None,
                                    created_at=timezone.now())
        audit.record("cases.create_api_key", by=by, obj=key, region_path=region.path,
                     changes={"name": [None, name], "region": [None, region.code]})
    return key, plain


def deactivate_api_key(key: ApiKey, *, by) -> ApiKey:
    """Stop a client's key (lost, leaked or the client retired). Its cases stay; it cannot be turned on
    again — issue a new key instead, so a leaked one never comes back. Every server process refuses it
    within ``OPEN311_LOOKUP_SECONDS`` (this one at once)."""
    require(by, "cases.policy", key.region.path, action="cases.deactivate_api_key", obj=key)
    with transaction.atomic():
        updated = ApiKey.objects.filter(pk=key.pk, active=True).update(active=False)
        if not updated:
            raise ActionError(f"密钥 {key} 已停用", code="state")
        key.active = False
        audit.record("cases.deactivate_api_key", by=by, obj=key, region_path=key.region.path,
                     changes={"active": [True, False]})
    from .open311.lookups import forget

    forget()
    return key


def key_for(plain) -> ApiKey | None:
    """The active key matching a presented api_key (reads only; kept a few seconds, see open311.lookups)."""
    from .open311.lookups import active_key

    return active_key(plain)


# --------------------------------------------------------------------------- intake


def create_case(*, category, region, description, by, channel=Case.Channel.GRID, title="", household=None,
                address="", latitude=None, longitude=None, photos=(), reporter_name="", reporter_phone="",
                reported_at=None, is_demo=False, api_key=None) -> Case:
    """Report a case in a grid or village (``region``). Residents need ``cases.report`` there, staff
    ``cases.change``; an Open311 client reports with its key, within the key's region."""
    if not isinstance(category, Category) or not category.active:
        raise ActionError("请选择有效的诉求分类", field="category")
    if region is None or not isinstance(region, Region) or not (region.kind == Region.Kind.GRID or region.is_village_level):
        raise ActionError("请选择诉求所在的嘎查村或网格", field="region")
    if api_key is not None:
        if not region.path.startswith(api_key.region.path):
            audit.refuse("cases.create_case", by=f"open311:{api_key.prefix}", region_path=region.path,
                         reason="区域不在该密钥的范围内")
            raise PermissionRefused("该区域不在此接口密钥的范围内")
    else:
        perm = "cases.change" if allowed(by, "cases.change", region.path) else "cases.report"
        require(by, perm, region.path, action="cases.create_case")
    if channel not in Case.Channel.values:
        raise ActionError(f"未知的来源渠道“{channel}”", field="channel")
    if household is not None and not household.region_path.startswith(
            region.path if region.kind != Region.Kind.GRID else region.parent.path):
        raise ActionError(f"户 {household.number} 不在“{region.name}”", field="household")
    description = clean_text(description, field="description", label="问题描述", max_length=2000, required=True)
    title = clean_text(title, field="title", label="标题", max_length=100) or description[:30]
    address = clean_text(address, field="address", label="地点", max_length=200)
    reporter_name = clean_text(reporter_name, field="reporter_name", label="报告人", max_length=50)
    phone = clean_phone(reporter_phone, field="reporter_phone")
    lat = _coordinate(latitude, field="latitude", label="纬度", low=-90, high=90)
    lon = _coordinate(longitude, field="longitude", label="经度", low=-180, high=180)
    if (lat is None) != (lon is None):
        raise ActionError("位置需要同时有经度和纬度", field="latitude")
    at = _now(reported_at)
    if at > timezone.now() + datetime.timedelta(minutes=5):
        raise ActionError("上报时间不能晚于现在", field="reported_at")
    reporter = by if getattr(by, "is_authenticated", False) else None
    if reporter is not None and not reporter_name:
        reporter_name = reporter.get_full_name() or reporter.get_username()
    case = Case(
        number="", token=secrets.token_hex(16), channel=channel, category=category, region=region,
        region_path=region.path, household=household, reporter=reporter, reporter_name=reporter_name,
        title=title, description=description, address=address, latitude=lat, longitude=lon,
        reported_at=at, accept_due=at + datetime.timedelta(hours=category.accept_hours),
        resolve_due=at + datetime.timedelta(hours=category.resolve_hours),
        level=Case.Level.GRID if region.kind == Region.Kind.GRID else Case.Level.VILLAGE, is_demo=is_demo)
    if phone:
        case.reporter_phone_cipher = crypto.encrypt(phone)
        case.reporter_phone_hash = crypto.lookup_hash(phone)
        case.reporter_phone_suffix = phone[-4:]
    actor = by if api_key is None else f"open311:{api_key.prefix}"
    day = timezone.localtime(at).strftime("%Y%m%d")
    for attempt in range(NUMBER_ATTEMPTS):
        # 编号 = the report's day + 5 random digits: known before the INSERT (no second write of the row and
        # all its indexes), not guessable in sequence; a clash with that day's numbers draws again
        case.number = f"{day}{secrets.randbelow(100000):05d}"
        event = _event_row(case, by=by if api_key is None else None, action="create", at=at, to_state=case.state,
                           note=description[:200], data={"channel": channel})
        entry = audit.entry("cases.create_case", by=actor, obj=case,
                            changes={"category": [None, category.code], "region": [None, region.code],
                                     "channel": [None, channel]})
        try:
            if photos:
                with transaction.atomic():
                    case.save(force_insert=True)
                    _save_photos(case, photos, by=by, at=at, purpose=Attachment.Purpose.REPORT)
                    event.save(force_insert=True)
                    entry.object_id = str(case.pk)
                    entry.save(force_insert=True)
            else:  # the intake's usual case (every Open311 post): one statement on PostgreSQL
                insert_together(case, [(event, [Ref("case_id")]), (entry, [Ref("object_id", text=True)])])
            return case
        except IntegrityError as e:
            case.pk = None
            case._state.adding = True
            # the number's unique key names the column in both databases' message ("cases_case.number",
            # "Key (number)=…"); anything else is not a clash to draw again for
            if attempt == NUMBER_ATTEMPTS - 1 or "number" not in str(e):
                raise


# --------------------------------------------------------------------------- transitions


def accept_case(case: Case, *, by, note="", at=None) -> Case:
    require(by, "cases.change", case.region_path, action="cases.accept_case", obj=case)
    _check_state(case, "accept", (Case.State.SUBMITTED,))
    at = _now(at)
    with transaction.atomic():
        _save_transition(case, by=by, action="accept", at=at, note=_note(note),
                         fields={"state": Case.State.ACCEPTED, "accepted_at": at}, audit_action="cases.accept_case")
    return case


def reject_case(case: Case, *, by, reason, at=None) -> Case:
    require(by, "cases.change", case.region_path, action="cases.reject_case", obj=case)
    _check_state(case, "reject", (Case.State.SUBMITTED, Case.State.ACCEPTED))
    reason = _note(reason, field="reason", label="不予受理理由", required=True, max_length=200)
    at = _now(at)
    with transaction.atomic():
        _save_transition(case, by=by, action="reject", at=at, note=reason, audit_action="cases.reject_case",
                         fields={"state": Case.State.REJECTED, "reject_reason": reason, "closed_at": at})
    return case


def merge_case(case: Case, *, into: Case, by, note="", at=None) -> Case:
    """Mark ``case`` a duplicate of ``into`` (an earlier case the user can see)."""
    require(by, "cases.change", case.region_path, action="cases.merge_case", obj=case)
    _check_state(case, "merge", (Case.State.SUBMITTED, Case.State.ACCEPTED))
    if into is None or into.pk == case.pk:
        raise ActionError("请选择要合并到的另一件诉求", field="into")
    if into.state == Case.State.MERGED:
        raise ActionError(f"诉求 {into.number} 本身已被合并，请合并到 {into.merged_into.number}", field="into")
    require(by, "cases.view", into.region_path, action="cases.merge_case", obj=into)
    at = _now(at)
    with transaction.atomic():
        _save_transition(case, by=by, action="merge", at=at, note=_note(note), audit_action="cases.merge_case",
                         fields={"state": Case.State.MERGED, "merged_into": into, "closed_at": at},
                         data={"into": into.number})
        _event(into, by=by, action="merged_in", at=at, note=f"合并了重复诉求 {case.number}", data={"from": case.number})
    return case


def assign_case(case: Case, *, by, level, handler=None, department=None, note="", at=None) -> Case:
    """Give the case to a handler at grid, village or town level, or dispatch it to a department.
    A case still waiting is accepted in the same step."""
    require(by, "cases.change", case.region_path, action="cases.assign_case", obj=case)
    _check_state(case, "assign", (Case.State.SUBMITTED, Case.State.ACCEPTED, Case.State.IN_PROGRESS,
                                  Case.State.ESCALATED))
    if level not in Case.Level.values:
        raise ActionError(f"未知的办理层级“{level}”", field="level")
    if level == Case.Level.DEPARTMENT:
        if department is None:
            raise ActionError("派发到部门时请选择部门", field="department")
        handler = None
    else:
        department = None  # no handler: the case waits in that level's queue (值班) until someone takes it
    if handler is not None:
        if not handler.is_active or not allowed(handler, "cases.change", case.region_path):
            raise ActionError(f"“{handler}”没有办理该区域诉求的权限，不能作为承办人", field="handler")
    at = _now(at)
    fields = {"state": Case.State.IN_PROGRESS, "level": level, "handler": handler, "department": department}
    if case.accepted_at is None:
        fields["accepted_at"] = at
    with transaction.atomic():
        _save_transition(case, by=by, action="assign", at=at, note=_note(note), audit_action="cases.assign_case",
                         fields=fields, data={"handler": handler.get_username() if handler else "",
                                              "department": department.name if department else ""})
        notify.assigned(case, at=at)
    return case


def escalate_case(case: Case, *, by, reason, at=None) -> Case:
    """上报: hand the case up one level (grid → village → town)."""
    require(by, "cases.change", case.region_path, action="cases.escalate_case", obj=case)
    _check_state(case, "escalate", (Case.State.ACCEPTED, Case.State.IN_PROGRESS))
    reason = _note(reason, field="reason", label="上报理由", required=True)
    if case.level not in LEVEL_UP:
        raise ActionError("已在镇级办理，无法再上报；可向部门吹哨", field="reason")
    at = _now(at)
    new_level = LEVEL_UP[case.level]
    with transaction.atomic():
        _save_transition(case, by=by, action="escalate", at=at, note=reason, audit_action="cases.escalate_case",
                         fields={"state": Case.State.ESCALATED, "level": new_level, "handler": None,
                                 "accepted_at": case.accepted_at or at})
    return case


def whistle_case(case: Case, *, by, departments, note, at=None) -> list[Whistle]:
    """吹哨: call departments, each of which must report back within 30 minutes."""
    require(by, "cases.supervise", case.region_path, action="cases.whistle_case", obj=case)
    _check_state(case, "whistle", Case.OPEN_STATES)  # an emergency is whistled at once, accepted in the same step
    departments = [d for d in (departments or []) if isinstance(d, Department)]
    if not departments:
        raise ActionError("请选择至少一个部门", field="departments")
    note = _note(note, label="吹哨事由", required=True)
    at = _now(at)
    with transaction.atomic():
        _save_transition(case, by=by, action="whistle", at=at, note=note, audit_action="cases.whistle_case",
                         fields={"state": Case.State.ESCALATED, "level": Case.Level.TOWN,
                                 "accepted_at": case.accepted_at or at},
                         data={"departments": [d.name for d in departments]})
        whistles = [Whistle.objects.create(case=case, department=d, called_at=at,
                                           called_by=by if getattr(by, "is_authenticated", False) else None,
                                           due_at=at + datetime.timedelta(minutes=WHISTLE_MINUTES))
                    for d in departments]
    return whistles


def report_whistle(whistle: Whistle, *, by, report, at=None) -> Whistle:
    """A department reports (报到) on a whistle call."""
    case = whistle.case
    require(by, "cases.change", case.region_path, action="cases.report_whistle", obj=case)
    if whistle.reported_at is not None:
        raise ActionError(f"{whistle.department.name}已于 {timezone.localtime(whistle.reported_at):%m-%d %H:%M} 报到",
                          field="report")
    report = _note(report, field="report", label="报到情况", required=True)
    at = _now(at)
    with transaction.atomic():
        if Whistle.objects.filter(pk=whistle.pk, reported_at__isnull=True).update(reported_at=at, report=report) != 1:
            raise ActionError("该部门已报到，请刷新页面", code="conflict")
        whistle.reported_at, whistle.report = at, report
        late = at > whistle.due_at
        _event(case, by=by, action="whistle_report", at=at, note=report,
               data={"department": whistle.department.name, "late": late})
        audit.record("cases.report_whistle", by=by, obj=case,
                     changes={"whistle": [None, whistle.department.code], "late": [None, late]})
    return whistle


def resolve_case(case: Case, *, by, result, photos=(), at=None) -> Case:
    require(by, "cases.change", case.region_path, action="cases.resolve_case", obj=case)
    _check_state(case, "resolve", (Case.State.ACCEPTED, Case.State.IN_PROGRESS, Case.State.ESCALATED))
    result = _note(result, field="result", label="办理结果", required=True, max_length=2000)
    at = _now(at)
    with transaction.atomic():
        _save_transition(case, by=by, action="resolve", at=at, note=result, audit_action="cases.resolve_case",
                         fields={"state": Case.State.RESOLVED, "result": result, "resolved_at": at})
        _save_photos(case, photos, by=by, at=at, purpose=Attachment.Purpose.RESULT)
        notify.resolved(case, at=at)
    return case


def rate_case(case: Case, *, by, rating, comment="", at=None) -> Case:
    """The resident's rating. Only the reporter rates a case reported from their account; a case without
    one (walk-in, hotline) is rated by staff recording the resident's answer in a call-back (回访).
    A first "dissatisfied" reopens the case once with a fresh resolve window; otherwise it closes."""
    if by is not None:
        if case.reporter_id is not None:
            if not getattr(by, "is_authenticated", False) or by.pk != case.reporter_id:
                audit.refuse("cases.rate_case", by=by, obj=case, reason="只有报告人本人可以评价")
                raise PermissionRefused("只有报告人本人可以评价此诉求")
        else:
            require(by, "cases.change", case.region_path, action="cases.rate_case", obj=case)
    _check_state(case, "rate", (Case.State.RESOLVED,))
    if rating not in Case.Rating.values:
        raise ActionError("请选择：满意、基本满意或不满意", field="rating")
    comment = _note(comment, field="comment", label="评价意见", max_length=200)
    at = _now(at)
    fields = {"rating": rating, "rating_comment": comment, "rated_at": at}
    if not case.first_rating:
        fields["first_rating"] = rating
    reopen = rating == Case.Rating.DISSATISFIED and case.reopen_count == 0
    if reopen:
        fields.update(state=Case.State.IN_PROGRESS, reopen_count=1, resolved_at=None,
                      resolve_due=at + datetime.timedelta(hours=case.category.resolve_hours))
    else:
        fields.update(state=Case.State.CLOSED, closed_at=at)
    with transaction.atomic():
        _save_transition(case, by=by, action="rate", at=at, note=comment, audit_action="cases.rate_case",
                         fields=fields, data={"rating": rating, "reopened": reopen})
    return case


def close_case(case: Case, *, by, note, at=None) -> Case:
    """Close a resolved case that was not rated (e.g. the resident could not be reached)."""
    require(by, "cases.change", case.region_path, action="cases.close_case", obj=case)
    _check_state(case, "close", (Case.State.RESOLVED,))
    note = _note(note, label="关闭说明", required=True)
    at = _now(at)
    with transaction.atomic():
        _save_transition(case, by=by, action="close", at=at, note=note, audit_action="cases.close_case",
                         fields={"state": Case.State.CLOSED, "closed_at": at})
    return case


def supervise_case(case: Case, *, by, level, note, at=None) -> Case:
    """Town supervision (督办), yellow or red."""
    require(by, "cases.supervise", case.region_path, action="cases.supervise_case", obj=case)
    _check_state(case, "supervise", Case.OPEN_STATES)
    if level not in (Case.Supervision.YELLOW, Case.Supervision.RED):
        raise ActionError("督办级别应为黄牌或红牌", field="level")
    note = _note(note, label="督办意见", required=True)
    at = _now(at)
    with transaction.atomic():
        _save_transition(case, by=by, action="supervise", at=at, note=note, audit_action="cases.supervise_case",
                         fields={"supervision": level, "supervised_at": at}, data={"level": level})
    return case


def request_extension(case: Case, *, by, hours, reason, at=None) -> Extension:
    require(by, "cases.change", case.region_path, action="cases.request_extension", obj=case)
    _check_state(case, "request_extension", (Case.State.ACCEPTED, Case.State.IN_PROGRESS, Case.State.ESCALATED))
    if not isinstance(hours, int) or not 1 <= hours <= 24 * 90:
        raise ActionError("延期时长应为 1～2160 小时", field="hours")
    reason = _note(reason, field="reason", label="延期理由", required=True, max_length=200)
    at = _now(at)
    try:
        with transaction.atomic():
            if not Case.objects.filter(pk=case.pk, version=case.version).exists():
                raise _conflict(case)  # asked on a stale page: the deadline it saw may have moved
            ext = Extension.objects.create(case=case, hours=hours, reason=reason, requested_at=at,
                                           requested_by=by if getattr(by, "is_authenticated", False) else None)
            _event(case, by=by, action="request_extension", at=at, note=reason, data={"hours": hours})
            audit.record("cases.request_extension", by=by, obj=case, changes={"extension_hours": [None, hours]})
    except IntegrityError:
        raise ActionError("已有一个待审批的延期申请", field="hours") from None
    return ext


def decide_extension(extension: Extension, *, by, approve: bool, note="", at=None) -> Extension:
    """Approve (the resolve deadline moves) or refuse a pending extension; town supervision only."""
    case = extension.case
    require(by, "cases.supervise", case.region_path, action="cases.decide_extension", obj=case)
    if extension.status != Extension.Status.PENDING:
        raise ActionError(f"该延期申请已{extension.get_status_display()}", field="approve")
    note = _note(note, label="审批意见", max_length=200)
    at = _now(at)
    status = Extension.Status.APPROVED if approve else Extension.Status.REFUSED
    with transaction.atomic():
        if Extension.objects.filter(pk=extension.pk, status=Extension.Status.PENDING).update(
                status=status, decided_at=at, decided_by=by if getattr(by, "is_authenticated", False) else None,
                decision_note=note) != 1:
            raise ActionError("该延期申请刚被其他人审批，请刷新页面", code="conflict")
        extension.status, extension.decided_at, extension.decision_note = status, at, note
        if approve:
            _save_transition(case, by=by, action="extension_approved", at=at, note=note,
                             audit_action="cases.decide_extension",
                             fields={"resolve_due": case.resolve_due + datetime.timedelta(hours=extension.hours)},
                             data={"hours": extension.hours})
        else:
            _event(case, by=by, action="extension_refused", at=at, note=note, data={"hours": extension.hours})
            audit.record("cases.decide_extension", by=by, obj=case, changes={"extension": [None, "refused"]})
    return extension


def reveal_reporter_phone(case: Case, *, by) -> str:
    """The reporter's full phone number, for a call-back; audited like every reading of personal data."""
    require(by, "pii.reveal", case.region_path, action="cases.reveal_reporter_phone", obj=case)
    if not case.reporter_phone_cipher:
        raise ActionError("报告人未留电话", field="phone")
    audit.record("cases.reveal_reporter_phone", by=by, obj=case)
    return crypto.decrypt(case.reporter_phone_cipher)
