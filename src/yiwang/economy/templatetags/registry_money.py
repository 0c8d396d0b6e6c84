"""``{{ amount|yuan }}``: Decimal yuan to the cent with thousands separators ("1,234,567.80"), the way the
economy tables show money (the zh-hans locale itself groups no digits). Never through float; None is "—"."""
from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def yuan(value):
    if value is None or value == "":
        return "—"
    try:
        return f"{Decimal(value):,.2f}"
    except (InvalidOperation, TypeError, ValueError):
        return value
