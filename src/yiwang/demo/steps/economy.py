"""Demo collective economy (产业振兴) of "Hongqinghe 2023": the town's industry layout 四区五园十基地, 63
collective projects over the 28 villages (4 black-donkey breeding bases with their six parties), the
income ledger 2021-01 … 2023-06, two pooled enclave projects (飞地抱团) with their dividend runs, the
strong–weak pairings (强村带弱村), the 万企兴万村 enterprises with their partnerships, yearly results and
joint meetings, and the 2022 tier designations of the two 一村一品 demonstration villages.

What this step decides is its *inputs*: each village's operating income per year (``PLAN``), its
seasonal profile, the pools' distributable profit, the enterprises' yearly results. The figures of
FACTS.md §3 (16,392,700.00 元 of operating income in 2022, 5 villages forecast over 1 M in 2023, 7 pooled
and 7 paired villages, 1.8 M+ of pooled dividends …) come out of the records through
``yiwang.economy.metrics``; tests/economy/test_economy_demo.py checks each of them.

Everything is written through ``economy.actions`` with ``by=None`` except the ledger's ~2,400 monthly
entries, which go in bulk (``core.bulk.insert_rows``) with the very audit entries ``record_income`` (and
``review_entry`` for the reviewed ones) would write. The ledger is generated after the dividend runs
have posted their parts, so a village's planned yearly total includes its dividends, and the last
generated 2022 entry takes the cents that make the town's 2022 total exact. A few entries are entered
wrong on purpose and put right through ``correct_entry`` / ``reverse_entry``, so the ledger's history
shows reversals in both villages of the scope tests. Nothing here may name 纳林希里 on a record that
乌兰淖尔 can see, or the reverse (no pool, pairing, meeting or enterprise joins the two).
"""
import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from yiwang.areas.models import Region
from yiwang.core import audit
from yiwang.core.bulk import insert_rows
from yiwang.economy import actions, ledger
from yiwang.economy.models import IncomeCategory, IncomeEntry, Project, Tier
from yiwang.economy.tiers import villages_under

from ..registry import TOWN_CODE, demo_step

TZ = ZoneInfo("Asia/Shanghai")
CENT = Decimal("0.01")
OPERATING_2022 = Decimal("16392700.00")  # 经营性收入总额 1639.27 万元 (FACTS.md §3)
FIRST_MONTH, LAST_MONTH = datetime.date(2021, 1, 1), datetime.date(2023, 6, 1)
CENTRE = (Decimal("39.180000"), Decimal("109.560000"))  # around 红庆河镇
WLNE, NLXL = "乌兰淖尔村", "纳林希里村"

# Operating income (经营性 + 投资收益 + 发包) per village: 2021, 2022, and the growth of 2023 over 2022
# that the first half of 2023 is drawn with. ``None`` for 2022 is the village that balances the town to
# OPERATING_2022; its 2021 is its 2022 ÷ 1.1. 2021: the seven weak villages under 100,000 元; 2022:
# three of them over it, three 一般村 over 500,000 元, three villages over 1,000,000 元; 2023: five
# villages (纳林希里 among them) on course for 1,000,000 元, the next one well short of it.
PLAN = {
    "红庆河村": ("905318.40", "1054276.35", "1.09"),
    "布连图村": ("551207.10", "612438.75", "1.08"),
    "通格朗村": ("566930.25", "617352.90", "1.06"),
    "额日克柴达木村": ("628114.60", "702615.20", "1.07"),
    "白格针村": ("91236.50", "112407.80", "1.10"),
    "哈希拉嘎村": ("402583.15", "505821.45", "1.12"),
    "冯家渠村": ("68412.30", "86193.65", "1.12"),
    "其劳图村": ("617905.80", "683124.30", "1.05"),
    "呼家壕村": ("468237.45", "521736.20", "1.08"),
    "阿日勒图村": ("431092.60", "526218.95", "1.10"),
    "林家圪堵村": ("711480.35", "794512.60", "1.04"),
    "兰家圪卜村": ("532716.90", "588941.15", "1.07"),
    "宝林村": ("642318.20", "731604.45", "1.06"),
    "台格希里村": ("741205.55", "880417.30", "1.25"),
    "纳林希里村": ("792346.80", "946182.70", "1.20"),
    "乌兰淖尔村": ("1180427.65", "1386054.90", "1.10"),
    "其和淖尔村": ("721503.40", "812336.85", "1.03"),
    "哈达图淖尔村": ("618214.75", "689417.60", "1.06"),
    "木呼尔敖包村": ("576108.30", "645228.15", "1.07"),
    "乌兰敖包村": ("71384.20", "138256.40", "1.15"),
    "昌车渠村": ("62071.85", "126318.75", "1.18"),
    "特宾苏莫村": ("389426.70", "482706.35", "1.09"),
    "珠兰敖包村": ("508913.25", "567842.10", "1.08"),
    "独贵梁村": ("55208.60", "79184.25", "1.12"),
    "其根沟村": ("78136.45", "93027.80", "1.10"),
    "巴本岱村": (None, None, "1.08"),
    "阿道亥村": ("83417.90", "97215.60", "1.10"),
    "巴音布拉格村": ("985632.10", "1212083.45", "1.12"),
}
WEAK = ["昌车渠村", "乌兰敖包村", "白格针村", "冯家渠村", "独贵梁村", "其根沟村", "阿道亥村"]
BASE_VILLAGES = [WLNE, NLXL, "巴音布拉格村", "红庆河村"]  # 规模化养殖基地4处
PROJECT_COUNTS = {**{v: 4 for v in BASE_VILLAGES}, **{v: 1 for v in WEAK},
                  **{v: 3 for v in ("台格希里村", "林家圪堵村", "其和淖尔村", "宝林村", "额日克柴达木村", "布连图村")}}
