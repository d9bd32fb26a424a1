"""Placing a row's printed numbers into the template's cells: the one mechanism the layout
families feed.

A row arrives as raw cells, text with its offsets in the document: explicit cells (Word, tabs,
Markdown, HTML), or numbers whose blank cells printed nothing and whose digits may run together
(web text, PDF streams). `readings` gives every plausible way to lay them over a row's columns,
each with a cost; where blanks vanished, runs of digits are cut (no count starts with 0) and only
placements under which each group of columns can balance are made. Which reading is right the
identities decide (`layout`). Also here: a table cell filled from a raw cell, and the parser's
findings (a doubt, a soft note, a section not read).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from extraction import template
from extraction.schema import BLANK, Cell, Finding, Table, Value
from extraction.tables.normalize import is_blank, kept, looks_like_value, parse_cell, unreadable, value_of
from extraction.template import Section

# Families read from number streams, where a short row is a row whose blanks printed nothing.
STREAMS = ("space_rows", "gapped_stream", "number_stream")
# Families whose cells are explicit: a cell that is not a number is still a cell.
DELIMITED = ("tab_rows", "cell_per_line", "markdown")


@dataclass
class RawCell:
    text: str
    start: int
    end: int

    @property
    def blank(self) -> bool:
        return is_blank(self.text)


Row = list[RawCell]
Reading = tuple[RawCell | None, ...]  # one entry per template column; None = a blank that collapsed


def split_row(row: Row) -> tuple[str, Row]:
    """A row's label (its text cells joined) and the value cells after the last label cell."""
    last_label = -1
    for i, cell in enumerate(row):
        if not is_value(cell.text):
            last_label = i
    label = "".join(c.text.strip() for c in row[: last_label + 1])
    return label, row[last_label + 1 :]


@lru_cache(maxsize=8192)
def is_value(text: str) -> bool:
    return any(looks_like_value(text, kind) for kind in ("count", "change", "money"))


# --- Candidate readings of a row -------------------------------------------------------------


def readings(values: Row, width: int, family: str, split: bool = False, group: int = 0) -> list[tuple[int, Reading]]:
    """Every plausible way to lay `values` over `width` columns, each with a cost.

    In ``tab_rows`` the converter loses empty fields on the left and adds a trailing one, so the
    right-aligned reading after dropping trailing empties costs nothing and every other placement
    costs one. In ``cell_per_line`` and ``markdown`` cells are explicit, so a short row has no
    preferred placement.

    Where blank cells vanished (`split`, or a short row in a stream), only placements under which
    each group of `group` columns (the whole row by default) can balance are made, when any can:
    those are the readings the identities would keep, found without trying every placement.
    """
    group = group or width
    found: dict[tuple[int | None, ...], tuple[int, Reading]] = {}

    def add(cost: int, reading: Reading) -> None:
        key = tuple(None if c is None or c.blank else id(c) for c in reading)
        if key not in found or found[key][0] > cost:
            found[key] = (cost, reading)

    cells = list(values)
    if split:
        # The splits leave blank cells out and cut new cells for every way: each reading is a
        # distinct tuple of cells, none to merge. Most splits cannot balance: they are judged
        # on their numbers before any cell is cut (a row of section 三 never makes them).
        out: list[tuple[int, Reading]] = [
            (extra, reading)
            for extra, _, parts in _balancing_splits(cells, width, group)
            for reading in _balanced_placements(parts(), width, group)
        ]
        if not out:  # nothing balances: every placement, for the identities to weigh
            for extra, _, parts in _splits(cells, width, _MAX_UNBALANCED_SPLITS):
                out += [(cost + extra, reading) for cost, reading in _placements(parts(), width, prefer_right=False)]
                if len(out) > _MAX_READINGS:
                    break  # the row's readings are cut short; the rows around it must settle it
        return sorted(out, key=lambda item: item[0])
    if family in STREAMS and 0 < len(cells) < width and not any(c.blank for c in cells):
        balanced = _balanced_placements(cells, width, group)
        if balanced:
            return [(0, reading) for reading in balanced]
    if family == "tab_rows":
        if len(cells) <= width:
            for cost, reading in _placements(cells, width, prefer_right=False):
                add(cost + 1, reading)  # the fields as they stand, trailing empties included
        while cells and cells[-1].blank:
            cells.pop()
    while len(cells) > width and cells[0].blank:
        cells.pop(0)
    while len(cells) > width and cells[-1].blank:
        cells.pop()
    if len(cells) > width:
        return []
    if family != "tab_rows" and not any(c.blank for c in cells):
        return _placements(cells, width, prefer_right=False)  # distinct already, all costing nothing
    for cost, reading in _placements(cells, width, prefer_right=family == "tab_rows"):
        add(cost, reading)
    return sorted(found.values(), key=lambda item: item[0])


