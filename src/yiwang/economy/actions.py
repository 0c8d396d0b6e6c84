"""Every write of the collective-economy app: projects and their parties, the income ledger (append
only: corrections are reversing entries), tier designations, pooled projects with their shares and
dividend runs, strong–weak pairings, enterprises, their partnerships and yearly results, joint
meetings and the town's industry zones.

Forms, the API, the Excel importer and the demo builder call these functions. Each checks the
permission at the target's region (``economy.change``; reviewing entries, designating tiers and
approving dividend runs need ``economy.approve``), validates with Chinese messages naming the field,
writes in one transaction and records an audit entry. ``by=None`` is the system (demo builder, CLI).
"""
import datetime
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone

from yiwang.areas.models import Region
from yiwang.core import audit
from yiwang.core.errors import ActionError
from yiwang.core.money import to_yuan
from yiwang.core.permissions import require
from yiwang.core.text import clean_choice, clean_coordinate, clean_date, clean_text

from . import allocation, ledger
from .models import (
    DividendAllocation, DividendRun, Enterprise, IncomeCategory, IncomeEntry, JointMeeting, Partnership,
    PartnershipYear, PooledProject, PoolShare, Project, ProjectParty, Tier, TierDesignation, VillagePairing, Zone,
)

PROJECT_FIELDS = ["code", "name", "village", "kind", "status", "start_date", "end_date", "location", "latitude",
                  "longitude", "zone", "product", "is_base", "description"]
ENTRY_FIELDS = ["village", "project", "month", "category", "amount", "source_document", "note", "reverses"]
POOL_FIELDS = ["code", "name", "host", "project", "start_date", "total_capital", "guaranteed_rate",
               "retained_percent", "note"]
PAIRING_FIELDS = ["strong", "strong_name", "weak", "measures", "start_date", "end_date"]
UNSET = object()


# --------------------------------------------------------------------------- validation helpers


def _village(village, *, field="village"):
    if not isinstance(village, Region) or village.kind != Region.Kind.VILLAGE:
        raise ActionError("请选择嘎查村（村级区域）", field=field)
    return village


def _town(town, *, field="town"):
    if not isinstance(town, Region) or town.kind != Region.Kind.TOWN:
        raise ActionError("请选择镇（镇级区域）", field=field)
    return town


def _money(value, *, field, label, positive=True, allow_zero=False, required=True):
    if value in (None, ""):
        if required:
            raise ActionError(f"{label}不能为空", field=field)
        return None
    try:
        amount = to_yuan(value, field=field)
    except ActionError as e:
        raise ActionError(f"{label}：{e.text}", field=field) from None
    if positive and (amount < 0 or (amount == 0 and not allow_zero)):
        raise ActionError(f"{label}必须大于零" if not allow_zero else f"{label}不能为负", field=field)
    return amount


def _percent(value, *, field, label):
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).strip().rstrip("%"))
    except InvalidOperation:
        raise ActionError(f"{label}“{value}”不是数字", field=field) from None
    if not number.is_finite() or number < 0 or number >= 100:
        raise ActionError(f"{label}应在 0 到 100 之间", field=field)
    if number != number.quantize(Decimal("0.01")):
        raise ActionError(f"{label}最多两位小数", field=field)
    return number


def clean_month(value, *, field="month", label="月份", today=None):
    """A month as its first day: a date, '2023-05', '2023年5月', '2023/5' or a full date."""
    import re
    import unicodedata

    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        month = value.replace(day=1)
    else:
        text = unicodedata.normalize("NFKC", str(value or "")).strip()
        if not text:
            raise ActionError(f"{label}不能为空", field=field)
        m = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*(?:月|[-/.]\s*\d{1,2}\s*日?)?", text)
        if not m:
            raise ActionError(f"{label}“{text}”格式错误：应为 2023-05 或 2023年5月", field=field)
        try:
            month = datetime.date(int(m[1]), int(m[2]), 1)
        except ValueError:
            raise ActionError(f"{label}“{text}”不存在", field=field) from None
    today = today or datetime.date.today()
    if month > today.replace(day=1):
        raise ActionError(f"{label}不能晚于本月", field=field)
    if month.year < 2000:
        raise ActionError(f"{label}早于 2000 年，请检查", field=field)
    return month


def _year(value, *, field="year", label="年度", not_future=True):
    try:
        year = int(str(value).strip())
    except (TypeError, ValueError):
        raise ActionError(f"{label}“{value}”不是年份", field=field) from None
    if not 2000 <= year <= (datetime.date.today().year if not_future else 2100):
        raise ActionError(f"{label} {year} 超出范围", field=field)
    return year


