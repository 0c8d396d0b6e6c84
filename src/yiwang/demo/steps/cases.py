"""Demo cases (诉求) over 2022-01-01..2023-06-30 in every village and grid of the town, through the real
case actions dated in the past, so every timeline event and audit entry is the one a user would leave.

The mix is fixed, the draws are seeded: ``SOLVED`` cases resolved (most then rated and closed, some closed
unrated, some waiting for a rating; a handful rated dissatisfied, reopened once and closed) by the
reference day, plus open cases at every state (a few overdue and some in the yellow/red part of their
window as of the reference day), rejected cases, duplicates merged into an earlier case, escalations,
吹哨 calls with their reports, town supervision and deadline extensions approved and refused. Every
channel and every top category occurs; both villages of the scope tests (乌兰淖尔, 纳林希里) have cases.

``SOLVED`` is this step's input; the figure itself (``cases.solved`` = 527 as of 2023-06-30) comes out of
the records through ``yiwang.cases.metrics``. Open cases of 乌兰淖尔村第1网格 are assigned to the demo
login ``wlne_grid1`` by a second step once the accounts step has made it.
"""
import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from yiwang.areas.models import Region
from yiwang.cases import actions
from yiwang.cases.models import Case, Category, Department, Whistle
from yiwang.people.models import Household

from ..names import GIVEN, MONGOLIAN, SURNAMES
from ..registry import TOWN_CODE, demo_step

TZ = ZoneInfo("Asia/Shanghai")
START = datetime.datetime(2022, 1, 1, 8, 0, tzinfo=TZ)
SOLVED = 527
GRID1 = "15062710521501"
GRID1_USER = "wlne_grid1"

# how many solved cases end which way (the rest: rated and closed)
REOPENED, CLOSED_UNRATED, AWAITING_RATING = 8, 20, 20
# cases that are not solved as of the reference day
MERGED, REJECTED = 12, 15
OPEN = {"submitted": 5, "submitted_late": 3, "accepted": 5, "in_progress": 12, "in_progress_overdue": 6,
        "escalated": 5, "grid1": 4}

CHANNEL_WEIGHTS = {Case.Channel.GRID: 40, Case.Channel.RESIDENT: 20, Case.Channel.WALK_IN: 15,
                   Case.Channel.HOTLINE: 15, Case.Channel.INSPECTION: 8, Case.Channel.OPEN311: 2}
TOP_WEIGHTS = {"dispute": 22, "livelihood": 26, "safety": 10, "environment": 16, "policy": 12, "infrastructure": 14}
PROBLEMS = {
    "dispute": ["邻里因宅基地边界发生争执", "家庭成员因赡养老人问题产生矛盾", "两户因草场边界发生纠纷",
                "务工人员反映工资被拖欠", "邻居养狗扰民引发口角"],
    "livelihood": ["村里自来水停水两天", "冬季供暖温度不达标", "线路故障停电影响生产生活", "咨询医保异地报销手续",
                   "家中老人患病，申请临时救助"],
    "safety": ["村道旁电线低垂，存在触电风险", "柴草堆放紧靠民房，有火灾隐患", "老旧房屋墙体开裂", "路口缺少减速警示标志"],
    "environment": ["垃圾收集点长时间未清运", "生活污水直排路边", "村口堆放建筑垃圾", "畜禽粪污堆放影响环境"],
    "policy": ["咨询惠农补贴发放时间", "咨询低保申请条件", "咨询城乡居民养老保险缴费", "咨询危房改造补助政策"],
    "infrastructure": ["村道路面坑洼，雨天积水", "路灯损坏不亮", "灌溉渠道渗漏", "桥涵堵塞，排水不畅"],
}
RESULTS = ["已现场处理完毕，群众认可", "经调解双方达成一致意见", "已协调相关单位修复", "已向群众解释政策并协助办理",
           "已安排人员清理完毕", "已排除隐患并加强巡查"]
CENTRE = (Decimal("39.180000"), Decimal("109.560000"))  # around 红庆河镇


