"""Areas app: the one region tree (province > city > banner > town > village/community > grid)."""
from django.apps import AppConfig


class AreasConfig(AppConfig):
    name = "yiwang.areas"
    verbose_name = "区域"

    def ready(self):
        from yiwang.core.navigation import NavItem, register

        register(NavItem("areas", "区域网格", "areas:region_list", "areas.view", order=10))
