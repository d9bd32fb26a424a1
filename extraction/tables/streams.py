"""Reading tables that PDF text extraction turned into a stream of labels and numbers.

`pdftotext` in its default order prints every cell on a line of its own, often with a row's
label far from its numbers; `pdftotext -layout` keeps a row on one line but wraps long labels
and lets page footers ("-3-") fall between rows. In both, the numbers of section 三 come in
template order, seven per row, while labels drift (a row's label may come after every number).
So runs of numbers fill the rows in template order; only a label printed on the same line as
its numbers (-layout) moves the reading forward, past rows printed blank. Blocks printed column
by column, short rows placed by column position and section 四's interleaved groups are all
tried, and the identities check the result like any other reading. Where blank cells printed
nothing (default order, fewer numbers than cells), each run is read as the rows its labels
name, cut into rows by their totals (`_labelled`, `orders.cut_run`): a "gapped" stream.

This module finds the rows; the orders pdftotext prints them in are undone in `orders`, the
columns a -layout row's numbers stand in are read in `edges`, and from the rows on a stream
goes through `placement` and `choose` like every other family.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from extraction import template
from extraction.tables.edges import by_position
from extraction.tables.orders import REVIEW_CELLS, Cut, by_orientation, cut_run, review_order
from extraction.tables.placement import RawCell
from extraction.template import Section, Version

# A whitespace-delimited value: 12, 1,234, 3773631元, 849.39万元, 增1, -3. "1.属于" and "-3-" are not.
_VALUE = re.compile(r"(?<!\S)(?:增|减|[+-])?\d[\d,]*(?:\.\d+)?(?:万元|元)?(?!\S)")
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


@dataclass
class Run:
    labels: list[str]  # the label lines since the previous run, nearest last
    cells: list[RawCell] = field(default_factory=list)
    inline_label: str = ""  # label text on the same line as the first number: -layout's strong evidence


def runs(text: str, start: int, end: int) -> list[Run]:
    """Numbers grouped into runs, each with the label lines printed before it.

    Label lines after the last number come as a final run without cells: pdftotext often
    prints the last rows' labels after every number of the table.
    """
    out: list[Run] = []
    labels: list[str] = []
    current: Run | None = None
    offset = start
    for line in text[start:end].splitlines(keepends=True):
        content = line.rstrip("\r\n").translate(_FULLWIDTH_DIGITS)
        position = 0
        for match in _VALUE.finditer(content):
            label = content[position : match.start()].strip()
            if label:
                labels.append(label)
                current = None
            if current is None:
                current = Run(labels, inline_label=label)
                out.append(current)
                labels = []
            current.cells.append(
                RawCell(line[match.start() : match.end()], offset + match.start(), offset + match.end())
            )
            position = match.end()
        rest = content[position:].strip()
        if rest:
            labels.append(rest)
            current = None
        offset += len(line)
    if labels:
        out.append(Run(labels))
    return out


def count_values(text: str, start: int, end: int) -> int:
    return sum(len(run.cells) for run in runs(text, start, end))


def rows(text: str, start: int, end: int, section: Section) -> tuple[list[tuple[str, list[RawCell]]], list[str], bool]:
    """Labelled rows (label, cells) for the section's reader, cut from the stream, any doubts,
    and whether blank cells vanished so that each labelled run was read as one (short) row.

    Rows are filled in template order: in these streams the numbers keep it while labels drift
    (a row's label may come after all the numbers). A run covering several rows may be printed
    row by row or column by column (pdftotext emits a block of cells per column); every such
    reading is tried and the identities choose, an unresolved tie being a doubt.
    """
    found = runs(text, start, end)
    if section == "review_litigation":
        cells = [cell for run in found for cell in run.cells]
        # One number per line and fewer than fifteen: default order, where blanks vanished.
        gapped = len(cells) < REVIEW_CELLS and all("\n" in text[a.end : b.start] for a, b in itertools.pairwise(cells))
        return (*review_order(cells), gapped)
    every_label = "".join(label for run in found for label in run.labels)
    version = _version(section, every_label)
    spec = template.spec(section, version)
    widths = [len(row.columns) for row in spec.rows]
    side_by_side = any("\n" not in text[a.end : b.start] for run in found for a, b in itertools.pairwise(run.cells))
    if section == "applications" and not side_by_side and sum(len(run.cells) for run in found) < sum(widths):
        # Default order, one number per line, and fewer numbers than cells: blanks vanished.
        labelled = _labelled(found)
        if labelled is not None:
            return [(every_label, []), *labelled[0]], labelled[1], True
    match = template.match_proactive_row if section == "proactive" else template.match_application_row
    order = _InOrder([row.key for row in spec.rows], widths, match)
    for run in found:
        order.take(run, side_by_side)
    blocks, doubts = order.blocks, []
    if section == "applications":
        blocks, doubts = by_position(blocks, text, version)
        blocks, more = by_orientation(blocks, version)
        doubts += more
    out: list[tuple[str, list[RawCell]]] = [(every_label, [])]  # every label first: the version words
    flat = [row for block in blocks for row in block]
    placed = dict(zip(order.indexes, flat, strict=True))
    at = text.find("\n", start)  # a blank row has no span of its own; its cells point at the section
    for i in order.blank_rows:
        placed[i] = [RawCell("", at, at) for _ in range(widths[i])]
    out += [(spec.rows[i].label, placed[i]) for i in sorted(placed)]
    if order.leftover:
        out.append(("unread numbers", order.leftover))
    return out, doubts, False


def _version(section: Section, every_label: str) -> Version:
    """The template version the stream's labels name (2019 unless they say otherwise)."""
    if section == "applications":
        split = ("逾期不补正", "缴纳费用", "收费通知")
        return "2021" if any(w in template.compact(every_label) for w in split) else "2019"
    return template.proactive_version(every_label) or "2019"


@dataclass
class _InOrder:
    """Runs laid over the template's rows in order, each run's cells cut by the rows' widths."""

    keys: list[str]
    widths: list[int]
    match: Callable[[str], str | None]
    blocks: list[list[list[RawCell]]] = field(default_factory=list)  # per run: its cells cut into rows
    indexes: list[int] = field(default_factory=list)  # the template row of each row in `blocks`, in order
    blank_rows: list[int] = field(default_factory=list)
    leftover: list[RawCell] = field(default_factory=list)
    following: int = 0

    def skip_to(self, label: str) -> bool:
        """Move to the row a label names, if it lies ahead: the rows skipped over printed no
        number at all, rows of blanks rather than missing rows."""
        named = self.match(label)
        if named not in self.keys or self.keys.index(named) < self.following:
            return False
        self.blank_rows.extend(range(self.following, self.keys.index(named)))
        self.following = self.keys.index(named)
        return True

    def take(self, run: Run, side_by_side: bool) -> None:
        if not run.cells and side_by_side:
            # -layout prints a label beside its numbers: a row named after the last number
            # printed none, like the rows before it that were skipped over.
            for line in run.labels:
                if self.skip_to(line):
                    self.blank_rows.append(self.following)
                    self.following += 1
            return
        if run.inline_label:
            self.skip_to(run.inline_label)
        cells, block = list(run.cells), []
        while cells and self.following < len(self.widths):
            self.indexes.append(self.following)
            block.append(cells[: self.widths[self.following]])
            cells = cells[self.widths[self.following] :]
            self.following += 1
        if block:
            self.blocks.append(block)
        self.leftover += cells


Named = list[tuple[str, str]]  # label lines with the template row each names
Group = tuple[Named, list[RawCell]]  # the rows a run may cover, and its cells


def _labelled(found: list[Run]) -> tuple[list[tuple[str, list[RawCell]]], list[str]] | None:
    """Each run of numbers as the rows its labels name, when every run has one; any doubts.

    A PDF prints nothing for a blank cell, so fewer numbers than cells means some rows are
    short and filling rows seven by seven would shift every number after the first blank.
    A run follows the label of its first row (wrapped labels joined, nearest lines first).
    Rows named after it and before the next run's own label either printed no number (a row
    of blanks) or had their numbers printed in this run: pdftotext prints some blocks of rows
    numbers first, labels after. Such a run is cut into its rows by each row's total, the sum
    of the parts before it (`orders.cut_run`). A run without a label and the reading falls back
    to filling rows in order.
    """
    groups = _run_groups(found)
    cuts = _cuts_by_totals(groups) if groups is not None else None
    if cuts is None:
        return None
    out: list[tuple[str, list[RawCell]]] = []
    doubts: list[str] = []
    for named, cut in cuts:
        out += [(label, row) for (label, _), row in zip(named, cut.rows, strict=True)]
        doubts += [cut.doubt] if cut.doubt else []
    return out, doubts


def _run_groups(found: list[Run]) -> list[Group] | None:
    """Each run with the rows named from its own label up to the next run's; None when a run
    has no label naming a row."""
    groups: list[Group] = []
    previous: str | None = None

    def named_after(lines: list[str]) -> None:
        nonlocal previous
        for line in lines:
            row = template.match_application_row(line, previous)
            if row is None or row == previous:
                continue
            if groups:
                groups[-1][0].append((line, row))
            else:
                groups.append(([(line, row)], []))
            previous = row

    for run in found:
        labels = _unwrapped(run.labels)
        if not run.cells:
            named_after(labels)
            continue
        name, back = None, 0
        for back in range(1, min(len(labels), 3) + 1):
            # Read after the lines before it: "3.其他" names a row only after "2.逾期未缴纳费用".
            name = template.match_application_row("".join(labels[-back:]), _named_last(labels[:-back], previous))
            if name is not None:
                break
        if name is None:
            return None
        named_after(labels[:-back])
        groups.append(([("".join(labels[-back:]), name)], list(run.cells)))
        previous = name
    return groups


Path = tuple[tuple[int, int, int], list[tuple[Named, Cut]]]  # (broken sums, empty rows, rows moved), cuts


def _cuts_by_totals(groups: list[Group]) -> list[tuple[Named, Cut]] | None:
    """Each group's run cut into its rows, the row each run starts at weighed along the stream.

    The label just before a run names the run's first row, unless that row ended a block
    printed numbers first, its numbers closing the run before: then the run starts at the row
    after it. Each such choice is weighed by the totals (fewest broken sums, then fewest rows
    left empty) along the whole stream; the labels' own reading is kept on a tie.
    """
    paths: dict[bool, Path] = {False: ((0, 0, 0), [])}
    for k, (named, cells) in enumerate(groups):
        ahead: dict[bool, Path] = {}
        for lost, (score, chosen) in paths.items():
            for takes in (False, True) if k + 1 < len(groups) else (False,):
                rows = named[int(lost) :] + (groups[k + 1][0][:1] if takes else [])
                cut = cut_run(cells, len(rows)) if rows else None
                if cut is None:
                    continue
                total = (score[0] + cut.score[0], score[1] + cut.score[1], score[2] + takes)
                if takes not in ahead or total < ahead[takes][0]:
                    ahead[takes] = (total, [*chosen, (rows, cut)])
        if not ahead:
            return None
        paths = ahead
    return paths[False][1]


def _named_last(lines: list[str], previous: str | None) -> str | None:
    """The row the last of these label lines names, each read after the one before (or `previous`)."""
    for line in lines:
        row = template.match_application_row(line, previous)
        previous = row if row is not None else previous
    return previous


def _unwrapped(lines: list[str]) -> list[str]:
    """Label lines with a wrapped label's later lines joined to its first (they carry no numbering)."""
    out: list[str] = []
    for line in lines:
        if out and not template.starts_numbered(line):
            out[-1] += line
        else:
            out.append(line)
    return out
