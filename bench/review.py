"""The review app at scale: queue load, item re-run, and the actions a reviewer spends.

    python bench/review.py [--generated 9984] [--db FILE] [--out bench/out] [--no-browser]

Builds a store of the real corpus texts (../shared/corpus/texts, ../shared/realfiles/*.txt)
plus `--generated` reports from extraction.synth.generator (10 % printed with a source error),
each generated report under its own agency name (the generator draws from five agencies over
seven years: 10,000 of them would be ~285 reports per agency and year, where a real store has
one, and filing each would re-check all of its agency's next-year reports). Then:
- queue load: what the queue page asks SQL for (review.queue_summary: totals over the whole
  queue; review.queue: one page of 100 rows), and the whole queue at once for comparison;
- re-run: the item page run through streamlit's AppTest after an edit is submitted (server-side
  script time: what a re-run costs once the browser has sent the form);
- with chromium, in the browser on that store, with every click and key counted as pressed
  (review_app/scripted.py, the reviewer the browser tests drive): (a) one wrong cell, a digit
  lost in reading, fixed by the one-cell repair; (b) an unread section 三 finished by paste + split
  (its wall time); and screenshots to `--out`: the queue, an item whose identities fail, the
  repair offered, an unread section, a text PDF's page beside the grid, and a blurred scan's
  doubted cells cut out beside their readings and outlined on its page (review_scan_*.png).
The worked examples of (a), (b), the PDF and the scan are added to the store on each run
(stamped, so each run adds new documents). `--db FILE` keeps the store (built when FILE does not exist).
Figures are printed; record them with the command in the issue note.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extraction import pipeline, review  # noqa: E402
from extraction.storage import store  # noqa: E402
from extraction.synth import generator, render  # noqa: E402
from extraction.tables import sections  # noqa: E402

sys.path.insert(0, str(ROOT / "review_app"))
import scripted  # noqa: E402  (the counted reviewer the browser tests drive)


def build(folder: Path, generated: int, db_path: Path | None = None) -> Path:
    real = sorted((ROOT.parent / "shared" / "corpus" / "texts").glob("*.txt"))
    real += sorted((ROOT.parent / "shared" / "realfiles").glob("*.txt"))
    made = generator.batch(7, generated, error_rate=0.1)
    reports = folder / "generated"
    reports.mkdir()
    paths = [str(p) for p in real]
    for n, g in enumerate(made):
        path = reports / f"{n:05d}{g.suffix}"
        path.write_text(g.text.replace("某某", f"样本{n:05d}"), encoding="utf-8")  # its own agency
        paths.append(str(path))
    db_path = db_path or folder / "bench.db"
    started = time.perf_counter()
    db = store.open_db(db_path)
    left_out: list[str] = []
    while True:
        try:
            pipeline.run(db, paths)
            break
        except OverflowError:
            # A report whose run-together digits are read as one count past SQLite's 64-bit
            # integer stops the whole run (storage, reported); leave it out and go on.
            stuck = [r[0] for r in db.execute("select name from documents where status = 'ingested' and attempts > 0")]
            if not stuck:
                raise
            left_out += stuck
            paths = [p for p in paths if p not in stuck]
    print(
        f"store: {len(real)} real + {generated} generated documents, built in {time.perf_counter() - started:.0f} s"
        + (f"; left out, as they stop pipeline.run: {', '.join(left_out)}" if left_out else "")
    )
    return db_path


def timings(db_path: Path) -> None:
    import os

    from streamlit.testing.v1 import AppTest

    db = store.open_db(db_path)
    review.prepare(db)
    counts = store.status_counts(db)
    print("statuses:", {k: v for k, v in counts.items() if v})
    loads, pages = [], []
    for _ in range(5):
        started = time.perf_counter()
        items = review.queue(db)
        loads.append(time.perf_counter() - started)
        started = time.perf_counter()
        review.queue_summary(db)
        review.queue(db, 100, 0)
        pages.append(time.perf_counter() - started)
    print(f"queue page queries (totals + 100 rows): median {statistics.median(pages):.3f} s over 5")
    print(f"whole queue at once ({len(items)} queued): median {statistics.median(loads):.3f} s over 5")
    os.environ["XXGK_DB"] = str(db_path)
    at = AppTest.from_file(str(ROOT / "review_app" / "app.py"), default_timeout=120)
    started = time.perf_counter()
    at.run()
    print(f"queue page run (first, with the indexes made): {time.perf_counter() - started:.3f} s")
    queue_runs = []
    for _ in range(5):
        started = time.perf_counter()
        at.run()
        queue_runs.append(time.perf_counter() - started)
    print(f"queue page re-run: median {statistics.median(queue_runs):.3f} s over 5")
    at.session_state["doc"] = items[len(items) // 2].doc_id
    at.session_state["page"] = "Item"
    at.run()
    runs = []
    for n in range(10):
        editor = next(d for d in at.data_editor if d.key.startswith("ed-applications-"))
        at.session_state[editor.key] = {"edited_rows": {0: {"商业企业": str(n)}}, "added_rows": [], "deleted_rows": []}
        started = time.perf_counter()
        at.button(key="check").click().run()
        runs.append(time.perf_counter() - started)
    print(f"item re-run after a submitted edit: median {statistics.median(runs):.3f} s, max {max(runs):.3f} s over 10")


def repair_coverage(count: int = 300) -> None:
    """How often one wrong cell gets the one-click repair: generated reports of every layout
    family that balance, one printed count of 10 or more in 三 or 四 read with its last digit
    lost (the text edited, then parsed again); is the repair offered, and is it the printed value?"""
    from extraction.tables import layout

    rng = random.Random(11)
    tried: dict[str, list[int]] = {"applications": [0, 0, 0], "review_litigation": [0, 0, 0]}  # tried, right, wrong
    for n in range(count):
        text = generator.generate(rng, generator.FAMILIES[n % len(generator.FAMILIES)]).readable()
        read = layout.parse(text).report
        if any(f.blocks_acceptance for f in review.recheck(read)):
            continue
        cells = [
            (key, cell)
            for t in read.tables()
            if t.section in tried
            for row, cols in t.cells.items()
            for column, cell in cols.items()
            if cell.span and isinstance(cell.value, int) and cell.value >= 10
            for key in [(t.section, row, column)]
        ]
        if not cells:
            continue
        key, cell = rng.choice(cells)
        end = cell.span[1]
        lost = layout.parse(text[: end - 1] + text[end:]).report
        table = lost.table(key[0])  # type: ignore[arg-type]
        if table is None or table.value(key[1], key[2]) != cell.value // 10:
            continue  # the edit moved more than that one cell: not a one-wrong-cell report
        offered = review.repair(lost)
        counts = tried[key[0]]
        counts[0] += 1
        if offered is not None:
            counts[1 if (offered.cell, offered.after) == (key, str(cell.value)) else 2] += 1
    for section, (n, right, wrong) in tried.items():
        print(
            f"one wrong cell in {review.SECTION_NAMES[section]}: repair offered for {right + wrong} of {n} "
            f"({right} the printed value, {wrong} another)"
        )


def worked_examples(folder: Path, db_path: Path) -> dict[str, Any]:
    """Three documents the browser part works on, new on each run (a stamp line): a digit lost in
    reading (一、本年新收 自然人 127 read as 12), a section 三 the parser cannot find (its heading
    and table cut out; its text is what the reviewer pastes), a text PDF that does not balance."""
    stamp = f"\nbench run {time.time_ns()}\n"
    made = generator.generate(random.Random(5), "tab_rows", "2021")
    text = made.readable()
    span = sections.locate(text)["applications"]
    files = {"misread": folder / "misread.txt", "unread": folder / "unread.txt", "pdf": folder / "text_layer.pdf"}
    files["misread"].write_text(text.replace("数量\t127\t0", "数量\t12\t0", 1) + stamp, encoding="utf-8")
    files["unread"].write_text(text[: span.start] + text[span.end :] + stamp, encoding="utf-8")
    pdf_text = generator.generate(random.Random(3), "html", error="wrong_total").text.replace("</body>", stamp)
    files["pdf"].write_bytes(render.pdf_bytes(pdf_text))
    if render.cjk_font():
        files["scan"] = folder / "scan.pdf"
        files["scan"].write_bytes(
            worn_scan(generator.generate(random.Random(3), "html").text.replace("</body>", stamp))
        )
    db = store.open_db(db_path)
    pipeline.run(db, [str(p) for p in files.values()])
    ids = {key: store.find_document(db, str(path))["id"] for key, path in files.items()}
    return {"ids": ids, "section_text": text[span.start : span.end], "gold": made.values["applications"]}


def worn_scan(text: str, seed: int = 3) -> bytes:
    """A generated report scanned and blurred (Gaussian, radius 1): OCR leaves doubts in it,
    some the identities resolve and some they cannot (as tests/test_review_app.py's scan)."""
    from PIL import ImageFilter

    pages = [page.filter(ImageFilter.GaussianBlur(1.0)) for page in render.scan_images(text, seed=seed)]
    return render.scan_pdf_bytes(pages)


def scan_screenshot(page: Any, url: str, out: Path, doc_id: str) -> None:
    """The scan's doubted cells cut out beside their readings, and its page with them outlined."""
    _open(page, url, doc_id)
    scripted.wait_text(page, "Cells OCR doubted")
    page.wait_for_timeout(1500)
    page.screenshot(path=str(out / "review_scan_doubt.png"))
    page.get_by_role("tab", name="Page images").click()
    page.wait_for_timeout(1500)
    page.screenshot(path=str(out / "review_scan_page.png"))


def _serve(db_path: Path) -> tuple[Any, str]:
    import socket
    import subprocess
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "review_app" / "app.py")]
    command += ["--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true"]
    server = subprocess.Popen(
        [*command, "--", "--db", str(db_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(120):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    return server, f"http://127.0.0.1:{port}"


def browser(db_path: Path, out: Path, examples: dict[str, Any]) -> None:
    import shutil

    chromium_path = shutil.which("chromium")
    if chromium_path is None:
        print("no chromium: the browser part (actions, screenshots) skipped")
        return
    from playwright.sync_api import sync_playwright

    server, url = _serve(db_path)
    try:
        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path=chromium_path, args=["--no-sandbox", "--disable-gpu"])
            page = chromium.new_page(viewport={"width": 1600, "height": 1300})
            page.set_default_timeout(120_000)
            out.mkdir(parents=True, exist_ok=True)
            _queue_page(page, url, out)
            _failing_item(page, url, out, db_path)
            ids = examples["ids"]
            _open(page, url, ids["misread"])
            scripted.wait_text(page, "One cell settles every failing identity")
            page.get_by_role("button", name="Source prints").scroll_into_view_if_needed()
            page.screenshot(path=str(out / "review_repair.png"))
            started = time.perf_counter()
            fixed = scripted.fix_one_cell(page)
            print(
                f"(a) one wrong cell: {fixed.actions} actions ({fixed.clicks} clicks, {fixed.keys} keys: "
                f"{'; '.join(fixed.log)}), {time.perf_counter() - started:.1f} s in the browser"
            )
            _unread(page, url, out, ids["unread"], examples)
            _open(page, url, ids["pdf"])
            page.get_by_role("tab", name="Page images").click()
            page.locator("[data-testid='stImage'] img").first.wait_for()
            page.wait_for_timeout(1500)
            page.screenshot(path=str(out / "review_pdf_page.png"))
            if "scan" in ids:
                scan_screenshot(page, url, out, ids["scan"])
            chromium.close()
        print(f"screenshots in {out}")
    finally:
        server.terminate()
        server.wait(timeout=20)


def _open(page: Any, url: str, doc_id: str) -> None:
    page.goto(f"{url}/?doc={doc_id[:16]}")
    page.get_by_role("button", name="Save fix").wait_for()
    name = page.get_by_label("Your name (recorded with every decision)")
    name.fill("bench")  # once per session, not per item: not counted
    name.press("Enter")
    scripted.settle(page)


def _queue_page(page: Any, url: str, out: Path) -> None:
    started = time.perf_counter()
    page.goto(f"{url}/")
    page.get_by_text("Click a row to open it").wait_for()
    print(f"queue page in the browser, first load: {time.perf_counter() - started:.2f} s to show")
    shows = []
    for _ in range(3):  # the same page opened again (the server warm, as a reviewer meets it)
        started = time.perf_counter()
        page.reload()
        page.get_by_text("Click a row to open it").wait_for()
        page.locator("[data-testid='stDataFrame']").nth(1).wait_for()
        shows.append(time.perf_counter() - started)
    print(f"queue page in the browser, opened again: median {statistics.median(shows):.2f} s over 3")
    page.wait_for_timeout(1500)
    page.screenshot(path=str(out / "review_queue.png"))


def _failing_item(page: Any, url: str, out: Path, db_path: Path) -> None:
    failing = next((i for i in review.queue(store.open_db(db_path), 200) if dict(i.reasons).get("balance")), None)
    if failing is None:
        return
    page.goto(f"{url}/?doc={failing.doc_id[:16]}")
    page.get_by_text("identity check(s) fail").first.wait_for()
    page.locator("pre mark").first.wait_for()
    page.wait_for_timeout(1500)
    page.screenshot(path=str(out / "review_item.png"), full_page=True)


def _unread(page: Any, url: str, out: Path, doc_id: str, examples: dict[str, Any]) -> None:
    _open(page, url, doc_id)
    scripted.wait_text(page, "表格未读出")
    page.screenshot(path=str(out / "review_unread_item.png"), full_page=True)
    lines = examples["section_text"].splitlines()
    new_received = next(line for line in lines if line.startswith("一、本年新收"))
    digits = "".join(new_received.split("\t")[1:])  # that row's digits run together: split them
    wanted = " | ".join(str(v) for v in examples["gold"]["new_received"].values())
    started = time.perf_counter()
    done = scripted.finish_unread_section(
        page, "\n".join(line for line in lines if line != new_received), ("三 一、本年新收", digits), f"Take ✓ {wanted}"
    )
    print(
        f"(b) unread section 三 by paste + split: {done.actions} actions ({done.clicks} clicks, {done.keys} keys), "
        f"{time.perf_counter() - started:.1f} s of scripted work in the browser"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generated", type=int, default=9984, help="with the 16 real texts: 10,000 documents")
    parser.add_argument("--db", type=Path, help="keep the store here (reused when it exists)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    random.seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        db_path = args.db if args.db is not None and args.db.exists() else build(Path(tmp), args.generated, args.db)
        timings(db_path)
        repair_coverage()
        if not args.no_browser:
            browser(db_path, args.out, worked_examples(Path(tmp), db_path))


if __name__ == "__main__":
    main()
