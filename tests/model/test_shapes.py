"""The response models: one row per template key, both shapes read back alike, identities re-asked."""

import pydantic
import pytest

from extraction import template
from extraction.model import shapes


def _cells(section, version):
    """A distinct number per cell, so a cell read back in the wrong place shows."""
    rows = template.spec(section, version).rows
    numbers = iter(range(1, 1000))
    return {row.key: [next(numbers) for _ in row.columns] for row in rows}


@pytest.mark.parametrize("section", ["applications", "review_litigation"])
def test_the_keyed_and_the_rows_shape_read_back_to_the_same_table(section):
    cells = _cells(section, "2021")
    keyed = shapes.answer_model(section, "2021", "keyed").model_validate(cells)
    flat = [value for row in cells.values() for value in row]
    data = {"rows": list(cells.values())} if section == "applications" else {"cells": flat}
    compact = shapes.answer_model(section, "2021", "rows").model_validate(data)
    assert shapes.row_values(keyed) == shapes.row_values(compact) == cells
    assert shapes.to_table(keyed)[0] == shapes.to_table(compact)[0]


def test_a_model_number_longer_than_any_count_is_an_unreadable_cell_not_a_value():
    cells = _cells("applications", "2021")
    cells["new_received"][0] = 10**20
    table, findings = shapes.to_table(shapes.answer_model("applications", "2021", "keyed").model_validate(cells))
    assert table.cell("new_received", "natural_person").value is None
    assert table.cell("new_received", "natural_person").raw == str(10**20)
    assert [f.blocks_acceptance for f in findings if f.id.endswith("unreadable_value")] == [True]


def test_a_row_the_template_does_not_have_is_refused():
    cells = {**_cells("applications", "2019"), "invented_row": [0] * 7}
    with pytest.raises(pydantic.ValidationError, match="invented_row"):
        shapes.answer_model("applications", "2019").model_validate(cells)


def test_failing_identities_become_the_reask_message_only_when_checking():
    cells = _cells("applications", "2019")  # distinct numbers: the totals cannot balance
    model = shapes.answer_model("applications", "2019")
    assert model.model_validate(cells)  # not checking: kept as printed
    with pytest.raises(pydantic.ValidationError, match="REASK"):
        model.model_validate(cells, context={"check": True, "reask": "REASK {failures}"})


PARTS = (("proactive", "2021"), ("applications", "2021"), ("review_litigation", "2021"))


def _report_data(cells_by_section):
    data = {}
    for section, cells in cells_by_section.items():
        rows = list(cells.values())
        data[shapes.PART_KEYS[section]] = rows if section == "applications" else [v for row in rows for v in row]
    return data


def test_a_report_answer_reads_back_to_the_same_tables_as_one_answer_per_section():
    cells = {s: _cells(s, v) for s, v in PARTS}
    cells["proactive"] = {row: [str(v) for v in values] for row, values in cells["proactive"].items()}
    answer = shapes.report_model(PARTS).model_validate(_report_data(cells))
    for section, one in shapes.parts_of(answer).items():
        assert shapes.row_values(one) == cells[section], section
    assert set(shapes.report_model(PARTS).model_json_schema()["properties"]) == {"二", "三", "四"}


def test_a_report_answer_missing_a_section_or_adding_one_is_refused():
    cells = {s: _cells(s, v) for s, v in PARTS[1:]}
    model = shapes.report_model(PARTS[1:])
    with pytest.raises(pydantic.ValidationError, match="二"):
        model.model_validate({**_report_data(cells), "二": ["1"] * 10})
    with pytest.raises(pydantic.ValidationError, match="四"):
        model.model_validate({"三": _report_data(cells)["三"]})


def test_a_report_answer_reasks_with_each_failing_line_under_its_sections_numeral():
    cells = {s: _cells(s, v) for s, v in PARTS[1:]}  # distinct numbers: no total balances
    model = shapes.report_model(PARTS[1:])
    assert model.model_validate(_report_data(cells))  # not checking: kept as read
    with pytest.raises(pydantic.ValidationError) as failure:
        model.model_validate(_report_data(cells), context={"check": True, "reask": "REASK {failures}"})
    lines = [line.strip() for line in str(failure.value).splitlines() if line.strip().startswith("- ")]
    assert lines and all(line.startswith(("- 三 ", "- 四 ")) for line in lines)
