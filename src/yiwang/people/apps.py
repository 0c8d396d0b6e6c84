"""People app: households (户), persons and special-group tags."""
from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "yiwang.people"
    verbose_name = "人口户籍"

    def ready(self):
        from yiwang.core.navigation import NavItem, register

        register(NavItem("people", "户籍人口", "people:household_list", "people.view", order=20))
        register(NavItem("persons", "人员", "people:person_list", "people.view", order=21))
