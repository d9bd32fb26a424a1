"""What a data user sees: the store in Datasette (a screenshot) and the wide CSV in pandas.

    python bench/datasette_note.py [--out bench/out]

Runs the bundled samples into a store, writes the Datasette metadata and the wide CSV of
section 三 exactly as the README shows (`xxgk datasette-metadata`, `xxgk export --wide`),
serves the store with `datasette` on 127.0.0.1 only (a free port, stopped at the end, at most
60 s to start), and has Debian's headless chromium (through playwright: no download) take the
`current_tables` view filtered to section 三. Writes OUT/datasette_current_tables.png (the view page with its
descriptions), OUT/datasette_sample_004.png (a SQL query: sample 004's section 三) and
OUT/wide_csv_pandas.txt (df.head() and dtypes, read with dtype_backend="numpy_nullable").
Needs the test or browse extra (datasette, pandas) and playwright.
"""

from __future__ import annotations

import argparse
import io
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def xxgk(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "extraction.cli", *args], check=True, capture_output=True, timeout=120)


def pandas_view(csv_path: Path) -> str:
    import pandas as pd

    df = pd.read_csv(csv_path, dtype_backend="numpy_nullable")
    out = io.StringIO()
    with pd.option_context("display.max_columns", 12, "display.width", 200):
        print(f"$ python -c 'import pandas as pd; df = pd.read_csv(\"{csv_path.name}\", ...)'", file=out)
        print(f"shape: {df.shape}", file=out)
        print(df.head(), file=out)
        print("\ndtypes:", file=out)
        print(df.dtypes.to_string(), file=out)
    return out.getvalue()


# Section 三 of sample 004 as printed, one row per table row: its (七)总计 row printed blank
# although its parts are not (the reason it is queued) shows as empty cells, not zeros.
QUERY = (
    "select agency, year, status, row_label, natural_person, commercial, research, social_welfare,"
    " legal_service, other_org, total from current_tables where section = 'applications'"
    " and name like '%004_%' order by rowid"
)


def shoot(browser: str, pages: list[tuple[str, Path]]) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=browser, args=CHROMIUM_FLAGS)
        page = chromium.new_page(viewport={"width": 1500, "height": 1000})
        for url, out in pages:
            page.goto(url, timeout=30_000)
            page.locator("table.rows-and-columns").wait_for(timeout=30_000)
            page.screenshot(path=str(out), full_page=True)
        chromium.close()
        chromium.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    datasette = shutil.which("datasette", path=str(Path(sys.executable).parent)) or shutil.which("datasette")
    if browser is None or datasette is None:
        sys.exit("needs chromium (apt-get install chromium) and datasette (pip install -e '.[browse]')")
    db = out / "samples.db"
    for stale in out.glob("samples.db*"):
        stale.unlink()
    xxgk("run", str(ROOT / "data" / "samples"), "--db", str(db))
    xxgk("datasette-metadata", "--db", str(db), "-o", str(out / "metadata.json"))
    wide = out / "applications.csv"
    xxgk("export", "--db", str(db), "--format", "csv", "--wide", "--section", "applications", "-o", str(wide))
    text = pandas_view(wide)
    (out / "wide_csv_pandas.txt").write_text(text, encoding="utf-8")
    print(text)

    port = free_port()
    command = [datasette, str(db), "--metadata", str(out / "metadata.json"), "-h", "127.0.0.1", "-p", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/-/versions.json", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    sys.exit("datasette did not start within 60 s")
                time.sleep(0.3)
        base = f"http://127.0.0.1:{port}/samples"
        shots = [
            (f"{base}/current_tables?section=applications&_size=5", out / "datasette_current_tables.png"),
            (f"{base}?{urllib.parse.urlencode({'sql': QUERY})}", out / "datasette_sample_004.png"),
        ]
        shoot(browser, shots)
    finally:
        server.terminate()
        server.wait(timeout=20)
    for url, shot in shots:
        print(f"wrote {shot} ({shot.stat().st_size} bytes): {url}")


if __name__ == "__main__":
    main()
