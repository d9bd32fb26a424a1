"""The deterministic, template-aware layout parser: free, instant, and honest about doubt.

A section's text goes in; its table comes out, with findings. The layout family
(`families.detect_family`) says only how the section's rows are printed: each family gives its
rows in one shape (`families.printed_rows`: a label cell and the value cells after it, with
their offsets), and from there every family goes the same way.

Where the text alone does not say which column a number belongs to (a short row), every
order-preserving placement is a candidate reading; the identities of TEMPLATE.md pick the one
that balances (`choose`, with `search` when the combinations are many), and when several
readings remain equally good the parser keeps the most plausible one and records an ambiguity
finding that lists the others: never a silent guess.
"""

from __future__ import annotations

from collections.abc import Iterable

from extraction import template
from extraction.schema import CellKind, Extraction, Finding, Report, Table
from extraction.tables import anchored, edges, families, proactive, sections
from extraction.tables.choose import choose
from extraction.tables.placement import (
    DELIMITED,
    STREAMS,
    Reading,
    Row,
    blocking_doubt,
    every_cell_splits,
    not_read,
    readings,
    soft_note,
    split_row,
    uncut_run,
)
from extraction.template import Version

EXTRACTOR = "layout"
# Families where a blank cell prints nothing at all: where a 0 stands is never settled by habit.
_VANISHING = ("space_rows", "gapped_stream")
_HEADER_WORDS = ("自然人", "商业企业", "申请人情况", "勾稽关系", "法人或其他组织")


# The parser's doubts that the text itself leaves open, several readings fitting what is printed:
# a cut of digits printed together, a number or a 0 whose cell the text does not fix
# (`choose._doubts`, `proactive._split_doubt`). Each names its cells and lists the readings
# ("Differs in row.col: a or b"), so a person chooses; no reader of the same text can.
OPEN_DOUBTS = (".layout.ambiguous", ".layout.zero_placement")


def leaves_open(finding: Finding) -> bool:
    """A blocking doubt of the parser that the printed text cannot settle."""
    return finding.blocks_acceptance and finding.id.endswith(OPEN_DOUBTS)


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
        family = families.detect_family(text, span)
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
        printed = families.printed_rows(text, span, section, family)
        family = layouts[section] = printed.family
        rows = printed.rows
        findings += [blocking_doubt(section, "*", doubt) for doubt in printed.doubts]
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
    table, doubts = choose(
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
    """Whether a table read from web text printed something in every cell of every row it
    printed (0 where nothing happened): then the same page prints every cell of section 四 too,
    and a reading of its digits that leaves cells blank is not one the page can have. A row
    with no cell at all is not a row printed with blanks: a page merges the （六） cells over its
    sub-rows and prints them once."""
    if table is None:
        return False
    printed = [row for row in table.cells.values() if any(cell.kind != CellKind.blank for cell in row.values())]
    return bool(printed) and all(cell.kind != CellKind.blank for row in printed for cell in row.values())


def _review(rows: list[Row], family: str, every_cell_printed: bool = False) -> tuple[Table | None, list[Finding]]:
    # Where blank cells vanish (web text, PDF streams) a data row may show only a few numbers.
    least = 1 if family in STREAMS else 5
    if family == "space_rows":
        # Web text: the data row is the first run of values after the column headers.
        data = [values for label, values in map(split_row, rows) if values and anchored.OUTCOME_HEADER.search(label)][
            :1
        ]
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
        options = edges.evenly_spaced_first(options)  # (choose keeps those passing their own identities, in this order)
    return choose(table, {"*": options}, columns, vanishing=vanished)
