"""Exchange app: Excel templates, imports (dry run, confirm, error workbook) and exports."""
from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class ExchangeConfig(AppConfig):
    name = "yiwang.exchange"
    verbose_name = "Excel 导入导出"

    def ready(self):
        from yiwang.core.navigation import NavItem, register

        autodiscover_modules("sheets")  # each app's sheets.py declares its sheets
        register(NavItem("exchange", "导入导出", "exchange:job_list", "people.change", order=70))
