"""Section 二 (主动公开政府信息情况): a row of one to three cells per disclosure item.

No identity binds these cells, so the parser cannot let the identities pick a reading: where a
web page runs a row's digits together (``行政规范性文件24432`` over three columns) every cut that
gives one value of each column's form is a candidate, and more than one is a blocking doubt
that lists them all. The cut shown first is the likeliest: the one whose figures the report's
prose restates beside the row's name, then counts of like length, then the larger running last
column. A row the section never names was not printed (some agencies print no 规章 row): its
cells stay blank with a note, never 0.
"""

from __future__ import annotations

import re

from extraction import template
from extraction.schema import Finding, Table, Value
from extraction.tables.normalize import FULLWIDTH, value_of
from extraction.tables.placement import (
    DELIMITED,
    RawCell,
    Reading,
    Row,
    blocking_doubt,
    fill,
    is_value,
    not_read,
    readings,
    show,
    soft_note,
    split_row,
)


def read(rows: list[Row], family: str, prose: str = "", printed: str = "") -> tuple[Table | None, list[Finding]]:
    """Section 二 from its rows; `prose` is the report's text outside its tables (it may restate
    a row's figures), `printed` the section's own text (a row whose name it never prints was not
    printed)."""
    header = "".join(c.text for row in rows for c in row if not is_value(c.text))
    version = template.proactive_version(header)
    found: dict[str, Row] = {}
    for row in rows:
        label, values = split_row(row)
        if family in DELIMITED:
            label, values = _after_label(row, label, values)
        key = template.match_proactive_row(label)
        if key and values and key not in found:
            found[key] = values
    if not found:
        return None, [not_read("proactive", "has no recognisable rows")]
    findings = []
    if version is None:
        # No version words in the headers: the licensing row's width still tells them apart.
        licensing = found.get("licensing", [])
        version = "2019" if sum(not c.blank for c in licensing) > 1 else "2021"
        findings.append(blocking_doubt("proactive", "version", f"no version headers; read as the {version} template"))
    spec = template.spec("proactive", version)
    table = Table.empty("proactive", version)
    prose = prose.translate(_ASCII_DIGITS) if family == "space_rows" else prose
    for row_spec in spec.rows:
        values = found.get(row_spec.key)
        if values is None:
            if any(k in template.compact(printed or header) for k in row_spec.keywords):
                findings.append(blocking_doubt("proactive", row_spec.key, f"row {row_spec.label} not found"))
            else:  # some agencies print no 规章 row at all: its cells stay blank, never 0
                findings.append(_not_printed(row_spec))
            continue
        if family == "space_rows":
            best = _proactive_splits(values, row_spec.columns, _restated(prose, row_spec))
            if len(best) > 1:
                findings.append(_split_doubt(row_spec, best))
        else:
            options = readings(values, len(row_spec.columns), family)
            best = [r for cost, r in options if options and cost == options[0][0]]
            if len(best) > 1:
                shown = "; ".join(show(r) for r in best[:4])
                findings.append(
                    blocking_doubt("proactive", row_spec.key, f"{row_spec.label}: cells do not line up ({shown})")
                )
        if not best:
            findings.append(blocking_doubt("proactive", row_spec.key, f"{row_spec.label}: more values than columns"))
            continue
        for column, raw in zip(row_spec.columns, best[0], strict=True):
            fill(table, findings, row_spec.key, column, raw)
    return table, findings


def _after_label(row: Row, label: str, values: Row) -> tuple[str, Row]:
    """A section-二 row's label cell and every cell after it, numbers or not: "五", "5a" or
    "见附件" where a count belongs is an unreadable cell (a finding keeps its text), not more
    label text that leaves the cell blank."""
    for i, cell in enumerate(row):
        if template.match_proactive_row(cell.text) and i + 1 < len(row):
            if any(not is_value(c.text) for c in row[i + 1 :]):
                return "".join(c.text.strip() for c in row[: i + 1]), row[i + 1 :]
            break
    return label, values


# One printed value of a section-二 column: no count starts with 0 but 0 itself.
_PIECE = {
    "count": re.compile(r"(?:0|[1-9][0-9]*)"),
    "change": re.compile(r"(?:(?:[-+−－]|增加?|减少?)?(?:0|[1-9][0-9]*))"),
    "money": re.compile(r"(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:万元|万|元)?"),
}
_SPLITTABLE = re.compile(r"(?:[-+−－]|增加?|减少?)?[0-9]+(?:\.[0-9]+)?(?:万元|万|元)?")
_MAX_PROACTIVE_SPLITS = 2000


