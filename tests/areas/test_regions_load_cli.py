"""``yiwang regions load FILE --under CODE``: the bundled Ordos extract's subtree loads, loading again
changes nothing, a bad file is refused whole with a Chinese message (nothing written), and the
materialised path answers subtree queries exactly as walking the parent links does.
"""
import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from yiwang.areas.actions import get_region, load_divisions, normalise_code, read_divisions
from yiwang.areas.management.commands.regions import bundled_ordos_text
from yiwang.areas.models import Region
from yiwang.core.errors import ActionError
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db

TOWN = "150627105"
BANNER = "150627"
HEADER = "code,name,level,parent_code\n"


def ordos_rows():
    return list(csv.DictReader(io.StringIO(bundled_ordos_text())))


def snapshot():
    """Every Region row (its natural columns, by code) and the size of the audit log."""
    rows = {r["code"]: r for r in Region.objects.values("code", "name", "kind", "parent__code", "path", "depth",
                                                          "note", "boundary")}
    return rows, AuditEntry.objects.count()


def load(*args):
    out = io.StringIO()
    call_command("regions", "load", *args, stdout=out)
    return out.getvalue()


def write(tmp_path, text, name="divisions.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def assert_tree_consistent(regions):
    """path = the codes from the root, depth = the number of ancestors, parent = the previous code."""
    by_pk = {r.pk: r for r in Region.objects.all()}
    for r in regions:
        chain, node = [], r
        while node is not None:
            chain.append(node.code)
            node = by_pk.get(node.parent_id)
        assert r.path == "/" + "/".join(reversed(chain)) + "/", r.code
        assert r.depth == len(chain) - 1, r.code


# ---- loading the bundled extract ---------------------------------------------------------------------

def test_the_bundled_file_is_the_shared_extract():
    """The package ships its own copy: identical to the shared data it came from, when that is present."""
    shared = Path(__file__).resolve().parents[3] / "shared" / "data" / "divisions-1506-ordos.csv"
    if shared.exists():
        assert bundled_ordos_text() == shared.read_text(encoding="utf-8")
    rows = ordos_rows()
    assert {r["code"] for r in rows if r["parent_code"] == TOWN} >= {"150627105215", "150627105214", "150627105003"}


def test_reloading_the_demo_town_changes_nothing():
    before = snapshot()
    out = load("ordos", "--under", TOWN)
    assert "新增 0，更新 0" in out
    assert snapshot() == before


def test_padded_12_digit_code_names_the_same_unit():
    assert normalise_code("150627105000") == TOWN
    assert normalise_code("150627000000") == BANNER
    assert normalise_code("150600000000") == "1506"  # 鄂尔多斯市: 150600 is not a unit, 1506 is
    assert normalise_code("150627105215") == "150627105215"  # a village's own code stays
    assert normalise_code(" 150627105 ") == TOWN
    assert normalise_code("150699000000") == "150699000000"  # nothing to shorten to: unknown stays unknown
    assert get_region("150627105000").code == TOWN
    before = snapshot()
    assert "新增 0，更新 0" in load("ordos", "--under", "150627105000")
    assert snapshot() == before


def test_padded_code_names_a_unit_only_in_the_file(tmp_path):
    """--under 150627103000 on a tree without that town yet: it is found in the file, not refused."""
    code = "150627103"  # 乌兰木伦镇, not loaded by the demo
    assert not Region.objects.filter(code=code).exists()
    load("ordos", "--under", code + "000")
    assert Region.objects.filter(code=code).exists()
    expected = {r["code"] for r in ordos_rows() if r["code"].startswith(code)}
    assert set(Region.objects.get(code=code).subtree().values_list("code", flat=True)) == expected


def test_loading_the_whole_banner_then_again():
    rows = [r for r in ordos_rows() if r["code"].startswith(BANNER)]
    existing = set(Region.objects.values_list("code", flat=True))
    out = load("ordos", "--under", BANNER)
    assert f"新增 {len({r['code'] for r in rows} - existing)}，更新 0" in out  # the town's part was there
    banner = Region.objects.get(code=BANNER)
    official = banner.subtree().exclude(kind=Region.Kind.GRID)
    assert set(official.values_list("code", flat=True)) == {r["code"] for r in rows}
    for r in rows:
        region = Region.objects.get(code=r["code"])
        assert region.name == r["name"]
        assert region.parent.code == r["parent_code"]
    assert_tree_consistent(banner.subtree())
    # the other towns' villages were not given the demo's grids, and nothing outside the banner appeared
    assert not Region.objects.filter(code__startswith="150621").exists()
    before = snapshot()
    assert "新增 0，更新 0" in load("ordos", "--under", BANNER)
    assert snapshot() == before


def test_loading_everything_is_a_consistent_tree():
    load("ordos")
    rows = ordos_rows()
    assert set(Region.objects.exclude(kind=Region.Kind.GRID).values_list("code", flat=True)) >= {r["code"] for r in rows}
    assert_tree_consistent(Region.objects.all())
    before = snapshot()
    load("ordos")
    assert snapshot() == before


def test_a_changed_name_is_an_audited_update(tmp_path):
    village = Region.objects.get(code="150627105215")
    text = HEADER + f"150627105215,乌兰淖尔村民委员会,village,{TOWN}\n"
    audits = AuditEntry.objects.count()
    assert "更新 1" in load(write(tmp_path, text))
    village.refresh_from_db()
    assert village.name == "乌兰淖尔村民委员会" and village.path.endswith(f"/{TOWN}/150627105215/")
    entry = AuditEntry.objects.order_by("-id").first()
    assert AuditEntry.objects.count() == audits + 1
    assert entry.action == "areas.update_region" and entry.changes["name"][1] == "乌兰淖尔村民委员会"
    assert "更新 0" in load(write(tmp_path, text))


# ---- the subtree query --------------------------------------------------------------------------------

def test_materialised_path_subtree_equals_walking_the_tree():
    load("ordos", "--under", BANNER)
    children = {}
    for r in Region.objects.all():
        children.setdefault(r.parent_id, []).append(r.pk)

    def walk(pk):
        found = {pk}
        for child in children.get(pk, ()):
            found |= walk(child)
        return found

    for code in (BANNER, TOWN, "150627105215", "150627105003", "15062710521501", "1506", "15"):
        region = Region.objects.get(code=code)
        assert set(region.subtree().values_list("pk", flat=True)) == walk(region.pk), code
    # the trailing "/" keeps a grid from owning a sibling grid whose code merely starts with its code
    from yiwang.areas.actions import create_grid

    village = Region.objects.get(code="150627105215")
    short = create_grid(village, code="1506271052159", name="第九网格", by=None)
    longer = create_grid(village, code="15062710521591", name="第九十一网格", by=None)
    assert longer.code.startswith(short.code)
    assert list(short.subtree()) == [short]
    assert set(village.subtree()) >= {short, longer}
    assert [r.code for r in Region.objects.get(code="15062710521501").ancestors()] == [
        "15", "1506", BANNER, TOWN, "150627105215"]


def test_visible_to_is_the_subtree(demo_user):
    secretary = demo_user("wlne_secretary")
    village = Region.objects.get(code="150627105215")
    assert set(Region.objects.visible_to(secretary)) == set(village.subtree())


# ---- bad files: a Chinese message, and nothing written ------------------------------------------------

BAD_FILES = [
    ("bad-code", HEADER + "1506AB,坏代码旗,county,1506\n", "第 2 行：区划代码“1506AB”应为数字"),
    ("unknown-level", HEADER + "150698,测试旗,banner,1506\n", "第 2 行：层级“banner”无法识别"),
    ("code-length-vs-level", HEADER + "15069800,测试旗,county,1506\n", "位数与层级"),
    ("not-under-parent", HEADER + "150698,测试旗,county,1507\n", "第 2 行：150698 不以上级代码 1507 开头"),
    ("parent-is-itself", HEADER + "150698,测试旗,county,150698\n", "不能是它自己"),
    ("no-parent", HEADER + "150698,测试旗,county,\n", "缺少上级代码"),
    ("duplicate-row", HEADER + "150698,测试旗,county,1506\n150698,测试旗,county,1506\n", "第 3 行：区划代码 150698 重复"),
    ("missing-column", "code,name,level\n150698,测试旗,county\n", "缺少列：parent_code"),
    ("no-header", "", "缺少列"),
    ("extra-column", HEADER + "150698,测试旗,county,1506,多余\n", "第 2 行的列数多于表头"),
    ("empty-name", HEADER + "150698,,county,1506\n", "名称不能为空"),
    ("script-name", HEADER + "150698,<script>alert(1)</script>,county,1506\n", "不允许的字符"),
    ("nul-name", HEADER + "150698,测试\x00旗,county,1506\n", "不允许的字符"),
    ("long-name", HEADER + "150698," + "长" * 101 + ",county,1506\n", "名称过长"),
    # valid rows first, then one whose parent exists nowhere: refused during the write, rolled back whole
    ("unknown-parent", HEADER + "150698,测试旗,county,1506\n150698001,测试镇,town,150698\n"
     "150698002001,测试村,village,150698002\n", "上级区划 150698002 不存在"),
    # an existing unit hung under another parent: refused while writing, the new banner rolled back too
    ("moves-a-unit", HEADER + "150698,测试旗,county,1506\n150627105215,乌兰淖尔村村委会,village,150627\n", "不能移动"),
]


@pytest.mark.parametrize("case, text, expect", BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_bad_file_is_refused_whole(case, text, expect, tmp_path):
    before = snapshot()
    with pytest.raises(CommandError) as info:
        load(write(tmp_path, text))
    message = str(info.value)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message
    assert expect in message
    assert snapshot() == before
    assert not Region.objects.filter(code__startswith="150698").exists()


def test_all_errors_of_a_file_are_listed_at_once(tmp_path):
    text = HEADER + "1506AB,a,county,1506\n150698,b,banner,1506\n150699,c,county,1507\n"
    with pytest.raises(CommandError) as info:
        load(write(tmp_path, text))
    assert all(f"第 {n} 行" in str(info.value) for n in (2, 3, 4))


def test_not_utf8_is_a_clear_error(tmp_path):
    before = snapshot()
    with pytest.raises(CommandError, match="UTF-8"):
        load(write(tmp_path, HEADER + "150698,测试旗,county,1506\n", encoding="gbk"))
    assert snapshot() == before


def test_missing_file_and_unknown_under(tmp_path):
    with pytest.raises(CommandError, match="无法读取文件"):
        load(str(tmp_path / "nope.csv"))
    with pytest.raises(CommandError, match="不在文件中，也不在系统中"):
        load("ordos", "--under", "150699")
    with pytest.raises(CommandError, match="不存在"):
        call_command("regions", "list", "--region", "999")


def test_utf8_bom_is_accepted(tmp_path):
    path = write(tmp_path, "\ufeff" + HEADER + "150698,测试旗,county,1506\n")
    load(path)
    assert Region.objects.get(code="150698").path == "/15/1506/150698/"


def test_action_errors_name_the_field():
    with pytest.raises(ActionError) as info:
        read_divisions("code,name\n")
    assert info.value.field == "file"
    with pytest.raises(ActionError) as info:
        load_divisions([{"code": "1506", "name": "鄂尔多斯市", "level": "city", "parent_code": "15"}], under="999")
    assert info.value.field == "under"


# ---- the console script --------------------------------------------------------------------------------

def test_console_script_loads_and_reloads(tmp_path):
    """The installed ``yiwang`` command, in its own process on its own SQLite file."""
    yiwang = Path(sys.executable).parent / "yiwang"
    assert yiwang.exists()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)

    def run(*args):
        return subprocess.run([str(yiwang), *args], env=env, capture_output=True, text=True, timeout=300)

    assert run("migrate", "--noinput", "-v", "0").returncode == 0
    csv_path = write(tmp_path, bundled_ordos_text(), "ordos.csv")
    first = run("regions", "load", csv_path, "--under", TOWN)
    assert first.returncode == 0, first.stderr
    expected = len([r for r in ordos_rows() if r["code"].startswith(TOWN)]) + 3  # and 15, 1506, 150627 above it
    assert f"新增 {expected}，更新 0，未变 0" in first.stdout, first.stdout
    again = run("regions", "load", csv_path, "--under", "150627105000")
    # the province row (15) is made from the built-in list, not the file: it is not counted again
    assert again.returncode == 0 and f"新增 0，更新 0，未变 {expected - 1}" in again.stdout, again.stdout
    listing = run("regions", "list", "--region", "150627105000")
    assert listing.returncode == 0 and len(listing.stdout.splitlines()) == 29 and "乌兰淖尔" in listing.stdout
    bad = run("regions", "load", write(tmp_path, HEADER + "1506AB,x,county,1506\n", "bad.csv"))
    assert bad.returncode != 0 and "区划代码“1506AB”应为数字" in bad.stderr and "Traceback" not in bad.stderr
    # and the metrics command on that tree: 28 villages, no grids or households yet
    figures = run("metrics", "--region", TOWN, "--asof", "2023-06-30", "--format", "json")
    assert figures.returncode == 0, figures.stderr
    values = json.loads(figures.stdout)
    assert values["areas.villages"] == 28 and values["areas.grids"] == 0 and values["people.households"] == 0
    bad_period = run("metrics", "--region", TOWN, "--period", "2022Q5")
    assert bad_period.returncode != 0 and "无法识别的期间“2022Q5”" in bad_period.stderr
