"""`xxgk`: a thin command line over the library.

Exit codes: 0 every document processed (accepted or queued), 1 a file failed, 2 a usage or
settings error, 3 the store (or an output file) could not be read or written. Every string
that comes from a report or a file name is escaped before Rich sees it and stripped of
control characters before a terminal does.
"""

from __future__ import annotations

import contextlib
import csv
import importlib.metadata
import os
import re
import sqlite3
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from extraction import export, pipeline, template
from extraction.model import cascade, llm
from extraction.read import ingest
from extraction.schema import Finding, Table
from extraction.scoring import eval_html, evaluation
from extraction.storage import agencies, cells, store
from extraction.synth import generator

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Verified tables from 政府信息公开工作年度报告.")
console = Console()
err = Console(stderr=True, soft_wrap=True)  # messages stay one line, whatever the width

DbOption = Annotated[Path, typer.Option("--db", envvar="XXGK_DB", help="SQLite store.")]
MaxMb = Annotated[
    float, typer.Option("--max-file-mb", envvar="XXGK_MAX_FILE_MB", help="Larger files are recorded as failed.")
]
MaxPages = Annotated[
    int, typer.Option("--max-pages", envvar="XXGK_MAX_PAGES", help="PDFs and scans with more pages fail, unread.")
]
Extractor = Annotated[
    str, typer.Option("--extractor", help="layout | llm | cascade (layout first, model where needed) | both.")
]
Concurrency = Annotated[int, typer.Option("--concurrency", min=1, help="Documents sent to the model at once.")]
BaseUrl = Annotated[str | None, typer.Option("--llm-base-url", help="OpenAI-compatible endpoint (XXGK_LLM_BASE_URL).")]
Model = Annotated[str | None, typer.Option("--llm-model", help="Model name (XXGK_LLM_MODEL).")]
ApiKey = Annotated[str | None, typer.Option("--llm-api-key", help="Key (XXGK_LLM_API_KEY, else OPENAI_API_KEY).")]
Mode = Annotated[str | None, typer.Option("--llm-mode", help="JSON_SCHEMA | TOOLS | MD_JSON; default: probe once.")]
PromptVersion = Annotated[str | None, typer.Option("--prompt-version", help="Folder under prompts/ (default v1).")]
DEFAULT_DB = Path("xxgk.db")
EXIT_FAILED, EXIT_USAGE, EXIT_STORE = 1, 2, 3
# Control characters (escape sequences, backspace, carriage return, bidirectional overrides) in
# a file name or a report would reach the terminal as commands: shown as \xNN instead.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
AsJson = Annotated[bool, typer.Option("--json", help="Print rows as JSON, for scripts.")]
AsCsv = Annotated[bool, typer.Option("--csv", help="Print rows as CSV, for scripts.")]
_STATUS_STYLE = {"accepted": "green", "queued": "yellow", "reviewed": "cyan", "failed": "red", "ingested": "white"}


def safe(text: object) -> str:
    """A report's or a file's string, printable as is: no Rich markup, no terminal controls."""
    return escape(_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text)))


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)  # a symlink or a hard link to the file is the file
    except OSError:
        return a.resolve() == b.resolve()


def refuse_overwrite(output: Path, option: str, store_path: Path, inputs: Sequence[Path] = ()) -> None:
    """Exit 2 before anything is written if `output` is the store (its WAL and journal too) or a
    file the command reads: one option must not destroy a store full of reviews."""
    sidecars = [store_path.with_name(store_path.name + suffix) for suffix in ("-wal", "-shm", "-journal")]
    for read, what in [(store_path, "the store"), *((p, "the store's journal") for p in sidecars)] + [
        (p, "an input of this command") for p in inputs
    ]:
        if _same_file(output, read):
            err.print(f"[red]{option} {safe(output)} is {what}[/] ({safe(read)}): refused, nothing written.")
            raise typer.Exit(EXIT_USAGE)


def _limits(max_file_mb: float, max_pages: int) -> ingest.Limits:
    try:
        return ingest.Limits.from_env(max_mb=max_file_mb, max_pages=max_pages)
    except ingest.SettingsError as exc:
        err.print(f"[red]{safe(exc)}[/]")
        raise typer.Exit(EXIT_USAGE) from exc


@dataclass
class _Bar:
    """A progress bar per phase of a command (ingest, extract, score, write), each with its total.

    `phase` starts a bar of its own below the last one; `tick` advances the current one.
    """

    progress: Progress
    task: TaskID | None = None

    def phase(self, label: str, total: int) -> None:
        self.task = self.progress.add_task(label, total=total)

    def tick(self, _name: str = "") -> None:
        if self.task is not None:
            self.progress.advance(self.task)


