"""Decisions, guarded: a fix that still fails an identity, leaves a section empty or changes a
printed value by hand needs the reviewer's note; a printed value replaced by the one-cell repair
the app offered, after the reviewer compared it with the printed row, needs none, and the
decision says so in its note and its diff; every stored decision lists the cells it changed
and why; a save on a document someone else reviewed meanwhile is refused."""

from __future__ import annotations

import sqlite_utils

from extraction import template
from extraction.review.item import (
    Change,
    Item,
    Key,
    _cells,
    _same,
    diff,
    finalize,
    is_empty,
    recheck,
    text_of,
    with_changes,
)
from extraction.review.offers import repair
from extraction.review.waiting import SECTION_NAMES
from extraction.schema import CellKind, Report
from extraction.storage import store

# --- Decisions -------------------------------------------------------------------------------


class Refused(ValueError):
    """A save the guards stop: each objection says what to do (or to give a note)."""

    def __init__(self, objections: list[str]) -> None:
        super().__init__("; ".join(objections))
        self.objections = objections


def objections(item: Item, report: Report, changes: dict[Key, Change] | None = None) -> list[str]:
    """Why saving `report` as a fix needs a note: a hard identity still fails, a section is
    empty, or a printed value was changed by hand (not through a reading or split of the print,
    nor the one-cell repair the reviewer confirmed against the source)."""
    out = []
    failing = [f for f in recheck(report) if f.blocks_acceptance]
    if failing:
        out.append(f"{len(failing)} identity check(s) still fail, e.g. {failing[0].message}")
    empty = [SECTION_NAMES[s] for s in template.SECTIONS if is_empty(report.table(s))]  # type: ignore[arg-type]
    if empty:
        out.append(f"section {'、'.join(empty)} is empty: say in the note that the report prints no such table")
    printed = _cells(item.original)
    now = _cells(report)
    stale = [k for k, c in (changes or {}).items() if c.why == "confirmed" and not confirmed(item, report, k, c)]
    touched = [
        key
        for key, change in (changes or {}).items()
        if (change.why == "typed" or key in stale) and key in printed and printed[key].kind != CellKind.blank
    ]
    changed = [k for k in touched if k in now and not _same(printed[k], now[k])]
    if changed:
        listed = ", ".join(f"{k[1]}.{k[2]} {text_of(printed[k])!r}→{text_of(now[k])!r}" for k in changed[:5])
        out.append(f"{len(changed)} printed value(s) changed by hand ({listed}): say why in the note")
    if stale:
        listed = ", ".join(f"{k[1]}.{k[2]}" for k in stale[:5])
        out.append(f"{listed}: taken as the one-cell repair, but the values now need another: say why in the note")
    return out


def confirmed(item: Item, report: Report, key: Key, change: Change) -> bool:
    """Whether a value taken as "confirmed against the source" is the one-cell repair offered on
    these values with that cell as the reviewer found it: a client cannot mark any value so."""
    before = _cells(item.report).get(key)
    if before is None:
        return False
    offered = repair(with_changes(report, {key: Change(text_of(before), "typed")}))
    return offered is not None and offered.cell == key and offered.after == change.text


def confirmations(item: Item, report: Report, changes: dict[Key, Change] | None) -> list[str]:
    """One line per repair the reviewer confirmed against the source, for the decision's note."""
    out = []
    for key, change in (changes or {}).items():
        if change.why != "confirmed" or not confirmed(item, report, key, change):
            continue
        section, row, column = key
        table = report.table(section)  # type: ignore[arg-type]
        spec = template.spec(section, table.version).row(row)  # type: ignore[arg-type, union-attr]
        label = next(c.label for c in spec.columns if c.key == column)
        before = text_of(_cells(item.report)[key])
        out.append(
            f"原文核对 · confirmed against the source: {SECTION_NAMES[section]} {spec.name} {label} "
            f"{before} → {change.text} (the parser misread it; every identity holds with it)"
        )
    return out


def _check_conflict(db: sqlite_utils.Database, item: Item) -> None:
    latest = store.latest_review(db, item.doc_id)
    if (latest["id"] if latest else None) != item.based_on:
        raise store.Conflict(latest)  # type: ignore[arg-type]


def save_fix(
    db: sqlite_utils.Database,
    item: Item,
    report: Report,
    reviewer: str,
    note: str = "",
    changes: dict[Key, Change] | None = None,
) -> int:
    """The extraction was wrong and the reviewer corrected it: reviewed, with the diff and a gold
    example. Refused (with every objection) unless the guards pass or a note explains. Each
    confirmed repair adds its line to the note: what changed, from what to what, and why."""
    _check_conflict(db, item)
    found = objections(item, report, changes)
    if found and not note.strip():
        raise Refused(found)
    stored = finalize(report)
    recorded = "\n".join(line for line in (note.strip(), *confirmations(item, report, changes)) if line)
    return store.add_review(
        db,
        item.doc_id,
        reviewer,
        "fixed",
        stored,
        diff(item.original, stored, changes),
        recorded,
        based_on=item.based_on,
    )


def accept_as_printed(
    db: sqlite_utils.Database,
    item: Item,
    report: Report,
    reviewer: str,
    note: str,
    changes: dict[Key, Change] | None = None,
) -> int:
    """The values are what the report prints and the report itself does not balance."""
    if not note.strip():
        raise ValueError("say why the source is accepted as printed: a note is required")
    _check_conflict(db, item)
    stored = finalize(report)
    inconsistent = any(f.blocks_acceptance for f in recheck(stored))
    return store.add_review(
        db,
        item.doc_id,
        reviewer,
        "accepted_as_printed",
        stored,
        diff(item.original, stored, changes),
        note,
        source_inconsistent=inconsistent,
        based_on=item.based_on,
    )


def discard(db: sqlite_utils.Database, item: Item, reviewer: str, reason: str) -> int:
    """Not a report (a README, a notice, a duplicate): out of the queue, never a gold example."""
    if not reason.strip():
        raise ValueError("say why this is not a report: a reason is required")
    _check_conflict(db, item)
    return store.add_review(db, item.doc_id, reviewer, "discarded", item.original, [], reason, based_on=item.based_on)
