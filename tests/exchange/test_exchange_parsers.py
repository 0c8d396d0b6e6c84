"""Parsers for what real ledgers hold, proven on real .xlsx files built here with openpyxl.

- each parser alone: full-width digits and letters, lower-case x, phones with spaces and dashes, every
  date spelling (and a month), amounts in 元 or 万元 chosen by the header or written in the cell;
- the reader: merged header cells under a merged title, trailing blank rows, leading/trailing spaces,
  a hidden sheet (ignored) and a hidden column (read), headers with or without a unit, columns in
  another order than the template — a messy household ledger goes in and lands exactly as meant;
- amounts through a tiny money sheet (no registry has money yet), by header: 金额（万元）, 金额(元), 金额.
"""
import datetime
from decimal import Decimal

import pytest
from exchange_kit import WLNE, WLNE_GRID2, fresh_ids, run, xlsx
from openpyxl.styles import Font

from yiwang.core import crypto
from yiwang.core.idnumber import check_digit, make_id_number
from yiwang.exchange import engine
from yiwang.exchange.columns import (
    CellError, Column, normalise_header, parse_code, parse_date, parse_id_text, parse_int, parse_money,
    parse_month, parse_phone, parse_text,
)
from yiwang.exchange.sheets import Context, Sheet
from yiwang.people.models import Household, Person

# --------------------------------------------------------------------------- each parser alone


def test_full_width_digits_and_letters_become_half_width():
    assert parse_text(20)("  ＡＢＣ１２３  ") == "ABC123"
    assert parse_code("１５０６２７１０５２１５") == "150627105215"
    assert parse_int("１２３") == 123
    assert parse_id_text("１５０６２７１９８８０３１４００１ｘ") == "15062719880314001X"


def test_lower_case_x_and_spaces_in_id_numbers():
    assert parse_id_text(" 150627 19880314 001x ") == "15062719880314001X"


def test_an_id_number_stored_as_an_excel_number_is_refused_with_the_fix():
    with pytest.raises(CellError, match="文本"):
        parse_id_text(1.50627198803140e17)


@pytest.mark.parametrize("raw", ["138-1234-5678", "138 1234 5678", " 13812345678 ", "１３８１２３４５６７８",
                                 "+86 138 1234 5678", 13812345678])
def test_phones_with_spaces_and_dashes(raw):
    assert parse_phone(raw) == "13812345678"


def test_a_bad_phone_says_what_a_phone_looks_like():
    with pytest.raises(CellError, match="11 位手机号"):
        parse_phone("1234")


@pytest.mark.parametrize("raw", ["2023-05-01", "2023/5/1", "2023.5.1", "2023年5月1日", "２０２３年５月１日", " 2023-5-1 ",
                                 "20230501", 45047, 45047.0, datetime.date(2023, 5, 1),
                                 datetime.datetime(2023, 5, 1, 8, 30), "2023-05-01 00:00:00"])
def test_every_date_spelling(raw):
    assert parse_date(raw) == datetime.date(2023, 5, 1)


def test_a_month_is_a_month_and_not_a_day():
    assert parse_month("2023年5月") == parse_month("2023-05") == parse_month("2023/5") == datetime.date(2023, 5, 1)
    assert parse_month(datetime.date(2023, 5, 17)) == datetime.date(2023, 5, 1)
    with pytest.raises(CellError, match="缺少日"):
        parse_date("2023年5月")


@pytest.mark.parametrize("raw,reason", [("2023-02-30", "不存在"), ("五月一日", "无法识别"), ("2023-13-01", "不存在")])
def test_bad_dates_say_why(raw, reason):
    with pytest.raises(CellError, match=reason):
        parse_date(raw)


@pytest.mark.parametrize("raw,unit,amount", [
    ("1.5", "万元", "15000.00"), (1.5, "万元", "15000.00"), ("1.5", "元", "1.50"), ("1.5", "", "1.50"),
    ("12,345.67", "", "12345.67"), ("¥1,200.50", "", "1200.50"), ("１２３", "", "123.00"),
    ("1.5万", "", "15000.00"),  # the unit written in the cell wins
    ("15000元", "万元", "15000.00"),
    (0.1 + 0.2, "", "0.30"),  # binary float noise of a formula cell, not "three decimals"
    (12.100000000000001, "元", "12.10"), ("1.23456", "万元", "12345.60"), ("-3.5", "万元", "-35000.00"),
])
def test_amounts_in_yuan_or_wan_yuan(raw, unit, amount):
    assert parse_money(raw, unit=unit) == Decimal(amount)


