"""Throughput of the main job: ingest + layout extraction + checks + store, on the samples repeated.

    python bench/throughput.py [--documents 1000] [--source data/samples] [--concurrency 1]

`--source ../shared/corpus/texts` runs it on the real crawled texts instead of the samples.

Each copy gets a distinct trailing line so its bytes (and id) differ, as in a real bulk run.
Prints reports per second for each stage, the processor time of the process and its worker
processes (reading and extracting run in workers: `--concurrency` of them extract at once), and
the peak resident memory of the process and of its largest worker.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extraction import pipeline  # noqa: E402
from extraction.storage import store  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--source", type=Path, default=ROOT / "data" / "samples", help="folder of .txt reports")
    parser.add_argument("--concurrency", type=int, default=1, help="worker processes extracting at once")
    args = parser.parse_args()
    pipeline.tune_for_batch()  # as `xxgk` runs
    samples = sorted(args.source.glob("*.txt"))
    with tempfile.TemporaryDirectory() as tmp:
        inbox = Path(tmp) / "inbox"
        inbox.mkdir()
        for i in range(args.documents):
            source = samples[i % len(samples)]
            (inbox / f"{i:05d}_{source.name}").write_bytes(source.read_bytes() + f"\n（副本 {i}）\n".encode())
        db = store.open_db(Path(tmp) / "bench.db")
        started = time.perf_counter()
        ingested = pipeline.ingest_paths(db, [str(inbox)])
        ingest_s = time.perf_counter() - started
        started = time.perf_counter()
        outcomes = pipeline.extract_documents(db, pipeline.pending(db), concurrency=args.concurrency)
        extract_s = time.perf_counter() - started
    total = ingest_s + extract_s
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime
    print(f"documents           {len(ingested)}")
    print(f"outcomes            {dict(sorted(counts.items()))}")
    print(f"ingest              {len(ingested) / ingest_s:8.1f} reports/s  ({ingest_s:.2f} s)")
    print(f"extract + check     {len(outcomes) / extract_s:8.1f} reports/s  ({extract_s:.2f} s)")
    print(f"end to end          {len(outcomes) / total:8.1f} reports/s  ({total:.2f} s)")
    print(f"processor time      {cpu:8.1f} s  ({len(outcomes) / cpu:.1f} reports per CPU second)")
    print(f"peak memory (RSS)   {own.ru_maxrss / 1024:8.1f} MB, largest worker {workers.ru_maxrss / 1024:.1f} MB")


if __name__ == "__main__":
    main()
