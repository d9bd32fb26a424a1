"""Columns of `pdftotext -layout` text read from where a row's numbers stand on its line."""

from extraction.tables import edges, placement


def _layout_rows(lines: list[str]) -> tuple[str, list[list[placement.Row]]]:
    """The text of these lines and each line's numbers as one row of cells."""
    text, block, at = "", [], 0
    for line in lines:
        cells, position = [], 0
        for part in line.split():
            position = line.index(part, position)
            cells.append(placement.RawCell(part, at + position, at + position + len(part)))
            position += len(part)
        block.append(cells)
        text += line + "\n"
        at += len(line) + 1
    return text, [block]


def test_a_short_row_is_spread_over_the_columns_its_numbers_stand_under():
    full = "   1   2   3   4   5   6  21"
    short = "   2" + " " * 23 + "2"  # 自然人 and 总计 only, under the full rows' first and last numbers
    text, blocks = _layout_rows([full, full, short])
    placed, doubts = edges.by_position(blocks, text, "2019")
    assert [c.text for c in placed[0][2]] == ["2", "", "", "", "", "", "2"]
    assert doubts == []


def test_evenly_spaced_edges_are_the_evenest_assignment_to_columns():
    assert edges.unevenness([4.0, 8.0, 12.0], (0, 1, 2))[0] == 0.0
    assert edges.unevenness([4.0, 8.0, 12.0], (0, 1, 5))[0] > 0.0


def test_placements_of_a_layout_line_are_ranked_by_how_evenly_they_space_the_columns():
    a, b, c = (placement.RawCell("1", end - 1, end) for end in (4, 8, 12))
    uneven = (a, b, None, None, c)
    even = (a, b, c, None, None)
    ranked = edges.evenly_spaced_first([(0, uneven), (0, even)])
    assert ranked == [(0, even), (1, uneven)]
