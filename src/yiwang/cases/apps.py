"""Cases app: resident demands, disputes and hazards from report to rating, with deadlines and Open311."""
from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "yiwang.cases"
    verbose_name = "诉求办理"

    def ready(self):
        from django.core.signals import request_finished

        from yiwang.core.navigation import NavItem, register

        from . import tasks

        request_finished.connect(tasks.sweep_after_request, dispatch_uid="yiwang.cases.sweep_after_request")

        register(NavItem("cases", "诉求调度", "cases:console", "cases.view", order=40))
        register(NavItem("cases_messages", "我的消息", "cases:messages", "cases.report", order=44))
        register(NavItem("cases_rates", "三率统计", "cases:rates", "cases.view", order=41))
        register(NavItem("cases_m_report", "上报问题", "cases:m_report", "cases.report", order=42))
        register(NavItem("cases_m_mine", "我的诉求", "cases:m_mine", "cases.report", order=43))
