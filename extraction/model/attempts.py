"""What one model call left behind: the HTTP requests instructor made (recorded through its
hooks), and, when it gave up, the last answer that still parses and one short finding saying why.

instructor's own error carries every attempt as XML; a reviewer reads one line per section, and
the raw attempts stay in the stored calls.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import instructor
import openai
from pydantic import BaseModel
from tenacity.stop import stop_base

from extraction.schema import Finding
from extraction.template import Section


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
class SameFailure(stop_base):
    """Stop re-asking when an attempt fails exactly like the one before it."""

    seen: list[str] = field(default_factory=list)

    def __call__(self, retry_state: Any) -> bool:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None and outcome.failed else None
        if error is None:
            return False
        text = failure_text(error)
        repeated = bool(self.seen) and self.seen[-1] == text
        self.seen.append(text)
        return repeated


def failure_text(error: BaseException) -> str:
    """The identity part of a validation error, without pydantic's per-call decoration."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip().startswith("-")]
    return "\n".join(lines) or str(error)


def recorded_calls(client: instructor.Instructor, section: Section) -> list[Call]:
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


def api_error(error: BaseException) -> openai.APIError | None:
    """The HTTP failure behind an exception, once the openai client's own retries gave up."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, openai.APIError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def last_parseable(calls: list[Call], model: type[BaseModel], mode: str) -> BaseModel | None:
    """The latest completion that parses, read without the identities: the numbers as the model read them."""
    for call in reversed(calls):
        raw = output_text(call.completion, mode)
        if raw is None:
            continue
        try:
            return model.model_validate_json(raw, context={"check": False})
        except ValueError:
            continue
    return None


_FENCE = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.S)


def output_text(completion: str | None, mode: str) -> str | None:
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


def short(error: object, limit: int = 200) -> str:
    """One line of an error: the first line, cut (a finding is read in a list, not a log)."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def llm_finding(section: Section, kind: str, message: str) -> Finding:
    return Finding.blocking(f"{section}.llm.{kind}", "the model returns a table that satisfies the identities", message)
