"""The module menu: each app registers its entries in ``AppConfig.ready``; only built modules appear.

An entry shows when the user holds its permission somewhere (``user.has_any(perm)``).
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class NavItem:
    module: str
    label: str  # Chinese first; translated with gettext in templates
    url_name: str
    perm: str
    icon: str = ""
    order: int = 100


_items: list[NavItem] = []


def register(item: NavItem):
    if item not in _items:
        _items.append(item)


def items_for(user):
    if not user.is_authenticated:
        return []
    return sorted((i for i in _items if user.has_any(i.perm)), key=lambda i: (i.order, i.label))
