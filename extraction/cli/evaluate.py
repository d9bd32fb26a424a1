"""How right is it: `eval` (score the store's or fresh extractions against gold, save the run,
compare two runs, list them) and `generate` (reports with known answers to score on)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table as RichTable

from extraction.cli import ui
from extraction.cli.options import (
    DEFAULT_DB,
    ApiKey,
    BaseUrl,
    DbOption,
    Extractor,
    Mode,
    Model,
    PromptVersion,
    model_settings,
)
from extraction.model import cascade
from extraction.scoring import eval_html, evaluation
from extraction.storage import store
from extraction.synth import generator


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
        ui.refuse_overwrite(report, "--report", db, gold_files + ([gold] if gold is not None else []))
    # With --gold the store may be new (gold documents are ingested from their source paths).
    database = store.open_db(db) if gold is not None else ui.existing_db(db)
    if runs:
        _list_runs(database)
        return
    if compare is not None:
        _show_comparison(database, *compare)
        return
    settings = model_settings(database, extractor, llm_base_url, llm_model, llm_api_key, llm_mode, prompt_version)
    golds = evaluation.gather(database, gold)
    if not golds:
        ui.err.print("[red]No gold[/]: give --gold DIR (export-format files) or review some documents first.")
        raise typer.Exit(2)
    run, missing = _evaluate(database, golds, settings, rerun, gold, label)
    record = run.record()
    run_id = evaluation.save(database, run, {"rerun": rerun, "extractor": extractor, "gold": str(gold or "")})
    record.update(evaluation.load_run(database, run_id))
    _print_run(record)
    for source in missing:
        ui.err.print(f"[yellow]gold document not found or unreadable:[/] {ui.safe(source)}")
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(eval_html.render(record), encoding="utf-8")
        ui.err.print(f"wrote {ui.safe(report)}")
    ui.console.print(f"saved as run {run_id}; compare later with [bold]xxgk eval --compare {run_id} <other run>[/]")


def _evaluate(
    database: Any, golds: list[evaluation.Gold], settings: cascade.Settings, rerun: bool, gold: Path | None, label: str
) -> tuple[evaluation.Run, list[str]]:
    """Ingest and extract the gold documents not yet in the store (one batch, its own bars), then
    score them one at a time, so that the bar moves per report."""
    scores: list[evaluation.DocScore] = []
    missing: list[str] = []
    with ui.progress() as bar:
        evaluation.prepare(database, golds, gold, settings, progress=bar.tick, phase=bar.phase)
        bar.phase("score", len(golds))
        for one in golds:
            run, lost = evaluation.evaluate(database, [one], settings, rerun=rerun, gold_dir=gold, label=label)
            scores += run.scores
            missing += lost
            bar.tick()
    return evaluation.Run(label, scores), missing


def _print_run(record: dict[str, Any]) -> None:
    overall = record["summary"]["overall"]
    style = "green" if overall["accepted_but_wrong"] == 0 else "bold red"
    ui.console.print(
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
        figures.add_row(key.replace("_", " "), ui.pct(overall[key]))
    ui.console.print(figures)
    sections = RichTable(
        "section", "cells", "accuracy", "blank = 0", "exact tables", title="By section", title_justify="left"
    )
    for section, m in overall["sections"].items():
        sections.add_row(
            section,
            str(m["cells"]),
            ui.pct(m["accuracy"]),
            ui.pct(m["accuracy_blank_as_zero"]),
            ui.pct(m["exact_tables"]),
        )
    ui.console.print(sections)
    _print_breakdowns(record["summary"]["breakdowns"])
    _print_wrong(record["wrong"])


def _print_breakdowns(breakdowns: dict[str, dict[str, dict[str, Any]]]) -> None:
    for by, groups in breakdowns.items():
        table = RichTable(
            by, "accuracy", "exact", "accepted but wrong", title=f"By {by.replace('_', ' ')}", title_justify="left"
        )
        for name, m in groups.items():
            table.add_row(
                ui.safe(name),
                ui.pct(m["accuracy"]),
                ui.pct(m.get("exact_report_rate", m.get("exact_table_rate"))),
                str(m.get("accepted_but_wrong", "")),
            )
        ui.console.print(table)


def _print_wrong(wrong: list[dict[str, Any]]) -> None:
    ui.console.print(f"[bold]Wrong cells ({len(wrong)})[/]")
    for w in wrong[:40]:
        caught = ", ".join(w["caught_by"]) or "[red]not caught[/]"
        ui.console.print(
            f"  {ui.safe(Path(w['source']).name or w['doc_id'][:12])}  {w['section']}.{w['row']}.{w['column']}  "
            f"gold {ui.blank(w['gold'])}  got {ui.blank(w['got'])}  caught by: {caught}",
            soft_wrap=True,
        )
    if len(wrong) > 40:
        ui.console.print(f"… {len(wrong) - 40} more; write them all with --report FILE.html")


def _show_comparison(database: Any, a: int, b: int) -> None:
    known = {r["id"] for r in evaluation.runs(database)}
    unknown = [str(n) for n in (a, b) if n not in known]
    if unknown:
        listed = ", ".join(str(n) for n in sorted(known)) or "none yet"
        ui.err.print(f"[red]No such run: {', '.join(unknown)}[/] (saved runs: {listed}; see xxgk eval --runs)")
        raise typer.Exit(ui.EXIT_USAGE)
    first, second = evaluation.load_run(database, a), evaluation.load_run(database, b)
    diff = evaluation.compare(first, second)
    ui.console.print(
        f"run {a} -> run {b} on {diff['documents']} shared reports: "
        f"accuracy {ui.pct(diff['accuracy'][0])} -> {ui.pct(diff['accuracy'][1])}, "
        f"accepted but wrong {diff['accepted_but_wrong'][0]} -> {diff['accepted_but_wrong'][1]}"
    )
    for title, wrong_cells, style in (
        ("New errors", diff["new_errors"], "red"),
        ("Fixed errors", diff["fixed_errors"], "green"),
    ):
        table = RichTable("report", "cell", "gold", "got", title=f"{title} ({len(wrong_cells)})", title_justify="left")
        for w in wrong_cells:
            table.add_row(
                ui.safe(Path(w["source"]).name),
                f"{w['section']}.{w['row']}.{w['column']}",
                ui.blank(w["gold"]),
                f"[{style}]{ui.blank(w['got'])}[/]",
            )
        ui.console.print(table)
    ui.console.print(f"{diff['still_wrong']} cell(s) wrong in both runs")


def _list_runs(database: Any) -> None:
    saved = evaluation.runs(database)
    if not saved:
        ui.console.print("No saved runs yet: [bold]xxgk eval --gold DIR[/] saves one.")
        return
    table = RichTable("run", "label", "when", "reports", "accuracy", "accepted but wrong", title="Saved runs")
    for r in saved:
        table.add_row(
            str(r["id"]),
            r["label"] or "",
            r["created_at"],
            str(r["documents"]),
            ui.pct(r["accuracy"]),
            str(r["accepted_but_wrong"]),
        )
    ui.console.print(table)


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
        ui.err.print(f"[red]Unknown family {sorted(unknown)}[/]: use {', '.join(generator.FAMILIES)}.")
        raise typer.Exit(2)
    reports = generator.batch(seed, count, families, error_rate)
    with ui.progress() as bar:
        bar.phase("write", len(reports))
        texts, golds = generator.write(out, ui.ticking(reports, bar))  # type: ignore[arg-type]
    ui.console.print(f"wrote {count} reports to {texts} and their gold to {golds}")
    ui.console.print(f"score the parser on them: [bold]xxgk eval --gold {golds} --db {out / 'eval.db'}[/]")
