"""`xxgk`: a thin command line over the library, one module per stage of the pipeline.

- `run`: ingest, extract, run (files -> checked tables in the store)
- `review`: queue, show, review (what waits for a person)
- `export`: export (the store -> JSON lines, CSV, Excel, Parquet)
- `evaluate`: eval, generate (scores against gold; reports with known answers)
- `admin`: status, list, failed, forget, years, datasette-metadata (the store itself)
- `options`: the options commands share and the settings they become; `ui`: consoles, escaping,
  progress bars, exit codes.

Exit codes: 0 every document processed (accepted or queued), 1 a file failed, 2 a usage or
settings error, 3 the store (or an output file) could not be read or written. Every string
that comes from a report or a file name is escaped before Rich sees it and stripped of
control characters before a terminal does.
"""

from __future__ import annotations

import importlib.metadata
import sqlite3
import sys
from typing import Annotated

import typer

from extraction import pipeline
from extraction.cli import admin, evaluate, export, review, run, ui
from extraction.read import ingest

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Verified tables from 政府信息公开工作年度报告.")

# In the order --help lists them: the main job first, then the person's side, the data out,
# the scores, and the store's housekeeping.
for _name, _command in (
    ("ingest", run.ingest_command),
    ("extract", run.extract_command),
    ("run", run.run_command),
    ("status", admin.status_command),
    ("queue", review.queue_command),
    ("show", review.show_command),
    ("export", export.export_command),
    ("eval", evaluate.eval_command),
    ("review", review.review_command),
    ("generate", evaluate.generate_command),
    ("list", admin.list_command),
    ("failed", admin.failed_command),
    ("forget", admin.forget_command),
    ("years", admin.years_command),
    ("datasette-metadata", admin.datasette_metadata_command),
):
    app.command(_name)(_command)


def _version(value: bool) -> None:
    if value:
        ui.console.print(f"xxgk {importlib.metadata.version('xxgk-extract')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Verified tables from 政府信息公开工作年度报告."""


def main() -> None:  # pragma: no cover - console script entry
    pipeline.tune_for_batch()
    try:
        app()
    except ingest.SettingsError as exc:
        ui.err.print(f"[red]{ui.safe(exc)}[/]")
        sys.exit(ui.EXIT_USAGE)
    except sqlite3.Error as exc:  # disk full, a read-only store, a file that is not a store
        ui.err.print(f"[red]The store failed[/]: {ui.safe(exc)} ({type(exc).__name__}); nothing further was written.")
        sys.exit(ui.EXIT_STORE)
    except OSError as exc:  # an output that cannot be written (disk full, no permission)
        ui.err.print(f"[red]Could not write[/] {ui.safe(exc.filename or '')}: {ui.safe(exc.strerror or exc)}")
        sys.exit(ui.EXIT_STORE)
