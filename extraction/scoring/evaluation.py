"""Scoring extractions against gold, cell by cell, and naming what was accepted wrongly.

Gold is what a person confirmed the report prints: the data/gold files (export format) and the
reviewed documents of a store. The figure that matters most is accepted-but-wrong: tables that
passed every check without review and still differ from the gold. Blank and 0 are different
answers here (strict accuracy); a lenient accuracy with blank = 0 is reported beside it, so one
can see how much of the error is only that distinction.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from extraction import checks, pipeline, template
from extraction.model import cascade
from extraction.schema import Finding, Report, Value
from extraction.storage import store

MISSING = "missing"  # the extractor produced no table where the gold has one


@dataclass(frozen=True)
class Gold:
    doc_id: str
    source: str
    tables: dict[str, dict[str, dict[str, Value]] | None]
    origin: str  # "file:<path>" or "review:<id>"


@dataclass
class WrongCell:
    doc_id: str
    source: str
    section: str
    row: str
    column: str
    gold: Any
    got: Any
    caught_by: list[str]
    snippet: str

    @property
    def key(self) -> str:
        return f"{self.doc_id}:{self.section}.{self.row}.{self.column}"


@dataclass
class DocScore:
    doc_id: str
    source: str
    status: str
    groups: dict[str, str]  # extractor, model, prompt_version, template, layout:<section>
    cells: int = 0
    strict_right: int = 0
    lenient_right: int = 0
    gold_nonzero: int = 0
    got_nonzero: int = 0
    nonzero_right: int = 0
    tables_exact: dict[str, bool] = field(default_factory=dict)
    wrong: list[WrongCell] = field(default_factory=list)
    per_section: dict[str, list[int]] = field(default_factory=dict)  # section -> [cells, strict, lenient]

    @property
    def exact(self) -> bool:
        return all(self.tables_exact.values())

    @property
    def accepted_wrong(self) -> bool:
        return self.status == "accepted" and not self.exact


def _number(value: Value) -> Value:
    return Decimal(str(value)) if isinstance(value, float) else value


def _catchers(findings: list[Finding]) -> dict[tuple[str, str, str], list[str]]:
    """The blocking findings naming each cell: a wrong cell one of them names was caught."""
    caught: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for f in findings:
        if f.blocks_acceptance:
            for cell in f.cells:
                caught[tuple(cell)].append(f.id)  # type: ignore[index]
            if not f.cells:
                # A finding that names no cell speaks for its whole section (a model call that
                # failed, a section not found), or for the whole document ("document.*").
                scope = f.id.split(".", 1)[0]
                for section in template.SECTIONS if scope == "document" else [scope]:
                    caught[(section, "*", "*")].append(f.id)
    return caught


def score(
    gold: Gold,
    report: Report | None,
    findings: list[Finding],
    status: str,
    groups: dict[str, str],
    text: str = "",
) -> DocScore:
    """One document: every gold cell compared with what the extractor produced."""
    out = DocScore(gold.doc_id, gold.source, status, groups)
    caught = _catchers(findings)
    for section in template.SECTIONS:
        expected = gold.tables.get(section)
        table = report.table(section) if report is not None else None  # type: ignore[arg-type]
        if expected is None:
            out.tables_exact[section] = table is None
            continue
        counts = out.per_section.setdefault(section, [0, 0, 0])
        exact = table is not None
        for row, cols in expected.items():
            for column, want in cols.items():
                want = _number(want)
                has = table is not None and row in table.cells and column in table.cells[row]
                got = table.value(row, column) if has else MISSING  # type: ignore[union-attr]
                strict = has and got == want
                lenient = has and (got or 0) == (want or 0)
                out.cells += 1
                out.strict_right += strict
                out.lenient_right += lenient
                counts[0] += 1
                counts[1] += strict
                counts[2] += lenient
                out.gold_nonzero += bool(want)
                out.got_nonzero += has and bool(got)
                out.nonzero_right += bool(want) and strict
                if not strict:
                    exact = False
                    ids = [*caught.get((section, row, column), []), *caught.get((section, row, "*"), [])]
                    ids += caught.get((section, "*", "*"), [])
                    span = table.cell(row, column).span if has else None  # type: ignore[union-attr]
                    out.wrong.append(
                        WrongCell(
                            gold.doc_id,
                            gold.source,
                            section,
                            row,
                            column,
                            want,
                            got,
                            sorted(set(ids)),
                            _snippet(text, span),
                        )
                    )
        out.tables_exact[section] = exact
    return out


def _snippet(text: str, span: tuple[int, int] | None, width: int = 24) -> str:
    if not text or span is None:
        return ""
    start, end = span
    return text[max(0, start - width) : end + width].replace("\n", "⏎").replace("\t", "→")


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def metrics(scores: Iterable[DocScore]) -> dict[str, Any]:
    """The figures of one group of documents."""
    docs = list(scores)
    cells = sum(d.cells for d in docs)
    tables = [exact for d in docs for exact in d.tables_exact.values()]
    precision = _ratio(sum(d.nonzero_right for d in docs), sum(d.got_nonzero for d in docs))
    recall = _ratio(sum(d.nonzero_right for d in docs), sum(d.gold_nonzero for d in docs))
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else (0.0 if docs else None)
    queued = [d for d in docs if d.status == "queued"]
    per_section = {}
    for section in template.SECTIONS:
        counts = [d.per_section[section] for d in docs if section in d.per_section]
        total = sum(c[0] for c in counts)
        per_section[section] = {
            "cells": total,
            "accuracy": _ratio(sum(c[1] for c in counts), total),
            "accuracy_blank_as_zero": _ratio(sum(c[2] for c in counts), total),
            "exact_tables": _ratio(sum(d.tables_exact.get(section, False) for d in docs), len(docs)),
        }
    return {
        "documents": len(docs),
        "cells": cells,
        "accuracy": _ratio(sum(d.strict_right for d in docs), cells),
        "accuracy_blank_as_zero": _ratio(sum(d.lenient_right for d in docs), cells),
        "nonzero_precision": precision,
        "nonzero_recall": recall,
        "nonzero_f1": f1,
        "exact_table_rate": _ratio(sum(tables), len(tables)),
        "exact_report_rate": _ratio(sum(d.exact for d in docs), len(docs)),
        "accepted": sum(d.status == "accepted" for d in docs),
        "accepted_but_wrong": sum(d.accepted_wrong for d in docs),
        "queue_rate": _ratio(len(queued), len(docs)),
        "queued_but_correct_rate": _ratio(sum(d.exact for d in queued), len(queued)),
        "sections": per_section,
    }


BREAKDOWNS = ("extractor", "model", "prompt_version", "template", "layout")


def breakdown(scores: list[DocScore], by: str) -> dict[str, dict[str, Any]]:
    """Metrics per value of one grouping; `layout` groups each section by the family it was read from."""
    if by != "layout":
        groups: dict[str, list[DocScore]] = defaultdict(list)
        for d in scores:
            groups[d.groups.get(by) or "—"].append(d)
        return {name: metrics(docs) for name, docs in sorted(groups.items())}
    out: dict[str, dict[str, Any]] = {}
    families: dict[str, list[tuple[int, int, bool]]] = defaultdict(list)
    for d in scores:
        for section, (cells, strict, _) in d.per_section.items():
            families[d.groups.get(f"layout:{section}") or "unread"].append((cells, strict, d.tables_exact[section]))
    for family, rows in sorted(families.items()):
        cells = sum(r[0] for r in rows)
        out[family] = {
            "tables": len(rows),
            "accuracy": _ratio(sum(r[1] for r in rows), cells),
            "exact_table_rate": _ratio(sum(r[2] for r in rows), len(rows)),
        }
    return out


def wrong_rows(scores: list[DocScore]) -> dict[str, int]:
    """How often each row goes wrong: the "which rows" confusion of the report."""
    counts: dict[str, int] = defaultdict(int)
    for d in scores:
        for w in d.wrong:
            counts[f"{w.section}.{w.row}"] += 1
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


@dataclass
class Run:
    """One evaluation: its settings, every document's score, and the figures."""

    label: str
    scores: list[DocScore]

    def summary(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "overall": metrics(self.scores),
            "breakdowns": {by: breakdown(self.scores, by) for by in BREAKDOWNS},
            "wrong_rows": wrong_rows(self.scores),
            "accepted_but_wrong": [
                {"doc_id": d.doc_id, "source": d.source, "wrong_cells": len(d.wrong)}
                for d in self.scores
                if d.accepted_wrong
            ],
        }

    def wrong_cells(self) -> list[WrongCell]:
        return [w for d in self.scores for w in d.wrong]

    def record(self) -> dict[str, Any]:
        """What is saved of a run, enough to show it again and to compare it with another."""
        wrong = [{**asdict(w), "key": w.key} for w in self.wrong_cells()]
        return _plain(
            {
                "label": self.label,
                "documents": [d.doc_id for d in self.scores],
                "summary": self.summary(),
                "wrong": wrong,
            }
        )