# Splits are cheap to judge (only those that can balance are placed); placements are not.
_MAX_SPLITS = 50_000
_MAX_UNBALANCED_SPLITS = 2000
_MAX_READINGS = 3000


# A longer run of digits is not cut: its cuts grow as len**7 (a row of 20 digits already has
# 40,000); such a row stays as printed and fails its identities, for a person to read.
_MAX_RUN_DIGITS = 20


def uncut_run(cells: Row) -> RawCell | None:
    """A run of digits too long to be cut into cells (`_MAX_RUN_DIGITS`): such a row is read as
    printed, and a person must read it."""
    return next((c for c in cells if len(c.text) > _MAX_RUN_DIGITS and c.text.isdigit()), None)


Split = tuple[int, tuple[Value, ...], Callable[[], Row]]  # extra cuts, the numbers, their cells
Way = tuple[tuple[int, int], ...]  # a printed cell's numbers, as (start, end) offsets in its text
# A cell this short has few ways (at most 2,048): they are made once and kept for many texts.
_KEPT_WAYS = 12


def _splits(cells: Row, width: int, most: int = _MAX_SPLITS) -> list[Split]:
    """The ways a row of values may have run together: each run of digits read as one number,
    or as several (no part but "0" itself starts with 0), with at most `width` numbers in all.
    Each extra cut costs one, so a row that balances as printed is read as printed. A split's
    cells are only cut when asked for: most splits are thrown away on their numbers alone.

    Only the first `most` splits are made. Each cell's ways are made as they are taken, and only
    those that fit the columns left: a run of 20 digits over section 四's 15 columns has half a
    million ways, of which only the first 50,000 splits were ever looked at."""
    printed = [c for c in cells if not c.blank]
    out: list[tuple[int, tuple[Value, ...], tuple[Way, ...]]] = [(0, (), ())]
    for cell in printed:
        grown: list[tuple[int, tuple[Value, ...], tuple[Way, ...]]] = []
        for extra, amounts, picks in out:
            left = width - len(amounts)
            if len(cell.text) <= _KEPT_WAYS:
                options: Iterable[tuple[Way, tuple[Value, ...]]] = (
                    o for o in _ways(cell.text, width) if len(o[0]) <= left
                )
            else:
                options = _ways_within(cell.text, left)
            for way, way_amounts in options:
                grown.append((extra + len(way) - 1, amounts + way_amounts, (*picks, way)))
                if len(grown) >= most:
                    break
            if len(grown) >= most:
                break
        out = grown
    return [(extra, amounts, _cutter(printed, picks)) for extra, amounts, picks in out]


def _balancing_splits(cells: Row, width: int, group: int) -> list[Split]:
    """The splits whose numbers can balance in groups of `group` columns (`_can_balance`), in
    the order `_splits` gives them.

    A row that is one group (section 三) makes only those, without the others: going cell by
    cell, a branch stops once the numbers so far add to more than the last cell's final number
    can exceed its own other numbers by (counts are not negative), or leave too few columns for
    the cells after. Otherwise every split is made and judged on its numbers.
    """
    printed = [c for c in cells if not c.blank]
    if not printed:
        return [(0, (), _cutter(printed, ()))]
    # Each cell's first way: a cell with none fits no columns ("0000" in three); one that is not a
    # run of digits has only that way, and only such a cell prints a negative number.
    first = [next(iter(_ways_within(c.text, width)), None) for c in printed]
    if None in first:
        return []
    # A printed "-3" (a source error for identity 5) breaks the bound below.
    negative = any(amount is not None and amount < 0 for way in first if way for amount in way[1])
    if group != width or negative:
        return [split for split in _splits(cells, width) if _can_balance(split[1], width, group)]
    ways = [_ways(c.text, width) for c in printed]
    *before, last = ways
    room = max((a[-1] - sum(a[:-1]) for _, a in last if None not in a), default=-1)
    fewest = [0] * (len(ways) + 1)  # the fewest numbers the cells from here on can make
    for i in range(len(ways) - 1, -1, -1):
        fewest[i] = fewest[i + 1] + min(len(way) for way, _ in ways[i])
    out: list[Split] = []
    picks: list[Way] = []

    def walk(at: int, count: int, total: Value, amounts: tuple[Value, ...]) -> None:
        if len(out) >= _MAX_SPLITS:
            return
        if at == len(before):
            for way, ending in last:
                every = amounts + ending
                if count + len(way) <= width and None not in ending and _balances(every):
                    picks.append(way)
                    out.append((len(every) - len(printed), every, _cutter(printed, tuple(picks))))
                    picks.pop()
            return
        for way, some in before[at]:
            if None in some:
                continue  # a cell that is not a count balances nothing
            added = total + sum(some)
            if added <= room and count + len(way) + fewest[at + 1] <= width:
                picks.append(way)
                walk(at + 1, count + len(way), added, amounts + some)
                picks.pop()

    if room >= 0:
        walk(0, 0, 0, ())
    return out


