"""Money (Decimal yuan, two places, exact 万元 conversion, never float) and reporting periods (every form
parses to the right closed interval; bad text gets a Chinese message naming the field)."""
import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yiwang.core.errors import ActionError
from yiwang.core.money import format_wan, format_yuan, from_wan, to_yuan
from yiwang.core.periods import Period

# ---- money ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw, yuan", [
    ("12.5", "12.50"), ("12.50", "12.50"), ("0", "0.00"), ("-3.1", "-3.10"), ("1,234,567.89", "1234567.89"),
    (" 8 ", "8.00"), (7, "7.00"), (Decimal("0.01"), "0.01"), ("1.10000", "1.10"), ("1e3", "1000.00"),
    ("１２.５", "12.50"),
])
def test_to_yuan(raw, yuan):
    value = to_yuan(raw)
    assert isinstance(value, Decimal) and value == Decimal(yuan) and str(value) == yuan


@pytest.mark.parametrize("raw, expect", [
    ("1.005", "超过两位小数"), ("0.001", "超过两位小数"), ("1e-7", "超过两位小数"),
    (0.1 + 0.2, "超过两位小数"),  # a float's binary error is refused, not rounded away
    ("abc", "不是数字"), ("", "不是数字"), (None, "不是数字"), ("NaN", "不是数字"), ("Infinity", "不是数字"),
    ("-inf", "不是数字"), ("12元", "不是数字"), (True, "不是数字"), ("1e30", "过大"), ("9" * 40, "过大"),
])
def test_to_yuan_refuses(raw, expect):
    with pytest.raises(ActionError) as info:
        to_yuan(raw, field="income")
    assert info.value.field == "income" and expect in info.value.text and "金额" in info.value.text


@given(st.decimals(min_value=Decimal("-1e10"), max_value=Decimal("1e10"), places=2, allow_nan=False))
def test_to_yuan_keeps_every_cent(amount):
    assert to_yuan(amount) == amount and to_yuan(str(amount)) == amount


@given(st.decimals(min_value=Decimal("-1e6"), max_value=Decimal("1e6"), places=6, allow_nan=False))
def test_from_wan_is_exact(wan):
    """Six decimals of 万元 are exactly whole cents: 1.234567 万元 = 12345.67 元, with no float anywhere."""
    yuan = from_wan(str(wan))
    assert isinstance(yuan, Decimal)
    assert yuan == wan * 10000 and yuan == yuan.quantize(Decimal("0.01"))


@pytest.mark.parametrize("wan, yuan", [("1.234567", "12345.67"), ("0.000001", "0.01"), ("56.8", "568000.00"),
                                       ("1,000", "10000000.00"), (Decimal("0.5"), "5000.00"), (3, "30000.00")])
def test_from_wan(wan, yuan):
    assert from_wan(wan) == Decimal(yuan)


@pytest.mark.parametrize("wan, expect", [
    ("1.2345678", "超过六位小数"), ("0.0000001", "超过六位小数"), ("x", "不是数字"), ("inf", "不是数字"),
    ("1e40", "过大"),
    # more significant digits than the decimal context's 28: once rounded away silently when × 10000
    ("1.000000000000000000000000000001", "超过六位小数"),
])
def test_from_wan_refuses(wan, expect):
    with pytest.raises(ActionError) as info:
        from_wan(wan)
    assert expect in info.value.text and "万元" in info.value.text or expect == "不是数字"


def test_sums_reconcile_to_the_cent():
    parts = [to_yuan(x) for x in ("0.10", "0.20", "0.30", "1234.56", "0.01")]
    assert sum(parts, Decimal(0)) == Decimal("1235.17")
    assert sum(from_wan("0.000001") for _ in range(100)) == Decimal("1.00")


def test_formatting():
    assert format_yuan(Decimal("1234567.8")) == "1,234,567.80 元"
    assert format_wan(Decimal("12345.67")) == "1.23 万元"
    assert format_wan(Decimal("15000")) == "1.50 万元"
    assert format_wan(Decimal("125")) == "0.01 万元"  # half up


# ---- periods --------------------------------------------------------------------------------------------

D = datetime.date