def _credit_code(value):
    """统一社会信用代码 (GB 32100), checked with python-stdnum; empty is allowed."""
    from stdnum.cn import uscc
    from stdnum.exceptions import ValidationError

    text = clean_text(value, field="credit_code", label="统一社会信用代码", max_length=30).upper().replace(" ", "")
    if not text:
        return None
    try:
        return uscc.validate(text)
    except ValidationError:
        raise ActionError(f"统一社会信用代码“{text}”无效（位数、字符或校验位错误）", field="credit_code") from None


# --------------------------------------------------------------------------- zones and projects


def create_zone(*, town, name, kind, order=100, by) -> Zone:
    """A part of the town's industry layout (四区五园十基地)."""
    _town(town)
    require(by, "economy.change", town.path, action="economy.create_zone")
    name = clean_text(name, field="name", label="名称", max_length=60, required=True)
    kind = clean_choice(kind, Zone.Kind, field="kind", label="类别")
    if Zone.objects.filter(town=town, name=name).exists():
        raise ActionError(f"产业布局“{name}”已存在", field="name")
    # a zone is offered as a choice to every village of the town: a village's name in it would tell the
    # other villages about that village
    for village in Region.objects.filter(path__startswith=town.path, kind__in=[Region.Kind.VILLAGE,
                                                                                Region.Kind.COMMUNITY]):
        short = village.short_name.removesuffix("村").removesuffix("嘎查")
        if len(short) >= 2 and short in name:
            raise ActionError(f"名称含有村名“{village.short_name}”：产业布局向全镇各村显示，请不要用村名命名", field="name")
    with transaction.atomic():
        zone = Zone.objects.create(town=town, name=name, kind=kind, order=order)
        audit.record("economy.create_zone", by=by, obj=zone, region_path=town.path,
                     changes={"name": [None, name], "kind": [None, kind]})
    return zone


def _project_values(values, *, village):
    out = {}
    if "code" in values:
        code = clean_text(values["code"], field="code", label="项目编号", max_length=30, required=True)
        if not all(c.isalnum() or c in "-_" for c in code):
            raise ActionError("项目编号只能含字母、数字、- 和 _", field="code")
        out["code"] = code
    if "name" in values:
        out["name"] = clean_text(values["name"], field="name", label="项目名称", max_length=100, required=True)
    if "kind" in values:
        out["kind"] = clean_choice(values["kind"], Project.Kind, field="kind", label="类型")
    if "status" in values:
        out["status"] = clean_choice(values["status"], Project.Status, field="status", label="状态")
    if "start_date" in values:
        out["start_date"] = clean_date(values["start_date"], field="start_date", label="开始日期", not_future=False)
    if "end_date" in values:
        out["end_date"] = (clean_date(values["end_date"], field="end_date", label="终止日期", not_future=False)
                           if values["end_date"] else None)
    for key, label, length in (("location", "地点", 200), ("product", "一村一品", 60)):
        if key in values:
            out[key] = clean_text(values[key], field=key, label=label, max_length=length)
    if "description" in values:
        out["description"] = clean_text(values["description"], field="description", label="简介", max_length=4000)
    if "latitude" in values:
        out["latitude"] = clean_coordinate(values["latitude"], field="latitude", label="纬度", limit=90)
    if "longitude" in values:
        out["longitude"] = clean_coordinate(values["longitude"], field="longitude", label="经度", limit=180)
    if "zone" in values:
        zone = values["zone"]
        if zone is not None and (not isinstance(zone, Zone) or not village.path.startswith(zone.town.path)):
            raise ActionError("产业布局不属于本镇", field="zone")
        out["zone"] = zone
    if "is_base" in values:
        out["is_base"] = bool(values["is_base"])
    return out


def create_project(*, village, code, name, kind, start_date, by, status=Project.Status.OPERATING, end_date=None,
                   location="", latitude=None, longitude=None, zone=None, product="", is_base=False, description="",
                   is_demo=False) -> Project:
    _village(village)
    require(by, "economy.change", village.path, action="economy.create_project")
    values = _project_values(dict(code=code, name=name, kind=kind, status=status, start_date=start_date,
                                  end_date=end_date, location=location, latitude=latitude, longitude=longitude,
                                  zone=zone, product=product, is_base=is_base, description=description),
                             village=village)
    if values["end_date"] and values["end_date"] < values["start_date"]:
        raise ActionError("终止日期不能早于开始日期", field="end_date")
    if (values["latitude"] is None) != (values["longitude"] is None):
        raise ActionError("位置需同时有纬度和经度", field="latitude")
    if Project.objects.filter(code=values["code"]).exists():
        raise ActionError(f"项目编号“{values['code']}”已存在", field="code")
    project = Project(village=village, region_path=village.path, is_demo=is_demo, **values)
    with transaction.atomic():
        try:
            with transaction.atomic():
                project.save()
        except IntegrityError:
            raise ActionError(f"项目编号“{values['code']}”已存在", field="code") from None
        audit.record("economy.create_project", by=by, obj=project,
                     changes=audit.diff({}, audit.snapshot(project, PROJECT_FIELDS)))
    return project


