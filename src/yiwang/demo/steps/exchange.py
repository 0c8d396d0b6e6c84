"""Demo imports: each village's household ledger, exported by the system and imported again for
乌兰淖尔, 纳林希里 and 巴音布拉格 — the records of how those villages "loaded their town from Excel" (and a
proof, on every demo load, that an export re-imports unchanged)."""
from yiwang.areas.models import Region
from yiwang.exchange import actions
from yiwang.exchange.models import ImportJob
from yiwang.exchange.sheets import get_sheet
from yiwang.people.models import Person

from ..registry import demo_step

VILLAGES = ("150627105215", "150627105214", "150627105227")


@demo_step(95)
def load_imports(ctx):
    sheet = get_sheet("households")
    for code in VILLAGES:
        village = Region.objects.get(code=code)
        if ImportJob.objects.filter(region=village).exists():
            continue
        persons = (Person.objects.filter(household__village=village).select_related("household__village",
                                                                                    "household__grid")
                   .prefetch_related("tags", "household__tags").order_by("household__number", "id"))
        data = actions.export(sheet_key=sheet.key, queryset=persons, by=None, full_pii=True)
        job = actions.upload(sheet_key=sheet.key, data=data, name=f"{village.short_name}户籍台账.xlsx",
                             region=village, by=None)
        job = actions.check(job, by=None)
        job = actions.commit(job, by=None)
        ctx.log(f"导入：{job.original_name} {job.get_status_display()} {job.counts}")
