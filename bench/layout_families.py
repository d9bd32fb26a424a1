"""The layout parser on generated reports, per layout family, and on data/samples.

    python bench/layout_families.py [--reports 2000] [--seed 1] [--families cell_per_line,html,...]
                                    [--split-blanks] [--losses]

Reports are spread evenly over the families the generator renders, 10% with a printed source
error. Per family: exact-table rate, cell accuracy, accepted-but-wrong (must be 0), queue rate
and reports per second (parse + checks, one core).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extraction import checks, pipeline  # noqa: E402
from extraction.scoring import evaluation  # noqa: E402
from extraction.synth import generator  # noqa: E402
from extraction.tables import layout  # noqa: E402


def run(reports: list[tuple[str, str, dict]]) -> dict[str, dict[str, float]]:
    """reports: (family, text, gold values). Returns the figures per family."""
    by_family: dict[str, list[evaluation.DocScore]] = {}
    seconds: dict[str, float] = {}
    for family, text, values in reports:
        started = time.perf_counter()
        extraction = layout.parse(text)
        findings = extraction.findings + checks.run(extraction.report)
        seconds[family] = seconds.get(family, 0.0) + time.perf_counter() - started
        gold = evaluation.Gold("", "", {s: values[s] for s in ("proactive", "applications", "review_litigation")}, "")
        status = "accepted" if checks.accepted(findings) else "queued"
        by_family.setdefault(family, []).append(evaluation.score(gold, extraction.report, findings, status, {}))
    out = {}
    for family, scores in by_family.items():
        m = evaluation.metrics(scores)
        out[family] = {
            "reports": len(scores),
            "exact_tables": m["exact_table_rate"],
            "cell_accuracy": m["accuracy"],
            "accepted_but_wrong": m["accepted_but_wrong"],
            "queue_rate": m["queue_rate"],
            "per_second": len(scores) / seconds[family],
            "cells": m["cells"],
            "right": m["accuracy"] * m["cells"],
        }
    return out


def show(title: str, figures: dict[str, dict[str, float]]) -> None:
    print(title)
    head = ("reports", "exact tables", "cell accuracy", "accepted wrong", "queued", "reports/s")
    print(f"  {'family':17} " + " ".join(f"{h:>{w}}" for h, w in zip(head, (7, 12, 13, 14, 7, 9), strict=True)))
    for family, f in figures.items():
        print(
            f"  {family:17} {f['reports']:7d} {f['exact_tables']:12.2%} {f['cell_accuracy']:13.4%} "
            f"{f['accepted_but_wrong']:14d} {f['queue_rate']:7.1%} {f['per_second']:9.0f}"
        )
    cells = sum(f["cells"] for f in figures.values())
    right = sum(f["right"] for f in figures.values())
    reports = sum(f["reports"] for f in figures.values())
    seconds = sum(f["reports"] / f["per_second"] for f in figures.values())
    print(f"  overall cell accuracy {right / cells:.4%} over {int(cells)} cells; {reports / seconds:.0f} reports/s")


def losses(reports: list[generator.Generated]) -> None:
    """Where the wrong cells are, per family, by what the kept reading of their table shows: it
    satisfies every identity (several readings balance, the text cannot choose), it fails one
    (the search stopped first, or nothing balances), or the report prints a source error."""
    wrong: dict[tuple[str, str], list[int]] = {}
    for report in reports:
        extraction = layout.parse(report.readable())
        failing = {f.id.split(".")[0] for f in checks.run(extraction.report) if f.blocks_acceptance}
        for section in ("proactive", "applications", "review_litigation"):
            table = extraction.report.table(section)
            read = table.values() if table else {}
            cells = [
                (row, column)
                for row, columns in report.values[section].items()
                for column, value in columns.items()
                if read.get(row, {}).get(column, "missing") != value
            ]
            if not cells:
                continue
            why = (
                "source error printed"
                if report.errors
                else "kept reading fails an identity"
                if section in failing
                else "several readings balance"
            )
            tally = wrong.setdefault((report.family, why), [0, 0])
            tally[0] += 1
            tally[1] += len(cells)
    print("wrong cells by cause")
    for (family, why), (tables, cells) in sorted(wrong.items()):
        print(f"  {family:17} {why:31} {tables:5d} tables {cells:7d} cells")
    print(f"  all {sum(c for _, c in wrong.values())} cells")


def _prints_blanks(report: generator.Generated) -> bool:
    tables = (report.values["applications"], report.values["review_litigation"])
    return any(value is None for table in tables for row in table.values() for value in row.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--families",
        default=",".join(generator.FAMILIES),
        help="comma-separated; default: every family the generator renders",
    )
    parser.add_argument(
        "--split-blanks",
        action="store_true",
        help="also show reports that print blank cells apart from those that print every cell",
    )
    parser.add_argument("--losses", action="store_true", help="also count the wrong cells by cause")
    args = parser.parse_args()
    pipeline.tune_for_batch()  # as `xxgk` runs
    generated = generator.batch(args.seed, args.reports, tuple(args.families.split(",")))
    # The generated reports stay in memory for scoring, which a real run never holds: kept out of
    # the garbage collector's sweeps, they do not slow the parsing being timed.
    gc.collect()
    gc.freeze()
    show(
        f"generated ({args.reports}, seed {args.seed}, 10% with a source error)",
        run([(g.family, g.readable(), g.values) for g in generated]),
    )
    if args.split_blanks:
        # A PDF or web page prints nothing for a blank cell: where one stood leaves no trace.
        for title, wanted in (("reports printing blank cells", True), ("reports printing every cell", False)):
            part = [g for g in generated if _prints_blanks(g) == wanted]
            show(title, run([(g.family, g.readable(), g.values) for g in part]))
    if args.losses:
        losses(generated)
    gold = {Path(g.source).name: g.tables for g in evaluation.load_gold_dir(ROOT / "data" / "gold")}
    samples = []
    for path in sorted((ROOT / "data" / "samples").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        family = layout.parse(text).layouts.get("applications", "unread")  # as the parser detected it
        samples.append((family, text, gold[path.name]))
    show("data/samples", run(samples))


if __name__ == "__main__":
    main()
