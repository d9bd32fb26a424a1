"""The main job on a generated store, and the share of it spent re-checking next years' reports.

    xxgk generate --out /tmp/gen --count 2000 && python bench/recheck.py /tmp/gen/reports

Generated reports repeat agencies and years (2,000 reports: 35 agency-years, up to 71 reports
each), as a store that holds copies and second versions does. Prints the run's time, the time in
`pipeline.recheck_next_year` and how many reports it re-checked, and a digest of every current
finding and status: a change that makes the re-checking cheaper must leave the digest as it was.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extraction import pipeline  # noqa: E402
from extraction.storage import store  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("reports", type=Path, help="folder written by xxgk generate (its reports/)")
    args = parser.parse_args()
    pipeline.tune_for_batch()
    spent = {"seconds": 0.0, "calls": 0, "rechecked": 0}
    recheck = pipeline.recheck_next_year

    def timed(db: object, doc_id: str) -> int:
        started = time.perf_counter()
        count = recheck(db, doc_id)  # type: ignore[arg-type]
        spent["seconds"] += time.perf_counter() - started
        spent["calls"] += 1
        spent["rechecked"] += count
        return count

    pipeline.recheck_next_year = timed  # the parent files every document: the calls are all here
    with tempfile.TemporaryDirectory() as tmp:
        db = store.open_db(Path(tmp) / "gen.db")
        started = time.perf_counter()
        outcomes = pipeline.run(db, [str(args.reports)])
        total = time.perf_counter() - started
        groups = Counter((r["agency_key"], r["year"]) for r in db.query("select agency_key, year from documents"))
        findings = db.query("select doc_id, check_id, status, message from current_findings order by 1, 2, 3, 4")
        statuses = db.query("select id, status from documents order by id")
        digest = hashlib.sha256(repr((list(findings), list(statuses))).encode()).hexdigest()[:16]
    print(f"documents           {len(outcomes)} ({len(groups)} agency-years, the largest {max(groups.values())})")
    print(f"outcomes            {dict(sorted(Counter(o.status for o in outcomes).items()))}")
    print(f"run                 {total:8.1f} s")
    print(
        f"recheck_next_year   {spent['seconds']:8.1f} s over {spent['calls']} filings, {spent['rechecked']} re-checked"
    )
    print(f"digest              {digest} (every current finding and status)")


if __name__ == "__main__":
    main()
