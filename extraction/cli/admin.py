"""The store itself: `status` (counts, model use, failing checks), `list` and `failed` (the
documents, for people and with --json/--csv for scripts), `forget` (remove one), `years` (one
agency year over year) and `datasette-metadata` (descriptions for browsing the store)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table as RichTable

from extraction import export
from extraction.cli import ui
from extraction.cli.options import DEFAULT_DB, AsCsv, AsJson, DbOption, DocArg, StatusFilter
from extraction.storage import agencies, cells, store


def status_command(db: DbOption = DEFAULT_DB, as_json: AsJson = False, as_csv: AsCsv = False) -> None:
    """Counts by status and the most frequent failing checks."""
    database = ui.existing_db(db)
    counts = store.status_counts(database)
    if as_json or as_csv:
        ui.emit([{"status": k, "documents": v} for k, v in counts.items()], as_json)
        return
    table = RichTable("status", "documents", title="Store " + str(db), title_justify="left")
    for status, n in counts.items():
        table.add_row(ui.styled(status), str(n))
    ui.console.print(table)
    usage = store.usage_totals(database)
    if usage["requests"] or usage["cache_hits"]:
        line = (
            f"model use: {usage['requests']} requests, {usage['prompt_tokens']:,} prompt + "
            f"{usage['completion_tokens']:,} completion tokens, {usage['cache_hits']} answers from the cache"
        )
        cost = _estimated_cost(usage)
        ui.console.print(line + (f", estimated cost {cost}" if cost else ""))
    top = store.top_failing_checks(database)
    if top:
        checks_table = RichTable("check", "documents", title="Top failing hard checks", title_justify="left")
        for check_id, n in top:
            checks_table.add_row(check_id, str(n))
        ui.console.print(checks_table)


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


def list_command(
    db: DbOption = DEFAULT_DB, status: StatusFilter = None, as_json: AsJson = False, as_csv: AsCsv = False
) -> None:
    """Every document in the store (or those in one status): id, file, agency, year, status."""
    database = ui.existing_db(db)
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
        ui.emit(rows, as_json)
        return
    table = RichTable("doc", "file", "agency", "year", "status", title=f"Documents ({len(rows)})", title_justify="left")
    for r in rows:
        table.add_row(r["doc"], r["file"], r["agency"] or "", str(r["year"] or ""), ui.styled(r["status"]))
    ui.console.print(table)


def failed_command(db: DbOption = DEFAULT_DB, as_json: AsJson = False, as_csv: AsCsv = False) -> None:
    """Files that could not be read or extracted, with why."""
    database = ui.existing_db(db)
    rows = [
        {"doc": d["id"][: export.SHORT_ID], "file": d["name"], "error": d["error"]}
        for d in store.documents(database, "failed")
    ]
    if as_json or as_csv:
        ui.emit(rows, as_json)
        return
    table = RichTable("doc", "file", "why", title=f"Failed ({len(rows)})", title_justify="left")
    for r in rows:
        table.add_row(r["doc"], r["file"], r["error"] or "")
    ui.console.print(table)


def forget_command(
    doc: DocArg,
    db: DbOption = DEFAULT_DB,
    yes: Annotated[bool, typer.Option("--yes", help="Also forget a reviewed document (its reviews go too).")] = False,
) -> None:
    """Remove one document and everything recorded about it (e.g. a wrong upload)."""
    database = ui.existing_db(db)
    row = store.find_document(database, doc)
    if row is None:
        ui.err.print(f"[red]No single document matches {doc!r}[/]; see [bold]xxgk list[/].")
        raise typer.Exit(2)
    reviews = database["reviews"].count_where("doc_id = ?", [row["id"]])
    if reviews and not yes:
        ui.err.print(f"[red]{row['name']} has {reviews} review(s)[/]: a person's work; add --yes to forget it anyway.")
        raise typer.Exit(2)
    removed = cells.forget(database, row["id"])
    detail = ", ".join(f"{n} {t}" for t, n in removed.items() if n and t != "documents")
    ui.console.print(f"forgot {row['name']} ({row['id'][:12]})" + (f": {detail}" if detail else ""))


def years_command(
    agency: Annotated[str, typer.Argument(help="Agency name, full or short (normalised to one key).")],
    db: DbOption = DEFAULT_DB,
    as_json: AsJson = False,
) -> None:
    """One agency's reports year over year, with the cross-year checks between them."""
    database = ui.existing_db(db)
    rows = agencies.years(database, agency)
    if not rows:
        ui.err.print(f"[red]No reports of {agency!r}[/] (key {agencies.key(agency)!r}); see [bold]xxgk list[/].")
        raise typer.Exit(2)
    if as_json:
        ui.emit(rows, True)
        return
    table = RichTable("year", "agency as printed", "file", "status", "一 新收", "二 上年结转", "四 结转下年")
    table.title, table.title_justify = f"{rows[0]['agency_key']}: year over year", "left"
    for r in rows:
        figures = (_blank_cell(r[k]) for k in ("new_received", "carried_over", "carried_forward"))
        table.add_row(str(r["year"] or ""), r["agency"] or "", Path(r["name"]).name, r["status"], *figures)
    ui.console.print(table)
    mark = {"fail": "[red]✗[/]", "pass": "[green]✓[/]"}
    for r in rows:
        ui.console.print(f"[bold]{r['year']} against {r['year'] - 1 if r['year'] else '?'}[/]:", end=" ")
        if not r["cross_year"]:
            ui.console.print("no previous year in the store")
            continue
        ui.console.print(f"{len(r['cross_year'])} cross-year checks")
        for c in r["cross_year"]:
            ui.console.print(f"  {mark.get(c['status'], '?')} {c['check_id']}  {c['message']}", soft_wrap=True)


def _blank_cell(value: Any) -> str:
    return "" if value is None else str(value)


def datasette_metadata_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="Metadata file to write.")] = Path("metadata.json"),
    db: DbOption = DEFAULT_DB,
) -> None:
    """Write table and column descriptions (中文 / English) for: datasette xxgk.db --metadata metadata.json"""
    output.write_text(store.dumps(cells.metadata(db.stem), indent=2) + "\n", encoding="utf-8")
    ui.console.print(f"wrote {output}; browse with [bold]datasette {db} --metadata {output}[/]")
