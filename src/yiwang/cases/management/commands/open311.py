"""``yiwang open311 key NAME --region CODE``: issue an Open311 api_key for a client app.

The key is printed once; only its hash is stored (``cases.actions.create_api_key``, audited as the
system on the "cli" channel). Requests posted with it land in CODE's subtree, and it reads only there.
"""
from django.core.management.base import BaseCommand, CommandError

from yiwang.areas.actions import get_region
from yiwang.cases import actions
from yiwang.core.context import request_context
from yiwang.core.errors import ActionError


class Command(BaseCommand):
    help = "Open311 接口密钥：签发 / issue Open311 api keys"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="sub", required=True)
        key = sub.add_parser("key", help="签发一个 api_key（只显示一次）")
        key.add_argument("name", help="客户端名称，例如“村务公众号”")
        key.add_argument("--region", required=True, help="区划代码：镇、村（12 位）或网格代码")

    def handle(self, *args, sub, name, region, **options):
        try:
            target = get_region(region)
            with request_context(channel="cli"):
                key, plain = actions.create_api_key(name=name, region=target, by=None)
        except ActionError as e:
            raise CommandError(e.text) from None
        self.stderr.write(f"已签发“{key.name}”，范围 {target.name}（{target.code}）。密钥只显示这一次，请妥善保存：")
        self.stdout.write(plain)
