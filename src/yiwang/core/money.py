"""Money as ``Decimal`` yuan with two places; formatting as 元 or 万元. Never float."""
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .errors import ActionError

CENT = Decimal("0.01")
WAN = Decimal(10000)


def to_yuan(value, *, field="amount") -> Decimal:
    """Parse an amount in yuan; more than two decimals is an error, not a silent rounding."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        raise ActionError(f"金额“{value}”不是数字", field=field) from None
    if not amount.is_finite():
        raise ActionError(f"金额“{value}”不是数字", field=field)
    if amount != amount.quantize(CENT):
        raise ActionError(f"金额“{value}”超过两位小数（单位：元）", field=field)
    return amount.quantize(CENT)


def from_wan(value, *, field="amount") -> Decimal:
    """An amount given in 万元, converted exactly to yuan (at most six decimals in 万元)."""
    try:
        amount = Decimal(str(value).replace(",", "").strip()) * WAN
    except (InvalidOperation, ValueError):
        raise ActionError(f"金额“{value}”不是数字", field=field) from None
    return to_yuan(amount, field=field)


def format_yuan(amount: Decimal) -> str:
    return f"{amount:,.2f} 元"


def format_wan(amount: Decimal) -> str:
    return f"{(amount / WAN).quantize(CENT, ROUND_HALF_UP):,.2f} 万元"
