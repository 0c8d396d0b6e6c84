"""``yiwang regions load FILE [--under CODE]`` and ``yiwang regions list --region CODE``.

FILE is a CSV with columns code,name,level,parent_code (the format of the Ordos extract). Use the
word ``ordos`` for the extract shipped with the package. Loading twice changes nothing.
"""
from importlib import resources

from django.core.management.base import BaseCommand, CommandError

from yiwang.areas import actions
from yiwang.areas.models import Region
from yiwang.core.context import request_context
from yiwang.core.errors import ActionError


def bundled_ordos_text() -> str:
    return resources.files("yiwang.areas").joinpath("data/divisions-1506-ordos.csv").read_text(encoding="utf-8")


class Command(BaseCommand):
    help = "区划管理：导入区划文件、列出区域 / load division codes, list regions"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="sub", required=True)
        load = sub.add_parser("load", help="导入区划 CSV（code,name,level,parent_code）")
        load.add_argument("file", help="CSV 文件路径，或 ordos 表示内置的鄂尔多斯区划")
        load.add_argument("--under", help="只导入该区划代码及其下级（以及它的上级）")
        lst = sub.add_parser("list", help="列出某区域的下级")
        lst.add_argument("--region", required=True)

    def handle(self, *args, sub, **opts):
        if sub == "load":
            try:
                if opts["file"] == "ordos":
                    text = bundled_ordos_text()
                else:
                    with open(opts["file"], encoding="utf-8-sig") as f:
                        text = f.read()
            except OSError as e:
                raise CommandError(f"无法读取文件：{e}") from None
            except UnicodeDecodeError:
                raise CommandError(f"文件“{opts['file']}”不是 UTF-8 编码：请在 Excel/WPS 中另存为“CSV UTF-8”") from None
            try:
                with request_context(channel="cli"):
                    result = actions.load_divisions(actions.read_divisions(text), under=opts.get("under"))
            except ActionError as e:
                raise CommandError(e.text) from None
            self.stdout.write(f"新增 {result.created}，更新 {result.updated}，未变 {result.unchanged}")
        else:
            try:
                region = actions.get_region(opts["region"])
            except ActionError as e:
                raise CommandError(e.text) from None
            for r in Region.objects.filter(parent=region).order_by("code"):
                self.stdout.write(f"{r.code}\t{r.get_kind_display()}\t{r.name}")