def update_project(project: Project, *, by, **changes) -> Project:
    """Change a project's fields (not its village or code: those are its identity in the ledger)."""
    require(by, "economy.change", project.region_path, action="economy.update_project", obj=project)
    unknown = set(changes) - set(PROJECT_FIELDS) - {"code", "village"}
    if unknown or "code" in changes and changes["code"] != project.code or \
            "village" in changes and changes["village"] != project.village:
        raise ActionError("项目编号和所属村不能修改", field="code")
    changes.pop("code", None), changes.pop("village", None)
    before = audit.snapshot(project, PROJECT_FIELDS)
    for key, value in _project_values(changes, village=project.village).items():
        setattr(project, key, value)
    if project.end_date and project.end_date < project.start_date:
        raise ActionError("终止日期不能早于开始日期", field="end_date")
    diff = audit.diff(before, audit.snapshot(project, PROJECT_FIELDS))
    if diff:
        with transaction.atomic():
            project.save()
            audit.record("economy.update_project", by=by, obj=project, changes=diff)
    return project


def add_project_party(project: Project, *, role, name, by, amount=None, insured_heads=None, note="",
                      is_demo=False) -> ProjectParty:
    """A party of the project (six-party mechanism): its role, name, what it puts in; an insurer's head count."""
    require(by, "economy.change", project.region_path, action="economy.add_project_party", obj=project)
    role = clean_choice(role, ProjectParty.Role, field="role", label="角色")
    name = clean_text(name, field="name", label="名称", max_length=100, required=True)
    amount = _money(amount, field="amount", label="金额", required=False)
    if insured_heads not in (None, ""):
        try:
            insured_heads = int(insured_heads)
        except (TypeError, ValueError):
            raise ActionError(f"参保头数“{insured_heads}”不是整数", field="insured_heads") from None
        if insured_heads < 0:
            raise ActionError("参保头数不能为负", field="insured_heads")
        if role != ProjectParty.Role.INSURER:
            raise ActionError("只有保险公司填写参保头数", field="insured_heads")
    else:
        insured_heads = None
    note = clean_text(note, field="note", label="说明", max_length=200)
    with transaction.atomic():
        party = ProjectParty.objects.create(project=project, role=role, name=name, amount=amount,
                                            insured_heads=insured_heads, note=note, is_demo=is_demo)
        audit.record("economy.add_project_party", by=by, obj=party,
                     changes={"role": [None, role], "name": [None, name], "amount": [None, str(amount)]})
    return party


# --------------------------------------------------------------------------- the income ledger


def record_income(*, village, month, category, amount, by, project=None, source_document="", note="",
                  is_demo=False, today=None) -> IncomeEntry:
    """One ledger entry. Amounts are yuan with at most two decimals and above zero (a correction is
    ``reverse_entry``). The same voucher (凭证) for the same village, month, category and project is
    refused while its entry stands: a voucher is entered once."""
    _village(village)
    require(by, "economy.change", village.path, action="economy.record_income")
    month = clean_month(month, today=today)
    category = clean_choice(category, IncomeCategory, field="category", label="收入类别")
    amount = _money(amount, field="amount", label="金额")
    if project is not None and project.village_id != village.pk:
        raise ActionError(f"项目“{project}”不属于{village.short_name}", field="project")
    source_document = clean_text(source_document, field="source_document", label="凭证", max_length=200)
    note = clean_text(note, field="note", label="摘要", max_length=200)
    if source_document and live_entries().filter(village=village, month=month, category=category, project=project,
                                                 source_document=source_document).exists():
        raise ActionError(f"凭证“{source_document}”已在 {month:%Y-%m} 录入，不能重复录入；如需更正请冲销原分录",
                          field="source_document")
    entry = IncomeEntry(village=village, region_path=village.path, project=project, month=month, category=category,
                        amount=amount, source_document=source_document, note=note, is_demo=is_demo,
                        entered_by=by if getattr(by, "is_authenticated", False) else None)
    with transaction.atomic():
        entry.save()
        audit.record("economy.record_income", by=by, obj=entry,
                     changes=audit.diff({}, audit.snapshot(entry, ENTRY_FIELDS)))
    return entry


def live_entries():
    """Entries that stand: neither reversals nor reversed."""
    return IncomeEntry.objects.filter(reverses__isnull=True, reversal__isnull=True)


