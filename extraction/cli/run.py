"""The main job: `ingest` (files -> documents in the store), `extract` (documents -> checked
tables, accepted or queued) and `run` (both), each ending in a summary of what it did."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable

from extraction import pipeline
from extraction.cli import ui
from extraction.cli.options import (
    DEFAULT_DB,
    ApiKey,
    BaseUrl,
    Concurrency,
    DbOption,
    DocMemory,
    DocSeconds,
    Extractor,
    MaxMb,
    MaxPages,
    Mode,
    Model,
    Paths,
    PromptVersion,
    RetryFailed,
    doc_budget,
    file_limits,
    model_settings,
)
from extraction.read import ingest
from extraction.storage import store


def summarise(outcomes: list[pipeline.Outcome], verbose: bool = True) -> None:
    """The counts, and the documents that need a person (queued, failed); every one with verbose."""
    if not outcomes:
        ui.err.print("[red]No files matched[/]: check the paths (folders are read recursively, globs are expanded).")
        raise typer.Exit(2)
    shown = [o for o in outcomes if verbose or o.status in ("queued", "failed")]
    table = RichTable("document", "status", "detail", title="Documents", title_justify="left")
    for o in shown:
        table.add_row(ui.safe(Path(o.name).name), ui.styled(o.status), ui.safe(o.detail))
    if shown:
        ui.console.print(table)
    counts = Counter(o.status for o in outcomes)
    present = sum(1 for o in outcomes if o.detail == "already in the store")
    line = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    ui.console.print(line + (f" ({present} already in the store)" if present else ""))
    if not verbose and len(shown) < len(outcomes):
        ui.console.print(f"{len(outcomes) - len(shown)} more not listed; --verbose lists every document")
    stored_failed = sum(1 for o in outcomes if o.status == "failed" and o.detail == "already in the store")
    if stored_failed:
        ui.console.print(
            f"{stored_failed} of these had failed before and were not tried again: raise the limit named in"
            " [bold]xxgk show[/] and add [bold]--retry-failed[/]"
        )
    if counts.get("failed"):
        ui.err.print(f"[red]{counts['failed']} document(s) failed[/]: see the detail column; the rest were processed.")
        raise typer.Exit(ui.EXIT_FAILED)


def ingest_command(
    paths: Paths,
    db: DbOption = DEFAULT_DB,
    max_file_mb: MaxMb = ingest.DEFAULT_MAX_MB,
    max_pages: MaxPages = ingest.DEFAULT_MAX_PAGES,
    doc_seconds: DocSeconds = None,
    doc_memory_mb: DocMemory = None,
    retry_failed: RetryFailed = False,
) -> None:
    """Record report files in the store (same bytes twice: no-op; unreadable: failed, with why)."""
    limits = file_limits(max_file_mb, max_pages)
    budget = doc_budget(doc_seconds, doc_memory_mb)
    database = store.open_db(db)
    summarise(
        ui.tracked(
            "ingest",
            None,
            lambda bar: pipeline.ingest_paths(
                database,
                paths,
                progress=bar.tick,
                limits=limits,
                phase=bar.phase,
                budget=budget,
                retry_failed=retry_failed,
            ),
        )
    )


def extract_command(
    db: DbOption = DEFAULT_DB,
    force: Annotated[
        bool,
        typer.Option(
            help="Re-extract every readable document, those whose extraction failed (a crash or a budget)"
            " included; reviews are kept."
        ),
    ] = False,
    retry_model_failures: Annotated[
        bool, typer.Option(help="Ask the model again for the sections whose model call failed (endpoint down).")
    ] = False,
    extractor: Extractor = "cascade",
    concurrency: Concurrency = 4,
    llm_base_url: BaseUrl = None,
    llm_model: Model = None,
    llm_api_key: ApiKey = None,
    llm_mode: Mode = None,
    prompt_version: PromptVersion = None,
    doc_seconds: DocSeconds = None,
    doc_memory_mb: DocMemory = None,
) -> None:
    """Extract and check every pending document."""
    budget = doc_budget(doc_seconds, doc_memory_mb)
    database = ui.existing_db(db)
    settings = model_settings(database, extractor, llm_base_url, llm_model, llm_api_key, llm_mode, prompt_version)
    todo = pipeline.pending(database, force=force, model_failures=retry_model_failures)
    outcomes = ui.tracked(
        "extract",
        len(todo),
        lambda bar: pipeline.extract_documents(
            database, todo, bar.tick, settings, concurrency, pending_only=not force, budget=budget
        ),
    )
    if not outcomes:
        ui.console.print("Nothing pending. Use [bold]xxgk ingest[/] first, or --force to re-extract.")
        return
    summarise(outcomes)


def run_command(
    paths: Paths,
    db: DbOption = DEFAULT_DB,
    max_file_mb: MaxMb = ingest.DEFAULT_MAX_MB,
    max_pages: MaxPages = ingest.DEFAULT_MAX_PAGES,
    extractor: Extractor = "cascade",
    concurrency: Concurrency = 4,
    llm_base_url: BaseUrl = None,
    llm_model: Model = None,
    llm_api_key: ApiKey = None,
    llm_mode: Mode = None,
    prompt_version: PromptVersion = None,
    doc_seconds: DocSeconds = None,
    doc_memory_mb: DocMemory = None,
    retry_failed: RetryFailed = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="List every document, not only queued/failed.")
    ] = False,
) -> None:
    """Ingest, extract and check: the main job."""
    limits = file_limits(max_file_mb, max_pages)
    budget = doc_budget(doc_seconds, doc_memory_mb)
    database = store.open_db(db)
    settings = model_settings(database, extractor, llm_base_url, llm_model, llm_api_key, llm_mode, prompt_version)
    summarise(
        ui.tracked(
            "run",
            None,
            lambda bar: pipeline.run(
                database,
                paths,
                progress=bar.tick,
                settings=settings,
                concurrency=concurrency,
                limits=limits,
                phase=bar.phase,
                budget=budget,
                retry_failed=retry_failed,
            ),
        ),
        verbose,
    )
