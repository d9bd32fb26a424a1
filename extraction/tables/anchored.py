"""Rows of a table found by their printed labels, wherever the text breaks its lines.

A crawler writes a web page's body as one line: every section, every table, the prose and the
page chrome, with table cells run together or single-space separated
(``…总计 291000030二、上年结转…000000 0三、…``). A browser copy breaks it into a line per row
instead, with chrome lines between. Neither the line breaks nor the spaces can be trusted, but
the template's own row labels can: the text of a section is cut into stretches of label text
and runs of printed values (digits, signs, units, "/" standing alone), and

- each template row named in a stretch of label text starts a row;
- the values right after a stretch belong to the last row it names, and a row named earlier in
  the same stretch printed no cells of its own (a merged cell printed once for the rows it
  spans, as （六）1–3 often are);
- a number glued to prose (``第2页``, ``467条``) is not a value, and the enumeration of the next
  row's label is not a digit of this row's last cell (``000000 02.其他法律…`` is ``0`` then
  ``2.其他法律…``: the template numbers its sub-items 1. to 8.).

How the digits of one row split into cells is not decided here: the identities decide that
(`placement.readings`). Out come rows as a label and its value cells with their offsets, the shape
`streams.rows` gives, so one reader serves every family.
"""

from __future__ import annotations

import re

from extraction import template
from extraction.template import Section

Cells = list[tuple[str, int, int]]  # printed text, start and end offsets in the document
Rows = list[tuple[str, Cells]]

_D = "0-9０-９"
# A printed value: a count, a change (+3, 增1, 减少2, −2), an amount (849.39万元, 12.5万, 3773631元).
_VALUE = re.compile(rf"(?:(?:[-+−－]|增加?|减少?)(?=[{_D}]))?[{_D}]+(?:[.．][{_D}]+)?(?:万元|万|元)?")
# "/" or a dash standing alone is a printed "not applicable"; inside a label (本年增/减) it is text.
_MARK = re.compile(r"(?<!\S)(?:[/／\\]|[-－—–―]{1,2})(?!\S)")
# A number glued to one of these is prose or chrome (第2页, 共3页, 467条, 2024年), not a cell.
_PROSE_AFTER = frozenset("条件项个页年月日号次人家类%％‰名位期届")
_PROSE_BEFORE = frozenset("第")
_ENUMERATION_MARK = frozenset(".．、")
# Markdown pipes and rule lines separate cells like spaces do.
_SEPARATORS = re.compile(r"[|｜]")

# Where a section's table itself begins: prose above it (counts of items published, …) is not a row.
_TABLE_START: dict[Section, re.Pattern[str]] = {
    # The item heading, or (where a report leaves the first item's heading out) the column headers.
    "proactive": re.compile(r"第二十条\s*第|信\s*息\s*内\s*容\s*(?=本\s*年|上\s*一\s*年|采\s*购)"),
    "applications": re.compile(r"勾\s*稽\s*关\s*系|钩\s*稽\s*关\s*系|申请人情况"),
    "review_litigation": re.compile(r"结\s*果\s*维\s*持"),
}
# Enumeration in front of a row keyword: 一、 （三） 2. — the label starts there.
_LEADING_NUMBERING = re.compile(
    rf"(?:[（(][一二三四五六七八九十]+[)）]\s*[^\s{_D}（(]{{0,6}}\s*)?"
    rf"(?:[一二三四五六七八九十]+[、.．]|[{_D}][.．、])?\s*(?:属于)?$"
)
_OTHER_MISC = re.compile(rf"[{_D}3][.．、]\s*其\s*他(?!\s*(?:法|处|对))")
# Section 四 prints no row labels: its data row is the first run of values after these headers.
OUTCOME_HEADER = re.compile(r"审\s*结|总\s*计|维\s*持")
_OTHER_HANDLING = re.compile(r"其\s*他\s*处\s*理")
_TOTAL_HANDLED = re.compile(r"[(（]?\s*七\s*[)）]?\s*[、.．]?\s*总\s*计")


# A page number between dashes on a line of its own, as converted pages print their footers
# ("— 7 —", "- 12 -"): neither the number nor the dashes are cells. (Within a line, "0 — 4 —"
# may be cells: the model stage's grounding reads folios the same way.)
_PAGE_NUMBER = re.compile(rf"(?m)^[ \u3000]*[-－—–]{{1,2}}[ \u3000]*[{_D}]{{1,4}}[ \u3000]*[-－—–]{{1,2}}[ \u3000]*$")


