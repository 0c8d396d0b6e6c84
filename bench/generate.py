"""The benchmark workbook: N households of the demo town (红庆河镇), one row per person, the 14 columns
of the households sheet — generated deterministically (fixed seed) and cached under var/bench/.

Villages and grids are those the demo draws (the bundled Ordos division extract under 150627105, each
village with its grids ``<village code>01..``), so the file imports into a benchmark database loaded
with the same regions. ID numbers are valid GB 11643 numbers under 150627 (伊金霍洛旗), unique in the
file; the cells hold what ledgers hold: mostly date cells, some dates typed as text (2015/3/1,
2015年3月1日), phones with dashes or spaces, a few special-group tags. Nothing here needs a database.
"""
import datetime
import hashlib
import random
import re
import sys
from pathlib import Path

GENERATOR_VERSION = 2  # bump when the rows change: the cached file is named after it
SEED = 20231101
TOWN_CODE = "150627105"
AREA6 = "150627"
HEADERS = ["户号", "嘎查村代码", "网格代码", "地址", "户登记日期", "户特殊群体", "姓名", "身份证号码",
           "与户主关系", "联系电话", "政治面貌", "人员状态", "登记日期", "个人特殊群体"]
SURNAMES = list("王李张刘杨赵高郝郭白马韩乔贺温苏呼奇乌巴朝额包宝云孟任田武")
GIVEN = list("春秋志建国军华明亮英兰梅芳霞丽娟红玉凤荣桂珍海林峰涛强平安福顺旺达成文德胜利和兴泉根宝")
MONGOLIAN = ["巴特尔", "苏和", "其木格", "乌云", "额尔敦", "斯琴", "朝鲁", "那日苏", "萨仁", "图雅", "阿拉坦", "格日勒"]
HH_TAGS = ["低保户", "特困供养", "脱贫户", "防返贫监测户", "军烈属"]
PERSON_TAGS = ["残疾人", "独居老人", "留守儿童", "空巢老人"]
POLITICAL = ["群众"] * 14 + ["中共党员"] * 3 + ["共青团员", "中共预备党员"]
SIZES = [1, 2, 2, 3, 3, 3, 3, 4, 4, 5]  # mean 3.0 persons per household


def _weights(first17):
    return sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(first17)) % 11


def id_number(birth, seq3):
    first17 = f"{AREA6}{birth:%Y%m%d}{seq3:03d}"
    return first17 + "10X98765432"[_weights(first17)]


def villages():
    """[(village code, short name, grid codes)] of the demo town, from the bundled division extract."""
    import csv
    import io
    from importlib import resources

    text = resources.files("yiwang.areas").joinpath("data/divisions-1506-ordos.csv").read_text(encoding="utf-8")
    out = []
    for row in csv.DictReader(io.StringIO(text.lstrip("\ufeff"))):
        if row["parent_code"] == TOWN_CODE + "000" or row["parent_code"] == TOWN_CODE:
            code = row["code"]
            grids = [f"{code}{n:02d}" for n in range(1, 5)]  # every demo village has at least 4 grids
            out.append((code, row["name"], grids))
    if not out:
        raise SystemExit(f"no villages under {TOWN_CODE} in the bundled divisions")
    return sorted(out)


def _name(rng):
    if rng.random() < 0.15:
        return rng.choice(MONGOLIAN) + (rng.choice(GIVEN) if rng.random() < 0.3 else "")
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def _date_cell(rng, day):
    r = rng.random()
    if r < 0.8:
        return datetime.datetime(day.year, day.month, day.day)  # a real date cell
    if r < 0.9:
        return f"{day.year}/{day.month}/{day.day}"
    return f"{day.year}年{day.month}月{day.day}日"


def _phone(rng):
    digits = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
    r = rng.random()
    if r < 0.1:
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if r < 0.15:
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    return digits


def rows(households, seed=SEED):
    """Yield the data rows (lists of 14 cells) for ``households`` households, deterministically."""
    rng = random.Random(seed)
    places = villages()
    used = set()
    ref = datetime.date(2023, 11, 1)
    serial = {}
    for n in range(households):
        code, vname, grids = places[n % len(places)]
        serial[code] = serial.get(code, 0) + 1
        number = f"{code}{serial[code]:05d}"
        grid = rng.choice(grids) if rng.random() < 0.95 else ""
        short = re.sub(r"(村民委员会|村委会|社区居委会|居委会|嘎查委员会)$", "", vname)
        address = f"{short}{rng.randint(1, 12)}组{rng.randint(1, 80)}号"
        hh_day = ref - datetime.timedelta(days=rng.randrange(365 * 30))
        hh_reg = _date_cell(rng, hh_day)
        hh_tags = "、".join(rng.sample(HH_TAGS, rng.choice((1, 1, 2)))) if rng.random() < 0.08 else ""
        size = rng.choice(SIZES)
        head_age = rng.randint(25, 85)
        for i in range(size):
            if i == 0:
                relation, age = "户主", head_age
            elif i == 1:
                relation, age = "配偶", max(18, head_age + rng.randint(-5, 5))
            elif head_age > 45 and rng.random() < 0.8:
                relation, age = "子女", rng.randint(1, max(1, head_age - 20))
            else:
                relation, age = rng.choice(["父母", "孙子女", "兄弟姐妹", "其他"]), rng.randint(1, 90)
            while True:
                birth = ref - datetime.timedelta(days=age * 365 + rng.randrange(365))
                number_id = id_number(birth, rng.randrange(1000))
                if number_id not in used:
                    used.add(number_id)
                    break
            if rng.random() < 0.01:
                number_id = number_id.lower()  # a lower-case x, or nothing to lower
            phone = _phone(rng) if age >= 16 and rng.random() < 0.85 else ""
            political = rng.choice(POLITICAL) if age >= 18 else "群众"
            status = "在册" if rng.random() < 0.97 else rng.choice(["迁出", "死亡"])
            reg = _date_cell(rng, max(hh_day, birth))
            ptags = rng.choice(PERSON_TAGS) if rng.random() < 0.05 else ""
            yield [number, code, grid, address, hh_reg, hh_tags, _name(rng), number_id, relation, phone,
                   political, status, reg, ptags]


def write(path: Path, households: int):
    """Write the workbook with openpyxl's write-only mode (ID numbers, phones and codes as text)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("户籍人员")
    ws.append(HEADERS)
    count = 0
    tmp = path.with_suffix(".tmp")
    for row in rows(households):
        out = []
        for i, v in enumerate(row):
            if isinstance(v, datetime.datetime):
                c = WriteOnlyCell(ws, value=v)
                c.number_format = "yyyy-mm-dd"
                out.append(c)
            else:
                out.append(v)
        ws.append(out)
        count += 1
    wb.save(tmp)
    tmp.replace(path)
    return count


def workbook(var_dir: Path, households: int, log=print) -> tuple[Path, int]:
    """The cached workbook for ``households`` (generated when missing); returns (path, person rows)."""
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / f"households-{households}-v{GENERATOR_VERSION}.xlsx"
    meta = path.with_suffix(".rows")
    if path.exists() and meta.exists():
        return path, int(meta.read_text())
    log(f"generating {path.name} ({households:,} households) …")
    count = write(path, households)
    meta.write_text(str(count))
    return path, count


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    p, c = workbook(Path(__file__).resolve().parent.parent / "var" / "bench", n)
    print(p, c)
