"""``yiwang metrics --region CODE [--period P | --asof DATE] [--format json]``: every metric of a region."""
import datetime
import json

from django.core.management.base import BaseCommand, CommandError

from yiwang.areas.actions import get_region
from yiwang.core.errors import ActionError
from yiwang.core.periods import Period
from yiwang.insights import registry


class Command(BaseCommand):
    help = "打印某区域某期间的全部指标 / print every metric of a region for a period"

    def add_arguments(self, parser):
        parser.add_argument("--region", required=True, help="区划代码，例如 150627105")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--period", help="2022、2022H1、2022Q3、2022-05、2022-01-01..2022-06-30")
        group.add_argument("--asof", help="截至日期 YYYY-MM-DD")
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, region, period=None, asof=None, format="text", **options):
        try:
            target = get_region(region)
            if period:
                p = Period.parse(period)
            elif asof:
                p = Period.parse("asof:" + asof, field="asof")
            else:
                p = Period.asof(datetime.date.today())
        except ActionError as e:
            raise CommandError(e.text) from None
        values = registry.jsonable(registry.values_for(target, p))
        if format == "json":
            self.stdout.write(json.dumps(values, ensure_ascii=False, sort_keys=True))
            return
        self.stdout.write(f"{target.name}（{target.code}） {p.label}")
        for m in registry.all_metrics():
            self.stdout.write(f"  {m.key:<36} {values[m.key]!s:>14} {m.unit}  {m.label}")