# everyone else: 2 projects — 4×4 + 7×1 + 6×3 + 11×2 = 63

ZONES = [  # 四区五园十基地: no village's name in any of them (a zone is offered to every village)
    ("area", "北部乌驴养殖区"), ("area", "中部现代农业区"), ("area", "东部农畜产品加工区"), ("area", "南部生态旅游区"),
    ("park", "农畜产品加工园"), ("park", "现代农业科技示范园"), ("park", "田园综合体核心园"), ("park", "乌驴产业园"),
    ("park", "电商物流园"),
    ("base", "乌驴规模化养殖一号基地"), ("base", "乌驴规模化养殖二号基地"), ("base", "乌驴规模化养殖三号基地"),
    ("base", "乌驴规模化养殖四号基地"), ("base", "马铃薯种植基地"), ("base", "饲草料种植基地"), ("base", "肉羊养殖基地"),
    ("base", "设施农业基地"), ("base", "光伏发电基地"), ("base", "小杂粮种植基地"),
]
# project templates: (kind, name, zone name or None, note on its ledger entries)
TEMPLATES = [
    ("breeding", "肉羊养殖合作社", "肉羊养殖基地", "肉羊出栏销售收入"),
    ("breeding", "绒山羊养殖场", "北部乌驴养殖区", "羊绒及活畜销售收入"),
    ("breeding", "肉牛育肥场", "北部乌驴养殖区", "肉牛出栏销售收入"),
    ("planting", "马铃薯种植项目", "马铃薯种植基地", "马铃薯销售收入"),
    ("planting", "饲草料种植项目", "饲草料种植基地", "饲草料销售收入"),
    ("planting", "设施农业大棚", "设施农业基地", "大棚蔬菜销售收入"),
    ("planting", "小杂粮种植项目", "小杂粮种植基地", "小杂粮销售收入"),
    ("leasing", "集体仓储库房出租", "电商物流园", "库房租金收入"),
    ("leasing", "村集体商铺出租", None, "商铺租金收入"),
    ("leasing", "农机具租赁服务", "中部现代农业区", "农机具租金收入"),
    ("service", "农机作业服务队", "中部现代农业区", "农机作业服务收入"),
    ("service", "劳务服务合作社", None, "劳务服务收入"),
    ("service", "农资配送服务站", "电商物流园", "农资配送服务收入"),
    ("processing", "饲料加工厂", "农畜产品加工园", "饲料销售收入"),
    ("processing", "农畜产品初加工车间", "农畜产品加工园", "加工产品销售收入"),
    ("processing", "粮油加工坊", "东部农畜产品加工区", "粮油产品销售收入"),
    ("solar", "村级光伏电站", "光伏发电基地", "光伏发电收入"),
    ("tourism", "乡村旅游民宿", "南部生态旅游区", "民宿及餐饮收入"),
    ("tourism", "农家乐采摘园", "田园综合体核心园", "采摘及餐饮收入"),
    ("equity", "入股农牧业龙头企业", None, "入股分红收入"),
    ("equity", "入股肉食品加工项目", "农畜产品加工园", "入股分红收入"),
]
BASE_TEMPLATE = ("breeding", "乌驴规模化养殖基地", None, "乌驴及驴产品销售收入")
PRODUCTS = {"台格希里村": "小米", "布连图村": "马铃薯", "其和淖尔村": "绒山羊", "额日克柴达木村": "肉羊",
            "哈希拉嘎村": "饲草", "林家圪堵村": "农家乐", "呼家壕村": "大棚蔬菜"}  # besides the bases' 乌驴
