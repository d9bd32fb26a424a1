"""`export`: the store's current values out to the files data users open — JSON lines (the
contract in docs/EXPORT.md), CSV long or wide, Excel, Parquet — with the same filters for all."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from extraction import export
from extraction.cli import ui
from extraction.cli.options import (
    DEFAULT_DB,
    DbOption,
    ExportFormat,
    SectionChoice,
    StatusFilter,
    TemplateChoice,
)


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
        ui.refuse_overwrite(output, "--output", db)
    database = ui.existing_db(db)
    filters = export.Filters(
        status=status.value if status else None,
        year=year,
        agency=agency,
        template=template_version.value if template_version else None,
        section=section.value if section else None,
    )
    if format in (ExportFormat.xlsx, ExportFormat.parquet):
        _write_workbook(database, format, output, filters)
    else:
        _write_text(database, format, output, wide, filters)


def _write_workbook(database: Any, format: ExportFormat, output: Path | None, filters: export.Filters) -> None:
    """Excel or Parquet: binary files, so a file name is required (no stdout)."""
    if output is None:
        ui.err.print(f"[red]--format {format.value} writes a file[/]: give --output FILE.{format.value}.")
        raise typer.Exit(ui.EXIT_USAGE)
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        write = export.write_xlsx if format == ExportFormat.xlsx else export.write_parquet
        count = write(database, output, filters)
    except RuntimeError as exc:
        ui.err.print(f"[red]{exc}[/]")
        raise typer.Exit(ui.EXIT_USAGE) from exc
    unit = "report tables" if format == ExportFormat.xlsx else "cells"
    ui.err.print(f"wrote {count} {unit} to {output}")


def _write_text(database: Any, format: ExportFormat, output: Path | None, wide: bool, filters: export.Filters) -> None:
    """JSON lines or CSV, to stdout or a file."""
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
    ui.err.print(f"wrote {count} {unit} to {ui.safe(output)}")