@contextlib.contextmanager
def _progress() -> Iterator[_Bar]:
    """Progress bars on stderr when it is a terminal; gone once the command prints its result."""
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as progress:
        yield _Bar(progress)


def _tracked(label: str, total: int | None, work: Callable[[_Bar], list[pipeline.Outcome]]):
    """Run `work` with progress bars; with a total, one phase `label` starts here, else work starts its own."""
    with _progress() as bar:
        if total is not None:
            bar.phase(label, total)
        return work(bar)


def _summarise(outcomes: list[pipeline.Outcome], verbose: bool = True) -> None:
    """The counts, and the documents that need a person (queued, failed); every one with verbose."""
    if not outcomes:
        err.print("[red]No files matched[/]: check the paths (folders are read recursively, globs are expanded).")
        raise typer.Exit(2)
    shown = [o for o in outcomes if verbose or o.status in ("queued", "failed")]
    table = RichTable("document", "status", "detail", title="Documents", title_justify="left")
    for o in shown:
        style = _STATUS_STYLE.get(o.status, "white")
        table.add_row(safe(Path(o.name).name), f"[{style}]{o.status}[/]", safe(o.detail))
    if shown:
        console.print(table)
    counts = Counter(o.status for o in outcomes)
    present = sum(1 for o in outcomes if o.detail == "already in the store")
    line = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    console.print(line + (f" ({present} already in the store)" if present else ""))
    if not verbose and len(shown) < len(outcomes):
        console.print(f"{len(outcomes) - len(shown)} more not listed; --verbose lists every document")
    if counts.get("failed"):
        err.print(f"[red]{counts['failed']} document(s) failed[/]: see the detail column; the rest were processed.")
        raise typer.Exit(EXIT_FAILED)


@app.command("ingest")
def ingest_command(
    paths: Annotated[list[str], typer.Argument(help="Files, folders or globs.")],
    db: DbOption = DEFAULT_DB,
    max_file_mb: MaxMb = ingest.DEFAULT_MAX_MB,
    max_pages: MaxPages = ingest.DEFAULT_MAX_PAGES,
) -> None:
    """Record report files in the store (same bytes twice: no-op; unreadable: failed, with why)."""
    limits = _limits(max_file_mb, max_pages)
    database = store.open_db(db)
    _summarise(
        _tracked(
            "ingest",
            None,
            lambda bar: pipeline.ingest_paths(database, paths, progress=bar.tick, limits=limits, phase=bar.phase),
        )
    )


def _settings(
    database: Any,
    extractor: str,
    base_url: str | None,
    model: str | None,
    api_key: str | None,
    mode: str | None,
    prompt_version: str | None,
) -> cascade.Settings:
    if extractor not in cascade.KINDS:
        err.print(f"[red]Unknown extractor {extractor!r}[/]: use one of {', '.join(cascade.KINDS)}.")
        raise typer.Exit(2)
    if mode is not None and mode not in llm.MODES:
        err.print(f"[red]Unknown mode {mode!r}[/]: use one of {', '.join(llm.MODES)}.")
        raise typer.Exit(2)
    try:
        config = llm.LLMConfig.from_env(
            base_url=base_url, model=model, api_key=api_key, mode=mode, prompt_version=prompt_version
        )
    except ValueError as exc:  # a bad XXGK_LLM_* value
        err.print(f"[red]A model setting cannot be used[/]: {safe(exc)}")
        raise typer.Exit(EXIT_USAGE) from exc
    try:
        settings = pipeline.prepare(database, extractor, config)  # type: ignore[arg-type]
    except (ValueError, FileNotFoundError) as exc:
        err.print(f"[red]{safe(exc)}[/]")
        raise typer.Exit(EXIT_USAGE) from exc
    if extractor == "cascade" and not config.configured:
        err.print(llm.HOW_TO_ENABLE)
    return settings


@app.command("extract")
def extract_command(
    db: DbOption = DEFAULT_DB,
    force: Annotated[bool, typer.Option(help="Re-extract every readable document; reviews are kept.")] = False,
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
) -> None:
    """Extract and check every pending document."""
    database = _existing_db(db)
    settings = _settings(database, extractor, llm_base_url, llm_model, llm_api_key, llm_mode, prompt_version)
    todo = pipeline.pending(database, force=force, model_failures=retry_model_failures)
    outcomes = _tracked(
        "extract",
        len(todo),
        lambda bar: pipeline.extract_documents(database, todo, bar.tick, settings, concurrency, pending_only=not force),
    )
    if not outcomes:
        console.print("Nothing pending. Use [bold]xxgk ingest[/] first, or --force to re-extract.")
        return
    _summarise(outcomes)