def _plain(value: Any) -> Any:
    """JSON-ready: Decimal money as numbers."""
    return json.loads(
        json.dumps(value, ensure_ascii=False, default=lambda o: float(o) if isinstance(o, Decimal) else str(o))
    )


def load_gold_dir(folder: Path) -> list[Gold]:
    """Gold files in the export format: one JSON object per file (.json) or per line (.jsonl)."""
    out = []
    for path in sorted(folder.glob("*.json*")):
        lines = path.read_text(encoding="utf-8").splitlines() if path.suffix == ".jsonl" else [path.read_text("utf-8")]
        for line in lines:
            if not line.strip():
                continue
            record = json.loads(line, parse_float=Decimal)
            tables = {s: record.get(s) for s in template.SECTIONS}
            # A hand-made gold file may lack the sha256 doc_id: it is matched by source file name.
            out.append(Gold(record.get("doc_id") or "", record.get("source") or "", tables, f"file:{path.name}"))
    return out


def gold_from_report(doc_id: str, source: str, report: Report, review_id: int) -> Gold:
    tables = {s: (t.values() if (t := report.table(s)) is not None else None) for s in template.SECTIONS}
    return Gold(doc_id, source, tables, f"review:{review_id}")


def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """What changed from run A to run B, on the documents both scored."""
    shared = set(a["documents"]) & set(b["documents"])
    wrong_a = {w["key"]: w for w in a["wrong"] if w["doc_id"] in shared}
    wrong_b = {w["key"]: w for w in b["wrong"] if w["doc_id"] in shared}
    return {
        "documents": len(shared),
        "new_errors": [wrong_b[k] for k in sorted(set(wrong_b) - set(wrong_a))],
        "fixed_errors": [wrong_a[k] for k in sorted(set(wrong_a) - set(wrong_b))],
        "still_wrong": len(set(wrong_a) & set(wrong_b)),
        "accepted_but_wrong": [r["summary"]["overall"]["accepted_but_wrong"] for r in (a, b)],
        "accuracy": [r["summary"]["overall"]["accuracy"] for r in (a, b)],
    }