def _proactive_splits(values: Row, columns: tuple[template.Column, ...], prose: frozenset[str]) -> list[Reading]:
    """The ways a section-二 row's printed text (digits run together: ``24432`` over three
    columns) cuts into exactly one value per column, each of its column's form; the row as
    printed when it already has one cell per column.

    No identity binds these cells, so when several cuts fit the text does not settle the row:
    all are returned, the likeliest first (its figures restated in the prose, then counts of
    like length, then the larger running last column), and the caller makes that a doubt a
    person resolves.
    """
    printed = [c for c in values if not c.blank]
    if len(printed) == len(columns) or len(printed) > len(columns):
        return [tuple(printed)] if len(printed) == len(columns) else []
    out: list[tuple[RawCell, ...]] = []

    def walk(cell: int, at: int, placed: tuple[RawCell, ...]) -> None:
        if len(out) >= _MAX_PROACTIVE_SPLITS or (len(placed) == len(columns) and cell < len(printed)):
            return
        if cell == len(printed):
            if len(placed) == len(columns):
                out.append(placed)
            return
        raw = printed[cell]
        text = raw.text.translate(_ASCII_DIGITS)
        if at == 0 and not _SPLITTABLE.fullmatch(text):  # a mark ("/"), an annotated cell: as printed
            walk(cell + 1, 0, (*placed, raw))
            return
        pattern = _PIECE[columns[len(placed)].kind]
        for end in range(len(text), at, -1):  # longer numbers first: "88022" is 88|0|22 before 8|80|22
            if pattern.fullmatch(text, at, end):
                piece = (
                    raw if (at, end) == (0, len(text)) else RawCell(raw.text[at:end], raw.start + at, raw.start + end)
                )
                walk(cell + (end == len(text)), 0 if end == len(text) else end, (*placed, piece))

    walk(0, 0, ())

    def likelihood(reading: tuple[RawCell, ...]) -> tuple[int, int, Value]:
        digits = [_DIGITS.sub("", c.text.translate(_ASCII_DIGITS)) for c in reading]
        restated = len({d for d in digits if d.strip("0") and d in prose})
        # Columns of one kind hold numbers of like size (counts beside counts, not beside an amount)...
        lengths = [len(d) for d, c in zip(digits, columns, strict=True) if c.kind == "count"]
        uneven = max(lengths) - min(lengths) if lengths else 0
        # ...and the last column is the running one (现行有效件数, 对外公开总数量, 处理决定数量, 采购总金额).
        last = value_of(reading[-1].text, columns[-1].kind) if reading else None
        return -restated, uneven, -(last or 0)

    return sorted(out, key=likelihood)


_ASCII_DIGITS = FULLWIDTH  # full-width digits, point and signs as normalize reads them (＋ was missed)
_DIGITS = re.compile(r"[^0-9.]")


def _split_doubt(row_spec: template.Row, readings: list[Reading]) -> Finding:
    """Several cuts of a section-二 row fit its printed digits: each cell they differ in and its candidates."""
    listed = []
    for i, column in enumerate(row_spec.columns):
        seen = list(dict.fromkeys("blank" if r[i] is None else r[i].text for r in readings))
        if len(seen) > 1:
            listed.append(f"{row_spec.key}.{column.key}: {' or '.join(seen[:6])}")
    shown = "; ".join(show(r) for r in readings[:6]) + (" …" if len(readings) > 6 else "")
    return Finding.blocking(
        "proactive.layout.ambiguous",
        "exactly one reading of the printed cells fits the columns",
        f"{row_spec.label}: the printed digits split {len(readings)} ways ({shown}); kept {show(readings[0])}, "
        f"a person must choose. Differs in {'; '.join(listed)}",
        cells=[("proactive", row_spec.key, c.key) for c in row_spec.columns],
    )


# A figure the prose restates right after a row's name ("制定规范性文件5件", "现行有效的规范性文件16件",
# "政府采购…共发布采购信息21条"): the first number in the same sentence, close by. A hint to the
# likeliest cut of that row, never proof.
_PROSE_NUMBER = re.compile(r"(?<![0-9.])([0-9]+(?:\.[0-9]+)?)\s*(?:件|条|项|个|次|万元|元)")
_NEAR = 40


def _restated(prose: str, row_spec: template.Row) -> frozenset[str]:
    out: set[str] = set()
    for keyword in (*row_spec.keywords, row_spec.label):
        for at in (m.end() for m in re.finditer(re.escape(keyword), prose)):
            clause = re.split("[。；]", prose[at : at + _NEAR], maxsplit=1)[0]
            first = _PROSE_NUMBER.search(clause)
            if first:
                out.add(first.group(1).replace(".", ""))
    return frozenset(out)


def _not_printed(row_spec: template.Row) -> Finding:
    finding = soft_note(
        "proactive", row_spec.key, f"the report prints no row {row_spec.label}; its cells are left blank"
    )
    return finding.model_copy(update={"id": f"proactive.layout.{row_spec.key}.not_printed"})
