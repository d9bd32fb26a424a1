"""What the app offers a reviewer to take in one click: the parser's readings of an ambiguous
cell, the splits of pasted digits that satisfy the identities, a section read from pasted text,
and the one cell whose value would settle every failing identity (a repair, taken only once the
reviewer has compared it with the printed row: see `repair`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from extraction import checks, template
from extraction.review.item import Change, Key, _cells, complete, recheck, text_of, with_changes, with_values
from extraction.schema import CellKind, Finding, Report, Table, Value
from extraction.tables import layout, placement

# --- Offering readings -----------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One cell the parser could not settle, with the values its readings put there."""

    cell: Key
    options: tuple[str, ...]  # "" blank


# The parser's open doubts, and the same doubts restated over a model's table (model.cascade).
_OPEN = (*layout.OPEN_DOUBTS, ".llm.open_in_text")
_DIFFERS = re.compile(r"([a-z_]+)\.([a-z_]+): ((?:(?!; [a-z_]+\.[a-z_]+:).)+)")


def choices(findings: list[Finding]) -> list[Choice]:
    """The cells an ambiguity finding lists ("Differs in row.col: 3 or 12; …") with their options."""
    out: dict[Key, Choice] = {}
    for finding in findings:
        if not finding.id.endswith(_OPEN) or "Differs in " not in finding.message:
            continue
        section = finding.id.split(".")[0]
        listed = finding.message.split("Differs in ", 1)[1]
        for row, column, values in _DIFFERS.findall(listed):
            options = tuple(dict.fromkeys("" if v.strip() == "blank" else v.strip() for v in values.split(" or ")))
            if len(options) > 1:
                out[(section, row, column)] = Choice((section, row, column), options)
    return list(out.values())


def splits(section: str, version: str, row: str, pasted: str, limit: int = 12) -> list[dict[str, str]]:
    """The ways a row's pasted digits fill its columns, those satisfying the row's identity
    first (placement.readings with split=True: run-together digits are cut, vanished blanks placed)."""
    columns = template.spec(section, version).row(row).columns  # type: ignore[arg-type]
    cells = [placement.RawCell(m.group(), m.start(), m.end()) for m in re.finditer(r"\S+", pasted)]
    if not cells:
        return []
    found = placement.readings(cells, len(columns), "cell_per_line", split=True)
    out: list[dict[str, str]] = []
    for _, reading in found:
        placed = {c.key: "" if raw is None else raw.text for c, raw in zip(columns, reading, strict=True)}
        if placed not in out:
            out.append(placed)
        if len(out) >= limit:
            break
    return out


def balances(section: str, version: str, row: str, values: dict[str, str]) -> bool:
    """Whether a row's own total identity holds for these texts (rows of 三 and 四)."""
    table = complete(Report(), version).table(section)  # type: ignore[arg-type]
    filled = with_changes(
        Report(**{section: table}), {(section, row, c): Change(t, "split") for c, t in values.items()}
    )
    return not any(f.blocks_acceptance and f".{row}" in f.id for f in recheck(filled))


def section_from_text(section: str, text: str) -> Table | None:
    """A section's table read from its pasted text (the heading is added when missing)."""
    title = template.SECTION_TITLES[section]  # type: ignore[index]
    body = text if title[:2] in text[:40] else f"{title}\n{text}"
    return layout.parse(body).report.table(section)  # type: ignore[arg-type]


# --- One cell that settles every failing identity ---------------------------------------------


@dataclass(frozen=True)
class Repair:
    """The only printed cell whose value alone makes every hard identity hold: a digit the reading
    lost or misread. Offered beside the cell with its printed row; taking it records that the
    reviewer confirmed the value against the source. When the source itself prints the value
    as read, the report does not balance and the reviewer accepts it as printed instead."""

    cell: Key
    before: str  # the value as read
    after: str  # the value the identities need
    settles: tuple[str, ...]  # the failing identities it settles


def repair(report: Report) -> Repair | None:
    """The single-cell repair of a report whose hard identities fail, or None when no printed
    cell, or more than one, would settle them all.

    A cell can settle every failing identity only if each names it; each identity is a sum
    (left = right), so it fixes the cell's value; the value is kept when every identity gives
    the same one and the whole report, re-checked with it, fails nothing. One misread cell of
    三 breaks its row's total and its column's identities, whose only common cell is that one;
    an identity failing alone (a row of 四) names many cells, so nothing is offered."""
    failing = [f for f in recheck(report) if f.blocks_acceptance]
    if not failing or not all(f.cells for f in failing) or any(f.id.endswith(".blank_total") for f in failing):
        return None  # a blank total is filled from its parts (derived totals), never a part changed to fit it
    common = set.intersection(*(set(f.cells) for f in failing))
    cells = _cells(report)
    found: list[tuple[Key, Value]] = []
    for key in sorted(common):
        if key not in cells or cells[key].kind == CellKind.blank:
            continue  # nothing printed there to have been misread
        needed = {_needed(report, key, f) for f in failing}
        if len(needed) != 1 or None in needed:
            continue
        value = needed.pop()
        if not any(f.blocks_acceptance for f in recheck(with_values(report, {key: value}))):
            found.append((key, value))
    if len(found) != 1:
        return None
    key, value = found[0]
    return Repair(key, text_of(cells[key]), str(value), tuple(f.id for f in failing))


def _needed(report: Report, key: Key, finding: Finding) -> Value:
    """The value `key` must hold for the identity behind `finding` to hold (None when the finding
    is no sum identity, e.g. a negative count: then no value is offered)."""
    section, row, column = key
    table = report.table(section)  # type: ignore[arg-type]
    if table is None:
        return None
    by_id = {eq.id: eq for eq in checks.equations(table.section, table.version)}
    equation = by_id.get(finding.id)
    if equation is None:
        return None
    return equation.names((row, column), lambda k: table.value(*k))