@pytest.mark.parametrize("text, start, end, label", [
    ("2022", D(2022, 1, 1), D(2022, 12, 31), "2022"),
    ("2022H1", D(2022, 1, 1), D(2022, 6, 30), "2022H1"),
    ("2022h2", D(2022, 7, 1), D(2022, 12, 31), "2022H2"),
    ("2022Q1", D(2022, 1, 1), D(2022, 3, 31), "2022Q1"),
    ("2022Q2", D(2022, 4, 1), D(2022, 6, 30), "2022Q2"),
    ("2022q3", D(2022, 7, 1), D(2022, 9, 30), "2022Q3"),
    ("2022Q4", D(2022, 10, 1), D(2022, 12, 31), "2022Q4"),
    ("2022-05", D(2022, 5, 1), D(2022, 5, 31), "2022-05"),
    ("2024-2", D(2024, 2, 1), D(2024, 2, 29), "2024-02"),  # leap February
    ("2023-02", D(2023, 2, 1), D(2023, 2, 28), "2023-02"),
    ("2022-01-01..2022-06-30", D(2022, 1, 1), D(2022, 6, 30), "2022-01-01..2022-06-30"),
    ("2022-06-30..2022-06-30", D(2022, 6, 30), D(2022, 6, 30), "2022-06-30..2022-06-30"),
    ("asof:2023-06-30", None, D(2023, 6, 30), "asof:2023-06-30"),
    ("2023-06-30", None, D(2023, 6, 30), "asof:2023-06-30"),
    ("  2022 ", D(2022, 1, 1), D(2022, 12, 31), "2022"),
    ("２０２２Ｈ１", D(2022, 1, 1), D(2022, 6, 30), "2022H1"),  # full-width, as typed on a Chinese keyboard
    (2022, D(2022, 1, 1), D(2022, 12, 31), "2022"),
])
def test_every_form_parses(text, start, end, label):
    period = Period.parse(text)
    assert (period.start, period.end, period.label) == (start, end, label)
    assert Period.parse(period.label) == period  # the label parses back to the same period


@given(st.integers(min_value=1900, max_value=2100), st.integers(min_value=1, max_value=12))
def test_months_and_quarters_tile_the_year(year, month):
    m = Period.parse(f"{year}-{month:02d}")
    q = Period.parse(f"{year}Q{(month - 1) // 3 + 1}")
    h = Period.parse(f"{year}H{1 if month <= 6 else 2}")
    y = Period.parse(str(year))
    for outer in (q, h, y):
        assert outer.contains(m.start) and outer.contains(m.end)
    assert (m.end + datetime.timedelta(days=1)).day == 1


def test_contains():
    assert Period.parse("asof:2023-06-30").contains(D(1990, 1, 1))
    assert not Period.parse("asof:2023-06-30").contains(D(2023, 7, 1))
    assert Period.parse("2022Q2").contains(D(2022, 6, 30)) and not Period.parse("2022Q2").contains(D(2022, 7, 1))


@pytest.mark.parametrize("text, expect", [
    ("2022Q5", "无法识别的期间“2022Q5”"),
    ("2022H3", "无法识别的期间"),
    ("22", "无法识别的期间"),
    ("去年", "无法识别的期间"),
    ("", "无法识别的期间"),
    (None, "无法识别的期间"),
    ("<script>alert(1)</script>", "无法识别的期间"),
    ("2022-1-1..2022-2-2", "无法识别的期间"),
    ("2022-13", "日期不存在"),
    ("2022-00", "日期不存在"),
    ("2023-02-29", "日期不存在"),
    ("asof:2023-02-30", "日期不存在"),
    ("2022-06-31..2022-07-01", "日期不存在"),
    ("2022-07-01..2022-06-30", "开始日期晚于结束日期"),
])
def test_bad_text_gets_a_chinese_message(text, expect):
    with pytest.raises(ActionError) as info:
        Period.parse(text, field="period")
    assert info.value.field == "period" and expect in info.value.text


def test_the_message_lists_the_forms():
    with pytest.raises(ActionError) as info:
        Period.parse("上半年", field="asof")
    assert info.value.field == "asof"
    for form in ("2022", "2022H1", "2022Q3", "2022-05", "2022-01-01..2022-06-30", "asof:2023-06-30"):
        assert form in info.value.text
