"""The text cleaners every action uses (core/text.py): lengths, markup, control characters, phones and
dates, each refusal a Chinese message naming the field."""
import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yiwang.core.errors import ActionError
from yiwang.core.text import clean_date, clean_phone, clean_text


def refused(fn, *args, **kwargs) -> ActionError:
    with pytest.raises(ActionError) as info:
        fn(*args, **kwargs)
    return info.value


@pytest.mark.parametrize("raw, clean", [
    ("  张三  ", "张三"), ("ＡＢＣ１２３", "ABC123"), ("乌兰淖尔３组", "乌兰淖尔3组"), (None, ""), (12, "12"),
    ("a & b ' \" c", "a & b ' \" c"),  # not markup: kept (templates escape them)
    ("x" * 50, "x" * 50), ("行1\n行2", "行1\n行2"),
])
def test_clean_text_accepts(raw, clean):
    assert clean_text(raw, field="name", label="姓名", max_length=50) == clean


@pytest.mark.parametrize("raw, expect", [
    ("x" * 51, "姓名过长：最多 50 个字，实际 51 个"),
    ("名" * 51, "最多 50 个字"),
    ("<script>alert(1)</script>", "不能包含 < 或 >"),
    ("＜b＞", "不能包含 < 或 >"),  # full-width brackets become markup after NFKC
    ("a\x00b", "控制字符"),
    ("a\x1bb", "控制字符"),
    ("a\x7fb", "控制字符"),
    ("a\x85b", "控制字符"),  # C1 "next line"
    ("\u202e三张", "控制字符"),  # right-to-left override: shows the name reversed
    ("张\u2066三", "控制字符"),
    ("张\u200b三", "控制字符"),  # zero-width space: two names that look the same
    ("张\ufeff三", "控制字符"),
    ("   ", "姓名不能为空"),
    ("", "姓名不能为空"),
])
def test_clean_text_refuses(raw, expect):
    err = refused(clean_text, raw, field="name", label="姓名", max_length=50, required=True)
    assert err.field == "name" and expect in err.text
    assert err.message_dict == {"name": [err.text]}  # a Django ValidationError keyed by the field


def test_markup_allowed_where_asked():
    assert clean_text("<p>", field="body", label="正文", max_length=10, allow_markup=True) == "<p>"


@given(st.text(max_size=80))
def test_clean_text_never_returns_what_it_should_refuse(raw):
    try:
        out = clean_text(raw, field="name", label="姓名", max_length=50)
    except ActionError as e:
        assert e.field == "name"
        return
    assert len(out) <= 50 and "<" not in out and ">" not in out and "\x00" not in out and out == out.strip()


@pytest.mark.parametrize("raw, clean", [
    ("13812345678", "13812345678"), ("138 1234 5678", "13812345678"), ("138-1234-5678", "13812345678"),
    ("+86 138 1234 5678", "13812345678"), ("１３８１２３４５６７８", "13812345678"), ("(0477)8123456", "04778123456"),
    ("0477-8123456", "04778123456"), ("", ""), (None, ""),
])
def test_clean_phone_accepts(raw, clean):
    assert clean_phone(raw) == clean


@pytest.mark.parametrize("raw", ["12345", "12812345678", "138123456789", "1381234567a", "+1 555 0100",
                                 "<script>alert(1)</script>", "1381234\x005678", "电话"])
def test_clean_phone_refuses(raw):
    err = refused(clean_phone, raw)
    assert err.field == "phone" and "电话号码" in err.text and "格式错误" in err.text


TODAY = datetime.date(2023, 6, 30)


@pytest.mark.parametrize("raw, day", [
    ("2023-05-01", datetime.date(2023, 5, 1)), ("2023/5/1", datetime.date(2023, 5, 1)),
    ("2023.05.01", datetime.date(2023, 5, 1)), ("2023年5月1日", datetime.date(2023, 5, 1)),
    ("２０２３－０５－０１", datetime.date(2023, 5, 1)), (datetime.date(2020, 2, 29), datetime.date(2020, 2, 29)),
    (datetime.datetime(2023, 1, 2, 3, 4), datetime.date(2023, 1, 2)),
])
def test_clean_date_accepts(raw, day):
    assert clean_date(raw, field="registered_on", label="登记日期", today=TODAY) == day


@pytest.mark.parametrize("raw, expect", [
    ("2023-02-30", "不是存在的日期"), ("2023-13-01", "不是存在的日期"), ("2023年2月29日", "不是存在的日期"),
    ("去年春天", "格式错误"), ("05/01/2023", "格式错误"), ("2023-05", "格式错误"), ("<b>2023-05-01</b>", "格式错误"),
    ("2023-07-01", "不能晚于今天"), ("", "不能为空"), (None, "不能为空"),
])
def test_clean_date_refuses(raw, expect):
    err = refused(clean_date, raw, field="registered_on", label="登记日期", today=TODAY)
    assert err.field == "registered_on" and "登记日期" in err.text and expect in err.text


def test_future_allowed_where_asked():
    assert clean_date("2030-01-01", field="due", label="期限", not_future=False) == datetime.date(2030, 1, 1)