@app.command("run")
def run_command(
    paths: Annotated[list[str], typer.Argument(help="Files, folders or globs.")],
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
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="List every document, not only queued/failed.")
    ] = False,
) -> None:
    """Ingest, extract and check: the main job."""
    limits = _limits(max_file_mb, max_pages)
    database = store.open_db(db)
    settings = _settings(database, extractor, llm_base_url, llm_model, llm_api_key, llm_mode, prompt_version)
    _summarise(
        _tracked(
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
            ),
        ),
        verbose,
    )


@app.command("status")
def status_command(db: DbOption = DEFAULT_DB, as_json: AsJson = False, as_csv: AsCsv = False) -> None:
    """Counts by status and the most frequent failing checks."""
    database = _existing_db(db)
    counts = store.status_counts(database)
    if as_json or as_csv:
        _emit([{"status": k, "documents": v} for k, v in counts.items()], as_json)
        return
    table = RichTable("status", "documents", title="Store " + str(db), title_justify="left")
    for status, n in counts.items():
        table.add_row(f"[{_STATUS_STYLE.get(status, 'white')}]{status}[/]", str(n))
    console.print(table)
    usage = store.usage_totals(database)
    if usage["requests"] or usage["cache_hits"]:
        line = (
            f"model use: {usage['requests']} requests, {usage['prompt_tokens']:,} prompt + "
            f"{usage['completion_tokens']:,} completion tokens, {usage['cache_hits']} answers from the cache"
        )
        cost = _estimated_cost(usage)
        console.print(line + (f", estimated cost {cost}" if cost else ""))
    top = store.top_failing_checks(database)
    if top:
        checks_table = RichTable("check", "documents", title="Top failing hard checks", title_justify="left")
        for check_id, n in top:
            checks_table.add_row(check_id, str(n))
        console.print(checks_table)


def _estimated_cost(usage: dict[str, int]) -> str | None:
    """Cost at the prices set in XXGK_LLM_PRICE_PROMPT / XXGK_LLM_PRICE_COMPLETION (per million tokens)."""
    prices = [os.environ.get("XXGK_LLM_PRICE_PROMPT"), os.environ.get("XXGK_LLM_PRICE_COMPLETION")]
    if None in prices:
        return None
    try:
        per_prompt, per_completion = (float(p) for p in prices)  # type: ignore[arg-type]
    except ValueError:
        return (
            f"not computed (XXGK_LLM_PRICE_PROMPT={prices[0]!r}, XXGK_LLM_PRICE_COMPLETION={prices[1]!r}: not numbers)"
        )
    total = usage["prompt_tokens"] * per_prompt / 1e6 + usage["completion_tokens"] * per_completion / 1e6
    return f"{total:.4f}"


@app.command("queue")
def queue_command(db: DbOption = DEFAULT_DB, as_json: AsJson = False, as_csv: AsCsv = False) -> None:
    """Documents waiting for a reviewer, oldest first, with why they wait."""
    database = _existing_db(db)
    if as_json or as_csv:
        _emit([dict(r) for r in database["queue"].rows], as_json)
        return
    table = RichTable("doc", "agency", "year", "why", title="Review queue", title_justify="left")
    for doc in store.documents(database, "queued"):
        why = pipeline.reasons(store.findings(database, doc["current_extraction"]))
        table.add_row(doc["id"][:12], safe(doc["agency"] or ""), str(doc["year"] or ""), safe(why))
    console.print(table)


