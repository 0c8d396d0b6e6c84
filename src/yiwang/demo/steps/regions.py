"""Demo regions: 伊金霍洛旗 > 红庆河镇 with its 28 villages and one community, from the bundled Ordos
extract under their real codes, plus the grids each village draws for itself.

The 社区 150627105003 (乌兰淖尔社区居委会) is loaded as a community: it is part of the town's tree and
gets grids and households, but ``areas.villages`` counts 嘎查/村 only, so the town has 28 villages as the
article says (docs/decisions/0004-community-150627105003.md).
"""
from yiwang.areas import actions as area_actions
from yiwang.areas.management.commands.regions import bundled_ordos_text
from yiwang.areas.models import Region

from ..registry import TOWN_CODE, demo_step

ARTICLE_VILLAGES = {"乌兰淖尔", "巴音布拉格", "昌车渠", "乌兰敖包", "纳林希里"}


def grid_count(village: Region) -> int:
    return 6 if village.short_name in ARTICLE_VILLAGES else 4 + int(village.code[-1]) % 3


@demo_step(10)
def load_regions(ctx):
    result = area_actions.load_divisions(area_actions.read_divisions(bundled_ordos_text()), under=TOWN_CODE)
    ctx.log(f"区划：新增 {result.created}，未变 {result.unchanged}")
    town = Region.objects.get(code=TOWN_CODE)
    for village in town.children.order_by("code"):
        named = village.short_name.replace("社区", "") in ARTICLE_VILLAGES or village.short_name in ARTICLE_VILLAGES
        note = ("演示：文章提及本村，本村记录为虚构" if named else "演示：文章未提及本村，本村记录为虚构")
        if village.kind == Region.Kind.COMMUNITY:
            note = "演示：社区，不计入嘎查村数；记录为虚构"
        if village.note != note:
            area_actions.update_region(village, by=None, note=note)
        for n in range(1, grid_count(village) + 1):
            code = f"{village.code}{n:02d}"
            if not Region.objects.filter(code=code).exists():
                area_actions.create_grid(village, code=code, name=f"{village.short_name}第{n}网格", by=None)
    ctx.log(f"网格：{Region.objects.filter(kind=Region.Kind.GRID, path__startswith=town.path).count()}")
