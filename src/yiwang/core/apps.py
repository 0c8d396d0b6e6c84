"""Core app: shared mechanisms (scope, audit, money, periods, ID numbers, errors). No domain models."""
from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "yiwang.core"
    verbose_name = "核心"
