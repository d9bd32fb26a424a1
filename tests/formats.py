"""Generated reports written as files of each format, and a comparison with their gold."""

from __future__ import annotations

import random
from pathlib import Path

from extraction import pipeline
from extraction.storage import store
from extraction.synth import generator, render
from extraction.synth.generator import Generated

SECTIONS = ("proactive", "applications", "review_litigation")


def report(seed: int, **kwargs: object) -> Generated:
    return generator.generate(random.Random(seed), "html", **kwargs)  # type: ignore[arg-type]


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def wrong_cells(db, doc_id: str, gold: Generated) -> list[tuple[str, str, str, object, object]]:
    """Every cell whose extracted value differs from the generator's: (section, row, column, gold, got)."""
    extraction = store.current_extraction(db, doc_id)
    got = store.report_of(extraction) if extraction else None
    wrong = []
    for section in SECTIONS:
        table = got.table(section) if got else None
        values = table.values() if table else {}
        for row, cols in gold.values[section].items():
            for col, value in cols.items():
                found = values.get(row, {}).get(col, "missing")
                if found != value:
                    wrong.append((section, row, col, value, found))
    return wrong


def cell_count(gold: Generated) -> int:
    return sum(len(cols) for section in SECTIONS for cols in gold.values[section].values())


def run(db, paths: list[Path]) -> list[pipeline.Outcome]:
    return pipeline.run(db, [str(p) for p in paths])


__all__ = ["SECTIONS", "cell_count", "render", "report", "run", "write", "wrong_cells"]
