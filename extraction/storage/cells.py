"""The browsable face of the store: one row per current cell, the current checks, views and search.

`extractions.report` and `reviews.report` keep every value ever read as JSON, which nobody can
query. The `cells` table holds the values a data user should see now (the latest review of a
reviewed document, else its current extraction), one row per document x section x row x column
with the Chinese labels beside the keys; `current_findings` holds the checks of those same
values. Both are rewritten, for one document, in the transaction that records an extraction, a
re-check or a review, so they never disagree with the history tables they summarise. The
`findings` table stays as history (every extraction's findings, by extraction id).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import sqlite_utils

from extraction import checks, template
from extraction.schema import Finding, Report
from extraction.storage import agencies, shape


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Create the tables, views and full-text index; fill `cells` for a store made before it existed.

    Runs inside the transaction that opens the store (`store.open_db`): all of it or none."""
    fresh = "cells" not in db.table_names()
    if "agency_key" not in db["documents"].columns_dict:
        db["documents"].add_column("agency_key", str)
    shape.ensure(db, shape.CURRENT_TABLES)
    db["documents"].create_index(["agency_key", "year"], if_not_exists=True)
    # Replaced only when changed: opening a store must not rewrite its schema under other writers.
    present = {r["name"]: r["sql"] for r in db.query("select name, sql from sqlite_master where type = 'view'")}
    for name, sql in views().items():
        if present.get(name) != f"CREATE VIEW {name} AS {sql}":
            db.execute(f"drop view if exists {name}")
            db.execute(f"CREATE VIEW {name} AS {sql}")
    if not db["documents"].detect_fts():
        # Triggers keep the index true when a document's agency is set by a later extraction.
        db["documents"].enable_fts(["name", "agency", "text"], create_triggers=True, tokenize="trigram")
    _index_only_indexed_changes(db)
    if fresh:
        for doc_id in [row["id"] for row in db.query("select id from documents where current_extraction is not null")]:
            refresh(db, doc_id)


# sqlite-utils' update trigger re-indexes a document's whole text on every update of its row, and
# a document's row is updated several times per extraction (claimed, filed, its status): with
# trigram indexing that was most of the time a batch spent storing. Only a change to an indexed
# column needs the index touched.
_UPDATE_TRIGGER = """CREATE TRIGGER "documents_au" AFTER UPDATE OF "name", "agency", "text" ON "documents" BEGIN
  INSERT INTO "documents_fts" ("documents_fts", rowid, "name", "agency", "text")
    VALUES('delete', old.rowid, old."name", old."agency", old."text");
  INSERT INTO "documents_fts" (rowid, "name", "agency", "text")
    VALUES (new.rowid, new."name", new."agency", new."text");
END"""


def _index_only_indexed_changes(db: sqlite_utils.Database) -> None:
    present = {r["name"]: r["sql"] for r in db.query("select name, sql from sqlite_master where type = 'trigger'")}
    if present.get("documents_au") != _UPDATE_TRIGGER:
        db.execute('DROP TRIGGER IF EXISTS "documents_au"')
        db.execute(_UPDATE_TRIGGER)


def _column_keys() -> list[tuple[str, str]]:
    """Every column key of every section, in template order, with its Chinese label."""
    seen: dict[str, str] = {}
    for section in template.SECTIONS:
        for version in ("2019", "2021"):
            for row in template.spec(section, version).rows:  # type: ignore[arg-type]
                for column in row.columns:
                    seen.setdefault(column.key, column.label)
    return list(seen.items())


def views() -> dict[str, str]:
    """The views a person opens first: tables as printed, the review queue, agencies by year."""
    wide = ",\n  ".join(f"max(case when c.[column] = '{key}' then c.value end) as [{key}]" for key, _ in _column_keys())
    return {
        "current_tables": f"""select c.doc_id, c.name, c.agency, c.year, c.section, c.section_label, c.template,
  c.row, c.row_label, c.status, c.extractor, c.reviewed,
  {wide}
from cells c group by c.doc_id, c.section, c.row order by c.doc_id, c.section, min(c.rowid)""",
        "queue": """select d.id as doc_id, d.name, d.agency, d.year, d.updated_at as since,
  (select group_concat(family, ', ') from (select distinct f.family from current_findings f
     where f.doc_id = d.id and f.status = 'fail' and f.severity = 'hard' order by f.family)) as reasons,
  (select count(*) from current_findings f where f.doc_id = d.id and f.status = 'fail' and f.severity = 'hard')
    as failing_checks
from documents d where d.status = 'queued' order by d.updated_at, d.name""",
        "agency_years": """select d.agency_key, d.year, d.agency, d.id as doc_id, d.name, d.status,
  (select c.template from cells c where c.doc_id = d.id limit 1) as template,
  (select value from cells c where c.doc_id = d.id and c.section = 'applications'
     and c.row = 'new_received' and c.[column] = 'total') as new_received,
  (select value from cells c where c.doc_id = d.id and c.section = 'applications'
     and c.row = 'carried_over' and c.[column] = 'total') as carried_over,
  (select value from cells c where c.doc_id = d.id and c.section = 'applications'
     and c.row = 'carried_forward' and c.[column] = 'total') as carried_forward,
  (select count(*) from current_findings f where f.doc_id = d.id and f.status = 'fail'
     and f.check_id like '%_vs_last_year.%') as cross_year_failures
from documents d where d.agency_key is not null order by d.agency_key, d.year""",
    }


