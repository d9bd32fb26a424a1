"""`xxgk`: a thin command line over the library. Exit code 1 when any document failed."""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from extraction import cascade, eval_html, evaluation, export, generator, ingest, llm, pipeline, store, template
from extraction.schema import Finding, Table

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Verified tables from 政府信息公开工作年度报告.")
console = Console()
err = Console(stderr=True)

DbOption = Annotated[Path, typer.Option("--db", envvar="XXGK_DB", help="SQLite store (env XXGK_DB).")]
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
_STATUS_STYLE = {"accepted": "green", "queued": "yellow", "reviewed": "cyan", "failed": "red", "ingested": "white"}


def _tracked(label: str, total: int | None, work: Callable[[Callable[[str], None]], list[pipeline.Outcome]]):
    """Run `work` with a progress bar (on a terminal) that it advances once per document."""
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task(label, total=total)
        return work(lambda _: bar.advance(task))


def _summarise(outcomes: list[pipeline.Outcome]) -> None:
    table = RichTable("document", "status", "detail", title="Documents", title_justify="left")
    for o in outcomes:
        style = _STATUS_STYLE.get(o.status, "white")
        table.add_row(Path(o.name).name, f"[{style}]{o.status}[/]", o.detail)
    console.print(table)
    counts = Counter(o.status for o in outcomes)
    console.print(", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    if counts.get("failed"):
        err.print(f"[red]{counts['failed']} document(s) failed[/]: see the detail column; the rest were processed.")
        raise typer.Exit(1)


@app.command("ingest")
def ingest_command(
    paths: Annotated[list[str], typer.Argument(help="Files, folders or globs.")],
    db: DbOption = DEFAULT_DB,
    max_file_mb: MaxMb = ingest.DEFAULT_MAX_MB,
    max_pages: MaxPages = ingest.DEFAULT_MAX_PAGES,
) -> None:
    """Record report files in the store (same bytes twice: no-op; unreadable: failed, with why)."""
    database = store.open_db(db)
    limits = ingest.Limits(max_mb=max_file_mb, max_pages=max_pages)
    _summarise(
        _tracked("ingest", None, lambda tick: pipeline.ingest_paths(database, paths, progress=tick, limits=limits))
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
    config = llm.LLMConfig.from_env(
        base_url=base_url, model=model, api_key=api_key, mode=mode, prompt_version=prompt_version
    )
    try:
        settings = pipeline.prepare(database, extractor, config)  # type: ignore[arg-type]
    except (ValueError, FileNotFoundError) as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    if extractor == "cascade" and not config.configured:
        err.print(llm.HOW_TO_ENABLE)
    return settings


@app.command("extract")
def extract_command(
    db: DbOption = DEFAULT_DB,
    force: Annotated[bool, typer.Option(help="Re-extract every readable document; reviews are kept.")] = False,
    extractor: Extractor = "cascade",
    concurrency: Concurrency = 4,
    llm_base_url: BaseUrl = None,
    llm_model: Model = None,
    llm_api_key: ApiKey = None,
    llm_mode: Mode = None,
    prompt_version: PromptVersion = None,
) -> None:
    """Extract and check every pending document."""
    database = store.open_db(db)
    settings = _settings(database, extractor, llm_base_url, llm_model, llm_api_key, llm_mode, prompt_version)
    todo = pipeline.pending(database, force=force)
    outcomes = _tracked(
        "extract", len(todo), lambda tick: pipeline.extract_documents(database, todo, tick, settings, concurrency)
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
) -> None:
    """Ingest, extract and check: the main job."""
    database = store.open_db(db)
    settings = _settings(database, extractor, llm_base_url, llm_model, llm_api_key, llm_mode, prompt_version)
    limits = ingest.Limits(max_mb=max_file_mb, max_pages=max_pages)
    _summarise(
        _tracked(
            "run",
            None,
            lambda tick: pipeline.run(
                database, paths, progress=tick, settings=settings, concurrency=concurrency, limits=limits
            ),
        )
    )


@app.command("status")
def status_command(db: DbOption = DEFAULT_DB) -> None:
    """Counts by status and the most frequent failing checks."""
    database = store.open_db(db)
    counts = store.status_counts(database)
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
    per_prompt, per_completion = (float(p) for p in prices)  # type: ignore[arg-type]
    total = usage["prompt_tokens"] * per_prompt / 1e6 + usage["completion_tokens"] * per_completion / 1e6
    return f"{total:.4f}"


@app.command("queue")
def queue_command(db: DbOption = DEFAULT_DB) -> None:
    """Documents waiting for a reviewer, oldest first, with why they wait."""
    database = store.open_db(db)
    table = RichTable("doc", "agency", "year", "why", title="Review queue", title_justify="left")
    for doc in store.documents(database, "queued"):
        why = pipeline.reasons(store.findings(database, doc["current_extraction"]))
        table.add_row(doc["id"][:12], doc["agency"] or "", str(doc["year"] or ""), why)
    console.print(table)


@app.command("show")
def show_command(
    doc: Annotated[str, typer.Argument(help="Document id, id prefix or name.")], db: DbOption = DEFAULT_DB
) -> None:
    """The tables and findings of one document."""
    database = store.open_db(db)
    row = store.find_document(database, doc)
    if row is None:
        err.print(f"[red]No single document matches {doc!r}[/]; see [bold]xxgk export[/] for ids.")
        raise typer.Exit(2)
    style = _STATUS_STYLE.get(row["status"], "white")
    console.print(f"[bold]{row['name']}[/]  {row['id'][:12]}  [{style}]{row['status']}[/]")
    console.print(f"agency: {row['agency'] or '—'}   year: {row['year'] or '—'}")
    if row["status"] == "failed":
        console.print(f"[red]failed:[/] {row['error']}")
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
        console.print(f"[{colour}]✗ {f.severity}[/] [bold]{f.id}[/]", soft_wrap=True)
        console.print(f"    {f.message}", soft_wrap=True)


@app.command("export")
def export_command(
    db: DbOption = DEFAULT_DB,
    format: Annotated[str, typer.Option("--format", help="jsonl (EXPORT.md) or csv (one row per cell).")] = "jsonl",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write; default stdout.")] = None,
) -> None:
    """Write every document in the export format."""
    if format not in ("jsonl", "csv"):
        err.print(f"[red]Unknown format {format!r}[/]: use jsonl or csv.")
        raise typer.Exit(2)
    database = store.open_db(db)
    writer = export.write_jsonl if format == "jsonl" else export.write_csv
    if output is None:
        writer(database, sys.stdout)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf-8", newline="") as handle:
        count = writer(database, handle)
    err.print(f"wrote {count} {'records' if format == 'jsonl' else 'cells'} to {output}")


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
) -> None:
    """Score extractions against the gold set; the safety figure is accepted-but-wrong."""
    database = store.open_db(db)
    if compare is not None:
        _show_comparison(database, *compare)
        return
    settings = _settings(database, extractor, llm_base_url, llm_model, llm_api_key, llm_mode, prompt_version)
    golds = evaluation.gather(database, gold)
    if not golds:
        err.print("[red]No gold[/]: give --gold DIR (export-format files) or review some documents first.")
        raise typer.Exit(2)
    run, missing = evaluation.evaluate(database, golds, settings, rerun=rerun, gold_dir=gold, label=label)
    record = run.record()
    run_id = evaluation.save(database, run, {"rerun": rerun, "extractor": extractor, "gold": str(gold or "")})
    record.update(evaluation.load_run(database, run_id))
    _print_run(record)
    for source in missing:
        err.print(f"[yellow]gold document not found or unreadable:[/] {source}")
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(eval_html.render(record), encoding="utf-8")
        err.print(f"wrote {report}")
    console.print(f"saved as run {run_id}; compare later with [bold]xxgk eval --compare {run_id} <other run>[/]")


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
                name,
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
            f"  {Path(w['source']).name or w['doc_id'][:12]}  {w['section']}.{w['row']}.{w['column']}  "
            f"gold {_blank(w['gold'])}  got {_blank(w['got'])}  caught by: {caught}",
            soft_wrap=True,
        )
    if len(wrong) > 40:
        console.print(f"… {len(wrong) - 40} more; write them all with --report FILE.html")


