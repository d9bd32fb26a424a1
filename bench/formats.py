"""Reading files per format: pages per second, and accuracy of what was read, on generated reports.

    python bench/formats.py [--reports 10] [--scans 10] [--seed 1] [--formats html,docx,pdf,png,scan_pdf]

Each generated report (10% with a printed source error) is written as a web page, a Word file,
a text PDF, a long PNG scan and an image-only PDF scan, then run through the whole pipeline
(ingest, layout parser, checks) in a fresh store. Per format: pages read per second (ingest
only, one process), cell accuracy against the generator's gold, exact reports, queue rate, and
accepted-but-wrong (must be 0). For scans the accuracy is the OCR accuracy, and the queue
rate shows how often OCR doubts (second readings that differ, low confidence) stop a report.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extraction import pipeline  # noqa: E402
from extraction.read import ingest  # noqa: E402
from extraction.storage import store  # noqa: E402
from extraction.synth import generator, render  # noqa: E402

SECTIONS = ("proactive", "applications", "review_litigation")
WRITERS = {
    "html": (".html", lambda g, seed: g.text.encode()),
    "docx": (".docx", lambda g, seed: render.docx_bytes(g.text)),
    "pdf": (".pdf", lambda g, seed: render.pdf_bytes(g.text)),
    "png": (".png", lambda g, seed: render.png_bytes(render.long_image(render.scan_images(g.text, seed=seed)))),
    "scan_pdf": (".pdf", lambda g, seed: render.scan_pdf_bytes(render.scan_images(g.text, seed=seed))),
}
SCANS = {"png", "scan_pdf"}


def measure(fmt: str, reports: list[generator.Generated], folder: Path) -> dict[str, float]:
    suffix, write = WRITERS[fmt]
    paths = []
    for i, report in enumerate(reports):
        path = folder / f"{fmt}_{i}{suffix}"
        path.write_bytes(write(report, i))
        paths.append(path)
    started = time.perf_counter()
    docs = [ingest.read(p) for p in paths]
    reading = time.perf_counter() - started
    pages = sum(max(d.pages, 1) for d in docs)
    db = store.open_db(folder / f"{fmt}.db")
    for doc in docs:
        store.add_document(db, doc)
    pipeline.extract_documents(db, [d.id for d in docs])
    cells = right = exact = queued = accepted_wrong = 0
    for doc, gold in zip(docs, reports, strict=True):
        row = store.document(db, doc.id)
        extraction = store.current_extraction(db, doc.id)
        got = store.report_of(extraction) if extraction else None
        wrong = 0
        for section in SECTIONS:
            table = got.table(section) if got else None
            values = table.values() if table else {}
            for r, cols in gold.values[section].items():
                for c, value in cols.items():
                    cells += 1
                    ok = values.get(r, {}).get(c, "missing") == value
                    right += ok
                    wrong += not ok
        exact += wrong == 0
        queued += row["status"] != "accepted"
        accepted_wrong += row["status"] == "accepted" and (wrong > 0 or bool(gold.errors))
    return {
        "reports": len(reports),
        "pages": pages,
        "pages_per_s": pages / reading,
        "cell_accuracy": right / cells,
        "exact": exact / len(reports),
        "queued": queued / len(reports),
        "accepted_wrong": accepted_wrong,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=10, help="reports per text format")
    parser.add_argument("--scans", type=int, default=10, help="reports per scan format (OCR: seconds each)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--formats", default=",".join(WRITERS))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(
        f"{'format':9} {'reports':>7} {'pages':>6} {'pages/s':>8} {'cells right':>11} {'exact':>6} "
        f"{'queued':>6} {'accepted wrong':>14}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in args.formats.split(","):
            count = args.scans if fmt in SCANS else args.reports
            errors = [rng.random() < 0.1 for _ in range(count)]
            reports = [
                generator.generate(random.Random(rng.random()), "html", error="wrong_total" if e else None)
                for e in errors
            ]
            f = measure(fmt, reports, Path(tmp))
            print(
                f"{fmt:9} {f['reports']:7d} {f['pages']:6d} {f['pages_per_s']:8.2f} {f['cell_accuracy']:11.3%} "
                f"{f['exact']:6.0%} {f['queued']:6.0%} {f['accepted_wrong']:14d}",
                flush=True,
            )


if __name__ == "__main__":
    main()
