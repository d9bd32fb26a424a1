"""Section 二: rows of one to three cells that no identity binds."""

import pytest
from conftest import ROOT

from extraction.tables import layout


@pytest.mark.parametrize("printed", ["五", "5a", "见附件"])
def test_a_section_two_cell_that_is_not_a_number_is_an_unreadable_cell_not_a_blank(printed):
    text = (ROOT / "data" / "samples" / "002_ff50e99d4c3fccda.txt").read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith("行政许可"))
    extraction = layout.parse(text.replace(row, f"行政许可\t3\t{printed}\t4"))
    cells = extraction.report.proactive.cells["licensing"]
    assert (cells["prior_items"].value, cells["decisions"].value) == (3, 4)
    assert cells["change"].raw == printed and cells["change"].value is None
    unreadable = [f for f in extraction.findings if f.id == "proactive.layout.unreadable_value"]
    assert unreadable and unreadable[0].blocks_acceptance and printed in unreadable[0].message
