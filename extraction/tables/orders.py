"""The orders in which a PDF's text prints a table's numbers, and the reading under which they
balance: where the numbers of a run go when pdftotext did not print them row by row.

pdftotext may print a block of full rows column by column, section 四's three groups
interleaved, or (default order, blank cells printing nothing) a run of several short rows with
nothing to show where one ends. Each order is undone here the one way the template's totals
allow: a row's 总计, its last number, is the sum of the parts before it. What stays open is a
doubt, for a person. (`streams` finds the runs; `placement` then lays each row over its columns.)
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

from extraction import checks, template
from extraction.tables.normalize import parse_cell, value_of
from extraction.tables.placement import RawCell, ends_in_its_total
from extraction.template import Version

_COLUMNS = len(template.APPLICANT_COLUMNS)
_MAX_CUTS = 16


class Cut(NamedTuple):
    rows: list[list[RawCell]]
    doubt: str | None  # several cuts fit equally
    score: tuple[int, int]  # (broken sums, empty rows)


def cut_run(cells: list[RawCell], count: int) -> Cut | None:
    """A run's numbers cut into `count` rows, and a doubt when several cuts fit equally.

    Each row ends with its 总计, the sum of the numbers before it (blank cells print nothing,
    so the parts printed are the nonzero ones), or printed nothing at all. The cuts breaking
    the fewest sums win, then those leaving the fewest rows empty; rows all of whose cells
    were printed may have come column by column. None when the numbers cannot be `count`
    rows (more than seven to a row).
    """
    n = len(cells)
    values = [value_of(cell.text) for cell in cells]
    if count == 1 or n > _COLUMNS * count:
        return Cut([cells], None, (broken(values), 0) if cells else (0, 1)) if n <= _COLUMNS * count else None
    best, found = _fewest_broken(values, count)
    options = [[cells[a:b] for a, b in itertools.pairwise(ends)] for ends in found]
    if n == _COLUMNS * count:  # every cell printed: the rows may have come column by column
        best, options = _or_column_by_column(cells, count, best, options)
    # A run follows its own row's label; rows named after it that are left without numbers
    # are rows of blanks, as anywhere else in the stream, when the numbers can fill the rows
    # before them.
    front = [rows for rows in options if not any(rows[sum(map(bool, rows)) :])]
    options = front or options
    distinct = {tuple(tuple(cell.text for cell in row) for row in rows) for rows in options}
    if len(distinct) < 2:
        return Cut(options[0], None, best)
    doubt = f"{len(distinct)} ways to cut a run of {n} numbers into {count} rows fit equally; the first is kept"
    return Cut(options[0], doubt, best)


def _fewest_broken(values: list, count: int) -> tuple[tuple[int, int], list[list[int]]]:
    """The best (broken sums, empty rows) cutting `values` into `count` rows of at most seven
    numbers, and the cuts (row ends, from 0) reaching it, at most `_MAX_CUTS` of them."""
    n = len(values)
    # (broken sums, empty rows) of the row values[a:b], for every row of at most seven numbers
    scores = {
        (a, b): (0, 1) if a == b else (broken(values[a:b]), 0)
        for b in range(n + 1)
        for a in range(max(0, b - _COLUMNS), b + 1)
    }

    def plus(x: tuple[int, int], y: tuple[int, int]) -> tuple[int, int]:
        return x[0] + y[0], x[1] + y[1]

    # least[j][i]: the best score cutting the first i numbers into j rows
    worst = (n + 1, count + 1)
    least = [[worst] * (n + 1) for _ in range(count + 1)]
    least[0][0] = (0, 0)
    for j in range(1, count + 1):
        for i in range(n + 1):
            for a in range(max(0, i - _COLUMNS), i + 1):
                if least[j - 1][a] != worst:
                    least[j][i] = min(least[j][i], plus(least[j - 1][a], scores[(a, i)]))
    found: list[list[int]] = []

    def walk(j: int, i: int, ends: list[int]) -> None:
        if len(found) >= _MAX_CUTS:
            return
        if j == 0:
            found.append([0, *ends[::-1]])
            return
        for a in range(max(0, i - _COLUMNS), i + 1):
            if least[j - 1][a] != worst and plus(least[j - 1][a], scores[(a, i)]) == least[j][i]:
                walk(j - 1, a, [*ends, i])

    walk(count, n, [])
    return least[count][n], found


def _or_column_by_column(
    cells: list[RawCell], count: int, best: tuple[int, int], options: list[list[list[RawCell]]]
) -> tuple[tuple[int, int], list[list[list[RawCell]]]]:
    """`options` joined by the readings of full rows printed row by row for a head of them, then
    column by column, where those break no more sums."""
    block = [cells[i : i + _COLUMNS] for i in range(0, len(cells), _COLUMNS)]
    for head in range(count - 1):
        rows = block[:head] + transpose(block[head:])
        score = (sum(broken([value_of(cell.text) for cell in row]) for row in rows), 0)
        if score < best:
            best, options = score, [rows]
        elif score == best:
            options.append(rows)
    return best, options


def broken(row: list) -> int:
    """1 when a printed row's last number is not the sum of the ones before it."""
    return int(not ends_in_its_total(row))


