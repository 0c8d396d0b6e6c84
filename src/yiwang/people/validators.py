"""The one rule for a 户号 (household number), for every way a household comes in.

The create form, the create/update actions and the household sheet's 户号 column all call
``clean_household_number`` (the sheet through ``parse_household_number``), so a number the form refuses is
refused by an import too, with the same Chinese message. It only checks and normalises text; it never
reads the database (uniqueness is the action's and the sheet's business).
"""
import re

from yiwang.core.errors import ActionError
from yiwang.core.text import clean_text
from yiwang.exchange.columns import CellError, to_text

MAX_LENGTH = 30
# ASCII letters and digits, with single dashes between them (1506271052150001, WLNE-0012); full-width
# forms (１２３, ＡＢＣ) arrive here already turned into these by NFKC
_NUMBER = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
MESSAGE = "户号只能包含字母、数字和短横线（如 1506271052150001 或 WLNE-0012）"


def household_number_problem(text: str) -> str:
    """The reason ``text`` (already normalised) is no 户号, or "" if it is one."""
    if not text:
        return "户号不能为空"
    if len(text) > MAX_LENGTH:
        return f"户号过长：最多 {MAX_LENGTH} 个字符，实际 {len(text)} 个"
    if not _NUMBER.fullmatch(text):
        return MESSAGE
    return ""


def clean_household_number(value) -> str:
    """The 户号 as stored (``clean_text``: NFKC, trimmed, no control characters), or ``ActionError`` on
    field ``number`` with the reason."""
    # the length is the rule's to refuse (its message is the sheet's too); clean_text only bounds the input
    text = clean_text(value, field="number", label="户号", max_length=10_000, required=True)
    problem = household_number_problem(text)
    if problem:
        raise ActionError(problem, field="number")
    return text


def parse_household_number(value, ctx=None) -> str:
    """The household sheet's 户号 parser: the same rule, as a cell error. An empty cell is left to the
    column's ``required`` check (the engine says 必填)."""
    text = to_text(value)
    if not text:
        return ""
    problem = household_number_problem(text)
    if problem:
        raise CellError(problem)
    return text
