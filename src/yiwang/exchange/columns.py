"""Columns of a sheet and the parsers for what real ledgers hold.

A ``Column`` is declared once per sheet field: Chinese header (plus accepted aliases), parser,
required or not, enumeration labels for the template's dropdown, a format note and an example. The
parsers accept what village staff actually type: full-width digits and letters, lower-case x in ID
numbers, spaces and dashes in phones, dates as 2023-05-01, 2023/5/1, 2023.5.1, 2023年5月1日,
2023年5月 (a month), Excel serial numbers and real date cells, amounts in 元 or 万元 chosen by the
header. Each failure raises ``CellError`` with a Chinese reason; nothing here touches the database.
"""
import datetime
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from yiwang.core.errors import ActionError

EXCEL_EPOCH = datetime.date(1899, 12, 30)


class CellError(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Column:
    key: str
    header: str
    parse: Callable = None
    required: bool = False
    choices: list = field(default_factory=list)  # Chinese labels, for the dropdown and the parser
    note: str = ""
    example: str = ""
    aliases: tuple = ()
    money: bool = False  # amounts: 元 by default, 万元 when the header says so
    multiple: bool = False  # several choices in one cell, separated by 、 (the dropdown only suggests)
    width: int = 14
    export: Callable = None  # obj-row -> cell value; default: row[key]

    def names(self):
        return {normalise_header(self.header), *(normalise_header(a) for a in self.aliases)}


_UNIT = re.compile(r"[（(]\s*([^()（）]*)\s*[)）]")


def normalise_header(text) -> str:
    """'户号 *' -> '户号'; '金额（万元）' -> '金额'; full-width to half-width; no spaces."""
    text = unicodedata.normalize("NFKC", str(text or ""))
    text = _UNIT.sub("", text)
    return re.sub(r"[\s*＊:：]", "", text)


def header_unit(text) -> str:
    m = _UNIT.search(unicodedata.normalize("NFKC", str(text or "")))
    return m[1].strip() if m else ""


_normalize = unicodedata.normalize


def to_text(value) -> str:
    """A cell as text: NFKC (full-width → half-width), trimmed; floats that are whole numbers lose '.0'."""
    if value is None:
        return ""
    if value.__class__ is str:  # the usual cell: no str() call, no float test
        return _normalize("NFKC", value).strip()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _normalize("NFKC", str(value)).strip()


_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f<>]")


def parse_text(max_length, *, required=False):
    forbidden = _FORBIDDEN.search

    def parse(value, ctx=None):
        text = to_text(value)
        if len(text) > max_length:
            raise CellError(f"过长：最多 {max_length} 个字，实际 {len(text)} 个")
        if forbidden(text):
            raise CellError("含有不允许的字符（< > 或控制字符）")
        return text

    return parse


def parse_code(value, ctx=None):
    text = to_text(value).replace(" ", "")
    if text and not text.isdigit():
        raise CellError("代码应为数字")
    return text


def parse_id_text(value, ctx=None):
    """ID numbers must arrive as text: an 18-digit number stored as an Excel number has lost digits."""
    if isinstance(value, float) or isinstance(value, int) and len(str(value)) > 15:
        raise CellError("身份证号码被 Excel 存成了数字，末几位已丢失；请把该列设为“文本”格式后重新填写")
    text = to_text(value).replace(" ", "").upper()
    if "*" in text:  # re-importing a masked export: say so, instead of "wrong format"
        raise CellError("身份证号码是遮挡的（含 *）；请用“导出（含完整身份证号）”导出的表格，或填写完整的 18 位号码")
    return text


def parse_phone(value, ctx=None):
    from yiwang.core.text import clean_phone

    if "*" in to_text(value):
        raise CellError("电话号码是遮挡的（含 *）；请用“导出（含完整身份证号）”导出的表格，或填写完整号码")
    try:
        return clean_phone(to_text(value))
    except ActionError as e:
        raise CellError(e.text) from None


