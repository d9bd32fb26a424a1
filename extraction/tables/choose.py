"""Choosing one reading per row across a table: in go a table's rows, each with its candidate
readings (the printed numbers placed over the columns) ranked by the layout's usual habits; out
come the table filled with the kept readings and the findings saying what the text leaves open.

Every reading with the fewest failing identities survives whatever it costs; if the survivors
put a non-zero number in different cells the table is queued with an ambiguity finding that
lists them. Cost only chooses where a printed 0 goes, and that too is for a person to confirm.
"""

from __future__ import annotations

import itertools
from functools import lru_cache

from extraction import checks, template
from extraction.schema import Finding, Table, Value
from extraction.tables import search
from extraction.tables.normalize import value_of
from extraction.tables.placement import Reading, blocking_doubt, fill

_MAX_COMBINATIONS = 4096
_QUICK_ABOVE = 64

# A candidate (failures, cost, picks): the failing identities, the readings' summed cost, and
# the index of the reading taken in each open row.
Scored = tuple[int, int, tuple[int, ...]]
OpenValues = list[list[dict[tuple[str, str], Value]]]


def choose(
    table: Table,
    options: dict[str, list[tuple[int, Reading]]],
    columns: tuple[template.Column, ...],
    vanishing: bool = False,
) -> tuple[Table, list[Finding]]:
    """Keep, across rows, every reading with the fewest failing identities, whatever it costs.

    If the survivors put a non-zero number in different cells, the text does not say which is
    right: an ambiguity finding lists them and the table is queued. Cost (the layout's usual
    habits) only chooses where a printed 0 goes, which no identity can see; blank and 0 being
    different answers, that choice too is a blocking finding listing the alternatives.

    With `vanishing` (layouts where blank cells vanish), where a printed 0 goes is never settled
    by habit: differing survivors of any kind are an ambiguity. Such rows' readings either all
    pass the row's own identities or none does (`readings` places numbers only where they
    balance, when they can): they are not judged again.
    """
    if not vanishing:
        options = {row: _locally_consistent(table, row, opts, columns) for row, opts in options.items()}
    open_rows = [row for row, opts in options.items() if len(opts) > 1]
    choices = [options[row] for row in open_rows]
    total = 1
    for opts in choices:
        total *= len(opts)
    findings: list[Finding] = []
    fixed: dict[tuple[str, str], Value] = {}
    for row, opts in options.items():
        if len(opts) == 1:
            fixed.update(_values(_keys(row, columns), opts[0][1]))
    # Each open reading's values once; only identities touching an open row change between combos.
    open_values = [
        [_values(keys, reading) for _, reading in opts]
        for keys, opts in zip([_keys(row, columns) for row in open_rows], choices, strict=True)
    ]
    found = _balanced_search(table, fixed, open_rows, open_values, columns, total)
    balanced = found.picks if found else []
    if total > _MAX_COMBINATIONS and not balanced:
        choices = [opts[:1] for opts in choices]
        open_values = [per_row[:1] for per_row in open_values]
        why = "the search for a balanced one was cut short" if found is None else "none balances"
        findings.append(
            blocking_doubt(table.section, "*", f"too many possible readings ({total}); {why}; cheapest kept")
        )
    scored = _scored(table, fixed, choices, open_values, balanced, vanishing)
    survivors = _survivors(scored, fixed, open_values)
    first = {row: opts[0][1] for row, opts in options.items()}
    picks = survivors[0][2]
    chosen = {**first, **{row: opts[p][1] for row, opts, p in zip(open_rows, choices, picks, strict=True)}}
    result = _build(table, chosen, columns, findings=findings)
    findings.extend(_doubts(table, survivors, open_values, found, vanishing))
    return result, findings


def _balanced_search(
    table: Table,
    fixed: dict[tuple[str, str], Value],
    open_rows: list[str],
    open_values: OpenValues,
    columns: tuple[template.Column, ...],
    total: int,
) -> search.Found | None:
    """The balanced combinations, by the pruned search, when there are enough to need one."""
    # Most tables balance: the pruned search finds every balanced combination far faster than
    # trying them all. Only when none balances are all combinations weighed for the fewest failures.
    # (Bounded by the product's size: a search longer than trying every combination is no gain.)
    steps = search.MAX_STEPS if total > _MAX_COMBINATIONS else total // 2
    # One open row (section 四's single data row, most often) is weighed reading by reading:
    # no search can do with fewer, and every balanced reading is then counted, not the first 64.
    searched = total > _QUICK_ABOVE and (len(open_rows) > 1 or total > _MAX_COMBINATIONS)
    if searched and table.section == "applications":
        return search.by_columns(table, fixed, open_rows, open_values, tuple(c.key for c in columns), steps)
    if searched:
        return search.balanced(table, fixed, open_rows, open_values, steps)
    return None


