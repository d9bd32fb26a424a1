"""Choosing and combining extractors: layout, llm, cascade (the default) or both.

The layout parser is free and instant, so the cascade runs it first and sends to the model
only the sections it could not read or whose hard identities fail. `both` runs the two on every
section and compares them cell by cell: agreement is recorded, and every disagreement is a
finding carrying both values, so a person decides. Nothing here touches the store, so
documents can be extracted on worker threads.

The model reads the same text as the parser, so what the text leaves open (several readings fit
it: `layout.leaves_open`) is never the model's to settle: the cascade does not ask, and a model's
table keeps those doubts. With `llm`, the parser's reading is still evidence against the model's
(`_against_parser`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from extraction import checks, template
from extraction.model import endpoint, llm
from extraction.model.prompts import PromptSet
from extraction.schema import CellKind, Extraction, Finding, Report, Table
from extraction.tables import layout
from extraction.template import Section

Kind = Literal["layout", "llm", "cascade", "both"]
KINDS: tuple[Kind, ...] = ("layout", "llm", "cascade", "both")


@dataclass(frozen=True)
class Settings:
    kind: Kind = "cascade"
    llm: llm.LLMConfig | None = None
    mode: str | None = None  # the instructor mode decided for the endpoint
    prompts: PromptSet | None = None
    breaker: endpoint.Breaker | None = None  # shared by a batch's documents: a dead endpoint stops being asked

    @property
    def uses_model(self) -> bool:
        return self.kind != "layout" and self.llm is not None and self.llm.configured


@dataclass
class Work:
    """One document's extraction, ready to be checked and stored."""

    extraction: Extraction
    calls: list[llm.Call] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)
    cache_entries: dict[str, dict] = field(default_factory=dict)
    agreement: dict[str, float] = field(default_factory=dict)


def extract(text: str, settings: Settings, cache: dict[str, dict] | None = None) -> Work:
    parsed = layout.parse(text)
    if not settings.uses_model:
        return Work(parsed)
    assert settings.llm is not None and settings.prompts is not None and settings.mode is not None
    if settings.kind == "cascade":
        wanted = needs_model(parsed)
        if not wanted:
            return Work(parsed)
    else:
        wanted = template.SECTIONS
    result = llm.extract(
        text, settings.llm, settings.prompts, settings.mode, wanted=wanted, cache=cache, breaker=settings.breaker
    )
    work = Work(parsed, result.calls, result.usage, result.cache_entries)
    model = f"llm:{settings.llm.model}"
    if settings.kind == "llm":
        work.extraction = _from_model(parsed, result, model)
    elif settings.kind == "cascade":
        work.extraction = _merge(parsed, result, wanted, model)
    else:
        work.extraction, work.agreement = _compare(parsed, result, model)
    return work


def needs_model(parsed: Extraction) -> tuple[Section, ...]:
    """Sections the layout parser could not read, doubted, or read into a failing table.

    A doubt the text itself leaves open (several readings fit it) is not one: a model reads
    the same text, and its pick among those readings would be a guess.
    """
    out = []
    for section in template.SECTIONS:
        table = parsed.report.table(section)
        doubts = [f for f in _own(parsed.findings, section) if f.blocks_acceptance and not layout.leaves_open(f)]
        if table is None or doubts or any(f.failed for f in checks.hard_checks(table)):
            out.append(section)
    return tuple(out)


def _still_open(parsed: Extraction, section: str) -> list[Finding]:
    """The parser's open readings of `section`, restated for a table the model read: a model
    reading the same text settles none of them (grounding holds for every cut of a printed run,
    and in section 二 no identity tells the cuts apart), so they keep the section for a person."""
    return [
        Finding.blocking(
            f"{section}.llm.open_in_text",
            "a reading the text leaves open is settled by a person, not by a model reading the same text",
            f"the model chose one of the readings the text allows; {doubt.message}",
            cells=doubt.cells,
        )
        for doubt in _own(parsed.findings, section)
        if layout.leaves_open(doubt)
    ]


def _own(findings: list[Finding], section: str) -> list[Finding]:
    return [f for f in findings if f.id.startswith(section + ".")]


def _from_model(parsed: Extraction, result: llm.LLMResult, model: str) -> Extraction:
    layouts = {s: model for s in template.SECTIONS if result.report.table(s) is not None}
    findings = list(result.findings)
    for section in layouts:
        findings += _still_open(parsed, section) + _against_parser(parsed, result, section, model)
    return Extraction(
        report=result.report,
        extractor=model,
        agency=parsed.agency,
        year=parsed.year,
        findings=findings,
        layouts=layouts,
    )


def _merge(parsed: Extraction, result: llm.LLMResult, wanted: tuple[Section, ...], model: str) -> Extraction:
    """Per section, the reading with fewer failing hard checks; a tie keeps the parser's (it has spans).

    The model's table is a candidate only when it is grounded row by row and puts no value
    where the parser read a printed blank: failing fewer identities is no evidence for a table
    that is not the one printed (another report's balanced table fails none).
    """
    report = Report()
    findings: list[Finding] = []
    layouts = dict(parsed.layouts)
    for section in template.SECTIONS:
        mine, theirs = parsed.report.table(section), result.report.table(section)
        refused = _refusal(section, mine, theirs, result.findings, parsed.layouts.get(section))
        use_model = (
            section in wanted
            and theirs is not None
            and refused is None
            and _failures(theirs, result.findings) < _failures(mine, parsed.findings)
        )
        setattr(report, section, theirs if use_model else mine)
        if use_model:
            findings += _own(result.findings, section) + _still_open(parsed, section)
        else:
            findings += _own(parsed.findings, section)
        if section in wanted and theirs is not None and not use_model and refused is not None:
            findings.append(refused)  # why the model's reading was not taken, for the reviewer
        if use_model:
            layouts[section] = model
    report.align_versions()
    used = set(layouts.values())
    extractor = model if used == {model} else ("layout+" + model if model in used else "layout")
    return Extraction(
        report=report, extractor=extractor, agency=parsed.agency, year=parsed.year, findings=findings, layouts=layouts
    )


