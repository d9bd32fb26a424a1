"""The source beside the grid: the report text, escaped, with the cells that matter marked, and
the printed row a repair is compared with."""

from __future__ import annotations

import html

from extraction.review.item import Key
from extraction.schema import Report

EDITED_STYLE = "background:#cfe3ff;outline:2px solid #1c6dd0"  # a cell the reviewer has changed
FAILING_STYLE = "background:#ffe08a"  # a printed cell behind an identity that fails
Span = tuple[int, int]


def _marked(text: str, marked: dict[Span, str], start: int, end: int) -> str:
    """text[start:end] escaped, each span in `marked` wrapped in a <mark> of its style."""
    pieces, cursor = [], start
    for begin, stop in sorted(s for s in marked if s[0] >= start and s[1] <= end):
        if begin < cursor:
            continue
        style = marked[(begin, stop)]
        pieces += [html.escape(text[cursor:begin]), f"<mark style='{style}'>", html.escape(text[begin:stop]), "</mark>"]
        cursor = stop
    pieces.append(html.escape(text[cursor:end]))
    return "".join(pieces)


def source_html(text: str, spans: list[Span], start: int = 0, edited: list[Span] | None = None) -> str:
    """The report text, escaped, with the failing cells' spans marked and the spans of the cells
    under edit marked apart (an edit wins where both fall): shown, never interpreted."""
    marked = {s: FAILING_STYLE for s in spans} | {s: EDITED_STYLE for s in edited or []}
    body = _marked(text, marked, start, len(text))
    return (
        "<div style='max-height:75vh;overflow:auto;border:1px solid #ddd;padding:.5rem;font-size:.85rem'>"
        f"<pre style='white-space:pre-wrap;margin:0'>{body}</pre></div>"
    )


def printed_row(text: str, report: Report, key: Key, limit: int = 400) -> tuple[int, int] | None:
    """Where the row holding a cell is printed: from the start of the line of its first cell
    (and the lines before it, up to three, until one holds a word: the row's label) to the end
    of the line of its last. None when the row has no place in the text (typed, not read)."""
    section, row, _ = key
    table = report.table(section)  # type: ignore[arg-type]
    spans = [c.span for c in (table.cells.get(row, {}) if table else {}).values() if c.span]
    if not spans:
        return None
    first, last = min(s[0] for s in spans), max(s[1] for s in spans)
    begin = text.rfind("\n", 0, first) + 1
    for _ in range(3):  # a grid read cell by cell puts the label a line or two above its numbers
        if begin == 0 or any(ch.isalpha() for ch in text[begin:first]):
            break
        begin = text.rfind("\n", 0, begin - 1) + 1
    end = text.find("\n", last)
    end = len(text) if end < 0 else end
    return begin, end if end - begin <= limit else max(last, begin + limit)


def row_html(text: str, report: Report, key: Key) -> str:
    """The printed row of a cell, escaped, the cell marked: what a reviewer compares a one-cell
    repair with before taking it."""
    where = printed_row(text, report, key)
    if where is None:
        return "<pre style='margin:0'>(this row has no place in the text)</pre>"
    section, row, column = key
    table = report.table(section)  # type: ignore[arg-type]
    span = table.cell(row, column).span if table is not None else None
    body = _marked(text, {span: EDITED_STYLE} if span else {}, *where)
    return (
        "<pre style='white-space:pre-wrap;margin:0;padding:.3rem;border:1px solid #1c6dd0;font-size:.9rem'>"
        f"{body}</pre>"
    )
