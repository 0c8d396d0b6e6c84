"""Demo grid workers, pairings (包户) and visits: 470 workers of whom 437 party members over the town's
141 grids, 3387 households paired as of 2023-06-30 (a few re-paired, so history shows), visits over
2022-01-01..2023-06-30, some with a photo and a location.

Workers are real demo persons (adults of working age, living, of the village whose grids they serve).
Written in bulk (``core.bulk.insert_rows``) with the audit entries the actions would write
(``audit.record_rows``): the actions one by one would cost most of the demo's time budget. The demo
login ``wlne_grid1`` is linked to a worker of 乌兰淖尔村第1网格 through ``grid.actions.update_worker``
once the accounts step has made it.
"""
import datetime
import io
from collections import defaultdict
from decimal import Decimal

from django.core.files.storage import default_storage

from yiwang.areas.models import Region
from yiwang.core import audit
from yiwang.core.bulk import insert_rows
from yiwang.core.images import clean_image
from yiwang.grid import actions as grid_actions
from yiwang.grid.models import PARTY_STATUSES, GridWorker, Pairing, Visit
from yiwang.people.models import Household, Person

from ..registry import TOWN_CODE, demo_step

WORKERS, PARTY_WORKERS, PAIRED = 470, 437, 3387
REPAIRED = 40
VISITS_FROM = datetime.date(2022, 1, 1)
CENTRE = (Decimal("39.180000"), Decimal("109.560000"))  # around 红庆河镇
FINDINGS = [
    "", "", "", "家中一切正常", "了解家庭收入情况，无困难", "老人身体状况良好", "反映道路坑洼，雨天出行不便",
    "院墙有裂缝，存在安全隐患", "反映自来水时有停水", "宣传防诈骗知识", "宣传医保缴费政策", "子女外出务工，老人独居",
    "反映邻里用地纠纷，已初步调解", "了解春耕备耕情况", "冬季取暖设施检查，正常", "低保政策咨询，已解答",
]
GRID1 = "15062710521501"
GRID1_USER = "wlne_grid1"


def _date_between(rng, lo, hi):
    if hi <= lo:
        return lo
    return lo + datetime.timedelta(days=rng.randint(0, (hi - lo).days))


def _demo_photos(rng):
    """A few small generated pictures, stored once (named by their hash, so a reload finds them)."""
    from PIL import Image, ImageDraw

    photos = []
    for n in range(6):
        img = Image.new("RGB", (160, 120), (90 + 25 * n, 140, 200 - 20 * n))
        draw = ImageDraw.Draw(img)
        draw.rectangle((20 + 8 * n, 40, 120, 110), fill=(180, 150, 110))
        draw.polygon([(15 + 8 * n, 42), (70, 10), (125, 42)], fill=(150, 60, 50))
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        buf.seek(0)
        buf.name = f"demo{n}.png"
        clean = clean_image(buf)
        names = []
        for content in (clean.content, clean.thumbnail):
            name = f"grid/visits/demo/{content.name}"
            if not default_storage.exists(name):
                name = default_storage.save(name, content)
            names.append(name)
        photos.append(tuple(names))
    return photos


