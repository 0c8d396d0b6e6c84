"""Reporting periods: year, half, quarter, month, date range, or an as-of date.

``Period.parse`` accepts ``2022``, ``2022H1``, ``2022Q3``, ``2022-05``, ``2022-01-01..2022-06-30`` and
``asof:2023-06-30``. A period is a closed date interval; an as-of period has no start.
"""
import calendar
import datetime
import re
import unicodedata
from dataclasses import dataclass

from .errors import ActionError


@dataclass(frozen=True)
class Period:
    start: datetime.date | None
    end: datetime.date
    label: str

    @classmethod
    def year(cls, y):
        return cls(datetime.date(y, 1, 1), datetime.date(y, 12, 31), f"{y}")

    @classmethod
    def asof(cls, day: datetime.date):
        return cls(None, day, f"asof:{day.isoformat()}")

    @classmethod
    def parse(cls, text, *, field="period"):
        text = unicodedata.normalize("NFKC", str(text or "")).strip()
        try:
            if m := re.fullmatch(r"(\d{4})", text):
                return cls.year(int(m[1]))
            if m := re.fullmatch(r"(\d{4})H([12])", text, re.I):
                y, h = int(m[1]), int(m[2])
                return cls(datetime.date(y, 1 if h == 1 else 7, 1),
                           datetime.date(y, 6, 30) if h == 1 else datetime.date(y, 12, 31), f"{y}H{h}")
            if m := re.fullmatch(r"(\d{4})Q([1-4])", text, re.I):
                y, q = int(m[1]), int(m[2])
                last = q * 3
                return cls(datetime.date(y, last - 2, 1),
                           datetime.date(y, last, calendar.monthrange(y, last)[1]), f"{y}Q{q}")
            if m := re.fullmatch(r"(\d{4})-(\d{1,2})", text):
                y, mo = int(m[1]), int(m[2])
                return cls(datetime.date(y, mo, 1), datetime.date(y, mo, calendar.monthrange(y, mo)[1]),
                           f"{y}-{mo:02d}")
            if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})", text):
                start, end = datetime.date.fromisoformat(m[1]), datetime.date.fromisoformat(m[2])
                if start > end:
                    raise ActionError("期间的开始日期晚于结束日期", field=field)
                return cls(start, end, text)
            if m := re.fullmatch(r"(?:asof:)?(\d{4}-\d{2}-\d{2})", text):
                return cls.asof(datetime.date.fromisoformat(m[1]))
        except ValueError:
            raise ActionError(f"期间“{text}”中的日期不存在", field=field) from None
        raise ActionError(
            f"无法识别的期间“{text}”：可用 2022、2022H1、2022Q3、2022-05、2022-01-01..2022-06-30 或 asof:2023-06-30",
            field=field,
        )

    def contains(self, day: datetime.date) -> bool:
        return (self.start is None or self.start <= day) and day <= self.end
