"""Tables of the areas app."""
import django_tables2 as tables

from .models import Region


class RegionTable(tables.Table):
    name = tables.Column(linkify=True)
    code = tables.Column()

    class Meta:
        model = Region
        fields = ("code", "name", "kind", "parent")
        attrs = {"class": "table table-sm table-striped"}
