"""Every write of the grid app: grid workers, household pairings (包户/结对) and visits (走访).

Forms, the API, the Excel importer and the demo builder call these functions. Each checks
``grid.change`` at the target's region, validates with Chinese messages naming the field, writes in
one transaction and records an audit entry. ``by=None`` is the system (demo builder, CLI). Nothing
here reads outside what the caller passed: objects come from scoped lookups.
"""
import datetime

from django.db import IntegrityError, transaction

from yiwang.areas.models import Region
from yiwang.core import audit
from yiwang.core.errors import ActionError
from yiwang.core.images import clean_image
from yiwang.core.permissions import require
from yiwang.core.text import clean_choice, clean_coordinate, clean_date, clean_text
from yiwang.people.models import Household, Person

from .models import GridWorker, Pairing, Visit

WORKER_FIELDS = ["person", "user", "grid", "region_path", "kind", "start_date", "end_date"]
PAIRING_FIELDS = ["household", "worker", "start_date", "end_date"]
VISIT_FIELDS = ["household", "worker", "date", "kind", "latitude", "longitude", "region_path"]
UNSET = object()


def _grids(grid, grids):
    """The primary grid and the grids served (the primary one included), all grids of one village."""
    if grid is None or not isinstance(grid, Region) or grid.kind != Region.Kind.GRID:
        raise ActionError("请选择主网格（网格层级的区域）", field="grid")
    served = {grid.pk: grid}
    for g in grids or ():
        if not isinstance(g, Region) or g.kind != Region.Kind.GRID:
            raise ActionError(f"“{g}”不是网格", field="grids")
        if g.parent_id != grid.parent_id:
            raise ActionError(f"网格“{g}”与主网格“{grid}”不属于同一嘎查村：网格员只服务本村的网格", field="grids")
        served[g.pk] = g
    return list(served.values())


def _check_user(user, worker=None):
    if user is None:
        return
    other = GridWorker.objects.filter(user=user)
    if worker is not None:
        other = other.exclude(pk=worker.pk)
    if other.exists():
        raise ActionError(f"账号 {user.get_username()} 已关联其他网格员", field="user")


def create_worker(*, person: Person, grid: Region, grids=(), kind=GridWorker.Kind.PART_TIME, start_date=None,
                  end_date=None, user=None, by, is_demo=False) -> GridWorker:
    served = _grids(grid, grids)
    for g in served:
        require(by, "grid.change", g.path, action="grid.create_worker")
    if not isinstance(person, Person):
        raise ActionError("请选择人员", field="person")
    if person.status != Person.Status.LIVING:
        raise ActionError(f"{person.name}的状态为“{person.get_status_display()}”，不能担任网格员", field="person")
    kind = clean_choice(kind, GridWorker.Kind, field="kind", label="类型")
    start_date = clean_date(start_date or datetime.date.today(), field="start_date", label="任职日期")
    if end_date is not None:
        end_date = clean_date(end_date, field="end_date", label="离任日期", not_future=False)
        if end_date < start_date:
            raise ActionError("离任日期不能早于任职日期", field="end_date")
    if end_date is None and GridWorker.objects.filter(person=person, end_date__isnull=True).exists():
        raise ActionError(f"{person.name}已是在任网格员", field="person")
    _check_user(user)
    worker = GridWorker(person=person, user=user, grid=grid, region_path=grid.path, kind=kind, start_date=start_date,
                        end_date=end_date, is_demo=is_demo)
    with transaction.atomic():
        worker.save()
        worker.grids.add(*served)
        changes = audit.diff({}, audit.snapshot(worker, WORKER_FIELDS))
        changes["grids"] = [None, sorted(g.code for g in served)]
        audit.record("grid.create_worker", by=by, obj=worker, changes=changes)
    return worker


