"""Grid app: grid workers, their household pairings (包户) and visits."""
from django.apps import AppConfig


class GridConfig(AppConfig):
    name = "yiwang.grid"
    verbose_name = "网格治理"

    def ready(self):
        from yiwang.core.navigation import NavItem, register

        register(NavItem("grid_mine", "我的包户", "grid:mine", "grid.change", order=30))
        register(NavItem("grid", "网格员", "grid:worker_list", "grid.view", order=31))
        register(NavItem("grid_unvisited", "未走访", "grid:unvisited", "grid.view", order=32))
