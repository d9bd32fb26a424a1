"""The language-model extractor: one narrow call per section through instructor, checked by the identities.

Each section is sent alone with its own response model (`shapes`) whose fields are the template's
row keys (extra keys forbidden), so a model cannot invent a row. The hard identities run as a
validator on that model: when they fail, instructor sends the model a short Chinese message
naming the failing row or column, both sides and the difference, and asks again. Re-asks stop
after `reasks`, when the token budget is spent, or as soon as the same failure repeats: a model
that insists on the same numbers may be reading a source that is itself inconsistent, and the
result is queued as such instead of being forced to balance.

HTTP failures (429 with Retry-After, 5xx, timeouts) are retried by the openai client itself with
exponential backoff and jitter; what still fails becomes a finding, never a crash.
"""

from __future__ import annotations

import hashlib
import json
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
from tenacity.stop import stop_base

from extraction import template
from extraction.model import endpoint, grounding
from extraction.model import prompts as prompt_files
from extraction.model.prompts import PromptSet
from extraction.model.shapes import answer_model as answer_model  # bench/llm_shapes.py reads it here
from extraction.model.shapes import to_table
from extraction.schema import Finding, Report, Table
from extraction.tables import sections
from extraction.template import Section, Version

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
class Call:
    """One HTTP request to the model and what came back."""

    section: str
    attempt: int
    messages: list[dict[str, Any]]
    completion: str | None = None  # the raw completion JSON
    usage: dict[str, int] = field(default_factory=dict)
    error: str | None = None


@dataclass
class SectionResult:
    section: Section
    table: Table | None
    findings: list[Finding]
    calls: list[Call]
    mode: str


@dataclass
class _SameFailure(stop_base):
    """Stop re-asking when an attempt fails exactly like the one before it."""

    seen: list[str] = field(default_factory=list)

    def __call__(self, retry_state: Any) -> bool:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None and outcome.failed else None
        if error is None:
            return False
        text = _failure_text(error)
        repeated = bool(self.seen) and self.seen[-1] == text
        self.seen.append(text)
        return repeated