def parse_date(value, ctx=None):
    """A day: date cells, Excel serials, 2023-05-01, 2023/5/1, 2023.5.1, 2023年5月1日, 20230501."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 1 <= value < 2958466:
            return EXCEL_EPOCH + datetime.timedelta(days=int(value))
        raise CellError("不是有效的日期")
    text = to_text(value)
    m = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?", text)
    if not m:
        m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
    if not m:
        if re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?", text):
            raise CellError("只有年月，缺少日；应为 2023-05-01 这样的日期")
        raise CellError("日期格式无法识别；可写 2023-05-01、2023/5/1、2023.5.1 或 2023年5月1日")
    try:
        return datetime.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise CellError("日期不存在") from None


def parse_month(value, ctx=None):
    """A month as its first day: 2023年5月, 2023-05, 2023/5, or any full date (its month)."""
    if value is None or value == "":
        return None
    text = to_text(value) if not isinstance(value, (datetime.date, int, float)) else ""
    m = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?", text) if text else None
    if m:
        try:
            return datetime.date(int(m[1]), int(m[2]), 1)
        except ValueError:
            raise CellError("月份不存在") from None
    day = parse_date(value)
    return day.replace(day=1) if day else None


def parse_int(value, ctx=None):
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise CellError("应为整数")
    if isinstance(value, float):
        if not value.is_integer():
            raise CellError("应为整数")
        return int(value)
    if isinstance(value, int):
        return value
    text = to_text(value).replace(",", "")
    if not re.fullmatch(r"-?\d+", text):
        raise CellError(f"“{text}”不是整数")
    return int(text)


def parse_money(value, ctx=None, *, unit=""):
    """Decimal yuan with two places; in a 万元 column the amount is multiplied exactly by 10000."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise CellError("应为金额")
    text = to_text(value).replace(",", "").replace("¥", "").replace(" ", "")
    # a unit written in the cell wins over the header's: "1.5万" is 15000 元 even in a 元 column
    in_wan = text.endswith(("万", "万元")) or (not text.endswith("元") and "万" in unit)
    text = text.removesuffix("元").removesuffix("万")
    try:
        # a number cell is a binary float: read it at Excel's own 15 significant digits, so that
        # 0.1+0.2 (0.30000000000000004 in the file) is the 0.30 the user sees, not "too many decimals"
        amount = Decimal(format(value, ".15g")) if isinstance(value, float) else Decimal(text)
    except InvalidOperation:
        raise CellError(f"“{to_text(value)}”不是数字") from None
    if not amount.is_finite():
        raise CellError("不是数字")
    if in_wan:
        amount *= 10000
    if amount != amount.quantize(Decimal("0.01")):
        raise CellError("金额超过两位小数（按元计）")
    return amount.quantize(Decimal("0.01"))


def parse_choice(choices):
    """An enumeration by its Chinese label (or its stored value): {'中共党员': 'member', ...}."""
    by_label = {str(label): value for value, label in choices}
    by_value = {value: value for value, _ in choices}

    def parse(value, ctx=None):
        text = to_text(value)
        if not text:
            return None
        if text in by_label:
            return by_label[text]
        if text in by_value:
            return by_value[text]
        raise CellError(f"“{text}”不是可选值；可选：{'、'.join(by_label)}")

    return parse


_LABEL_SEPARATORS = re.compile(r"[、,，;；\s]+")


def parse_labels(label_to_code: Callable):
    """A list of labels separated by 、,，; or spaces, each known (e.g. special-group tags).

    The known labels are read once per file: kept in ``ctx.state`` when the engine passes its context
    (without one, e.g. a single value parsed on its own, they are read on each call)."""
    state_key = ("labels", id(label_to_code))

    def parse(value, ctx=None):
        text = to_text(value)
        if not text:
            return []
        if ctx is None:
            known = label_to_code()
        else:
            known = ctx.state.get(state_key)
            if known is None:
                known = ctx.state[state_key] = label_to_code()
        out = []
        for part in _LABEL_SEPARATORS.split(text):
            if not part:
                continue
            if part not in known:
                raise CellError(f"未知的标签“{part}”；可选：{'、'.join(known)}")
            if known[part] not in out:
                out.append(known[part])
        return sorted(out)

    return parse