_GROUP = len(template.OUTCOME_COLUMNS)
_GROUPS = len(template.REVIEW_LITIGATION.rows)
_MAX_NODES = 200_000
REVIEW_CELLS = _GROUP * _GROUPS


def review_order(cells: list[RawCell]) -> tuple[list[tuple[str, list[RawCell]]], list[str]]:
    """Section 四's fifteen numbers; when their printed order does not balance, the interleaving that does.

    pdftotext may print the three groups' cells interleaved (a group's parts, another group's,
    then the first group's total), each group still in its own order. Every interleaving whose
    groups all satisfy 总计 = the sum of the other four is found; one set of values is the answer,
    several are a doubt.
    """
    values = [_number(cell) for cell in cells]
    if len(cells) != REVIEW_CELLS or _balanced(values, list(range(len(cells)))):
        return [("", cells)], []
    found = _interleavings(values)
    distinct = {tuple(values[i] for i in order) for order in found}
    if len(distinct) == 1:
        return [("", [cells[i] for i in found[0]])], []
    if not distinct:
        return [("", cells)], []
    shown = "; ".join("/".join(map(str, option)) for option in sorted(distinct)[:3])
    doubt = (
        f"{len(distinct)} orders of the section 四 numbers balance ({shown}); the first is shown, a person must choose"
    )
    return [("", [cells[i] for i in found[0]])], [doubt]


def _interleavings(values: list[int]) -> list[list[int]]:
    """The orders of the numbers, each group's kept, under which every group balances."""
    found: list[list[int]] = []
    groups: list[list[int]] = [[] for _ in range(_GROUPS)]
    nodes = 0

    def place(index: int) -> None:
        nonlocal nodes
        nodes += 1
        if nodes > _MAX_NODES or len(found) > 64:
            return
        if index == len(values):
            found.append([i for group in groups for i in group])
            return
        for number, group in enumerate(groups):
            if len(group) == _GROUP:
                continue
            if not group and number and not groups[number - 1]:
                break  # groups start left to right: 复议, then 直接起诉, then 复议后起诉
            group.append(index)
            if len(group) < _GROUP or _balanced(values, group):
                place(index + 1)
            group.pop()

    place(0)
    return found


def _number(cell: RawCell) -> int:
    try:
        return int(parse_cell(cell.text).value or 0)
    except ValueError:
        return -1


def _balanced(values: list[int], order: list[int]) -> bool:
    """Every complete group of five in `order` has its total equal to the sum of its parts."""
    starts = range(0, len(order) - _GROUP + 1, _GROUP)
    return not any(broken([values[i] for i in order[start : start + _GROUP]]) for start in starts)


def transpose(block: list[list[RawCell]]) -> list[list[RawCell]]:
    """Cells printed column by column: the first len(block) cells are the first column, and so on."""
    cells = [cell for row in block for cell in row]
    height = len(block)
    return [cells[r::height] for r in range(height)]


def by_orientation(blocks: list[list[list[RawCell]]], version: Version) -> tuple[list[list[list[RawCell]]], list[str]]:
    """For each multi-row block of full rows, the row-major or column-major reading the identities prefer."""
    options: list[list[list[list[RawCell]]]] = []
    for block in blocks:
        full = len(block) > 1 and all(len(row) == 7 for row in block)
        choices = [block]
        if full:  # a head of rows printed row by row, then the rest column by column
            choices += [block[:head] + transpose(block[head:]) for head in range(len(block) - 1)]
        options.append(choices)
    total = 1
    for choices in options:
        total *= len(choices)
    if total == 1 or total > 4096:
        return blocks, ([] if total == 1 else [f"{total} ways to read the column order; row order kept"])
    scored = []
    for combo in itertools.product(*options):
        flat = [row for block in combo for row in block]
        values = table_values(flat, version)
        scored.append((checks.count_failures("applications", version, values), combo))
    fewest = min(score for score, _ in scored)
    best = [combo for score, combo in scored if score == fewest]
    distinct = {tuple(tuple(c.text for c in row) for block in combo for row in block) for combo in best}
    doubts = [] if len(distinct) == 1 else [f"{len(distinct)} orders of the printed numbers fit equally well"]
    return list(best[0]), doubts


def table_values(flat: list[list[RawCell]], version: Version) -> dict[tuple[str, str], int | None]:
    """Section 三's values when these rows fill its template rows in order, cell by cell."""
    spec = template.spec("applications", version)
    out: dict[tuple[str, str], int | None] = {}
    for row, cells in zip(spec.rows, flat, strict=False):
        for column, cell in zip(row.columns, cells, strict=False):
            out[(row.key, column.key)] = value_of(cell.text)  # type: ignore[assignment]
    return out