@app.command("show")
def show_command(
    doc: Annotated[str, typer.Argument(help="Document id, id prefix or name.")], db: DbOption = DEFAULT_DB
) -> None:
    """The tables and findings of one document."""
    database = _existing_db(db)
    row = store.find_document(database, doc)
    if row is None:
        err.print(f"[red]No single document matches {safe(repr(doc))}[/]; see [bold]xxgk export[/] for ids.")
        raise typer.Exit(EXIT_USAGE)
    style = _STATUS_STYLE.get(row["status"], "white")
    console.print(f"[bold]{safe(row['name'])}[/]  {row['id'][:12]}  [{style}]{row['status']}[/]")
    console.print(f"agency: {safe(row['agency'] or '—')}   year: {row['year'] or '—'}")
    if row["status"] == "failed":
        console.print(f"[red]failed:[/] {safe(row['error'])}")
        raise typer.Exit(0)
    meta: dict[str, Any] = {}
    report, findings = export.current_report(database, row, meta)
    if report is None:
        console.print("Not extracted yet: run [bold]xxgk extract[/].")
        return
    console.print(f"values from: {meta.get('extractor')}")
    failing = [f for f in findings if f.status == "fail"]
    # A blank total points at the total alone; other failures at every cell of the equation.
    flagged = {cell for f in failing for cell in (f.cells[:1] if f.id.endswith("blank_total") else f.cells)}
    for table in report.tables():
        console.print(_render(table, flagged))
    _print_findings(failing)


def _render(table: Table, flagged: set[tuple[str, str, str]]) -> RichTable:
    title = f"{template.SECTION_TITLES[table.section]}  ({table.version} template)"
    spec = template.spec(table.section, table.version)
    if table.section == "proactive":
        # Rows of section 二 have different columns: print each cell with its own header.
        out = RichTable("", "", title=title, title_justify="left", show_header=False)
        for row in spec.rows:
            shown = [f"{c.label} {_cell_text(table, row.key, c.key, flagged) or '空'}" for c in row.columns]
            out.add_row(row.name, "  ·  ".join(shown))
        return out
    columns = spec.rows[0].columns
    out = RichTable(title=title, title_justify="left")
    out.add_column("", no_wrap=True)
    for column in columns:
        out.add_column(column.label, justify="right")
    for row in spec.rows:
        out.add_row(row.name, *[_cell_text(table, row.key, c.key, flagged) for c in columns])
    return out


def _cell_text(table: Table, row: str, column: str, flagged: set[tuple[str, str, str]]) -> str:
    cell = table.cell(row, column)
    text = "/" if cell.kind.value == "not_applicable" else ("" if cell.value is None else str(cell.value))
    if (table.section, row, column) in flagged:
        return f"[bold red]{text or '□'}[/]"
    return text


def _print_findings(failing: list[Finding]) -> None:
    if not failing:
        console.print("[green]All hard checks pass.[/]")
        return
    console.print("[bold]Failing checks[/]")
    for f in failing:
        colour = "red" if f.severity == "hard" else "yellow"
        console.print(f"[{colour}]✗ {f.severity}[/] [bold]{safe(f.id)}[/]", soft_wrap=True)
        console.print(f"    {safe(f.message)}", soft_wrap=True)


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


@app.command("export")
def export_command(
    db: DbOption = DEFAULT_DB,
    format: Annotated[
        ExportFormat,
        typer.Option(
            "--format", case_sensitive=False, help="jsonl (EXPORT.md), csv (one row per cell), xlsx, parquet."
        ),
    ] = ExportFormat.jsonl,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write; default stdout.")] = None,
    wide: Annotated[bool, typer.Option("--wide", help="csv: one row per report per section.")] = False,
    status: StatusFilter = None,
    year: Annotated[int | None, typer.Option("--year", help="Only reports of this year.")] = None,
    agency: Annotated[str | None, typer.Option("--agency", help="Only this agency (key or part of name).")] = None,
    template_version: Annotated[
        TemplateChoice | None, typer.Option("--template", help="Only reports in this template version.")
    ] = None,
    section: Annotated[
        SectionChoice | None, typer.Option("--section", case_sensitive=False, help="csv/xlsx: only this table.")
    ] = None,
) -> None:
    """Write the documents: JSON lines (the contract), CSV (long or --wide), Excel or Parquet."""
    if output is not None:
        refuse_overwrite(output, "--output", db)
    database = _existing_db(db)
    filters = export.Filters(
        status=status.value if status else None,
        year=year,
        agency=agency,
        template=template_version.value if template_version else None,
        section=section.value if section else None,
    )
    if format in (ExportFormat.xlsx, ExportFormat.parquet):
        if output is None:
            err.print(f"[red]--format {format.value} writes a file[/]: give --output FILE.{format.value}.")
            raise typer.Exit(EXIT_USAGE)
        output.parent.mkdir(parents=True, exist_ok=True)
        try:
            write = export.write_xlsx if format == ExportFormat.xlsx else export.write_parquet
            count = write(database, output, filters)
        except RuntimeError as exc:
            err.print(f"[red]{exc}[/]")
            raise typer.Exit(EXIT_USAGE) from exc
        unit = "report tables" if format == ExportFormat.xlsx else "cells"
        err.print(f"wrote {count} {unit} to {output}")
        return
    if format == ExportFormat.jsonl:
        writer, unit = export.write_jsonl, "records"
    else:
        writer, unit = (export.write_wide_csv, "report tables") if wide else (export.write_long_csv, "cells")
    if output is None:
        writer(database, sys.stdout, filters)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    # A byte-order mark: Excel opens the CSV as UTF-8 only with one (else the Chinese is mojibake).
    encoding = "utf-8-sig" if format == ExportFormat.csv else "utf-8"
    with output.open("w", encoding=encoding, newline="") as handle:
        count = writer(database, handle, filters)
    err.print(f"wrote {count} {unit} to {safe(output)}")


