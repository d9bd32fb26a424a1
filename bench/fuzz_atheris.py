"""Coverage-guided fuzzing (atheris) of every stage that reads report text.

    python bench/fuzz_atheris.py -runs=20000 [-max_len=20000] [corpus_dir]

Inputs start from generated reports (written to a seed corpus folder on first use) and are
mutated by libFuzzer. Each input goes through the normaliser, the section locator, the layout
parser and the checks; any exception other than the normaliser's "not a number" refusal is a
crash and stops the run with the input saved by libFuzzer. Hangs are bounded by -timeout.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

# The libraries the project uses are imported first so that only the project's code is
# instrumented (instrumenting openai or pydantic would only slow the fuzzer down).
import instructor  # noqa: E402, F401
import openai  # noqa: E402, F401
import pydantic  # noqa: E402, F401
import sqlite_utils  # noqa: E402, F401

with atheris.instrument_imports():
    from faults import every_stage

    from extraction.synth import generator


def one_input(data: bytes) -> None:
    every_stage(data.decode("utf-8", errors="replace"))


def main() -> None:
    args = list(sys.argv)
    if not any(not a.startswith("-") for a in args[1:]):
        seeds = Path(tempfile.mkdtemp(prefix="xxgk-fuzz-"))
        for i, report in enumerate(generator.batch(1, 20)):
            (seeds / f"seed{i}").write_bytes(report.readable().encode("utf-8"))
        args.append(str(seeds))
    if not any(a.startswith("-timeout=") for a in args):
        args.append("-timeout=10")
    atheris.Setup(args, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
