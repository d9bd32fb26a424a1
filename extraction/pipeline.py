"""The main job: ingest files, extract their tables, check them, and file each as accepted or queued.

Each document is handled in its own short transaction, so a batch can be stopped at any point
and run again: finished documents are skipped, nothing is duplicated, nothing is lost.
"""

from __future__ import annotations

import dataclasses
import gc
import multiprocessing
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from extraction import checks, template, workers
from extraction.model import cascade, endpoint, llm, prompts
from extraction.read import ingest, mojibake
from extraction.read.readout import Doubt
from extraction.schema import Extraction, Finding, Report
from extraction.storage import agencies, store
from extraction.tables import sections

Progress = Callable[[str], None]  # one item of the current phase done (its name)
# A phase begins ("ingest", "extract") with how many items it will tick: a progress bar with a real total.
Phase = Callable[[str, int], None]


def tune_for_batch() -> None:
    """Let the garbage collector sweep less often, for a process that reads many reports.

    Weighing readings makes and drops millions of small tuples and dicts, nearly none of them
    cyclic; at Python's default (a sweep every 700 new containers) the sweeps cost a tenth of
    a batch's time. Sweeping every 20,000 (as mypy does for the same reason) keeps memory
    bounded and the time back. Called by the command line and the benchmarks, never on import:
    a program using the library keeps its own settings.
    """
    gc.set_threshold(20_000, 50, 50)


@dataclass(frozen=True)
class Outcome:
    doc_id: str
    name: str
    status: str  # accepted | queued | reviewed | failed | present
    detail: str = ""


def ingest_paths(
    db: sqlite_utils.Database,
    paths: Iterable[str],
    max_mb: float | None = None,
    progress: Progress | None = None,
    limits: ingest.Limits | None = None,
    phase: Phase | None = None,
    budget: workers.Budget | None = None,
    readers: int = 1,
    retry_failed: bool = False,
) -> list[Outcome]:
    """Record every file; unreadable, special and refused ones as failed with the reason, so a
    batch never stops on one and never drops one. Same bytes twice: no-op.

    Each file is read in a worker process (`readers` of them) under the per-document `budget`
    (XXGK_DOC_SECONDS, XXGK_DOC_MEMORY_MB): one that takes longer or needs more is recorded
    failed naming the limit, and the next file is read by a fresh worker.

    With `retry_failed`, a file stored as failed while being read (over a budget or a limit
    since raised) is read again and its document takes the new reading, or the new reason;
    one a person has reviewed or discarded is left alone (`store.replace_reading`).
    """
    limits = limits or ingest.Limits.from_env(max_mb=max_mb)
    budget = budget or workers.Budget.from_env()
    outcomes = []
    entries = list(ingest.expand(paths))  # listed first (names only, nothing read): the phase's total
    if phase:
        phase("ingest", len(entries))
    ids: dict[Path, str | None] = {}

    def start(entry: ingest.Input) -> workers.Job | ingest.Document | Outcome:
        if entry.refused is not None:  # recorded (unless it names nothing) and reported every time
            return ingest.refusal(entry)
        known = ids[entry.path] = ingest.file_id(entry.path)
        if known and store.has_document(db, known) and not (retry_failed and _failed_at_read(db, known)):
            return Outcome(known, str(entry.path), "present", "already in the store")  # OCR of a scan takes seconds
        return workers.Job(_read, (entry.path, limits, budget), "read it")

    with workers.Workers(budget, readers) as pool:
        for entry, result in pool.run(entries, start):
            if isinstance(result, Outcome):
                outcomes.append(result)
            elif entry.refused is not None:
                if entry.stored:
                    store.add_document(db, result)
                outcomes.append(Outcome(result.id, result.name, "failed", result.error or ""))
            else:
                doc = (
                    _over_budget(entry.path, ids[entry.path], result) if isinstance(result, workers.Failed) else result
                )
                outcomes.append(_record(db, doc, retry_failed))
            if progress:
                progress(outcomes[-1].name)
    return outcomes


def _read(path: Path, limits: ingest.Limits, budget: workers.Budget) -> ingest.Document:
    """In a worker: read one file; memory running out inside a library is worded as the budget."""
    doc = ingest.read(path, limits=limits)
    if doc.text is None and workers.out_of_memory(doc.error):
        return dataclasses.replace(doc, error=budget.too_big("read it"))
    return doc