def _failure_text(error: BaseException) -> str:
    """The identity part of a validation error, without pydantic's per-call decoration."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip().startswith("-")]
    return "\n".join(lines) or str(error)


def section_version(section: Section, text: str) -> Version:
    if section == "applications":
        split = ("逾期不补正", "缴纳费用", "收费通知")
        return "2021" if any(word in template.compact(text) for word in split) else "2019"
    if section == "proactive":
        return template.proactive_version(text) or "2019"
    return "2021"


def extract_section(
    client: instructor.Instructor,
    config: LLMConfig,
    prompts: PromptSet,
    section: Section,
    text: str,
    mode: str,
    budget: int,
    where: tuple[str, int, int] | None = None,
) -> SectionResult:
    """Ask the model for one section's table, re-asking on identity failures.

    `where` is the document and the span `text` was cut from: the answer is grounded there,
    row by row (the whole `text` when not given).
    """
    version = section_version(section, text)
    model = answer_model(section, version, prompts.shape)
    hints = _outline(section, version) if prompts.shape == "rows" else _rows(section, version)
    messages = [
        {"role": "system", "content": prompts.render("system")},
        {"role": "user", "content": prompts.render(section, version=version, text=text, **hints)},
    ]
    calls = _recorded_calls(client, section)
    same = _SameFailure()
    retrying = Retrying(
        stop=stop_after_attempt(config.reasks + 1) | same,
        retry=retry_if_exception_type(_PARSE_ERRORS),
        reraise=True,
    )
    findings: list[Finding] = []
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
        answer, findings = _after_failure(exc, section, calls, model, mode, same)
    finally:
        for event in ("completion:kwargs", "completion:response", "completion:error"):
            client.clear(event)
    if answer is None:
        return SectionResult(section, None, findings, calls, mode)
    table, doubts = to_table(answer)
    source, start, end = where or (text, 0, len(text))
    guards = grounding.grounding(table, source, start, end) + grounding.coverage(table, source, start, end)
    return SectionResult(section, table, findings + doubts + guards, calls, mode)


def _recorded_calls(client: instructor.Instructor, section: Section) -> list[Call]:
    """The calls instructor makes for one section, filled in as its hooks report them."""
    calls: list[Call] = []

    def on_kwargs(*args: Any, **kwargs: Any) -> None:
        calls.append(Call(section, len(calls) + 1, [dict(m) for m in kwargs.get("messages", [])]))

    def on_response(response: Any) -> None:
        calls[-1].completion = response.model_dump_json() if hasattr(response, "model_dump_json") else str(response)
        usage = getattr(response, "usage", None)
        if usage is not None:
            calls[-1].usage = {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens}

    def on_error(error: Exception, **_: Any) -> None:
        calls[-1].error = f"{type(error).__name__}: {error}"

    client.on("completion:kwargs", on_kwargs)
    client.on("completion:response", on_response)
    client.on("completion:error", on_error)
    return calls


def _after_failure(
    exc: Exception, section: Section, calls: list[Call], model: type[BaseModel], mode: str, same: _SameFailure
) -> tuple[BaseModel | None, list[Finding]]:
    """What is left when instructor gave up: the last answer that parses, if any, and why it failed.

    A failed request keeps no answer (its section gets no table).
    """
    api_error = _api_error(exc)
    if api_error is not None:
        return None, [_llm_finding(section, "request_failed", f"the model endpoint failed: {_short(api_error)}")]
    answer = _last_parseable(calls, model, mode)
    repeated = len(same.seen) >= 2 and same.seen[-1] == same.seen[-2]
    if answer is None:
        # instructor's message carries every attempt as XML; the attempts are in the calls.
        last = next((c.error for c in reversed(calls) if c.error), None) or type(exc).__name__
        message = f"no usable answer after {len(calls)} calls (last: {_short(last)})"
        return None, [_llm_finding(section, "unparseable", message)]
    if repeated:
        message = (
            "the model gave the same numbers again after being shown the failing identities; "
            "the printed table may itself be inconsistent"
        )
        return answer, [_llm_finding(section, "possibly_inconsistent_source", message)]
    return answer, [_llm_finding(section, "reasks_exhausted", f"identities still fail after {len(calls)} calls")]


def _rows(section: Section, version: Version) -> dict[str, str]:
    """The row list a section's prompt names: keys with their printed labels (and columns for 二)."""
    spec = template.spec(section, version)
    if section == "proactive":
        lines = [f"- {r.key}（{r.label}）：{'、'.join(c.label for c in r.columns)}" for r in spec.rows]
        return {"columns": "\n".join(lines)}
    return {"rows": "\n".join(f"- {r.key}：{r.label}" for r in spec.rows)}


_ENUMERATION = re.compile(r"[一二三四]、|（[一二三四五六七]）|\d+\.")


def _outline(section: Section, version: Version) -> dict[str, str]:
    """What a "rows" prompt says of the template: section 三's rows by their printed numbering
    (一 二 三（一）…（三）1 2 … 四), section 二's rows with their cell counts. The labels themselves
    are printed in the text beside the numbers; this says which rows the answer holds, in order."""
    spec = template.spec(section, version)
    if section == "proactive":
        return {"cells": "、".join(f"{r.label}{len(r.columns)}格" for r in spec.rows)}
    if section == "applications":
        marks = ["".join(_ENUMERATION.findall(r.label)).rstrip(".") or r.label for r in spec.rows]
        return {"rows": " ".join(marks), "count": str(len(spec.rows))}
    return {}


