"""Turning the text of one printed table cell into a value, without losing what was printed.

One shared module so every extractor reads `增1`, `３７７３６３１元` or `22（其中修订16件）` the same
way. The raw text is always kept beside the value; a blank cell stays blank (never 0), and
`/` or `-` stays "not applicable".
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from extraction.schema import Cell, CellKind, Finding

FULLWIDTH = str.maketrans(
    "０１２３４５６７８９．，－＋／：（）　",
    "0123456789.,-+/:() ",
)
# Spaces of every kind that Word, web pages and OCR put inside and around numbers.
_SPACES = re.compile(r"[\s\u3000\xa0\u2002\u2003\u2009\u200b\ufeff]+")
_NOT_APPLICABLE = {"/", "-", "—", "——", "－", "–", "\\", "无", "N/A", "n/a", "／", "―"}
_ANNOTATION = re.compile(r"^(?P<num>[^()]+?)\s*\((?P<note>.*)\)\s*$")
_CHANGE = re.compile(r"^(?P<sign>增加?|减少?|\+|-|−)?(?P<num>\d[\d,]*(?:\.\d+)?)$")
_MONEY = re.compile(r"^(?P<num>\d[\d,]*(?:\.\d+)?)(?P<unit>万元|万|元)?$")
# A sign is accepted so that a printed "-3" count reaches identity 5 instead of vanishing.
_COUNT = re.compile(r"^[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)$")

WAN = Decimal(10000)


def squeeze(raw: str) -> str:
    """Full-width digits and punctuation to ASCII, every kind of space removed."""
    return _SPACES.sub("", raw.translate(FULLWIDTH))


@lru_cache(maxsize=8192)
def is_blank(raw: str) -> bool:
    return squeeze(raw) == ""


def parse_cell(raw: str, kind: str = "count", span: tuple[int, int] | None = None) -> Cell:
    """Read one cell. `kind` is the column's kind: count, change or money.

    Raises ValueError when the text is not a value of that kind (a label, prose, a number of the
    wrong form); callers decide whether that makes the cell a label or a finding.
    """
    cell = _read(raw, kind)  # the same few texts ("0", "1", "") fill most cells of a report
    if span is None:
        return cell
    # The cached cell was validated once; a copy that only gains its place needs no second look
    # (pydantic's own copy costs more than the whole reading of a row).
    return Cell.model_construct(value=cell.value, raw=cell.raw, kind=cell.kind, annotation=cell.annotation, span=span)


@lru_cache(maxsize=16384)
def _read(raw: str, kind: str) -> Cell:
    text = squeeze(raw)
    if text == "":
        return Cell(value=None, raw=raw, kind=CellKind.blank)
    if text in _NOT_APPLICABLE:
        return Cell(value=None, raw=raw, kind=CellKind.not_applicable)
    annotation = None
    match = _ANNOTATION.match(text)
    if match and re.search(r"\d", match["num"]):
        text, annotation = match["num"], match["note"]
    try:
        value = _parse_number(text, kind)
    except ValueError:
        value = _parse_number(_lookalikes(text), kind)
    cell_kind = CellKind.zero if value == 0 else CellKind.number
    return Cell(value=value, raw=raw, kind=cell_kind, annotation=annotation)


# Letters that scans and retyping put where a digit was printed: "1O" is 10, "l2" is 12.
_LOOKALIKE = str.maketrans({"O": "0", "o": "0", "〇": "0", "l": "1", "I": "1"})


def _lookalikes(text: str) -> str:
    """The digits a number's look-alike letters stand for, when it holds at least one real digit
    or is one look-alike alone (a table cell holding just "l" is a 1: no label is one Latin
    letter); a longer run of letters is a word, not a number."""
    number = re.sub("(万元|万|元)$", "", text.lstrip("增减加少+-−"))  # nor are a change's sign and a unit
    if any(ch.isdigit() for ch in number) or (len(number) == 1 and number in "Oo〇lI"):
        return text.translate(_LOOKALIKE)
    return text


@lru_cache(maxsize=16384)
def value_of(raw: str, kind: str = "count") -> int | Decimal | None:
    """A cell's value, or None where it is blank, not applicable or unreadable: for parsers that
    weigh the same printed cells in many readings (cached)."""
    try:
        return parse_cell(raw, kind).value
    except ValueError:
        return None


def looks_like_value(raw: str, kind: str = "count") -> bool:
    """True when the text reads as a cell value of this kind (blank and '/' included)."""
    try:
        parse_cell(raw, kind)
    except ValueError:
        return False
    return True


def _parse_number(text: str, kind: str) -> int | Decimal:
    if kind == "change":
        match = _CHANGE.match(text)
        if not match:
            raise ValueError(f"not a change: {text!r}")
        value = _to_decimal(match["num"])
        if match["sign"] and match["sign"][0] in "减-−":
            value = -value
        return _int_if_whole(value)
    if kind == "money":
        match = _MONEY.match(text)
        if not match:
            raise ValueError(f"not an amount: {text!r}")
        value = _to_decimal(match["num"])
        if match["unit"] == "元":
            value = value / WAN
        return _tidy(value)
    if not _COUNT.match(text):
        raise ValueError(f"not a count: {text!r}")
    return int(text.replace(",", "").replace("−", "-"))


def _to_decimal(text: str) -> Decimal:
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation as exc:  # pragma: no cover - the regexes only pass digits
        raise ValueError(text) from exc


def _tidy(value: Decimal) -> Decimal:
    """377.36310 -> 377.3631 and 925.00 -> 925, never 9.25E+2."""
    if value == value.to_integral_value():
        return Decimal(int(value))
    return value.normalize()


def _int_if_whole(value: Decimal) -> int | Decimal:
    return int(value) if value == value.to_integral_value() else value


# No count or amount in these reports comes near 10**15 (Excel keeps 15 digits exactly, SQLite
# integers stop at 2**63): a longer number in a cell is digits run together that no reading cut,
# or a model's lie, and is kept as text for a person, not stored as a value.
MAX_VALUE = 10**15


def kept(cell: Cell) -> Cell:
    """The cell, when its number fits a report (`MAX_VALUE`); a ValueError otherwise, as for any
    text that is not a value of its column: the callers keep such a cell as text, for a person."""
    if cell.value is not None and abs(cell.value) >= MAX_VALUE:
        raise ValueError(f"{cell.raw or cell.value}: more digits than any count or amount of a report")
    return cell


def unreadable(section: str, origin: str, row: str, column: str, label: str, kind: str, text: str) -> Finding:
    """A cell whose text is not a value of its column's kind: kept raw, and a person must look."""
    return Finding.blocking(
        f"{section}.{origin}.unreadable_value",
        f"a {label} cell holds a {kind}",
        f"{row}.{column}: cannot read {text.strip()!r} as a {kind}",
        cells=[(section, row, column)],
    )