SHAPES = {  # monthly weights of each kind's operating income (e.g. livestock sold in autumn)
    "breeding": [6, 5, 5, 6, 7, 8, 8, 9, 12, 13, 12, 9],
    "planting": [3, 3, 4, 5, 6, 7, 8, 12, 15, 14, 8, 5],
    "processing": [8, 7, 8, 8, 8, 8, 8, 9, 9, 10, 9, 8],
    "tourism": [3, 3, 5, 7, 10, 13, 15, 14, 11, 7, 4, 3],
    "flat": [8, 8, 8, 8, 9, 9, 9, 9, 8, 8, 8, 8],
}
ROMAN = "一二三四五六七八"

POOLS = [  # 飞地抱团: host (its donkey base is the project), shares, and the yearly distributable profit
    {"code": "BT-2021-01", "name": "乌驴养殖飞地抱团一期", "host": WLNE, "start": datetime.date(2021, 1, 1),
     "shares": [(WLNE, "3000000"), ("其和淖尔村", "1200000"), ("哈达图淖尔村", "1000000"), ("木呼尔敖包村", "800000")],
     "retained_percent": "10", "guaranteed_rate": None,
     # 2021: first posted with the feed costs left out, reversed and run again
     "runs": {2021: ["1090650.00", "1003418.40"], 2022: ["1116842.50"]}},
    {"code": "BT-2021-02", "name": "乌驴养殖飞地抱团二期", "host": NLXL, "start": datetime.date(2021, 3, 1),
     "shares": [(NLXL, "2400000"), ("台格希里村", "1100000"), ("宝林村", "1000000")],
     "retained_percent": "0", "guaranteed_rate": "6",
     "runs": {2021: ["702650.00"], 2022: ["835417.60"]}},
    # a third, small pool started in 2023 by two villages already pooling (still 7 villages in all; no run
    # yet): the pool list needs more rows than its smallest page to show its query count does not grow
    {"code": "BT-2023-01", "name": "小杂粮加工飞地抱团项目", "host": "台格希里村", "start": datetime.date(2023, 3, 1),
     "shares": [("台格希里村", "350000"), ("宝林村", "250000")], "retained_percent": "5", "guaranteed_rate": None,
     "on_base": False, "runs": {}},
]
PAIRINGS = [  # (strong village or None = another town, weak village, start, measures)
    (WLNE, "昌车渠村", datetime.date(2021, 3, 15), "乌驴养殖技术指导；吸纳富余劳动力到养殖基地务工；帮助联系饲草料销路"),
    (WLNE, "其根沟村", datetime.date(2022, 4, 8), "共建肉羊养殖合作社；派驻村干部结对指导集体资产管理"),
    ("巴音布拉格村", "乌兰敖包村", datetime.date(2021, 3, 20), "基础母驴托管代养；统一防疫和销售；分享订单"),
    ("巴音布拉格村", "阿道亥村", datetime.date(2022, 3, 10), "帮助盘活闲置库房出租；组织村干部到本村观摩学习"),
    (NLXL, "独贵梁村", datetime.date(2021, 5, 6), "一村一品经验交流；帮助申报扶持壮大村级集体经济项目"),
    (NLXL, "白格针村", datetime.date(2022, 2, 22), "农机作业服务联营；帮助拓展农产品线上销售渠道"),
    (None, "冯家渠村", datetime.date(2022, 6, 1), "跨镇结对：资金入股分红、技术培训和产品代销"),
]
CROSS_TOWN = "札萨克镇某村（演示，跨镇）"


def _yuan(text) -> Decimal:
    return Decimal(str(text)).quantize(CENT)


def _split(total: int, weights: list) -> list[int]:
    """``total`` cents split by ``weights`` with the largest-remainder method (parts sum to the total)."""
    s = sum(weights)
    exact = [total * w / s for w in weights]
    parts = [int(x) for x in exact]
    for i in sorted(range(len(weights)), key=lambda i: -(exact[i] - parts[i]))[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _org_code(body: str) -> str:
    """GB 11714 organisation code: eight digits and their check character."""
    check = 11 - sum(int(c) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2))) % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def credit_code(body: str) -> str:
    """A 统一社会信用代码 of an enterprise (9 1) registered in 伊金霍洛旗 (150627), check digit by python-stdnum."""
    from stdnum.cn import uscc

    head = "91150627" + _org_code(body)
    return head + uscc.calc_check_digit(head)


def plan() -> dict:
    """{village short name: (2021, 2022, growth)} with the balancing village filled in."""
    fixed = sum(_yuan(p[1]) for p in PLAN.values() if p[1] is not None)
    out = {}
    for name, (y21, y22, growth) in PLAN.items():
        if y22 is None:
            y22 = OPERATING_2022 - fixed
            y21 = (y22 / Decimal("1.1")).quantize(CENT)
        out[name] = (_yuan(y21), _yuan(y22), Decimal(growth))
    return out