def every_cell_splits(cells: Row, width: int, group: int) -> list[tuple[int, Reading]]:
    """The readings of a row that printed something in every one of its `width` cells: its
    digits cut into exactly `width` numbers, those whose groups balance (or, when none does,
    every such cut, for the identities to weigh). Empty when no cut gives `width` numbers."""
    every = [(extra, amounts, parts) for extra, amounts, parts in _splits(cells, width) if len(amounts) == width]
    balanced = [split for split in every if all(_balances(split[1][at : at + group]) for at in range(0, width, group))]
    return [(extra, tuple(parts())) for extra, _, parts in balanced or every]


def _cutter(printed: Row, picks: tuple[Way, ...]) -> Callable[[], Row]:
    """The cells of one split (each printed cell's way of holding numbers), cut only when asked for."""

    def parts() -> Row:
        row: Row = []
        for cell, way in zip(printed, picks, strict=True):
            if len(way) == 1:
                row.append(cell)
            else:
                row += [RawCell(cell.text[a:b], cell.start + a, cell.start + b) for a, b in way]
        return row

    return parts


def _ways(text: str, width: int) -> tuple[tuple[Way, tuple[Value, ...]], ...]:
    """The ways one printed cell may hold numbers, as (start, end) offsets with their values:
    as printed, then (a run of digits) cut into two or more. No printed count starts with 0:
    "0005" is cells run together, never one number.

    Kept for reuse: a short cell's few ways for thousands of texts, a long run's (some 20 MB for
    20 digits over section 三's seven columns) for the last few only, so that a report of many
    different long runs does not hold them all."""
    return _short_ways(text, width) if len(text) <= _KEPT_WAYS else _long_ways(text, width)


@lru_cache(maxsize=4096)
def _short_ways(text: str, width: int) -> tuple[tuple[Way, tuple[Value, ...]], ...]:
    return tuple(_ways_within(text, width))


@lru_cache(maxsize=4)
def _long_ways(text: str, width: int) -> tuple[tuple[Way, tuple[Value, ...]], ...]:
    return tuple(_ways_within(text, width))


def _ways_within(text: str, most: int) -> Iterator[tuple[Way, tuple[Value, ...]]]:
    """`_ways` with at most `most` numbers, in the same order, made one at a time."""
    digits = 1 < len(text) <= _MAX_RUN_DIGITS and text.isdigit()
    if most < 1:
        return
    if not (digits and text[0] in "0０"):
        yield ((0, len(text)),), (value_of(text),)
    if not digits:
        return

    def cuts(start: int, left: int) -> Iterator[Way]:
        if start == len(text):
            yield ()
            return
        if left == 0:
            return
        ends = [start + 1] if text[start] in "0０" else range(start + 1, len(text) + 1)
        for end in ends:
            for rest in cuts(end, left - 1):
                yield ((start, end), *rest)

    for way in cuts(0, most):
        if len(way) > 1:
            yield way, tuple(_number(text, a, b) for a, b in way)


@lru_cache(maxsize=65536)
def _number(text: str, a: int, b: int) -> Value:
    return value_of(text[a:b])


