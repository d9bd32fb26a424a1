"""Undoing the orders a PDF's text prints numbers in: runs cut into rows by their totals, rows
printed column by column, section 四's groups interleaved."""

from extraction.tables import orders
from extraction.tables.placement import RawCell


def test_a_run_cut_into_rows_in_more_than_one_way_is_a_doubt():
    cells = [RawCell(str(v), i, i + 1) for i, v in enumerate((3, 3, 3, 3))]
    rows, doubt, _ = orders.cut_run(cells, 2)
    assert [[c.text for c in row] for row in rows] == [["3", "3"], ["3", "3"]]
    assert doubt is None
    cells = [RawCell(str(v), i, i + 1) for i, v in enumerate((0, 0, 0))]  # [0][0 0] or [0 0][0]
    rows, doubt, _ = orders.cut_run(cells, 2)
    assert doubt is not None and "2 ways" in doubt


def test_full_rows_printed_column_by_column_are_cut_the_way_their_totals_balance():
    block = [[1, 2, 3, 0, 0, 0, 6], [4, 0, 1, 0, 0, 0, 5]]
    by_column = [block[r][c] for c in range(7) for r in range(2)]
    cells = [RawCell(str(v), i, i + 1) for i, v in enumerate(by_column)]
    rows, doubt, _ = orders.cut_run(cells, 2)
    assert [[int(c.text) for c in row] for row in rows] == block
    assert doubt is None


def test_section_four_printed_interleaved_is_read_in_the_one_order_that_balances():
    # 复议's total printed after 直接起诉's parts.
    review, direct, after = [1, 2, 3, 4, 10], [5, 6, 7, 8, 26], [9, 11, 12, 13, 45]
    printed = review[:4] + direct[:4] + [review[4], direct[4]] + after
    cells = [RawCell(str(v), i, i + 1) for i, v in enumerate(printed)]
    (row,), doubts = orders.review_order(cells)
    assert [int(c.text) for c in row[1]] == review + direct + after
    assert doubts == []


def test_full_rows_are_read_column_by_column_where_that_fails_fewer_identities():
    # 一 new_received and 二 carried_over printed column by column; the row-major reading breaks their totals.
    block = [[1, 2, 0, 0, 0, 0, 3], [1, 0, 0, 0, 0, 0, 1]]
    cells = [RawCell(str(block[r][c]), 2 * c + r, 2 * c + r + 1) for c in range(7) for r in range(2)]
    rows = [cells[:7], cells[7:]]
    (kept,), doubts = orders.by_orientation([rows], "2019")
    assert [[int(c.text) for c in row] for row in kept] == block
    assert doubts == []