# --- Gathering gold and extractions from a store ----------------------------------------------


def gather(db: Any, gold_dir: Path | None, reviews: bool = True) -> list[Gold]:
    """Gold files first; then reviewed documents of the store that no file already covers."""
    golds = load_gold_dir(gold_dir) if gold_dir else []
    if reviews:
        seen = {g.doc_id for g in golds}
        for doc in store.documents(db, "reviewed"):
            review = store.latest_review(db, doc["id"])
            if review and doc["id"] not in seen:
                golds.append(gold_from_report(doc["id"], doc["name"], store.report_of(review), review["id"]))
    return golds


def evaluate(
    db: Any,
    golds: list[Gold],
    settings: cascade.Settings | None = None,
    rerun: bool = False,
    gold_dir: Path | None = None,
    label: str = "",
) -> tuple[Run, list[str]]:
    """Score every gold document; returns the run and the gold documents that could not be found.

    Without `rerun`, the store's current extraction of each document is scored (documents not
    yet in the store are ingested from the gold's source path and extracted first). With `rerun`,
    each is extracted afresh with `settings` in memory, leaving the store's extractions alone.
    """
    settings = settings or cascade.Settings(kind="layout")
    scores: list[DocScore] = []
    missing: list[str] = []
    prepare(db, golds, gold_dir, settings)
    for gold in golds:
        doc = _document_of(db, gold)
        if doc is None or doc["status"] == "failed" or not doc["text"]:
            named = gold.source or gold.doc_id or "no doc_id, no source"
            missing.append(f"{gold.origin.removeprefix('file:')} ({named})")
            continue
        if not gold.doc_id:
            gold = replace(gold, doc_id=doc["id"])
        if rerun:
            work = cascade.extract(doc["text"], settings)
            findings = pipeline.check(db, doc["id"], doc["text"], work.extraction, store.doubts(doc), store.notes(doc))
            status = "accepted" if checks.accepted(findings) else "queued"
            extraction = work.extraction
            groups = {
                "extractor": extraction.extractor,
                "model": settings.llm.model if work.calls and settings.llm else "",
                "prompt_version": settings.prompts.version if work.calls and settings.prompts else "",
            }
            layouts = extraction.layouts
            report = extraction.report
        else:
            row = store.current_extraction(db, doc["id"])
            report, findings = store.report_of(row), store.findings(db, row["id"])
            status = "accepted" if row["accepted"] else "queued"  # what the machine decided, before any review
            groups = {k: row[k] or "" for k in ("extractor", "model", "prompt_version")}
            layouts = json.loads(row["layouts"] or "{}")
        groups["template"] = report.template_version() or "—"
        groups.update({f"layout:{s}": family for s, family in layouts.items()})
        scores.append(score(gold, report, findings, status, groups, doc["text"]))
    return Run(label, scores), missing


