"""Grid app: grid workers, their household pairings (包户) and visits."""
from django.apps import AppConfig


class GridConfig(AppConfig):
    name = "yiwang.grid"
    verbose_name = "网格治理"