def _over_budget(path: Path, known: str | None, failed: workers.Failed) -> ingest.Document:
    """The failed document for a file whose reading was stopped: its id is still its bytes' hash."""
    if known is None:  # vanished or unreadable since it was listed
        return ingest.refusal(ingest.Input(path, failed.reason))
    size = path.stat().st_size if path.exists() else 0
    return ingest.Document(known, str(path), ingest.kind(path, b""), size, None, failed.reason)


def _record(db: sqlite_utils.Database, doc: ingest.Document, retry_failed: bool = False) -> Outcome:
    if doc.format == "missing":
        return Outcome(doc.id, doc.name, "failed", doc.error or "")
    if store.add_document(db, doc) or (retry_failed and store.replace_reading(db, doc)):
        return Outcome(doc.id, doc.name, "failed" if doc.error else "ingested", doc.error or "")
    return Outcome(doc.id, doc.name, "present", "already in the store")


def _failed_at_read(db: sqlite_utils.Database, doc_id: str) -> bool:
    return store.failed_at_read(store.document(db, doc_id))


def pending(db: sqlite_utils.Database, force: bool = False, model_failures: bool = False) -> list[str]:
    """Documents waiting for extraction; with force, every readable document; with
    model_failures, those whose current extraction has a section whose model call failed
    (answers already paid for come from the store, so only those sections are asked again).

    A document whose extraction failed (it crashed, or ran past a budget) is not retried by a
    plain rerun, but force takes it again: its text was read, and the budget may have been raised.
    """
    if force:
        return [d["id"] for d in store.documents(db) if d["status"] != "failed" or (d["text"] or "").strip()]
    if model_failures:
        return [d["id"] for d in store.documents(db) if d["status"] not in store.DECIDED and _model_failed(db, d["id"])]
    return [d["id"] for d in store.documents(db, "ingested")]


def _model_failed(db: sqlite_utils.Database, doc_id: str) -> bool:
    extraction = store.current_extraction(db, doc_id)
    return bool(extraction) and any(f.id.endswith(llm.MODEL_FAILURES) for f in store.findings(db, extraction["id"]))


def prepare(
    db: sqlite_utils.Database,
    kind: cascade.Kind = "cascade",
    config: llm.LLMConfig | None = None,
) -> cascade.Settings:
    """Settings for a run: the prompts, and the endpoint's instructor mode, probed once and recorded.

    The endpoint is checked first (reachable, key taken, model served): a misconfigured one
    raises `endpoint.EndpointError` before any document is touched, and records nothing.
    """
    config = config if config is not None else llm.LLMConfig.from_env()
    if kind in ("llm", "both") and not config.configured:
        raise ValueError(f"--extractor {kind} needs a model endpoint: set XXGK_LLM_BASE_URL and XXGK_LLM_MODEL")
    if kind == "layout" or not config.configured:
        return cascade.Settings(kind=kind, llm=config)
    assert config.base_url and config.model
    endpoint.check(config)
    mode = config.mode or store.endpoint_mode(db, config.base_url, config.model)
    if mode is None:
        mode = llm.probe_mode(config)  # raises, recording nothing, when the endpoint cannot serve
        store.set_endpoint_mode(db, config.base_url, config.model, mode)
    return cascade.Settings(
        kind=kind,
        llm=config,
        mode=mode,
        prompts=prompts.load(config.prompt_version),
        breaker=endpoint.Breaker(config.breaker_after),
    )


def extract_documents(
    db: sqlite_utils.Database,
    doc_ids: Iterable[str],
    progress: Progress | None = None,
    settings: cascade.Settings | None = None,
    concurrency: int = 1,
    pending_only: bool = False,
    phase: Phase | None = None,
    budget: workers.Budget | None = None,
) -> list[Outcome]:
    """Extract, check and file documents, `concurrency` at a time, each in a worker process.

    With `pending_only`, a document is extracted only while it is still `ingested` (another run
    may have filed it since it was listed); otherwise while its status is the one it has now.

    A worker extracts one document at a time under the per-document `budget`; one that takes
    longer or needs more memory is failed naming the limit, and the batch goes on with a fresh
    worker. Each document is claimed just before a worker starts on it (store.claim), so two
    runs on one store never extract it twice, and one that killed the whole run before is
    known. Such suspects go first. Every read and write of the store happens here in the
    parent, one short transaction per finished document, so killing the batch loses at most
    the work in flight.
    """
    settings = settings or cascade.Settings(kind="layout")
    budget = budget or workers.Budget.from_env()
    ids = list(doc_ids)
    if phase:
        phase("extract", len(ids))
    by = store.owner()
    order, status = _listing(db, ids, pending_only)
    outcomes: dict[str, Outcome] = {}
    # In the worker, the model's time comes on top of the document's own: it has its own bounds.
    seconds = budget.seconds + (_model_allowance(settings.llm) if settings.uses_model else 0.0)
    shipped = dataclasses.replace(settings, breaker=None)  # its count is shared with the workers instead
    breaker = settings.breaker
    count = multiprocessing.get_context("fork").RawValue("i", breaker.failures) if breaker is not None else None
    docs: dict[str, dict] = {}

    def start(doc_id: str) -> workers.Job | str:
        doc = docs[doc_id] = {**store.document(db, doc_id), "status": status[doc_id]}
        verdict = store.claim(db, doc_id, by, doc["status"])
        if verdict != "go":
            return verdict
        cache = _cache_for(db, doc["text"], settings)
        limit = breaker.limit if breaker is not None else None
        return workers.Job(_work, (doc["text"], shipped, cache, limit), "extract its tables", seconds)

    try:
        with workers.Workers(budget, concurrency, shared=count) as pool:
            for doc_id, result in pool.run(order, start):
                outcomes[doc_id] = _outcome(db, docs.pop(doc_id), result, settings)
                if progress:
                    progress(doc_id)
    finally:
        store.release(db, [i for i in ids if i not in outcomes], by)
        if breaker is not None and count is not None:
            breaker.failures = count.value  # the next batch of this run starts where this one stopped
    return [outcomes[i] for i in ids]


