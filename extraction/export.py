"""The export contract (EXPORT.md) as JSON lines, and the tables as people open them.

A reviewed document exports what the reviewer saved (extractor "review"); any other exports
its current extraction. Blank cells are null, never 0; a table not found is null. JSONL lists
failing checks only. The tabular exports (long or wide CSV, Excel, Parquet) read the store's
`cells` table, so they show exactly what Datasette shows.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

import sqlite_utils

from extraction import checks, template
from extraction.schema import Finding, Report
from extraction.storage import agencies, store

# A spreadsheet runs a cell opening with one of these as a formula (=HYPERLINK(...), +cmd|...):
# text from a report that opens so is written with a leading apostrophe, which shows it as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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
    # Failing checks only: the passing ones were 87% of the bytes and say nothing to act on.
    out["checks"] = [_check(f) for f in findings if f.failed]
    out["checks_passed"] = sum(1 for f in findings if not f.failed)
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


def write_jsonl(db: sqlite_utils.Database, out: IO[str], filters: Any = None) -> int:
    count = 0
    for doc in store.documents(db):
        if filters is not None and not filters.admits(doc):
            continue
        rec = record(db, doc)
        if filters is not None and filters.template and rec["template"] != filters.template:
            continue
        out.write(store.dumps(rec) + "\n")
        count += 1
    return count


# --- Tables people open: long and wide CSV, Excel, Parquet ------------------------------------

LONG_COLUMNS = [
    "doc",
    "file",
    "agency",
    "year",
    "template",
    "status",
    "extractor",
    "section",
    "section_label",
    "row",
    "row_label",
    "column",
    "column_label",
    "value",
    "value_wan_yuan",
    "kind",
    "raw",
]
# Money (万元) has its own column so that `value` holds counts only and loads as integers.
MONEY_COLUMNS = frozenset(
    c.key
    for s in template.SECTIONS
    for v in ("2019", "2021")
    for r in template.spec(s, v).rows  # type: ignore[arg-type]
    for c in r.columns
    if c.kind == "money"
)
DOC_COLUMNS = ["doc", "file", "agency", "year", "template", "status", "extractor"]
SHORT_ID = 12  # enough to be unique in any real store; `xxgk show` takes it as a prefix


@dataclass(frozen=True)
class Filters:
    """Which documents an export holds. Agency matches the normalised key or part of the name."""

    status: str | None = None
    year: int | None = None
    agency: str | None = None
    template: str | None = None
    section: str | None = None

    def admits(self, doc: dict[str, Any]) -> bool:
        if self.status and doc["status"] != self.status:
            return False
        if self.year and doc["year"] != self.year:
            return False
        if self.agency:
            wanted = agencies.key(self.agency) or self.agency
            name = doc["agency"] or ""
            if doc.get("agency_key") != wanted and self.agency not in name:
                return False
        return True

    def where(self) -> tuple[str, list[Any]]:
        """The same filter on the `cells` table, as SQL."""
        clauses, args = [], []
        for column, value in (("status", self.status), ("year", self.year), ("template", self.template)):
            if value:
                clauses.append(f"c.{column} = ?")
                args.append(value)
        if self.section:
            clauses.append("c.section = ?")
            args.append(self.section)
        if self.agency:
            clauses.append("(d.agency_key = ? or c.agency like ?)")
            args += [agencies.key(self.agency) or self.agency, f"%{self.agency}%"]
        return (" and ".join(clauses) or "1"), args


def _file(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def long_rows(db: sqlite_utils.Database, filters: Filters | None = None) -> Iterator[dict[str, Any]]:
    """One row per current cell, in store then template order."""
    where, args = (filters or Filters()).where()
    sql = f"""select c.*, d.ingested_at from cells c join documents d on d.id = c.doc_id
              where {where} order by d.ingested_at, d.id, c.rowid"""
    for row in db.query(sql, args):
        money = row["column"] in MONEY_COLUMNS
        yield {
            **{k: row[k] for k in LONG_COLUMNS if k in row},
            "doc": row["doc_id"][:SHORT_ID],
            "file": _file(row["name"]),
            "value": None if money else row["value"],
            "value_wan_yuan": row["value"] if money else None,
        }


def wide_columns(section: str) -> list[tuple[str, str, str]]:
    """(row, column, header) for every cell a section has in either template version."""
    seen: dict[tuple[str, str], str] = {}
    for version in ("2019", "2021"):
        for row in template.spec(section, version).rows:  # type: ignore[arg-type]
            for column in row.columns:
                seen.setdefault((row.key, column.key), f"{row.name}/{column.label}")
    return [(r, c, header) for (r, c), header in seen.items()]


def wide_rows(db: sqlite_utils.Database, section: str, filters: Filters | None = None) -> list[dict[str, Any]]:
    """One row per report for one section, one column per cell headed by its Chinese labels."""
    headers = {(r, c): h for r, c, h in wide_columns(section)}
    out: dict[str, dict[str, Any]] = {}
    for cell in long_rows(db, replace(filters or Filters(), section=section)):
        row = out.setdefault(cell["doc"], {k: cell[k] for k in DOC_COLUMNS} | dict.fromkeys(headers.values()))
        money = cell["column"] in MONEY_COLUMNS
        row[headers[(cell["row"], cell["column"])]] = cell["value_wan_yuan"] if money else cell["value"]
    return list(out.values())


def _csv_value(value: Any) -> Any:
    return "" if value is None else spreadsheet_safe(value)


def write_long_csv(db: sqlite_utils.Database, out: IO[str], filters: Filters | None = None) -> int:
    """Long form, UTF-8 with a byte-order mark when written to a file (Excel then reads Chinese)."""
    writer = csv.DictWriter(out, LONG_COLUMNS)
    writer.writeheader()
    count = 0
    for row in long_rows(db, filters):
        writer.writerow({k: _csv_value(v) for k, v in row.items()})
        count += 1
    return count


def write_wide_csv(db: sqlite_utils.Database, out: IO[str], filters: Filters | None = None) -> int:
    """Wide form: one row per report per section, a `section` column saying which."""
    sections = [filters.section] if filters and filters.section else list(template.SECTIONS)
    headers = ["section", *DOC_COLUMNS, *(h for s in sections for _, _, h in wide_columns(s))]
    writer = csv.DictWriter(out, headers)
    writer.writeheader()
    count = 0
    for section in sections:
        for row in wide_rows(db, section, filters):
            writer.writerow({"section": section, **{k: _csv_value(v) for k, v in row.items()}})
            count += 1
    return count


def failing_checks(db: sqlite_utils.Database, filters: Filters | None = None) -> list[dict[str, Any]]:
    rows = []
    templates = {r["doc_id"]: r["template"] for r in db.query("select distinct doc_id, template from cells")}
    for doc in store.documents(db):
        if filters is not None and not filters.admits(doc):
            continue
        if filters is not None and filters.template and templates.get(doc["id"]) != filters.template:
            continue
        for f in db["current_findings"].rows_where("doc_id = ? and status = 'fail'", [doc["id"]], order_by="id"):
            rows.append(
                {
                    "doc": doc["id"][:SHORT_ID],
                    "file": _file(doc["name"]),
                    "agency": doc["agency"],
                    "year": doc["year"],
                    "check": f["check_id"],
                    "severity": f["severity"],
                    "message": f["message"],
                }
            )
    return rows


def write_xlsx(db: sqlite_utils.Database, path: Path, filters: Filters | None = None) -> int:
    """One sheet per section (wide, integers as numbers) and a sheet of failing checks."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    count = 0
    sections = [filters.section] if filters and filters.section else list(template.SECTIONS)
    for section in sections:
        sheet = book.create_sheet(section)
        headers = [*DOC_COLUMNS, *(h for _, _, h in wide_columns(section))]
        sheet.append(headers)
        for row in wide_rows(db, section, filters):
            sheet.append([row.get(h) for h in headers])
            count += 1
        sheet.freeze_panes = "B2"
    checks_sheet = book.create_sheet("checks")
    columns = ["doc", "file", "agency", "year", "check", "severity", "message"]
    checks_sheet.append(columns)
    for row in failing_checks(db, filters):
        checks_sheet.append([row[c] for c in columns])
    book.save(path)
    return count


def write_parquet(db: sqlite_utils.Database, path: Path, filters: Filters | None = None) -> int:
    """Long form as Parquet, typed: counts int64 (null for blank), money (万元) float64."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:  # an optional extra
        raise RuntimeError("Parquet needs pyarrow: pip install 'xxgk-extract[parquet]'") from exc
    rows = list(long_rows(db, filters))
    types = {"year": pa.int64(), "value": pa.int64(), "value_wan_yuan": pa.float64()}
    schema = pa.schema([(k, types.get(k, pa.string())) for k in LONG_COLUMNS])
    data = {k: [r[k] for r in rows] for k in LONG_COLUMNS}
    pq.write_table(pa.table(data, schema=schema), path)
    return len(rows)


def spreadsheet_safe(field: Any) -> Any:
    """A CSV field as a spreadsheet will show it, never run it: text opening like a formula gets
    a leading apostrophe. Numbers are written as numbers: a negative change (-3) is data, not a formula."""
    if isinstance(field, str) and field.startswith(_FORMULA_START):
        return "'" + field
    return field
