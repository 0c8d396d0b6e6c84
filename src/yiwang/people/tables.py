"""Tables of the people app. Personal data is shown masked; full values only via the audited reveal."""
import django_tables2 as tables

from .models import Household, Person


class HouseholdTable(tables.Table):
    number = tables.Column(linkify=True)
    head = tables.Column(verbose_name="户主", accessor="head__name", default="—")
    village = tables.Column(verbose_name="嘎查村", accessor="village__name")
    grid = tables.Column(verbose_name="网格", accessor="grid__name", default="—")
    members = tables.Column(verbose_name="人数", accessor="member_count", orderable=False)
    registered_on = tables.DateColumn(format="Y年n月j日")

    class Meta:
        model = Household
        fields = ("number", "head", "village", "grid", "address", "members", "registered_on")
        attrs = {"class": "table table-sm table-striped table-hover"}


class PersonTable(tables.Table):
    name = tables.Column(linkify=True)
    id_masked = tables.Column(verbose_name="身份证号码", orderable=False)
    household = tables.Column(verbose_name="户号", accessor="household__number", linkify=lambda record: record.household.get_absolute_url())
    birth_date = tables.DateColumn(format="Y年n月j日")

    class Meta:
        model = Person
        fields = ("name", "id_masked", "gender", "birth_date", "political_status", "relation", "status", "household")
        attrs = {"class": "table table-sm table-striped table-hover"}
