"""Accounts app: users, roles, role assignments with a region scope, login security."""
from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "yiwang.accounts"
    verbose_name = "账号与权限"

    def ready(self):
        from yiwang.core.navigation import NavItem, register

        from . import signals  # noqa: F401

        register(NavItem("audit", "审计日志", "accounts:audit_list", "audit.view", order=90))
        register(NavItem("accounts", "账号", "accounts:user_list", "accounts.view", order=95))
