"""The deterministic, template-aware layout parser: free, instant, and honest about doubt.

It reads the tables the way the text carries them. Layout families (`detect_family`):

- ``cell_per_line`` (Word saved as text): every cell starts a line with a tab, a line without
  a tab continues the cell above (vertical headers, wrapped labels), an empty line ends a row.
- ``tab_rows`` (one row per line, cells split by tabs): converters drop or add empty fields,
  so a row may have too few or too many cells and the numbers shift.
- ``markdown`` (tables from PDF/OCR converters); HTML tables arrive as ``cell_per_line``
  (`html.to_text` keeps them cell by cell).
- ``space_rows`` (web text: single spaces, blanks gone, digits sometimes run together).
- ``number_stream`` / ``gapped_stream`` (pdftotext, default order or -layout; `streams`).

Where the text alone does not say which column a number belongs to (a short row), every
order-preserving placement is a candidate reading; the identities of TEMPLATE.md pick the one
that balances (`search` when the combinations are many), and when several readings remain
equally good the parser keeps the most plausible one and records an ambiguity finding that
lists the others: never a silent guess.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from functools import lru_cache

from extraction import checks, template
from extraction.schema import CellKind, Extraction, Finding, Report, Table, Value
from extraction.tables import anchored, proactive, search, sections, streams
from extraction.tables.normalize import value_of
from extraction.tables.placement import (
    DELIMITED,
    STREAMS,
    RawCell,
    Reading,
    Row,
    blocking_doubt,
    every_cell_splits,
    fill,
    not_read,
    readings,
    soft_note,
    split_row,
    uncut_run,
)
from extraction.template import Section, Version

EXTRACTOR = "layout"
# Families where a blank cell prints nothing at all: where a 0 stands is never settled by habit.
_VANISHING = ("space_rows", "gapped_stream")
_MAX_COMBINATIONS = 4096
_QUICK_ABOVE = 64
_HEADER_WORDS = ("自然人", "商业企业", "申请人情况", "勾稽关系", "法人或其他组织")


# --- Tokenising ------------------------------------------------------------------------------


def _lines(text: str, start: int, end: int) -> list[tuple[int, str]]:
    out = []
    offset = start
    for line in text[start:end].splitlines(keepends=True):
        out.append((offset, line.rstrip("\r\n")))
        offset += len(line)
    return out


def detect_family(text: str, span: sections.Span) -> str | None:
    lines = [content for _, content in _lines(text, span.start, span.end)]
    if sum(1 for c in lines if c.lstrip().startswith("|") and c.count("|") >= 3) >= 3:
        return "markdown"
    inner_tabs = sum(1 for c in lines if "\t" in c.lstrip("\t") and c.strip())
    leading_tabs = sum(1 for c in lines if c.startswith("\t"))
    if inner_tabs >= 3:
        return "tab_rows"
    if leading_tabs >= 3:
        return "cell_per_line"
    # (A row is a short line: on a whole page body in one line the row pattern backtracks for ever.)
    if (
        any(anchored.names_rows(c) >= 3 for c in lines)
        or sum(1 for c in lines if len(c) < 400 and _SPACE_ROW.match(c)) >= 3
    ):
        return "space_rows"
    if streams.count_values(text, span.start, span.end) >= 3:
        return "number_stream"  # pdftotext, default order or -layout
    return None


def tokenize(text: str, span: sections.Span, family: str) -> list[Row]:
    rows: list[Row] = []
    row: Row = []
    for offset, content in _lines(text, span.start, span.end):
        if family == "tab_rows":
            if content.strip():
                rows.append(_split_tabs(content, offset))
            continue
        if family == "markdown":
            if content.lstrip().startswith("|") and not _MARKDOWN_RULE.match(content):
                rows.append(_split_pipes(content, offset))
            elif len(content) < 400 and _SPACE_ROW.match(content) and _names_a_row(content):
                # A converter leaves the small tables it did not recognise as plain lines: "行政许可 0".
                rows.append(
                    [RawCell(m.group(), offset + m.start(), offset + m.end()) for m in _TOKEN.finditer(content)]
                )
            continue
        if not content.strip() and not content.startswith("\t"):
            if row:
                rows.append(row)
            row = []
        elif content.startswith("\t"):
            row.extend(_split_tabs(content, offset)[1:])
        elif row:
            # A line without a tab continues the cell above it: "商\n业\n企\n业", "本年新\n制作数量".
            last = row[-1]
            row[-1] = RawCell(last.text + content, last.start, offset + len(content))
    if row:
        rows.append(row)
    return rows


def _stream_rows(text: str, span: sections.Span, section: Section) -> tuple[list[Row], list[str], bool]:
    """Rows cut from a PDF text stream, as label cell + value cells like the other families,
    the stream's doubts, and whether its blanks vanished (see `streams.rows`)."""
    cut, doubts, gapped = streams.rows(text, span.start, span.end, section)
    return _as_rows(cut, span), doubts, gapped


