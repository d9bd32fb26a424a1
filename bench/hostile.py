"""Hostile files and careless runs, made by code here (none is shipped), with time and peak memory.

    python bench/hostile.py [--rounds 20]          # or: python bench/faults.py --only hostile,concurrent_runs

Each file goes through `pipeline.run` (read, extract, check, store) on a store of its own, in a
child process of its own with the default per-document budgets (60 s and 2 GB: XXGK_DOC_SECONDS,
XXGK_DOC_MEMORY_MB), so its wall time and peak resident memory (the larger of that process's and
of its worker processes') are its own. Every one must end filed (failed naming the budget or
reason, or queued) within 60 s and 1 GB. Some cases raise one of the readers' own budgets (their
`env`) to reach the per-document ones behind them: those within 60 s and the memory budget.
concurrent_runs starts two `xxgk run`s on one store, `--rounds` times: neither may crash and
every document must be extracted exactly once.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from extraction import workers  # noqa: E402
from extraction.storage import store  # noqa: E402
from extraction.synth import generator  # noqa: E402

BOUND_S, BOUND_MB = 60.0, 1024.0
# Slack over the bound for the child's own start (imports) and the stop of a worker at the limit.
_SLACK_S = 10.0
# A case past a reader's own budget reaches the per-document memory budget, beyond the ~200 MB a
# worker holds when it starts.
BACKSTOP_MB = workers.DEFAULT_MEMORY_MB + 256
# The child's own peak is VmHWM (reset by exec; ru_maxrss would carry the parent's over the fork);
# its workers' is ru_maxrss of its children (the largest of them, reaped when the pool closes).
_RUN = (
    "import re, resource, sys; from extraction import pipeline; from extraction.storage import store; "
    "(o,) = pipeline.run(store.open_db(sys.argv[2]), [sys.argv[1]]); "
    "own = int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)); "
    "workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss; "
    "print(o.status + ': ' + o.detail, max(own, workers), sep='\\t')"
)


@dataclass
class Case:
    name: str
    made: str  # what the file is
    expect: str  # a phrase the outcome ("failed: why") must carry
    env: dict[str, str] = field(default_factory=dict)  # a reader's own budget raised, to reach the backstop
    bound_mb: float = BOUND_MB
    seconds: float = 0.0
    peak_mb: float = 0.0
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.expect in self.error and self.seconds <= BOUND_S + _SLACK_S and self.peak_mb <= self.bound_mb


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
    """One 14400 x 14400 pt page with one line (under 1 KB): rendered for OCR it is 900 megapixels."""
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=(14400, 14400))
    pdf.line(100, 100, 14300, 14300)  # something drawn: a blank page is not rendered at all
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


def html_spans(path: Path, rows: int = 28) -> None:
    """43 KB of rowspan=100 colspan=100 cells: 22 million places once laid out."""
    row = "<tr>" + '<td rowspan="100" colspan="100">1</td>' * 40 + "</tr>"
    path.write_text("<html><body><table>" + row * rows + "</table></body></html>", encoding="utf-8")


def html_more_spans(path: Path) -> None:
    """The same, twice the rows: 22 million places lay out in about 2 GB, these need more."""
    html_spans(path, rows=56)


def fifo(path: Path) -> None:
    os.mkfifo(path)


def digit_runs(path: Path, seed: int = 3) -> None:
    """A generated web-text report (about 1 KB) whose rows of values from section 三 on are each
    one run of 20 digits, the longest the splitter still cuts: each run has some 40,000 cuts to
    weigh (the layout parser takes 10-30 s and ~500 MB over it)."""
    text = generator.generate(random.Random(seed), "web_text").text
    start = text.index("三、")
    path.write_text(text[:start] + re.sub(r"\d+(?: \d+)+", "9" * 20, text[start:]), encoding="utf-8")


def pdf_ruled_pages(path: Path, pages: int = 100) -> None:
    """100 A4 pages of ruled grids and blocks of ink, no text layer (about 20 KB): every page can
    hold a table, so every one is rendered and OCRed, some seconds each."""
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path))
    for _ in range(pages):
        for y in range(200, 700, 40):
            pdf.line(60, y, 540, y)
            for x in range(80, 520, 110):
                pdf.rect(x, y + 12, 60, 14, fill=1)  # as much ink as a printed number
        for x in (60, 300, 540):
            pdf.line(x, 200, x, 660)
        pdf.showPage()
    pdf.save()


CASES: list[tuple[Case, Callable[[Path], None], str]] = [
    (Case("docx_bomb", "1 GB inflated .docx", "XXGK_MAX_INFLATED_MB"), docx_bomb, "bomb.docx"),
    (Case("docx_paragraphs", "20 M empty paragraphs", "XXGK_MAX_INFLATED_MB"), docx_paragraphs, "paras.docx"),
    (Case("pdf_huge_page", "one 14400 pt page", "pixel budget"), pdf_huge_page, "huge.pdf"),
    (
        Case(
            "pdf_huge_open",
            "the same, pixel cap raised",
            "needed more than 2 GB",
            {"XXGK_MAX_MEGAPIXELS": "100000"},
            BACKSTOP_MB,
        ),
        pdf_huge_page,
        "huge_open.pdf",
    ),
    (Case("pdf_many_pages", "150,000 pages", "over the limit"), pdf_many_pages, "long.pdf"),
    (Case("tiff_frames", "30 x 169 MP frames", "pixel budget"), tiff_frames, "frames.tif"),
    (Case("html_spans", "rowspan=colspan=100", "XXGK_MAX_TABLE_CELLS"), html_spans, "spans.html"),
    (Case("fifo", "a FIFO named directly", "named pipe"), fifo, "pipe.txt"),
    (Case("digit_runs", "20-digit runs, 1 KB", ""), digit_runs, "digits.txt"),
    (Case("pdf_ruled_pages", "100 ruled pages, no text", "took longer than 60 s"), pdf_ruled_pages, "ruled.pdf"),
    (
        Case(
            "spans_no_cap",
            "2x spans, cell cap raised",
            "needed more than 2 GB",
            {"XXGK_MAX_TABLE_CELLS": "1000000000"},
            BACKSTOP_MB,
        ),
        html_more_spans,
        "spans_open.html",
    ),
]


def measure(path: Path, case: Case) -> Case:
    """Run one file through the pipeline in a child process of its own; its wall time and peak RSS."""
    started = time.perf_counter()
    env = {**os.environ, **case.env}
    for variable in ("XXGK_DOC_SECONDS", "XXGK_DOC_MEMORY_MB"):  # the defaults are what is measured
        env.pop(variable, None)
    db_path = path.with_name(path.name + ".db")
    try:
        done = subprocess.run(
            [sys.executable, "-c", _RUN, str(path), str(db_path)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=BOUND_S * 3,
            env=env,
        )
        error, _, peak_kb = done.stdout.strip().rpartition("\t")
        case.error, case.peak_mb = error or done.stderr.strip()[-300:], float(peak_kb or 0) / 1024
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
    print(f"{'case':16} {'file':26} {'seconds':>8} {'peak MB':>8}  ok  outcome")
    for c in cases:
        print(f"{c.name:16} {c.made:26} {c.seconds:8.1f} {c.peak_mb:8.0f}  {'yes' if c.ok else 'NO ':3} {c.error}")


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