@demo_step(50)
def load_economy(ctx):
    town = Region.objects.get(code=TOWN_CODE)
    if Project.objects.filter(is_demo=True, region_path__startswith=town.path).exists():
        ctx.log("集体经济：已存在，跳过")
        return
    rng = ctx.rng("economy")
    villages = {v.short_name: v for v in villages_under(town)}
    if set(villages) != set(PLAN):
        raise RuntimeError(f"演示数据：集体经济计划与全镇嘎查村不符：{sorted(set(villages) ^ set(PLAN))}")
    zones = _zones(town)
    projects = _projects(rng, villages, zones)
    enterprises = _enterprises(town)
    _bases(projects, villages, enterprises)
    _pools(villages, projects)
    ids = _ledger(rng, town, villages, projects)
    _corrections(ids)
    for name in (WLNE, NLXL):
        actions.designate_tier(villages[name], year=2022, tier=Tier.DEMONSTRATION, reason="市级一村一品示范嘎查村",
                               by=None, is_demo=True)
    for strong, weak, start, measures in PAIRINGS:
        actions.create_pairing(weak=villages[weak], strong=villages[strong] if strong else None,
                               strong_name="" if strong else CROSS_TOWN, measures=measures, start_date=start,
                               by=None, is_demo=True)
    _partnerships(town, villages, projects, enterprises)
    ctx.log(f"集体经济：项目 {len(sum(projects.values(), []))} 个，台账 {IncomeEntry.objects.filter(is_demo=True).count()} 条")


# --------------------------------------------------------------------------- layout and projects


def _zones(town):
    order = {"area": 0, "park": 0, "base": 0}
    zones = {}
    for kind, name in ZONES:
        order[kind] += 1
        zones[name] = actions.create_zone(town=town, name=name, kind=kind, order=order[kind], by=None)
    return zones


def _projects(rng, villages, zones) -> dict:
    """{village short name: [Project]}: the base first where there is one. Most started before 2021; a
    few in 2021/2022; four still being built (筹建) and two suspended (停运) — none ended."""
    by_village = {}
    base_no = 0
    planned = {"昌车渠村", "其根沟村", "通格朗村", "特宾苏莫村"}  # one project of each is being built
    suspended = {"其劳图村", "珠兰敖包村"}
    for name in sorted(villages, key=lambda n: villages[n].code):
        village = villages[name]
        count = PROJECT_COUNTS.get(name, 2)
        templates = []
        if name in BASE_VILLAGES:
            base_no += 1
            title = f"乌驴规模化养殖{ROMAN[base_no - 1]}号基地"  # the project and its zone
            templates.append((BASE_TEMPLATE[0], title, title, BASE_TEMPLATE[3]))
        pool = [t for t in TEMPLATES if name not in WEAK or t[0] in ("leasing", "service", "planting", "solar")]
        templates += rng.sample(pool, count - len(templates))
        made = []
        for n, (kind, title, zone, _note) in enumerate(templates, start=1):
            is_base = n == 1 and name in BASE_VILLAGES
            status = Project.Status.OPERATING
            start = datetime.date(rng.randint(2015, 2020), rng.randint(1, 12), rng.randint(1, 28))
            if name in planned and n == count:
                status, start = Project.Status.PLANNED, datetime.date(2022, rng.randint(7, 11), rng.randint(1, 28))
            elif name in suspended and n == count:
                status = Project.Status.SUSPENDED
            elif not is_base and rng.random() < 0.12:
                start = datetime.date(rng.choice((2021, 2022)), rng.randint(1, 6), rng.randint(1, 28))
            located = is_base or rng.random() < 0.7
            product = "乌驴" if is_base else (PRODUCTS.get(name, "") if n == 2 or count == 1 else "")
            made.append(actions.create_project(
                village=village, code=f"XM-{village.code}-{n:02d}", name=title, kind=kind, status=status,
                start_date=start, location=f"{name}{ROMAN[rng.randint(0, 5)]}社" if located else "",
                latitude=CENTRE[0] + Decimal(rng.randint(-60000, 60000)) / 1000000 if located else None,
                longitude=CENTRE[1] + Decimal(rng.randint(-80000, 80000)) / 1000000 if located else None,
                zone=zones[zone] if zone else None, product=product, is_base=is_base,
                description=_description(kind, is_base, status), by=None, is_demo=True))
        by_village[name] = made
    return by_village


