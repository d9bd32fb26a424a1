"""A real browser on the review app: start `xxgk review` on a seeded store, screenshot the item page.

    python bench/review_screenshot.py [--out bench/out/review_item.png]

Needs Debian's chromium (apt-get install chromium) and playwright (pip install '.[bench]'),
which drives that chromium: no browser download. The store holds the bundled samples; the page
opened is the queued sample 004 (its （七）总计 row printed blank), via ?doc=<id>; the script
waits until the tables and the source text have rendered before it takes the picture.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extraction import pipeline  # noqa: E402
from extraction.storage import store  # noqa: E402

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shoot(browser: str, url: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=browser, args=CHROMIUM_FLAGS[1:])
        page = chromium.new_page(viewport={"width": 1600, "height": 1300})
        page.goto(url)
        page.get_by_text("identity check(s) still fail").wait_for(timeout=60_000)
        page.locator("pre").first.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)  # let the grids finish drawing
        page.screenshot(path=str(out), full_page=True)
        chromium.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "review_item.png")
    args = parser.parse_args()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("chromium not found: apt-get install chromium")
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "review.db"
        db = store.open_db(db_path)
        pipeline.run(db, [str(p) for p in sorted((ROOT / "data" / "samples").glob("*.txt"))])
        doc = next(d for d in store.documents(db, "queued") if d["name"].endswith("004_21ec6acd18ba8880.txt"))
        port = free_port()
        xxgk = [sys.executable, "-m", "extraction.cli", "review", "--db", str(db_path), "--port", str(port)]
        server = subprocess.Popen(xxgk, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
                    break
                except OSError:
                    time.sleep(0.5)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            url = f"http://127.0.0.1:{port}/?doc={doc['id'][:16]}"
            shoot(browser, url, args.out)
        finally:
            server.terminate()
            server.wait(timeout=20)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes) of the item page")


if __name__ == "__main__":
    main()