def _as_rows(cut: list[tuple[str, list[tuple[str, int, int]]]], span: sections.Span) -> list[Row]:
    out = []
    for label, cells in cut:
        at = cells[0][1] if cells else span.start
        head = [RawCell(label, at, at)] if label else []
        out.append(head + [RawCell(t, a, b) for t, a, b in cells])
    return out


# A web page's text as a browser copies it: a label, then values split by single spaces (or by
# nothing at all); pdftotext -layout pads with runs of spaces instead.
# A value never ends in "." or ",": "（四）无法提供 1." is a label wrapped after its item number.
_SPACE_ROW = re.compile(r"^\S*[^\s\d０-９.,]\S*(?: \S+)*? (?:[-+增减]?[\d０-９]+(?:[.,][\d０-９]+)*(?:万?元)? ?)+$")

_TOKEN = re.compile(r"\S+")


def _names_a_row(line: str) -> bool:
    label = split_row([RawCell(t, 0, 0) for t in line.split()])[0]
    return bool(template.match_proactive_row(label) or template.match_application_row(label))


# The line under a Markdown table's header: | --- | :---: | ---: |
_MARKDOWN_RULE = re.compile(r"^\s*\|(\s*:?-{2,}:?\s*\|)+\s*$")


def _split_pipes(content: str, offset: int) -> Row:
    """A Markdown table row: its cells between the pipes, an empty one kept as a blank."""
    cells = []
    inner = content.rstrip()
    first = inner.index("|")
    position = offset + first + 1
    parts = inner[first + 1 :].split("|")
    if parts and not parts[-1].strip():
        parts.pop()  # the closing pipe
    for part in parts:
        cells.append(RawCell(part.strip(), position + len(part) - len(part.lstrip()), position + len(part.rstrip())))
        position += len(part) + 1
    return cells


def _split_tabs(content: str, offset: int) -> Row:
    cells = []
    position = offset
    for part in content.split("\t"):
        cells.append(RawCell(part, position, position + len(part)))
        position += len(part) + 1
    return cells


# --- Sections --------------------------------------------------------------------------------


