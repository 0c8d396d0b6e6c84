"""GB 11643 ID numbers (core/idnumber.py): property tests against the ISO 7064 MOD 11-2 check digit, and
each kind of bad number answered with a Chinese message naming the field ``id_number``.

Area codes come from python-stdnum's county table (the same table the validator consults), birth dates
from 1880 to a fixed "today", sequence numbers 000–999. No database is needed.
"""
import datetime
import re
from pathlib import Path

import pytest
import stdnum
from stdnum.cn import ric
from hypothesis import assume, example, given
from hypothesis import strategies as st

from yiwang.core.errors import ActionError
from yiwang.core.idnumber import area_known, check_digit, make_id_number, normalise, parse_id_number

TODAY = datetime.date(2023, 6, 30)


def _known_area_codes():
    """Every county-level code in stdnum's cn/loc table: a 2-digit province line, indented 4-digit lines."""
    codes, province = [], None
    for line in (Path(stdnum.__file__).parent / "cn" / "loc.dat").read_text(encoding="utf-8").splitlines():
        if m := re.match(r"^(\d{2}) ", line):
            province = m[1]
        elif (m := re.match(r"^ +(\d{4}) .*county=", line)) and province:
            codes.append(province + m[1])
    return sorted(set(codes))


AREAS = _known_area_codes()
KNOWN = set(AREAS)

areas = st.sampled_from(AREAS)
births = st.dates(min_value=datetime.date(1880, 1, 1), max_value=TODAY)
seqs = st.integers(min_value=0, max_value=999)


def test_area_table_is_real():
    assert len(AREAS) > 3000
    assert {"150627", "150602", "110101"} <= KNOWN  # 伊金霍洛旗, 东胜区, 东城区
    assert all(area_known(c) for c in ("150627", "150602", "110101"))


def _error(raw, **kw) -> ActionError:
    with pytest.raises(ActionError) as info:
        parse_id_number(raw, today=TODAY, **kw)
    err = info.value
    assert err.field == "id_number"
    assert "身份证号码" in err.text  # the message names the field in Chinese
    return err


@given(areas, births, seqs)
@example("110105", datetime.date(1949, 12, 31), 2)  # the standard's example, ends in X
@example("150627", datetime.date(2000, 2, 29), 0)  # leap day, sequence 000
def test_round_trip(area, birth, seq):
    number = make_id_number(area, birth, seq)
    assert len(number) == 18 and number[-1] == check_digit(number[:17])
    parsed = parse_id_number(number, today=TODAY)
    assert parsed.number == number
    assert parsed.birth_date == birth  # derived from digits 7–14
    assert parsed.gender == ("M" if seq % 2 else "F")  # 17th digit: odd male, even female
    assert parsed.gender == ("M" if int(number[16]) % 2 == 1 else "F")


def test_the_standards_own_example():
    """GB 11643-1999 annex example: 11010519491231002X, a woman born 1949-12-31. (The check digit once
    left the 17th digit out of the sum, and this number was refused.)"""
    parsed = parse_id_number("11010519491231002x", today=TODAY)
    assert parsed == type(parsed)("11010519491231002X", datetime.date(1949, 12, 31), "F")
    assert check_digit("11010519491231002") == "X"


@given(areas, births, seqs)
def test_check_digit_agrees_with_stdnum(area, birth, seq):
    number = make_id_number(area, birth, seq)
    assert ric.calc_check_digit(number) == number[17]  # python-stdnum's checksum over all 18 characters
    for wrong in "0123456789X".replace(number[17], ""):
        assert ric.calc_check_digit(number[:17] + wrong) != wrong


@given(areas, births, seqs, st.integers(min_value=0, max_value=17), st.sampled_from("0123456789X"))
def test_any_single_character_change_fails(area, birth, seq, position, replacement):
    number = make_id_number(area, birth, seq)
    assume(number[position] != replacement)
    changed = number[:position] + replacement + number[position + 1:]
    err = _error(changed)
    if replacement != "X" or position == 17:
        # MOD 11-2: every weight is non-zero mod 11, so any one-digit change breaks the check digit,
        # which is compared before the birth date and the area code
        assert "校验位" in err.text