def _can_balance(amounts: tuple[Value, ...], width: int, group: int) -> bool:
    """Whether numbers in this order can be cut into groups of `group` columns that each
    balance (`_balances`): the test `_balanced_placements` makes, without placing anything."""
    if None in amounts:
        return False
    if group == width:  # one group: a row of section 三
        return len(amounts) <= width and _balances(amounts)
    reach = {0}
    for _ in range(width // group):
        reach = {
            end
            for start in reach
            for end in range(start, min(len(amounts), start + group) + 1)
            if _balances(amounts[start:end])
        }
    return len(amounts) in reach


def _balances(amounts: tuple[Value, ...] | list[Value]) -> bool:
    """A group's numbers can stand so that its 总计 is their sum: none printed, all zeros, or a
    last number (not 0) that is the sum of the others."""
    return not any(amounts) or (bool(amounts[-1]) and ends_in_its_total(amounts))


def ends_in_its_total(amounts: tuple[Value, ...] | list[Value]) -> bool:
    """A printed row's (or group's) last number is the sum of the ones before it: the one test
    of a total every reading of printed numbers is weighed by. A blank or unreadable cell fails it."""
    return None not in amounts and sum(amounts[:-1]) == amounts[-1]  # type: ignore[arg-type]


def _balanced_placements(cells: Row, width: int, group: int) -> list[Reading]:
    """The placements of a row's numbers (its blank cells printed nothing) under which every
    group's 总计, its last column, is the sum of its parts.

    The numbers are cut into consecutive groups (a group may have printed nothing). A group
    whose last number is the sum of the ones before it and not 0 has that number as its 总计 (a
    part there would leave a blank total over non-zero parts) and its other numbers in any of
    its part columns, in order. A group of zeros may stand anywhere in it: nothing says whether
    a lone 0 is a part or the total. Exactly the placements that pass the row's own identities.
    """
    values = [value_of(cell.text) for cell in cells]
    if any(value is None for value in values):
        return []
    groups = width // group

    def within(start: int, end: int) -> list[tuple[RawCell | None, ...]]:
        numbers, amounts = cells[start:end], values[start:end]
        if not numbers:
            return [(None,) * group]
        if not _balances(amounts):
            return []
        if any(amounts):  # the last number is the 总计 of the others
            parts = group - 1
            return [(*_spread(numbers[:-1], at, parts), numbers[-1]) for at in _positions(parts, len(numbers) - 1)]
        # Zeros are offered right-aligned first: a lone 0 kept as the group's 总计 unless the
        # identities say otherwise (still an ambiguity, but the likelier one is shown).
        return [_spread(numbers, at, group) for at in reversed(_positions(group, len(numbers)))]

    cuts: list[tuple[int, list[list[tuple[RawCell | None, ...]]]]] = []  # (groups left empty, options)

    def cut(start: int, placed: list[list[tuple[RawCell | None, ...]]], empty: int) -> None:
        left = groups - len(placed)  # groups still to fill, this one included
        if left == 0:
            cuts.append((empty, placed))
            return
        # The numbers after this group must fit in the groups after it; the last takes the rest.
        for end in range(max(start, len(cells) - group * (left - 1)), min(len(cells), start + group) + 1):
            options = within(start, end)
            if options:
                cut(end, [*placed, options], empty + (end == start))

    cut(0, [], 0)
    # Cuts leaving fewer groups empty first: a group prints at least its 总计, even a 0.
    cuts.sort(key=lambda item: item[0])
    return [tuple(c for chunk in combo for c in chunk) for _, placed in cuts for combo in itertools.product(*placed)]


@lru_cache(maxsize=256)
def _positions(width: int, count: int) -> tuple[tuple[int, ...], ...]:
    return tuple(itertools.combinations(range(width), count))


def _spread(cells: Row, at: tuple[int, ...], width: int) -> tuple[RawCell | None, ...]:
    """`cells` put at positions `at` of `width` slots, the rest blank."""
    slots: list[RawCell | None] = [None] * width
    for position, cell in zip(at, cells, strict=True):
        slots[position] = cell
    return tuple(slots)


def _placements(cells: Row, width: int, prefer_right: bool) -> list[tuple[int, Reading]]:
    if len(cells) == width:
        return [(0, tuple(cells))]
    out = []
    for positions in itertools.combinations(range(width), len(cells)):
        reading: list[RawCell | None] = [None] * width
        for position, cell in zip(positions, cells, strict=True):
            reading[position] = cell
        right_aligned = positions == tuple(range(width - len(cells), width))
        out.append((0 if right_aligned or not prefer_right else 1, tuple(reading)))
    return out


def fill(table: Table, findings: list[Finding] | None, row: str, column: template.Column, raw: RawCell | None) -> None:
    if raw is None:
        table.set(row, column.key, BLANK)
        return
    try:
        cell = kept(parse_cell(raw.text, column.kind, span=(raw.start, raw.end)))
    except ValueError:
        cell = Cell(raw=raw.text, span=(raw.start, raw.end))
        if findings is not None:
            findings.append(unreadable(table.section, "layout", row, column.key, column.label, column.kind, raw.text))
    table.set(row, column.key, cell)


def show(reading: Reading) -> str:
    return "|".join("" if c is None else c.text.strip() for c in reading)


def soft_note(section: Section, row: str, message: str) -> Finding:
    """Something a reviewer should know about a row, which does not stop acceptance."""
    return Finding(
        id=f"{section}.layout.{row}",
        severity="soft",
        status="uncertain",
        formula="every template row is printed with its label",
        message=message,
        cells=[(section, row, "*")],
    )


def not_read(section: Section, why: str) -> Finding:
    title = template.SECTION_TITLES[section]
    return Finding.blocking(f"{section}.layout.unread", f"section {title} is read", f"section {title} {why}")


def blocking_doubt(section: Section, row: str, message: str) -> Finding:
    if row == "*":  # a doubt about the whole table names every row of it
        rows = dict.fromkeys(r.key for v in ("2019", "2021") for r in template.spec(section, v).rows)  # type: ignore[arg-type]
        cells = [(section, key, "*") for key in rows]
    else:
        cells = [(section, row, "*")] if row not in ("unknown", "version") else []
    return Finding.blocking(f"{section}.layout.{row}", "every printed row is read exactly once", message, cells=cells)