@app.command("eval")
def eval_command(
    db: DbOption = DEFAULT_DB,
    gold: Annotated[Path | None, typer.Option("--gold", help="Folder of gold files (export format).")] = None,
    rerun: Annotated[
        bool, typer.Option(help="Extract the gold documents afresh instead of scoring the store's.")
    ] = False,
    extractor: Extractor = "layout",
    llm_base_url: BaseUrl = None,
    llm_model: Model = None,
    llm_api_key: ApiKey = None,
    llm_mode: Mode = None,
    prompt_version: PromptVersion = None,
    report: Annotated[Path | None, typer.Option("--report", help="Also write the run as an HTML page.")] = None,
    label: Annotated[str, typer.Option(help="A name for this run.")] = "",
    compare: Annotated[
        tuple[int, int] | None, typer.Option("--compare", help="Show what changed from run A to run B.")
    ] = None,
    runs: Annotated[bool, typer.Option("--runs", help="List the saved runs and stop.")] = False,
) -> None:
    """Score extractions against the gold set; the safety figure is accepted-but-wrong."""
    if report is not None:
        gold_files = [p for p in gold.rglob("*") if p.is_file()] if gold is not None and gold.is_dir() else []
        refuse_overwrite(report, "--report", db, gold_files + ([gold] if gold is not None else []))
    # With --gold the store may be new (gold documents are ingested from their source paths).
    database = store.open_db(db) if gold is not None else _existing_db(db)
    if runs:
        _list_runs(database)
        return
    if compare is not None:
        _show_comparison(database, *compare)
        return
    settings = _settings(database, extractor, llm_base_url, llm_model, llm_api_key, llm_mode, prompt_version)
    golds = evaluation.gather(database, gold)
    if not golds:
        err.print("[red]No gold[/]: give --gold DIR (export-format files) or review some documents first.")
        raise typer.Exit(2)
    run, missing = _evaluate(database, golds, settings, rerun, gold, label)
    record = run.record()
    run_id = evaluation.save(database, run, {"rerun": rerun, "extractor": extractor, "gold": str(gold or "")})
    record.update(evaluation.load_run(database, run_id))
    _print_run(record)
    for source in missing:
        err.print(f"[yellow]gold document not found or unreadable:[/] {safe(source)}")
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(eval_html.render(record), encoding="utf-8")
        err.print(f"wrote {safe(report)}")
    console.print(f"saved as run {run_id}; compare later with [bold]xxgk eval --compare {run_id} <other run>[/]")