def reverse_entry(entry: IncomeEntry, *, reason, by, _allocation=False) -> IncomeEntry:
    """冲销: a new entry with the negated amount in the same month and category, pointing at the
    original. An entry is reversed at most once; a reversal is never reversed; an entry posted by a
    dividend run is reversed by reversing the run."""
    require(by, "economy.change", entry.region_path, action="economy.reverse_entry", obj=entry)
    reason = clean_text(reason, field="reason", label="冲销原因", max_length=200, required=True)
    with transaction.atomic():
        entry = IncomeEntry.objects.select_for_update().get(pk=entry.pk)
        if entry.reverses_id is not None:
            raise ActionError("这是一条冲销分录，不能再冲销", field="entry")
        if IncomeEntry.objects.filter(reverses=entry).exists():
            raise ActionError("该分录已冲销", field="entry")
        if not _allocation and DividendAllocation.objects.filter(entry=entry).exists():
            raise ActionError("该分录由分红入账，请冲销那次分红", field="entry")
        reversal = IncomeEntry(village_id=entry.village_id, region_path=entry.region_path, project_id=entry.project_id,
                               month=entry.month, category=entry.category, amount=-entry.amount,
                               source_document=entry.source_document, note=f"冲销：{reason}"[:200], reverses=entry,
                               is_demo=entry.is_demo, entered_by=by if getattr(by, "is_authenticated", False) else None)
        try:
            with transaction.atomic():
                reversal.save()
        except IntegrityError:  # another reversal of the same entry a moment ago
            raise ActionError("该分录刚刚已被冲销", field="entry") from None
        audit.record("economy.reverse_entry", by=by, obj=reversal, reason=reason,
                     changes={"reverses": [None, str(entry.pk)], "amount": [None, str(-entry.amount)]})
    return reversal


def correct_entry(entry: IncomeEntry, *, by, amount=None, category=None, project=UNSET, reason) -> IncomeEntry:
    """更正 = reverse the entry and record the corrected one, in one transaction. Returns the new entry."""
    require(by, "economy.change", entry.region_path, action="economy.correct_entry", obj=entry)
    with transaction.atomic():
        reverse_entry(entry, reason=reason, by=by)
        new = record_income(village=entry.village, month=entry.month,
                            category=category if category is not None else entry.category,
                            amount=amount if amount is not None else entry.amount,
                            project=entry.project if project is UNSET else project,
                            source_document=entry.source_document, note=entry.note, by=by, is_demo=entry.is_demo,
                            today=max(datetime.date.today(), entry.month))
        audit.record("economy.correct_entry", by=by, obj=new, reason=reason,
                     changes={"corrects": [None, str(entry.pk)], "amount": [str(entry.amount), str(new.amount)]})
    return new


def review_entry(entry: IncomeEntry, *, by) -> IncomeEntry:
    """审核: the town's 经管站 marks an entry reviewed (who, when); the amount stays as entered."""
    require(by, "economy.approve", entry.region_path, action="economy.review_entry", obj=entry)
    if entry.reviewed_at is not None:
        raise ActionError("该分录已审核", field="entry")
    now = timezone.now()
    with transaction.atomic():
        if IncomeEntry.objects.filter(pk=entry.pk, reviewed_at__isnull=True).update(
                reviewed_by=by if getattr(by, "is_authenticated", False) else None, reviewed_at=now) != 1:
            raise ActionError("该分录刚刚已被审核", field="entry")
        audit.record("economy.review_entry", by=by, obj=entry, changes={"reviewed_at": [None, str(now)]})
    entry.refresh_from_db()
    return entry


# --------------------------------------------------------------------------- tiers


def designate_tier(village, *, year, tier, reason="", by, is_demo=False) -> TierDesignation | None:
    """人工认定 a village's tier for a year; ``tier=None`` removes the designation (the computed tier applies)."""
    _village(village)
    require(by, "economy.approve", village.path, action="economy.designate_tier", obj=village)
    year = _year(year, not_future=False)
    current = TierDesignation.objects.filter(village=village, year=year).first()
    with transaction.atomic():
        if tier in (None, ""):
            if current is None:
                raise ActionError(f"{village.short_name} {year} 年没有人工认定", field="tier")
            old = current.tier
            TierDesignation.objects.filter(pk=current.pk).delete()
            audit.record("economy.designate_tier", by=by, obj=village, changes={f"tier_{year}": [old, None]},
                         reason="取消人工认定")
            return None
        tier = clean_choice(tier, Tier, field="tier", label="等级")
        reason = clean_text(reason, field="reason", label="认定依据", max_length=200, required=True)
        old = current.tier if current else None
        designation = current or TierDesignation(village=village, region_path=village.path, year=year, is_demo=is_demo)
        designation.tier, designation.reason = tier, reason
        designation.designated_by = by if getattr(by, "is_authenticated", False) else None
        designation.save()
        audit.record("economy.designate_tier", by=by, obj=village, reason=reason,
                     changes={f"tier_{year}": [old, tier]})
    return designation


