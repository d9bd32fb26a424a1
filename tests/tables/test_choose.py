"""Choosing readings across a table: the identities decide, and what they leave open is named."""

from extraction import template
from extraction.schema import Table
from extraction.tables import choose
from extraction.tables.placement import RawCell

# Section 四 printed as one data row: its fifteen cells span the three groups.
COLUMNS = tuple(
    template.Column(f"{g.key}.{c.key}", c.label) for g in template.REVIEW_LITIGATION.rows for c in g.columns
)


def reading(*numbers):
    return tuple(RawCell(str(n), 10 * i, 10 * i + len(str(n))) for i, n in enumerate(numbers))


def rest():
    return [0] * 10


def test_the_reading_that_balances_is_kept_whatever_it_costs():
    unbalanced, balanced = reading(1, 1, 0, 2, 0, *rest()), reading(1, 1, 0, 0, 2, *rest())
    table, findings = choose.choose(
        Table.empty("review_litigation", "2019"), {"*": [(0, unbalanced), (5, balanced)]}, COLUMNS
    )
    first = template.REVIEW_LITIGATION.rows[0].key
    assert table.cells[first]["total"].value == 2 and table.cells[first]["pending"].value == 0
    assert findings == []


def test_two_balanced_readings_with_numbers_in_different_cells_are_an_ambiguity():
    one, other = reading(1, 1, 0, 0, 2, *rest()), reading(1, 0, 1, 0, 2, *rest())
    _, findings = choose.choose(Table.empty("review_litigation", "2019"), {"*": [(0, one), (1, other)]}, COLUMNS)
    (finding,) = findings
    assert finding.id == "review_litigation.layout.ambiguous" and finding.severity == "hard"
    assert finding.message.startswith("2 readings fit the identities; kept one, a person must choose.")