@given(areas, births, seqs, st.integers(min_value=0, max_value=15))
def test_adjacent_transposition_fails(area, birth, seq, position):
    number = make_id_number(area, birth, seq)
    assume(number[position] != number[position + 1])
    swapped = number[:position] + number[position + 1] + number[position] + number[position + 2:]
    assert "校验位" in _error(swapped).text


FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９ｘ")


@given(areas, births, seqs, st.data())
def test_normalisation(area, birth, seq, data):
    number = make_id_number(area, birth, seq)
    variants = [
        number.lower(),
        number.translate(FULL_WIDTH),  # full-width digits and a full-width lower-case x
        " ".join(number),
        f"  {number[:6]} {number[6:14]} {number[14:]}\t",
        "\u3000" + number + "\u3000",  # ideographic spaces
    ]
    raw = data.draw(st.sampled_from(variants))
    assert normalise(raw) == number
    assert parse_id_number(raw, today=TODAY).number == number


def test_lower_case_x_is_upper_cased():
    number = next(n for seq in range(1000)
                  if (n := make_id_number("150627", datetime.date(1990, 5, 1), seq)).endswith("X"))
    assert parse_id_number(number.lower(), today=TODAY).number == number


@pytest.mark.parametrize("first17, expect", [
    ("15062719990230123", "出生日期不存在"),  # 30 February
    ("15062719991301123", "出生日期不存在"),  # month 13
    ("15062720230229123", "出生日期不存在"),  # 2023 is not a leap year
    ("15062719990000123", "出生日期不存在"),
    ("15062718791231123", "早于 1880"),
])
def test_impossible_birth_date(first17, expect):
    assert expect in _error(first17 + check_digit(first17)).text


@given(areas, st.dates(min_value=TODAY + datetime.timedelta(days=1), max_value=datetime.date(2099, 12, 31)), seqs)
def test_future_birth_date(area, birth, seq):
    assert "晚于今天" in _error(make_id_number(area, birth, seq)).text


def test_future_birth_date_against_the_real_today():
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    with pytest.raises(ActionError, match="晚于今天"):
        parse_id_number(make_id_number("150627", tomorrow, 1))


@given(st.text(alphabet="0123456789", min_size=6, max_size=6), births, seqs)
def test_unknown_area_code(area, birth, seq):
    assume(area not in KNOWN)
    err = _error(make_id_number(area, birth, seq))
    assert "地区码" in err.text and area in err.text


@pytest.mark.parametrize("raw, expect", [
    ("", "不能为空"),
    (None, "不能为空"),
    ("   ", "不能为空"),
    ("15062719900501123", "应为 18 位，实际为 17 位"),
    ("15062719900501123X1", "应为 18 位，实际为 19 位"),
    ("1506271990050112", "应为 18 位，实际为 16 位"),
    ("15062719900501123Y", "格式错误"),
    ("1506271990O501123X", "格式错误"),  # a letter O for a zero
    ("X50627199005011234", "格式错误"),
    ("15062719900501123\x00", "格式错误"),  # NUL byte
    ("<script>alert(1)</script>", "应为 18 位"),
])
def test_wrong_length_and_format(raw, expect):
    assert expect in _error(raw).text


def test_other_scripts_digits_are_refused():
    """Arabic-Indic digits pass str.isdigit() and survive NFKC; they must not be stored as an ID number."""
    number = make_id_number("150627", datetime.date(1990, 5, 1), 124)
    arabic = number[:6] + number[6:17].translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")) + number[17]
    assert "格式错误" in _error(arabic).text


def test_custom_field_name():
    with pytest.raises(ActionError) as info:
        parse_id_number("123", field="head_id_number")
    assert info.value.field == "head_id_number"
    assert info.value.message_dict == {"head_id_number": [info.value.text]}
