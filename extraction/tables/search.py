"""Searching the readings of a table's rows for the combinations that satisfy the identities.

Where blank cells vanish from the text, each row of numbers has many readings (which columns
its numbers stand in) and the combinations of them across rows are far too many to try. Both
searches here give up on a branch as soon as an identity can no longer hold, and both stop
after `MAX_SOLUTIONS` survivors (the table is then ambiguous anyway) or `max_steps` steps;
what they found by then is returned, marked as not every one.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from extraction import checks
from extraction.schema import Table, Value

MAX_STEPS = 8_000
MAX_SOLUTIONS = 16

Key = tuple[str, str]


@dataclass(frozen=True)
class Found:
    """The combinations of row readings (one reading index per open row) under which no
    identity fails; `every_one` False when the search stopped counting (at MAX_SOLUTIONS, or
    cut short after finding some), so that readings beyond these may put numbers elsewhere."""

    picks: list[tuple[int, ...]]
    every_one: bool


def balanced(
    table: Table,
    fixed: dict[tuple[str, str], Value],
    open_rows: list[str],
    per_row: list[list[dict[tuple[str, str], Value]]],
    max_steps: int = MAX_STEPS,
) -> Found | None:
    """Every combination of row readings under which no identity fails, found row by row by a
    search that gives up on a branch as soon as an identity can no longer hold: each side ends
    between its sum so far and that plus the most the rows still open could add (counts are
    not negative), and the two ranges must meet.

    For tables where blank cells vanished from the text, so that most rows have many readings
    and trying every combination is out of reach. `per_row` holds the values of each open row's
    readings. None when the search was cut short before finding any.
    """
    if any(v is not None and v < 0 for v in _every_value(fixed, per_row)):
        return None  # the pruning below assumes counts are not negative
    equations = checks.equations(table.section, table.version)
    # Totals first: once a sum's total is read, its parts are bounded by it.
    totals = {eq.left[0][0] for eq in equations if eq.is_sum}
    order = sorted(range(len(open_rows)), key=lambda i: (open_rows[i] not in totals, len(per_row[i])))
    search = _RowSearch(equations, fixed, open_rows, per_row, order, max_steps)
    complete = search.walk(0)
    # Cut short, the balanced combinations found so far still stand (not counted to the end).
    return Found(search.solutions, complete) if complete or search.solutions else None


class _RowSearch:
    """The state of `balanced`'s search, row by row.

    Running sums of each identity's two sides over the rows read so far (a blank counts 0,
    which is also how a blank total fails), and how much the open rows not yet read could
    still add to each side at most. A row neither read nor open could add anything.
    """

    def __init__(
        self,
        equations: tuple[checks.Equation, ...],
        fixed: dict[Key, Value],
        open_rows: list[str],
        per_row: list[list[dict[Key, Value]]],
        order: list[int],
        max_steps: int,
    ) -> None:
        # The table rows each open reading fills: itself, or section 四's three groups for its one row "*".
        fills = [{r for r, _ in per_row[i][0]} if per_row[i] else {open_rows[i]} for i in range(len(open_rows))]
        self.left_sum = [sum(fixed.get(k) or 0 for k in eq.left) for eq in equations]
        self.right_sum = [sum(fixed.get(k) or 0 for k in eq.right) for eq in equations]
        unknown = {r for eq in equations for r in eq.rows} - {row for row, _ in fixed} - {r for f in fills for r in f}
        self.left_room = [math.inf if {r for r, _ in eq.left} & unknown else 0 for eq in equations]
        self.right_room = [math.inf if {r for r, _ in eq.right} & unknown else 0 for eq in equations]
        # Per open row: the identities it touches, per reading the non-zero amounts it adds to
        # either side, and the most any of its readings adds.
        self.touching = [[e for e, eq in enumerate(equations) if fills[i] & eq.rows] for i in range(len(open_rows))]
        self.adds = [_amounts(equations, touched, fills[i], per_row[i]) for i, touched in enumerate(self.touching)]
        self.most: list[list[tuple[int, int, int]]] = []
        for per_pick in self.adds:
            largest: dict[int, list[int]] = {}
            for amounts in per_pick:
                for e, left, right in amounts:
                    bound = largest.setdefault(e, [0, 0])
                    bound[0], bound[1] = max(bound[0], left), max(bound[1], right)
            self.most.append([(e, left, right) for e, (left, right) in largest.items()])
            for e, left, right in self.most[-1]:
                self.left_room[e] += left
                self.right_room[e] += right
        self.order = order
        self.max_steps = max_steps
        self.solutions: list[tuple[int, ...]] = []
        self.picks: list[int] = [0] * len(open_rows)
        self.steps = 0

    def walk(self, depth: int) -> bool:
        """Read the row at `depth` of the order each way that can still balance; False to stop."""
        if depth == len(self.order):
            self.solutions.append(tuple(self.picks))
            return len(self.solutions) < MAX_SOLUTIONS
        index = self.order[depth]
        left_sum, right_sum, left_room, right_room = self.left_sum, self.right_sum, self.left_room, self.right_room
        for e, left, right in self.most[index]:
            left_room[e] -= left
            right_room[e] -= right
        try:
            for pick, amounts in enumerate(self.adds[index]):
                self.steps += 1
                if self.steps > self.max_steps:
                    return False
                self.picks[index] = pick
                for e, left, right in amounts:
                    left_sum[e] += left
                    right_sum[e] += right
                # Each side ends somewhere between its sum so far and that plus its room: the
                # identity can only hold while the two ranges meet.
                holds = all(
                    left_sum[e] <= right_sum[e] + right_room[e] and right_sum[e] <= left_sum[e] + left_room[e]
                    for e in self.touching[index]
                )
                go_on = self.walk(depth + 1) if holds else True
                for e, left, right in amounts:
                    left_sum[e] -= left
                    right_sum[e] -= right
                if not go_on:
                    return False
        finally:
            for e, left, right in self.most[index]:
                left_room[e] += left
                right_room[e] += right
        return True


def _amounts(
    equations: tuple[checks.Equation, ...], touched: list[int], fills: set[str], readings: list[dict[Key, Value]]
) -> list[list[tuple[int, int, int]]]:
    """Per reading of an open row, the non-zero amounts (identity, left, right) it adds to the
    sides of the identities it touches."""
    per_pick = []
    for values in readings:
        amounts = []
        for e in touched:
            left = sum(values.get(k) or 0 for k in equations[e].left if k[0] in fills)
            right = sum(values.get(k) or 0 for k in equations[e].right if k[0] in fills)
            if left or right:
                amounts.append((e, left, right))
        per_pick.append(amounts)
    return per_pick


def _every_value(fixed: dict[Key, Value], per_row: list[list[dict[Key, Value]]]) -> Iterator[Value]:
    yield from fixed.values()
    for opts in per_row:
        for values in opts:
            yield from values.values()


def by_columns(
    table: Table,
    fixed: dict[Key, Value],
    open_rows: list[str],
    per_row: list[list[dict[Key, Value]]],
    columns: tuple[str, ...],
    max_steps: int = MAX_STEPS,
) -> Found | None:
    """Every combination of row readings under which no identity fails, found column by column.

    Section 三's identities between rows hold within each column (一 + 二 = 三 + 四 for every
    applicant column), so deciding one column at a time judges them at once: at each column
    every row either puts its next number there or not, and a column sum bounds the rest
    tightly, where deciding whole rows at a time (`balanced`) learns nothing until the last
    row of a sum is read. Identities across columns (a row's 总计) are judged at the end.
    Same result shape as `balanced`; None when the search was cut short before finding any.

    `columns` are in the template's order, 总计 last. The search takes 总计 first (a row's total
    stands in its last column in nearly every reading, so a table whose totals cannot balance
    is known at once), then the parts from the right: applicants other than natural persons are
    few, and sums over mostly empty columns close after a few choices, where the crowded 自然人
    column, taken first, branches on every row.
    """
    if any(v is not None and v < 0 for v in _every_value(fixed, per_row)):
        return None  # the bounds below assume counts are not negative
    columns = (columns[-1], *reversed(columns[:-1]))
    in_column, across = _by_column_and_across(table, fixed, open_rows, per_row, columns)
    # Per column: where each open row stands in its identities ((identity, side) pairs, side 0
    # the left), the sums the fixed rows give each side, and whether the row is some sum's total.
    layout = []
    for name in columns:
        eqs = in_column[name]
        sides = [
            [(e, s) for e, eq in enumerate(eqs) for s, keys in enumerate((eq.left, eq.right)) if (row, name) in keys]
            for row in open_rows
        ]
        base = [[sum(fixed.get(k) or 0 for k in keys) for keys in (eq.left, eq.right)] for eq in eqs]
        parts_only = [not any(s == 0 for _, s in touched) for touched in sides]
        layout.append((sides, base, parts_only))
    search = _ColumnSearch(fixed, open_rows, per_row, columns, across, layout, max_steps)
    complete = search.column(0)
    # Cut short, the balanced combinations found so far still stand (not counted to the end).
    return Found(search.solutions, complete) if complete or search.solutions else None


def _by_column_and_across(
    table: Table, fixed: dict[Key, Value], open_rows: list[str], per_row: list[list[dict[Key, Value]]], columns: tuple
) -> tuple[dict[str, list[checks.Equation]], list[checks.Equation]]:
    """The identities held within one column (only those reading known rows), by column, and
    those across columns that some combination of readings could fail."""
    known = {row for row, _ in fixed} | set(open_rows)
    in_column: dict[str, list[checks.Equation]] = {column: [] for column in columns}
    across: list[checks.Equation] = []
    for eq in checks.equations(table.section, table.version):
        cells = eq.left + eq.right
        judged = {r for r, _ in cells} <= known
        if len({c for _, c in cells}) == 1 and cells[0][1] in in_column:
            if judged:
                in_column[cells[0][1]].append(eq)
        else:
            across.append(eq)
    # A row's own 总计 usually holds in every reading left to it (the caller leaves a row only
    # readings passing it, when any do): such identities cannot fail at the end and are not
    # judged there.
    return in_column, [eq for eq in across if not _holds_in_every_reading(eq, fixed, open_rows, per_row)]


_Layout = list[tuple[list[list[tuple[int, int]]], list[list[int]], list[bool]]]


@dataclass(slots=True)
class _Column:
    """One column's place in `by_columns`' search: each identity's sums so far (left, right),
    the most the rows still open here could add to each side, and the rows to branch on."""

    at: int
    sides: list[list[tuple[int, int]]]
    sums: list[list[int]]
    room: list[list[int]]
    kept: list[_Alive]
    order: list[int]


class _ColumnSearch:
    """The state of `by_columns`' search: the readings alive in each row, and what it found."""

    def __init__(
        self,
        fixed: dict[Key, Value],
        open_rows: list[str],
        per_row: list[list[dict[Key, Value]]],
        columns: tuple[str, ...],
        across: list[checks.Equation],
        layout: _Layout,
        max_steps: int,
    ) -> None:
        self.fixed, self.open_rows, self.per_row, self.columns = fixed, open_rows, per_row, columns
        self.across, self.layout, self.max_steps = across, layout, max_steps
        self.alive = [_Alive(list(range(len(opts)))) for opts in per_row]
        self.solutions: list[tuple[int, ...]] = []
        self.counted = 0  # solutions up to where a 0 stands
        self.steps = 0

    def finish(self) -> bool:
        """The readings still alive in a row differ at most in where a 0 stands, which no sum
        sees: one combination of them is a solution, the next one that also passes (if any)
        shows that the 0s could stand elsewhere; only the first counts toward the limit.
        (A row's readings failing its own 总计 are left out by the caller, when any pass it.)"""
        shown = 0
        for picks in itertools.product(*(node.indexes for node in self.alive)):
            self.steps += 1
            if self.steps > self.max_steps:
                return False
            values = dict(self.fixed)
            for opts, pick in zip(self.per_row, picks, strict=True):
                values.update(opts[pick])
            if not any(checks.fails(eq, values) for eq in self.across):
                self.solutions.append(picks)
                shown += 1
                if shown == 2:
                    break
        self.counted += shown > 0
        return self.counted < MAX_SOLUTIONS

    def column(self, at: int) -> bool:
        """Decide column `at` for every open row, then the columns after it; False to stop."""
        if at == len(self.columns):
            return self.finish()
        sides, base, parts_only = self.layout[at]
        here = _Column(at, sides, [list(pair) for pair in base], [[0, 0] for _ in base], list(self.alive), [])
        # A row whose alive readings all put the same amount here adds it at once; the others
        # are branched on, totals first, then the largest numbers: sums close early.
        open_here: list[int] = []
        for i, node in enumerate(here.kept):
            ahead = node.split(self.per_row[i], (self.open_rows[i], self.columns[at]))
            if len(ahead) == 1:
                for e, s in sides[i]:
                    here.sums[e][s] += ahead[0][0]
                self.alive[i] = ahead[0][1]
            else:
                open_here.append(i)
                for e, s in sides[i]:
                    here.room[e][s] += node.largest
        here.order = sorted(open_here, key=lambda i: (parts_only[i], -here.kept[i].largest))
        sums, room = here.sums, here.room
        # Each side ends between its sum so far and that plus its room.
        meets = all(
            sums[e][0] <= sums[e][1] + room[e][1] and sums[e][1] <= sums[e][0] + room[e][0] for e in range(len(base))
        )
        try:
            return self.row(here, 0) if meets else True
        finally:
            self.alive[:] = here.kept

    def row(self, here: _Column, depth: int) -> bool:
        """Put the next number of the row at `depth` of the column's order here, or not."""
        if depth == len(here.order):
            return self.column(here.at + 1)
        i = here.order[depth]
        touched, sums, room = here.sides[i], here.sums, here.room
        largest = here.kept[i].largest
        for e, s in touched:
            room[e][s] -= largest
        try:
            for amount, node in here.kept[i].ahead:  # type: ignore[union-attr]
                self.steps += 1
                if self.steps > self.max_steps:
                    return False
                for e, s in touched:
                    sums[e][s] += amount
                self.alive[i] = node
                holds = True
                for e, _ in touched:  # the search's innermost loop
                    left, right = sums[e]
                    if left > right + room[e][1] or right > left + room[e][0]:
                        holds = False
                        break
                go_on = self.row(here, depth + 1) if holds else True
                for e, s in touched:
                    sums[e][s] -= amount
                if not go_on:
                    return False
        finally:
            for e, s in touched:
                room[e][s] += largest
        return True