def _listing(db: sqlite_utils.Database, ids: list[str], pending_only: bool) -> tuple[list[str], dict[str, str]]:
    """The order to extract in (documents that took a run down before go first, so they are
    known) and the status each document has now, when it is listed: a claim later succeeds only
    if no other run has filed it since (its text is loaded window by window, not here)."""
    listed = {row[0]: (row[1], row[2]) for row in db.execute("select id, status, attempts from documents")}
    suspects = [i for i in ids if listed[i][1]]
    first = set(suspects)
    status = {i: "ingested" if pending_only else listed[i][0] for i in ids}
    return suspects + [i for i in ids if i not in first], status


def _outcome(
    db: sqlite_utils.Database, doc: dict, result: str | workers.Failed | Any, settings: cascade.Settings
) -> Outcome:
    """File what a worker gave back: a claim refused, a budget or crash, or the extraction."""
    if isinstance(result, str):
        return _not_done(db, doc, result)
    if isinstance(result, workers.Failed):
        return _fail(db, doc, result.reason)
    return _file(db, doc, result, settings)


def _model_allowance(config: llm.LLMConfig | None) -> float:
    """The longest the model settings let one report's requests take: each section asked once
    and re-asked, each request retried, each attempt within its deadline."""
    if config is None:
        return 0.0
    return len(template.SECTIONS) * (1 + config.reasks) * (1 + config.http_retries) * config.deadline


def _not_done(db: sqlite_utils.Database, doc: dict, verdict: str) -> Outcome:
    """A document this run did not extract: another run has it or filed it, or it killed its worker."""
    now = store.document(db, doc["id"])
    if verdict == "killed":
        return Outcome(doc["id"], doc["name"], "failed", now["error"] or "")
    detail = "being extracted by another run" if verdict == "taken" else "extracted by another run"
    return Outcome(doc["id"], doc["name"], "present" if verdict == "taken" else now["status"], detail)


def extract_document(db: sqlite_utils.Database, doc_id: str, settings: cascade.Settings | None = None) -> Outcome:
    """Extract, check and file one document."""
    return extract_documents(db, [doc_id], settings=settings)[0]


def _cache_for(db: sqlite_utils.Database, text: str, settings: cascade.Settings) -> dict[str, dict]:
    if not settings.uses_model:
        return {}
    assert settings.llm and settings.prompts and settings.mode
    keys = [
        llm.request_key(section, chunk, settings.llm, settings.prompts, settings.mode)
        for section, chunks in llm.section_texts(text, template.SECTIONS, settings.llm.max_chars).items()
        for chunk in chunks
    ]
    return store.cached_answers(db, keys)


class _SharedBreaker(endpoint.Breaker):
    """The batch's breaker inside a worker: its count of consecutive failed requests lives in
    memory shared by all the batch's workers (and read back by the parent), so a dead endpoint
    stops being asked by every worker at once, as threads sharing one Breaker did."""

    def __init__(self, limit: int, count: Any) -> None:
        super().__init__(limit=limit)
        self.count = count

    @property
    def open(self) -> bool:
        self.failures = self.count.value
        return self.failures >= self.limit

    def record(self, failed: bool) -> None:
        # Unlocked: a worker stopped mid-update must not leave a lock held; a lost update only
        # shifts by one when the breaker opens.
        self.count.value = self.count.value + 1 if failed else 0