def _blank(value: Any) -> str:
    return "blank" if value is None else str(value)


def _show_comparison(database: Any, a: int, b: int) -> None:
    try:
        first, second = evaluation.load_run(database, a), evaluation.load_run(database, b)
    except Exception as exc:  # sqlite-utils raises NotFoundError for an unknown id
        err.print(f"[red]No such run[/]: {exc}")
        raise typer.Exit(2) from exc
    diff = evaluation.compare(first, second)
    console.print(
        f"run {a} -> run {b} on {diff['documents']} shared reports: "
        f"accuracy {_pct(diff['accuracy'][0])} -> {_pct(diff['accuracy'][1])}, "
        f"accepted but wrong {diff['accepted_but_wrong'][0]} -> {diff['accepted_but_wrong'][1]}"
    )
    for title, cells, style in (
        ("New errors", diff["new_errors"], "red"),
        ("Fixed errors", diff["fixed_errors"], "green"),
    ):
        table = RichTable("report", "cell", "gold", "got", title=f"{title} ({len(cells)})", title_justify="left")
        for w in cells:
            table.add_row(
                Path(w["source"]).name,
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
    store.open_db(db)
    console.print(f"Review app for {db} on http://{host}:{port} (Ctrl-C to stop)")
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
    texts, golds = generator.write(out, generator.batch(seed, count, families, error_rate))
    console.print(f"wrote {count} reports to {texts} and their gold to {golds}")
    console.print(f"score the parser on them: [bold]xxgk eval --gold {golds} --db {out / 'eval.db'}[/]")


def main() -> None:  # pragma: no cover - console script entry
    pipeline.tune_for_batch()
    app()


if __name__ == "__main__":  # python -m extraction.cli
    main()
