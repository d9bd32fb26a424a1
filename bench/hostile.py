"""Hostile files and careless runs, made by code here (none is shipped), with time and peak memory.

    python bench/hostile.py [--rounds 20]          # or: python bench/faults.py --only hostile,concurrent_runs

Each file is read by `ingest.read` in a child process of its own, so its peak resident memory
(ru_maxrss of that child) and wall time are its own. Every one must end as a failed document
naming the budget or reason, inside the bound (60 s and 1 GB by default). concurrent_runs
starts two `xxgk run`s on one store, `--rounds` times: neither may crash and every document
must be extracted exactly once.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from extraction.storage import store  # noqa: E402
from extraction.synth import generator  # noqa: E402

BOUND_S, BOUND_MB = 60.0, 1024.0
# The child's own peak is VmHWM (reset by exec; ru_maxrss would carry the parent's over the fork).
_READ = (
    "import re, sys; from pathlib import Path; from extraction import ingest; "
    "error = ingest.read(Path(sys.argv[1])).error; "
    "peak = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1); "
    "print(error, peak, sep='\\t')"
)


@dataclass
class Case:
    name: str
    made: str  # what the file is
    expect: str  # a phrase the failure must carry
    seconds: float = 0.0
    peak_mb: float = 0.0
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.expect in self.error and self.seconds <= BOUND_S and self.peak_mb <= BOUND_MB


def _zip_of(path: Path, member: str, chunk: bytes, total: int) -> None:
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open(member, "w", force_zip64=True) as handle,
    ):
        for _ in range(total // len(chunk)):
            handle.write(chunk)


def docx_bomb(path: Path) -> None:
    """A .docx whose document.xml inflates to 1 GB (about 1 MB on disk)."""
    _zip_of(path, "word/document.xml", b"\0" * (1 << 20), 1 << 30)


def docx_paragraphs(path: Path) -> None:
    """20 million empty paragraphs: a few hundred KB that python-docx would take minutes over."""
    _zip_of(path, "word/document.xml", b"<w:p/>" * 100_000, 6 * 20_000_000)


def pdf_huge_page(path: Path) -> None:
    """One blank 14400 x 14400 pt page (565 bytes): rendered for OCR it is 900 megapixels."""
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=(14400, 14400))
    pdf.showPage()
    pdf.save()


def pdf_many_pages(path: Path, pages: int = 150_000) -> None:
    """150,000 real (empty) page objects written by hand: listing them costs pdfplumber 39 s."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    kids = " ".join(f"{3 + i} 0 R" for i in range(pages)).encode()
    objects[1] = b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"] * pages
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj %s endobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % o for o in offsets))
    out.write(b"trailer << /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    path.write_bytes(out.getvalue())


def tiff_frames(path: Path) -> None:
    """30 frames of 13000 x 13000 (169 megapixels each), group 4: a few hundred KB."""
    from PIL import Image

    frame = Image.new("1", (13000, 13000), 1)
    frame.save(path, format="TIFF", save_all=True, append_images=[frame] * 29, compression="group4")


def html_spans(path: Path) -> None:
    """43 KB of rowspan=100 colspan=100 cells: 22 million places once laid out."""
    row = "<tr>" + '<td rowspan="100" colspan="100">1</td>' * 40 + "</tr>"
    path.write_text("<html><body><table>" + row * 28 + "</table></body></html>", encoding="utf-8")


def fifo(path: Path) -> None:
    os.mkfifo(path)


CASES: list[tuple[Case, Callable[[Path], None], str]] = [
    (Case("docx_bomb", "1 GB inflated .docx", "XXGK_MAX_INFLATED_MB"), docx_bomb, "bomb.docx"),
    (Case("docx_paragraphs", "20 M empty paragraphs", "XXGK_MAX_INFLATED_MB"), docx_paragraphs, "paras.docx"),
    (Case("pdf_huge_page", "one 14400 pt page", "pixel budget"), pdf_huge_page, "huge.pdf"),
    (Case("pdf_many_pages", "150,000 pages", "over the limit"), pdf_many_pages, "long.pdf"),
    (Case("tiff_frames", "30 x 169 MP frames", "pixel budget"), tiff_frames, "frames.tif"),
    (Case("html_spans", "rowspan=colspan=100", "XXGK_MAX_TABLE_CELLS"), html_spans, "spans.html"),
    (Case("fifo", "a FIFO named directly", "named pipe"), fifo, "pipe.txt"),
]


def measure(path: Path, case: Case) -> Case:
    """Read one file in a child process of its own; its wall time and its own peak RSS."""
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-c", _READ, str(path)], capture_output=True, text=True, cwd=ROOT, timeout=BOUND_S * 3
        )
        error, _, peak_kb = done.stdout.strip().rpartition("\t")
        case.error, case.peak_mb = error, float(peak_kb or 0) / 1024
    except subprocess.TimeoutExpired:
        case.error = f"still reading after {BOUND_S * 3:.0f} s: killed"
    case.seconds = time.perf_counter() - started
    return case


def hostile_files(folder: Path) -> list[Case]:
    folder.mkdir(parents=True, exist_ok=True)
    done = []
    for case, make, name in CASES:
        path = folder / name
        make(path)
        done.append(measure(path, case))
    return done


def concurrent_runs(folder: Path, rounds: int, documents: int = 40, seed: int = 1) -> tuple[int, int, int, float]:
    """(rounds without a crash, documents extracted exactly once, documents, seconds)."""
    inbox = folder / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    families = ("cell_per_line", "tab_rows", "html")
    for i, report in enumerate(generator.batch(rng.randint(1, 10**6), documents, families, error_rate=0.1)):
        (inbox / f"r{i:03d}{report.suffix}").write_text(report.text, encoding="utf-8")
    clean = once = 0
    started = time.perf_counter()
    for number in range(rounds):
        db_path = folder / f"round{number}.db"
        command = [sys.executable, "-m", "extraction.cli", "run", str(inbox), "--db", str(db_path)]
        runs = [
            subprocess.Popen([*command, "--extractor", "layout"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            for _ in "ab"
        ]
        errors = [r.communicate(timeout=300)[1].decode() for r in runs]
        clean += all(r.returncode == 0 for r in runs) and not any("Traceback" in e for e in errors)
        db = store.open_db(db_path)
        counts = dict(db.execute("select doc_id, count(*) from extractions group by doc_id").fetchall())
        once += sum(1 for d in store.documents(db) if counts.get(d["id"]) == 1)
    return clean, once, rounds * documents, time.perf_counter() - started


def show(cases: list[Case]) -> None:
    print(f"{'case':16} {'file':24} {'seconds':>8} {'peak MB':>8}  ok  reason")
    for c in cases:
        print(f"{c.name:16} {c.made:24} {c.seconds:8.1f} {c.peak_mb:8.0f}  {'yes' if c.ok else 'NO ':3} {c.error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cases = hostile_files(Path(tmp) / "files")
        show(cases)
        clean, once, documents, seconds = concurrent_runs(Path(tmp) / "runs", args.rounds)
    print(
        f"concurrent_runs: {clean}/{args.rounds} rounds without a crash, "
        f"{once}/{documents} extracted once, {seconds:.0f} s"
    )
    if not all(c.ok for c in cases) or clean != args.rounds or once != documents:
        sys.exit(1)


if __name__ == "__main__":
    main()
