"""The options commands share, declared once, and the settings they turn into.

An option used by more than one command is an `Annotated` alias here (its flag, environment
variable and help in one place); a command lists the aliases it takes as parameters. To give
`run` and `extract` a new option: add an alias here, add the parameter to both commands (in
`cli/run.py`) and pass it on to the library. Choices are enums, so typer matches them without
regard to case and lists them in --help.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from extraction import pipeline, workers
from extraction.cli import ui
from extraction.model import cascade, llm
from extraction.read import ingest

DEFAULT_DB = Path("xxgk.db")

DbOption = Annotated[Path, typer.Option("--db", envvar="XXGK_DB", help="SQLite store.")]
Paths = Annotated[list[str], typer.Argument(help="Files, folders or globs.")]
DocArg = Annotated[str, typer.Argument(help="Document id, id prefix or name.")]
MaxMb = Annotated[
    float, typer.Option("--max-file-mb", envvar="XXGK_MAX_FILE_MB", help="Larger files are recorded as failed.")
]
MaxPages = Annotated[
    int, typer.Option("--max-pages", envvar="XXGK_MAX_PAGES", help="PDFs and scans with more pages fail, unread.")
]
Extractor = Annotated[
    str, typer.Option("--extractor", help="layout | llm | cascade (layout first, model where needed) | both.")
]
Concurrency = Annotated[
    int, typer.Option("--concurrency", min=1, help="Documents extracted at once, each in its own worker process.")
]
DocSeconds = Annotated[
    float | None,
    typer.Option(
        "--doc-seconds",
        min=0.1,
        help="Seconds one document may take to be read, and to be extracted (model time on top); over it"
        f" the document is failed (default: XXGK_DOC_SECONDS, else {workers.DEFAULT_SECONDS:g}).",
    ),
]
DocMemory = Annotated[
    float | None,
    typer.Option(
        "--doc-memory-mb",
        min=16,
        help="Memory (MB) one document may use while it is read or extracted; over it the document is failed"
        f" (default: XXGK_DOC_MEMORY_MB, else {workers.DEFAULT_MEMORY_MB:g}).",
    ),
]
RetryFailed = Annotated[
    bool,
    typer.Option(
        "--retry-failed",
        help="Try these files' failed documents again (after raising the limit they failed on): one that failed"
        " while read is read again, and with run one whose extraction failed is extracted again; reviews are kept.",
    ),
]
BaseUrl = Annotated[str | None, typer.Option("--llm-base-url", help="OpenAI-compatible endpoint (XXGK_LLM_BASE_URL).")]
Model = Annotated[str | None, typer.Option("--llm-model", help="Model name (XXGK_LLM_MODEL).")]
ApiKey = Annotated[str | None, typer.Option("--llm-api-key", help="Key (XXGK_LLM_API_KEY, else OPENAI_API_KEY).")]
Mode = Annotated[str | None, typer.Option("--llm-mode", help="JSON_SCHEMA | TOOLS | MD_JSON; default: probe once.")]
PromptVersion = Annotated[
    str | None,
    typer.Option(
        "--prompt-version",
        help="Folder under prompts/: v4 (default, a call per report, sections condensed), v3 (a call per"
        " report, verbatim), v2 (a call per section), v1."
        " Default from XXGK_PROMPT_VERSION.",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print rows as JSON, for scripts.")]
AsCsv = Annotated[bool, typer.Option("--csv", help="Print rows as CSV, for scripts.")]


class ExportFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"
    xlsx = "xlsx"
    parquet = "parquet"


class StatusChoice(StrEnum):
    ingested = "ingested"
    extracted = "extracted"
    accepted = "accepted"
    queued = "queued"
    reviewed = "reviewed"
    failed = "failed"


class TemplateChoice(StrEnum):
    v2019 = "2019"
    v2021 = "2021"


class SectionChoice(StrEnum):
    proactive = "proactive"
    applications = "applications"
    review_litigation = "review_litigation"


StatusFilter = Annotated[
    StatusChoice | None, typer.Option("--status", case_sensitive=False, help="Only documents in this status.")
]


def file_limits(max_file_mb: float, max_pages: int) -> ingest.Limits:
    """The size and page limits, from the options or their environment variables; exit 2 if unusable."""
    try:
        return ingest.Limits.from_env(max_mb=max_file_mb, max_pages=max_pages)
    except ingest.SettingsError as exc:
        ui.err.print(f"[red]{ui.safe(exc)}[/]")
        raise typer.Exit(ui.EXIT_USAGE) from exc


def doc_budget(seconds: float | None, memory_mb: float | None) -> workers.Budget:
    """The time and memory one document may use, from the options or their environment
    variables; exit 2 if unusable (before a store is created)."""
    try:
        return workers.Budget.from_env(seconds=seconds, memory_mb=memory_mb)
    except ingest.SettingsError as exc:
        ui.err.print(f"[red]{ui.safe(exc)}[/]")
        raise typer.Exit(ui.EXIT_USAGE) from exc


def model_settings(
    database: Any,
    extractor: str,
    base_url: str | None,
    model: str | None,
    api_key: str | None,
    mode: str | None,
    prompt_version: str | None,
) -> cascade.Settings:
    """The extractor and model settings a command runs with; a bad choice or value exits 2, named."""
    if extractor not in cascade.KINDS:
        ui.err.print(f"[red]Unknown extractor {extractor!r}[/]: use one of {', '.join(cascade.KINDS)}.")
        raise typer.Exit(2)
    if mode is not None and mode not in llm.MODES:
        ui.err.print(f"[red]Unknown mode {mode!r}[/]: use one of {', '.join(llm.MODES)}.")
        raise typer.Exit(2)
    try:
        config = llm.LLMConfig.from_env(
            base_url=base_url, model=model, api_key=api_key, mode=mode, prompt_version=prompt_version
        )
    except ValueError as exc:  # a bad XXGK_LLM_* value
        ui.err.print(f"[red]A model setting cannot be used[/]: {ui.safe(exc)}")
        raise typer.Exit(ui.EXIT_USAGE) from exc
    try:
        settings = pipeline.prepare(database, extractor, config)  # type: ignore[arg-type]
    except (ValueError, FileNotFoundError) as exc:
        ui.err.print(f"[red]{ui.safe(exc)}[/]")
        raise typer.Exit(ui.EXIT_USAGE) from exc
    if extractor == "cascade" and not config.configured:
        ui.err.print(llm.HOW_TO_ENABLE)
    return settings