def current(db: sqlite_utils.Database, doc: dict[str, Any]) -> tuple[Report | None, list[Finding], str | None, bool]:
    """The values a data user should see for a document: report, findings, extractor, reviewed.
    A document a reviewer discarded (not a report) has none."""
    if doc["status"] == "discarded":
        return None, [], None, True
    if doc["status"] == "reviewed":
        rows = list(db["reviews"].rows_where("doc_id = ?", [doc["id"]], order_by="id desc", limit=1))
        if rows:
            report = Report.model_validate_json(rows[0]["report"])
            return report, checks.run(report, previous=_previous_year(db, doc)), "review", True
    if doc["current_extraction"] is None:
        return None, [], None, False
    extraction = db["extractions"].get(doc["current_extraction"])
    found = db["findings"].rows_where("extraction_id = ?", [extraction["id"]], order_by="id")
    model = f":{extraction['model']}" if extraction["model"] else ""
    report = Report.model_validate_json(extraction["report"])
    return report, [Finding.model_validate_json(r["finding"]) for r in found], extraction["extractor"] + model, False


def _previous_year(db: sqlite_utils.Database, doc: dict[str, Any]) -> Report | None:
    """Last year's report of the same agency, for a reviewed report's cross-year checks.

    Imported when called: the pipeline owns the lookup (reviewed values first) and imports the store.
    """
    from extraction import pipeline

    return pipeline.previous_year(db, doc["id"], doc["agency"], doc["year"])


def _number(value: int | Decimal | None) -> int | float | None:
    if value is None or isinstance(value, int):
        return value
    return int(value) if value == value.to_integral_value() else float(value)


def refresh(db: sqlite_utils.Database, doc_id: str) -> None:
    """Rewrite one document's cells and current findings from what is current now.

    Runs inside the caller's transaction (the one that recorded the extraction or review).
    """
    doc = db["documents"].get(doc_id)
    db["cells"].delete_where("doc_id = ?", [doc_id])
    db["current_findings"].delete_where("doc_id = ?", [doc_id])
    db["documents"].update(doc_id, {"agency_key": agencies.key(doc["agency"])})
    if doc["status"] == "failed":
        return
    report, findings, extractor, reviewed = current(db, doc)
    if report is None:
        return
    _insert(db, "cells", _cell_rows(doc, report, extractor, reviewed))
    _insert(db, "current_findings", _finding_rows(doc_id, findings, reviewed))
    if reviewed:
        # A reviewer's values are what the next year is compared with (上年结转 = last year's
        # 结转下年度): its cross-year checks were computed against the extraction and are stale.
        # Runs in the review's transaction; the chain stops at the first year not reviewed.
        from extraction import pipeline

        pipeline.recheck_next_year(db, doc_id)


def _cell_rows(doc: dict[str, Any], report: Report, extractor: str | None, reviewed: bool) -> list[dict[str, Any]]:
    """One row per cell of every table of the report, in template order, with its labels."""
    version = report.template_version()
    rows = []
    for table in report.tables():
        spec = template.spec(table.section, table.version)
        for row in spec.rows:
            for column in row.columns:
                cell = table.cell(row.key, column.key)
                rows.append(
                    {
                        "doc_id": doc["id"],
                        "section": table.section,
                        "row": row.key,
                        "column": column.key,
                        "value": _number(cell.value),
                        "kind": cell.kind.value,
                        "raw": cell.raw,
                        "section_label": template.SECTION_TITLES[table.section],
                        "row_label": row.label,
                        "column_label": column.label,
                        "template": version or table.version,
                        "status": doc["status"],
                        "extractor": extractor,
                        "reviewed": int(reviewed),
                        "span_start": cell.span[0] if cell.span else None,
                        "span_end": cell.span[1] if cell.span else None,
                        "agency": doc["agency"],
                        "year": doc["year"],
                        "name": doc["name"],
                    }
                )
    return rows


def _finding_rows(doc_id: str, findings: list[Finding], reviewed: bool) -> list[dict[str, Any]]:
    return [
        {
            "doc_id": doc_id,
            "check_id": f.id,
            "family": checks.family(f.id),
            "severity": f.severity,
            "status": f.status,
            "message": f.message,
            "cells": json.dumps([list(c) for c in f.cells], ensure_ascii=False),
            "source": "review" if reviewed else "extraction",
        }
        for f in findings
    ]


