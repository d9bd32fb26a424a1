"""Why items wait, and the queue: computed in SQL with indexes, so a page costs the same with
100 or 10,000 documents queued (no report is parsed here)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from extraction import template
from extraction.storage import store

# --- Why an item waits, in words -------------------------------------------------------------

# Reason keys (a check id without its row and column) and what they mean, Chinese first.
REASONS: dict[str, tuple[str, str]] = {
    "layout.unread": ("表格未读出，需人工填写", "a table was not read: fill it in"),
    "layout.ambiguous": ("多种读法都符合，需人工选择", "several readings fit: choose one"),
    "layout.zero_placement": ("原文未定0在哪一格，需人工确认", "where a printed 0 stands is not fixed: confirm it"),
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
    if parts[-1] == "open_in_text":  # a model's pick among the parser's readings: still a choice
        return "layout.ambiguous"
    if len(parts) > 2 and parts[1] == "layout":
        return f"layout.{parts[2]}" if parts[2] in ("unread", "ambiguous", "zero_placement") else "layout.row"
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