def _name(rng):
    if rng.random() < 0.15:
        return rng.choice(MONGOLIAN)
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def _photo(rng):
    """A small generated "phone photo" (sky, ground, a shape) so demo cases have pictures; a separate random
    stream keeps the rest of the demo the same whether or not photos are drawn."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (480, 360), (135 + rng.randint(0, 60), 180 + rng.randint(0, 40), 230))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 200 + rng.randint(0, 60), 480, 360), fill=(150 + rng.randint(0, 50), 130, 90))
    x, y = rng.randint(40, 360), rng.randint(120, 220)
    draw.ellipse((x, y, x + rng.randint(40, 100), y + rng.randint(30, 80)), fill=(rng.randint(60, 200), 70, 60))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=70)
    return SimpleUploadedFile("demo.jpg", buf.getvalue(), content_type="image/jpeg")


def _hours(h):
    return datetime.timedelta(hours=h)


class _Builder:
    """Creates one case and walks it through the actions along its plan, each step dated after the last."""

    def __init__(self, ctx, rng, categories, departments, households):
        self.ctx, self.rng = ctx, rng
        self.photo_rng = ctx.rng("cases:photos")
        self.categories, self.departments, self.households = categories, departments, households
        end = datetime.datetime.combine(ctx.reference_date, datetime.time(18, 0), tzinfo=TZ)
        self.ref = end  # the moment "now" stands for on the reference day

    def reported_between(self, lo, hi):
        span = int((hi - lo).total_seconds() // 3600)
        at = lo + _hours(self.rng.randint(0, max(span, 0)))
        return at.replace(hour=self.rng.randint(8, 19), minute=self.rng.randint(0, 59))

    def new_case(self, *, region, village, at, top=None, category=None, household=None, channel=None):
        rng = self.rng
        if category is None:
            top = top or rng.choices(list(TOP_WEIGHTS), weights=list(TOP_WEIGHTS.values()))[0]
            family = self.categories[top]
            category = rng.choice(family)
        top_code = category.parent.code if category.parent_id else category.code
        channel = channel or rng.choices(list(CHANNEL_WEIGHTS), weights=list(CHANNEL_WEIGHTS.values()))[0]
        if household is None and rng.random() < 0.4:
            pool = self.households.get(region.pk) or self.households.get(village.pk) or []
            household = rng.choice(pool) if pool else None
        problem = rng.choice(PROBLEMS[top_code])
        lat = lon = None
        if rng.random() < 0.5:
            lat = CENTRE[0] + Decimal(rng.randint(-30000, 30000)) / 1000000
            lon = CENTRE[1] + Decimal(rng.randint(-40000, 40000)) / 1000000
        phone = ""
        if channel in (Case.Channel.RESIDENT, Case.Channel.HOTLINE, Case.Channel.WALK_IN) and rng.random() < 0.6:
            phone = f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"
        photos = []
        if channel in (Case.Channel.GRID, Case.Channel.RESIDENT) and self.photo_rng.random() < 0.2:
            photos = [_photo(self.photo_rng)]
        case = actions.create_case(
            category=category, region=region, by=None, channel=channel, title=problem, household=household,
            description=f"{village.short_name}：{problem}，请尽快处理。", latitude=lat, longitude=lon,
            address=f"{village.short_name}{rng.randint(1, 12)}组", reporter_name=_name(rng), reporter_phone=phone,
            reported_at=at, is_demo=True, photos=photos)
        return case

    def at(self, proposed, after, *, gap_minutes=1):
        """``proposed``, but after ``after`` and never past the reference moment."""
        return max(after + datetime.timedelta(minutes=gap_minutes), min(proposed, self.ref - _hours(1)))

    def share(self, start, window_hours, lo, hi):
        return start + datetime.timedelta(minutes=int(window_hours * 60 * self.rng.uniform(lo, hi)))

    def accept(self, case, *, late=False):
        hours = case.category.accept_hours
        proposed = self.share(case.reported_at, hours, 1.2, 2.5) if late else self.share(case.reported_at, hours, 0.05, 0.8)
        at = self.at(proposed, case.reported_at, gap_minutes=3)
        actions.accept_case(case, by=None, note="已受理", at=at)
        return at

    def assign(self, case, after, *, level=None, department=None):
        level = level or (Case.Level.GRID if case.region.kind == Region.Kind.GRID else Case.Level.VILLAGE)
        at = self.at(after + datetime.timedelta(minutes=self.rng.randint(5, 90)), after)
        actions.assign_case(case, by=None, level=level, department=department, note="请按时限办理", at=at)
        return at

    def handle(self, case, *, escalate=False, whistle=False, extension=None, supervise=None, late_accept=False):
        """Accept, assign, and the optional escalation / 吹哨 / supervision / extension; returns the last time."""
        rng = self.rng
        at = self.accept(case, late=late_accept)
        at = self.assign(case, at)
        if escalate and case.level == Case.Level.GRID:
            at = self.at(at + _hours(rng.randint(1, 12)), at)
            actions.escalate_case(case, by=None, reason="网格内无法协调解决，提请村级处理", at=at)
            at = self.assign(case, at, level=Case.Level.VILLAGE)
        if whistle:
            at = self.at(at + _hours(rng.randint(1, 6)), at)
            called = rng.sample(self.departments, rng.choice((1, 2)))
            whistles = actions.whistle_case(case, by=None, departments=called, note="需多部门协同处置，请到场", at=at)
            for w in whistles:
                actions.report_whistle(w, by=None, report=f"{w.department.name}已到场对接",
                                       at=at + datetime.timedelta(minutes=rng.randint(8, 45)))
            at = self.assign(case, at + _hours(1), level=Case.Level.DEPARTMENT, department=called[0])
        if supervise:
            at = self.at(at + datetime.timedelta(minutes=rng.randint(10, 120)), at)
            actions.supervise_case(case, by=None, level=supervise, note="请加快办理进度", at=at)
        if extension is not None:
            at = self.at(at + datetime.timedelta(minutes=rng.randint(10, 120)), at)
            ext = actions.request_extension(case, by=None, hours=72, reason="需等待材料或天气条件，申请延期", at=at)
            if extension != "pending":
                at = self.at(at + _hours(rng.randint(1, 8)), at)
                approve = extension == "approved"
                actions.decide_extension(ext, by=None, approve=approve, at=at,
                                         note="同意延期" if approve else "不同意延期，请按原时限办结")
        return at

    def resolve(self, case, after, *, late=False):
        """Resolve within what is left of the window (or after the deadline when ``late``)."""
        due = case.resolve_due
        if late or due <= after:
            proposed = max(due, after) + datetime.timedelta(
                minutes=int(case.category.resolve_hours * 60 * self.rng.uniform(0.1, 0.8)) + 5)
        else:
            proposed = after + (due - after) * self.rng.uniform(0.2, 0.9)
        at = self.at(proposed, after, gap_minutes=10)
        actions.resolve_case(case, by=None, result=self.rng.choice(RESULTS), at=at)
        return at

    def rate(self, case, after, rating):
        at = self.at(after + _hours(self.rng.randint(2, 72)), after)
        actions.rate_case(case, by=None, rating=rating, comment="回访记录", at=at)
        return at


def _village_grids(town):
    villages = list(Region.objects.filter(parent=town, kind=Region.Kind.VILLAGE).order_by("code"))
    grids = {}
    for g in Region.objects.filter(kind=Region.Kind.GRID, parent__in=villages).order_by("code"):
        grids.setdefault(g.parent_id, []).append(g)
    return villages, grids


@demo_step(40)
def load_cases(ctx):
    actions.ensure_default_categories(by=None)
    town = Region.objects.get(code=TOWN_CODE)
    if Case.objects.filter(is_demo=True, region_path__startswith=town.path).exists():
        ctx.log("诉求：已存在，跳过")
        return
    rng = ctx.rng("cases")
    categories = {}
    for c in Category.objects.filter(active=True).select_related("parent").order_by("order", "code"):
        categories.setdefault(c.parent.code if c.parent_id else c.code, []).append(c)
    departments = list(Department.objects.filter(active=True).order_by("code"))
    villages, grids = _village_grids(town)
    households = {}  # grid id (and village id) -> the demo households there
    for h in Household.objects.filter(is_demo=True, village__in=villages).order_by("number"):
        households.setdefault(h.village_id, []).append(h)
        if h.grid_id:
            households.setdefault(h.grid_id, []).append(h)
    b = _Builder(ctx, rng, categories, departments, households)

    outcomes = (["reopened"] * REOPENED + ["closed_unrated"] * CLOSED_UNRATED + ["awaiting"] * AWAITING_RATING)
    plans = outcomes + ["rated"] * (SOLVED - len(outcomes)) + ["rejected"] * REJECTED
    for kind, count in OPEN.items():
        if kind != "grid1":
            plans += [kind] * count
    rng.shuffle(plans)
    tops, channels = list(TOP_WEIGHTS), list(CHANNEL_WEIGHTS)
    for n, plan in enumerate(plans):
        village = villages[n % len(villages)]
        region = village if rng.random() < 0.1 or not grids.get(village.pk) else rng.choice(grids[village.pk])
        # the first plans name a top category and a channel each, so every one of them occurs
        top = tops[n] if n < len(tops) else None
        channel = channels[n] if n < len(channels) else None
        if plan in ("rated", "reopened", "closed_unrated", "awaiting"):
            _solved(b, plan, region=region, village=village, top=top, channel=channel)
        else:
            _not_solved(b, plan, region=region, village=village, top=top, channel=channel)

    # duplicates: a later report of the same problem (same household or place), merged into the earlier case
    originals = list(Case.objects.filter(is_demo=True, region_path__startswith=town.path, state=Case.State.CLOSED)
                     .select_related("category", "region", "household").order_by("pk"))
    for original in rng.sample(originals, MERGED):
        at = original.reported_at + _hours(rng.randint(6, 96))
        duplicate = actions.create_case(
            category=original.category, region=original.region, by=None, channel=Case.Channel.HOTLINE,
            title=original.title, description=f"{original.description}（再次反映）", household=original.household,
            latitude=original.latitude, longitude=original.longitude, address=original.address,
            reporter_name=_name(rng), reported_at=at, is_demo=True)
        actions.merge_case(duplicate, into=original, by=None, note=f"与 {original.number} 反映同一问题",
                           at=at + _hours(rng.randint(1, 6)))

    # open cases of 乌兰淖尔村第1网格 for the demo grid worker's phone (assigned by ``assign_grid1_cases``)
    grid1 = Region.objects.select_related("parent").get(code=GRID1)
    for n in range(OPEN["grid1"]):
        case = b.new_case(region=grid1, village=grid1.parent, at=b.ref - _hours(rng.randint(4, 40)),
                          top=("environment", "infrastructure", "dispute", "policy")[n % 4], channel=Case.Channel.GRID)
        if n % 2:
            b.accept(case)
    ctx.log(f"诉求：{Case.objects.filter(is_demo=True, region_path__startswith=town.path).count()} 件")


def _solved(b, outcome, *, region, village, top, channel):
    """A case resolved before the reference day: rated and closed, reopened once then closed, closed
    unrated, or resolved recently and still waiting for its rating."""
    rng, ref = b.rng, b.ref
    if outcome == "awaiting":
        at = b.reported_between(ref - datetime.timedelta(days=12), ref - datetime.timedelta(days=3))
    else:  # early enough that even a late, reopened case is closed by the reference day
        at = b.reported_between(START, ref - datetime.timedelta(days=75))
    case = b.new_case(region=region, village=village, at=at, top=top, channel=channel)
    r = rng.random()
    extension = "approved" if r < 0.025 else "refused" if r < 0.035 else None
    at = b.handle(case, escalate=rng.random() < 0.08, whistle=rng.random() < 0.02, extension=extension,
                  supervise=Case.Supervision.YELLOW if rng.random() < 0.02 else None, late_accept=rng.random() < 0.06)
    at = b.resolve(case, at, late=rng.random() < 0.07)
    if outcome == "awaiting":
        return case
    if outcome == "closed_unrated":
        actions.close_case(case, by=None, note="多次回访未接通，按办结关闭", at=at + _hours(rng.randint(72, 120)))
        return case
    if outcome == "reopened":
        at = b.rate(case, at, Case.Rating.DISSATISFIED)
        at = b.resolve(case, at)
        b.rate(case, at, rng.choice((Case.Rating.SATISFIED, Case.Rating.BASIC, Case.Rating.DISSATISFIED, Case.Rating.DISSATISFIED)))
        return case
    b.rate(case, at, Case.Rating.SATISFIED if rng.random() < 0.82 else Case.Rating.BASIC)
    return case


def _not_solved(b, plan, *, region, village, top, channel):
    """A case that is not solved on the reference day: rejected, or open at some state and age."""
    rng, ref = b.rng, b.ref
    if plan == "rejected":
        case = b.new_case(region=region, village=village, at=b.reported_between(START, ref - _hours(240)),
                          top=top or "policy", channel=channel)
        at = b.accept(case) if rng.random() < 0.3 else case.reported_at
        actions.reject_case(case, by=None, reason="不属于本镇职责范围，已告知向相关部门反映",
                            at=b.at(at + _hours(rng.randint(1, 12)), at))
        return case
    if plan in ("submitted", "submitted_late"):
        # late: past the 24-hour accept deadline on the reference day; otherwise reported that morning
        hours_ago = rng.randint(30, 72) if plan == "submitted_late" else rng.randint(2, 8)
        top = top if top not in (None, "safety", "livelihood") else "dispute"  # 1–2 h limits would be late already
        family = [c for c in b.categories[top] if c.accept_hours >= 24]
        return b.new_case(region=region, village=village, at=ref - _hours(hours_ago), category=rng.choice(family),
                          channel=channel)
    # accepted, in progress or escalated: 7- or 15-day cases, so the share of the window used on the
    # reference day spreads over green, yellow and red; the overdue ones are older than their window
    top = top if top not in (None, "safety", "livelihood") else rng.choice(("dispute", "environment", "infrastructure"))
    category = rng.choice([c for c in b.categories[top] if c.resolve_hours >= 168])
    if plan == "in_progress_overdue":
        at = ref - _hours(category.resolve_hours + rng.randint(24, 24 * 30))
    elif plan == "accepted":
        at = ref - _hours(rng.randint(6, 20))
    else:
        at = ref - _hours(int(category.resolve_hours * rng.uniform(0.2, 0.95)))
    case = b.new_case(region=region, village=village, at=at, category=category, channel=channel)
    if plan == "accepted":
        b.accept(case)
        return case
    if plan == "escalated":
        at = b.accept(case)
        if rng.random() < 0.5:
            actions.whistle_case(case, by=None, departments=rng.sample(b.departments, 1),
                                 note="需部门协同处置，请到场", at=b.at(at + _hours(1), at))
        else:
            actions.escalate_case(case, by=None, reason="网格内无法协调解决，提请村级处理", at=b.at(at + _hours(2), at))
        return case
    r = rng.random()
    extension = "pending" if r < 0.15 else "approved" if r < 0.25 else "refused" if r < 0.3 else None
    supervise = None
    if plan == "in_progress_overdue":
        supervise = Case.Supervision.RED if rng.random() < 0.5 else Case.Supervision.YELLOW
    elif rng.random() < 0.2:
        supervise = Case.Supervision.YELLOW
    b.handle(case, extension=extension, supervise=supervise)
    return case


@demo_step(92)
def assign_grid1_cases(ctx):
    """The open cases of 乌兰淖尔村第1网格 go to the demo grid worker (once the accounts step made it)."""
    from yiwang.accounts.models import User

    user = User.objects.filter(username=GRID1_USER).first()
    if user is None or Case.objects.filter(handler=user, is_demo=True).exists():
        return
    ref = datetime.datetime.combine(ctx.reference_date, datetime.time(18, 0), tzinfo=TZ)
    waiting = Case.objects.filter(is_demo=True, region__code=GRID1, handler__isnull=True,
                                  state__in=(Case.State.SUBMITTED, Case.State.ACCEPTED)).order_by("pk")
    for case in waiting.select_related("category", "region")[:6]:
        at = max(case.accepted_at or case.reported_at, ref - _hours(2)) + datetime.timedelta(minutes=10)
        actions.assign_case(case, by=None, level=Case.Level.GRID, handler=user, note="请网格员上门核实处理", at=at)
    # a 吹哨 in progress in 乌兰淖尔 (the village the demo logins start in) with one department reported back
    village = Region.objects.get(code=GRID1[:12])
    if not Whistle.objects.filter(case__region_path__startswith=village.path).exists():
        case = (Case.objects.filter(is_demo=True, region_path__startswith=village.path, state=Case.State.IN_PROGRESS)
                .select_related("category").order_by("pk").first())
        if case is not None:
            last = case.events.order_by("-at").values_list("at", flat=True).first()
            at = max(last, ref - _hours(1)) + datetime.timedelta(minutes=5)
            departments = list(Department.objects.filter(code__in=["police", "justice"]).order_by("code"))
            called = actions.whistle_case(case, by=None, departments=departments, at=at,
                                          note="纠纷有升级苗头，请派出所、司法所到场联合调处")
            actions.report_whistle(called[0], by=None, report="已到场，正在调解", at=at + datetime.timedelta(minutes=20))