def _evaluate(
    database: Any, golds: list[evaluation.Gold], settings: cascade.Settings, rerun: bool, gold: Path | None, label: str
) -> tuple[evaluation.Run, list[str]]:
    """Score the gold documents one at a time, so that the bar moves per report (scoring one may
    extract it first: the minute a batch of gold takes is not spent in silence)."""
    scores: list[evaluation.DocScore] = []
    missing: list[str] = []
    with _progress() as bar:
        bar.phase("score", len(golds))
        for one in golds:
            run, lost = evaluation.evaluate(database, [one], settings, rerun=rerun, gold_dir=gold, label=label)
            scores += run.scores
            missing += lost
            bar.tick()
    return evaluation.Run(label, scores), missing


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _print_run(record: dict[str, Any]) -> None:
    overall = record["summary"]["overall"]
    style = "green" if overall["accepted_but_wrong"] == 0 else "bold red"
    console.print(
        f"[{style}]accepted but wrong: {overall['accepted_but_wrong']}[/] of {overall['accepted']} accepted "
        f"({overall['documents']} reports, {overall['cells']} gold cells)"
    )
    figures = RichTable("figure", "value", title="Overall", title_justify="left")
    for key in (
        "accuracy",
        "accuracy_blank_as_zero",
        "nonzero_precision",
        "nonzero_recall",
        "nonzero_f1",
        "exact_table_rate",
        "exact_report_rate",
        "queue_rate",
        "queued_but_correct_rate",
    ):
        figures.add_row(key.replace("_", " "), _pct(overall[key]))
    console.print(figures)
    sections = RichTable(
        "section", "cells", "accuracy", "blank = 0", "exact tables", title="By section", title_justify="left"
    )
    for section, m in overall["sections"].items():
        sections.add_row(
            section, str(m["cells"]), _pct(m["accuracy"]), _pct(m["accuracy_blank_as_zero"]), _pct(m["exact_tables"])
        )
    console.print(sections)
    for by, groups in record["summary"]["breakdowns"].items():
        table = RichTable(
            by, "accuracy", "exact", "accepted but wrong", title=f"By {by.replace('_', ' ')}", title_justify="left"
        )
        for name, m in groups.items():
            table.add_row(
                safe(name),
                _pct(m["accuracy"]),
                _pct(m.get("exact_report_rate", m.get("exact_table_rate"))),
                str(m.get("accepted_but_wrong", "")),
            )
        console.print(table)
    wrong = record["wrong"]
    console.print(f"[bold]Wrong cells ({len(wrong)})[/]")
    for w in wrong[:40]:
        caught = ", ".join(w["caught_by"]) or "[red]not caught[/]"
        console.print(
            f"  {safe(Path(w['source']).name or w['doc_id'][:12])}  {w['section']}.{w['row']}.{w['column']}  "
            f"gold {_blank(w['gold'])}  got {_blank(w['got'])}  caught by: {caught}",
            soft_wrap=True,
        )
    if len(wrong) > 40:
        console.print(f"… {len(wrong) - 40} more; write them all with --report FILE.html")


def _blank(value: Any) -> str:
    return "blank" if value is None else str(value)


def _show_comparison(database: Any, a: int, b: int) -> None:
    known = {r["id"] for r in evaluation.runs(database)}
    unknown = [str(n) for n in (a, b) if n not in known]
    if unknown:
        listed = ", ".join(str(n) for n in sorted(known)) or "none yet"
        err.print(f"[red]No such run: {', '.join(unknown)}[/] (saved runs: {listed}; see xxgk eval --runs)")
        raise typer.Exit(EXIT_USAGE)
    first, second = evaluation.load_run(database, a), evaluation.load_run(database, b)
    diff = evaluation.compare(first, second)
    console.print(
        f"run {a} -> run {b} on {diff['documents']} shared reports: "
        f"accuracy {_pct(diff['accuracy'][0])} -> {_pct(diff['accuracy'][1])}, "
        f"accepted but wrong {diff['accepted_but_wrong'][0]} -> {diff['accepted_but_wrong'][1]}"
    )
    for title, wrong_cells, style in (
        ("New errors", diff["new_errors"], "red"),
        ("Fixed errors", diff["fixed_errors"], "green"),
    ):
        table = RichTable("report", "cell", "gold", "got", title=f"{title} ({len(wrong_cells)})", title_justify="left")
        for w in wrong_cells:
            table.add_row(
                safe(Path(w["source"]).name),
                f"{w['section']}.{w['row']}.{w['column']}",
                _blank(w["gold"]),
                f"[{style}]{_blank(w['got'])}[/]",
            )
        console.print(table)
    console.print(f"{diff['still_wrong']} cell(s) wrong in both runs")