def _work(
    text: str, settings: cascade.Settings, cache: dict[str, dict], breaker_after: int | None
) -> cascade.Work | workers.Failed:
    """In a worker: one document's extraction, or why it crashed."""
    count = workers.inherited()
    breaker = _SharedBreaker(breaker_after, count) if breaker_after is not None and count is not None else None
    started = time.perf_counter()
    try:
        work = cascade.extract(text, dataclasses.replace(settings, breaker=breaker), cache)
    except MemoryError:
        raise  # worded by the worker as the memory budget
    except Exception as exc:  # a parser bug must not stop the batch or lose the document
        return workers.Failed(f"extraction crashed: {type(exc).__name__}: {exc}")
    work.usage["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return work


def _fail(db: sqlite_utils.Database, doc: dict, reason: str) -> Outcome:
    store.set_failed(db, doc["id"], reason)
    return Outcome(doc["id"], doc["name"], "failed", reason)


def _file(db: sqlite_utils.Database, doc: dict, work: cascade.Work, settings: cascade.Settings) -> Outcome:
    findings = check(db, doc["id"], doc["text"], work.extraction, store.doubts(doc), store.notes(doc))
    accepted = checks.accepted(findings)
    used_model = bool(work.calls) or bool(work.usage.get("cache_hits"))
    store.add_extraction(
        db,
        doc["id"],
        work.extraction,
        findings,
        accepted,
        work.usage.get("duration_ms", 0.0),
        model=settings.llm.model if used_model and settings.llm else None,
        prompt_version=settings.prompts.version if used_model and settings.prompts else None,
        usage=work.usage,
        mode=settings.mode if used_model else None,
        calls=work.calls,
        agreement=work.agreement,
        cache_entries=work.cache_entries,
    )
    recheck_next_year(db, doc["id"])
    status = store.document(db, doc["id"])["status"]
    return Outcome(doc["id"], doc["name"], status, reasons(findings))


def reasons(findings: list[Finding]) -> str:
    """Why a document waits, one entry per failing identity: "applications.balance x3, ..."."""
    counts = Counter(checks.family(f.id) for f in findings if f.blocks_acceptance)
    return ", ".join(f"{r} x{n}" if n > 1 else r for r, n in counts.most_common())


def check(
    db: sqlite_utils.Database,
    doc_id: str,
    text: str,
    extraction: Extraction,
    doubts: Sequence[Doubt] = (),
    notes: Sequence[dict] = (),
) -> list[Finding]:
    """The extractor's own doubts, OCR's doubts, bytes that did not decode, and every identity
    that can run on this report."""
    previous = previous_year(db, doc_id, extraction.agency, extraction.year)
    findings = list(extraction.findings) + checks.doubtful_cells(extraction.report, doubts)
    if notes:
        findings.append(_undecoded(text, notes))
    # A report whose tables were not read says so per section, and a model answer that could
    # not be used says so itself: "not a report" is for a text that is not one.
    model_failed = any(".llm." in f.id for f in extraction.findings)
    if not extraction.report.tables() and not model_failed and not sections.looks_like_report(text):
        findings.append(_not_a_report(text))
    lost = None if notes else mojibake.lost_characters(text)  # (bad bytes are named where they stood)
    if lost is not None:
        findings.append(lost)
    return findings + checks.run(extraction.report, previous=previous, prose=prose(text))


def previous_year(db: sqlite_utils.Database, doc_id: str, agency: str | None, year: int | None) -> Report | None:
    """The same agency's report for the year before, as reviewed or else as extracted.

    Matched by the normalised agency key, so "洪泽区人民政府" finds "淮安市洪泽区人民政府".
    """
    found = _previous_year(db, doc_id, agency, year)
    return found[1] if found else None


def _previous_year(
    db: sqlite_utils.Database, doc_id: str, agency: str | None, year: int | None
) -> tuple[str, Report] | None:
    """The document `previous_year` compares with (the first of that agency-year with a review
    or an extraction, in the order they were ingested) and its report."""
    for row in agencies.previous_year_docs(db, doc_id, agency, year):
        review = store.latest_review(db, row["id"])
        if review:
            return row["id"], store.report_of(review)
        extraction = store.current_extraction(db, row["id"])
        if extraction:
            return row["id"], store.report_of(extraction)
    return None


def recheck_next_year(db: sqlite_utils.Database, doc_id: str) -> int:
    """Recompute the cross-year checks of the same agency's next-year reports; returns how many.

    Files arrive in any order: when 2023 is filed after 2024, 2024's identities 6-8 ran without
    a previous year (or against a stale one). Only those checks are replaced; the rest of the
    extraction's findings (its own doubts, the hard identities) stay as recorded.

    Only when this report is the one they are compared with (`_previous_year`): every next-year
    report of an agency has the same previous year, so filing another report of that year (a
    copy, a second version) changes nothing for them. Re-checking them all on each filing made a
    2,000-report store spend 818 of its 875 s here.
    """
    later = agencies.next_year_docs(db, doc_id)
    if not later:
        return 0
    found = _previous_year(db, later[0]["id"], later[0]["agency"], later[0]["year"])
    if found is None or found[0] != doc_id:
        return 0
    for row in later:
        extraction = store.current_extraction(db, row["id"])
        if extraction is None:
            continue
        report = store.report_of(extraction)
        kept = [f for f in store.findings(db, extraction["id"]) if not agencies.is_cross_year(f.id)]
        fresh = [f for f in checks.run(report, previous=found[1]) if agencies.is_cross_year(f.id)]
        store.replace_findings(db, row["id"], extraction["id"], kept + fresh)
    return len(later)


def prose(text: str) -> str:
    """The report text before its tables, where the 总体情况 restates figures."""
    spans = sections.locate(text)
    start = min((s.start for s in spans.values()), default=len(text))
    return text[:start]


def _undecoded(text: str, notes: Sequence[dict]) -> Finding:
    """Bytes read as U+FFFD: a person checks them against the file when one falls inside a
    statistical table (it may have been a digit); in the prose it is only said."""
    offsets = sections.in_tables(text, [n["offset"] for n in notes])
    inside = [n for n in notes if n["offset"] in offsets]
    places = "; ".join(
        f"line {n['line']} column {n['column']} (bytes {n['bytes']}{', in a table' if n in inside else ''})"
        for n in notes
    )
    rule = "every byte of the file decodes in its encoding"
    message = f"{len(notes)} undecodable byte run(s) in this {notes[0]['encoding']} text, read as �: {places}"
    if inside:
        return Finding.blocking("document.decoding", rule, message)
    return Finding(id="document.decoding", severity="soft", status="fail", formula=rule, message=message)


def _not_a_report(text: str) -> Finding:
    return Finding.blocking(
        "document.not_a_report",
        "an annual report holds the tables of sections 二, 三 and 四",
        f"none of the three statistical tables was found in {len(text)} characters of text: "
        "this does not look like a 政府信息公开工作年度报告, or its tables are in a layout not read yet",
    )


def run(
    db: sqlite_utils.Database,
    paths: Iterable[str],
    max_mb: float | None = None,
    progress: Progress | None = None,
    settings: cascade.Settings | None = None,
    concurrency: int = 1,
    limits: ingest.Limits | None = None,
    phase: Phase | None = None,
    budget: workers.Budget | None = None,
    retry_failed: bool = False,
) -> list[Outcome]:
    """Ingest the files, then extract and check every one that is new or still pending.

    Two phases for a progress bar: ingest (one tick per file) and extract (per document to extract).
    The per-document `budget` (default: XXGK_DOC_SECONDS, XXGK_DOC_MEMORY_MB) bounds each step.
    With `retry_failed`, these files' failed documents are tried again: one that failed while
    being read is read again (`ingest_paths`), one whose extraction failed is extracted again
    (as `extract --force` would); a person's review or discard is never undone.
    """
    budget = budget or workers.Budget.from_env()
    ingested = ingest_paths(
        db,
        paths,
        max_mb=max_mb,
        progress=progress,
        limits=limits,
        phase=phase,
        budget=budget,
        retry_failed=retry_failed,
    )
    todo = {o.doc_id for o in ingested if o.status in ("ingested", "present")}
    waiting = [d for d in pending(db) if d in todo]
    # Failed at extraction: claimed as failed (pending_only would claim `ingested` ones only).
    failed = store.documents(db, "failed") if retry_failed else iter(())
    again = [d["id"] for d in failed if d["id"] in todo and not store.failed_at_read(d)]
    extracted = {
        o.doc_id: o
        for o in extract_documents(
            db, waiting + again, progress, settings, concurrency, pending_only=not again, phase=phase, budget=budget
        )
    }
    out = []
    for o in ingested:
        if o.doc_id in extracted:
            out.append(extracted[o.doc_id])
        elif o.status == "present":
            doc = store.document(db, o.doc_id)
            out.append(Outcome(o.doc_id, o.name, doc["status"], "already in the store"))
        else:
            out.append(o)
    return out