@demo_step(30)
def load_grid(ctx):
    town = Region.objects.get(code=TOWN_CODE)
    if GridWorker.objects.filter(is_demo=True, region_path__startswith=town.path).exists():
        ctx.log("网格员：已存在，跳过")
        return
    rng = ctx.rng("grid")
    ref = ctx.reference_date
    grids = list(Region.objects.filter(kind=Region.Kind.GRID, path__startswith=town.path).order_by("code"))
    by_village = defaultdict(list)
    for g in grids:
        by_village[g.parent_id].append(g)

    # ---- workers: 3 per grid, the rest spread at random; 33 of the 470 seats go to 群众
    seats = [g for g in grids for _ in range(3)]
    seats += rng.sample(grids, WORKERS - len(seats))
    seats.sort(key=lambda g: g.code)
    masses_seats = set(rng.sample(range(WORKERS), WORKERS - PARTY_WORKERS))
    youngest, oldest = ref.replace(year=ref.year - 20), ref.replace(year=ref.year - 62)
    candidates = defaultdict(lambda: {"party": [], "masses": []})
    for pk, village_id, status in (Person.objects.filter(
            household__village_id__in=by_village, status=Person.Status.LIVING, birth_date__lte=youngest,
            birth_date__gte=oldest).order_by("pk").values_list("pk", "household__village_id", "political_status")):
        candidates[village_id]["party" if status in PARTY_STATUSES else "masses"].append(pk)
    for pools in candidates.values():
        rng.shuffle(pools["party"])
        rng.shuffle(pools["masses"])
    worker_rows, worker_grids = [], []
    for n, grid in enumerate(seats):
        pools = candidates[grid.parent_id]
        pool = pools["masses"] if n in masses_seats else pools["party"]
        if not pool:
            raise RuntimeError(f"演示数据：{grid.parent_id} 可选的{'群众' if n in masses_seats else '党员'}不足")
        person = pool.pop()
        start = _date_between(rng, datetime.date(2019, 1, 1), datetime.date(2022, 6, 30))
        kind = GridWorker.Kind.FULL_TIME if rng.random() < 0.3 else GridWorker.Kind.PART_TIME
        served = [grid]
        siblings = [g for g in by_village[grid.parent_id] if g.pk != grid.pk]
        if siblings and rng.random() < 0.15:
            served.append(rng.choice(siblings))
        worker_rows.append((person, grid.pk, grid.path, kind, start, True))
        worker_grids.append(served)
    worker_ids = insert_rows(GridWorker, ["person", "grid", "region_path", "kind", "start_date", "is_demo"],
                             worker_rows, returning=True)
    insert_rows(GridWorker.grids.through, ["gridworker", "region"],
                [(wid, g.pk) for wid, served in zip(worker_ids, worker_grids) for g in served])
    names = dict(Person.objects.filter(pk__in=[r[0] for r in worker_rows]).values_list("pk", "name"))
    audits = [("grid.create_worker", "grid.GridWorker", wid, names[row[0]], row[2], {
        "person": [None, str(row[0])], "grid": [None, str(row[1])], "kind": [None, row[3]],
        "start_date": [None, str(row[4])], "grids": [None, sorted(g.code for g in served)]})
        for wid, row, served in zip(worker_ids, worker_rows, worker_grids)]
    serving = defaultdict(list)  # grid pk -> [(worker id, start date)]
    for wid, row, served in zip(worker_ids, worker_rows, worker_grids):
        for g in served:
            serving[g.pk].append((wid, row[4]))

    # ---- pairings: 3387 households paired with a worker of their grid, 40 of them re-paired once
    households = list(Household.objects.filter(region_path__startswith=town.path, grid__isnull=False)
                      .order_by("number").values_list("pk", "grid_id", "region_path", "registered_on", "number"))
    grid1 = next(g for g in grids if g.code == GRID1)
    eligible = [h for h in households if h[1] != grid1.pk]  # the demo grid worker's grid is paired in full
    unpaired = set(h[0] for h in rng.sample(eligible, len(households) - PAIRED))
    paired = [h for h in households if h[0] not in unpaired]
    repaired = set(h[0] for h in rng.sample([h for h in paired if len(serving[h[1]]) > 1], REPAIRED))
    latest_start = ref - datetime.timedelta(days=30)
    pairing_rows, spans = [], []  # spans: (household row, worker id, start, end or None)
    for h in paired:
        workers = sorted(serving[h[1]])
        wid, wstart = rng.choice(workers)
        start = _date_between(rng, max(wstart, h[3]), max(wstart, h[3]) + datetime.timedelta(days=90))
        if h[0] in repaired:  # first another worker of the grid, then this one
            first_wid, first_start = rng.choice([w for w in workers if w[0] != wid])
            old_start = _date_between(rng, max(first_start, h[3]), max(first_start, h[3]) + datetime.timedelta(days=60))
            start = min(latest_start, max(old_start + datetime.timedelta(days=rng.randint(120, 400)), wstart))
            spans.append((h, first_wid, old_start, start))
        spans.append((h, wid, start, None))
    for h, wid, start, end in spans:
        pairing_rows.append((h[0], wid, start, end, True))
    pairing_ids = insert_rows(Pairing, ["household", "worker", "start_date", "end_date", "is_demo"], pairing_rows,
                              returning=True)
    for pid, (h, wid, start, end) in zip(pairing_ids, spans):
        audits.append(("grid.pair_household", "grid.Pairing", pid, f"{h[0]}↔{wid}", h[2], {
            "household": [None, str(h[0])], "worker": [None, str(wid)], "start_date": [None, str(start)]}))
        if end is not None:
            audits.append(("grid.unpair_household", "grid.Pairing", pid, f"{h[0]}↔{wid}", h[2], {
                "end_date": [None, str(end)]}))

    # ---- visits over 2022-01-01..2023-06-30 by the worker paired at the time; the first visit of
    # each grid and one in twenty others with a photo; most with a location
    photos = _demo_photos(rng)
    visit_rows, photo_grids = [], set()
    for h, wid, start, end in spans:
        lo, hi = max(start, VISITS_FROM), min(end or ref, ref)
        if hi < lo:
            continue
        count = max(0, round((hi - lo).days / 150 + rng.uniform(-1, 1.5)))
        for day in sorted(_date_between(rng, lo, hi) for _ in range(count)):
            r = rng.random()
            kind = Visit.Kind.ROUTINE if r < 0.7 else Visit.Kind.FOLLOW_UP if r < 0.85 else Visit.Kind.SPECIAL_GROUP
            photo = thumb = ""
            if h[1] not in photo_grids or rng.random() < 0.05:
                photo, thumb = rng.choice(photos)
                photo_grids.add(h[1])
            lat = lng = None
            if rng.random() < 0.6:
                lat = CENTRE[0] + Decimal(rng.randint(-30000, 30000)) / 1000000
                lng = CENTRE[1] + Decimal(rng.randint(-40000, 40000)) / 1000000
            visit_rows.append((h[0], wid, day, kind, rng.choice(FINDINGS), photo, thumb, lat, lng, h[2], True))
    visit_ids = insert_rows(Visit, ["household", "worker", "date", "kind", "findings", "photo", "thumbnail",
                                    "latitude", "longitude", "region_path", "is_demo"], visit_rows, returning=True)
    for vid, row in zip(visit_ids, visit_rows):
        audits.append(("grid.record_visit", "grid.Visit", vid, f"{row[2]:%Y-%m-%d}", row[9], {
            "household": [None, str(row[0])], "worker": [None, str(row[1])], "date": [None, str(row[2])],
            "kind": [None, row[3]], **({"photo": [None, row[5]]} if row[5] else {})}))
    audit.record_rows(audits, by=None)
    ctx.log(f"网格员：{len(worker_ids)} 名，结对 {len(pairing_ids)} 条，走访 {len(visit_ids)} 次")


@demo_step(91)
def link_demo_grid_worker(ctx):
    """The demo login of 乌兰淖尔村第1网格 is that grid's first worker (after the accounts step made it)."""
    from yiwang.accounts.models import User

    user = User.objects.filter(username=GRID1_USER).first()
    if user is None or GridWorker.objects.filter(user=user).exists():
        return
    worker = GridWorker.objects.filter(grid__code=GRID1, end_date__isnull=True, is_demo=True).order_by("pk").first()
    if worker is not None:
        grid_actions.update_worker(worker, user=user, by=None)
