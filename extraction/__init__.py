"""xxgk-extract: verified, typed tables from 政府信息公开工作年度报告 (government information-disclosure
annual reports).

The sub-packages follow the pipeline, each taking what the one before hands on:

    read/      files -> text: a Document whose text keeps every table cell by cell (`ingest`)
    tables/    text -> tables: the deterministic layout parser (`layout.parse`)
    model/     text -> tables by a model, and the cascade that combines both (`cascade.extract`)
    checks     tables -> findings: the template's identities (`checks.run`)
    storage/   everything -> SQLite: documents, extractions, findings, reviews (`store`)
    pipeline   files -> store: ingest, extract, check, accepted | queued
    review     the reviewer's actions over the store (the review app is a screen over it)
    export     the store -> JSONL, CSV, Excel, Parquet
    scoring/   extractions scored against gold, and as an HTML page
    synth/     generated reports with known answers (tests, bench)
    template, schema   the shared vocabulary: sections, rows, columns; Cell, Table, Report, Finding
    cli/       the `xxgk` command: one module per stage (run, review, export, evaluate, admin)

The functions below are the few a library user needs. They import their stage when called, so
importing `extraction` (or any one module) stays light: no model client or OCR loaded unasked.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite_utils

    from extraction.model.cascade import Settings, Work
    from extraction.read.ingest import Document, Limits
    from extraction.schema import Extraction, Finding, Report

__all__ = ["check_report", "extract_text", "open_store", "parse_text", "read_file"]


def read_file(path: str | Path, max_mb: float | None = None, limits: Limits | None = None) -> Document:
    """Read one report file (text, HTML, .docx, PDF, image) into a Document (`ingest.read`).

    Never raises for a bad file: `Document.error` says why it could not be read, and
    `Document.text` is the text the table readers take.
    """
    from extraction.read import ingest

    return ingest.read(Path(path), max_mb, limits)


def parse_text(text: str) -> Extraction:
    """Read a report's three tables from its text with the layout parser (`layout.parse`).

    Free, offline and deterministic; every doubt is a finding in `Extraction.findings`.
    """
    from extraction.tables import layout

    return layout.parse(text)


def extract_text(text: str, settings: Settings | None = None, cache: dict[str, dict] | None = None) -> Work:
    """Extract a report's tables with the chosen extractor (`cascade.extract`).

    Without settings this is the layout parser alone; pass `cascade.Settings` with an LLM
    config to let a model read the sections the parser could not (or all of them: llm, both).
    """
    from extraction.model import cascade

    return cascade.extract(text, settings or cascade.Settings(kind="layout"), cache)


def check_report(report: Report, previous: Report | None = None, prose: str | None = None) -> list[Finding]:
    """Every check on a report (`checks.run`): hard identities, and the soft ones whose inputs exist.

    `previous` is the same agency's report for the year before; `prose` the text outside the tables.
    """
    from extraction import checks

    return checks.run(report, previous=previous, prose=prose)


def open_store(path: str | Path) -> sqlite_utils.Database:
    """Open (creating if needed) the SQLite store at `path` (`store.open_db`)."""
    from extraction.storage import store

    return store.open_db(path)
