"""The main job: ingest files, extract their tables, check them, and file each as accepted or queued.

Each document is handled in its own short transaction, so a batch can be stopped at any point
and run again: finished documents are skipped, nothing is duplicated, nothing is lost.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import sqlite_utils

from extraction import checks, ingest, layout, sections, store
from extraction.schema import Extraction, Finding, Report

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Outcome:
    doc_id: str
    name: str
    status: str  # accepted | queued | reviewed | failed | present
    detail: str = ""


def ingest_paths(
    db: sqlite_utils.Database,
    paths: Iterable[str],
    max_mb: float = ingest.DEFAULT_MAX_MB,
    progress: Progress | None = None,
) -> list[Outcome]:
    """Record every file; unreadable ones as failed with the reason. Same bytes twice: no-op."""
    outcomes = []
    for path in ingest.expand(paths):
        doc = ingest.read(path, max_mb=max_mb)
        if doc.format == "missing":
            outcomes.append(Outcome(doc.id, doc.name, "failed", doc.error or ""))
        elif store.add_document(db, doc.id, doc.name, doc.format, doc.size, doc.text, doc.error):
            outcomes.append(Outcome(doc.id, doc.name, "failed" if doc.error else "ingested", doc.error or ""))
        else:
            outcomes.append(Outcome(doc.id, doc.name, "present", "already in the store"))
        if progress:
            progress(doc.name)
    return outcomes


def pending(db: sqlite_utils.Database, force: bool = False) -> list[str]:
    """Documents waiting for extraction; with force, every readable document."""
    if force:
        return [d["id"] for d in store.documents(db) if d["status"] != "failed"]
    return [d["id"] for d in store.documents(db, "ingested")]


def extract_documents(
    db: sqlite_utils.Database, doc_ids: Iterable[str], progress: Progress | None = None
) -> list[Outcome]:
    outcomes = []
    for doc_id in doc_ids:
        outcomes.append(extract_document(db, doc_id))
        if progress:
            progress(doc_id)
    return outcomes


def extract_document(db: sqlite_utils.Database, doc_id: str) -> Outcome:
    """Extract, check and file one document."""
    doc = store.document(db, doc_id)
    started = time.perf_counter()
    try:
        extraction = layout.parse(doc["text"])
    except Exception as exc:  # a parser bug must not stop the batch or lose the document
        store.set_failed(db, doc_id, f"layout parser crashed: {type(exc).__name__}: {exc}")
        return Outcome(doc_id, doc["name"], "failed", str(exc))
    findings = check(db, doc_id, doc["text"], extraction)
    accepted = checks.accepted(findings)
    duration = (time.perf_counter() - started) * 1000
    store.add_extraction(db, doc_id, extraction, findings, accepted, duration)
    status = store.document(db, doc_id)["status"]
    return Outcome(doc_id, doc["name"], status, reasons(findings))


def reasons(findings: list[Finding]) -> str:
    """Why a document waits, one entry per failing identity: "applications.balance x3, ..."."""
    counts = Counter(checks.family(f.id) for f in findings if f.blocks_acceptance)
    return ", ".join(f"{r} x{n}" if n > 1 else r for r, n in counts.most_common())


def check(db: sqlite_utils.Database, doc_id: str, text: str, extraction: Extraction) -> list[Finding]:
    """The extractor's own doubts plus every identity that can run on this report."""
    previous = previous_year(db, doc_id, extraction.agency, extraction.year)
    findings = list(extraction.findings)
    if not extraction.report.tables():
        findings.append(_not_a_report(text))
    return findings + checks.run(extraction.report, previous=previous, prose=prose(text))


def previous_year(db: sqlite_utils.Database, doc_id: str, agency: str | None, year: int | None) -> Report | None:
    """The same agency's report for the year before, as reviewed or else as extracted."""
    if not agency or not year:
        return None
    rows = db["documents"].rows_where("agency = ? and year = ? and id != ?", [agency, year - 1, doc_id])
    for row in rows:
        review = store.latest_review(db, row["id"])
        if review:
            return store.report_of(review)
        extraction = store.current_extraction(db, row["id"])
        if extraction:
            return store.report_of(extraction)
    return None


def prose(text: str) -> str:
    """The report text before its tables, where the 总体情况 restates figures."""
    spans = sections.locate(text)
    start = min((s.start for s in spans.values()), default=len(text))
    return text[:start]


def _not_a_report(text: str) -> Finding:
    return Finding(
        id="document.not_a_report",
        severity="hard",
        status="fail",
        formula="an annual report holds the tables of sections 二, 三 and 四",
        message=f"none of the three statistical tables was found in {len(text)} characters of text: "
        "this does not look like a 政府信息公开工作年度报告, or its tables are in a layout not read yet",
    )


def run(
    db: sqlite_utils.Database,
    paths: Iterable[str],
    max_mb: float = ingest.DEFAULT_MAX_MB,
    progress: Progress | None = None,
) -> list[Outcome]:
    """Ingest the files, then extract and check every one that is new or still pending."""
    ingested = ingest_paths(db, paths, max_mb=max_mb, progress=progress)
    todo = {o.doc_id for o in ingested if o.status in ("ingested", "present")}
    waiting = [d for d in pending(db) if d in todo]
    extracted = {o.doc_id: o for o in extract_documents(db, waiting, progress=progress)}
    out = []
    for o in ingested:
        if o.doc_id in extracted:
            out.append(extracted[o.doc_id])
        elif o.status == "present":
            doc = store.document(db, o.doc_id)
            out.append(Outcome(o.doc_id, o.name, doc["status"], "already in the store"))
        else:
            out.append(o)
    return out