def _scored(
    table: Table,
    fixed: dict[tuple[str, str], Value],
    choices: list[list[tuple[int, Reading]]],
    open_values: OpenValues,
    balanced: list[tuple[int, ...]],
    vanishing: bool,
) -> list[Scored]:
    """The combinations worth weighing, each with its failures and cost."""
    open_cells = {cell for per_row in open_values for cell in per_row[0]}  # a row's readings fill the same cells
    equations = checks.equations(table.section, table.version)
    moves = [bool(open_cells.intersection(eq.left + eq.right)) for eq in equations]
    moving = [eq for eq, moved in zip(equations, moves, strict=True) if moved]
    if vanishing:  # a row's readings all pass its own identities or none does: where its first
        moving = _unsettled(moving, open_values)  # does, those cannot tell readings apart
    constant = sum(checks.fails(eq, fixed) for eq, moved in zip(equations, moves, strict=True) if not moved)
    # Per combination only the cells the moving identities read, plus the open ones.
    base = {cell: fixed.get(cell) for eq in moving for cell in eq.left + eq.right}

    def weigh(picks: tuple[int, ...], failures: int | None = None) -> Scored:
        if failures is None:
            values = dict(base)
            for per_row, pick in zip(open_values, picks, strict=True):
                values.update(per_row[pick])
            failures = sum(checks.fails(eq, values) for eq in moving)
        cost = sum(opts[pick][0] for opts, pick in zip(choices, picks, strict=True))
        return constant + failures, cost, picks

    # (One open row has nothing to combine: its readings are weighed one by one below.)
    combining = not balanced and len(choices) > 1
    every = search.failures_of_every_combination(moving, fixed, open_values) if combining else None
    if every is not None:  # none balances: only the combinations failing least are worth building
        least = int(every.min())
        combos = itertools.product(*[range(len(opts)) for opts in choices])
        return [weigh(picks, least) for picks, failures in zip(combos, every, strict=True) if failures == least]
    # (where no identity an open row fills can fail, there is nothing to weigh)
    combos = balanced or itertools.product(*[range(len(opts)) for opts in choices])
    return [weigh(picks, None if moving else 0) for picks in combos]


def _survivors(scored: list[Scored], fixed: dict[tuple[str, str], Value], open_values: OpenValues) -> list[Scored]:
    """The combinations failing fewest identities, the one to keep first."""
    fewest = min(item[0] for item in scored)
    # Of readings equally good, the one kept for the reviewer leaves the fewest cells blank (a
    # row whose digits fill every cell one by one was most likely printed so, not run together
    # over cells that vanished), then is the cheapest, then leaves the most columns blank all the
    # way down: a column blank in most rows is seldom printed in just one. (Only the open rows'
    # cells differ between readings.)
    fixed_columns = {c for (_, c), v in fixed.items() if v is not None}

    def preference(item: Scored) -> tuple[int, int, int]:
        chosen = [per_row[pick] for per_row, pick in zip(open_values, item[2], strict=True)]
        blanks = sum([*values.values()].count(None) for values in chosen)
        printed = fixed_columns.union(*([c for (_, c), v in values.items() if v is not None] for values in chosen))
        return blanks, item[1], len(printed)

    return sorted((item for item in scored if item[0] == fewest), key=preference)


def _doubts(
    table: Table,
    survivors: list[Scored],
    open_values: OpenValues,
    found: search.Found | None,
    vanishing: bool,
) -> list[Finding]:
    """What the survivors leave open: numbers in different cells (blocking), or only where a 0 goes."""
    differing = _differences([[rows[p] for rows, p in zip(open_values, item[2], strict=True)] for item in survivors])
    numbers = [d for d in differing if any(v not in ("blank", "0") for v in d[1])]
    if found is not None and not found.every_one:
        # The search stopped counting: readings beyond those listed may put numbers elsewhere.
        numbers = numbers or differing or [(("*", "*"), ["more readings than were counted"])]
    elif vanishing and differing:
        # Where blank cells vanish, nothing printed says whether a 0 stands in a part or the total.
        numbers = numbers or differing
    if not (differing or numbers):
        return []
    listed = "; ".join(f"{row}.{col}: {' or '.join(vals)}" for (row, col), vals in (numbers or differing)[:6])
    cells = [(table.section, row, col) for (row, col), _ in (numbers or differing) if row != "*"]
    if found is not None and not found.every_one:
        # Uncounted readings may put numbers in any cell of a row still open: name them all.
        cells = [(table.section, row, col) for per_row in open_values for row, col in per_row[0]]
    formula = "exactly one reading of the printed cells satisfies the identities"
    if numbers:
        counted = f"{len(survivors)}" + (" or more" if found is not None and not found.every_one else "")
        message = f"{counted} readings fit the identities; kept one, a person must choose. Differs in {listed}"
        return [Finding.blocking(f"{table.section}.layout.ambiguous", formula, message, cells=cells)]
    # Blank and 0 are different answers (a blank cell is not a zero): a 0 the text does not place
    # is a guess between them, and a guess is never accepted. The kept reading is the layout's usual one.
    message = (
        f"where a printed 0 belongs is not fixed by the text (blank and 0 differ); the layout's usual "
        f"placement was kept, a person must confirm. Differs in {listed}"
    )
    return [Finding.blocking(f"{table.section}.layout.zero_placement", formula, message, cells=cells)]