def _api_error(error: BaseException) -> openai.APIError | None:
    """The HTTP failure behind an exception, once the openai client's own retries gave up."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, openai.APIError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _last_parseable(calls: list[Call], model: type[BaseModel], mode: str) -> BaseModel | None:
    """The latest completion that parses, read without the identities: the numbers as the model read them."""
    for call in reversed(calls):
        raw = _output_text(call.completion, mode)
        if raw is None:
            continue
        try:
            return model.model_validate_json(raw, context={"check": False})
        except ValueError:
            continue
    return None


_FENCE = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.S)


def _output_text(completion: str | None, mode: str) -> str | None:
    if not completion:
        return None
    try:
        message = json.loads(completion)["choices"][0]["message"]
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    if message.get("tool_calls"):
        return message["tool_calls"][0]["function"]["arguments"]
    content = message.get("content") or ""
    fenced = _FENCE.search(content)
    return fenced.group(1) if fenced else content


def _short(error: object, limit: int = 200) -> str:
    """One line of an error: the first line, cut (a finding is read in a list, not a log)."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _llm_finding(section: Section, kind: str, message: str) -> Finding:
    return Finding.blocking(f"{section}.llm.{kind}", "the model returns a table that satisfies the identities", message)


# --- A whole report --------------------------------------------------------------------------


@dataclass
class LLMResult:
    report: Report
    findings: list[Finding]
    calls: list[Call]
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
    """
    started = time.perf_counter()
    client = instructor.from_openai(config.openai_client(), mode=instructor.Mode[mode])
    out = LLMResult(Report(), [], [], mode, 0.0)
    ask = _Asking(text, client, config, prompts, mode, cache, breaker, out)
    for section, cuts in section_spans(text, wanted, config.max_chars).items():
        best, failed = ask.best(section, cuts)
        if best is None:
            # One finding per section: why the model gave no table (the first failure names it).
            out.findings.append(
                failed[0] if failed else _llm_finding(section, "no_table", f"the model returned no {section} table")
            )
            continue
        setattr(out.report, section, best.table)
        out.findings.extend(best.findings)
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

    def best(self, section: Section, cuts: list[tuple[int, int]]) -> tuple[SectionResult | None, list[Finding]]:
        """The answer filling most cells over a section's cuts, and the failures of the others."""
        best: SectionResult | None = None
        failed: list[Finding] = []
        for start, end in cuts:
            result = self.answer(section, start, end, failed)
            if result is None:
                break
            if result.table is None:
                failed.extend(result.findings)
            elif best is None or _filled(result.table) > _filled(best.table):
                best = result
        return best, failed

    def answer(self, section: Section, start: int, end: int, failed: list[Finding]) -> SectionResult | None:
        """One cut's answer, from the cache or the model; None (with why in `failed`) when not asked."""
        config, out, breaker = self.config, self.out, self.breaker
        chunk = self.text[start:end]
        key = request_key(section, chunk, config, self.prompts, self.mode)
        if self.cache and key in self.cache:
            result = _cached(section, self.cache[key], self.mode)
            out.cache_hits += 1
            return result
        spent = out.usage["prompt_tokens"] + out.usage["completion_tokens"]
        if spent >= config.token_budget:
            failed.append(_llm_finding(section, "budget_exhausted", f"token budget {config.token_budget} spent"))
            return None
        if breaker is not None and breaker.open:
            message = f"not asked: the last {breaker.failures} model requests failed"
            failed.append(_llm_finding(section, "model_unavailable", message))
            return None
        where = (self.text, start, end)
        result = extract_section(
            self.client, config, self.prompts, section, chunk, self.mode, config.token_budget - spent, where
        )
        out.calls.extend(result.calls)
        down = any(f.id.endswith(MODEL_FAILURES) for f in result.findings)
        if breaker is not None:
            breaker.record(down)
        if not down:
            out.cache_entries[key] = {
                "table": result.table.model_dump(mode="json") if result.table else None,
                "findings": [f.model_dump(mode="json") for f in result.findings],
            }
        return result


# Findings of a section whose model call failed (not its answer): asked again by --retry-model-failures.
MODEL_FAILURES = ("llm.request_failed", "llm.model_unavailable")


def _filled(table: Table | None) -> int:
    if table is None:
        return -1
    return sum(cell.value is not None for cols in table.cells.values() for cell in cols.values())
