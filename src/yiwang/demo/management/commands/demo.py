"""``yiwang demo load [--if-absent]`` builds the Hongqinghe 2023 demo town (idempotent, deterministic);
``yiwang demo accounts [--format json]`` lists the demo logins with their role and region."""
import json

from django.core.management.base import BaseCommand

from yiwang.demo import builder
from yiwang.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD


class Command(BaseCommand):
    help = "演示镇：载入数据、列出演示账号 / the demo town"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="sub", required=True)
        load = sub.add_parser("load", help="载入红庆河镇 2023 演示数据（可重复执行）")
        load.add_argument("--if-absent", action="store_true", help="已载入则直接跳过")
        acc = sub.add_parser("accounts", help="列出演示账号")
        acc.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, sub, **opts):
        if sub == "load":
            if opts.get("if_absent") and builder.is_loaded():
                self.stdout.write("演示镇已存在 / demo town already loaded")
                return
            builder.load(log=lambda msg: self.stdout.write(msg))
            self.stdout.write("演示镇已载入 / demo town loaded")
            return
        rows = [{"username": a.username, "password": DEMO_PASSWORD, "role": a.role, "role_label": a.role_label,
                 "region": a.region_code, "region_name": a.region_name} for a in DEMO_ACCOUNTS]
        if opts["format"] == "json":
            self.stdout.write(json.dumps(rows, ensure_ascii=False))
            return
        self.stdout.write("演示账号 / demo logins (密码 password: %s)" % DEMO_PASSWORD)
        for r in rows:
            self.stdout.write(f"  {r['username']:<16} {r['role_label']:<16} {r['region_name']}（{r['region']}）")