def update_worker(worker: GridWorker, *, by, kind=None, grid=None, grids=None, start_date=None, end_date=UNSET,
                  user=UNSET) -> GridWorker:
    """Change a worker; ``end_date`` set = the worker leaves, and their current pairings end that day
    (the households show as unpaired until someone is paired with them)."""
    require(by, "grid.change", worker.region_path, action="grid.update_worker", obj=worker)
    before = audit.snapshot(worker, WORKER_FIELDS)
    before_grids = sorted(worker.grids.values_list("code", flat=True))
    served = None
    if grid is not None or grids is not None:
        served = _grids(grid or worker.grid, grids if grids is not None else list(worker.grids.all()))
        for g in served:
            require(by, "grid.change", g.path, action="grid.update_worker", obj=worker)
        worker.grid = grid or worker.grid
        worker.region_path = worker.grid.path
    if kind is not None:
        worker.kind = clean_choice(kind, GridWorker.Kind, field="kind", label="类型")
    if start_date is not None:
        worker.start_date = clean_date(start_date, field="start_date", label="任职日期")
    if end_date is not UNSET:
        worker.end_date = clean_date(end_date, field="end_date", label="离任日期") if end_date else None
    if worker.end_date is not None and worker.end_date < worker.start_date:
        raise ActionError("离任日期不能早于任职日期", field="end_date")
    if user is not UNSET:
        _check_user(user, worker)
        worker.user = user
    if worker.end_date is None and before["end_date"] is not None and GridWorker.objects.filter(
            person=worker.person_id, end_date__isnull=True).exclude(pk=worker.pk).exists():
        raise ActionError(f"{worker.person.name}已有在任的网格员记录", field="end_date")
    changes = audit.diff(before, audit.snapshot(worker, WORKER_FIELDS))
    with transaction.atomic():
        worker.save()
        if served is not None:
            worker.grids.set(served)
            after = sorted(g.code for g in served)
            if after != before_grids:
                changes["grids"] = [before_grids, after]
        if changes:
            audit.record("grid.update_worker", by=by, obj=worker, changes=changes)
        if worker.end_date is not None and before["end_date"] is None:
            for p in Pairing.objects.filter(worker=worker, end_date__isnull=True).select_related("household"):
                p.end_date = max(worker.end_date, p.start_date)
                p.save(update_fields=["end_date"])
                audit.record("grid.unpair_household", by=by, obj=p, region_path=p.household.region_path,
                             changes={"end_date": [None, str(p.end_date)]}, reason="网格员离任")
    return worker


def _worker_serves_village(worker, household):
    village_ids = set(Region.objects.filter(pk__in=worker.grids.values("pk")).values_list("parent_id", flat=True))
    village_ids.add(worker.grid.parent_id)
    return household.village_id in village_ids


def pair_household(household: Household, worker: GridWorker, *, start_date=None, by, is_demo=False) -> Pairing:
    """Pair a household with a worker (包户). A current pairing of that household with another worker
    ends the same day, in the same transaction: at most one current pairing per household."""
    require(by, "grid.change", household.region_path, action="grid.pair_household", obj=household)
    require(by, "grid.change", worker.region_path, action="grid.pair_household", obj=household)
    if not _worker_serves_village(worker, household):
        raise ActionError(f"户 {household.number} 属于{household.village}，不在网格员{worker}服务的嘎查村，不能结对",
                          field="household")
    start_date = clean_date(start_date or datetime.date.today(), field="start_date", label="结对日期")
    if not worker.is_active_on(start_date):
        raise ActionError(f"网格员{worker}在 {start_date:%Y-%m-%d} 不在任", field="worker")
    with transaction.atomic():
        current = Pairing.objects.select_for_update().filter(household=household, end_date__isnull=True).first()
        if current is not None:
            if current.worker_id == worker.pk:
                raise ActionError(f"户 {household.number} 已与网格员{worker}结对", field="worker")
            if start_date < current.start_date:
                raise ActionError(f"结对日期不能早于现有结对的开始日期 {current.start_date:%Y-%m-%d}",
                                  field="start_date")
            current.end_date = start_date
            current.save(update_fields=["end_date"])
            audit.record("grid.unpair_household", by=by, obj=current, region_path=household.region_path,
                         changes={"end_date": [None, str(start_date)]}, reason="改为与其他网格员结对")
        pairing = Pairing(household=household, worker=worker, start_date=start_date, is_demo=is_demo)
        try:
            with transaction.atomic():
                pairing.save()
        except IntegrityError:  # someone paired this household a moment ago
            raise ActionError(f"户 {household.number} 刚刚已被他人结对，请刷新后重试", field="household") from None
        audit.record("grid.pair_household", by=by, obj=pairing, region_path=household.region_path,
                     changes=audit.diff({}, audit.snapshot(pairing, PAIRING_FIELDS)))
    return pairing


