"""Reading tables that PDF text extraction turned into a stream of labels and numbers.

`pdftotext` in its default order prints every cell on a line of its own, often with a row's
label far from its numbers; `pdftotext -layout` keeps a row on one line but wraps long labels
and lets page footers ("-3-") fall between rows. In both, the numbers of section 三 come in
template order, seven per row, while labels drift (a row's label may come after every number).
So runs of numbers fill the rows in template order; only a label printed on the same line as
its numbers (-layout) moves the reading forward, past rows printed blank. Blocks printed column
by column, short rows placed by column position and section 四's interleaved groups are all
tried, and the identities check the result like any other reading. Where blank cells printed
nothing (default order, fewer numbers than cells), each run is read as the rows its labels
name, cut into rows by their totals (`_labelled`, `_cut`): a "gapped" stream.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import NamedTuple

from extraction import checks, template
from extraction.tables.normalize import parse_cell, value_of
from extraction.template import Section, Version

# A whitespace-delimited value: 12, 1,234, 3773631元, 849.39万元, 增1, -3. "1.属于" and "-3-" are not.
_VALUE = re.compile(r"(?<!\S)(?:增|减|[+-])?\d[\d,]*(?:\.\d+)?(?:万元|元)?(?!\S)")
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")

Cell = tuple[str, int, int]  # text, start, end in the document


@dataclass
class Run:
    labels: list[str]  # the label lines since the previous run, nearest last
    cells: list[Cell] = field(default_factory=list)
    inline_label: str = ""  # label text on the same line as the first number: -layout's strong evidence


def runs(text: str, start: int, end: int) -> list[Run]:
    """Numbers grouped into runs, each with the label lines printed before it.

    Label lines after the last number come as a final run without cells: pdftotext often
    prints the last rows' labels after every number of the table.
    """
    out: list[Run] = []
    labels: list[str] = []
    current: Run | None = None
    offset = start
    for line in text[start:end].splitlines(keepends=True):
        content = line.rstrip("\r\n").translate(_FULLWIDTH_DIGITS)
        position = 0
        for match in _VALUE.finditer(content):
            label = content[position : match.start()].strip()
            if label:
                labels.append(label)
                current = None
            if current is None:
                current = Run(labels, inline_label=label)
                out.append(current)
                labels = []
            current.cells.append((line[match.start() : match.end()], offset + match.start(), offset + match.end()))
            position = match.end()
        rest = content[position:].strip()
        if rest:
            labels.append(rest)
            current = None
        offset += len(line)
    if labels:
        out.append(Run(labels))
    return out


def count_values(text: str, start: int, end: int) -> int:
    return sum(len(run.cells) for run in runs(text, start, end))


def rows(text: str, start: int, end: int, section: Section) -> tuple[list[tuple[str, list[Cell]]], list[str], bool]:
    """Labelled rows (label, cells) for the section's reader, cut from the stream, any doubts,
    and whether blank cells vanished so that each labelled run was read as one (short) row.

    Rows are filled in template order: in these streams the numbers keep it while labels drift
    (a row's label may come after all the numbers). A run covering several rows may be printed
    row by row or column by column (pdftotext emits a block of cells per column); every such
    reading is tried and the identities choose, an unresolved tie being a doubt.
    """
    found = runs(text, start, end)
    if section == "review_litigation":
        cells = [cell for run in found for cell in run.cells]
        # One number per line and fewer than fifteen: default order, where blanks vanished.
        gapped = len(cells) < _GROUP * _GROUPS and all("\n" in text[a[2] : b[1]] for a, b in itertools.pairwise(cells))
        return (*_review(cells), gapped)
    every_label = "".join(label for run in found for label in run.labels)
    if section == "applications":
        split = ("逾期不补正", "缴纳费用", "收费通知")
        version: Version = "2021" if any(w in template.compact(every_label) for w in split) else "2019"
    else:
        version = template.proactive_version(every_label) or "2019"
    spec = template.spec(section, version)
    widths = [len(row.columns) for row in spec.rows]
    keys = [row.key for row in spec.rows]
    match = template.match_proactive_row if section == "proactive" else template.match_application_row
    blocks: list[list[list[Cell]]] = []  # per run: its cells cut into rows, in template order
    leftover: list[Cell] = []
    indexes: list[int] = []  # the template row of each row in `blocks`, in order
    blank_rows: list[int] = []
    following = 0

    def skip_to(label: str) -> bool:
        """Move to the row a label names, if it lies ahead: the rows skipped over printed no
        number at all, rows of blanks rather than missing rows."""
        nonlocal following
        named = match(label)
        if named not in keys or keys.index(named) < following:
            return False
        blank_rows.extend(range(following, keys.index(named)))
        following = keys.index(named)
        return True

    side_by_side = any("\n" not in text[a[2] : b[1]] for run in found for a, b in itertools.pairwise(run.cells))
    for run in found:
        if not run.cells and side_by_side:
            # -layout prints a label beside its numbers: a row named after the last number
            # printed none, like the rows before it that were skipped over.
            for line in run.labels:
                if skip_to(line):
                    blank_rows.append(following)
                    following += 1
            continue
        if run.inline_label:
            skip_to(run.inline_label)
        cells, block = list(run.cells), []
        while cells and following < len(widths):
            indexes.append(following)
            block.append(cells[: widths[following]])
            cells = cells[widths[following] :]
            following += 1
        if block:
            blocks.append(block)
        leftover += cells
    doubts: list[str] = []
    if section == "applications" and not side_by_side and sum(len(run.cells) for run in found) < sum(widths):
        # Default order, one number per line, and fewer numbers than cells: blanks vanished.
        labelled = _labelled(found)
        if labelled is not None:
            return [(every_label, []), *labelled[0]], labelled[1], True
    if section == "applications":
        blocks, doubts = _by_position(blocks, text, version)
        blocks, more = _orientations(blocks, version)
        doubts += more
    out: list[tuple[str, list[Cell]]] = [(every_label, [])]  # every label first: the version words
    flat = [row for block in blocks for row in block]
    placed = dict(zip(indexes, flat, strict=True))
    at = text.find("\n", start)  # a blank row has no span of its own; its cells point at the section
    for i in blank_rows:
        placed[i] = [("", at, at)] * widths[i]
    out += [(spec.rows[i].label, placed[i]) for i in sorted(placed)]
    if leftover:
        out.append(("unread numbers", leftover))
    return out, doubts, False


def _labelled(found: list[Run]) -> tuple[list[tuple[str, list[Cell]]], list[str]] | None:
    """Each run of numbers as the rows its labels name, when every run has one; any doubts.

    A PDF prints nothing for a blank cell, so fewer numbers than cells means some rows are
    short and filling rows seven by seven would shift every number after the first blank.
    A run follows the label of its first row (wrapped labels joined, nearest lines first).
    Rows named after it and before the next run's own label either printed no number (a row
    of blanks) or had their numbers printed in this run: pdftotext prints some blocks of rows
    numbers first, labels after. Such a run is cut into its rows by each row's total, the sum
    of the parts before it (`_cut`). The label just before a run may instead end a block printed
    numbers first (two such blocks back to back): where the totals fit better, that row goes
    to the run before. A run without a label and the reading falls back to filling rows in order.
    """
    groups: list[tuple[list[tuple[str, str]], list[Cell]]] = []  # the rows a run may cover, its cells
    previous: str | None = None

    def named_after(lines: list[str]) -> None:
        nonlocal previous
        for line in lines:
            row = template.match_application_row(line, previous)
            if row is None or row == previous:
                continue
            if groups:
                groups[-1][0].append((line, row))
            else:
                groups.append(([(line, row)], []))
            previous = row

    for run in found:
        labels = _unwrapped(run.labels)
        if not run.cells:
            named_after(labels)
            continue
        name, back = None, 0
        for back in range(1, min(len(labels), 3) + 1):
            # Read after the lines before it: "3.其他" names a row only after "2.逾期未缴纳费用".
            name = template.match_application_row("".join(labels[-back:]), _named_last(labels[:-back], previous))
            if name is not None:
                break
        if name is None:
            return None
        named_after(labels[:-back])
        groups.append(([("".join(labels[-back:]), name)], list(run.cells)))
        previous = name
    # The label just before a run names the run's first row, unless that row ended a block
    # printed numbers first, its numbers closing the run before: then the run starts at the row
    # after it. Each such choice is weighed by the totals (fewest broken sums, then fewest
    # rows left empty) along the whole stream; the labels' own reading is kept on a tie.
    paths: dict[bool, tuple[tuple[int, int, int], list[tuple[list[tuple[str, str]], Cut]]]] = {False: ((0, 0, 0), [])}
    for k, (named, cells) in enumerate(groups):
        ahead: dict[bool, tuple[tuple[int, int, int], list[tuple[list[tuple[str, str]], Cut]]]] = {}
        for lost, (score, chosen) in paths.items():
            for takes in (False, True) if k + 1 < len(groups) else (False,):
                rows = named[int(lost) :] + (groups[k + 1][0][:1] if takes else [])
                cut = _cut(cells, len(rows)) if rows else None
                if cut is None:
                    continue
                total = (score[0] + cut.score[0], score[1] + cut.score[1], score[2] + takes)
                if takes not in ahead or total < ahead[takes][0]:
                    ahead[takes] = (total, [*chosen, (rows, cut)])
        if not ahead:
            return None
        paths = ahead
    out: list[tuple[str, list[Cell]]] = []
    doubts: list[str] = []
    for rows, cut in paths[False][1]:
        out += [(label, row) for (label, _), row in zip(rows, cut.rows, strict=True)]
        doubts += [cut.doubt] if cut.doubt else []
    return out, doubts


def _named_last(lines: list[str], previous: str | None) -> str | None:
    """The row the last of these label lines names, each read after the one before (or `previous`)."""
    for line in lines:
        row = template.match_application_row(line, previous)
        previous = row if row is not None else previous
    return previous


def _unwrapped(lines: list[str]) -> list[str]:
    """Label lines with a wrapped label's later lines joined to its first (they carry no numbering)."""
    out: list[str] = []
    for line in lines:
        if out and not template.starts_numbered(line):
            out[-1] += line
        else:
            out.append(line)
    return out