@app.command("review")
def review_command(
    db: DbOption = DEFAULT_DB,
    port: Annotated[int, typer.Option(help="Port for the review app.")] = 8501,
    host: Annotated[
        str, typer.Option(help="Address to listen on: 127.0.0.1 keeps the store on this machine; 0.0.0.0 opens it.")
    ] = "127.0.0.1",
) -> None:
    """Open the review app (Streamlit) on the store; stopping this command stops the server."""
    script = Path(__file__).resolve().parent.parent / "review_app" / "app.py"
    if not script.is_file():
        err.print(f"[red]The review app is not next to this package[/] ({script}); install from a clone with pip -e.")
        raise typer.Exit(2)
    _existing_db(db)
    console.print(f"Review app for {safe(db)} on http://{host}:{port} (Ctrl-C to stop)")
    command = [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port)]
    command += ["--server.address", host, "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    command += ["--", "--db", str(db)]
    sys.stdout.flush()
    # The server replaces this process: a signal to `xxgk review` reaches the server itself.
    os.execve(sys.executable, command, {**os.environ, "XXGK_DB": str(db)})


@app.command("generate")
def generate_command(
    out: Annotated[Path, typer.Option("--out", help="Folder for reports/ and gold/.")],
    count: Annotated[int, typer.Option(min=1, help="How many reports.")] = 100,
    seed: Annotated[int, typer.Option(help="Same seed, same reports.")] = 1,
    family: Annotated[list[str] | None, typer.Option(help="Layout families (default: all).")] = None,
    error_rate: Annotated[float, typer.Option(min=0.0, max=1.0, help="Share printed with a source error.")] = 0.1,
) -> None:
    """Write random reports with known answers, in the layout families the parser meets."""
    families = tuple(family or generator.FAMILIES)
    unknown = set(families) - set(generator.FAMILIES)
    if unknown:
        err.print(f"[red]Unknown family {sorted(unknown)}[/]: use {', '.join(generator.FAMILIES)}.")
        raise typer.Exit(2)
    reports = generator.batch(seed, count, families, error_rate)
    with _progress() as bar:
        bar.phase("write", len(reports))
        texts, golds = generator.write(out, _ticking(reports, bar))  # type: ignore[arg-type]
    console.print(f"wrote {count} reports to {texts} and their gold to {golds}")
    console.print(f"score the parser on them: [bold]xxgk eval --gold {golds} --db {out / 'eval.db'}[/]")


def _ticking(items: list[Any], bar: _Bar) -> Iterator[Any]:
    """The items, advancing the bar as each is taken (generator.write takes them one by one)."""
    for item in items:
        yield item
        bar.tick()


def _emit(rows: list[dict[str, Any]], as_json: bool) -> None:
    """Rows for scripts, as sqlite-utils prints them: a JSON array, or CSV with a header."""
    if as_json:
        sys.stdout.write(store.dumps(rows, indent=2) + "\n")
        return
    writer = csv.DictWriter(sys.stdout, list(rows[0]) if rows else [], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


@app.command("list")
def list_command(
    db: DbOption = DEFAULT_DB, status: StatusFilter = None, as_json: AsJson = False, as_csv: AsCsv = False
) -> None:
    """Every document in the store (or those in one status): id, file, agency, year, status."""
    database = _existing_db(db)
    rows = [
        {
            "doc": d["id"][: export.SHORT_ID],
            "file": Path(d["name"]).name,
            "agency": d["agency"],
            "year": d["year"],
            "status": d["status"],
        }
        for d in store.documents(database, status.value if status else None)
    ]
    if as_json or as_csv:
        _emit(rows, as_json)
        return
    table = RichTable("doc", "file", "agency", "year", "status", title=f"Documents ({len(rows)})", title_justify="left")
    for r in rows:
        style = _STATUS_STYLE.get(r["status"], "white")
        table.add_row(r["doc"], r["file"], r["agency"] or "", str(r["year"] or ""), f"[{style}]{r['status']}[/]")
    console.print(table)


@app.command("failed")
def failed_command(db: DbOption = DEFAULT_DB, as_json: AsJson = False, as_csv: AsCsv = False) -> None:
    """Files that could not be read or extracted, with why."""
    database = _existing_db(db)
    rows = [
        {"doc": d["id"][: export.SHORT_ID], "file": d["name"], "error": d["error"]}
        for d in store.documents(database, "failed")
    ]
    if as_json or as_csv:
        _emit(rows, as_json)
        return
    table = RichTable("doc", "file", "why", title=f"Failed ({len(rows)})", title_justify="left")
    for r in rows:
        table.add_row(r["doc"], r["file"], r["error"] or "")
    console.print(table)


@app.command("forget")
def forget_command(
    doc: Annotated[str, typer.Argument(help="Document id, id prefix or name.")],
    db: DbOption = DEFAULT_DB,
    yes: Annotated[bool, typer.Option("--yes", help="Also forget a reviewed document (its reviews go too).")] = False,
) -> None:
    """Remove one document and everything recorded about it (e.g. a wrong upload)."""
    database = _existing_db(db)
    row = store.find_document(database, doc)
    if row is None:
        err.print(f"[red]No single document matches {doc!r}[/]; see [bold]xxgk list[/].")
        raise typer.Exit(2)
    reviews = database["reviews"].count_where("doc_id = ?", [row["id"]])
    if reviews and not yes:
        err.print(f"[red]{row['name']} has {reviews} review(s)[/]: a person's work; add --yes to forget it anyway.")
        raise typer.Exit(2)
    removed = cells.forget(database, row["id"])
    detail = ", ".join(f"{n} {t}" for t, n in removed.items() if n and t != "documents")
    console.print(f"forgot {row['name']} ({row['id'][:12]})" + (f": {detail}" if detail else ""))


@app.command("years")
def years_command(
    agency: Annotated[str, typer.Argument(help="Agency name, full or short (normalised to one key).")],
    db: DbOption = DEFAULT_DB,
    as_json: AsJson = False,
) -> None:
    """One agency's reports year over year, with the cross-year checks between them."""
    database = _existing_db(db)
    rows = agencies.years(database, agency)
    if not rows:
        err.print(f"[red]No reports of {agency!r}[/] (key {agencies.key(agency)!r}); see [bold]xxgk list[/].")
        raise typer.Exit(2)
    if as_json:
        _emit(rows, True)
        return
    table = RichTable("year", "agency as printed", "file", "status", "一 新收", "二 上年结转", "四 结转下年")
    table.title, table.title_justify = f"{rows[0]['agency_key']}: year over year", "left"
    for r in rows:
        figures = (_blank_cell(r[k]) for k in ("new_received", "carried_over", "carried_forward"))
        table.add_row(str(r["year"] or ""), r["agency"] or "", Path(r["name"]).name, r["status"], *figures)
    console.print(table)
    mark = {"fail": "[red]✗[/]", "pass": "[green]✓[/]"}
    for r in rows:
        console.print(f"[bold]{r['year']} against {r['year'] - 1 if r['year'] else '?'}[/]:", end=" ")
        if not r["cross_year"]:
            console.print("no previous year in the store")
            continue
        console.print(f"{len(r['cross_year'])} cross-year checks")
        for c in r["cross_year"]:
            console.print(f"  {mark.get(c['status'], '?')} {c['check_id']}  {c['message']}", soft_wrap=True)


def _blank_cell(value: Any) -> str:
    return "" if value is None else str(value)


@app.command("datasette-metadata")
def datasette_metadata_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="Metadata file to write.")] = Path("metadata.json"),
    db: DbOption = DEFAULT_DB,
) -> None:
    """Write table and column descriptions (中文 / English) for: datasette xxgk.db --metadata metadata.json"""
    output.write_text(store.dumps(cells.metadata(db.stem), indent=2) + "\n", encoding="utf-8")
    console.print(f"wrote {output}; browse with [bold]datasette {db} --metadata {output}[/]")