def unpair_household(household: Household, *, end_date=None, by) -> Pairing:
    require(by, "grid.change", household.region_path, action="grid.unpair_household", obj=household)
    end_date = clean_date(end_date or datetime.date.today(), field="end_date", label="解除日期")
    with transaction.atomic():
        current = Pairing.objects.select_for_update().filter(household=household, end_date__isnull=True).first()
        if current is None:
            raise ActionError(f"户 {household.number} 当前没有结对网格员", field="household")
        if end_date < current.start_date:
            raise ActionError(f"解除日期不能早于结对日期 {current.start_date:%Y-%m-%d}", field="end_date")
        current.end_date = end_date
        current.save(update_fields=["end_date"])
        audit.record("grid.unpair_household", by=by, obj=current, region_path=household.region_path,
                     changes={"end_date": [None, str(end_date)]})
    return current


def record_visit(*, household: Household, worker: GridWorker, date=None, kind=Visit.Kind.ROUTINE, findings="",
                 photo=None, latitude=None, longitude=None, by, is_demo=False) -> Visit:
    """Record a visit. The worker must be in office on that day and either paired with the household or
    serving its grid. A photo is sniffed, re-encoded and thumbnailed (``core.images.clean_image``): a
    renamed executable is refused and nothing is written."""
    require(by, "grid.change", household.region_path, action="grid.record_visit", obj=household)
    date = clean_date(date or datetime.date.today(), field="date", label="走访日期")
    kind = clean_choice(kind, Visit.Kind, field="kind", label="走访类型")
    findings = clean_text(findings, field="findings", label="发现情况", max_length=2000)
    if not worker.is_active_on(date):
        raise ActionError(f"网格员{worker}在 {date:%Y-%m-%d} 不在任", field="worker")
    paired = Pairing.objects.filter(household=household, worker=worker).current_on(date).exists()
    serves = household.grid_id is not None and worker.grids.filter(pk=household.grid_id).exists()
    if not paired and not serves:
        raise ActionError(f"网格员{worker}既未与户 {household.number} 结对，也不服务该户所在网格", field="worker")
    lat = clean_coordinate(latitude, field="latitude", label="纬度", limit=90)
    lng = clean_coordinate(longitude, field="longitude", label="经度", limit=180)
    if (lat is None) != (lng is None):
        raise ActionError("位置需同时有纬度和经度", field="latitude")
    image = clean_image(photo) if photo else None
    visit = Visit(household=household, worker=worker, date=date, kind=kind, findings=findings, latitude=lat,
                  longitude=lng, region_path=household.region_path, is_demo=is_demo)
    with transaction.atomic():
        if image is not None:
            visit.photo.save(image.content.name, image.content, save=False)
            visit.thumbnail.save(image.thumbnail.name, image.thumbnail, save=False)
        visit.save()
        changes = audit.diff({}, audit.snapshot(visit, VISIT_FIELDS))
        if image is not None:
            changes["photo"] = [None, image.sha256]
        audit.record("grid.record_visit", by=by, obj=visit, changes=changes)
    return visit


def visit_to_case(visit: Visit, *, category, by, description=None):
    """转为诉求: a visit's finding becomes a case in one step (channel "grid", the household, the place,
    the location and the photo carried over), linked from the visit. One case per visit."""
    from yiwang.cases.actions import create_case

    require(by, "grid.change", visit.region_path, action="grid.visit_to_case", obj=visit)
    if visit.case_id is not None:
        raise ActionError("该走访已转为诉求", field="visit")
    description = clean_text(description if description is not None else visit.findings, field="description",
                             label="问题描述", max_length=2000)
    if not description:
        raise ActionError("走访没有发现情况，无法转为诉求；请填写问题描述", field="description")
    household = visit.household
    with transaction.atomic():
        photos = []
        if visit.photo:
            visit.photo.open("rb")
            photos.append(visit.photo)
        try:
            case = create_case(category=category, region=household.grid or household.village, description=description,
                               by=by, channel="grid", household=household, address=household.address,
                               latitude=visit.latitude, longitude=visit.longitude, photos=photos)
        finally:
            if visit.photo:
                visit.photo.close()
        visit.case = case
        visit.save(update_fields=["case"])
        audit.record("grid.visit_to_case", by=by, obj=visit, changes={"case": [None, str(case.pk)]})
    return case