def _description(kind, is_base, status):
    if is_base:
        return "“政府+企业+村集体+农户+银行+保险公司”六合一模式，统一繁育、统一防疫、统一回收（演示数据）"
    if status == Project.Status.PLANNED:
        return "项目筹建中，预计下一年度投产（演示数据）"
    if status == Project.Status.SUSPENDED:
        return "因市场行情变化暂时停运，待重新评估（演示数据）"
    return f"村集体{Project.Kind(kind).label}项目，收益归村集体所有（演示数据）"


def _enterprises(town) -> dict:
    """蒙泰集团 (named in the article; its credit code is not ours to invent) and three invented ones."""
    rows = [
        ("蒙泰集团", "", "食品加工", "文章提及：与镇共建农畜产品加工园，帮销农特产品、吸纳就业；具体数字为演示数据"),
        ("鄂尔多斯市草原丰禾农牧科技有限公司", credit_code("31628407"), "乌驴繁育与饲草种植", "演示：虚构企业"),
        ("伊金霍洛旗金穗粮油食品有限公司", credit_code("57203916"), "粮油加工", "演示：虚构企业"),
        ("内蒙古驼铃文旅发展有限公司", credit_code("68145230"), "乡村旅游", "演示：虚构企业"),
    ]
    return {name: actions.create_enterprise(name=name, town=town, credit_code=code, industry=industry, note=note,
                                            by=None, is_demo=True) for name, code, industry, note in rows}


def _bases(projects, villages, enterprises):
    """The six parties of each donkey base (政府+企业+村集体+农户+银行+保险公司)."""
    for n, name in enumerate(BASE_VILLAGES):
        base = projects[name][0]
        partner = "鄂尔多斯市草原丰禾农牧科技有限公司" if name == WLNE else "蒙泰集团"
        heads = [420, 360, 310, 280][n]
        for role, party, amount, insured, note in [
            ("government", "红庆河镇人民政府", 500000 + 50000 * n, None, "产业扶持资金，用于圈舍和防疫设施"),
            ("enterprise", partner, 1200000 - 100000 * n, None, "投资建设并按保护价回收活驴"),
            ("collective", f"{name}股份经济合作社", 800000 - 50000 * n, None, "集体资金入股，负责日常管理"),
            ("farmers", f"入股农户{38 - 4 * n}户", 320000 - 20000 * n, None, "以基础母驴和资金入股，参与分红"),
            ("bank", "伊金霍洛旗农村商业银行", 2000000 - 200000 * n, None, "“乌驴贷”贴息贷款"),
            ("insurer", "中国人民财产保险伊金霍洛支公司", None, heads, "乌驴养殖保险，保费政府补贴80%"),
        ]:
            actions.add_project_party(base, role=role, name=party, amount=amount, insured_heads=insured, note=note,
                                      by=None, is_demo=True)


def _pools(villages, projects):
    """Two pools on the donkey bases with yearly runs for 2021 and 2022 (one 2021 run reversed and run
    again), and a small one of 2023 without a run."""
    for spec in POOLS:
        host = villages[spec["host"]]
        total = sum(_yuan(c) for _, c in spec["shares"])
        pool = actions.create_pool(code=spec["code"], name=spec["name"], host=host, start_date=spec["start"],
                                   total_capital=total,
                                   project=projects[spec["host"]][0] if spec.get("on_base", True) else None,
                                   guaranteed_rate=spec["guaranteed_rate"], retained_percent=spec["retained_percent"],
                                   note=("依托乌驴规模化养殖基地，" if spec.get("on_base", True) else "")
                                   + "参与村按出资比例分享收益（演示数据）", by=None, is_demo=True)
        for name, capital in spec["shares"]:
            actions.add_pool_share(pool, village=villages[name], capital=capital, joined_on=spec["start"], by=None,
                                   is_demo=True)
        for year, amounts in spec["runs"].items():
            for n, amount in enumerate(amounts):
                run = actions.propose_dividend_run(pool, year=year, distributable=amount, post_month=datetime.date(
                    year, 12, 1), note=f"{year} 年度可分配收益", by=None, is_demo=True)
                actions.approve_dividend_run(run, by=None)
                if n < len(amounts) - 1:
                    actions.reverse_dividend_run(run, reason="可分配收益未扣除饲草料成本，冲销后按审定数重新分红", by=None)


# --------------------------------------------------------------------------- the ledger


def _earning(project, month):
    """Does the project earn in that month (started, not being built, not suspended since 2022-09)?"""
    if project.status == Project.Status.PLANNED or project.start_date > month.replace(day=28):
        return False
    return not (project.status == Project.Status.SUSPENDED and month >= datetime.date(2022, 9, 1))