# --------------------------------------------------------------------------- pooled projects and dividends


def create_pool(*, code, name, host, start_date, total_capital, by, project=None, guaranteed_rate=None,
                retained_percent=0, note="", is_demo=False) -> PooledProject:
    _village(host, field="host")
    require(by, "economy.change", host.path, action="economy.create_pool")
    code = clean_text(code, field="code", label="项目编号", max_length=30, required=True)
    name = clean_text(name, field="name", label="名称", max_length=100, required=True)
    if PooledProject.objects.filter(code=code).exists():
        raise ActionError(f"项目编号“{code}”已存在", field="code")
    if project is not None and project.village_id != host.pk:
        raise ActionError("依托项目须属于所在村", field="project")
    pool = PooledProject(code=code, name=name, host=host, region_path=host.path, project=project,
                         start_date=clean_date(start_date, field="start_date", label="开始日期", not_future=False),
                         total_capital=_money(total_capital, field="total_capital", label="总出资额"),
                         guaranteed_rate=_percent(guaranteed_rate, field="guaranteed_rate", label="保底收益率"),
                         retained_percent=_percent(retained_percent, field="retained_percent", label="提留比例") or 0,
                         note=clean_text(note, field="note", label="说明", max_length=2000), is_demo=is_demo)
    with transaction.atomic():
        pool.save()
        audit.record("economy.create_pool", by=by, obj=pool, changes=audit.diff({}, audit.snapshot(pool, POOL_FIELDS)))
    return pool


def add_pool_share(pool: PooledProject, *, village, capital, joined_on, by, is_demo=False) -> PoolShare:
    """A village joins the pool with its capital. Shares together never exceed the pool's total."""
    _village(village)
    require(by, "economy.change", village.path, action="economy.add_pool_share", obj=pool)
    require(by, "economy.change", pool.region_path, action="economy.add_pool_share", obj=pool)
    capital = _money(capital, field="capital", label="出资额")
    joined_on = clean_date(joined_on, field="joined_on", label="加入日期", not_future=False)
    with transaction.atomic():
        pool = PooledProject.objects.select_for_update().get(pk=pool.pk)
        if PoolShare.objects.filter(pool=pool, village=village).exists():
            raise ActionError(f"{village.short_name}已参与该项目", field="village")
        taken = ledger.total(PoolShare.objects.filter(pool=pool), "capital")
        if taken + capital > pool.total_capital:
            raise ActionError(f"出资合计将达 {taken + capital:,.2f} 元，超过项目总出资额 {pool.total_capital:,.2f} 元",
                              field="capital")
        share = PoolShare.objects.create(pool=pool, village=village, region_path=village.path, capital=capital,
                                         joined_on=joined_on, is_demo=is_demo)
        audit.record("economy.add_pool_share", by=by, obj=share,
                     changes={"pool": [None, str(pool.pk)], "village": [None, village.code],
                              "capital": [None, str(capital)]})
    return share


def effective_runs(pool, year):
    """Runs that count for a pool-year: a draft or a posted run that is not itself a reversal."""
    return DividendRun.objects.filter(pool=pool, year=year, reverses__isnull=True,
                                      status__in=[DividendRun.Status.DRAFT, DividendRun.Status.POSTED])


def preview_dividend(pool: PooledProject, *, year, distributable) -> allocation.Allocation:
    """What a run would allocate now (nothing is written): checks the shares cover the pool."""
    shares = list(pool.shares.select_related("village").order_by("village__code"))
    if not shares:
        raise ActionError("该项目还没有参与村", field="shares")
    covered = sum((s.capital for s in shares), Decimal(0))
    if covered != pool.total_capital:
        raise ActionError(f"参与村出资合计 {covered:,.2f} 元，与项目总出资额 {pool.total_capital:,.2f} 元不符；"
                          "请先补齐或更正出资", field="shares")
    amount = _money(distributable, field="distributable", label="可分配收益", allow_zero=True)
    return allocation.allocate(amount, [(s, s.capital) for s in shares], retained_percent=pool.retained_percent,
                               guaranteed_rate=pool.guaranteed_rate)


