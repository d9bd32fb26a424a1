"""The source beside the grid: the report text, escaped, with the cells that matter marked."""

from __future__ import annotations

import html

EDITED_STYLE = "background:#cfe3ff;outline:2px solid #1c6dd0"  # a cell the reviewer has changed
FAILING_STYLE = "background:#ffe08a"  # a printed cell behind an identity that fails


def source_html(
    text: str, spans: list[tuple[int, int]], start: int = 0, edited: list[tuple[int, int]] | None = None
) -> str:
    """The report text, escaped, with the failing cells' spans marked and the spans of the cells
    under edit marked apart (an edit wins where both fall): shown, never interpreted."""
    marked = {s: FAILING_STYLE for s in spans} | {s: EDITED_STYLE for s in edited or []}
    pieces, cursor = [], start
    for begin, end in sorted(s for s in marked if s[0] >= start):
        if begin < cursor:
            continue
        style = marked[(begin, end)]
        pieces += [html.escape(text[cursor:begin]), f"<mark style='{style}'>", html.escape(text[begin:end]), "</mark>"]
        cursor = end
    pieces.append(html.escape(text[cursor:]))
    body = "".join(pieces)
    return (
        "<div style='max-height:75vh;overflow:auto;border:1px solid #ddd;padding:.5rem;font-size:.85rem'>"
        f"<pre style='white-space:pre-wrap;margin:0'>{body}</pre></div>"
    )