def _ledger(rng, town, villages, projects) -> dict:
    """Insert the ledger in bulk; returns {purpose: (entry id, the right value)} of the entries that went in
    wrong, for ``_corrections``."""
    targets = plan()
    rows = []  # [village, project, month, category, amount, note]
    n22 = {}
    for name in sorted(villages, key=lambda n: villages[n].code):
        village, own = villages[name], projects[name]
        equity = [p for p in own if p.kind == Project.Kind.EQUITY and p.status != Project.Status.PLANNED]
        ops = [p for p in own if p.kind != Project.Kind.EQUITY]
        weights = {p.pk: rng.randint(10, 30) for p in ops}
        shape = [sum(SHAPES.get(p.kind, SHAPES["flat"])[m] * weights[p.pk] for p in ops) or SHAPES["flat"][m]
                 for m in range(12)]
        contract_share = Decimal(rng.randint(35, 55) if name in WEAK else rng.randint(8, 22)) / 100
        invest_share = Decimal(rng.randint(8, 16)) / 100 if equity else Decimal(0)
        for year in (2021, 2022, 2023):
            if year < 2023:
                # what the dividend runs already posted counts in the village's planned operating income
                posted = ledger.operating_by_village(village, year).get(village.pk, ledger.ZERO)
                goal = targets[name][year - 2021] - posted
                if year == 2022:
                    n22[name] = goal
            else:
                goal = (n22[name] * targets[name][2]).quantize(CENT)
            cents = int(goal / CENT)
            contract = int(cents * contract_share * Decimal(1 + rng.uniform(-0.03, 0.03)))
            invest = int(cents * invest_share * Decimal(1 + rng.uniform(-0.03, 0.03)))
            monthly = _split(cents - contract - invest, [w * (1 + rng.uniform(-0.15, 0.15)) for w in shape])
            march = rng.uniform(0.55, 0.65)  # 发包: most of the grassland and farmland fees in spring
            grass, land = (_split(part, [march, 1 - march]) for part in _split(contract, [55, 45]))
            contract_months = {3: [grass[0], land[0]], 9: [grass[1], land[1]]}
            june = rng.uniform(0.45, 0.55)
            invest_months = dict(zip((6, 12), _split(invest, [june, 1 - june])))
            for m in range(1, 13 if year < 2023 else 7):
                month = datetime.date(year, m, 1)
                earning = [p for p in ops if _earning(p, month)]
                if earning:
                    for p, part in zip(earning, _split(monthly[m - 1], [weights[p.pk] for p in earning])):
                        rows.append([village, p, month, IncomeCategory.OPERATING, part, _note(p)])
                else:
                    rows.append([village, None, month, IncomeCategory.OPERATING, monthly[m - 1], "集体经营服务收入"])
                if m in contract_months:
                    for part, note in zip(contract_months[m], ("草牧场发包收入", "耕地发包收入")):
                        rows.append([village, None, month, IncomeCategory.CONTRACT, part, note])
                if m in invest_months and equity:
                    paying = [p for p in equity if _earning(p, month)] or [None]
                    for p, part in zip(paying, _split(invest_months[m], [1] * len(paying))):
                        rows.append([village, p, month, IncomeCategory.INVESTMENT, part, "入股分红收入"])
                if m % 3 == 0:
                    rows.append([village, None, month, IncomeCategory.SUBSIDY,
                                 100 * rng.randint(150, 600) * 100, "村级组织运转经费补助" if m % 6 else "扶持壮大村级集体经济补助"])
                if m in (6, 11):
                    rows.append([village, None, month, IncomeCategory.OTHER, rng.randint(800, 6000) * 100, "存款利息收入"])
    for row in rows:
        row[4] = Decimal(row[4]) * CENT
    _hit_the_total(town, rows)
    return _insert(rng, rows)


def _note(project):
    if project.is_base:
        return BASE_TEMPLATE[3]
    return next((note for kind, title, _zone, note in TEMPLATES if title == project.name), "经营收入")


def _hit_the_total(town, rows):
    """The last generated 2022 operating entry takes the cents that make the town's 2022 total exact."""
    ops = set(ledger.operating_categories())
    in_2022 = [r for r in rows if r[2].year == 2022 and r[3] in ops]
    posted = sum(ledger.operating_by_village(town, 2022).values(), ledger.ZERO)  # the dividends
    residual = OPERATING_2022 - posted - sum((r[4] for r in in_2022), ledger.ZERO)
    in_2022[-1][4] += residual
    if in_2022[-1][4] <= 0:
        raise RuntimeError("演示数据：2022 年经营性收入无法配平")


