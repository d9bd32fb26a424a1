"""Where the numbers of `pdftotext -layout` text stand on their line: the columns they are in.

A -layout line keeps a row's numbers right-aligned under their column, so where a short row's
numbers end says which columns its blanks were. The columns are seen only as the edges the
table's one-line rows show; when some column is blank in every row nothing printed says which
it is, and the identities weigh every assignment of the edges to columns (a doubt when several
fit). The rows then reach `placement` with their blanks as empty cells, like any explicit row;
section 四's one line reaches it as it stands, and its placements are ranked by how evenly they
space the columns (`evenly_spaced_first`).
"""

from __future__ import annotations

import itertools

from extraction import checks, template
from extraction.tables.normalize import value_of
from extraction.tables.orders import table_values
from extraction.tables.placement import RawCell, Reading
from extraction.template import Version

Values = dict[tuple[str, str], int | None]


def _right_edge(cell: RawCell, text: str) -> int:
    """How far from the start of its line a cell ends: its column, in `pdftotext -layout` text."""
    return cell.end - (text.rfind("\n", 0, cell.start) + 1)


def _one_line(row: list[RawCell], text: str) -> bool:
    return bool(row) and "\n" not in text[row[0].start : row[-1].end]


def _edges(blocks: list[list[list[RawCell]]], text: str) -> list[float] | None:
    """The column right edges the table shows, from where the numbers of one-line rows end.

    Edges cluster (numbers are right-aligned in their column). Only `-layout` text has rows
    of several numbers on one line; without two such rows, or with more than seven clusters
    (columns drifting between pages), positions say nothing and None is returned.
    """
    one_line = [row for block in blocks for row in block if _one_line(row, text)]
    if sum(len(row) > 1 for row in one_line) < 2:
        return None
    ends = sorted(_right_edge(cell, text) for row in one_line for cell in row)
    clusters: list[list[int]] = [[ends[0]]]
    for end in ends[1:]:
        if end - clusters[-1][-1] <= 2:
            clusters[-1].append(end)
        else:
            clusters.append([end])
    if len(clusters) > 7:
        return None
    return [sum(c) / len(c) for c in clusters]


def _nearest_edges(row: list[RawCell], text: str, edges: list[float]) -> list[int] | None:
    """For a short one-line row, the edge each number sits on; None when one sits clearly on
    none, or two share one (the row's place is then for the identities to weigh)."""
    gap = min((b - a for a, b in itertools.pairwise(edges)), default=6) / 2
    out: list[int] = []
    for cell in row:
        distances = [abs(_right_edge(cell, text) - edge) for edge in edges]
        nearest = distances.index(min(distances))
        if distances[nearest] >= gap or nearest in out:
            return None
        out.append(nearest)
    return out


def _aligned(row: list[RawCell], on: list[int] | None, columns: tuple[int, ...]) -> list[RawCell]:
    """A short row spread over its columns (`columns` says which column each edge is); the
    blanks between become empty cells. A row not placed by position (`on` None) stays as it is."""
    if on is None:
        return row
    slots: list[RawCell | None] = [None] * 7
    for cell, edge in zip(row, on, strict=True):
        slots[columns[edge]] = cell
    return [cell if cell is not None else RawCell("", row[0].start, row[0].start) for cell in slots]


def by_position(
    blocks: list[list[list[RawCell]]], text: str, version: Version
) -> tuple[list[list[list[RawCell]]], list[str]]:
    """Short rows placed by where their numbers stand, when positions explain every one of them.

    With seven edges each is its column. With fewer, some column is blank in every row and
    nothing printed says which: every assignment of the edges to columns is weighed by the
    identities, and since moving a whole blank column never breaks one, several usually fit.
    They are a doubt; the one kept is the assignment closest to evenly spaced columns.
    """
    edges = _edges(blocks, text)
    if edges is None:
        return blocks, []
    on: list[list[list[int] | None]] = []
    for block in blocks:
        on.append([])
        for row in block:
            short = len(row) < 7 and _one_line(row, text)
            nearest = _nearest_edges(row, text, edges) if short else None
            if short and nearest is None:
                return blocks, []  # some short row's numbers do not sit on the edges: read row by row
            on[-1].append(nearest)
    best, placed_rows = _best_assignments(blocks, on, edges, version)
    kept = best[0][2]
    placed = [
        [_aligned(row, at, kept) for row, at in zip(block, ats, strict=True)]
        for block, ats in zip(blocks, on, strict=True)
    ]
    distinct = {
        tuple(sorted((k, v) for k, v in item[3].items() if v is not None and k[0] in placed_rows)) for item in best
    }
    if len(distinct) < 2:
        return placed, []
    return placed, [
        f"{len(edges)} of 7 columns show a number anywhere in the table and {len(distinct)} ways to place them "
        "fit the identities: a column blank in every row leaves no trace; the evenly spaced placement is kept"
    ]


