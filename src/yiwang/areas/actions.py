"""Every write to the region tree: loading official divisions, creating and editing grids.

Official units come from a divisions CSV (code,name,level,parent_code; the Ordos extract ships in
``yiwang/areas/data/``). Grids are made by users under a village with a code that extends the
village's. All writes are audited; loading the same file twice changes nothing.
"""
import csv
import io
import re
from dataclasses import dataclass, field

from django.db import transaction

from yiwang.core import audit
from yiwang.core.errors import ActionError
from yiwang.core.permissions import require

from .models import Region

PROVINCES = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区", "21": "辽宁省",
    "22": "吉林省", "23": "黑龙江省", "31": "上海市", "32": "江苏省", "33": "浙江省", "34": "安徽省",
    "35": "福建省", "36": "江西省", "37": "山东省", "41": "河南省", "42": "湖北省", "43": "湖南省",
    "44": "广东省", "45": "广西壮族自治区", "46": "海南省", "50": "重庆市", "51": "四川省", "52": "贵州省",
    "53": "云南省", "54": "西藏自治区", "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区",
}
LEVELS = {"province": Region.Kind.PROVINCE, "city": Region.Kind.CITY, "county": Region.Kind.COUNTY,
          "town": Region.Kind.TOWN, "village": Region.Kind.VILLAGE, "community": Region.Kind.COMMUNITY}
CODE_LENGTHS = {Region.Kind.PROVINCE: 2, Region.Kind.CITY: 4, Region.Kind.COUNTY: 6, Region.Kind.TOWN: 9,
                Region.Kind.VILLAGE: 12, Region.Kind.COMMUNITY: 12}
MAX_NAME = 100


@dataclass
class LoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list = field(default_factory=list)


def normalise_code(code: str) -> str:
    """Accept a 12-digit padded code for a higher unit (150627105000 -> 150627105)."""
    code = (code or "").strip()
    if len(code) == 12 and code.isdigit():
        for length, tail in ((9, 3), (6, 6), (4, 8), (2, 10)):
            if code[length:] == "0" * tail and not Region.objects.filter(code=code).exists():
                if Region.objects.filter(code=code[:length]).exists():
                    return code[:length]
    return code


def get_region(code, *, user=None, field="region") -> Region:
    """The region with this code, visible to ``user`` (all regions for the system), else an error."""
    qs = Region.objects.all() if user is None else Region.objects.visible_to(user)
    region = qs.filter(code=normalise_code(code)).first()
    if region is None:
        raise ActionError(f"区划代码“{code}”不存在或不在您的管辖范围内", field=field)
    return region


def _kind_for(level, name):
    kind = LEVELS.get((level or "").strip())
    if kind is None:
        return None
    if kind == Region.Kind.VILLAGE and (name.endswith("居委会") or name.endswith("社区")):
        return Region.Kind.COMMUNITY
    return kind


def _clean_name(name, *, field="name"):
    name = (name or "").strip()
    if not name:
        raise ActionError("名称不能为空", field=field)
    if len(name) > MAX_NAME:
        raise ActionError(f"名称过长（最多 {MAX_NAME} 个字）", field=field)
    if re.search(r"[<>\x00-\x1f]", name):
        raise ActionError("名称含有不允许的字符（< > 或控制字符）", field=field)
    return name


def read_divisions(text: str):
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = {"code", "name", "level", "parent_code"} - set(reader.fieldnames or [])
    if missing:
        raise ActionError(f"区划文件缺少列：{', '.join(sorted(missing))}", field="file")
    rows = []
    for row in reader:
        if None in row:  # DictReader puts cells beyond the header under None
            raise ActionError(f"区划文件第 {reader.line_num} 行的列数多于表头（应为 code,name,level,parent_code）",
                              field="file")
        rows.append({k: (v or "").strip() for k, v in row.items()})
    return rows


def _ensure(code, name, kind, parent, result, by):
    path = (parent.path if parent else "/") + code + "/"
    existing = Region.objects.filter(code=code).first()
    if existing is None:
        region = Region.objects.create(code=code, name=name, kind=kind, parent=parent, path=path,
                                       depth=path.count("/") - 2)
        audit.record("areas.create_region", by=by, obj=region, changes={"name": [None, name], "kind": [None, kind]})
        result.created += 1
        return region
    before = audit.snapshot(existing, ["name", "kind", "parent"])
    existing.name, existing.kind, existing.parent = name, kind, parent
    after = audit.snapshot(existing, ["name", "kind", "parent"])
    changes = audit.diff(before, after)
    if changes:
        if existing.path != path:
            raise ActionError(f"区划 {code} 已挂在其他上级下，不能移动", field="parent_code")
        existing.save()
        audit.record("areas.update_region", by=by, obj=existing, changes=changes)
        result.updated += 1
    else:
        result.unchanged += 1
    return existing


