"""Every value form TEMPLATE.md lists, read by the one shared normaliser."""

from decimal import Decimal

import pytest

from extraction.schema import CellKind
from extraction.tables.normalize import looks_like_value, parse_cell

COUNTS = [
    ("0", 0, CellKind.zero),
    ("8", 8, CellKind.number),
    ("11398889", 11398889, CellKind.number),
    ("11,398,889", 11398889, CellKind.number),
    ("１２３", 123, CellKind.number),  # full-width digits
    ("\u30000", 0, CellKind.zero),  # full-width space before the digit (Word)
    ("\xa03", 3, CellKind.number),  # &nbsp; from web pages
    ("1\xa0", 1, CellKind.number),
    ("  0", 0, CellKind.zero),
    ("4 0 9", 409, CellKind.number),  # stray spaces inside a number
    ("22（其中修订16件）", 22, CellKind.number),
    ("22(其中修订16件)", 22, CellKind.number),
    ("-3", -3, CellKind.number),  # kept as printed, for identity 5 to flag
]


@pytest.mark.parametrize(("raw", "value", "kind"), COUNTS)
def test_counts_read_with_their_kind_and_raw_text_kept(raw, value, kind):
    cell = parse_cell(raw, "count")
    assert (cell.value, cell.kind, cell.raw) == (value, kind, raw)


def test_annotation_is_kept_beside_the_value():
    assert parse_cell("22（其中修订16件）").annotation == "其中修订16件"


@pytest.mark.parametrize("raw", ["", "   ", "\u3000", "\xa0", "\t"])
def test_blank_cells_stay_blank_never_zero(raw):
    cell = parse_cell(raw)
    assert cell.value is None and cell.kind == CellKind.blank


@pytest.mark.parametrize("raw", ["/", "-", "—", "——", "／", "－", " / "])
def test_slash_and_dash_mean_not_applicable(raw):
    cell = parse_cell(raw)
    assert cell.value is None and cell.kind == CellKind.not_applicable


@pytest.mark.parametrize(
    ("raw", "value"),
    [("增1", 1), ("减1", -1), ("增加3", 3), ("减少2", -2), ("+21", 21), ("-3", -3), ("0", 0), ("＋５", 5)],
)
def test_changes_keep_their_sign(raw, value):
    assert parse_cell(raw, "change").value == value


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("3773631元", Decimal("377.3631")),
        ("925万元", Decimal("925")),
        ("849.39万元", Decimal("849.39")),
        ("52.15", Decimal("52.15")),  # bare money is already 万元
        ("1,200万元", Decimal("1200")),
        ("0", Decimal("0")),
        ("10000元", Decimal("1")),
    ],
)
def test_money_is_normalised_to_wan_yuan(raw, value):
    cell = parse_cell(raw, "money")
    assert cell.value == value and isinstance(cell.value, Decimal) and cell.raw == raw


@pytest.mark.parametrize(
    ("raw", "kind"), [("1.属于国家秘密", "count"), ("自然人", "count"), ("增1", "count"), ("3元", "count")]
)
def test_labels_and_wrong_forms_are_not_values(raw, kind):
    with pytest.raises(ValueError):
        parse_cell(raw, kind)
    assert not looks_like_value(raw, kind)


def test_span_is_carried():
    assert parse_cell("5", span=(10, 11)).span == (10, 11)


@pytest.mark.parametrize(
    ("raw", "kind", "value"),
    [
        ("1O", "count", 10),
        ("l2", "count", 12),
        ("1,O00", "count", 1000),
        ("O", "count", 0),
        ("l", "count", 1),
        ("增l", "change", 1),
        ("3O万元", "money", 30),
        ("O元", "money", 0),
        ("1 234", "count", 1234),
    ],
)
def test_look_alike_letters_and_stray_spaces_read_as_the_number_they_stand_for(raw, kind, value):
    cell = parse_cell(raw, kind)
    assert cell.value == value and cell.raw == raw  # what was printed is kept beside the reading


@pytest.mark.parametrize("raw", ["IO", "lol", "Il", "其他"])
def test_letters_without_a_digit_stay_words(raw):
    with pytest.raises(ValueError):
        parse_cell(raw)
