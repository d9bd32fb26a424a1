"""The language-model extractor: narrow calls through instructor, checked by the identities.

A report's located sections are asked in one call (prompt shape "report", v3 and the default v4,
whose text is condensed by `condensed`), or each alone (v1, v2); every section has its own
response model (`shapes`) of exact size (extra keys forbidden), so a model cannot invent a row.
The hard identities run as a validator on that model: when they fail, instructor sends the
model a short Chinese message naming the failing row or column, both sides and the difference,
and asks again. Re-asks stop
after `reasks`, when the token budget is spent, or as soon as the same failure repeats: a model
that insists on the same numbers may be reading a source that is itself inconsistent, and the
result is queued as such instead of being forced to balance.

HTTP failures (429 with Retry-After, 5xx, timeouts) are retried by the openai client itself with
exponential backoff and jitter; what still fails becomes a finding, never a crash.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import re
import time
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import instructor
import openai
from instructor.core.exceptions import ResponseParsingError
from pydantic import BaseModel, ValidationError
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from extraction import checks, template
from extraction.model import attempts, condensed, endpoint, grounding, shapes
from extraction.model import prompts as prompt_files
from extraction.model.attempts import Call as Call  # pipeline and the store read it here
from extraction.model.prompts import PromptSet
from extraction.model.shapes import answer_model as answer_model  # bench/llm_shapes.py reads it here
from extraction.model.shapes import to_table
from extraction.schema import Finding, Report, Table
from extraction.tables import sections
from extraction.template import Section, Version

# instructor logs every section whose re-asks ran out as an error, with the whole validation
# error. Such a section is recorded here (its attempts in the store, one short finding), and a
# source that does not balance ends that way by design: without a handler of its own, Python
# would print each of those records on a user's terminal. An application that configures
# logging still receives them (they propagate to its handlers).
logging.getLogger("instructor").addHandler(logging.NullHandler())

MODES = ("JSON_SCHEMA", "TOOLS", "MD_JSON")
# What instructor may re-ask on: an answer that is not JSON, not the schema, or fails the identities.
_PARSE_ERRORS = (ValidationError, json.JSONDecodeError, ResponseParsingError)
_PROBE_TOKEN = "xxgk-probe-7f3"
_PROBE_SCHEMA = {
    "type": "object",
    "properties": {"token": {"type": "string", "enum": [_PROBE_TOKEN]}},
    "required": ["token"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class LLMConfig:
    """Where the model is and how hard to try. Every field has an XXGK_LLM_* environment default."""

    base_url: str | None = None
    model: str | None = None
    api_key: str | None = None
    mode: str | None = None  # an instructor mode; None: probe the endpoint once
    timeout: float = 120.0  # per read
    deadline: float = 300.0  # per request, whole answer included: a trickling server cannot hold a request longer
    http_retries: int = 4
    max_completion_tokens: int = 4_000  # a section's answer is a few hundred tokens; a runaway one is cut
    breaker_after: int = 5  # consecutive failed requests before the rest of a batch stops asking
    reasks: int = 2
    token_budget: int = 60_000  # per report, all sections and attempts
    max_chars: int = 24_000  # a section or chunk larger than this is split
    prompt_version: str = prompt_files.DEFAULT

    @classmethod
    def from_env(cls, **overrides: Any) -> LLMConfig:
        env = os.environ
        values: dict[str, Any] = {
            "base_url": env.get("XXGK_LLM_BASE_URL"),
            "model": env.get("XXGK_LLM_MODEL"),
            "api_key": env.get("XXGK_LLM_API_KEY") or env.get("OPENAI_API_KEY"),
            "mode": env.get("XXGK_LLM_MODE"),
            "timeout": float(env.get("XXGK_LLM_TIMEOUT", 120)),
            "deadline": float(env.get("XXGK_LLM_DEADLINE", 300)),
            "max_completion_tokens": int(env.get("XXGK_LLM_MAX_TOKENS", 4_000)),
            "reasks": int(env.get("XXGK_LLM_REASKS", 2)),
            "token_budget": int(env.get("XXGK_LLM_TOKEN_BUDGET", 60_000)),
            "prompt_version": env.get("XXGK_PROMPT_VERSION", prompt_files.DEFAULT),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def configured(self) -> bool:
        return bool(self.base_url and self.model)

    def openai_client(self) -> openai.OpenAI:
        # Local servers (Ollama, vLLM, llama.cpp) need no key, but the client insists on one.
        return openai.OpenAI(
            base_url=self.base_url,
            api_key=self.api_key or "not-needed",
            timeout=self.timeout,
            max_retries=self.http_retries,
            http_client=endpoint.http_client(self.deadline, self.timeout),
        )


HOW_TO_ENABLE = (
    "No model endpoint is configured, so only the layout parser ran. To let a model read what the "
    "parser cannot, set XXGK_LLM_BASE_URL and XXGK_LLM_MODEL (and XXGK_LLM_API_KEY for hosted APIs); "
    "see the README."
)


def probe_mode(config: LLMConfig) -> str:
    """Which instructor mode this endpoint really supports, by asking it for an unguessable value.

    A server that truly constrains output to a JSON schema returns the schema's only allowed
    token even to "say hello"; one that ignores `response_format` answers in prose. A failure no
    mode would fix (the endpoint down, the key refused, the model unknown) raises EndpointError,
    so that nothing is recorded for the endpoint and the batch does not start.
    """
    client = config.openai_client().with_options(max_retries=1)
    ask = [{"role": "user", "content": "Say hello."}]
    try:
        reply = client.chat.completions.create(
            model=config.model,
            messages=ask,
            max_tokens=40,
            response_format={"type": "json_schema", "json_schema": {"name": "probe", "schema": _PROBE_SCHEMA}},
        )
        if json.loads(reply.choices[0].message.content or "null") == {"token": _PROBE_TOKEN}:
            return "JSON_SCHEMA"
    except openai.APIError as exc:
        _raise_fatal(exc, config)
    except (ValueError, TypeError, RecursionError):  # an answer that is no JSON, or JSON nested without end
        pass
    try:
        reply = client.chat.completions.create(
            model=config.model,
            messages=ask,
            max_tokens=40,
            tools=[{"type": "function", "function": {"name": "probe", "parameters": _PROBE_SCHEMA}}],
            tool_choice={"type": "function", "function": {"name": "probe"}},
        )
        calls = reply.choices[0].message.tool_calls or []
        if calls and json.loads(calls[0].function.arguments).get("token") == _PROBE_TOKEN:
            return "TOOLS"
    except openai.APIError as exc:
        _raise_fatal(exc, config)
    except (ValueError, TypeError, AttributeError, RecursionError):
        pass
    return "MD_JSON"


def _raise_fatal(error: openai.APIError, config: LLMConfig) -> None:
    fatal = endpoint.fatal(error, config.base_url)
    if fatal is not None:
        raise fatal from error


# --- Calls -----------------------------------------------------------------------------------


@dataclass
class SectionResult:
    section: Section
    table: Table | None
    findings: list[Finding]
    calls: list[attempts.Call]
    mode: str


def section_version(section: Section, text: str) -> Version:
    if section == "applications":
        split = ("逾期不补正", "缴纳费用", "收费通知")
        return "2021" if any(word in template.compact(text) for word in split) else "2019"
    if section == "proactive":
        return template.proactive_version(text) or "2019"
    return "2021"


@dataclass(frozen=True)
class Part:
    """One section asked in a call: the span of the document it is read from, and its template version."""

    section: Section
    start: int
    end: int
    version: Version


def extract_parts(
    client: instructor.Instructor,
    config: LLMConfig,
    prompts: PromptSet,
    text: str,
    parts: list[Part],
    mode: str,
    budget: int,
) -> tuple[list[SectionResult], list[attempts.Call]]:
    """Ask the model for the parts' tables in one call, re-asking on identity failures.

    With a "report" prompt version the parts share the call (one schema, one set of rules, the
    quoted text once); otherwise there is one part. Each table is grounded in its own part's
    span of `text`, row by row.
    """
    sections_asked = [p.section for p in parts]
    messages, model = request_of(prompts, text, parts)
    calls = attempts.recorded_calls(client, "+".join(sections_asked))
    same = attempts.SameFailure()
    retrying = Retrying(
        stop=stop_after_attempt(config.reasks + 1) | same,
        retry=retry_if_exception_type(_PARSE_ERRORS),
        reraise=True,
    )
    failures: list[Finding] = []
    answer: BaseModel | None = None
    try:
        answer = client.chat.completions.create(
            model=config.model,
            messages=messages,
            response_model=model,
            max_retries=retrying,
            context={"check": True, "reask": prompts.texts["reask"]},
            token_budget=max(budget, 1),
            max_tokens=config.max_completion_tokens,
        )
    except Exception as exc:  # instructor wraps HTTP, retry and budget errors alike
        answer, failures = _after_failure(exc, sections_asked, calls, model, mode, same)
    finally:
        for event in ("completion:kwargs", "completion:response", "completion:error"):
            client.clear(event)
    answers = _per_section(answer)
    results = []
    for part in parts:
        own = [f for f in failures if f.id.startswith(part.section + ".")]
        one = answers.get(part.section)
        if one is None:
            results.append(SectionResult(part.section, None, own, [], mode))
            continue
        table, doubts = to_table(one)
        guards = grounding.grounding(table, text, part.start, part.end)
        guards += grounding.coverage(table, text, part.start, part.end)
        results.append(SectionResult(part.section, table, own + doubts + guards, [], mode))
    return results, calls


def request_of(prompts: PromptSet, text: str, parts: list[Part]) -> tuple[list[dict[str, str]], type[BaseModel]]:
    """The messages and the response model of one call for `parts` (bench/llm_shapes.py counts them)."""
    if prompts.shape == "report":
        model: type[BaseModel] = shapes.report_model(tuple((p.section, p.version) for p in parts))
        asks = [prompts.render(p.section, version=p.version, **_outline(p.section, p.version, True)) for p in parts]
        quoted = _quoted(text, parts, condense=prompts.quote == "condensed")
        user = prompts.render("report", parts="\n".join(asks), text=quoted)
    else:
        (part,) = parts
        model = answer_model(part.section, part.version, prompts.shape)
        outline = _outline if prompts.shape == "rows" else _rows
        chunk = text[part.start : part.end]
        user = prompts.render(part.section, version=part.version, text=chunk, **outline(part.section, part.version))
    return [{"role": "system", "content": prompts.render("system")}, {"role": "user", "content": user}], model


def _per_section(answer: BaseModel | None) -> dict[Section, shapes.Answer]:
    if answer is None:
        return {}
    if isinstance(answer, shapes.ReportAnswer):
        return shapes.parts_of(answer)
    assert isinstance(answer, shapes.Answer)
    return {answer.section: answer}


def _quoted(text: str, parts: list[Part], condense: bool = False) -> str:
    """The parts' text, quoted once: spans that touch or overlap are one stretch (the sections of
    a report follow each other); stretches apart are separate <report> blocks.

    `condense`: each part of a stretch whose parts do not overlap (located sections, not the
    chunks of a text where location failed) is sent as `condensed.condense` writes it, a line
    per section: each writes its rows in its own words (二 its row names, 三 its numbering, 四
    as printed), so the asks' words tell them apart without a heading.
    """
    stretches: list[list[Part]] = []
    for part in sorted(parts, key=lambda p: p.start):
        if stretches and part.start <= max(p.end for p in stretches[-1]):
            stretches[-1].append(part)
        else:
            stretches.append([part])
    quoted = []
    for group in stretches:
        start, end = group[0].start, max(p.end for p in group)
        if condense and all(a.end <= b.start for a, b in itertools.pairwise(group)):
            quoted.append("\n".join(condensed.condense(text, p.start, p.end, p.section, p.version) for p in group))
        else:
            quoted.append(text[start:end])
    return "\n</report>\n<report>\n".join(quoted)


def _after_failure(
    exc: Exception,
    sections_asked: list[Section],
    calls: list[attempts.Call],
    model: type[BaseModel],
    mode: str,
    same: attempts.SameFailure,
) -> tuple[BaseModel | None, list[Finding]]:
    """What is left when instructor gave up: the last answer that parses, if any, and why it failed.

    A failed request keeps no answer (its sections get no table). When the identities still fail,
    only the sections whose tables fail them are told so.
    """
    api_error = attempts.api_error(exc)
    if api_error is not None:
        message = f"the model endpoint failed: {attempts.short(api_error)}"
        return None, [attempts.llm_finding(s, "request_failed", message) for s in sections_asked]
    answer = attempts.last_parseable(calls, model, mode)
    repeated = len(same.seen) >= 2 and same.seen[-1] == same.seen[-2]
    if answer is None:
        # instructor's message carries every attempt as XML; the attempts are in the calls.
        last = next((c.error for c in reversed(calls) if c.error), None) or type(exc).__name__
        message = f"no usable answer after {len(calls)} calls (last: {attempts.short(last)})"
        return None, [attempts.llm_finding(s, "unparseable", message) for s in sections_asked]
    failing = [
        section
        for section, one in _per_section(answer).items()
        if any(f.failed for f in checks.hard_checks(to_table(one)[0]))
    ] or sections_asked
    if repeated:
        message = (
            "the model gave the same numbers again after being shown the failing identities; "
            "the printed table may itself be inconsistent"
        )
        return answer, [attempts.llm_finding(s, "possibly_inconsistent_source", message) for s in failing]
    message = f"identities still fail after {len(calls)} calls"
    return answer, [attempts.llm_finding(s, "reasks_exhausted", message) for s in failing]


def _rows(section: Section, version: Version) -> dict[str, str]:
    """The row list a section's prompt names: keys with their printed labels (and columns for 二)."""
    spec = template.spec(section, version)
    if section == "proactive":
        lines = [f"- {r.key}（{r.label}）：{'、'.join(c.label for c in r.columns)}" for r in spec.rows]
        return {"columns": "\n".join(lines)}
    return {"rows": "\n".join(f"- {r.key}：{r.label}" for r in spec.rows)}


