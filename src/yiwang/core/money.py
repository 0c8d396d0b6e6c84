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
    try:
        cents = amount.quantize(CENT)
    except InvalidOperation:  # more digits than the decimal context holds (1e30)
        raise ActionError(f"金额“{value}”过大", field=field) from None
    if amount != cents:
        raise ActionError(f"金额“{value}”超过两位小数（单位：元）", field=field)
    return cents


def from_wan(value, *, field="amount") -> Decimal:
    """An amount given in 万元, converted exactly to yuan (at most six decimals in 万元)."""
    try:
        wan = value if isinstance(value, Decimal) else Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        raise ActionError(f"金额“{value}”不是数字", field=field) from None
    if not wan.is_finite():
        raise ActionError(f"金额“{value}”不是数字", field=field)
    sign, digits, exponent = wan.as_tuple()
    yuan = Decimal((sign, digits, exponent + 4))  # × 10000 by moving the point: exact, no context rounding
    try:
        cents = yuan.quantize(CENT)
    except InvalidOperation:
        raise ActionError(f"金额“{value}”万元过大", field=field) from None
    if yuan != cents:
        raise ActionError(f"金额“{value}”万元超过六位小数（不足 1 分）", field=field)
    return cents


def group_yuan(amount) -> str:
    """1234567.8 → "1,234,567.80": yuan to the cent, thousands grouped (the zh-hans locale groups none).
    Decimal in, text out, never through float; None is "—"."""
    if amount is None or amount == "":
        return "—"
    return f"{Decimal(amount):,.2f}"


def format_yuan(amount: Decimal) -> str:
    return f"{group_yuan(amount)} 元"


def format_wan(amount: Decimal) -> str:
    return f"{(amount / WAN).quantize(CENT, ROUND_HALF_UP):,.2f} 万元"