def load_divisions(rows, *, under=None, by=None) -> LoadResult:
    """Load division rows (dicts with code,name,level,parent_code) into the tree, all or nothing."""
    if by is not None:
        require(by, "areas.manage", None, action="areas.load_divisions")
    by_code = {}
    result = LoadResult()
    for i, row in enumerate(rows, start=2):
        code, parent_code = row.get("code", ""), row.get("parent_code", "")
        kind = _kind_for(row.get("level"), row.get("name", ""))
        if not code.isdigit():
            result.errors.append(f"第 {i} 行：区划代码“{code}”应为数字")
        elif kind is None:
            result.errors.append(f"第 {i} 行：层级“{row.get('level')}”无法识别")
        elif len(code) != CODE_LENGTHS[kind]:
            result.errors.append(f"第 {i} 行：{code} 的位数与层级“{kind.label}”不符")
        elif not parent_code and kind != Region.Kind.PROVINCE:
            result.errors.append(f"第 {i} 行：{code} 缺少上级代码 parent_code")
        elif parent_code and not code.startswith(parent_code):
            result.errors.append(f"第 {i} 行：{code} 不以上级代码 {parent_code} 开头")
        elif parent_code and len(parent_code) >= len(code):
            result.errors.append(f"第 {i} 行：上级代码 {parent_code} 应比 {code} 短（不能是它自己）")
        elif code in by_code:
            result.errors.append(f"第 {i} 行：区划代码 {code} 重复")
        else:
            try:
                name = _clean_name(row.get("name"))
            except ActionError as e:
                result.errors.append(f"第 {i} 行：{e.text}")
                continue
            by_code[code] = (name, kind, parent_code)
    if result.errors:
        raise ActionError("；".join(result.errors[:20]), field="file")

    wanted = set(by_code)
    if under:
        under = under.strip()
        if under not in by_code and len(under) == 12 and under.isdigit():
            # a padded 12-digit code of a higher unit (150627105000) names the unit in the file
            under = next((under[:n] for n in (9, 6, 4, 2) if under[n:] == "0" * (12 - n) and under[:n] in by_code),
                         normalise_code(under))
        if under not in by_code and not Region.objects.filter(code=under).exists():
            raise ActionError(f"区划代码“{under}”不在文件中，也不在系统中", field="under")
        wanted = {c for c in by_code if c.startswith(under) or under.startswith(c)}

    with transaction.atomic():
        made = {}

        def ensure(code):
            if code in made:
                return made[code]
            if code in by_code and code in wanted:
                name, kind, parent_code = by_code[code]
                parent = ensure(parent_code) if parent_code else None
                made[code] = _ensure(code, name, kind, parent, result, by)
            else:
                existing = Region.objects.filter(code=code).first()
                if existing is not None:
                    made[code] = existing
                elif len(code) == 2 and code in PROVINCES:
                    made[code] = _ensure(code, PROVINCES[code], Region.Kind.PROVINCE, None, result, by)
                elif code in by_code:  # an ancestor outside --under still has to exist
                    name, kind, parent_code = by_code[code]
                    parent = ensure(parent_code) if parent_code else None
                    made[code] = _ensure(code, name, kind, parent, result, by)
                else:
                    raise ActionError(f"上级区划 {code} 不存在：请先导入它", field="parent_code")
            return made[code]

        for code in sorted(wanted, key=lambda c: (len(c), c)):
            ensure(code)
    return result


def create_grid(village: Region, *, code, name, by) -> Region:
    """Create a grid (网格) under a village or community; its code extends the village's code."""
    code = (code or "").strip()
    require(by, "areas.change", village.path, action="areas.create_grid", obj=village)
    if not village.is_village_level:
        raise ActionError("网格只能建在嘎查村或社区之下", field="parent")
    if not (code.isdigit() and code.startswith(village.code) and 1 <= len(code) - len(village.code) <= 3):
        raise ActionError(f"网格代码应为村代码 {village.code} 后加 1–3 位数字，例如 {village.code}01", field="code")
    name = _clean_name(name)
    if Region.objects.filter(code=code).exists():
        raise ActionError(f"网格代码 {code} 已存在", field="code")
    with transaction.atomic():
        path = f"{village.path}{code}/"
        grid = Region.objects.create(code=code, name=name, kind=Region.Kind.GRID, parent=village, path=path,
                                     depth=village.depth + 1)
        audit.record("areas.create_grid", by=by, obj=grid, changes={"code": [None, code], "name": [None, name]})
    return grid


def update_region(region: Region, *, by, name=None, boundary=None, note=None) -> Region:
    """Rename a grid, set a boundary GeoJSON or a note. Official names change only by loading divisions."""
    require(by, "areas.change", region.path, action="areas.update_region", obj=region)
    before = audit.snapshot(region, ["name", "boundary", "note"])
    if name is not None:
        if region.kind != Region.Kind.GRID and name != region.name:
            raise ActionError("官方区划名称只能通过导入区划文件修改", field="name")
        region.name = _clean_name(name)
    if boundary is not None:
        if boundary and (not isinstance(boundary, dict) or boundary.get("type") not in
                         ("Polygon", "MultiPolygon", "Feature", "FeatureCollection")):
            raise ActionError("边界应为 GeoJSON 的 Polygon、MultiPolygon、Feature 或 FeatureCollection", field="boundary")
        region.boundary = boundary or None
    if note is not None:
        region.note = note.strip()[:200]
    changes = audit.diff(before, audit.snapshot(region, ["name", "boundary", "note"]))
    if changes:
        with transaction.atomic():
            region.save()
            audit.record("areas.update_region", by=by, obj=region, changes=changes)
    return region
