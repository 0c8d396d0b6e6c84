"""Cases app: resident demands, disputes and hazards from report to rating, with deadlines and Open311."""
from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "yiwang.cases"
    verbose_name = "诉求办理"

    def ready(self):
        from yiwang.core.navigation import NavItem, register

        register(NavItem("cases", "诉求调度", "cases:console", "cases.view", order=40))
