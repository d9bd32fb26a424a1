"""The package's public calls: a library user reads, extracts, checks and stores a report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import GOLD, SAMPLES

import extraction
from extraction.schema import Report


def test_a_sample_file_read_parsed_and_checked_gives_its_gold_values():
    path = SAMPLES[0]
    doc = extraction.read_file(path)
    assert doc.error is None
    parsed = extraction.parse_text(doc.text)
    gold = GOLD[path.stem]
    assert parsed.report.applications.values() == gold["applications"]
    assert extraction.check_report(parsed.report) == extraction.check_report(parsed.report, previous=None)


def test_extract_text_without_a_model_is_the_layout_parser():
    text = SAMPLES[1].read_text(encoding="utf-8")
    work = extraction.extract_text(text)
    assert work.calls == []
    assert work.extraction.report == extraction.parse_text(text).report


def test_check_report_names_a_broken_identity():
    parsed = extraction.parse_text(SAMPLES[1].read_text(encoding="utf-8"))
    report: Report = parsed.report
    table = report.applications
    assert not [f for f in extraction.check_report(report) if f.blocks_acceptance and f.id.startswith("applications.")]
    table.set("granted", "natural_person", table.cell("granted", "natural_person").model_copy(update={"value": 10**6}))
    assert [f for f in extraction.check_report(report) if f.blocks_acceptance and f.id.startswith("applications.")]


def test_open_store_creates_a_store_file(tmp_path: Path):
    db = extraction.open_store(tmp_path / "sub" / "x.db")
    assert "documents" in db.table_names()
    assert (tmp_path / "sub" / "x.db").exists()


def test_importing_the_package_loads_no_model_client_or_store():
    heavy = "('openai', 'sqlite_utils', 'rapidocr_onnxruntime')"
    probe = f"import sys, extraction; print(any(m in sys.modules for m in {heavy}))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
