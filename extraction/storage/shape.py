"""The store's tables as data (`TABLES`: history; `CURRENT_TABLES`: the browsable current values),
and the one function that gives a store those tables.

A `TableDef` says what a table is (columns, key, links to other tables, indexes) and which
columns it gained after stores already existed; `ensure` creates what is missing and adds the
later columns, so a new store and one made by older code end up with the same tables.
Nothing here commits: `ensure` runs inside the transaction that opens the store.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Later:
    """A column added after stores existed: added to a store that lacks it (NULL, or `default`)."""

    name: str
    kind: type
    default: Any = None


@dataclass(frozen=True)
class TableDef:
    """One table of the store."""

    name: str
    columns: dict[str, type]
    pk: str | tuple[str, ...] = "id"
    # (column, other table, other column): the links Datasette shows, declared (not enforced).
    foreign_keys: tuple[tuple[str, str, str], ...] = ()
    later: tuple[Later, ...] = ()
    indexes: tuple[tuple[str, ...], ...] = ()


def ensure(db: sqlite_utils.Database, tables: Sequence[TableDef]) -> None:
    """Create the missing tables, then add the later columns, then the indexes (all idempotent)."""
    for table in tables:
        db[table.name].create(
            table.columns, pk=table.pk, foreign_keys=list(table.foreign_keys) or None, if_not_exists=True
        )
    for table in tables:
        present = db[table.name].columns_dict
        for column in table.later:
            if column.name not in present:
                if column.default is None:
                    db[table.name].add_column(column.name, column.kind)
                else:
                    db[table.name].add_column(column.name, column.kind, not_null_default=column.default)
    for table in tables:
        for columns in table.indexes:
            db[table.name].create_index(list(columns), if_not_exists=True)


def link(db: sqlite_utils.Database, tables: Sequence[TableDef]) -> dict[str, int]:
    """Add the declared foreign keys a store made before them lacks; returns orphan rows per table.

    A store keeps the tables it was created with, so links declared later (findings, model
    calls, reviews and gold to their document and extraction) reach an old store only here:
    each table that lacks one is rebuilt with it (sqlite-utils' transform: every row, rowid and
    index copied), inside the caller's transaction, so a kill leaves the old tables whole.

    Rows that point at a row no longer there (a finding whose document was removed by hand or
    by older code) are kept where they are, and counted in a warning: the store does not
    enforce its keys (SQLite's foreign_keys pragma stays off), so such a row breaks nothing,
    while deleting it or moving it aside could hide a person's review from the document it
    belongs to, and skipping the table would take the links from all its other rows.
    `PRAGMA foreign_key_check` lists them.
    """
    missing = []
    for table in tables:
        present = {(fk.column, fk.other_table, fk.other_column) for fk in db[table.name].foreign_keys}
        columns = db[table.name].columns_dict
        missing += [(table.name, *fk) for fk in table.foreign_keys if fk not in present and fk[0] in columns]
    if not missing:
        return {}
    db.add_foreign_keys(missing)
    orphans: Counter[str] = Counter()
    for name in dict.fromkeys(fk[0] for fk in missing):
        # one line per broken link: a row may break two (its document and its extraction)
        orphans[name] += len({row[1] for row in db.execute(f"PRAGMA foreign_key_check([{name}])")})
    if orphans.total():
        counted = ", ".join(f"{n} in {name}" for name, n in orphans.items() if n)
        log.warning(
            "links added to a store made before them; rows pointing at a row that is gone were kept: %s "
            "(PRAGMA foreign_key_check lists them)",
            counted,
        )
    return {name: n for name, n in orphans.items() if n}


_DOC = ("doc_id", "documents", "id")
_EXTRACTION = ("extraction_id", "extractions", "id")

# The store's tables. `later` columns came after the first stores were made (scans read, garbled
# text repaired, runs sharing a store) and are added to a store that lacks them.
TABLES: tuple[TableDef, ...] = (
    TableDef(
        "documents",
        {
            "id": str,
            "name": str,
            "format": str,
            "size": int,
            "text": str,
            "pages": int,
            "doubts": str,
            "repair": str,
            "ingested_at": str,
            "status": str,
            "error": str,
            "agency": str,
            "year": int,
            "current_extraction": int,
            "updated_at": str,
        },
        later=(
            Later("pages", int),
            Later("doubts", str),
            Later("notes", str),
            Later("repair", str),
            Later("claim", str),
            Later("claimed_at", str),
            Later("attempts", int, default=0),
        ),
        # the pending documents; last year's report, looked up for every extraction
        indexes=(("status",), ("agency", "year")),
    ),
    TableDef(
        "extractions",
        {
            "id": int,
            "doc_id": str,
            "extractor": str,
            "model": str,
            "prompt_version": str,
            "mode": str,
            "report": str,
            "agency": str,
            "year": int,
            "layouts": str,
            "usage": str,
            "duration_ms": float,
            "error": str,
            "accepted": int,
            "agreement": str,
            "created_at": str,
        },
        foreign_keys=(_DOC,),
        indexes=(("doc_id",),),
    ),
    # Every request to a model, re-asks included, with what came back.
    TableDef(
        "llm_calls",
        {
            "id": int,
            "doc_id": str,
            "extraction_id": int,
            "section": str,
            "attempt": int,
            "messages": str,
            "completion": str,
            "usage": str,
            "error": str,
            "created_at": str,
        },
        foreign_keys=(_DOC, _EXTRACTION),
        indexes=(("extraction_id",),),
    ),
    TableDef("llm_cache", {"key": str, "entry": str, "created_at": str}, pk="key"),
    TableDef(
        "endpoints",
        {"endpoint": str, "base_url": str, "model": str, "mode": str, "probed_at": str},
        pk="endpoint",
    ),
    TableDef(
        "findings",
        {
            "id": int,
            "doc_id": str,
            "extraction_id": int,
            "check_id": str,
            "severity": str,
            "status": str,
            "message": str,
            "finding": str,
            "created_at": str,
        },
        foreign_keys=(_DOC, _EXTRACTION),
        indexes=(("extraction_id",),),
    ),
    TableDef(
        "reviews",
        {
            "id": int,
            "doc_id": str,
            "extraction_id": int,
            "reviewer": str,
            "action": str,
            "report": str,
            "diff": str,
            "note": str,
            "source_inconsistent": int,
            "created_at": str,
        },
        foreign_keys=(_DOC, _EXTRACTION),
        indexes=(("doc_id",),),
    ),
    TableDef(
        "gold",
        {
            "id": int,
            "doc_id": str,
            "review_id": int,
            "reviewer": str,
            "report": str,
            "source_inconsistent": int,
            "created_at": str,
        },
        foreign_keys=(_DOC, ("review_id", "reviews", "id")),
    ),
    TableDef("page_images", {"doc_id": str, "page": int, "png": bytes}, pk=("doc_id", "page"), foreign_keys=(_DOC,)),
)

_CELL_COLUMNS = {
    "doc_id": str,
    "section": str,
    "row": str,
    "column": str,
    "value": int,  # INTEGER affinity: counts stay integers, fractional money (万元) stays REAL
    "kind": str,
    "raw": str,
    "section_label": str,
    "row_label": str,
    "column_label": str,
    "template": str,
    "status": str,
    "extractor": str,
    "reviewed": int,
    "span_start": int,
    "span_end": int,
    "agency": str,
    "year": int,
    "name": str,
}
_FINDING_COLUMNS = {
    "doc_id": str,
    "check_id": str,
    "family": str,
    "severity": str,
    "status": str,
    "message": str,
    "cells": str,
    "source": str,
}

# The browsable face (`cells`): rewritten per document from the history tables above.
CURRENT_TABLES: tuple[TableDef, ...] = (
    TableDef("cells", _CELL_COLUMNS, pk=("doc_id", "section", "row", "column"), foreign_keys=(_DOC,)),
    TableDef("current_findings", {"id": int, **_FINDING_COLUMNS}, foreign_keys=(_DOC,), indexes=(("doc_id",),)),
)