def propose_dividend_run(pool: PooledProject, *, year, distributable, by, post_month=None, note="",
                         is_demo=False) -> DividendRun:
    """A draft run for a year: the allocation is computed and stored for the approver to see. One
    effective run per pool and year (a reversed or withdrawn one makes room for a new one)."""
    shares = list(pool.shares.select_related("village"))
    for path in {pool.region_path, *(s.region_path for s in shares)}:
        require(by, "economy.change", path, action="economy.propose_dividend_run", obj=pool)
    year = _year(year)
    if year < pool.start_date.year:
        raise ActionError(f"{year} 年早于项目开始（{pool.start_date.year} 年）", field="year")
    today = datetime.date.today()
    if post_month in (None, ""):
        post_month = datetime.date(year, 12, 1) if year < today.year else today.replace(day=1)
    post_month = clean_month(post_month, field="post_month", label="入账月份")
    if post_month.year != year:
        raise ActionError(f"入账月份须在 {year} 年内", field="post_month")
    note = clean_text(note, field="note", label="说明", max_length=200)
    with transaction.atomic():
        pool = PooledProject.objects.select_for_update().get(pk=pool.pk)
        if effective_runs(pool, year).exists():
            raise ActionError(f"{pool.name} {year} 年度已分红（或有待审批的分红）；如需重做请先冲销或撤回", field="year")
        result = preview_dividend(pool, year=year, distributable=distributable)
        run = DividendRun.objects.create(pool=pool, year=year, post_month=post_month, distributable=result.distributable,
                                         retained=result.retained, guarantee_topup=result.guarantee_topup,
                                         payout=result.payout, note=note, is_demo=is_demo,
                                         created_by=by if getattr(by, "is_authenticated", False) else None)
        DividendAllocation.objects.bulk_create([
            DividendAllocation(run=run, share=p.key, village_id=p.key.village_id, region_path=p.key.region_path,
                               capital=p.capital, amount=p.amount) for p in result.parts])
        audit.record("economy.propose_dividend_run", by=by, obj=run,
                     changes={"year": [None, year], "distributable": [None, str(result.distributable)],
                              "payout": [None, str(result.payout)], "parts": [None, len(result.parts)]})
    return run


def approve_dividend_run(run: DividendRun, *, by) -> DividendRun:
    """审批入账: every participant's part becomes an entry (投资收益) in its ledger, in one transaction."""
    allocations = list(run.allocations.select_related("village"))
    for path in {run.pool.region_path, *(a.region_path for a in allocations)}:
        require(by, "economy.approve", path, action="economy.approve_dividend_run", obj=run)
    with transaction.atomic():
        if DividendRun.objects.filter(pk=run.pk, status=DividendRun.Status.DRAFT).update(
                status=DividendRun.Status.POSTED, approved_at=timezone.now(),
                approved_by=by if getattr(by, "is_authenticated", False) else None) != 1:
            raise ActionError("该分红不是待审批状态（可能刚刚已被审批或撤回）", field="run")
        run.refresh_from_db()
        label = f"{run.pool.name} {run.year} 年度分红"
        for a in allocations:
            if a.amount == 0:
                continue
            entry = IncomeEntry(village_id=a.village_id, region_path=a.region_path, month=run.post_month,
                                category=IncomeCategory.INVESTMENT, amount=a.amount,
                                source_document=f"分红-{run.pk}", note=label[:200], is_demo=run.is_demo,
                                entered_by=by if getattr(by, "is_authenticated", False) else None)
            entry.save()
            DividendAllocation.objects.filter(pk=a.pk).update(entry=entry)
        audit.record("economy.approve_dividend_run", by=by, obj=run,
                     changes={"status": [DividendRun.Status.DRAFT, DividendRun.Status.POSTED],
                              "payout": [None, str(run.payout)]})
    return run