def tokens(text: str, start: int, end: int) -> Cells:
    """The printed values between `start` and `end`, in order."""
    end = min(end, len(text))
    footers = [m.span() for m in _PAGE_NUMBER.finditer(text, start, end)]
    out: Cells = []
    for match in _VALUE.finditer(text, start, end):
        a, b = match.span()
        printed = match.group()
        if b + 1 < end and text[b] in _ENUMERATION_MARK and printed.isdigit():
            after = text[b + 1]
            if not after.isdigit() and not after.isspace():
                printed, b = printed[:-1], b - 1  # its last digit numbers the next label
                if not printed:
                    continue
        after = b
        while after < end and text[after] in " \u3000\xa0":
            after += 1
        if (after < end and text[after] in _PROSE_AFTER) or (a > start and text[a - 1] in _PROSE_BEFORE):
            continue  # "467条", "共 3 页": no row label starts with a unit
        out.append((printed, a, b))
    out += [(m.group(), m.start(), m.end()) for m in _MARK.finditer(text, start, end)]
    if footers:
        out = [cell for cell in out if not any(x <= cell[1] < y for x, y in footers)]
    return sorted(out, key=lambda cell: cell[1])


def runs(text: str, start: int, end: int) -> list[tuple[int, Cells]]:
    """Runs of values with nothing but spaces (or table pipes) between them, each with where
    the label text before it begins."""
    out: list[tuple[int, Cells]] = []
    label_from = start
    current: Cells = []
    for cell in tokens(text, start, end):
        between = text[current[-1][2] : cell[1]] if current else ""
        if current and _SEPARATORS.sub("", between).strip():
            out.append((label_from, current))
            label_from, current = current[-1][2], []
        current.append(cell)
    if current:
        out.append((label_from, current))
    return out


def named_application_rows(label: str, previous: str | None = None) -> list[tuple[int, str]]:
    """(position, row key) of every section-三 row a stretch of label text names, in order;
    `previous` is the row named last before it (a bare "3.其他" only follows the other （六） rows)."""
    found: list[tuple[int, str]] = []
    for row in template.APPLICATIONS_2021.rows:
        if row.key in ("total_handled", "other_misc", "other_handling"):
            continue
        hits = [label.find(k) for k in row.keywords if k in label]
        if hits:
            found.append((min(hits), row.key))
    total = _TOTAL_HANDLED.search(label)
    if total:
        found.append((total.start(), "total_handled"))
    misc = _OTHER_MISC.search(label)
    if misc and any(key in _BEFORE_MISC for key in [previous, *(key for at, key in found if at < misc.start())]):
        found.append((misc.start(), "other_misc"))
    single = _OTHER_HANDLING.search(label)
    if single and not any(key.startswith("other_") for _, key in found):
        found.append((single.start(), "other_handling"))
    return sorted(found)


_BEFORE_MISC = ("other_overdue_correction", "other_unpaid_fee")


def named_proactive_rows(label: str, previous: str | None = None) -> list[tuple[int, str]]:
    found = []
    for row in template.PROACTIVE_2019.rows:
        hits = [label.find(k) for k in row.keywords if k in label]
        if hits:
            found.append((min(hits), row.key))
    return sorted(found)


def rows(text: str, start: int, end: int, section: Section) -> Rows:
    """A section's rows as (label, value cells); a label with no cells is a row that printed none.

    Label text that names no row (headers, chrome) comes out as a row without cells, so the
    readers still see the column headers; section 四 has no row labels, and its runs come out
    with the text before them as label.
    """
    table = _TABLE_START[section].search(text, start, end)
    begin = table.start() if table else start
    out: Rows = []
    previous: list[str] = []  # the row named last so far
    found = runs(text, begin, end)
    for label_from, cells in found:
        out += _labelled(text, label_from, cells[0][1], section, cells, previous)
    tail = found[-1][1][-1][2] if found else begin
    if section != "review_litigation":
        out += _labelled(text, tail, end, section, [], previous)
    return out


def _labelled(text: str, a: int, b: int, section: Section, cells: Cells, previous: list[str]) -> Rows:
    label = text[a:b]
    if section == "review_litigation":
        return [(label.strip(), cells)]
    namer = named_application_rows if section == "applications" else named_proactive_rows
    named = namer(label, previous[-1] if previous else None)
    previous += [key for _, key in named]
    if not named:
        return [(label.strip(), cells)]
    starts = [_label_start(label, at) for at, _ in named]
    out: Rows = []
    if section == "proactive" and label[: starts[0]].strip():
        # The column headers before the first row tell section 二's version apart.
        out.append((label[: starts[0]].strip(), []))
    for i, at in enumerate(starts):
        piece = label[at : starts[i + 1] if i + 1 < len(starts) else len(label)].strip()
        if named[i][1] == "other_misc":
            # "3.其他" is named by its whole text, not a keyword in it: what follows it before the
            # next row or its cells (page chrome, "扫一扫在手机打开当前页") is not part of its label.
            misc = _OTHER_MISC.search(label, named[i][0])
            piece = label[at : misc.end()].strip() if misc else piece
        out.append((piece, cells if i == len(starts) - 1 else []))
    return out


def _label_start(label: str, at: int) -> int:
    """Where a row label begins: its keyword, or the enumeration printed in front of it."""
    match = _LEADING_NUMBERING.search(label, max(0, at - 14), at)
    return match.start() if match and match.group().strip() else at


def names_rows(line: str) -> int:
    """How many table rows one line names: a line naming several is a page body run together."""
    if len(line) < 60:
        return 0
    return len(named_application_rows(line)) + len(named_proactive_rows(line))