@pytest.mark.parametrize("raw,reason", [("abc", "不是数字"), ("1.234", "两位小数"), (True, "金额")])
def test_bad_amounts_say_why(raw, reason):
    with pytest.raises(CellError, match=reason):
        parse_money(raw)


def test_header_names_with_or_without_the_unit_or_marks():
    assert {normalise_header(h) for h in ("金额（万元）", "金额(元)", "金额 (万元)", " 金额 ", "金额*", "金额：")} == {"金额"}
    assert normalise_header("户　号") == "户号"  # an ideographic space inside


# --------------------------------------------------------------------------- a tiny money sheet


class MoneySheet(Sheet):
    """Not registered: a stand-in for the later money registries (income entries, projects)."""

    key = "money_test"
    title = "收入"
    module = "economy"
    columns = [Column("name", "名称", parse_text(20), required=True), Column("amount", "金额", money=True, required=True),
               Column("day", "日期", parse_date), Column("month", "月份", parse_month)]

    def write(self, batch, ctx):
        ctx.state.setdefault("written", []).extend(v for _, v in batch)
        return ["new"] * len(batch)


def run_money(data):
    ctx = Context(user=None, commit=True)
    result = engine.run(MoneySheet(), data, ctx)
    return result, ctx.state.get("written", [])


@pytest.mark.parametrize("header,expected", [("金额（万元）", "15000.00"), ("金额(万元)", "15000.00"), ("金额（元）", "1.50"),
                                             ("金额", "1.50")])
def test_the_header_chooses_yuan_or_wan_yuan(db, header, expected):
    result, written = run_money(xlsx([["甲", 1.5, "2023/5/1", "2023年5月"]], ["名称", header, "日期", "月份"], title="收入"))
    assert result.ok and result.committed, result.as_dict()
    assert written == [{"name": "甲", "amount": Decimal(expected), "day": datetime.date(2023, 5, 1),
                        "month": datetime.date(2023, 5, 1)}]


def test_money_sheet_rejects_text_in_the_amount_column_with_the_cell(db):
    result, written = run_money(xlsx([["甲", "一万五"], ["乙", 3]], ["名称", "金额（万元）"], title="收入"))
    assert not result.ok and written == []
    assert [i.as_dict() for i in result.issues] == [
        {"row": 2, "column": "金额", "value": "一万五", "reason": "“一万五”不是数字"}]


# --------------------------------------------------------------------------- a messy real ledger


def _id_ending_in_x():
    taken = set(Person.objects.values_list("id_hash", flat=True))
    for seq in range(1, 1000):
        first17 = f"150627{datetime.date(1962, 8, 19):%Y%m%d}{seq:03d}"
        number = first17 + check_digit(first17)
        if number.endswith("X") and crypto.lookup_hash(number) not in taken:
            return number
    raise AssertionError


def full_width(text):
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in text)


def messy_ledger(ids):
    """A ledger as a village office keeps it: a title merged over two rows; a two-level header (person
    columns merged down over both header rows, "户信息" merged across the household columns above their
    own names); columns in another order, 身份证号码 with a note in its header; the 地址 column hidden
    and a hidden helper column; values with spaces, full-width digits, lower-case x, phones with dashes,
    every date spelling, real date cells and Excel serials; a hidden first sheet of lookup lists; blank
    rows at the end."""
    x_id = _id_ending_in_x()
    group = ["姓名", " 身份证号码（18位） ", "与户主关系", "联系电话", "户信息", None, None, None, None, "登记日期", "人员状态",
             "政治面貌", "核对人"]
    header = [None, None, None, None, "户号", "村（社区）代码", "网格代码", "地址", "户登记日期", None, None, None, None]
    rows = [
        ["  张大山 ", full_width(ids[0]), "户主", "138-1234-5678", " MESSY-1 ", full_width(WLNE), WLNE_GRID2,
         " 测试路 1 号 ", datetime.date(2015, 3, 1), "2015/3/1", "在册", "中共党员", "王"],
        ["李小花", x_id.lower(), " 配偶 ", "139 8765 4321", "MESSY-1", WLNE, int(WLNE_GRID2), "测试路 1 号",
         datetime.datetime(2015, 3, 1), "2016年4月5日", "在册", "群众", "王"],
        ["张小树", ids[1], "子女", "", "MESSY-1", int(WLNE), WLNE_GRID2, "测试路 1 号", 42064, "2017.6.7", "", "", ""],
    ]

    def build(wb, ws):
        ws.merge_cells("A1:M2")  # the title, merged over two rows
        ws["A1"].font = Font(bold=True, size=16)
        for col in "ABCDJKLM":
            ws.merge_cells(f"{col}3:{col}4")
        ws.merge_cells("E3:I3")
        ws.column_dimensions["H"].hidden = True  # a hidden column is still data
        ws.column_dimensions["M"].hidden = True
        ws.append([])
        ws.append([None, "  "])  # a row of blanks and spaces only
        ws.append([])
        lists = wb.create_sheet("下拉选项", 0)  # first in the book, hidden: a lookup list, not the data
        lists.append(["户号", "嘎查村代码", "姓名", "身份证号码", "与户主关系"])
        lists.append(["DECOY-1", WLNE, "不该导入", ids[2], "户主"])
        lists.sheet_state = "hidden"

    return xlsx(rows, header, before=[["乌兰淖尔村户籍台账（2023年）"], [], group], build=build), x_id


