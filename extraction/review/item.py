"""An item as a reviewer opens it, and its cells as the grid shows and takes them: "" blank,
"0" zero and "/" not applicable are three different cells here."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlite_utils

from extraction import checks, template
from extraction.schema import Cell, CellKind, Finding, Report, Table, Value
from extraction.storage import store
from extraction.tables import normalize

Key = tuple[str, str, str]  # (section, row, column)

# --- An item ---------------------------------------------------------------------------------


@dataclass
class Item:
    """One document as a reviewer opens it."""

    doc_id: str
    name: str
    text: str
    status: str
    original: Report  # the current extraction, never overwritten
    report: Report  # what the reviewer starts from: the review it is based on, else the extraction
    extractor: str
    findings: list[Finding]  # the extraction's findings (doubts, disagreements with both values)
    based_on: int | None  # the review the reviewer started from, for detecting a concurrent save
    latest: int | None = None  # the latest review now (differs from based_on after someone saved)


def open_item(db: sqlite_utils.Database, doc_id: str, based_on: int | str | None = "latest") -> Item:
    """A document to review, starting from the review `based_on` (default: the latest one)."""
    doc = store.document(db, doc_id)
    extraction = store.current_extraction(db, doc_id)
    if extraction is None:
        why = f": {doc['error']}" if doc.get("error") else ""
        raise ValueError(f"{doc['name']} has no extraction to review ({doc['status']}){why}")
    original = store.report_of(extraction)
    latest = store.latest_review(db, doc_id)
    latest_id = latest["id"] if latest else None
    start = latest_id if based_on == "latest" else based_on
    base = latest if start == latest_id else db["reviews"].get(start) if start is not None else None
    return Item(
        doc_id=doc_id,
        name=doc["name"],
        text=doc["text"] or "",
        status=doc["status"],
        original=original,
        report=store.report_of(base) if base else original.model_copy(deep=True),
        extractor=extraction["extractor"],
        findings=store.findings(db, extraction["id"]),
        based_on=start,  # type: ignore[arg-type]
        latest=latest_id,
    )


def complete(report: Report, version: str | None = None) -> Report:
    """Every section as a grid: a table that was not read becomes the template's blank grid of
    the report's version (2021 when nothing says), so a reviewer can fill it in."""
    out = report.model_copy(deep=True)
    chosen = version or report.template_version() or "2021"
    for section in template.SECTIONS:
        if out.table(section) is None:
            setattr(out, section, Table.empty(section, chosen))  # type: ignore[arg-type]
    return out.align_versions()


def is_empty(table: Table | None) -> bool:
    return table is None or all(c.kind == CellKind.blank for cols in table.cells.values() for c in cols.values())


def finalize(report: Report) -> Report:
    """What is stored: a grid left wholly blank is no table (the report prints none)."""
    out = report.model_copy(deep=True)
    for section in template.SECTIONS:
        if is_empty(out.table(section)):
            setattr(out, section, None)
    return out


def text_of(cell: Cell) -> str:
    """A cell as a grid shows and takes it: "" blank, "/" not applicable, else the number."""
    if cell.kind == CellKind.blank:
        return ""
    if cell.kind == CellKind.not_applicable:
        return "/"
    value = cell.value
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


WHY = {
    "typed": "typed by the reviewer",
    "reading": "a reading the parser offered",
    "split": "a split of pasted digits that satisfies the identities",
    "pasted": "read from pasted section text",
    "derived": "a blank total filled with the sum of its printed parts",
    "confirmed": "reviewer confirmed against the source: parser misread",  # a one-cell repair, taken
}


@dataclass(frozen=True)
class Change:
    text: str  # "" blank, "0", "/", or a number as printed
    why: str  # a key of WHY


def kind_of(key: Key) -> str:
    section, row, column = key
    for version in ("2021", "2019"):
        spec = template.spec(section, version)  # type: ignore[arg-type]
        if any(r.key == row for r in spec.rows):
            return next(c.kind for c in spec.row(row).columns if c.key == column)
    raise KeyError(f"no cell {'.'.join(key)}")


def with_changes(report: Report, changes: dict[Key, Change]) -> Report:
    """A copy with the changed cells read from their text; raises ValueError naming every cell
    whose text is not a value of its column (nothing is half-applied)."""
    out = report.model_copy(deep=True)
    bad = []
    for key, change in changes.items():
        table = out.table(key[0])  # type: ignore[arg-type]
        if table is None or key[1] not in table.cells:
            continue
        try:
            cell = normalize.kept(normalize.parse_cell(change.text, kind_of(key)))
        except ValueError:
            bad.append(f"{key[1]}.{key[2]}: {change.text!r}")
            continue
        table.set(key[1], key[2], Cell(value=cell.value, raw=change.text, kind=cell.kind))
    if bad:
        raise ValueError("not a number, blank or '/': " + ", ".join(bad))
    return out


def with_values(report: Report, edits: dict[Key, Value]) -> Report:
    """A copy with some cells replaced by bare values (None is blank); untouched cells keep
    their printed text and spans."""
    out = report.model_copy(deep=True)
    for (section, row, column), value in edits.items():
        table = out.table(section)  # type: ignore[arg-type]
        if table is not None and table.value(row, column) != value:
            table.set(row, column, Cell.of(value))
    return out


def recheck(report: Report) -> list[Finding]:
    """The hard identities on the values as they stand now: run on every edit."""
    return [f for table in report.tables() for f in checks.hard_checks(table)]


def derived_totals(report: Report) -> dict[Key, Value]:
    """Blank totals whose parts are printed, with the sum each would hold: one action fills them."""
    fills = {}
    for finding in recheck(report):
        if finding.id.endswith("blank_total") and finding.suggestion is not None:
            fills[finding.cells[0]] = finding.suggestion
    return fills


def _same(a: Cell, b: Cell) -> bool:
    return a.kind == b.kind and a.value == b.value


def _cells(report: Report) -> dict[Key, Cell]:
    return {
        (t.section, row, column): cell
        for t in report.tables()
        for row, cols in t.cells.items()
        for column, cell in cols.items()
    }


def diff(before: Report, after: Report, changes: dict[Key, Change] | None = None) -> list[dict[str, Any]]:
    """Every cell whose value or kind differs, both as text ("" blank, "/"), and why it changed."""
    old, new = _cells(before), _cells(after)
    out = []
    for key in sorted(set(old) | set(new)):
        was, now = old.get(key), new.get(key)
        if was is not None and now is not None and _same(was, now):
            continue
        if was is None and (now is None or now.kind == CellKind.blank):
            continue  # a cell of a grid that was not read, still blank
        change = (changes or {}).get(key)
        out.append(
            {
                "section": key[0],
                "row": key[1],
                "column": key[2],
                "before": None if was is None else text_of(was),
                "after": None if now is None else text_of(now),
                "why": WHY[change.why] if change else "kept from the review this one started from",
            }
        )
    return out
