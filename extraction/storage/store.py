"""The SQLite store: every document, every extraction attempt, every finding, every human decision.

Nothing is overwritten that a later question may need: extractions and reviews are appended,
a document points at its current extraction, and a reviewed document stays reviewed whatever
is re-extracted or re-checked afterwards. WAL and a busy timeout let a bulk run and reviewers
share one file.

Document status: ingested -> extracted -> accepted | queued -> reviewed, or failed (with why).

Every write of a document (its row and page images; an extraction with its findings and model
calls) is one BEGIN IMMEDIATE ... COMMIT (`transaction`), so a kill leaves all of it or none.
Runs sharing a store claim each document before extracting it (`claim`): two runs never
extract one document at once, and a document whose extraction never finishes twice (it kills
its worker: memory, time) is failed on the next run instead of killing every rerun.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlite_utils

from extraction.checks import family
from extraction.read.readout import Doubt
from extraction.schema import Extraction, Finding, Report
from extraction.storage import cells, shape

# Re-exported: callers claim through the store (`store.claim`); the rules live in `claims`.
from extraction.storage.claims import MAX_ATTEMPTS as MAX_ATTEMPTS
from extraction.storage.claims import claim as claim
from extraction.storage.claims import owner as owner
from extraction.storage.claims import release as release

if TYPE_CHECKING:
    from extraction.read.ingest import Document

STATUSES = ("ingested", "extracted", "accepted", "queued", "reviewed", "failed", "discarded")
REVIEW_ACTIONS = ("fixed", "accepted_as_printed", "discarded")
DECIDED = ("reviewed", "discarded")  # a person's decision: kept whatever is re-extracted


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def dumps(value: Any, indent: int | None = None) -> str:
    """JSON with Decimal money kept exact (as a number, not a float round-trip)."""

    def default(obj: Any) -> Any:
        if isinstance(obj, Decimal):
            return float(obj) if obj != obj.to_integral_value() else int(obj)
        raise TypeError(f"not JSON: {type(obj).__name__}")

    return json.dumps(value, ensure_ascii=False, default=default, indent=indent)


def open_db(path: str | Path) -> sqlite_utils.Database:
    """Open (and create if needed) a store at `path`."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = connect(path)
    db.enable_wal()
    # In WAL mode NORMAL never corrupts the file; a power cut may lose the last commits, which a
    # re-run redoes, instead of paying an fsync for every document.
    db.conn.execute("PRAGMA synchronous = NORMAL")
    with transaction(db):
        _ensure_schema(db)
        cells.ensure_schema(db)
        shape.link(db, shape.TABLES + shape.CURRENT_TABLES)  # a store made before its links gains them
    return db


@contextlib.contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """One BEGIN IMMEDIATE ... COMMIT around a block of writes; nested blocks join the outer one.

    IMMEDIATE takes the write lock at the start, so a check-then-write inside cannot race
    another process, and sqlite-utils' own writes inside become savepoints of this transaction
    rather than commits of their own.
    """
    conn = db.conn
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def path_of(db: sqlite_utils.Database) -> str:
    """The store's file ('' for an in-memory store)."""
    return next((row[2] for row in db.conn.execute("PRAGMA database_list") if row[1] == "main"), "")


def connect(path: str | Path) -> sqlite_utils.Database:
    """A connection to an existing store, waiting for other writers instead of failing."""
    db = sqlite_utils.Database(path)
    db.conn.execute("PRAGMA busy_timeout = 30000")
    return db


def _ensure_schema(db: sqlite_utils.Database) -> None:
    with transaction(db):
        shape.ensure(db, shape.TABLES)


# --- Documents -------------------------------------------------------------------------------


def add_document(db: sqlite_utils.Database, doc: Document) -> bool:
    """Record a file; the same bytes twice is a no-op. Returns True when the document is new.

    A scan's page images go in their own table, for the review app to show beside the text.
    """
    with transaction(db):
        if has_document(db, doc.id):  # under the write lock: another run cannot insert in between
            return False
        stamp = now()
        row = {"id": doc.id, "name": doc.name, **_reading(doc), "ingested_at": stamp, "current_extraction": None}
        db["documents"].insert({**row, "updated_at": stamp}, ignore=True)
        _insert_pages(db, doc)
    return True


def failed_at_read(row: dict[str, Any]) -> bool:
    """A document that failed while being read (no text came of it: over a budget or a limit,
    a reader's refusal): nothing was extracted from it, so reading it again loses nothing."""
    return row["status"] == "failed" and not (row["text"] or "").strip()