def test_a_messy_ledger_goes_in_exactly_as_meant(demo_user):
    user = demo_user("wlne_secretary")
    ids = fresh_ids(3)
    data, x_id = messy_ledger(ids)
    job = run("households", data, by=user)
    assert job.status == "committed", (job.file_error, job.issues)
    assert job.total_rows == 3 and job.counts == {"new": 3, "changed": 0, "unchanged": 0, "rejected": 0}
    assert job.unknown_headers == ["核对人"]  # the helper column is named back, not silently used
    h = Household.objects.get(number="MESSY-1")
    assert (h.village.code, h.grid.code, h.address, h.registered_on) == (
        WLNE, WLNE_GRID2, "测试路 1 号", datetime.date(2015, 3, 1))
    people = {p.name: p for p in h.members.all()}
    assert set(people) == {"张大山", "李小花", "张小树"}
    head, spouse, child = people["张大山"], people["李小花"], people["张小树"]
    assert h.head_id == head.pk
    assert head.id_number_plain() == ids[0] and spouse.id_number_plain() == x_id and child.id_number_plain() == ids[1]
    assert (head.phone_plain(), spouse.phone_plain(), child.phone_plain()) == ("13812345678", "13987654321", "")
    assert (head.registered_on, spouse.registered_on, child.registered_on) == (
        datetime.date(2015, 3, 1), datetime.date(2016, 4, 5), datetime.date(2017, 6, 7))
    assert (head.political_status, spouse.relation, child.status) == ("member", "spouse", "living")
    assert not Household.objects.filter(number="DECOY-1").exists()
    assert not Person.objects.filter(id_hash=crypto.lookup_hash(ids[2])).exists()


def test_excel_serial_and_real_date_cells_agree(demo_user):
    ids = fresh_ids(2)
    rows = [{"number": "SERIAL-1", "village": WLNE, "name": "甲", "id_number": ids[0], "relation": "户主",
             "hh_registered_on": 45047, "registered_on": datetime.date(2023, 5, 1)},
            {"number": "SERIAL-1", "village": WLNE, "name": "乙", "id_number": ids[1], "relation": "子女",
             "hh_registered_on": 45047.0, "registered_on": "2023年5月1日"}]
    job = run("households", xlsx(rows), by=demo_user("wlne_secretary"))
    assert job.status == "committed", job.issues
    h = Household.objects.get(number="SERIAL-1")
    assert h.registered_on == datetime.date(2023, 5, 1)
    assert {p.registered_on for p in h.members.all()} == {datetime.date(2023, 5, 1)}


def test_a_month_in_a_day_column_is_rejected_with_the_format(demo_user):
    ids = fresh_ids(1)
    rows = [{"number": "MONTH-1", "village": WLNE, "name": "甲", "id_number": ids[0], "relation": "户主",
             "registered_on": "2023年5月"}]
    job = run("households", xlsx(rows), by=demo_user("wlne_secretary"))
    assert job.status == "rejected"
    assert job.issues == [{"row": 2, "column": "登记日期", "value": "2023年5月",
                           "reason": "只有年月，缺少日；应为 2023-05-01 这样的日期"}]


def test_generated_ids_are_valid():
    assert make_id_number("150627", datetime.date(1988, 3, 14), 1)[-1] == check_digit("15062719880314001")
