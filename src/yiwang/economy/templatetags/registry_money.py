"""``{{ amount|yuan }}``: Decimal yuan to the cent with thousands separators ("1,234,567.80"), the way the
economy tables show money (the zh-hans locale itself groups no digits). Never through float; None is "—"."""
from decimal import InvalidOperation

from django import template

from yiwang.core.money import group_yuan

register = template.Library()


@register.filter
def yuan(value):
    try:
        return group_yuan(value)
    except (InvalidOperation, TypeError, ValueError):
        return value