def _holds_in_every_reading(
    equation: checks.Equation, fixed: dict[Key, Value], open_rows: list[str], per_row: list[list[dict[Key, Value]]]
) -> bool:
    """True when `equation` reads one open row only and holds in each of its readings."""
    rows = equation.rows
    touched = [i for i, row in enumerate(open_rows) if row in rows]
    if len(touched) != 1:
        return not touched and not checks.fails(equation, fixed)
    cells = equation.left + equation.right
    return not any(
        checks.fails(equation, {k: values[k] if k in values else fixed.get(k) for k in cells})
        for values in per_row[touched[0]]
    )


@dataclass(slots=True)
class _Alive:
    """A row's readings still alive at one column of the search, and, once asked, how they
    split over it: the branches of the search below, made once however often it comes back."""

    indexes: list[int]
    ahead: list[tuple[int, _Alive]] | None = None
    largest: int = 0

    def split(self, readings: list[dict[Key, Value]], cell: Key) -> list[tuple[int, _Alive]]:
        """The alive readings grouped by the amount they put in `cell`."""
        if self.ahead is None:
            groups: dict[int, list[int]] = {}
            for index in self.indexes:
                # A 0 and a blank add the same to every sum: one branch, not two.
                groups.setdefault(readings[index].get(cell) or 0, []).append(index)
            self.ahead = [(amount, _Alive(group)) for amount, group in groups.items()]
            self.largest = max(groups, default=0)
        return self.ahead


