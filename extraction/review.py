"""What a reviewer does, as a library: the queue, an item, live re-checks, fixes and decisions.

The review app is a thin screen over these functions. Two rules hold here, not in the UI:
a reviewer cannot make a source balance by silently editing it (accepting an inconsistent
source as printed needs a note and is recorded as such), and a save is refused when someone
else reviewed the same document after it was opened.
"""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from extraction import checks, store, template
from extraction.schema import Cell, Finding, Report, Value


@dataclass(frozen=True)
class QueueItem:
    doc_id: str
    name: str
    agency: str
    year: int | None
    template: str
    extractor: str
    reasons: tuple[str, ...]  # failing identity families, parser doubts, disagreements
    since: str


def queue(db: sqlite_utils.Database) -> list[QueueItem]:
    """Queued documents, oldest first, each with why it waits."""
    out = []
    for doc in store.documents(db, "queued"):
        extraction = store.current_extraction(db, doc["id"])
        if extraction is None:
            continue
        failing = [f for f in store.findings(db, extraction["id"]) if f.blocks_acceptance]
        report = store.report_of(extraction)
        out.append(
            QueueItem(
                doc_id=doc["id"],
                name=doc["name"],
                agency=doc["agency"] or "",
                year=doc["year"],
                template=report.template_version() or "",
                extractor=extraction["extractor"],
                reasons=tuple(sorted({checks.family(f.id) for f in failing})),
                since=doc["updated_at"],
            )
        )
    return sorted(out, key=lambda item: (item.since, item.name))  # a tie on the clock keeps file order


def reason_counts(items: list[QueueItem]) -> Counter[str]:
    return Counter(reason for item in items for reason in item.reasons)


@dataclass
class Item:
    """One document as a reviewer opens it."""

    doc_id: str
    name: str
    text: str
    status: str
    original: Report  # the current extraction, never overwritten
    report: Report  # what the reviewer starts from: the latest review, else the extraction
    extractor: str
    findings: list[Finding]  # the extraction's findings (doubts, disagreements with both values)
    based_on: int | None  # the latest review when opened, for detecting a concurrent save


def open_item(db: sqlite_utils.Database, doc_id: str) -> Item:
    doc = store.document(db, doc_id)
    extraction = store.current_extraction(db, doc_id)
    if extraction is None:
        raise ValueError(f"{doc['name']} has not been extracted yet")
    original = store.report_of(extraction)
    latest = store.latest_review(db, doc_id)
    return Item(
        doc_id=doc_id,
        name=doc["name"],
        text=doc["text"] or "",
        status=doc["status"],
        original=original,
        report=store.report_of(latest) if latest else original.model_copy(deep=True),
        extractor=extraction["extractor"],
        findings=store.findings(db, extraction["id"]),
        based_on=latest["id"] if latest else None,
    )


def recheck(report: Report) -> list[Finding]:
    """The hard identities on the values as they stand now: run on every edit."""
    return [f for table in report.tables() for f in checks.hard_checks(table)]


def with_values(report: Report, edits: dict[tuple[str, str, str], Value]) -> Report:
    """A copy with some cells replaced; untouched cells keep their printed text and spans."""
    out = report.model_copy(deep=True)
    for (section, row, column), value in edits.items():
        table = out.table(section)  # type: ignore[arg-type]
        if table is not None and table.value(row, column) != value:
            table.set(row, column, Cell.of(value))
    return out


def derived_totals(report: Report) -> dict[tuple[str, str, str], Value]:
    """Blank totals whose parts are printed, with the sum each would hold: one action fills them."""
    fills = {}
    for finding in recheck(report):
        if finding.id.endswith("blank_total") and finding.suggestion is not None:
            fills[finding.cells[0]] = finding.suggestion
    return fills


def diff(before: Report, after: Report) -> list[dict[str, Any]]:
    """Every cell whose value differs, with both values."""
    out = []
    for section in template.SECTIONS:
        old, new = before.table(section), after.table(section)
        if old is None or new is None:
            if (old is None) != (new is None):
                out.append(
                    {"section": section, "row": "*", "column": "*", "before": old is not None, "after": new is not None}
                )
            continue
        for row, cols in new.cells.items():
            for column in cols:
                was = old.value(row, column) if row in old.cells and column in old.cells[row] else None
                now = new.value(row, column)
                if was != now:
                    out.append({"section": section, "row": row, "column": column, "before": was, "after": now})
    return out


def save_fix(db: sqlite_utils.Database, item: Item, report: Report, reviewer: str, note: str = "") -> int:
    """The extraction was wrong and the reviewer corrected it: reviewed, with the diff and a gold example."""
    return store.add_review(
        db, item.doc_id, reviewer, "fixed", report, diff(item.original, report), note, based_on=item.based_on
    )


def accept_as_printed(db: sqlite_utils.Database, item: Item, report: Report, reviewer: str, note: str) -> int:
    """The values are what the report prints and the report itself does not balance."""
    if not note.strip():
        raise ValueError("say why the source is accepted as printed: a note is required")
    inconsistent = any(f.blocks_acceptance for f in recheck(report))
    return store.add_review(
        db,
        item.doc_id,
        reviewer,
        "accepted_as_printed",
        report,
        diff(item.original, report),
        note,
        source_inconsistent=inconsistent,
        based_on=item.based_on,
    )


def gold_examples(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    rows = db.query(
        """select g.id, g.doc_id, d.name, g.reviewer, g.created_at, g.source_inconsistent, r.action, r.note
           from gold g join documents d on d.id = g.doc_id join reviews r on r.id = g.review_id order by g.id desc"""
    )
    return list(rows)


def stats(db: sqlite_utils.Database) -> dict[str, Any]:
    """Figures for the stats page: status counts, queue over time, top identities, throughput."""
    events: list[tuple[str, int]] = []
    for row in db.query(
        """select e.created_at, e.accepted, e.doc_id from extractions e
           join documents d on d.current_extraction = e.id"""
    ):
        if not row["accepted"]:
            events.append((row["created_at"], 1))
    first_reviews = db.query("select min(created_at) as at from reviews group by doc_id")
    events += [(row["at"], -1) for row in first_reviews]
    queue_over_time = []
    size = 0
    for at, change in sorted(events):
        size += change
        queue_over_time.append({"at": at, "queued": size})
    per_day = list(
        db.query("select substr(created_at, 1, 10) as day, reviewer, count(*) as reviews from reviews group by 1, 2")
    )
    return {
        "status": store.status_counts(db),
        "queue_over_time": queue_over_time,
        "top_identities": store.top_failing_checks(db),
        "reviews_per_day": per_day,
    }


def source_html(text: str, spans: list[tuple[int, int]], start: int = 0) -> str:
    """The report text, escaped, with the given spans marked: shown, never interpreted."""
    pieces, cursor = [], start
    for begin, end in sorted(s for s in spans if s[0] >= start):
        if begin < cursor:
            continue
        pieces += [html.escape(text[cursor:begin]), "<mark>", html.escape(text[begin:end]), "</mark>"]
        cursor = end
    pieces.append(html.escape(text[cursor:]))
    body = "".join(pieces)
    return (
        "<div style='max-height:75vh;overflow:auto;border:1px solid #ddd;padding:.5rem;font-size:.85rem'>"
        f"<pre style='white-space:pre-wrap;margin:0'>{body}</pre></div>"
    )
