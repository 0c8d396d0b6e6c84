"""Insights app: the metric registry (every figure shown anywhere is a named metric), the dashboard."""
from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class InsightsConfig(AppConfig):
    name = "yiwang.insights"
    verbose_name = "数据洞察"

    def ready(self):
        from yiwang.core.navigation import NavItem, register

        autodiscover_modules("metrics")  # each app's metrics.py registers its figures
        register(NavItem("insights", "指标", "insights:metric_list", "metrics.view", order=80))
