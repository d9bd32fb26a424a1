"""The yardstick: real reports as users get them, read by the layout parser, file by file.

    python bench/real.py [--shared ../shared] [--repeat 20] [--only NAME]

Reads every file of `shared/corpus/texts`, `shared/corpus/files`, `shared/realfiles` (text and
PDF) and `shared/seeds` through the whole pipeline (ingest, layout parser, checks) in a fresh
store, and prints per file: status, exact or not (against the corpus gold, or the bundled gold
for the seeds; "-" where no gold exists), wrong cells, wrong cells that no blocking finding
names, ambiguous cells (named by a finding), and milliseconds per read (parse + checks, the
median of `--repeat` runs, in CPU time: one core, whatever else the machine runs). Then totals:
exact, accepted, accepted wrong (must be 0), and real text reports per second on one core (the
crawled and converted corpus texts, and every text file).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extraction import checks, pipeline  # noqa: E402
from extraction.model import cascade  # noqa: E402
from extraction.model.cascade import Settings  # noqa: E402
from extraction.read import ingest  # noqa: E402
from extraction.scoring import evaluation  # noqa: E402
from extraction.storage import store  # noqa: E402


def files(shared: Path) -> list[Path]:
    out: list[Path] = []
    for folder, pattern in (
        ("corpus/texts", "*.txt"),
        ("corpus/files", "*"),
        ("realfiles", "*.txt"),
        ("realfiles", "*.pdf"),
        ("seeds", "*.txt"),
    ):
        out += sorted((shared / folder).glob(pattern))
    return out


def golds(shared: Path) -> dict[str, evaluation.Gold]:
    """Gold by source file name: the corpus's own, the bundled gold of the seeds and of the real PDFs
    (and their pdftotext texts)."""
    out: dict[str, evaluation.Gold] = {}
    for folder in (shared / "corpus" / "gold", ROOT / "data" / "gold", ROOT / "data" / "gold" / "realfiles"):
        if folder.is_dir():
            for gold in evaluation.load_gold_dir(folder):
                out[Path(gold.source).name] = gold
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--only", default=None)
    args = parser.parse_args()
    pipeline.tune_for_batch()
    gold_by_name = golds(args.shared)
    settings = Settings()
    rows = []
    text_seconds = corpus_seconds = 0.0
    texts = corpus_texts = 0
    with tempfile.TemporaryDirectory() as tmp:
        db = store.open_db(Path(tmp) / "real.db")
        for path in files(args.shared):
            if args.only and args.only not in path.name:
                continue
            doc = ingest.read(path)
            store.add_document(db, doc)
            outcome = pipeline.extract_document(db, doc.id, settings)
            extraction = store.current_extraction(db, doc.id)
            report = store.report_of(extraction) if extraction else None
            findings = store.findings(db, extraction["id"]) if extraction else []
            gold = gold_by_name.get(path.name)
            exact = wrong = unnamed = 0
            if gold is not None:
                scored = evaluation.score(gold, report, findings, outcome.status, {}, doc.text or "")
                exact = scored.exact
                wrong = len(scored.wrong)
                unnamed = sum(1 for w in scored.wrong if not w.caught_by)
            ambiguous = len(
                {tuple(c) for f in findings if f.blocks_acceptance and "ambiguous" in f.id for c in f.cells}
            )
            times = []
            if doc.text:
                for _ in range(args.repeat):
                    started = time.process_time()
                    parsed = cascade.extract(doc.text, settings).extraction
                    checks.run(parsed.report, prose=pipeline.prose(doc.text))
                    times.append(time.process_time() - started)
            ms = statistics.median(times) * 1000 if times else 0.0
            if path.suffix == ".txt" and times:
                text_seconds += ms / 1000
                texts += 1
                if path.parent.name == "texts":
                    corpus_seconds += ms / 1000
                    corpus_texts += 1
            rows.append(
                {
                    "file": f"{path.parent.name}/{path.name}",
                    "status": outcome.status,
                    "exact": "-" if gold is None else ("yes" if exact else "no"),
                    "wrong": wrong if gold else "-",
                    "unnamed": unnamed if gold else "-",
                    "ambiguous": ambiguous,
                    "ms": round(ms, 1),
                    "accepted_wrong": bool(gold and outcome.status == "accepted" and not exact),
                    "why": pipeline.reasons([f for f in findings if f.blocks_acceptance])[:70],
                }
            )
    print("| file | status | exact | wrong cells | not named | ambiguous cells | ms | why queued |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['file']} | {r['status']} | {r['exact']} | {r['wrong']} | {r['unnamed']} | {r['ambiguous']} "
            f"| {r['ms']} | {r['why']} |"
        )
    scored = [r for r in rows if r["exact"] != "-"]
    print()
    print(
        json.dumps(
            {
                "files": len(rows),
                "with_gold": len(scored),
                "exact": sum(r["exact"] == "yes" for r in scored),
                "accepted": sum(r["status"] == "accepted" for r in rows),
                "accepted_wrong": sum(r["accepted_wrong"] for r in rows),
                "wrong_cells_not_named": sum(r["unnamed"] for r in scored),
                "corpus_texts_per_second_one_core": round(corpus_texts / corpus_seconds, 1) if corpus_seconds else None,
                "text_reports_per_second_one_core": round(texts / text_seconds, 1) if text_seconds else None,
                "slowest_ms": max((r["ms"] for r in rows), default=0),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
