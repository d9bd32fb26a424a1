"""The typed values: cells keep blank, 0 and "/" apart, and tables follow the template."""

import pydantic
import pytest

from extraction.schema import Cell, CellKind, Table


def test_a_cell_cannot_be_changed_in_place_so_one_blank_can_stand_everywhere():
    table = Table.empty("review_litigation", "2019")
    blank = table.cell("review", "upheld")
    with pytest.raises(pydantic.ValidationError):
        blank.value = 3
    table.set("review", "upheld", Cell.of(3))
    assert table.value("review", "upheld") == 3
    assert table.value("review", "corrected") is None  # the other empty places stay blank
    assert Table.empty("review_litigation", "2019").value("review", "upheld") is None


def test_blank_zero_and_not_applicable_stay_distinct():
    assert Cell.of(None).kind is CellKind.blank
    assert Cell.of(0).kind is CellKind.zero and Cell.of(0).value == 0
    assert Cell(raw="/", kind=CellKind.not_applicable).value is None
    with pytest.raises(pydantic.ValidationError):
        Cell(kind=CellKind.number)  # a number cell needs its number
    with pytest.raises(pydantic.ValidationError):
        Cell(value=0, kind=CellKind.blank)  # a blank is not a zero


def test_a_table_must_have_exactly_the_template_cells():
    cells = Table.empty("review_litigation", "2019").cells
    del cells["review"]["upheld"]
    with pytest.raises(pydantic.ValidationError):
        Table(section="review_litigation", version="2019", cells=cells)
