"""Form widgets for choosing regions.

``ChildRegionSelect`` is a <select> of regions (grids) that follows another select of the same form
(their villages): each option carries its parent's code in ``data-parent`` and the small script
``yiwang/follow-select.js`` (served from our own static files) keeps only the children of the region
chosen there. Without the script every option stays and the action still refuses a grid of another
village, so nothing depends on it.
"""
from django import forms


def parent_code(region):
    """The parent's code, read from the materialised path ("/…/150627105215/15062710521501/")."""
    codes = region.path.strip("/").split("/")
    return codes[-2] if len(codes) > 1 else ""


class ChildRegionSelect(forms.Select):
    class Media:
        js = ["yiwang/follow-select.js"]

    def __init__(self, follows, attrs=None, choices=()):
        super().__init__(attrs, choices)
        self.follows = follows  # the name of the field holding the parent region

    def get_context(self, name, value, attrs):
        ctx = super().get_context(name, value, attrs)
        ctx["widget"]["attrs"]["data-follows"] = self.follows
        return ctx

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        region = getattr(value, "instance", None)
        if region is not None:
            option["attrs"]["data-parent"] = parent_code(region)
        return option