def replace_reading(db: sqlite_utils.Database, doc: Document) -> bool:
    """A document that had failed while being read, read again (`--retry-failed`): its row takes
    the new reading (text, format, pages, OCR doubts, the new error if it failed again) and its
    page images are replaced. Returns True when replaced.

    Only while it is still failed at read and no person has reviewed it, checked under the write
    lock: a document read since by another run, or discarded by a reviewer, is left as it is.
    """
    with transaction(db):
        row = db["documents"].get(doc.id) if has_document(db, doc.id) else None
        if row is None or not failed_at_read(row) or latest_review(db, doc.id) is not None:
            return False
        db["documents"].update(doc.id, {**_reading(doc), "claim": None, "attempts": 0, "updated_at": now()})
        db["page_images"].delete_where("doc_id = ?", [doc.id])
        _insert_pages(db, doc)
    return True


def _reading(doc: Document) -> dict[str, Any]:
    """The columns of a document row that come of reading its file."""
    return {
        "format": doc.format,
        "size": doc.size,
        "text": doc.text,
        "pages": doc.pages or None,
        "doubts": dumps([d.as_dict() for d in doc.doubts]) if doc.doubts else None,
        "notes": dumps(list(doc.notes)) if doc.notes else None,
        "repair": doc.repair,
        "status": "failed" if doc.error else "ingested",
        "error": doc.error,
    }


def _insert_pages(db: sqlite_utils.Database, doc: Document) -> None:
    db["page_images"].insert_all(
        {"doc_id": doc.id, "page": number + 1, "png": image} for number, image in enumerate(doc.images)
    )


def has_document(db: sqlite_utils.Database, doc_id: str) -> bool:
    return bool(db["documents"].count_where("id = ?", [doc_id]))


def page_images(db: sqlite_utils.Database, doc_id: str) -> list[bytes]:
    """The scanned pages of a document, in order (none for a file with a text layer)."""
    return [r["png"] for r in db["page_images"].rows_where("doc_id = ?", [doc_id], order_by="page")]


def doubts(doc: dict[str, Any]) -> list[Doubt]:
    """The stretches of a document's text that OCR read with low confidence."""
    return [Doubt(**d) for d in json.loads(doc.get("doubts") or "[]")]


def document(db: sqlite_utils.Database, doc_id: str) -> dict[str, Any]:
    return db["documents"].get(doc_id)


def find_document(db: sqlite_utils.Database, ref: str) -> dict[str, Any] | None:
    """A document by id, unique id prefix, or the name it was ingested under."""
    rows = list(db["documents"].rows_where("id = ? or name = ?", [ref, ref]))
    if not rows and len(ref) >= 4:
        rows = list(db["documents"].rows_where("id like ?", [ref + "%"]))
    if not rows:
        rows = list(db["documents"].rows_where("name like ?", ["%" + ref + "%"]))
    return rows[0] if len(rows) == 1 else None


def documents(db: sqlite_utils.Database, status: str | None = None) -> Iterator[dict[str, Any]]:
    where, args = ("status = ?", [status]) if status else (None, [])
    yield from db["documents"].rows_where(where, args, order_by="ingested_at, id")


