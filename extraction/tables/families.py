"""How each layout family shows a section's rows: in goes a section's text, out come its printed
rows, each a label cell and the cells after it with their offsets in the document.

The family decides only how a row's cells are found in the text; where they go in the table
(which printed number is which cell) is decided for every family alike, by `placement.readings`
and `choose`. Families (`detect_family`):

- ``cell_per_line`` (Word saved as text): every cell starts a line with a tab, a line without
  a tab continues the cell above (vertical headers, wrapped labels), an empty line ends a row.
- ``tab_rows`` (one row per line, cells split by tabs): converters drop or add empty fields,
  so a row may have too few or too many cells and the numbers shift.
- ``markdown`` (tables from PDF/OCR converters); HTML tables arrive as ``cell_per_line``
  (`html.to_text` keeps them cell by cell).
- ``space_rows`` (web text: single spaces, blanks gone, digits sometimes run together): rows
  found by their labels wherever the lines break (`anchored`).
- ``number_stream`` / ``gapped_stream`` (pdftotext, default order or -layout; `streams`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from extraction import template
from extraction.tables import anchored, sections, streams
from extraction.tables.placement import RawCell, Row, split_row
from extraction.template import Section


@dataclass
class Printed:
    """A section's printed rows as its family shows them."""

    family: str  # as read: a number stream whose blank cells printed nothing is a ``gapped_stream``
    rows: list[Row]
    doubts: list[str]  # what the family's own reading leaves open (a PDF stream's printing order)


def printed_rows(text: str, span: sections.Span, section: Section, family: str) -> Printed:
    """The rows of a section in `family`: the one input every family gives the placement."""
    if family == "number_stream":
        cut, doubts, gapped = streams.rows(text, span.start, span.end, section)
        return Printed("gapped_stream" if gapped else family, _as_rows(cut, span), doubts)
    if family == "space_rows":  # web text: rows by their labels, whatever the line breaks
        found = anchored.rows(text, span.start, span.end, section)
        return Printed(family, _as_rows([(label, [RawCell(*c) for c in cells]) for label, cells in found], span), [])
    return Printed(family, tokenize(text, span, family), [])


def _lines(text: str, start: int, end: int) -> list[tuple[int, str]]:
    out = []
    offset = start
    for line in text[start:end].splitlines(keepends=True):
        out.append((offset, line.rstrip("\r\n")))
        offset += len(line)
    return out


def detect_family(text: str, span: sections.Span) -> str | None:
    lines = [content for _, content in _lines(text, span.start, span.end)]
    if sum(1 for c in lines if c.lstrip().startswith("|") and c.count("|") >= 3) >= 3:
        return "markdown"
    inner_tabs = sum(1 for c in lines if "\t" in c.lstrip("\t") and c.strip())
    leading_tabs = sum(1 for c in lines if c.startswith("\t"))
    if inner_tabs >= 3:
        return "tab_rows"
    if leading_tabs >= 3:
        return "cell_per_line"
    # (A row is a short line: on a whole page body in one line the row pattern backtracks for ever.)
    if (
        any(anchored.names_rows(c) >= 3 for c in lines)
        or sum(1 for c in lines if len(c) < 400 and _SPACE_ROW.match(c)) >= 3
        or sum(1 for c in lines if len(c) < 400 and _GLUED_ROW.match(c) and _names_a_row(c)) >= 3
    ):
        return "space_rows"
    if streams.count_values(text, span.start, span.end) >= 3:
        return "number_stream"  # pdftotext, default order or -layout
    return None


def tokenize(text: str, span: sections.Span, family: str) -> list[Row]:
    rows: list[Row] = []
    row: Row = []
    for offset, content in _lines(text, span.start, span.end):
        if family == "tab_rows":
            if content.strip():
                rows.append(_split_tabs(content, offset))
            continue
        if family == "markdown":
            if content.lstrip().startswith("|") and not _MARKDOWN_RULE.match(content):
                rows.append(_split_pipes(content, offset))
            elif len(content) < 400 and _SPACE_ROW.match(content) and _names_a_row(content):
                # A converter leaves the small tables it did not recognise as plain lines: "行政许可 0".
                rows.append(
                    [RawCell(m.group(), offset + m.start(), offset + m.end()) for m in _TOKEN.finditer(content)]
                )
            continue
        if not content.strip() and not content.startswith("\t"):
            if row:
                rows.append(row)
            row = []
        elif content.startswith("\t"):
            row.extend(_split_tabs(content, offset)[1:])
        elif row:
            # A line without a tab continues the cell above it: "商\n业\n企\n业", "本年新\n制作数量".
            last = row[-1]
            row[-1] = RawCell(last.text + content, last.start, offset + len(content))
    if row:
        rows.append(row)
    return rows


def _as_rows(cut: list[tuple[str, Row]], span: sections.Span) -> list[Row]:
    """Rows given as (label, value cells) with the label as a cell of its own, where the row's
    values begin (or the section, for a row that printed none)."""
    out = []
    for label, cells in cut:
        at = cells[0].start if cells else span.start
        head = [RawCell(label, at, at)] if label else []
        out.append(head + list(cells))
    return out


# A web page's text as a browser copies it: a label, then values split by single spaces (or by
# nothing at all); pdftotext -layout pads with runs of spaces instead.
# A value never ends in "." or ",": "（四）无法提供 1." is a label wrapped after its item number.
_SPACE_ROW = re.compile(r"^\S*[^\s\d０-９.,]\S*(?: \S+)*? (?:[-+增减]?[\d０-９]+(?:[.,][\d０-９]+)*(?:万?元)? ?)+$")

# A page's rows a line each with the cells run into the label ("2.重复申请015000015"): web text
# too, whatever broke its lines. (PDF text never glues a row's numbers to its label.)
_GLUED_ROW = re.compile(r"^.*[^\s\d０-９.,．、:：%％][\d０-９]+(?:[.．][\d０-９]+)?(?:万元|元)?$")

_TOKEN = re.compile(r"\S+")


def _names_a_row(line: str) -> bool:
    label = split_row([RawCell(t, 0, 0) for t in line.split()])[0]
    return bool(template.match_proactive_row(label) or template.match_application_row(label))


# The line under a Markdown table's header: | --- | :---: | ---: |
_MARKDOWN_RULE = re.compile(r"^\s*\|(\s*:?-{2,}:?\s*\|)+\s*$")


def _split_pipes(content: str, offset: int) -> Row:
    """A Markdown table row: its cells between the pipes, an empty one kept as a blank."""
    cells = []
    inner = content.rstrip()
    first = inner.index("|")
    position = offset + first + 1
    parts = inner[first + 1 :].split("|")
    if parts and not parts[-1].strip():
        parts.pop()  # the closing pipe
    for part in parts:
        cells.append(RawCell(part.strip(), position + len(part) - len(part.lstrip()), position + len(part.rstrip())))
        position += len(part) + 1
    return cells


def _split_tabs(content: str, offset: int) -> Row:
    cells = []
    position = offset
    for part in content.split("\t"):
        cells.append(RawCell(part, position, position + len(part)))
        position += len(part) + 1
    return cells
