"""What waits for a person: `queue` (documents a reviewer must look at, and why), `show` (one
document's tables with the failing cells marked) and `review` (the Streamlit review app)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table as RichTable

from extraction import export, pipeline, template
from extraction.cli import ui
from extraction.cli.options import DEFAULT_DB, AsCsv, AsJson, DbOption, DocArg
from extraction.schema import Finding, Table
from extraction.storage import store

# extraction/cli/review.py -> the repository, where review_app/ sits next to the package.
_REPOSITORY = Path(__file__).resolve().parent.parent.parent


def queue_command(db: DbOption = DEFAULT_DB, as_json: AsJson = False, as_csv: AsCsv = False) -> None:
    """Documents waiting for a reviewer, oldest first, with why they wait."""
    database = ui.existing_db(db)
    if as_json or as_csv:
        ui.emit([dict(r) for r in database["queue"].rows], as_json)
        return
    table = RichTable("doc", "agency", "year", "why", title="Review queue", title_justify="left")
    for doc in store.documents(database, "queued"):
        why = pipeline.reasons(store.findings(database, doc["current_extraction"]))
        table.add_row(doc["id"][:12], ui.safe(doc["agency"] or ""), str(doc["year"] or ""), ui.safe(why))
    ui.console.print(table)


def show_command(doc: DocArg, db: DbOption = DEFAULT_DB) -> None:
    """The tables and findings of one document."""
    database = ui.existing_db(db)
    row = store.find_document(database, doc)
    if row is None:
        ui.err.print(f"[red]No single document matches {ui.safe(repr(doc))}[/]; see [bold]xxgk export[/] for ids.")
        raise typer.Exit(ui.EXIT_USAGE)
    ui.console.print(f"[bold]{ui.safe(row['name'])}[/]  {row['id'][:12]}  {ui.styled(row['status'])}")
    ui.console.print(f"agency: {ui.safe(row['agency'] or '—')}   year: {row['year'] or '—'}")
    if row["status"] == "failed":
        ui.console.print(f"[red]failed:[/] {ui.safe(row['error'])}")
        raise typer.Exit(0)
    meta: dict[str, Any] = {}
    report, findings = export.current_report(database, row, meta)
    if report is None:
        ui.console.print("Not extracted yet: run [bold]xxgk extract[/].")
        return
    ui.console.print(f"values from: {meta.get('extractor')}")
    failing = [f for f in findings if f.status == "fail"]
    # A blank total points at the total alone; other failures at every cell of the equation.
    flagged = {cell for f in failing for cell in (f.cells[:1] if f.id.endswith("blank_total") else f.cells)}
    for table in report.tables():
        ui.console.print(_render(table, flagged))
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
        ui.console.print("[green]All hard checks pass.[/]")
        return
    ui.console.print("[bold]Failing checks[/]")
    for f in failing:
        colour = "red" if f.severity == "hard" else "yellow"
        ui.console.print(f"[{colour}]✗ {f.severity}[/] [bold]{ui.safe(f.id)}[/]", soft_wrap=True)
        ui.console.print(f"    {ui.safe(f.message)}", soft_wrap=True)


def review_command(
    db: DbOption = DEFAULT_DB,
    port: Annotated[int, typer.Option(help="Port for the review app.")] = 8501,
    host: Annotated[
        str, typer.Option(help="Address to listen on: 127.0.0.1 keeps the store on this machine; 0.0.0.0 opens it.")
    ] = "127.0.0.1",
) -> None:
    """Open the review app (Streamlit) on the store; stopping this command stops the server."""
    script = _REPOSITORY / "review_app" / "app.py"
    if not script.is_file():
        ui.err.print(
            f"[red]The review app is not next to this package[/] ({script}); install from a clone with pip -e."
        )
        raise typer.Exit(2)
    ui.existing_db(db)
    ui.console.print(f"Review app for {ui.safe(db)} on http://{host}:{port} (Ctrl-C to stop)")
    command = [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port)]
    command += ["--server.address", host, "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    command += ["--", "--db", str(db)]
    sys.stdout.flush()
    # The server replaces this process: a signal to `xxgk review` reaches the server itself.
    os.execve(sys.executable, command, {**os.environ, "XXGK_DB": str(db)})