def reverse_dividend_run(run: DividendRun, *, reason, by) -> DividendRun:
    """A posted run is reversed by a reversing run (negated parts, each ledger entry reversed); a
    draft is withdrawn. Either way the year is free for a new run. Returns the reversing run (or the
    withdrawn draft)."""
    allocations = list(run.allocations.select_related("entry"))
    for path in {run.pool.region_path, *(a.region_path for a in allocations)}:
        require(by, "economy.approve", path, action="economy.reverse_dividend_run", obj=run)
    reason = clean_text(reason, field="reason", label="冲销原因", max_length=200, required=True)
    with transaction.atomic():
        if run.reverses_id is not None:
            raise ActionError("这是一次冲销分红，不能再冲销", field="run")
        if run.status == DividendRun.Status.DRAFT:
            if DividendRun.objects.filter(pk=run.pk, status=DividendRun.Status.DRAFT).update(
                    status=DividendRun.Status.WITHDRAWN) != 1:
                raise ActionError("该分红状态已变化，请刷新", field="run")
            run.refresh_from_db()
            audit.record("economy.reverse_dividend_run", by=by, obj=run, reason=reason,
                         changes={"status": [DividendRun.Status.DRAFT, DividendRun.Status.WITHDRAWN]})
            return run
        if DividendRun.objects.filter(pk=run.pk, status=DividendRun.Status.POSTED).update(
                status=DividendRun.Status.REVERSED) != 1:
            raise ActionError("该分红不是已入账状态，不能冲销", field="run")
        reversing = DividendRun.objects.create(
            pool_id=run.pool_id, year=run.year, post_month=run.post_month, distributable=-run.distributable,
            retained=-run.retained, guarantee_topup=-run.guarantee_topup, payout=-run.payout,
            status=DividendRun.Status.POSTED, reverses=run, note=f"冲销：{reason}"[:200], is_demo=run.is_demo,
            created_by=by if getattr(by, "is_authenticated", False) else None, approved_at=timezone.now(),
            approved_by=by if getattr(by, "is_authenticated", False) else None)
        for a in allocations:
            entry = reverse_entry(a.entry, reason=reason, by=by, _allocation=True) if a.entry_id else None
            DividendAllocation.objects.create(run=reversing, share_id=a.share_id, village_id=a.village_id,
                                              region_path=a.region_path, capital=a.capital, amount=-a.amount,
                                              entry=entry)
        audit.record("economy.reverse_dividend_run", by=by, obj=run, reason=reason,
                     changes={"status": [DividendRun.Status.POSTED, DividendRun.Status.REVERSED],
                              "reversal": [None, str(reversing.pk)]})
    return reversing


# --------------------------------------------------------------------------- strong–weak pairings


def create_pairing(*, weak, measures, start_date, by, strong=None, strong_name="", end_date=None,
                   is_demo=False) -> VillagePairing:
    """强村带弱村: ``strong`` a village in the system, or ``strong_name`` for one of another town."""
    _village(weak, field="weak")
    require(by, "economy.change", weak.path, action="economy.create_pairing")
    strong_name = clean_text(strong_name, field="strong_name", label="帮带村名称", max_length=100)
    if strong is not None:
        _village(strong, field="strong")
        if strong.pk == weak.pk:
            raise ActionError("帮带村与受帮村不能是同一个村", field="strong")
        strong_name = ""
    elif not strong_name:
        raise ActionError("请选择帮带村，或填写外镇帮带村的名称", field="strong")
    measures = clean_text(measures, field="measures", label="帮带措施", max_length=2000, required=True)
    start_date = clean_date(start_date, field="start_date", label="开始日期")
    if end_date not in (None, ""):
        end_date = clean_date(end_date, field="end_date", label="结束日期", not_future=False)
        if end_date < start_date:
            raise ActionError("结束日期不能早于开始日期", field="end_date")
    else:
        end_date = None
    open_same = VillagePairing.objects.filter(weak=weak, end_date__isnull=True)
    open_same = open_same.filter(strong=strong) if strong is not None else open_same.filter(strong_name=strong_name)
    if open_same.exists():
        raise ActionError("这两个村已有进行中的帮带", field="strong")
    pairing = VillagePairing(strong=strong, strong_name=strong_name, weak=weak, region_path=weak.path,
                             measures=measures, start_date=start_date, end_date=end_date, is_demo=is_demo)
    with transaction.atomic():
        pairing.save()
        audit.record("economy.create_pairing", by=by, obj=pairing,
                     changes=audit.diff({}, audit.snapshot(pairing, PAIRING_FIELDS)))
    return pairing


def update_pairing(pairing: VillagePairing, *, by, measures=None, end_date=UNSET) -> VillagePairing:
    require(by, "economy.change", pairing.region_path, action="economy.update_pairing", obj=pairing)
    before = audit.snapshot(pairing, PAIRING_FIELDS)
    if measures is not None:
        pairing.measures = clean_text(measures, field="measures", label="帮带措施", max_length=2000, required=True)
    if end_date is not UNSET:
        pairing.end_date = (clean_date(end_date, field="end_date", label="结束日期", not_future=False)
                            if end_date else None)
        if pairing.end_date and pairing.end_date < pairing.start_date:
            raise ActionError("结束日期不能早于开始日期", field="end_date")
    diff = audit.diff(before, audit.snapshot(pairing, PAIRING_FIELDS))
    if diff:
        with transaction.atomic():
            pairing.save()
            audit.record("economy.update_pairing", by=by, obj=pairing, changes=diff)
    return pairing


# --------------------------------------------------------------------------- enterprises