def _by_file_name(db: Any, source: str) -> dict[str, Any] | None:
    """The one document ingested from a file of this name (any folder), if exactly one."""
    name = Path(source.replace("\\", "/")).name
    if not name:
        return None
    rows = [d for d in db["documents"].rows_where("name like ?", [f"%{name}"]) if Path(d["name"]).name == name]
    return rows[0] if len(rows) == 1 else None


def prepare(
    db: Any,
    golds: list[Gold],
    gold_dir: Path | None,
    settings: cascade.Settings,
    progress: pipeline.Progress | None = None,
    phase: pipeline.Phase | None = None,
) -> None:
    """The gold documents not yet in the store, ingested and then extracted in one batch each
    (a batch starts its worker processes once, which costs more than reading a small report);
    `evaluate` then only scores. Documents already in the store are left as they are."""
    paths: dict[str, None] = {}
    for gold in golds:
        found = next(iter(_candidates(gold, gold_dir)), None) if _document_of(db, gold) is None else None
        if found is not None:
            paths[str(found)] = None
    if paths:
        pipeline.ingest_paths(db, list(paths), progress=progress, phase=phase)
    todo = {doc["id"]: None for gold in golds if (doc := _document_of(db, gold)) and doc["status"] == "ingested"}
    if todo:
        pipeline.extract_documents(db, list(todo), progress, settings=settings, pending_only=True, phase=phase)


def _document_of(db: Any, gold: Gold) -> dict[str, Any] | None:
    """The gold's document in the store: by its doc_id, else by its source file's name (None
    when absent, or when the file found there is not the gold's bytes)."""
    if gold.doc_id:
        return store.document(db, gold.doc_id) if db["documents"].count_where("id = ?", [gold.doc_id]) else None
    return _by_file_name(db, gold.source)


def _candidates(gold: Gold, gold_dir: Path | None) -> list[Path]:
    """Where the gold's source file may be: as written, or relative to the gold folder's project."""
    if not gold.source:
        return []
    candidates = [Path(gold.source)]
    if gold_dir is not None:  # data/gold/x.json names data/samples/x.txt relative to the project
        candidates += [gold_dir.parent.parent / gold.source, gold_dir.parent / gold.source, gold_dir / gold.source]
    return [p for p in candidates if p.is_file()]


def runs(db: Any) -> list[dict[str, Any]]:
    """Saved runs, oldest first, with their headline figures."""
    if "eval_runs" not in db.table_names():
        return []
    out = []
    for row in db["eval_runs"].rows_where(order_by="id"):
        overall = json.loads(row["record"])["summary"]["overall"]
        out.append(
            {
                "id": row["id"],
                "label": row["label"],
                "created_at": row["created_at"],
                "documents": overall["documents"],
                "accuracy": overall["accuracy"],
                "accepted_but_wrong": overall["accepted_but_wrong"],
            }
        )
    return out


def save(db: Any, run: Run, settings: dict[str, Any]) -> int:
    """Keep a run so that a later one can be compared with it."""
    with db.conn:
        return (
            db["eval_runs"]
            .insert(
                {
                    "label": run.label,
                    "created_at": store.now(),
                    "settings": store.dumps(settings),
                    "record": store.dumps(run.record()),
                },
                pk="id",
            )
            .last_pk
        )


def load_run(db: Any, run_id: int) -> dict[str, Any]:
    row = db["eval_runs"].get(run_id)
    return {"id": row["id"], "created_at": row["created_at"], **json.loads(row["record"])}