def _insert(rng, rows) -> dict:
    """INSERT the entries with their vouchers, entry and review times, and the audit entries
    ``record_income`` / ``review_entry`` write. Four entries go in wrong (see ``_corrections``)."""
    marks = {}
    for purpose, name, month, category in (("tenfold", WLNE, datetime.date(2022, 5, 1), IncomeCategory.OPERATING),
                                           ("dup_wlne", WLNE, datetime.date(2021, 11, 1), IncomeCategory.OPERATING),
                                           ("dup_nlxl", NLXL, datetime.date(2022, 8, 1), IncomeCategory.OPERATING),
                                           ("category", NLXL, datetime.date(2023, 3, 1), IncomeCategory.CONTRACT)):
        marks[purpose] = next(i for i, r in enumerate(rows)
                              if r[0].short_name == name and r[2] == month and r[3] == category)
    seq, out, purposes = {}, [], {}
    reference = datetime.datetime(2023, 6, 30, 18, 0, tzinfo=TZ)
    for i, (village, project, month, category, amount, note) in enumerate(rows):
        key = (village.pk, month)
        seq[key] = seq.get(key, 0) + 1
        voucher = f"记-{month:%Y%m}-{seq[key]:03d}"
        entered = datetime.datetime(month.year, month.month, rng.randint(20, 28), rng.randint(8, 17),
                                    rng.randint(0, 59), tzinfo=TZ)
        reviewed = entered + datetime.timedelta(days=rng.randint(3, 25), hours=rng.randint(0, 6))
        reviewed = reviewed if reviewed <= reference else None
        stored_amount, stored_category = amount, category
        if i == marks["tenfold"]:
            stored_amount, reviewed = amount * 10, None
            purposes["tenfold"] = (len(out), amount)
        if i == marks["category"]:
            stored_category, reviewed = IncomeCategory.OTHER, None
            purposes["category"] = (len(out), category)
        out.append((village, project, month, stored_category, stored_amount, voucher, note, entered, reviewed))
        if i in (marks["dup_wlne"], marks["dup_nlxl"]):  # the same voucher entered twice
            purposes["dup_wlne" if i == marks["dup_wlne"] else "dup_nlxl"] = (len(out), None)
            out.append((village, project, month, category, amount, voucher, note,
                        entered + datetime.timedelta(minutes=rng.randint(5, 50)), None))
    ids = insert_rows(IncomeEntry, ["village", "region_path", "project", "month", "category", "amount",
                                    "source_document", "note", "entered_at", "reviewed_at", "is_demo"],
                      [(v.pk, v.path, p.pk if p else None, m, c, a, d, n, e, r, True)
                       for v, p, m, c, a, d, n, e, r in out], returning=True)
    labels = dict(IncomeCategory.choices)
    audits = []
    for pk, (v, p, m, c, a, d, n, e, r) in zip(ids, out):
        changes = {"village": [None, str(v.pk)], **({"project": [None, str(p.pk)]} if p else {}),
                   "month": [None, str(m)], "category": [None, c], "amount": [None, str(a)],
                   "source_document": [None, d], "note": [None, n]}
        text = f"{m:%Y-%m} {labels[c]} {a}"
        audits.append(("economy.record_income", "economy.IncomeEntry", pk, text, v.path, changes))
        if r is not None:
            audits.append(("economy.review_entry", "economy.IncomeEntry", pk, text, v.path,
                           {"reviewed_at": [None, str(r)]}))
    audit.record_rows(audits, by=None)
    return {purpose: (ids[index], value) for purpose, (index, value) in purposes.items()}


def _corrections(ids):
    """The wrong entries put right through the actions, so the history shows reversals in both villages."""
    def entry(purpose):
        return IncomeEntry.objects.select_related("village", "project").get(pk=ids[purpose][0])

    fixed = actions.correct_entry(entry("tenfold"), amount=ids["tenfold"][1], reason="小数点错位，按原始凭证更正",
                                  by=None)
    actions.review_entry(fixed, by=None)
    actions.reverse_entry(entry("dup_wlne"), reason="同一凭证重复录入，冲销", by=None)
    actions.reverse_entry(entry("dup_nlxl"), reason="同一凭证重复录入，冲销", by=None)
    actions.correct_entry(entry("category"), category=ids["category"][1], reason="收入类别录错，应为发包收入",
                          by=None)


# --------------------------------------------------------------------------- 万企兴万村


