"""Web pages: the text of an HTML report, with every table kept cell by cell.

A table's structure is the evidence, so it is not flattened: each cell is written as a line
opening with a tab and each row ends with an empty line, the form the layout parser reads
as "one cell per line", where cells are taken as they are (no guessing about lost fields). A
cell spanning rows or columns (rowspan, colspan) keeps its place and leaves empty cells where
it spans, and `&nbsp;` stays a blank. Scripts, styles and navigation are page chrome, dropped,
except a script whose strings carry the report's tables, which are read in its place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import lxml.html

_CHROME = ("script", "style", "noscript", "nav", "header", "footer", "iframe")
_BLOCKS = {"p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "section", "article", "title"}


# A JavaScript string literal, and the escapes inside one.
_JS_STRING = re.compile(r"""(['"`])((?:\\.|(?!\1)[^\\])*)\1""", re.S)
_JS_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)", re.S)
_JS_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "b": "", "f": "", "v": "", "0": ""}


MAX_TABLE_CELLS = 50_000  # XXGK_MAX_TABLE_CELLS, read by ingest.Limits.from_env


class TooLarge(ValueError):
    """A table whose spans lay out more cells than the budget allows."""


def to_text(markup: str, max_cells: int = MAX_TABLE_CELLS) -> str:
    root = lxml.html.fromstring(markup or "<html></html>")
    unwrap_scripts(root)
    for element in root.iter(*_CHROME):
        element.drop_tree()
    lines: list[str] = []
    _walk(root, lines, max_cells)
    # Trailing spaces go; a lone tab stays: it is an empty cell, not the end of a row.
    return "\n".join(line.rstrip(" ") for line in "".join(lines).splitlines()).strip("\n ") + "\n"


_CELL_TAG = re.compile(r"<t[dh][\s>]", re.IGNORECASE)


def carries_tables(text: str) -> bool:
    """Whether a text file is really markup holding tables: a page saved under another name,
    or a script that writes the report (document.write('<table>…'))."""
    return len(_CELL_TAG.findall(text, 0, 200_000)) >= 10 and "</t" in text.lower()


def unwrap_scripts(root: lxml.html.HtmlElement) -> None:
    for script in list(root.iter("script")):
        _unwrap_script(script)


def _unwrap_script(script: lxml.html.HtmlElement) -> None:
    """Some sites deliver the report inside a script (document.write('<table>...')): markup in
    a script's strings that holds a report's tables takes the script's place. Other scripts
    (menus, counters, a stray table of a widget) stay chrome."""
    markup = markup_in_script(script.text or "")
    if markup is None:
        return
    holder = lxml.html.fromstring(f"<div>{markup}</div>")
    script.addprevious(holder)


def markup_in_script(code: str) -> str | None:
    """The report's markup written by a script's string literals, or None when its strings
    hold no report tables."""
    fragments = [_js_unescape(m.group(2)) for m in _JS_STRING.finditer(code)]
    markup = "".join(f for f in fragments if "<t" in f.lower())
    if "<table" not in markup.lower() or not any(word in markup for word in _REPORT_WORDS):
        return None
    return markup


_REPORT_WORDS = ("政府信息公开", "主动公开", "行政复议", "申请人情况")


def _js_unescape(literal: str) -> str:
    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        if code[0] in "ux" and len(code) > 1:
            return chr(int(code[1:], 16))
        return _JS_SIMPLE.get(code, code)

    return _JS_ESCAPE.sub(one, literal)


def _walk(element: lxml.html.HtmlElement, out: list[str], max_cells: int) -> None:
    if element.tag == "table":
        for row in table_rows(element, max_cells):
            out.append("\n" + "".join(f"\t{cell}\n" for cell in row))
        out.append("\n")
        if element.tail:
            out.append(element.tail)
        return
    block = isinstance(element.tag, str) and element.tag in _BLOCKS
    if block:
        out.append("\n")
    if element.text:
        out.append(element.text)
    for child in element:
        _walk(child, out, max_cells)
    if block:
        out.append("\n")
    if element.tail:
        out.append(element.tail)


def table_rows(table: lxml.html.HtmlElement, max_cells: int = MAX_TABLE_CELLS) -> list[list[str]]:
    """A table's rows as cell texts, with row and column spans laid out on the grid.

    The grid is counted before it is built: 43 KB of `rowspan=100 colspan=100` cells lay out
    22 million places. Over `max_cells` the page is refused naming the budget.
    """
    grid: dict[tuple[int, int], str] = {}
    places = table_cells(table, max_cells)
    height = max((p.row + p.rowspan for p in places), default=0)
    width = max((p.column + p.colspan for p in places), default=0)
    _within(height * width, max_cells)
    for place in places:
        for dr in range(place.rowspan):
            for dc in range(place.colspan):
                grid[(place.row + dr, place.column + dc)] = place.text if (dr, dc) == (0, 0) else ""
    height = max((r for r, _ in grid), default=-1) + 1
    width = max((c for _, c in grid), default=-1) + 1
    return [[grid.get((r, c), "") for c in range(width)] for r in range(height)]


@dataclass(frozen=True)
class Placed:
    """A cell where the table puts it: top-left grid position and how far it spans."""

    row: int
    column: int
    rowspan: int
    colspan: int
    text: str


def _within(cells: int, max_cells: int) -> None:
    if cells > max_cells:
        raise TooLarge(
            f"a table lays out over {cells:,} cells after its row and column spans, over the budget of "
            f"{max_cells:,} cells per table (XXGK_MAX_TABLE_CELLS)"
        )


def table_cells(table: lxml.html.HtmlElement, max_cells: int = MAX_TABLE_CELLS) -> list[Placed]:
    """Every cell of a table at its grid position, a spanning cell pushing later ones right."""
    taken: set[tuple[int, int]] = set()
    places = []
    rows = [tr for tr in table.iter("tr") if tr.getparent() is not None and _own(tr, table)]
    for r, tr in enumerate(rows):
        c = 0
        for cell in tr:
            if cell.tag not in ("td", "th"):
                continue
            while (r, c) in taken:
                c += 1
            content = cell.text_content()
            text = " ".join(content.split()) if content.strip() else content.replace("\n", "")
            place = Placed(r, c, _span(cell.get("rowspan")), _span(cell.get("colspan")), text)
            _within(len(taken) + place.rowspan * place.colspan, max_cells)
            taken.update((r + dr, c + dc) for dr in range(place.rowspan) for dc in range(place.colspan))
            places.append(place)
            c += place.colspan
    return places


def _own(tr: lxml.html.HtmlElement, table: lxml.html.HtmlElement) -> bool:
    """A row of this table, not of a table nested in one of its cells."""
    parent = tr.getparent()
    while parent is not None and parent.tag != "table":
        parent = parent.getparent()
    return parent is table


def _span(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), 100))
    except ValueError:
        return 1
