"""The export contract (EXPORT.md): one JSON object per report, or one CSV row per cell.

A reviewed document exports what the reviewer saved (extractor "review"); any other exports
its current extraction. Blank cells are null, never 0; a table not found is null.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import IO, Any

import sqlite_utils

from extraction import checks, store
from extraction.schema import Finding, Report

# A spreadsheet runs a cell opening with one of these as a formula (=HYPERLINK(...), +cmd|...):
# text from a report that opens so is written with a leading apostrophe, which shows it as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

CSV_COLUMNS = ["doc_id", "agency", "year", "section", "row", "column", "value", "status", "kind", "raw"]


def record(db: sqlite_utils.Database, doc: dict[str, Any]) -> dict[str, Any]:
    """One document in the export shape."""
    out: dict[str, Any] = {
        "doc_id": doc["id"],
        "source": doc["name"],
        "status": doc["status"],
        "agency": doc["agency"],
        "year": doc["year"],
        "template": None,
        "templates": {},
        "proactive": None,
        "applications": None,
        "review_litigation": None,
        "checks": [],
        "extractor": None,
        "source_inconsistent": False,
        "error": doc["error"] if doc["status"] == "failed" else None,
    }
    report, findings = current_report(db, doc, out)
    if report is None:
        return out
    out["template"] = report.template_version()
    out["templates"] = {t.section: t.version for t in report.tables()}
    for section in ("proactive", "applications", "review_litigation"):
        table = report.table(section)  # type: ignore[arg-type]
        out[section] = table.values() if table is not None else None
    out["checks"] = [_check(f) for f in findings]
    return out


def current_report(
    db: sqlite_utils.Database, doc: dict[str, Any], out: dict[str, Any]
) -> tuple[Report | None, list[Finding]]:
    if doc["status"] == "reviewed":
        review = store.latest_review(db, doc["id"])
        if review is not None:
            report = store.report_of(review)
            out["extractor"] = "review"
            out["source_inconsistent"] = bool(review["source_inconsistent"])
            out["reviewed_by"] = review["reviewer"]
            out["reviewed_at"] = review["created_at"]
            return report, checks.run(report)
    extraction = store.current_extraction(db, doc["id"]) if doc["current_extraction"] else None
    if extraction is None:
        return None, []
    model = f":{extraction['model']}" if extraction["model"] else ""
    out["extractor"] = f"{extraction['extractor']}{model}"
    return store.report_of(extraction), store.findings(db, extraction["id"])


def _check(finding: Finding) -> dict[str, Any]:
    return {
        "id": finding.id,
        "severity": finding.severity,
        "passed": finding.status != "fail",
        "status": finding.status,
        "message": finding.message,
        "cells": [list(c) for c in finding.cells],
    }


def records(db: sqlite_utils.Database) -> Iterator[dict[str, Any]]:
    for doc in store.documents(db):
        yield record(db, doc)


def write_jsonl(db: sqlite_utils.Database, out: IO[str]) -> int:
    count = 0
    for rec in records(db):
        out.write(store.dumps(rec) + "\n")
        count += 1
    return count


def write_csv(db: sqlite_utils.Database, out: IO[str]) -> int:
    """Long form: one row per cell of every table found, blank cells as empty values."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for doc in store.documents(db):
        meta: dict[str, Any] = {}
        report, _ = current_report(db, doc, meta)
        if report is None:
            continue
        for table in report.tables():
            for row, cols in table.cells.items():
                for column, cell in cols.items():
                    value = "" if cell.value is None else json.loads(store.dumps(cell.value))
                    fields = [
                        doc["id"],
                        doc["agency"] or "",
                        doc["year"] or "",
                        table.section,
                        row,
                        column,
                        value,
                        doc["status"],
                        cell.kind.value,
                        cell.raw,
                    ]
                    writer.writerow([spreadsheet_safe(f) for f in fields])
                    count += 1
    return count


def spreadsheet_safe(field: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, prefixed with ' so it is shown as text.
    Numbers are written as numbers: a negative change (-3) is data, not a formula."""
    if isinstance(field, str) and field.startswith(_FORMULA_START):
        return "'" + field
    return field