_COLUMNS = len(template.APPLICANT_COLUMNS)
_MAX_CUTS = 16


class Cut(NamedTuple):
    rows: list[list[Cell]]
    doubt: str | None  # several cuts fit equally
    score: tuple[int, int]  # (broken sums, empty rows)


def _cut(cells: list[Cell], count: int) -> Cut | None:
    """A run's numbers cut into `count` rows, and a doubt when several cuts fit equally.

    Each row ends with its 总计, the sum of the numbers before it (blank cells print nothing,
    so the parts printed are the nonzero ones), or printed nothing at all. The cuts breaking
    the fewest sums win, then those leaving the fewest rows empty; rows all of whose cells
    were printed may have come column by column. None when the numbers cannot be `count`
    rows (more than seven to a row).
    """
    n = len(cells)
    values = [value_of(cell[0]) for cell in cells]
    if count == 1 or n > _COLUMNS * count:
        return Cut([cells], None, (_broken(values), 0) if cells else (0, 1)) if n <= _COLUMNS * count else None

    # (broken sums, empty rows) of the row cells[a:b], for every row of at most seven numbers
    scores = {
        (a, b): (0, 1) if a == b else (_broken(values[a:b]), 0)
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
    best = least[count][n]
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
    options = [[cells[a:b] for a, b in itertools.pairwise(ends)] for ends in found]
    if n == _COLUMNS * count:  # every cell printed: the rows may have come column by column
        block = [cells[i : i + _COLUMNS] for i in range(0, n, _COLUMNS)]
        for head in range(count - 1):
            rows = block[:head] + _transpose(block[head:])
            broken = (sum(_broken([value_of(cell[0]) for cell in row]) for row in rows), 0)
            if broken < best:
                best, options = broken, [rows]
            elif broken == best:
                options.append(rows)
    # A run follows its own row's label; rows named after it that are left without numbers
    # are rows of blanks, as anywhere else in the stream, when the numbers can fill the rows
    # before them.
    front = [rows for rows in options if not any(rows[sum(map(bool, rows)) :])]
    options = front or options
    distinct = {tuple(tuple(cell[0] for cell in row) for row in rows) for rows in options}
    if len(distinct) < 2:
        return Cut(options[0], None, best)
    doubt = f"{len(distinct)} ways to cut a run of {n} numbers into {count} rows fit equally; the first is kept"
    return Cut(options[0], doubt, best)


def _broken(row: list) -> int:
    """1 when a printed row's last number is not the sum of the ones before it."""
    if any(value is None for value in row):
        return 1
    return int(sum(row[:-1]) != row[-1])


_GROUP = len(template.OUTCOME_COLUMNS)
_GROUPS = len(template.REVIEW_LITIGATION.rows)
_MAX_NODES = 200_000


def _review(cells: list[Cell]) -> tuple[list[tuple[str, list[Cell]]], list[str]]:
    """Section 四's fifteen numbers; when their printed order does not balance, the interleaving that does.

    pdftotext may print the three groups' cells interleaved (a group's parts, another group's,
    then the first group's total), each group still in its own order. Every interleaving whose
    groups all satisfy 总计 = the sum of the other four is found; one set of values is the answer,
    several are a doubt.
    """
    values = [_number(cell) for cell in cells]
    if len(cells) != _GROUP * _GROUPS or _balanced(values, list(range(len(cells)))):
        return [("", cells)], []
    found: list[list[int]] = []
    groups: list[list[int]] = [[] for _ in range(_GROUPS)]
    nodes = 0

    def place(index: int) -> None:
        nonlocal nodes
        nodes += 1
        if nodes > _MAX_NODES or len(found) > 64:
            return
        if index == len(cells):
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


def _number(cell: Cell) -> int:
    try:
        return int(parse_cell(cell[0]).value or 0)
    except ValueError:
        return -1


def _balanced(values: list[int], order: list[int]) -> bool:
    """Every complete group of five in `order` has its total equal to the sum of its parts."""
    starts = range(0, len(order) - _GROUP + 1, _GROUP)
    return not any(_broken([values[i] for i in order[start : start + _GROUP]]) for start in starts)


def _right_edge(cell: Cell, text: str) -> int:
    """How far from the start of its line a cell ends: its column, in `pdftotext -layout` text."""
    return cell[2] - (text.rfind("\n", 0, cell[1]) + 1)


def _one_line(row: list[Cell], text: str) -> bool:
    return bool(row) and "\n" not in text[row[0][1] : row[-1][2]]


def _edges(blocks: list[list[list[Cell]]], text: str) -> list[float] | None:
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


def _nearest_edges(row: list[Cell], text: str, edges: list[float]) -> list[int] | None:
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


def _aligned(row: list[Cell], on: list[int] | None, columns: tuple[int, ...]) -> list[Cell]:
    """A short row spread over its columns (`columns` says which column each edge is); the
    blanks between become empty cells. A row not placed by position (`on` None) stays as it is."""
    if on is None:
        return row
    slots: list[Cell | None] = [None] * 7
    for cell, edge in zip(row, on, strict=True):
        slots[columns[edge]] = cell
    return [cell if cell is not None else ("", row[0][1], row[0][1]) for cell in slots]


def _by_position(
    blocks: list[list[list[Cell]]], text: str, version: Version
) -> tuple[list[list[list[Cell]]], list[str]]:
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
    # Rows placed by position move with the assignment; every other cell stays where it is.
    # Each number is read once: per assignment only the moving cells are set again.
    spec = template.spec("applications", version)
    flat_rows = [row for block in blocks for row in block]
    flat_on = [at for ats in on for at in ats]
    steady = _values([[] if at is not None else row for row, at in zip(flat_rows, flat_on, strict=True)], version)
    moving = [
        (row_spec, [(edge, value_of(cell[0])) for cell, edge in zip(row, at, strict=True)])
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
    best = sorted((item for item in scored if item[0] == fewest), key=lambda item: item[1])
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


def _transpose(block: list[list[Cell]]) -> list[list[Cell]]:
    """Cells printed column by column: the first len(block) cells are the first column, and so on."""
    cells = [cell for row in block for cell in row]
    height = len(block)
    return [cells[r::height] for r in range(height)]


def _orientations(blocks: list[list[list[Cell]]], version: Version) -> tuple[list[list[list[Cell]]], list[str]]:
    """For each multi-row block of full rows, the row-major or column-major reading the identities prefer."""
    options: list[list[list[list[Cell]]]] = []
    for block in blocks:
        full = len(block) > 1 and all(len(row) == 7 for row in block)
        choices = [block]
        if full:  # a head of rows printed row by row, then the rest column by column
            choices += [block[:head] + _transpose(block[head:]) for head in range(len(block) - 1)]
        options.append(choices)
    total = 1
    for choices in options:
        total *= len(choices)
    if total == 1 or total > 4096:
        return blocks, ([] if total == 1 else [f"{total} ways to read the column order; row order kept"])
    scored = []
    for combo in itertools.product(*options):
        flat = [row for block in combo for row in block]
        values = _values(flat, version)
        scored.append((checks.count_failures("applications", version, values), combo))
    fewest = min(score for score, _ in scored)
    best = [combo for score, combo in scored if score == fewest]
    distinct = {tuple(tuple(c[0] for c in row) for block in combo for row in block) for combo in best}
    doubts = [] if len(distinct) == 1 else [f"{len(distinct)} orders of the printed numbers fit equally well"]
    return list(best[0]), doubts


def _values(flat: list[list[Cell]], version: Version) -> dict[tuple[str, str], int | None]:
    spec = template.spec("applications", version)
    out: dict[tuple[str, str], int | None] = {}
    for row, cells in zip(spec.rows, flat, strict=False):
        for column, cell in zip(row.columns, cells, strict=False):
            out[(row.key, column.key)] = value_of(cell[0])  # type: ignore[assignment]
    return out