_ENUMERATION = re.compile(r"[一二三四]、|（[一二三四五六七]）|\d+\.")


def _outline(section: Section, version: Version, compact: bool = False) -> dict[str, str]:
    """What a "rows" prompt says of the template: section 三's rows by their printed numbering
    (一 二 三（一）…（三）1 2 … 四), section 二's rows with their cell counts. The labels themselves
    are printed in the text beside the numbers; this says which rows the answer holds, in order.

    `compact` (the "report" shape) writes a run of numbered sub-rows as its range (（三）1-8).
    """
    spec = template.spec(section, version)
    if section == "proactive" and compact:  # rows of the same width named together: 规章、行政规范性文件各3格
        groups = [list(g) for _, g in itertools.groupby(spec.rows, key=lambda r: len(r.columns))]
        named = (
            "、".join(r.label for r in g) + ("各" if len(g) > 1 else "") + f"{len(g[0].columns)}格" for g in groups
        )
        return {"cells": "，".join(named)}
    if section == "proactive":
        return {"cells": "、".join(f"{r.label}{len(r.columns)}格" for r in spec.rows)}
    if section == "applications":
        marks = ["".join(_ENUMERATION.findall(r.label)).rstrip(".") or r.label for r in spec.rows]
        outline = " ".join(marks)
        if compact:
            outline = _SUB_ROWS.sub(lambda m: f"1-{m.group(0).split()[-1]}", outline.replace("、", ""))
            outline = re.sub(r" (?=[（\d])|(?<=[）\d]) ", "", outline)
        return {"rows": outline, "count": str(len(spec.rows))}
    return {}