def _list_runs(database: Any) -> None:
    saved = evaluation.runs(database)
    if not saved:
        console.print("No saved runs yet: [bold]xxgk eval --gold DIR[/] saves one.")
        return
    table = RichTable("run", "label", "when", "reports", "accuracy", "accepted but wrong", title="Saved runs")
    for r in saved:
        table.add_row(
            str(r["id"]),
            r["label"] or "",
            r["created_at"],
            str(r["documents"]),
            _pct(r["accuracy"]),
            str(r["accepted_but_wrong"]),
        )
    console.print(table)


def _version(value: bool) -> None:
    if value:
        console.print(f"xxgk {importlib.metadata.version('xxgk-extract')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Verified tables from 政府信息公开工作年度报告."""


def _existing_db(path: Path) -> Any:
    """Open a store that must already exist: a mistyped --db is an error, not a new empty store."""
    if not path.exists():
        err.print(f"[red]No store at {path}[/]: check --db (or XXGK_DB); [bold]xxgk run FILES[/] creates one.")
        raise typer.Exit(2)
    return store.open_db(path)


def main() -> None:  # pragma: no cover - console script entry
    pipeline.tune_for_batch()
    try:
        app()
    except ingest.SettingsError as exc:
        err.print(f"[red]{safe(exc)}[/]")
        sys.exit(EXIT_USAGE)
    except sqlite3.Error as exc:  # disk full, a read-only store, a file that is not a store
        err.print(f"[red]The store failed[/]: {safe(exc)} ({type(exc).__name__}); nothing further was written.")
        sys.exit(EXIT_STORE)
    except OSError as exc:  # an output that cannot be written (disk full, no permission)
        err.print(f"[red]Could not write[/] {safe(exc.filename or '')}: {safe(exc.strerror or exc)}")
        sys.exit(EXIT_STORE)


if __name__ == "__main__":  # python -m extraction.cli
    main()
