"""`xxgk` end to end, as a user types it."""

import json

from conftest import GOLD, SAMPLES
from typer.testing import CliRunner

from extraction.cli import app

runner = CliRunner()


def xxgk(*args, db):
    return runner.invoke(app, [*args, "--db", str(db)])


def test_run_status_queue_show_export_on_the_samples(tmp_path, samples_dir):
    db = tmp_path / "x.db"
    result = xxgk("run", str(samples_dir), db=db)
    assert result.exit_code == 0, result.output
    assert "3 accepted, 2 queued" in result.output

    status = xxgk("status", db=db)
    assert "accepted" in status.output and "applications.handled_sum.blank_total" in status.output

    queue = xxgk("queue", db=db)
    assert "下城区卫生健康局" in queue.output and "市卫健局" in queue.output

    show = xxgk("show", "004_21ec", db=db)
    assert show.exit_code == 0
    assert "收到和处理政府信息公开申请情况" in show.output and "6319" in show.output
    assert "blank_total" in show.output

    out = tmp_path / "export.jsonl"
    exported = xxgk("export", "--format", "jsonl", "--output", str(out), db=db)
    assert exported.exit_code == 0
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == len(SAMPLES)
    by_stem = {r["source"].rsplit("/", 1)[-1].removesuffix(".txt"): r for r in records}
    assert by_stem["002_ff50e99d4c3fccda"]["applications"] == json.loads(
        json.dumps(GOLD["002_ff50e99d4c3fccda"]["applications"])
    )

    csv_out = tmp_path / "cells.csv"
    assert xxgk("export", "--format", "csv", "--output", str(csv_out), db=db).exit_code == 0
    assert csv_out.read_text(encoding="utf-8-sig").startswith("doc,file,agency,year,template,status,extractor,section")


def test_ingest_then_extract_and_run_again_is_idempotent(tmp_path, samples_dir):
    db = tmp_path / "x.db"
    assert xxgk("ingest", str(samples_dir / "*.txt"), db=db).exit_code == 0
    extracted = xxgk("extract", db=db)
    assert extracted.exit_code == 0 and "3 accepted, 2 queued" in extracted.output
    assert "Nothing pending" in xxgk("extract", db=db).output
    again = xxgk("run", str(samples_dir), db=db)
    assert again.exit_code == 0 and "already in the store" in again.output


def test_failed_files_give_exit_code_1_and_the_batch_goes_on(tmp_path, samples_dir):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "empty.txt").write_bytes(b"")
    (inbox / "good.txt").write_bytes(SAMPLES[1].read_bytes())
    result = xxgk("run", str(inbox), db=tmp_path / "x.db")
    assert result.exit_code == 1
    assert "1 accepted, 1 failed" in result.output and "file is empty" in result.output


def test_show_unknown_document_and_bad_export_format_exit_2(tmp_path):
    db = tmp_path / "x.db"
    assert xxgk("show", "nope", db=db).exit_code == 2
    assert xxgk("export", "--format", "xml", db=db).exit_code == 2


def test_db_defaults_to_the_environment_variable(tmp_path, samples_dir, monkeypatch):
    monkeypatch.setenv("XXGK_DB", str(tmp_path / "env.db"))
    assert runner.invoke(app, ["run", str(samples_dir / "001_309576c5c0f6d228.txt")]).exit_code == 0
    assert (tmp_path / "env.db").exists()