# Families where a blank cell prints nothing at all, so the parser's blanks are its own guesses.
_BLANKS_UNSEEN = ("space_rows", "gapped_stream", "number_stream")


def _refusal(
    section: Section, mine: Table | None, theirs: Table | None, findings: list[Finding], family: str | None
) -> Finding | None:
    """Why the model's table may not replace the parser's, or None."""
    if theirs is None:
        return None
    ungrounded = [
        f for f in _own(findings, section) if ".grounding." in f.id or f.id.endswith("missing_printed_numbers")
    ]
    if ungrounded:
        return Finding(
            id=f"{section}.cascade.model_not_grounded",
            severity="soft",
            status="fail",
            formula="the model's table is taken only when each row is what its label prints",
            message=f"the model's {section} table was not taken: {len(ungrounded)} rows not as printed",
        )
    return _fills_printed_blank(section, mine, theirs, family, "cascade")


def _fills_printed_blank(
    section: Section, mine: Table | None, theirs: Table, family: str | None, kind: str
) -> Finding | None:
    """The model's values in cells the parser read as printed blanks (in a row it read), where
    the layout shows blanks at all: a number moved into an empty column still sums and is
    still printed in order, so only the blank it fills tells."""
    if mine is None or family in _BLANKS_UNSEEN:
        return None
    filled = [
        (row, column)
        for row, cols in mine.cells.items()
        if any(c.value is not None for c in cols.values())  # a row the parser read
        for column, cell in cols.items()
        if cell.kind == CellKind.blank and theirs.value(row, column) is not None
    ]
    if not filled:
        return None
    row, column = filled[0]
    kept = "the parser's reading is kept" if kind == "cascade" else "a person decides"
    return Finding.blocking(
        f"{section}.{kind}.model_fills_printed_blank",
        "a cell printed blank stays blank",
        f"the model put a value in {len(filled)} cells the report prints blank (e.g. {row}.{column}); {kept}",
        cells=[(section, r, c) for r, c in filled],
    )


def _against_parser(parsed: Extraction, result: llm.LLMResult, section: Section, model: str) -> list[Finding]:
    """What the parser's reading says against the model's table of `section` (--extractor llm).

    A parser reading that passes every check is evidence: where the model's differs, one of the
    two is wrong and a person decides (as with --extractor both). A failing parser reading still
    tells where the report prints a blank.
    """
    mine, theirs = parsed.report.table(section), result.report.table(section)
    if mine is None or theirs is None:
        return []
    clean = not [f for f in _own(parsed.findings, section) if f.blocks_acceptance]
    if clean and mine.version == theirs.version and not any(f.failed for f in checks.hard_checks(mine)):
        return _differences(section, mine, theirs, model)
    filled = _fills_printed_blank(section, mine, theirs, parsed.layouts.get(section), "llm")
    return [filled] if filled else []


def _failures(table: Table | None, findings: list[Finding]) -> int:
    if table is None:
        return 10**6
    own = [f for f in _own(findings, table.section) if f.blocks_acceptance]
    return len(own) + sum(f.failed for f in checks.hard_checks(table))


def _compare(parsed: Extraction, result: llm.LLMResult, model: str) -> tuple[Extraction, dict[str, float]]:
    """Both extractors on every section; the parser's values are kept, disagreements queued."""
    findings = list(parsed.findings) + list(result.findings)
    agreement: dict[str, float] = {}
    report = Report()
    for section in template.SECTIONS:
        mine, theirs = parsed.report.table(section), result.report.table(section)
        setattr(report, section, mine if mine is not None else theirs)
        if mine is None or theirs is None:
            continue
        if mine.version != theirs.version and section != "review_litigation":  # 四 is the same in both
            findings.append(
                _disagree(section, "version", f"layout read the {mine.version} template, {model} the {theirs.version}")
            )
            agreement[section] = 0.0
            continue
        differ = _differences(section, mine, theirs, model)
        agreement[section] = 1 - len(differ) / sum(len(cols) for cols in mine.cells.values())
        findings += differ
    extraction = Extraction(
        report=report,
        extractor="layout",
        agency=parsed.agency,
        year=parsed.year,
        findings=findings,
        layouts=parsed.layouts,
    )
    return extraction, agreement


def _differences(section: Section, mine: Table, theirs: Table, model: str) -> list[Finding]:
    """One blocking finding per cell the parser and the model read differently, with both values."""
    return [
        _disagree(
            section,
            f"{r}.{c}",
            f"{r}.{c}: layout read {_show(mine.value(r, c))}, {model} read {_show(theirs.value(r, c))}",
            cells=[(section, r, c)],
            left=mine.value(r, c),
            right=theirs.value(r, c),
        )
        for r, cols in mine.cells.items()
        for c in cols
        if mine.value(r, c) != theirs.value(r, c)
    ]


def _show(value: object) -> str:
    return "blank" if value is None else str(value)


def _disagree(section: str, where: str, message: str, **extra: object) -> Finding:
    return Finding.blocking(
        f"{section}.both.disagree.{where}", "the layout parser and the model read the same value", message, **extra
    )
