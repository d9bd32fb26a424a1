"""What a reviewer does, as a library: the queue, an item, live re-checks, fixes and decisions.

The review app is a thin screen over these functions. The rules hold here, not in the UI:
- every section can be filled in: a section the parser did not read opens as the template's
  full blank grid (`complete`), so "not read" can never be saved as "the report has no table";
- a decision is guarded (`objections`): a table that still fails a hard identity, a section
  left empty, or a printed value changed by hand is saved only with the reviewer's note, and
  accepting an inconsistent source as printed stays its own, noted action;
- every stored decision lists the cells it changed and why (typed, a parser reading, a split
  of pasted digits, a derived total), and nothing earlier is ever overwritten;
- a save is refused when someone else reviewed the same document after it was opened.
Blank, 0 and "/" are three different cells everywhere here: "" , "0" and "/" in a grid.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlite_utils

from extraction import checks, template
from extraction.schema import Cell, CellKind, Finding, Report, Table, Value
from extraction.storage import store
from extraction.tables import layout, normalize, placement

Key = tuple[str, str, str]  # (section, row, column)

# --- Why an item waits, in words -------------------------------------------------------------

# Reason keys (a check id without its row and column) and what they mean, Chinese first.
REASONS: dict[str, tuple[str, str]] = {
    "layout.unread": ("表格未读出，需人工填写", "a table was not read: fill it in"),
    "layout.ambiguous": ("多种读法都符合，需人工选择", "several readings fit: choose one"),
    "layout.row": ("有一行未读出或对不齐", "a row was not read or does not line up"),
    "balance": ("一+二 ≠ 三(七)+四：收支不平", "received + carried over ≠ handled + carried forward"),
    "handled_sum": ("(七)总计 ≠ (一)至(六)之和", "total handled ≠ sum of the outcomes"),
    "row_sum": ("行总计 ≠ 各类申请人之和", "a row's total ≠ sum of its applicants"),
    "sum": ("复议诉讼总计 ≠ 各项之和", "an appeal/lawsuit total ≠ sum of its outcomes"),
    "blank_total": ("总计空白，但各项有数", "a total is blank while its parts are printed"),
    "non_negative": ("出现负数", "a negative count"),
    "ocr_confidence": ("扫描识别存疑的数字", "digits OCR was unsure of"),
    "unreadable_value": ("有格子不是数字", "a cell is not a number"),
    "disagree": ("版面解析与模型读数不同", "the layout parser and the model disagree"),
    "llm": ("模型答案未通过核对", "the model's answer failed the checks"),
    "grounding": ("模型给出的数原文中没有", "a model value does not occur in the text"),
    "not_a_report": ("找不到三张统计表：可能不是年报", "no statistical table found: perhaps not a report"),
}
SECTION_NAMES: dict[str, str] = {"proactive": "二", "applications": "三", "review_litigation": "四"}


def reason_of(check_id: str) -> str:
    """The reason key of a finding: what a person must do, not which row it is in."""
    parts = check_id.split(".")
    if parts[-1] == "blank_total":
        return "blank_total"
    if len(parts) > 2 and parts[1] == "layout":
        return f"layout.{parts[2]}" if parts[2] in ("unread", "ambiguous") else "layout.row"
    for part in parts[1:]:
        if part in REASONS:
            return part
        if part in ("both",):
            return "disagree"
    return "llm" if "llm" in parts else parts[1] if len(parts) > 1 else check_id


def reason_text(key: str) -> str:
    """ "中文 · English" for a reason key (the key itself when it is new)."""
    chinese, english = REASONS.get(key, (key, ""))
    return f"{chinese} · {english}" if english else chinese


# --- The queue, in SQL -----------------------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    doc_id: str
    name: str
    agency: str
    year: int | None
    template: str
    extractor: str
    reasons: tuple[tuple[str, int], ...]  # (reason key, how many findings), most first
    cells: int  # cells to check: those the failing findings name, and every cell of an unread table
    since: str

    @property
    def why(self) -> str:
        return "；".join(f"{reason_text(key)} ×{n}" for key, n in self.reasons)


def prepare(db: sqlite_utils.Database) -> None:
    """Indexes the queue's queries use (idempotent): documents by status in queue order, and the
    blocking findings of an extraction."""
    db["documents"].create_index(["status", "updated_at", "name"], if_not_exists=True)
    db["findings"].create_index(["extraction_id", "status", "severity"], if_not_exists=True)


_QUEUE_ORDER = "d.updated_at, d.name, d.id"  # oldest first; a tie on the clock keeps file order
_BLOCKING = "f.extraction_id = d.current_extraction and f.status = 'fail' and f.severity = 'hard'"
_ORDERS = {"oldest first": _QUEUE_ORDER, "fewest cells first": f"cells, {_QUEUE_ORDER}"}
_ORDERS["most cells first"] = f"cells desc, {_QUEUE_ORDER}"


def _unread_cells_sql() -> str:
    """A finding's cells to check, in SQL: the cells it names, and every cell of an unread table
    (of the document's template version, 2021 when nothing says)."""
    cases = [
        f"when f.check_id = '{s}.layout.unread' and d.template = '2019' then {len(template.spec(s, '2019').cells())} "
        f"when f.check_id = '{s}.layout.unread' then {len(template.spec(s, '2021').cells())}"
        for s in SECTION_NAMES
    ]
    return f"coalesce(json_array_length(f.finding, '$.cells'), 0) + case {' '.join(cases)} else 0 end"


def _queued_sql(reasons: list[str] | None, agencies: list[str] | None, db: sqlite_utils.Database) -> tuple[str, list]:
    """The queued documents with their template version, narrowed by reason and agency in SQL."""
    where, params = ["d.status = 'queued'"], []
    if agencies:
        where.append(f"coalesce(d.agency, '') in ({', '.join('?' * len(agencies))})")
        params += agencies
    if reasons:
        ids = [c for c in _blocking_check_ids(db) if reason_of(c) in reasons] or [""]
        where.append(
            f"exists (select 1 from findings f where {_BLOCKING} and f.check_id in ({', '.join('?' * len(ids))}))"
        )
        params += ids
    sql = f"""select d.id, d.name, d.agency, d.year, d.updated_at, d.current_extraction, e.extractor,
                  coalesce(json_extract(e.report, '$.proactive.version'),
                           json_extract(e.report, '$.applications.version'), '') as template
              from documents d join extractions e on e.id = d.current_extraction where {" and ".join(where)}"""
    return sql, params


def _blocking_check_ids(db: sqlite_utils.Database) -> list[str]:
    return [
        r[0]
        for r in db.execute(
            f"select distinct f.check_id from documents d join findings f on {_BLOCKING} where d.status = 'queued'"
        )
    ]


def queue(
    db: sqlite_utils.Database,
    limit: int | None = None,
    offset: int = 0,
    reasons: list[str] | None = None,
    agencies: list[str] | None = None,
    order: str = "oldest first",
) -> list[QueueItem]:
    """Queued documents (one page of them with `limit`/`offset`), filtered and sorted in SQL, each
    with why it waits and how many cells to check. Only the page's documents' findings are read:
    a report is never parsed here (the template version comes from json_extract)."""
    base, params = _queued_sql(reasons, agencies, db)
    page = f" limit {int(limit)} offset {int(offset)}" if limit else ""
    docs = list(
        db.query(
            f"""with t as ({base}) select d.*, d.updated_at as since,
                   coalesce((select sum({_unread_cells_sql()}) from findings f
                             where {_BLOCKING}), 0) as cells
                from t d order by {_ORDERS.get(order, _QUEUE_ORDER)}{page}""",
            params,
        )
    )
    per_doc: dict[int, list[str]] = {}
    extraction_ids = [d["current_extraction"] for d in docs]
    for chunk in range(0, len(extraction_ids), 500):
        ids = extraction_ids[chunk : chunk + 500]
        for row in db.execute(
            f"""select extraction_id, check_id from findings where status = 'fail' and severity = 'hard'
                and extraction_id in ({", ".join("?" * len(ids))})""",
            ids,
        ):
            per_doc.setdefault(row[0], []).append(row[1])
    return [
        QueueItem(
            doc_id=doc["id"],
            name=doc["name"],
            agency=doc["agency"] or "",
            year=doc["year"],
            template=doc["template"],
            extractor=doc["extractor"],
            reasons=tuple(Counter(reason_of(c) for c in per_doc.get(doc["current_extraction"], [])).most_common()),
            cells=doc["cells"],
            since=doc["since"],
        )
        for doc in docs
    ]


@dataclass(frozen=True)
class QueueSummary:
    """The queue's totals for its page header: computed in SQL, whatever page is shown."""

    queued: int  # documents the filters keep
    cells: int  # cells to check over them
    reasons: Counter[str]  # queued documents per reason (over the whole queue: the filter's choices)
    agencies: list[str]


def queue_summary(
    db: sqlite_utils.Database, reasons: list[str] | None = None, agencies: list[str] | None = None
) -> QueueSummary:
    base, params = _queued_sql(reasons, agencies, db)
    queued, cells = db.execute(
        f"""with t as ({base}) select count(distinct d.id), coalesce(sum({_unread_cells_sql()}), 0)
            from t d left join findings f on f.extraction_id = d.current_extraction
            and f.status = 'fail' and f.severity = 'hard'""",
        params,
    ).fetchone()
    check_ids = _blocking_check_ids(db)
    mapping = " ".join("when ? then ?" for _ in check_ids)
    counts: Counter[str] = Counter()
    if check_ids:
        for reason, n in db.execute(
            f"""select case f.check_id {mapping} end as reason, count(distinct d.id) from documents d
                join findings f on {_BLOCKING} where d.status = 'queued' group by reason""",
            [x for c in check_ids for x in (c, reason_of(c))],
        ):
            counts[reason] = n
    names = [
        r[0]
        for r in db.execute("select distinct coalesce(agency, '') from documents where status = 'queued' order by 1")
    ]
    return QueueSummary(queued, cells, counts, names)


def queue_size(db: sqlite_utils.Database) -> int:
    return db.execute("select count(*) from documents where status = 'queued'").fetchone()[0]


def queue_position(db: sqlite_utils.Database, doc_id: str) -> int | None:
    """1-based place of a queued document in queue order (None when it does not wait)."""
    doc = db.execute("select status, updated_at, name, id from documents where id = ?", [doc_id]).fetchone()
    if doc is None or doc[0] != "queued":
        return None
    before = db.execute(
        """select count(*) from documents where status = 'queued'
           and (updated_at, name, id) < (?, ?, ?)""",
        doc[1:],
    ).fetchone()[0]
    return before + 1


def neighbour(db: sqlite_utils.Database, doc_id: str | None, step: int = 1) -> str | None:
    """The queued document after (step 1) or before (step -1) `doc_id` in queue order, wrapping
    round; the first queued one when `doc_id` is None or unknown. One indexed query, not the queue."""
    doc = db.execute("select updated_at, name, id from documents where id = ?", [doc_id]).fetchone()
    if doc is not None:
        compare, order = (">", "asc") if step > 0 else ("<", "desc")
        row = db.execute(
            f"""select id from documents where status = 'queued' and (updated_at, name, id) {compare} (?, ?, ?)
                order by updated_at {order}, name {order}, id {order} limit 1""",
            list(doc),
        ).fetchone()
        if row is not None:
            return row[0]
    order = "asc" if step > 0 or doc is None else "desc"
    row = db.execute(
        f"""select id from documents where status = 'queued'
            order by updated_at {order}, name {order}, id {order} limit 1"""
    ).fetchone()
    return row[0] if row is not None else None


def failed_documents(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Documents that could not be read or extracted, with why: they never reach the queue."""
    return list(db.query("select id, name, format, error, updated_at from documents where status = 'failed'"))


def reason_counts(items: list[QueueItem]) -> Counter[str]:
    """How many queued documents wait for each reason."""
    return Counter(key for item in items for key, _ in item.reasons)


# --- An item ---------------------------------------------------------------------------------


@dataclass
class Item:
    """One document as a reviewer opens it."""

    doc_id: str
    name: str
    text: str
    status: str
    original: Report  # the current extraction, never overwritten
    report: Report  # what the reviewer starts from: the review it is based on, else the extraction
    extractor: str
    findings: list[Finding]  # the extraction's findings (doubts, disagreements with both values)
    based_on: int | None  # the review the reviewer started from, for detecting a concurrent save
    latest: int | None = None  # the latest review now (differs from based_on after someone saved)


def open_item(db: sqlite_utils.Database, doc_id: str, based_on: int | str | None = "latest") -> Item:
    """A document to review, starting from the review `based_on` (default: the latest one)."""
    doc = store.document(db, doc_id)
    extraction = store.current_extraction(db, doc_id)
    if extraction is None:
        why = f": {doc['error']}" if doc.get("error") else ""
        raise ValueError(f"{doc['name']} has no extraction to review ({doc['status']}){why}")
    original = store.report_of(extraction)
    latest = store.latest_review(db, doc_id)
    latest_id = latest["id"] if latest else None
    start = latest_id if based_on == "latest" else based_on
    base = latest if start == latest_id else db["reviews"].get(start) if start is not None else None
    return Item(
        doc_id=doc_id,
        name=doc["name"],
        text=doc["text"] or "",
        status=doc["status"],
        original=original,
        report=store.report_of(base) if base else original.model_copy(deep=True),
        extractor=extraction["extractor"],
        findings=store.findings(db, extraction["id"]),
        based_on=start,  # type: ignore[arg-type]
        latest=latest_id,
    )


def complete(report: Report, version: str | None = None) -> Report:
    """Every section as a grid: a table that was not read becomes the template's blank grid of
    the report's version (2021 when nothing says), so a reviewer can fill it in."""
    out = report.model_copy(deep=True)
    chosen = version or report.template_version() or "2021"
    for section in template.SECTIONS:
        if out.table(section) is None:
            setattr(out, section, Table.empty(section, chosen))  # type: ignore[arg-type]
    return out.align_versions()


def is_empty(table: Table | None) -> bool:
    return table is None or all(c.kind == CellKind.blank for cols in table.cells.values() for c in cols.values())


def finalize(report: Report) -> Report:
    """What is stored: a grid left wholly blank is no table (the report prints none)."""
    out = report.model_copy(deep=True)
    for section in template.SECTIONS:
        if is_empty(out.table(section)):
            setattr(out, section, None)
    return out


def text_of(cell: Cell) -> str:
    """A cell as a grid shows and takes it: "" blank, "/" not applicable, else the number."""
    if cell.kind == CellKind.blank:
        return ""
    if cell.kind == CellKind.not_applicable:
        return "/"
    value = cell.value
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


WHY = {
    "typed": "typed by the reviewer",
    "reading": "a reading the parser offered",
    "split": "a split of pasted digits that satisfies the identities",
    "pasted": "read from pasted section text",
    "derived": "a blank total filled with the sum of its printed parts",
}


@dataclass(frozen=True)
class Change:
    text: str  # "" blank, "0", "/", or a number as printed
    why: str  # a key of WHY


def kind_of(key: Key) -> str:
    section, row, column = key
    for version in ("2021", "2019"):
        spec = template.spec(section, version)  # type: ignore[arg-type]
        if any(r.key == row for r in spec.rows):
            return next(c.kind for c in spec.row(row).columns if c.key == column)
    raise KeyError(f"no cell {'.'.join(key)}")


def with_changes(report: Report, changes: dict[Key, Change]) -> Report:
    """A copy with the changed cells read from their text; raises ValueError naming every cell
    whose text is not a value of its column (nothing is half-applied)."""
    out = report.model_copy(deep=True)
    bad = []
    for key, change in changes.items():
        table = out.table(key[0])  # type: ignore[arg-type]
        if table is None or key[1] not in table.cells:
            continue
        try:
            cell = normalize.parse_cell(change.text, kind_of(key))
        except ValueError:
            bad.append(f"{key[1]}.{key[2]}: {change.text!r}")
            continue
        table.set(key[1], key[2], Cell(value=cell.value, raw=change.text, kind=cell.kind))
    if bad:
        raise ValueError("not a number, blank or '/': " + ", ".join(bad))
    return out


def with_values(report: Report, edits: dict[Key, Value]) -> Report:
    """A copy with some cells replaced by bare values (None is blank); untouched cells keep
    their printed text and spans."""
    out = report.model_copy(deep=True)
    for (section, row, column), value in edits.items():
        table = out.table(section)  # type: ignore[arg-type]
        if table is not None and table.value(row, column) != value:
            table.set(row, column, Cell.of(value))
    return out


def recheck(report: Report) -> list[Finding]:
    """The hard identities on the values as they stand now: run on every edit."""
    return [f for table in report.tables() for f in checks.hard_checks(table)]


def derived_totals(report: Report) -> dict[Key, Value]:
    """Blank totals whose parts are printed, with the sum each would hold: one action fills them."""
    fills = {}
    for finding in recheck(report):
        if finding.id.endswith("blank_total") and finding.suggestion is not None:
            fills[finding.cells[0]] = finding.suggestion
    return fills


def _same(a: Cell, b: Cell) -> bool:
    return a.kind == b.kind and a.value == b.value


def _cells(report: Report) -> dict[Key, Cell]:
    return {
        (t.section, row, column): cell
        for t in report.tables()
        for row, cols in t.cells.items()
        for column, cell in cols.items()
    }


def diff(before: Report, after: Report, changes: dict[Key, Change] | None = None) -> list[dict[str, Any]]:
    """Every cell whose value or kind differs, both as text ("" blank, "/"), and why it changed."""
    old, new = _cells(before), _cells(after)
    out = []
    for key in sorted(set(old) | set(new)):
        was, now = old.get(key), new.get(key)
        if was is not None and now is not None and _same(was, now):
            continue
        if was is None and (now is None or now.kind == CellKind.blank):
            continue  # a cell of a grid that was not read, still blank
        change = (changes or {}).get(key)
        out.append(
            {
                "section": key[0],
                "row": key[1],
                "column": key[2],
                "before": None if was is None else text_of(was),
                "after": None if now is None else text_of(now),
                "why": WHY[change.why] if change else "kept from the review this one started from",
            }
        )
    return out


# --- Decisions -------------------------------------------------------------------------------


class Refused(ValueError):
    """A save the guards stop: each objection says what to do (or to give a note)."""

    def __init__(self, objections: list[str]) -> None:
        super().__init__("; ".join(objections))
        self.objections = objections


def objections(item: Item, report: Report, changes: dict[Key, Change] | None = None) -> list[str]:
    """Why saving `report` as a fix needs a note: a hard identity still fails, a section is
    empty, or a printed value was changed by hand (not through a reading or split of the print)."""
    out = []
    failing = [f for f in recheck(report) if f.blocks_acceptance]
    if failing:
        out.append(f"{len(failing)} identity check(s) still fail, e.g. {failing[0].message}")
    empty = [SECTION_NAMES[s] for s in template.SECTIONS if is_empty(report.table(s))]  # type: ignore[arg-type]
    if empty:
        out.append(f"section {'、'.join(empty)} is empty: say in the note that the report prints no such table")
    printed = _cells(item.original)
    touched = [
        key
        for key, change in (changes or {}).items()
        if change.why == "typed" and key in printed and printed[key].kind != CellKind.blank
    ]
    now = _cells(report)
    changed = [k for k in touched if k in now and not _same(printed[k], now[k])]
    if changed:
        listed = ", ".join(f"{k[1]}.{k[2]} {text_of(printed[k])!r}→{text_of(now[k])!r}" for k in changed[:5])
        out.append(f"{len(changed)} printed value(s) changed by hand ({listed}): say why in the note")
    return out


def _check_conflict(db: sqlite_utils.Database, item: Item) -> None:
    latest = store.latest_review(db, item.doc_id)
    if (latest["id"] if latest else None) != item.based_on:
        raise store.Conflict(latest)  # type: ignore[arg-type]


def save_fix(
    db: sqlite_utils.Database,
    item: Item,
    report: Report,
    reviewer: str,
    note: str = "",
    changes: dict[Key, Change] | None = None,
) -> int:
    """The extraction was wrong and the reviewer corrected it: reviewed, with the diff and a gold
    example. Refused (with every objection) unless the guards pass or a note explains."""
    _check_conflict(db, item)
    found = objections(item, report, changes)
    if found and not note.strip():
        raise Refused(found)
    stored = finalize(report)
    return store.add_review(
        db, item.doc_id, reviewer, "fixed", stored, diff(item.original, stored, changes), note, based_on=item.based_on
    )


def accept_as_printed(
    db: sqlite_utils.Database,
    item: Item,
    report: Report,
    reviewer: str,
    note: str,
    changes: dict[Key, Change] | None = None,
) -> int:
    """The values are what the report prints and the report itself does not balance."""
    if not note.strip():
        raise ValueError("say why the source is accepted as printed: a note is required")
    _check_conflict(db, item)
    stored = finalize(report)
    inconsistent = any(f.blocks_acceptance for f in recheck(stored))
    return store.add_review(
        db,
        item.doc_id,
        reviewer,
        "accepted_as_printed",
        stored,
        diff(item.original, stored, changes),
        note,
        source_inconsistent=inconsistent,
        based_on=item.based_on,
    )


def discard(db: sqlite_utils.Database, item: Item, reviewer: str, reason: str) -> int:
    """Not a report (a README, a notice, a duplicate): out of the queue, never a gold example."""
    if not reason.strip():
        raise ValueError("say why this is not a report: a reason is required")
    _check_conflict(db, item)
    return store.add_review(db, item.doc_id, reviewer, "discarded", item.original, [], reason, based_on=item.based_on)


# --- Offering readings -----------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One cell the parser could not settle, with the values its readings put there."""

    cell: Key
    options: tuple[str, ...]  # "" blank


_DIFFERS = re.compile(r"([a-z_]+)\.([a-z_]+): ((?:(?!; [a-z_]+\.[a-z_]+:).)+)")


def choices(findings: list[Finding]) -> list[Choice]:
    """The cells an ambiguity finding lists ("Differs in row.col: 3 or 12; …") with their options."""
    out: dict[Key, Choice] = {}
    for finding in findings:
        if not finding.id.endswith(".layout.ambiguous") or "Differs in " not in finding.message:
            continue
        section = finding.id.split(".")[0]
        listed = finding.message.split("Differs in ", 1)[1]
        for row, column, values in _DIFFERS.findall(listed):
            options = tuple(dict.fromkeys("" if v.strip() == "blank" else v.strip() for v in values.split(" or ")))
            if len(options) > 1:
                out[(section, row, column)] = Choice((section, row, column), options)
    return list(out.values())


def splits(section: str, version: str, row: str, pasted: str, limit: int = 12) -> list[dict[str, str]]:
    """The ways a row's pasted digits fill its columns, those satisfying the row's identity
    first (placement.readings with split=True: run-together digits are cut, vanished blanks placed)."""
    columns = template.spec(section, version).row(row).columns  # type: ignore[arg-type]
    cells = [placement.RawCell(m.group(), m.start(), m.end()) for m in re.finditer(r"\S+", pasted)]
    if not cells:
        return []
    found = placement.readings(cells, len(columns), "cell_per_line", split=True)
    out: list[dict[str, str]] = []
    for _, reading in found:
        placed = {c.key: "" if raw is None else raw.text for c, raw in zip(columns, reading, strict=True)}
        if placed not in out:
            out.append(placed)
        if len(out) >= limit:
            break
    return out


def balances(section: str, version: str, row: str, values: dict[str, str]) -> bool:
    """Whether a row's own total identity holds for these texts (rows of 三 and 四)."""
    table = complete(Report(), version).table(section)  # type: ignore[arg-type]
    filled = with_changes(
        Report(**{section: table}), {(section, row, c): Change(t, "split") for c, t in values.items()}
    )
    return not any(f.blocks_acceptance and f".{row}" in f.id for f in recheck(filled))


def section_from_text(section: str, text: str) -> Table | None:
    """A section's table read from its pasted text (the heading is added when missing)."""
    title = template.SECTION_TITLES[section]  # type: ignore[index]
    body = text if title[:2] in text[:40] else f"{title}\n{text}"
    return layout.parse(body).report.table(section)  # type: ignore[arg-type]


def gold_examples(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    rows = db.query(
        """select g.id, g.doc_id, d.name, g.reviewer, g.created_at, g.source_inconsistent, r.action, r.note
           from gold g join documents d on d.id = g.doc_id join reviews r on r.id = g.review_id order by g.id desc"""
    )
    return list(rows)


def stats(db: sqlite_utils.Database) -> dict[str, Any]:
    """Figures for the stats page: status counts, queue over time, top identities, throughput."""
    events: list[tuple[str, int]] = []
    for row in db.query(
        """select e.created_at, e.accepted, e.doc_id from extractions e
           join documents d on d.current_extraction = e.id"""
    ):
        if not row["accepted"]:
            events.append((row["created_at"], 1))
    first_reviews = db.query("select min(created_at) as at from reviews group by doc_id")
    events += [(row["at"], -1) for row in first_reviews]
    queue_over_time = []
    size = 0
    for at, change in sorted(events):
        size += change
        queue_over_time.append({"at": at, "queued": size})
    per_day = list(
        db.query("select substr(created_at, 1, 10) as day, reviewer, count(*) as reviews from reviews group by 1, 2")
    )
    return {
        "status": store.status_counts(db),
        "queue_over_time": queue_over_time,
        "top_identities": store.top_failing_checks(db),
        "reviews_per_day": per_day,
    }


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