def notes(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Where the text of a document did not decode (line, column, bytes)."""
    return json.loads(doc.get("notes") or "[]")


def set_failed(db: sqlite_utils.Database, doc_id: str, error: str) -> None:
    """A step failed on the document: it says why. A person's decision stays its status (a forced
    re-extraction of a reviewed document that crashes leaves it reviewed, the error beside it)."""
    with transaction(db):
        decided = db["documents"].get(doc_id)["status"] in DECIDED
        changes = {"error": error, "claim": None, "attempts": 0, "updated_at": now()}
        db["documents"].update(doc_id, changes if decided else {**changes, "status": "failed"})
        cells.refresh(db, doc_id)


# --- Extractions and findings ----------------------------------------------------------------


def add_extraction(
    db: sqlite_utils.Database,
    doc_id: str,
    extraction: Extraction,
    findings: list[Finding],
    accepted: bool,
    duration_ms: float,
    model: str | None = None,
    prompt_version: str | None = None,
    usage: dict[str, Any] | None = None,
    mode: str | None = None,
    calls: list[Any] | None = None,
    agreement: dict[str, float] | None = None,
    cache_entries: dict[str, dict[str, Any]] | None = None,
) -> int:
    """Append an extraction with its findings and model calls and make it current, in one transaction.

    A reviewed document keeps its status: re-extraction never loses a human decision. A batch
    killed before this commit leaves the document pending, so the next run redoes it once.
    """
    stamp = now()
    with transaction(db):
        row = {
            "doc_id": doc_id,
            "extractor": extraction.extractor,
            "model": model,
            "prompt_version": prompt_version,
            "mode": mode,
            "report": extraction.report.model_dump_json(),
            "agency": extraction.agency,
            "year": extraction.year,
            "layouts": dumps(extraction.layouts),
            "usage": dumps(usage or {}),
            "duration_ms": duration_ms,
            "error": None,
            "accepted": int(accepted),
            "agreement": dumps(agreement) if agreement else None,
            "created_at": stamp,
        }
        extraction_id = db["extractions"].insert(row, alter=True).last_pk
        _insert_findings(db, doc_id, extraction_id, findings, stamp)
        _insert_calls(db, doc_id, extraction_id, calls or [], stamp)
        db["llm_cache"].insert_all(
            ({"key": key, "entry": dumps(entry), "created_at": stamp} for key, entry in (cache_entries or {}).items()),
            replace=True,
        )
        _make_current(db, doc_id, extraction, extraction_id, accepted, stamp)
    return extraction_id


def _insert_calls(db: sqlite_utils.Database, doc_id: str, extraction_id: int, calls: list[Any], stamp: str) -> None:
    """Every request sent to a model for this extraction, with what came back."""
    db["llm_calls"].insert_all(
        {
            "doc_id": doc_id,
            "extraction_id": extraction_id,
            "section": call.section,
            "attempt": call.attempt,
            "messages": dumps(call.messages),
            "completion": call.completion,
            "usage": dumps(call.usage),
            "error": call.error,
            "created_at": stamp,
        }
        for call in calls
    )


def _make_current(
    db: sqlite_utils.Database, doc_id: str, extraction: Extraction, extraction_id: int, accepted: bool, stamp: str
) -> None:
    """Point the document at the new extraction and rewrite its cells; a person's decision stays."""
    current = db["documents"].get(doc_id)
    status = current["status"] if current["status"] in DECIDED else ("accepted" if accepted else "queued")
    db["documents"].update(
        doc_id,
        {
            "status": status,
            "error": None,
            "claim": None,
            "attempts": 0,
            "agency": extraction.agency,
            "year": extraction.year,
            "current_extraction": extraction_id,
            "updated_at": stamp,
        },
    )
    cells.refresh(db, doc_id)


def _insert_findings(
    db: sqlite_utils.Database, doc_id: str, extraction_id: int, findings: list[Finding], stamp: str
) -> None:
    db["findings"].insert_all(
        {
            "doc_id": doc_id,
            "extraction_id": extraction_id,
            "check_id": f.id,
            "severity": f.severity,
            "status": f.status,
            "message": f.message,
            "finding": f.model_dump_json(),
            "created_at": stamp,
        }
        for f in findings
    )


def replace_findings(db: sqlite_utils.Database, doc_id: str, extraction_id: int, findings: list[Finding]) -> None:
    """Re-checking: the findings of an extraction are recomputed; the status follows unless reviewed."""
    accepted = not any(f.blocks_acceptance for f in findings)
    with transaction(db):
        db["findings"].delete_where("extraction_id = ?", [extraction_id])
        _insert_findings(db, doc_id, extraction_id, findings, now())
        db["extractions"].update(extraction_id, {"accepted": int(accepted)})
        doc = db["documents"].get(doc_id)
        if doc["status"] not in DECIDED and doc["current_extraction"] == extraction_id:
            db["documents"].update(doc_id, {"status": "accepted" if accepted else "queued", "updated_at": now()})
        cells.refresh(db, doc_id)


def current_extraction(db: sqlite_utils.Database, doc_id: str) -> dict[str, Any] | None:
    doc = db["documents"].get(doc_id)
    if doc["current_extraction"] is None:
        return None
    return db["extractions"].get(doc["current_extraction"])


def report_of(row: dict[str, Any]) -> Report:
    return Report.model_validate_json(row["report"])


def findings(db: sqlite_utils.Database, extraction_id: int) -> list[Finding]:
    rows = db["findings"].rows_where("extraction_id = ?", [extraction_id], order_by="id")
    return [Finding.model_validate_json(r["finding"]) for r in rows]


def cached_answers(db: sqlite_utils.Database, keys: list[str]) -> dict[str, dict[str, Any]]:
    """Model answers already paid for, by request key."""
    out: dict[str, dict[str, Any]] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        for row in db.query(f"select key, entry from llm_cache where key in ({marks})", chunk):
            out[row["key"]] = json.loads(row["entry"])
    return out


def endpoint_mode(db: sqlite_utils.Database, base_url: str, model: str) -> str | None:
    rows = list(db["endpoints"].rows_where("endpoint = ?", [f"{base_url}|{model}"]))
    return rows[0]["mode"] if rows else None