def _unsettled(
    equations: list[checks.Equation], open_values: list[list[dict[tuple[str, str], Value]]]
) -> list[checks.Equation]:
    """`equations` less each open row's own identities (reading its cells only) when its first
    reading passes every one of them: with readings that all pass them or none does, they then
    hold in every reading."""
    settled: set[int] = set()
    for per_row in open_values:
        cells = per_row[0].keys()
        own = [i for i, eq in enumerate(equations) if i not in settled and cells >= {*eq.left, *eq.right}]
        if not any(checks.fails(equations[i], per_row[0]) for i in own):
            settled.update(own)
    return [eq for i, eq in enumerate(equations) if i not in settled]


def _locally_consistent(
    table: Table, row: str, opts: list[tuple[int, Reading]], columns: tuple[template.Column, ...]
) -> list[tuple[int, Reading]]:
    """A row's readings that pass the identities within the row itself, if any do.

    Safe pruning: a table whose best reading fails nothing must pass these too, and a table
    that fails something is queued whatever reading is kept.
    """
    if len(opts) < 2:
        return opts
    keys = _keys(row, columns)
    position = {key: i for i, (key, _) in enumerate(keys)}
    local = [eq for eq in checks.equations(table.section, table.version) if set(eq.left + eq.right) <= set(position)]
    if not local:
        return opts
    # Readings share most of their cells: an identity is judged once per distinct set of its cells.
    judged: list[tuple[checks.Equation, list[int], dict[tuple, bool]]] = [
        (eq, [position[k] for k in eq.left + eq.right], {}) for eq in local
    ]

    def fails(reading: Reading) -> bool:
        for eq, places, memo in judged:
            key = tuple(None if reading[i] is None else reading[i].text for i in places)
            if key not in memo:
                values = {
                    keys[i][0]: None if text is None else value_of(text, keys[i][1])
                    for i, text in zip(places, key, strict=True)
                }
                memo[key] = checks.fails(eq, values)
            if memo[key]:
                return True
        return False

    passing = [option for option in opts if not fails(option[1])]
    return passing or opts


@lru_cache(maxsize=64)
def _targets(row: str, columns: tuple[template.Column, ...]) -> tuple[tuple[str, template.Column], ...]:
    """Where each position of a reading goes; section 四's single data row spans three groups."""
    if row != "*":
        return tuple((row, column) for column in columns)
    return tuple((group, template.Column(key, c.label)) for c in columns for group, key in [c.key.split(".")])


def _values(keys: tuple[tuple[tuple[str, str], str], ...], reading: Reading) -> dict[tuple[str, str], Value]:
    """A reading's values by cell; `keys` from `_keys` (looked up once per row, not per reading)."""
    return {
        key: None if raw is None else value_of(raw.text, kind) for (key, kind), raw in zip(keys, reading, strict=True)
    }


@lru_cache(maxsize=64)
def _keys(row: str, columns: tuple[template.Column, ...]) -> tuple[tuple[tuple[str, str], str], ...]:
    """The table cell and value kind of each position of a reading."""
    return tuple(((target, column.key), column.kind) for target, column in _targets(row, columns))


def _build(
    table: Table, chosen: dict[str, Reading], columns: tuple[template.Column, ...], findings: list[Finding] | None
) -> Table:
    # Cells are replaced, never mutated, so fresh row dicts are copy enough.
    out = table.model_copy(update={"cells": {row: dict(cols) for row, cols in table.cells.items()}})
    for row, reading in chosen.items():
        for (target, column), raw in zip(_targets(row, columns), reading, strict=True):
            fill(out, findings, target, column, raw)
    return out


def _differences(
    readings: list[list[dict[tuple[str, str], Value]]],
) -> list[tuple[tuple[str, str], list[str]]]:
    """Cells whose value differs between readings (each the values of its open rows, in order),
    each with the values seen."""
    if len(readings) < 2:
        return []
    out = []
    for row, first in enumerate(readings[0]):
        picked = [reading[row] for reading in readings]
        if all(values is first for values in picked):
            continue  # every reading took this row the same way
        for key in first:
            seen: list[str] = []
            for values in picked:
                value = values[key]
                shown = "blank" if value is None else str(value)
                if shown not in seen:
                    seen.append(shown)
            if len(seen) > 1:
                out.append((key, seen))
    return sorted(out)