_SUB_ROWS = re.compile(r"\b1(?: \d+)+")


# --- A whole report --------------------------------------------------------------------------


@dataclass
class LLMResult:
    report: Report
    findings: list[Finding]
    calls: list[attempts.Call]
    mode: str
    duration_ms: float
    cache_entries: dict[str, dict[str, Any]] = field(default_factory=dict)  # new answers, by request key
    cache_hits: int = 0

    @property
    def usage(self) -> dict[str, int]:
        total = {"prompt_tokens": 0, "completion_tokens": 0, "requests": len(self.calls), "cache_hits": self.cache_hits}
        for call in self.calls:
            for key in ("prompt_tokens", "completion_tokens"):
                total[key] += call.usage.get(key, 0)
        return total


def section_spans(text: str, wanted: tuple[Section, ...], max_chars: int) -> dict[Section, list[tuple[int, int]]]:
    """Where each wanted section's text is: located by its heading or table anchor (inside long
    one-line page bodies too, as the parser locates it), else the whole text in chunks."""
    spans = sections.locate(text)
    out: dict[Section, list[tuple[int, int]]] = {}
    for section in wanted:
        span = spans.get(section)
        start, end = (span.start, span.end) if span else (0, len(text))
        out[section] = [(i, min(i + max_chars, end)) for i in range(start, max(end, start + 1), max_chars)]
    return out


