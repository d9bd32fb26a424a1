"""Section 二: rows of one to three cells that no identity binds."""

import pytest
from conftest import ROOT

from extraction.tables import layout, proactive
from extraction.tables.placement import RawCell


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


@pytest.mark.parametrize("sign", ["＋", "+", "－"])
def test_a_run_together_change_with_a_full_width_sign_is_cut_like_an_ascii_one(sign):
    # space_rows: "3  ＋24" under 上年项数 | 本年增/减 | 处理决定数 is 3 | ＋2 | 4, whatever width its sign.
    cells, at = [], 0
    for text in ("行政许可", "3", f"{sign}24"):
        cells.append(RawCell(text, at, at + len(text)))
        at += len(text) + 1
    table, findings = proactive.read([cells], "space_rows")
    licensing = table.cells["licensing"]
    assert [licensing[k].value for k in ("prior_items", "change", "decisions")] == [3, -2 if sign == "－" else 2, 4]
    assert licensing["change"].raw == f"{sign}2"  # the printed text, not its ASCII reading
    assert not [f for f in findings if f.id == "proactive.layout.licensing"]