def create_enterprise(*, name, town, by, credit_code="", industry="", note="", is_demo=False) -> Enterprise:
    _town(town)
    require(by, "economy.change", town.path, action="economy.create_enterprise")
    name = clean_text(name, field="name", label="企业名称", max_length=100, required=True)
    credit_code = _credit_code(credit_code)
    if Enterprise.objects.filter(name=name).exists():
        raise ActionError(f"企业“{name}”已登记", field="name")
    if credit_code and Enterprise.objects.filter(credit_code=credit_code).exists():
        raise ActionError(f"统一社会信用代码 {credit_code} 已登记", field="credit_code")
    enterprise = Enterprise(name=name, credit_code=credit_code, town=town, region_path=town.path, is_demo=is_demo,
                            industry=clean_text(industry, field="industry", label="行业", max_length=60),
                            note=clean_text(note, field="note", label="说明", max_length=2000))
    with transaction.atomic():
        enterprise.save()
        audit.record("economy.create_enterprise", by=by, obj=enterprise,
                     changes={"name": [None, name], "credit_code": [None, credit_code], "town": [None, town.code]})
    return enterprise


def add_partnership(enterprise: Enterprise, *, village, start_date, by, project=None, investment=None,
                    is_demo=False) -> Partnership:
    _village(village)
    require(by, "economy.change", village.path, action="economy.add_partnership", obj=enterprise)
    if project is not None and project.village_id != village.pk:
        raise ActionError(f"项目“{project}”不属于{village.short_name}", field="project")
    if Partnership.objects.filter(enterprise=enterprise, village=village).exists():
        raise ActionError(f"{enterprise.name}已与{village.short_name}结对", field="village")
    partnership = Partnership(enterprise=enterprise, village=village, region_path=village.path, project=project,
                              start_date=clean_date(start_date, field="start_date", label="开始日期"),
                              investment=_money(investment, field="investment", label="投资", required=False),
                              is_demo=is_demo)
    with transaction.atomic():
        partnership.save()
        audit.record("economy.add_partnership", by=by, obj=partnership,
                     changes={"enterprise": [None, str(enterprise.pk)], "village": [None, village.code],
                              "investment": [None, str(partnership.investment)]})
    return partnership


def record_partnership_year(partnership: Partnership, *, year, by, produce_sales=0, jobs=0, collective_income=0,
                            is_demo=False) -> PartnershipYear:
    """A partnership's results for a year (帮销, 就业人次, 村集体收入); entering a year again replaces it."""
    require(by, "economy.change", partnership.region_path, action="economy.record_partnership_year", obj=partnership)
    year = _year(year)
    sales = _money(produce_sales or 0, field="produce_sales", label="帮销金额", allow_zero=True)
    income = _money(collective_income or 0, field="collective_income", label="村集体收入", allow_zero=True)
    try:
        jobs = int(jobs or 0)
    except (TypeError, ValueError):
        raise ActionError(f"就业人次“{jobs}”不是整数", field="jobs") from None
    if jobs < 0:
        raise ActionError("就业人次不能为负", field="jobs")
    with transaction.atomic():
        row = PartnershipYear.objects.select_for_update().filter(partnership=partnership, year=year).first()
        before = audit.snapshot(row, ["produce_sales", "jobs", "collective_income"]) if row else {}
        row = row or PartnershipYear(partnership=partnership, year=year, is_demo=is_demo)
        row.produce_sales, row.jobs, row.collective_income = sales, jobs, income
        row.save()
        changes = audit.diff(before, audit.snapshot(row, ["produce_sales", "jobs", "collective_income"]))
        audit.record("economy.record_partnership_year", by=by, obj=row, changes={"year": [None, year], **changes})
    return row


def record_meeting(*, town, date, title, by, enterprises=(), villages=(), minutes="", is_demo=False) -> JointMeeting:
    """万企兴万村联席会议 minutes: the enterprises and villages that took part."""
    _town(town)
    require(by, "economy.change", town.path, action="economy.record_meeting")
    title = clean_text(title, field="title", label="议题", max_length=200, required=True)
    minutes = clean_text(minutes, field="minutes", label="会议纪要", max_length=10000)
    date = clean_date(date, field="date", label="日期")
    for v in villages:
        _village(v, field="villages")
        if not v.path.startswith(town.path):
            raise ActionError(f"{v.short_name}不属于{town.name}", field="villages")
    with transaction.atomic():
        meeting = JointMeeting.objects.create(town=town, region_path=town.path, date=date, title=title,
                                              minutes=minutes, is_demo=is_demo)
        meeting.enterprises.set(enterprises)
        meeting.villages.set(villages)
        audit.record("economy.record_meeting", by=by, obj=meeting,
                     changes={"title": [None, title], "date": [None, str(date)],
                              "villages": [None, sorted(v.code for v in villages)]})
    return meeting