def set_endpoint_mode(db: sqlite_utils.Database, base_url: str, model: str, mode: str) -> None:
    with transaction(db):
        db["endpoints"].upsert(
            {"endpoint": f"{base_url}|{model}", "base_url": base_url, "model": model, "mode": mode, "probed_at": now()},
            pk="endpoint",
        )


def usage_totals(db: sqlite_utils.Database) -> dict[str, int]:
    """Tokens and requests spent on models over every extraction ever stored."""
    total = {"prompt_tokens": 0, "completion_tokens": 0, "requests": 0, "cache_hits": 0}
    for row in db.query("select usage from extractions where usage is not null and usage != '{}'"):
        for key, value in json.loads(row["usage"]).items():
            if key in total:
                total[key] += int(value)
    return total


# --- Reviews and gold ------------------------------------------------------------------------


class Conflict(Exception):
    """Someone else saved a review of this document after it was opened."""

    def __init__(self, other: dict[str, Any]) -> None:
        super().__init__(f"review {other['id']} by {other['reviewer']} at {other['created_at']} came first")
        self.other = other


def add_review(
    db: sqlite_utils.Database,
    doc_id: str,
    reviewer: str,
    action: str,
    report: Report,
    diff: list[dict[str, Any]],
    note: str = "",
    source_inconsistent: bool = False,
    based_on: int | None = -1,
) -> int:
    """Append a human decision and the gold example it makes; the document becomes reviewed.

    `based_on` is the id of the latest review the reviewer saw when opening the document (None
    when there was none); if another review has been saved since, nothing is written and
    Conflict carries the other review. -1 skips the check (a script that means to append).
    """
    _check_review(reviewer, action, note)
    stamp = now()
    with transaction(db):  # the check and the write must not interleave with another reviewer's
        latest = latest_review(db, doc_id)
        if based_on != -1 and (latest["id"] if latest else None) != based_on:
            raise Conflict(latest)  # type: ignore[arg-type]
        doc = db["documents"].get(doc_id)
        row = {
            "doc_id": doc_id,
            "extraction_id": doc["current_extraction"],
            "reviewer": reviewer,
            "action": action,
            "report": report.model_dump_json(),
            "diff": dumps(diff),
            "note": note,
            "source_inconsistent": int(source_inconsistent),
            "created_at": stamp,
        }
        review_id = db["reviews"].insert(row).last_pk
        if action != "discarded":  # not a report: no gold example of it
            db["gold"].insert(
                {
                    "doc_id": doc_id,
                    "review_id": review_id,
                    "reviewer": reviewer,
                    "report": row["report"],
                    "source_inconsistent": row["source_inconsistent"],
                    "created_at": stamp,
                }
            )
        status = "discarded" if action == "discarded" else "reviewed"
        db["documents"].update(doc_id, {"status": status, "updated_at": stamp})
        cells.refresh(db, doc_id)
    return review_id


def _check_review(reviewer: str, action: str, note: str) -> None:
    """A review the store refuses before taking any lock: an unknown action, no reviewer, no note."""
    if action not in REVIEW_ACTIONS:
        raise ValueError(f"unknown review action {action!r}; expected one of {REVIEW_ACTIONS}")
    if action == "accepted_as_printed" and not note.strip():
        raise ValueError("accepting an inconsistent source as printed needs a note saying why")
    if not reviewer.strip():
        raise ValueError("a review needs the reviewer's name")


def latest_review(db: sqlite_utils.Database, doc_id: str) -> dict[str, Any] | None:
    rows = list(db["reviews"].rows_where("doc_id = ?", [doc_id], order_by="id desc", limit=1))
    return rows[0] if rows else None


# --- Summaries -------------------------------------------------------------------------------


def status_counts(db: sqlite_utils.Database) -> dict[str, int]:
    counts = {s: 0 for s in STATUSES}
    for row in db.query("select status, count(*) as n from documents group by status"):
        counts[row["status"]] = row["n"]
    return counts


def top_failing_checks(db: sqlite_utils.Database, limit: int = 10) -> list[tuple[str, int]]:
    """Failing hard identities on current extractions, by family, with how many documents fail each."""
    rows = db.query(
        """select distinct d.id as doc, f.check_id from findings f
           join documents d on d.current_extraction = f.extraction_id
           where f.status = 'fail' and f.severity = 'hard' and d.status != 'reviewed'"""
    )
    per_doc = {(r["doc"], family(r["check_id"])) for r in rows}
    return Counter(name for _, name in per_doc).most_common(limit)