def _best_assignments(
    blocks: list[list[list[RawCell]]], on: list[list[list[int] | None]], edges: list[float], version: Version
) -> tuple[list[tuple[int, tuple[float, float], tuple[int, ...], Values]], set[str]]:
    """The assignments of edges to columns failing the fewest identities, most evenly spaced
    first, each as (failures, unevenness, columns, values); and the rows placed by position."""
    # Rows placed by position move with the assignment; every other cell stays where it is.
    # Each number is read once: per assignment only the moving cells are set again.
    spec = template.spec("applications", version)
    flat_rows = [row for block in blocks for row in block]
    flat_on = [at for ats in on for at in ats]
    steady = table_values([[] if at is not None else row for row, at in zip(flat_rows, flat_on, strict=True)], version)
    moving = [
        (row_spec, [(edge, value_of(cell.text)) for cell, edge in zip(row, at, strict=True)])
        for row_spec, row, at in zip(spec.rows, flat_rows, flat_on, strict=False)
        if at is not None
    ]
    # Only identities reading a row placed by position can change between assignments.
    placed_rows = {row_spec.key for row_spec, _ in moving}
    equations = [eq for eq in checks.equations("applications", version) if eq.rows & placed_rows]
    scored = []
    for columns in itertools.combinations(range(7), len(edges)):
        values = dict(steady)
        for row_spec, numbers in moving:
            for edge, value in numbers:
                values[(row_spec.key, row_spec.columns[columns[edge]].key)] = value
        failures = sum(checks.fails(eq, values) for eq in equations)
        scored.append((failures, unevenness(edges, columns), columns, values))
    fewest = min(item[0] for item in scored)
    return sorted((item for item in scored if item[0] == fewest), key=lambda item: item[1]), placed_rows


def unevenness(edges: list[float], columns: tuple[int, ...]) -> tuple[float, float]:
    """How far edges assigned to these columns are from a straight line (columns are drawn
    evenly), then how wide that makes a column (of two even fits, 48/64/96 as columns 1, 3, 7
    or 4, 5, 7, the narrower one does not push the first column into the labels)."""
    if len(edges) < 2:
        return 0.0, 0.0
    n = len(edges)
    mean_c, mean_e = sum(columns) / n, sum(edges) / n
    spread = sum((c - mean_c) ** 2 for c in columns)
    slope = sum((c - mean_c) * (e - mean_e) for c, e in zip(columns, edges, strict=True)) / spread
    residual = sum((e - mean_e - slope * (c - mean_c)) ** 2 for c, e in zip(columns, edges, strict=True))
    return round(residual, 6), slope


def evenly_spaced_first(options: list[tuple[int, Reading]]) -> list[tuple[int, Reading]]:
    """Placements of a `-layout` line's numbers ranked by how evenly their positions space the
    columns they are put in. Only an order of preference for the reading kept when several
    balance (which stays a blocking ambiguity): a PDF's columns are drawn evenly, but pdftotext
    does not print them exactly so."""

    def spacing(reading: Reading) -> tuple[float, float]:
        placed = [(i, cell) for i, cell in enumerate(reading) if cell is not None]
        return unevenness([float(cell.end) for _, cell in placed], tuple(i for i, _ in placed))

    ranked = sorted(options, key=lambda option: spacing(option[1]))
    return [(rank, reading) for rank, (_, reading) in enumerate(ranked)]
