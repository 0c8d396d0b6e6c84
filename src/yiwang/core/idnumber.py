"""Resident ID numbers per GB 11643-1999 (居民身份证号码); area codes from python-stdnum's ``cn/loc`` database.

``parse_id_number`` normalises (full-width digits, lower-case x, spaces) and validates: 18 characters,
the ISO 7064 MOD 11-2 check digit, a known area code prefix and a real birth date not in the future.
Every failure is an ``ActionError`` with a Chinese message naming the field.
"""
import datetime
import functools
import operator
import re
import unicodedata
from dataclasses import dataclass

from stdnum import numdb

from .errors import ActionError

FIELD = "id_number"


@dataclass(frozen=True)
class IdNumber:
    number: str
    birth_date: datetime.date
    gender: str  # "M" / "F", from the 17th digit (odd = male)


def normalise(raw) -> str:
    text = unicodedata.normalize("NFKC", str(raw or ""))
    return "".join(text.split()).replace("-", "").upper()


@functools.lru_cache(maxsize=8192)  # numdb's lookup costs ~40 µs; a file holds a few dozen area codes
def area_known(code6: str) -> bool:
    """A county-level code that exists or existed (an ID keeps the code of its issue even after the
    county is renamed, so the code's validity years are not compared with the birth year)."""
    info = {k: v for _, props in numdb.get("cn/loc").info(code6) for k, v in props.items()}
    return "county" in info


_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
_CHECK = "10X98765432"  # indexed by the weighted sum mod 11


def check_digit(first17: str) -> str:
    """The 18th character for the first 17 digits (ISO 7064 MOD 11-2, as GB 11643 prescribes).

    Not ``stdnum.cn.ric.calc_check_digit``: that one expects all 18 characters and drops the last, so
    handing it 17 digits silently leaves the 17th (the gender digit) out of the sum."""
    if len(first17) != 17:
        raise ValueError(f"check_digit needs 17 digits, got {len(first17)}")
    return _CHECK[sum(map(operator.mul, map(int, first17), _WEIGHTS)) % 11]


_SHAPE = re.compile(r"[0-9]{17}[0-9X]").fullmatch


def parse_id_number(raw, *, field=FIELD, today=None) -> IdNumber:
    number = normalise(raw)
    if not number:
        raise ActionError("身份证号码不能为空", field=field)
    if len(number) != 18:
        raise ActionError(f"身份证号码应为 18 位，实际为 {len(number)} 位", field=field)
    # ASCII digits only: str.isdigit() also accepts other scripts' digits (e.g. Arabic-Indic "١"),
    # which NFKC leaves alone and which would otherwise be stored as they came
    if not _SHAPE(number):
        raise ActionError("身份证号码格式错误：前 17 位应为数字，末位为数字或 X", field=field)
    if check_digit(number[:17]) != number[17]:
        raise ActionError(f"身份证号码校验位错误：末位应为 {check_digit(number[:17])}", field=field)
    try:  # what stdnum's ric.get_birth_date does, without its second normalisation of the number
        birth = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ActionError("身份证号码中的出生日期不存在", field=field) from None
    today = today or datetime.date.today()
    if birth > today:
        raise ActionError("身份证号码中的出生日期晚于今天", field=field)
    if birth.year < 1880:
        raise ActionError("身份证号码中的出生日期早于 1880 年", field=field)
    if not area_known(number[:6]):
        raise ActionError(f"身份证号码的地区码 {number[:6]} 不存在", field=field)
    gender = "M" if int(number[16]) % 2 == 1 else "F"
    return IdNumber(number=number, birth_date=birth, gender=gender)


def make_id_number(area6: str, birth: datetime.date, seq3: int) -> str:
    """Build a valid ID number (used by the demo and tests)."""
    first17 = f"{area6}{birth:%Y%m%d}{seq3:03d}"
    return first17 + check_digit(first17)