def parse(text: str) -> Extraction:
    """Read the three tables of a report's text."""
    agency, year = sections.title_info(text)
    spans = sections.locate(text)
    crawled = any(anchored.names_rows(line) >= 3 for line in text.splitlines())
    report = Report()
    findings: list[Finding] = []
    layouts: dict[str, str] = {}
    for section in template.SECTIONS:
        span = spans.get(section)
        if span is None:
            findings.append(not_read(section, "not found in the text"))
            continue
        family = detect_family(text, span)
        if (
            family in (None, "number_stream")
            and (crawled or "space_rows" in layouts.values())
            and "   " not in text[span.start : span.end]
        ):
            # A short section (四 has one data row, 二 may have two) shows too little to tell its
            # layout alone: a page body run into one line, or web text around it, says it.
            family = "space_rows"
        if family is None:
            findings.append(not_read(section, "found, but in a layout the parser does not read yet"))
            continue
        layouts[section] = family
        if family == "number_stream":
            rows, doubts, gapped = _stream_rows(text, span, section)
            if gapped:
                family = layouts[section] = "gapped_stream"
            findings += [blocking_doubt(section, "*", doubt) for doubt in doubts]
        elif family == "space_rows":  # web text: rows by their labels, whatever the line breaks
            rows = _as_rows(anchored.rows(text, span.start, span.end, section), span)
        else:
            rows = tokenize(text, span, family)
        if section == "proactive":
            table, doubts = proactive.read(rows, family, _outside(text, spans.values()), text[span.start : span.end])
        elif section == "applications":
            table, doubts = _applications(rows, family)
        else:
            table, doubts = _review(rows, family, _prints_every_cell(report.applications))
        findings.extend(doubts)
        setattr(report, section, table)
    return Extraction(
        report=report.align_versions(),
        extractor=EXTRACTOR,
        agency=agency,
        year=year,
        findings=findings,
        layouts=layouts,
    )


def _applications(rows: list[Row], family: str) -> tuple[Table | None, list[Finding]]:
    found: dict[str, Row] = {}
    findings: list[Finding] = []
    previous: str | None = None
    printed: list[tuple[str | None, str, Row]] = []  # every row in print order, named or not
    for row in rows:
        label, values = split_row(row)
        if any(word in template.compact(label) for word in _HEADER_WORDS):
            continue
        key = template.match_application_row(label, previous)
        # In a gapped stream or web text a row named with no number after it is a row of blanks.
        if key is None or (not values and family not in _VANISHING):
            if values and any(not c.blank for c in values):
                printed.append((None, label, values))
            continue
        if key in found:
            findings.append(blocking_doubt("applications", key, f"row {label!r} printed twice; the first is kept"))
            continue
        found[key] = values
        printed.append((key, label, values))
        previous = key
    if not found:
        return None, [not_read("applications", "has no recognisable rows")]
    split_other = {"other_overdue_correction", "other_unpaid_fee", "other_misc"} & set(found)
    version: Version = "2021" if split_other else "2019"
    if split_other and "other_handling" in found:
        findings.append(blocking_doubt("applications", "other_handling", "both the single and the split （六） rows"))
    spec = template.spec("applications", version)
    findings += _placed_by_order(printed, found, spec, family)
    width = len(template.APPLICANT_COLUMNS)
    options: dict[str, list[tuple[int, Reading]]] = {}
    for row_spec in spec.rows:
        values = found.get(row_spec.key)
        if values is None:
            findings.append(blocking_doubt("applications", row_spec.key, f"row {row_spec.label} not found"))
            continue
        options[row_spec.key] = readings(values, width, family, split=family == "space_rows") or []
        uncut = uncut_run(values) if family == "space_rows" else None
        if uncut is not None:
            message = f"{row_spec.label}: {len(uncut.text)} digits run together ({uncut.text[:12]}…), too many to cut"
            findings.append(blocking_doubt("applications", row_spec.key, message))
        if not options[row_spec.key]:
            findings.append(blocking_doubt("applications", row_spec.key, f"{row_spec.label}: more values than columns"))
            del options[row_spec.key]
    table, doubts = _choose(
        Table.empty("applications", version), options, template.APPLICANT_COLUMNS, vanishing=family in _VANISHING
    )
    return table, findings + doubts


