"""Economy app: collective projects, the income ledger, tiers, pooled projects and dividends,
strong–weak pairings, enterprise partners and the forecast (产业振兴)."""
from django.apps import AppConfig


class EconomyConfig(AppConfig):
    name = "yiwang.economy"
    verbose_name = "集体经济"

    def ready(self):
        from yiwang.core.navigation import NavItem, register

        register(NavItem("economy", "集体经济", "economy:overview", "economy.view", order=50))