def _insert(db: sqlite_utils.Database, table: str, rows: list[dict[str, Any]]) -> None:
    """Rows of plain values (the table exists): one prepared statement, not sqlite-utils' per-value
    type checks, which cost more than the rest of filing a document."""
    if not rows:
        return
    columns = list(rows[0])
    names = ", ".join(f"[{c}]" for c in columns)
    marks = ", ".join(["?"] * len(columns))
    db.conn.executemany(f"INSERT INTO [{table}] ({names}) VALUES ({marks})", [tuple(r.values()) for r in rows])


def forget(db: sqlite_utils.Database, doc_id: str) -> dict[str, int]:
    """Remove a document and everything recorded about it; returns rows removed per table.

    Reviews and gold go too: forgetting is the user's explicit wish to drop a file (a wrong
    upload), and the CLI names what a reviewed document loses before doing it.
    """
    removed: dict[str, int] = {}
    with db.conn:
        for table in ("cells", "current_findings", "findings", "llm_calls", "gold", "reviews", "page_images"):
            if table in db.table_names():
                removed[table] = db[table].count_where("doc_id = ?", [doc_id])
                db[table].delete_where("doc_id = ?", [doc_id])
        removed["extractions"] = db["extractions"].count_where("doc_id = ?", [doc_id])
        db["extractions"].delete_where("doc_id = ?", [doc_id])
        removed["documents"] = db["documents"].count_where("id = ?", [doc_id])
        db["documents"].delete_where("id = ?", [doc_id])
    return removed


_TABLE_DOCS: dict[str, tuple[str, str]] = {
    "documents": ("报告文件：每个文件一行（状态、机关、年度、全文）", "One row per report file: status, agency, text."),
    "cells": (
        "当前数值：每份报告 × 表 × 行 × 列一格（经审核的取审核结果）",
        "Current values, one row per report x section x row x column (the review's when reviewed).",
    ),
    "current_findings": (
        "当前校验结果（对应当前数值）",
        "Checks of the current values; every extraction's findings stay in `findings`.",
    ),
    "findings": ("历次抽取的校验记录（历史）", "History: the findings of every extraction, by extraction id."),
    "extractions": ("历次抽取（历史，report 为 JSON）", "History: every extraction attempt, the report as JSON."),
    "reviews": ("人工审核记录", "Every reviewer decision, appended."),
    "current_tables": ("当前表格（宽表：每行一表行，每列一个栏目）", "The tables as printed: one row per table row."),
    "queue": ("待审核队列及原因", "Documents waiting for a reviewer, and why."),
    "agency_years": ("同一机关的历年报告（按规范化机关名）", "One agency's reports by year (normalised agency key)."),
}
_COLUMN_DOCS: dict[str, str] = {
    "doc_id": "文件 SHA-256 / document id (sha256 of the bytes)",
    "name": "文件名 / file the report was read from",
    "agency": "机关（按报告所印）/ agency as printed",
    "agency_key": "规范化机关名（跨年匹配）/ normalised agency, matches years",
    "year": "报告年度 / report year",
    "status": "状态 / accepted, queued, reviewed, failed, ingested",
    "section": "表 / section key (proactive 二, applications 三, review_litigation 四)",
    "section_label": "表名 / section title",
    "row": "行键 / row key (TEMPLATE.md)",
    "row_label": "行名 / row label as in the template",
    "column": "列键 / column key (TEMPLATE.md)",
    "column_label": "列名 / column label as in the template",
    "value": "数值（空白为 NULL，不是 0）/ value; blank is NULL, never 0",
    "kind": "类型 / number, zero, blank, not_applicable ('/')",
    "raw": "原文 / the characters printed in the cell",
    "template": "模板版本 / template version (2019 or 2021)",
    "extractor": "来源 / layout, llm:<model>, cascade or review",
    "reviewed": "是否经人工审核 / 1 when the values are a reviewer's",
    "span_start": "原文起始位置 / character offset of the cell in the text",
    "span_end": "原文结束位置 / end offset in the text",
    "check_id": "校验 / check id",
    "family": "校验类别 / check family",
    "severity": "严重程度 / hard (blocks acceptance) or soft",
    "message": "说明 / the rule applied to these numbers",
    "reasons": "待审原因 / failing hard check families",
}


def metadata(database: str = "xxgk") -> dict[str, Any]:
    """Datasette metadata: Chinese and English descriptions of tables, views and columns."""
    labels = dict(_column_keys())
    tables: dict[str, Any] = {}
    for name, (zh, en) in _TABLE_DOCS.items():
        columns = dict(_COLUMN_DOCS)
        if name == "current_tables":
            columns.update({k: f"{label} / column {k}" for k, label in labels.items()})
        tables[name] = {"description": f"{zh} — {en}", "columns": columns}
    return {
        "title": "xxgk: 政府信息公开工作年度报告",
        "description": "Verified tables from Chinese government information-disclosure annual reports.",
        "databases": {database: {"tables": tables}},
    }