def _placed_by_order(
    printed: list[tuple[str | None, str, Row]], found: dict[str, Row], spec: template.TableSpec, family: str
) -> list[Finding]:
    """Rows printed without a label of their own (a converter moved the label out of the table,
    or kept a fragment of it) take the template rows missing between the named rows around
    them, in order, when they are exactly as many; `found` gains them. Any other unnamed row is
    a doubt. A single row so placed, every cell of it printed, only tells the reviewer; several,
    or one with blank cells, are for a person to confirm (the identities cannot see two handling
    rows swapped, nor where a converter's padding stands among blanks)."""
    findings: list[Finding] = []
    order = [r.key for r in spec.rows]
    i = 0
    while i < len(printed):
        if printed[i][0] is not None:
            i += 1
            continue
        j = i
        while j < len(printed) and printed[j][0] is None:
            j += 1
        before = next((order.index(k) for k, _, _ in reversed(printed[:i]) if k in order), -1)
        after = next((order.index(k) for k, _, _ in printed[j:] if k in order), len(order))
        missing = [key for key in order[before + 1 : after] if key not in found]
        unnamed = printed[i:j]
        if family in DELIMITED and missing and len(missing) == len(unnamed):
            for key, (_, label, values) in zip(missing, unnamed, strict=True):
                found[key] = values
                message = (
                    f"row printed without its label ({label or 'none'!r}) taken as {spec.row(key).label} by its place"
                )
                # Certain only for one row whose every cell printed: blanks in a row without its label
                # cannot be told from a converter's padding.
                printed_all = sum(1 for c in values if not c.blank) == len(template.APPLICANT_COLUMNS)
                if len(missing) == 1 and printed_all:
                    findings.append(soft_note("applications", key, message))
                else:
                    findings.append(blocking_doubt("applications", key, message))
        else:
            for _, label, _ in unnamed:
                findings.append(
                    blocking_doubt("applications", "unknown", f"row {label or '(no label)'!r} not recognised")
                )
        i = j
    return findings


def _outside(text: str, spans: Iterable[sections.Span]) -> str:
    """The report's prose: its text with the tables' sections cut out."""
    out, at = [], 0
    for span in sorted(spans, key=lambda s: s.start):
        out.append(text[at : span.start])
        at = max(at, span.end)
    return "\n".join([*out, text[at:]])


def _prints_every_cell(table: Table | None) -> bool:
    """Whether a table read from web text printed something in every cell (0 where nothing
    happened): then the same page prints every cell of section 四 too, and a reading of its
    digits that leaves cells blank is not one the page can have."""
    return table is not None and all(
        cell.kind != CellKind.blank for row in table.cells.values() for cell in row.values()
    )


def _review(rows: list[Row], family: str, every_cell_printed: bool = False) -> tuple[Table | None, list[Finding]]:
    # Where blank cells vanish (web text, PDF streams) a data row may show only a few numbers.
    least = 1 if family in STREAMS else 5
    if family == "space_rows":
        # Web text: the data row is the first run of values after the column headers.
        data = [values for label, values in map(split_row, rows) if values and _OUTCOME_HEADER.search(label)][:1]
    else:
        data = [values for label, values in map(split_row, rows) if not label and len(values) >= least]
    if not data:
        return None, [not_read("review_litigation", "has no data row")]
    width = len(template.REVIEW_LITIGATION.rows) * len(template.OUTCOME_COLUMNS)
    group = len(template.OUTCOME_COLUMNS)
    full = every_cell_splits(data[-1], width, group) if family == "space_rows" and every_cell_printed else []
    options = full or readings(data[-1], width, family, split=family == "space_rows", group=group)
    if not options:
        return None, [not_read("review_litigation", f"data row has more than {width} cells")]
    columns = tuple(
        template.Column(f"{g.key}.{c.key}", c.label) for g in template.REVIEW_LITIGATION.rows for c in g.columns
    )
    table = Table.empty("review_litigation", "2019")
    vanished = family in _VANISHING or (family == "number_stream" and len(data[-1]) < width)
    if vanished and family == "number_stream":  # -layout: where the numbers stand on their line
        options = _evenly_spaced_first(options)  # (_choose keeps those passing their own identities, in this order)
    return _choose(table, {"*": options}, columns, vanishing=vanished)


