"""Scans of real layouts: the real PDFs rendered as image-only PDFs, read by OCR, cell by cell.

    python bench/scans.py [--shared ../shared] [--dpi 150] [--worn] [--jpeg 30] [--only 001]
    python bench/scans.py --all     # 150 and 200 dpi, clean and worn, and JPEG-compressed (6 variants)

Each PDF of `shared/realfiles` is rendered page by page (pdfplumber, at --dpi) and saved as an
image-only PDF, as a scanner or a "图片版" upload gives it; with --worn every page is also tilted
by ±0.8° (alternating) and blurred (Gaussian, radius 0.6), as a worn photocopy. Pillow stores a
grey page in a PDF as JPEG, at its default quality 75 unless --jpeg gives another (30: the
blocky, ringing copies phones and upload portals make). The scan goes
through the whole pipeline (ingest with OCR, layout parser, checks) in a fresh store, and its
tables are compared cell by cell with the same file read from its text layer (the reference:
the text PDFs read exactly). Per file: exact or not, wrong cells, status, accepted wrong (must
be 0), seconds per page of ingest (OCR) on this machine, wall clock and CPU (all threads: on a
machine shared with others the CPU time is the comparable figure, and with --threads 1 it is the
work itself, without onnxruntime's idle threads spinning for a core).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extraction import pipeline  # noqa: E402
from extraction.read import ingest  # noqa: E402
from extraction.storage import store  # noqa: E402

SECTIONS = ("proactive", "applications", "review_litigation")


def scan_of(pdf: Path, dpi: int, worn: bool, jpeg: int = 75) -> bytes:
    """The PDF as a copier would give it back: one image per page, no text layer."""
    import pdfplumber
    from PIL import ImageFilter

    images = []
    with pdfplumber.open(pdf) as doc:
        for number, page in enumerate(doc.pages):
            image = page.to_image(resolution=dpi).original.convert("L")
            if worn:
                angle = 0.8 if number % 2 == 0 else -0.8
                image = image.rotate(angle, expand=False, fillcolor=255, resample=3)
                image = image.filter(ImageFilter.GaussianBlur(0.6))
            images.append(image)
    out = io.BytesIO()
    images[0].save(out, format="PDF", save_all=True, append_images=images[1:], resolution=dpi, quality=jpeg)
    return out.getvalue()


def tables(db, doc_id: str) -> dict[str, dict]:
    extraction = store.current_extraction(db, doc_id)
    report = store.report_of(extraction) if extraction else None
    out = {}
    for section in SECTIONS:
        table = report.table(section) if report else None
        out[section] = table.values() if table else {}
    return out


def blocking(db, doc_id: str) -> list[str]:
    """What keeps a scan from being accepted: the ids of its blocking findings."""
    extraction = store.current_extraction(db, doc_id)
    found = store.findings(db, extraction["id"]) if extraction else []
    return [f.id for f in found if f.blocks_acceptance]


def wrong_cells(got: dict[str, dict], want: dict[str, dict]) -> list[str]:
    wrong = []
    for section, rows in want.items():
        for row, cols in rows.items():
            for col, value in cols.items():
                read = got[section].get(row, {}).get(col, "missing")
                if read != value:
                    wrong.append(f"{section}.{row}.{col}: {read!r} for {value!r}")
    return wrong


# The variants --all runs: (dpi, worn, JPEG quality).
VARIANTS = ((150, False, 75), (150, True, 75), (200, False, 75), (200, True, 75), (150, False, 30), (150, True, 30))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--dpi", type=int, default=150)
    parser.add_argument("--worn", action="store_true")
    parser.add_argument("--jpeg", type=int, default=75, help="JPEG quality of the page images (Pillow's default: 75)")
    parser.add_argument("--all", action="store_true", help="every variant of VARIANTS, and a summary")
    parser.add_argument("--only", default=None)
    parser.add_argument(
        "--threads", type=int, default=None, help="onnxruntime threads (XXGK_OCR_THREADS); 1 on a shared machine"
    )
    args = parser.parse_args()
    if args.threads is not None:
        os.environ["XXGK_OCR_THREADS"] = str(args.threads)
    variants = VARIANTS if args.all else ((args.dpi, args.worn, args.jpeg),)
    summary = [run(args.shared, dpi, worn, jpeg, args.only) for dpi, worn, jpeg in variants]
    if len(summary) > 1:
        print("\n| variant | scans | exact | wrong cells | accepted | accepted wrong | s/page | CPU s/page |")
        print("|---|---|---|---|---|---|---|---|")
        for line in summary:
            print(line)


def _name(dpi: int, worn: bool, jpeg: int) -> str:
    return f"{dpi} dpi {'worn' if worn else 'clean'}{'' if jpeg == 75 else f' JPEG q{jpeg}'}"


def run(shared: Path, dpi: int, worn: bool, jpeg: int, only: str | None) -> str:
    """One variant: its table printed, its summary row returned."""
    name = _name(dpi, worn, jpeg)
    totals = dict.fromkeys(("files", "exact", "wrong", "accepted", "accepted_wrong", "pages"), 0)
    totals |= {"seconds": 0.0, "cpu": 0.0}
    print(f"\n## {name}\n")
    print("| scan | pages | s/page | CPU s/page | status | exact | wrong cells | accepted wrong |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = store.open_db(folder / "scans.db")
        for pdf in sorted((shared / "realfiles").glob("*.pdf")):
            if only and only not in pdf.name:
                continue
            reference = ingest.read(pdf)
            store.add_document(db, reference)
            pipeline.extract_document(db, reference.id)
            want = tables(db, reference.id)
            path = folder / f"scan_{pdf.name}"
            path.write_bytes(scan_of(pdf, dpi, worn, jpeg))
            started, cpu_started = time.perf_counter(), time.process_time()
            doc = ingest.read(path)
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
            store.add_document(db, doc)
            outcome = pipeline.extract_document(db, doc.id)
            wrong = wrong_cells(tables(db, doc.id), want)
            accepted = outcome.status == "accepted"
            bad = accepted and bool(wrong)
            totals["files"] += 1
            totals["exact"] += not wrong
            totals["wrong"] += len(wrong)
            totals["accepted"] += accepted
            totals["accepted_wrong"] += bad
            totals["pages"] += doc.pages
            totals["seconds"] += seconds
            totals["cpu"] += cpu
            print(
                f"| {pdf.stem} | {doc.pages} | {seconds / max(doc.pages, 1):.1f} "
                f"| {cpu / max(doc.pages, 1):.1f} "
                f"| {outcome.status} | {'yes' if not wrong else 'no'} | {len(wrong)} | {int(bad)} |",
                flush=True,
            )
            for w in wrong:
                print(f"    {w}", flush=True)
            if not accepted:
                print(f"    blocking: {', '.join(blocking(db, doc.id)) or '-'}", flush=True)
    pages = max(totals["pages"], 1)
    print(
        f"\n{totals['files']} scans, {totals['pages']} pages: exact {totals['exact']}, wrong cells {totals['wrong']}, "
        f"accepted {totals['accepted']}, accepted wrong {totals['accepted_wrong']}, "
        f"{totals['seconds'] / pages:.1f} s per page ({totals['seconds']:.0f} s), "
        f"CPU {totals['cpu'] / pages:.1f} s per page (all threads)",
        flush=True,
    )
    return (
        f"| {name} | {totals['files']} | {totals['exact']} | {totals['wrong']} | {totals['accepted']} "
        f"| {totals['accepted_wrong']} | {totals['seconds'] / pages:.1f} | {totals['cpu'] / pages:.1f} |"
    )


if __name__ == "__main__":
    main()