PARTNERS = {  # enterprise: [(village, start, investment, project index or None)]
    "蒙泰集团": [(NLXL, datetime.date(2020, 9, 1), "1500000", 0), ("红庆河村", datetime.date(2020, 9, 1), "1200000", 0),
             ("巴音布拉格村", datetime.date(2021, 3, 1), "1000000", 0), ("台格希里村", datetime.date(2021, 5, 1), "600000", None)],
    "鄂尔多斯市草原丰禾农牧科技有限公司": [(WLNE, datetime.date(2020, 11, 1), "1100000", 0),
                           ("其和淖尔村", datetime.date(2021, 4, 1), "400000", None),
                           ("昌车渠村", datetime.date(2021, 6, 1), "150000", None)],
    "伊金霍洛旗金穗粮油食品有限公司": [("乌兰敖包村", datetime.date(2021, 4, 1), "200000", None),
                         ("木呼尔敖包村", datetime.date(2021, 4, 1), "300000", None),
                         ("布连图村", datetime.date(2022, 3, 1), "250000", None)],
    "内蒙古驼铃文旅发展有限公司": [("林家圪堵村", datetime.date(2021, 7, 1), "800000", None),
                       ("哈达图淖尔村", datetime.date(2022, 5, 1), "350000", None)],
}
# yearly results of each enterprise, spread over its partnerships: (produce sold, jobs, collective income)
RESULTS = {
    "蒙泰集团": {2021: ("3184500.00", 148, "386200.00"), 2022: ("4526800.00", 226, "523600.00"),
             2023: ("2517300.00", 139, "287400.00")},
    "鄂尔多斯市草原丰禾农牧科技有限公司": {2021: ("612400.00", 46, "98500.00"), 2022: ("738900.00", 58, "126300.00"),
                           2023: ("352600.00", 27, "61800.00")},
    "伊金霍洛旗金穗粮油食品有限公司": {2021: ("428700.00", 31, "52600.00"), 2022: ("561300.00", 42, "74800.00"),
                         2023: ("247900.00", 19, "33500.00")},
    "内蒙古驼铃文旅发展有限公司": {2021: ("186300.00", 64, "45200.00"), 2022: ("294500.00", 87, "71900.00"),
                       2023: ("158200.00", 52, "38600.00")},
}
MEETINGS = [  # (date, title, enterprises, villages, minutes): never 乌兰淖尔 and 纳林希里 at one table
    (datetime.date(2021, 4, 16), "万企兴万村行动推进会暨第一次联席会议",
     ["鄂尔多斯市草原丰禾农牧科技有限公司", "伊金霍洛旗金穗粮油食品有限公司"],
     [WLNE, "其和淖尔村", "昌车渠村", "乌兰敖包村", "木呼尔敖包村"],
     "通报村企结对安排；企业介绍订单收购和务工岗位；各村提出饲草料、粮油销售需求。"),
    (datetime.date(2021, 11, 9), "农畜产品加工园建设与产销对接联席会议", ["蒙泰集团"],
     [NLXL, "红庆河村", "巴音布拉格村", "台格希里村"],
     "加工园一期投产，确定乌驴、肉羊和小杂粮的保护价收购；村集体以资金和土地入股。"),
    (datetime.date(2022, 6, 21), "万企兴万村年中成效调度会",
     ["蒙泰集团", "伊金霍洛旗金穗粮油食品有限公司", "内蒙古驼铃文旅发展有限公司"],
     ["红庆河村", "巴音布拉格村", "林家圪堵村", "哈达图淖尔村", "布连图村"],
     "各企业汇报上半年帮销和就业情况；研究乡村旅游线路和农特产品展销。"),
    (datetime.date(2023, 3, 28), "2023年度村企结对任务部署会",
     ["鄂尔多斯市草原丰禾农牧科技有限公司", "内蒙古驼铃文旅发展有限公司"], [WLNE, "林家圪堵村", "哈达图淖尔村"],
     "部署年度帮销、就业和村集体增收目标；乌驴养殖技术培训安排。"),
]


def _partnerships(town, villages, projects, enterprises):
    for name, partners in PARTNERS.items():
        made = [actions.add_partnership(enterprises[name], village=villages[v], start_date=start, investment=money,
                                        project=projects[v][index] if index is not None else None, by=None,
                                        is_demo=True)
                for v, start, money, index in partners]
        weights = [len(partners) - i + 1 for i in range(len(partners))]  # the first partner does the most
        for year, (sales, jobs, income) in RESULTS[name].items():
            active = [(p, w) for p, w in zip(made, weights) if p.start_date.year <= year]
            shares = [w for _, w in active]
            for (p, _), s, j, c in zip(active, _split(int(_yuan(sales) / CENT), shares), _split(jobs, shares),
                                       _split(int(_yuan(income) / CENT), shares)):
                actions.record_partnership_year(p, year=year, produce_sales=Decimal(s) * CENT, jobs=j,
                                                collective_income=Decimal(c) * CENT, by=None, is_demo=True)
    for date, title, names, village_names, minutes in MEETINGS:
        actions.record_meeting(town=town, date=date, title=title, enterprises=[enterprises[n] for n in names],
                               villages=[villages[v] for v in village_names], minutes=minutes, by=None, is_demo=True)
