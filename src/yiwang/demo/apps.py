"""Demo app: the Hongqinghe 2023 demo town (deterministic, every record flagged as demo)."""
from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "yiwang.demo"
    verbose_name = "演示数据"