_OUTCOME_HEADER = re.compile(r"审\s*结|总\s*计|维\s*持")


def _evenly_spaced_first(options: list[tuple[int, Reading]]) -> list[tuple[int, Reading]]:
    """Placements of a `-layout` line's numbers ranked by how evenly their positions space the
    columns they are put in. Only an order of preference for the reading kept when several
    balance (which stays a blocking ambiguity): a PDF's columns are drawn evenly, but pdftotext
    does not print them exactly so."""

    def unevenness(reading: Reading) -> tuple[float, float]:
        placed = [(i, cell) for i, cell in enumerate(reading) if cell is not None]
        return streams.unevenness([float(cell.end) for _, cell in placed], tuple(i for i, _ in placed))

    ranked = sorted(options, key=lambda option: unevenness(option[1]))
    return [(rank, reading) for rank, (_, reading) in enumerate(ranked)]


def _choose(
    table: Table,
    options: dict[str, list[tuple[int, Reading]]],
    columns: tuple[template.Column, ...],
    vanishing: bool = False,
) -> tuple[Table, list[Finding]]:
    """Keep, across rows, every reading with the fewest failing identities, whatever it costs.

    If the survivors put a non-zero number in different cells, the text does not say which is
    right: an ambiguity finding lists them and the table is queued. Cost (the layout's usual
    habits) only chooses where a printed 0 goes, which no identity can see, and even then the
    alternatives are recorded as a soft finding.

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
    # Most tables balance: the pruned search finds every balanced combination far faster than
    # trying them all. Only when none balances are all combinations weighed for the fewest failures.
    # (Bounded by the product's size: a search longer than trying every combination is no gain.)
    steps = search.MAX_STEPS if total > _MAX_COMBINATIONS else total // 2
    # Each open reading's values once; only identities touching an open row change between combos.
    open_values = [
        [_values(keys, reading) for _, reading in opts]
        for keys, opts in zip([_keys(row, columns) for row in open_rows], choices, strict=True)
    ]
    found = None
    # One open row (section 四's single data row, most often) is weighed reading by reading:
    # no search can do with fewer, and every balanced reading is then counted, not the first 64.
    searched = total > _QUICK_ABOVE and (len(open_rows) > 1 or total > _MAX_COMBINATIONS)
    if searched and table.section == "applications":
        found = search.by_columns(table, fixed, open_rows, open_values, tuple(c.key for c in columns), steps)
    elif searched:
        found = search.balanced(table, fixed, open_rows, open_values, steps)
    balanced = found.picks if found else []
    if total > _MAX_COMBINATIONS and not balanced:
        choices = [opts[:1] for opts in choices]
        open_values = [per_row[:1] for per_row in open_values]
        why = "the search for a balanced one was cut short" if found is None else "none balances"
        findings.append(
            blocking_doubt(table.section, "*", f"too many possible readings ({total}); {why}; cheapest kept")
        )

    open_cells = {cell for per_row in open_values for cell in per_row[0]}  # a row's readings fill the same cells
    equations = checks.equations(table.section, table.version)
    moves = [bool(open_cells.intersection(eq.left + eq.right)) for eq in equations]
    moving = [eq for eq, moved in zip(equations, moves, strict=True) if moved]
    if vanishing:  # a row's readings all pass its own identities or none does: where its first
        moving = _unsettled(moving, open_values)  # does, those cannot tell readings apart
    constant = sum(checks.fails(eq, fixed) for eq, moved in zip(equations, moves, strict=True) if not moved)
    # Per combination only the cells the moving identities read, plus the open ones.
    base = {cell: fixed.get(cell) for eq in moving for cell in eq.left + eq.right}

    def weigh(picks: tuple[int, ...], failures: int | None = None) -> tuple[int, int, tuple[int, ...]]:
        if failures is None:
            values = dict(base)
            for per_row, pick in zip(open_values, picks, strict=True):
                values.update(per_row[pick])
            failures = sum(checks.fails(eq, values) for eq in moving)
        cost = sum(opts[pick][0] for opts, pick in zip(choices, picks, strict=True))
        return constant + failures, cost, picks

    # (One open row has nothing to combine: its readings are weighed one by one below.)
    combining = not balanced and len(open_rows) > 1
    every = search.failures_of_every_combination(moving, fixed, open_values) if combining else None
    if every is not None:  # none balances: only the combinations failing least are worth building
        least = int(every.min())
        combos = itertools.product(*[range(len(opts)) for opts in choices])
        scored = [weigh(picks, least) for picks, failures in zip(combos, every, strict=True) if failures == least]
    else:  # (where no identity an open row fills can fail, there is nothing to weigh)
        combos = balanced or itertools.product(*[range(len(opts)) for opts in choices])
        scored = [weigh(picks, None if moving else 0) for picks in combos]
    fewest = min(item[0] for item in scored)
    # Of readings equally good, the one kept for the reviewer leaves the fewest cells blank (a
    # row whose digits fill every cell one by one was most likely printed so, not run together
    # over cells that vanished), then is the cheapest, then leaves the most columns blank all the
    # way down: a column blank in most rows is seldom printed in just one. (Only the open rows'
    # cells differ between readings.)
    fixed_columns = {c for (_, c), v in fixed.items() if v is not None}

    def preference(item: tuple[int, int, tuple[int, ...]]) -> tuple[int, int, int]:
        chosen = [per_row[pick] for per_row, pick in zip(open_values, item[2], strict=True)]
        blanks = sum([*values.values()].count(None) for values in chosen)
        printed = fixed_columns.union(*([c for (_, c), v in values.items() if v is not None] for values in chosen))
        return blanks, item[1], len(printed)

    survivors = sorted((item for item in scored if item[0] == fewest), key=preference)
    first = {row: opts[0][1] for row, opts in options.items()}
    picks = survivors[0][2]
    chosen = {**first, **{row: opts[p][1] for row, opts, p in zip(open_rows, choices, picks, strict=True)}}
    result = _build(table, chosen, columns, findings=findings)
    differing = _differences([[rows[p] for rows, p in zip(open_values, item[2], strict=True)] for item in survivors])
    numbers = [d for d in differing if any(v not in ("blank", "0") for v in d[1])]
    if found is not None and not found.every_one:
        # The search stopped counting: readings beyond those listed may put numbers elsewhere.
        numbers = numbers or differing or [(("*", "*"), ["more readings than were counted"])]
    elif vanishing and differing:
        # Where blank cells vanish, nothing printed says whether a 0 stands in a part or the total.
        numbers = numbers or differing
    if differing or numbers:
        listed = "; ".join(f"{row}.{col}: {' or '.join(vals)}" for (row, col), vals in (numbers or differing)[:6])
        cells = [(table.section, row, col) for (row, col), _ in (numbers or differing) if row != "*"]
        if found is not None and not found.every_one:
            # Uncounted readings may put numbers in any cell of a row still open: name them all.
            cells = [(table.section, row, col) for per_row in open_values for row, col in per_row[0]]
        formula = "exactly one reading of the printed cells satisfies the identities"
        if numbers:
            counted = f"{len(survivors)}" + (" or more" if found is not None and not found.every_one else "")
            message = f"{counted} readings fit the identities; kept one, a person must choose. Differs in {listed}"
            findings.append(Finding.blocking(f"{table.section}.layout.ambiguous", formula, message, cells=cells))
        else:
            message = (
                f"where a printed 0 belongs is not fixed by the text; the layout's usual placement was kept ({listed})"
            )
            findings.append(
                Finding(
                    id=f"{table.section}.layout.zero_placement",
                    severity="soft",
                    status="uncertain",
                    formula=formula,
                    message=message,
                    cells=cells,
                )
            )
    return result, findings


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
