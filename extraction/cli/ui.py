"""What every command shares on the terminal: the two consoles, escaping, progress bars, rows for
scripts, the exit codes and opening a store that must exist.

Commands print results on stdout (`console`) and messages and progress bars on stderr (`err`), so
that `xxgk export > file` and `--json` output stay clean. Every string that comes from a report or a
file name goes through `safe` before Rich or a terminal sees it. Commands use these as `ui.err`,
`ui.console`: one place to redirect them (the tests record the bars by replacing `ui.err`).
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from extraction import pipeline
from extraction.storage import store

console = Console()
err = Console(stderr=True, soft_wrap=True)  # messages stay one line, whatever the width

EXIT_FAILED, EXIT_USAGE, EXIT_STORE = 1, 2, 3
# Control characters (escape sequences, backspace, carriage return, bidirectional overrides) in
# a file name or a report would reach the terminal as commands: shown as \xNN instead.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
STATUS_STYLE = {"accepted": "green", "queued": "yellow", "reviewed": "cyan", "failed": "red", "ingested": "white"}


def safe(text: object) -> str:
    """A report's or a file's string, printable as is: no Rich markup, no terminal controls."""
    return escape(_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text)))


def styled(status: str) -> str:
    """A document status in its colour."""
    return f"[{STATUS_STYLE.get(status, 'white')}]{status}[/]"


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def blank(value: Any) -> str:
    return "blank" if value is None else str(value)


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


def existing_db(path: Path) -> Any:
    """Open a store that must already exist: a mistyped --db is an error, not a new empty store."""
    if not path.exists():
        err.print(f"[red]No store at {path}[/]: check --db (or XXGK_DB); [bold]xxgk run FILES[/] creates one.")
        raise typer.Exit(2)
    return store.open_db(path)


@dataclass
class Bar:
    """A progress bar per phase of a command (ingest, extract, score, write), each with its total.

    `phase` starts a bar of its own below the last one; `tick` advances the current one and
    redraws at most every REDRAW seconds (see `progress`: the bars have no thread of their own).
    """

    progress: Progress
    task: TaskID | None = None
    drawn: float = 0.0

    def phase(self, label: str, total: int) -> None:
        self.task = self.progress.add_task(label, total=total)
        self._draw(force=True)

    def tick(self, _name: str = "") -> None:
        if self.task is not None:
            self.progress.advance(self.task)
            self._draw()

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.drawn >= REDRAW:
            self.drawn = now
            self.progress.refresh()


REDRAW = 0.1  # seconds between redraws of the bars: ten a second, as Rich's own refresh thread


@contextlib.contextmanager
def progress() -> Iterator[Bar]:
    """Progress bars on stderr when it is a terminal; gone once the command prints its result.

    Redrawn by the command as it ticks, not by Rich's refresh thread: the batch forks worker
    processes (workers.py), and a thread writing to stderr at the moment of a fork leaves the
    child a stderr lock that nobody will release, so the child's first warning would hang it."""
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal, auto_refresh=False) as bars:
        yield Bar(bars)


def tracked(label: str, total: int | None, work: Callable[[Bar], list[pipeline.Outcome]]):
    """Run `work` with progress bars; with a total, one phase `label` starts here, else work starts its own."""
    with progress() as bar:
        if total is not None:
            bar.phase(label, total)
        return work(bar)


def ticking(items: list[Any], bar: Bar) -> Iterator[Any]:
    """The items, advancing the bar as each is taken (generator.write takes them one by one)."""
    for item in items:
        yield item
        bar.tick()


def emit(rows: list[dict[str, Any]], as_json: bool) -> None:
    """Rows for scripts, as sqlite-utils prints them: a JSON array, or CSV with a header."""
    if as_json:
        sys.stdout.write(store.dumps(rows, indent=2) + "\n")
        return
    writer = csv.DictWriter(sys.stdout, list(rows[0]) if rows else [], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
