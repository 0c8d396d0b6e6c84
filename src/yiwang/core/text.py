"""Cleaning text input: trim, NFKC (full-width to half-width), length limits, no control characters.

Templates escape everything; these checks keep obviously hostile or broken strings (markup in a
name, NUL bytes, 10 KB "names") out of the records, with a Chinese message naming the field.
"""
import datetime
import re
import unicodedata

from .errors import ActionError

# C0/C1 control characters (tab, newline and carriage return allowed), and the invisible format
# characters a hostile string uses to disguise itself: bidi overrides that display text reversed
# (U+202A–E, U+2066–9), zero-width space, byte-order mark
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u202a-\u202e\u2066-\u2069\ufeff]")
_MARKUP = re.compile(r"[<>]")


def clean_text(value, *, field, label, max_length, required=False, allow_markup=False):
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    if required and not text:
        raise ActionError(f"{label}不能为空", field=field)
    if len(text) > max_length:
        raise ActionError(f"{label}过长：最多 {max_length} 个字，实际 {len(text)} 个", field=field)
    if _CONTROL.search(text):
        raise ActionError(f"{label}含有不可见的控制字符", field=field)
    if not allow_markup and _MARKUP.search(text):
        raise ActionError(f"{label}不能包含 < 或 >", field=field)
    return text


def clean_phone(value, *, field="phone"):
    text = unicodedata.normalize("NFKC", str(value or ""))
    digits = re.sub(r"[\s\-()（）]", "", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    if not digits:
        return ""
    if re.fullmatch(r"1[3-9]\d{9}", digits) or re.fullmatch(r"0\d{9,11}", digits):
        return digits
    raise ActionError(f"电话号码“{value}”格式错误：应为 11 位手机号或带区号的固定电话", field=field)


def clean_date(value, *, field, label, not_future=True, today=None):
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        day = value
    else:
        text = unicodedata.normalize("NFKC", str(value or "")).strip()
        if not text:
            raise ActionError(f"{label}不能为空", field=field)
        m = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text)
        if not m:
            raise ActionError(f"{label}“{text}”格式错误：应为 2023-05-01", field=field)
        try:
            day = datetime.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            raise ActionError(f"{label}“{text}”不是存在的日期", field=field) from None
    if not_future and day > (today or datetime.date.today()):
        raise ActionError(f"{label}不能晚于今天", field=field)
    return day


def clean_choice(value, choices, *, field, label):
    """An enumeration given by its stored value or its Chinese label (``TextChoices``)."""
    if value in choices.values:
        return value
    by_label = {str(lbl): v for v, lbl in choices.choices}
    if value in by_label:
        return by_label[value]
    raise ActionError(f"{label}“{value}”无效：可选 {'、'.join(by_label)}", field=field)


def clean_coordinate(value, *, field, label, limit):
    """A latitude (limit 90) or longitude (limit 180) in degrees, six decimals; empty is None."""
    from decimal import Decimal, InvalidOperation

    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ActionError(f"{label}“{value}”不是数字", field=field) from None
    if not number.is_finite() or not -limit <= number <= limit:
        raise ActionError(f"{label}应在 -{limit} 到 {limit} 之间", field=field)
    return number.quantize(Decimal("0.000001"))