_WIDEST = 2**40  # a few hundred of these add up within 64 bits


def failures_of_every_combination(
    equations: list[checks.Equation], fixed: dict[Key, Value], per_row: list[list[dict[Key, Value]]]
) -> np.ndarray | None:
    """How many of `equations` fail under each combination of row readings, in the order of
    `itertools.product` over the rows' readings; None when a value is not a whole number or is
    too large for sums of them to stay within 64 bits.

    Used when no combination balances and the fewest failures must be found among them all:
    every identity is a difference of sums, so each reading adds a fixed vector of amounts
    and a combination fails where the total of its vectors is not zero (a blank counts 0).
    """
    if not per_row:
        return np.zeros(1, dtype=np.int64) + sum(checks.fails(eq, fixed) for eq in equations)
    owned = [set(opts[0]) if opts else set() for opts in per_row]
    if any(v is not None and (not isinstance(v, int) or abs(v) > _WIDEST) for v in _every_value(fixed, per_row)):
        return None  # sums of such numbers could pass 64 bits: the caller counts them one by one
    ones = set().union(*owned)
    base = np.array(
        [
            sum(fixed.get(k) or 0 for k in eq.left if k not in ones)
            - sum(fixed.get(k) or 0 for k in eq.right if k not in ones)
            for eq in equations
        ],
        dtype=np.int64,
    )
    totals = base[None, :]
    for opts, cells in zip(per_row, owned, strict=True):
        amounts = np.array(
            [
                [
                    sum(values.get(k) or 0 for k in eq.left if k in cells)
                    - sum(values.get(k) or 0 for k in eq.right if k in cells)
                    for eq in equations
                ]
                for values in opts
            ],
            dtype=np.int64,
        ).reshape(len(opts), len(equations))
        totals = (totals[:, None, :] + amounts[None, :, :]).reshape(-1, len(equations))
    return (totals != 0).sum(axis=1)