def section_texts(text: str, wanted: tuple[Section, ...], max_chars: int) -> dict[Section, list[str]]:
    """Each wanted section's own text, as `section_spans` cuts it."""
    return {s: [text[a:b] for a, b in cut] for s, cut in section_spans(text, wanted, max_chars).items()}


def request_key(section: Section, text: str, config: LLMConfig, prompts: PromptSet, mode: str) -> str:
    """Identical requests (text, prompt version, model, mode, schema) share one key and one answer."""
    schema = _schema_text(section, section_version(section, text), prompts.shape)
    material = json.dumps([text, prompts.version, config.model, mode, schema], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(material.encode()).hexdigest()


@cache
def _schema_text(section: Section, version: Version, shape: str) -> str:
    """The response schema as text: built once, keyed into every request of a bulk run."""
    return json.dumps(answer_model(section, version, shape).model_json_schema(), ensure_ascii=False, sort_keys=True)


def _cached(section: Section, entry: dict[str, Any], mode: str) -> SectionResult:
    table = Table.model_validate(entry["table"]) if entry["table"] else None
    findings = [Finding.model_validate(f) for f in entry["findings"]]
    return SectionResult(section, table, findings, [], mode)


def requests(text: str, wanted: tuple[Section, ...], max_chars: int, shape: str) -> list[list[Part]]:
    """The calls one report needs, each a list of parts.

    Per section (and chunk) one call, except in the "report" shape: there the sections that fit
    one cut (located, or a short text) share one call, and a section cut in chunks shares each
    chunk's call with the others cut the same way.
    """
    cuts = section_spans(text, wanted, max_chars)
    parts = {s: [Part(s, a, b, section_version(s, text[a:b])) for a, b in spans] for s, spans in cuts.items()}
    if shape != "report":
        return [[part] for section_parts in parts.values() for part in section_parts]
    whole = [ps[0] for ps in parts.values() if len(ps) == 1]
    chunked: dict[tuple[int, int], list[Part]] = {}
    for section_parts in parts.values():
        if len(section_parts) > 1:
            for part in section_parts:
                chunked.setdefault((part.start, part.end), []).append(part)
    return ([whole] if whole else []) + list(chunked.values())


def extract(
    text: str,
    config: LLMConfig,
    prompts: PromptSet,
    mode: str,
    wanted: tuple[Section, ...] = template.SECTIONS,
    cache: dict[str, dict[str, Any]] | None = None,
    breaker: endpoint.Breaker | None = None,
) -> LLMResult:
    """Ask the model for the wanted sections of one report; answers found in `cache` cost no call.

    A section whose call failed gets one finding saying why (the attempts are in the calls);
    once `breaker` is open, sections are not asked and are queued as "model unavailable".
    Where a section was asked in several chunks, the answer filling most cells is kept.
    """
    started = time.perf_counter()
    client = instructor.from_openai(config.openai_client(), mode=instructor.Mode[mode])
    out = LLMResult(Report(), [], [], mode, 0.0)
    ask = _Asking(text, client, config, prompts, mode, cache, breaker, out)
    best: dict[Section, SectionResult] = {}
    failed: dict[Section, list[Finding]] = {s: [] for s in wanted}
    for parts in requests(text, wanted, config.max_chars, prompts.shape):
        for result in ask.answer(parts, failed):
            if result.table is None:
                failed[result.section].extend(result.findings)
            elif result.section not in best or _filled(result.table) > _filled(best[result.section].table):
                best[result.section] = result
    for section in wanted:
        if section not in best:
            # One finding per section: why the model gave no table (the first failure names it).
            none = attempts.llm_finding(section, "no_table", f"the model returned no {section} table")
            out.findings.append(failed[section][0] if failed[section] else none)
            continue
        setattr(out.report, section, best[section].table)
        out.findings.extend(best[section].findings)
    out.report.align_versions()
    out.duration_ms = (time.perf_counter() - started) * 1000
    return out


@dataclass
class _Asking:
    """One report's requests: its text, the client and settings, and the result they add to."""

    text: str
    client: instructor.Instructor
    config: LLMConfig
    prompts: PromptSet
    mode: str
    cache: dict[str, dict[str, Any]] | None
    breaker: endpoint.Breaker | None
    out: LLMResult

    def answer(self, parts: list[Part], failed: dict[Section, list[Finding]]) -> list[SectionResult]:
        """One call's answers, each part from the cache or the model; a part not asked (budget
        spent, breaker open) gets no result and says why in `failed`."""
        config, out, breaker = self.config, self.out, self.breaker
        keys = {
            p.section: request_key(p.section, self.text[p.start : p.end], config, self.prompts, self.mode)
            for p in parts
        }
        results = []
        for part in parts:
            if self.cache and keys[part.section] in self.cache:
                results.append(_cached(part.section, self.cache[keys[part.section]], self.mode))
                out.cache_hits += 1
        asked = [p for p in parts if not (self.cache and keys[p.section] in self.cache)]
        if not asked:
            return results
        spent = out.usage["prompt_tokens"] + out.usage["completion_tokens"]
        refusal = None
        if spent >= config.token_budget:
            refusal = ("budget_exhausted", f"token budget {config.token_budget} spent")
        elif breaker is not None and breaker.open:
            refusal = ("model_unavailable", f"not asked: the last {breaker.failures} model requests failed")
        if refusal is not None:
            for part in asked:
                failed[part.section].append(attempts.llm_finding(part.section, *refusal))
            return results
        fresh, calls = extract_parts(
            self.client, config, self.prompts, self.text, asked, self.mode, config.token_budget - spent
        )
        out.calls.extend(calls)
        down = any(f.id.endswith(MODEL_FAILURES) for r in fresh for f in r.findings)
        if breaker is not None:
            breaker.record(down)
        if not down:
            for result in fresh:
                out.cache_entries[keys[result.section]] = {
                    "table": result.table.model_dump(mode="json") if result.table else None,
                    "findings": [f.model_dump(mode="json") for f in result.findings],
                }
        return results + fresh


# Findings of a section whose model call failed (not its answer): asked again by --retry-model-failures.
MODEL_FAILURES = ("llm.request_failed", "llm.model_unavailable")


def _filled(table: Table | None) -> int:
    if table is None:
        return -1
    return sum(cell.value is not None for cols in table.cells.values() for cell in cols.values())
