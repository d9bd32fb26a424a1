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


def test_an_unknown_db_is_an_error_not_a_new_empty_store(tmp_path):
    for command in (["status"], ["queue"], ["list"], ["failed"], ["export"], ["show", "x"], ["eval", "--runs"]):
        result = xxgk(*command, db=tmp_path / "typo.db")
        assert result.exit_code == 2, command
        assert "No store at" in result.output
    assert not (tmp_path / "typo.db").exists()


def test_list_failed_and_forget(tmp_path, samples_dir):
    db = tmp_path / "x.db"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "empty.txt").write_bytes(b"")
    (inbox / "good.txt").write_bytes(SAMPLES[1].read_bytes())
    xxgk("run", str(inbox), db=db)
    listed = json.loads(xxgk("list", "--json", db=db).output)
    assert {r["file"]: r["status"] for r in listed} == {"empty.txt": "failed", "good.txt": "accepted"}
    assert [r["file"] for r in json.loads(xxgk("list", "--status", "FAILED", "--json", db=db).output)] == ["empty.txt"]
    failed = xxgk("failed", "--csv", db=db).output.splitlines()
    assert failed[0] == "doc,file,error" and "empty" in failed[1]
    forgot = xxgk("forget", "good.txt", db=db)
    assert forgot.exit_code == 0 and "forgot" in forgot.output and "cells" in forgot.output
    assert [r["file"] for r in json.loads(xxgk("list", "--json", db=db).output)] == ["empty.txt"]
    assert xxgk("forget", "nothing-like-this", db=db).exit_code == 2


def test_status_and_queue_print_json_and_csv_for_scripts(tmp_path, samples_dir):
    db = tmp_path / "x.db"
    xxgk("run", str(samples_dir), db=db)
    counts = {r["status"]: r["documents"] for r in json.loads(xxgk("status", "--json", db=db).output)}
    assert counts["accepted"] == 3 and counts["queued"] == 2
    queue = xxgk("queue", "--csv", db=db).output.splitlines()
    assert queue[0].startswith("doc_id,name,agency,year") and len(queue) == 3


def test_run_prints_a_summary_and_only_the_documents_that_need_a_person(tmp_path, samples_dir):
    db = tmp_path / "x.db"
    quiet = xxgk("run", str(samples_dir), db=db)
    assert "3 accepted, 2 queued" in quiet.output and "3 more not listed" in quiet.output
    assert "001_309576c5c0f6d228" not in quiet.output  # accepted: not listed
    loud = runner.invoke(app, ["run", str(samples_dir), "--db", str(db), "--verbose"])
    assert "001_309576c5c0f6d228" in loud.output


def test_paths_matching_nothing_are_an_error(tmp_path):
    result = xxgk("run", str(tmp_path / "nothing" / "*.pdf"), db=tmp_path / "x.db")
    assert result.exit_code != 0


def test_version_and_case_insensitive_choices(tmp_path, samples_dir):
    assert runner.invoke(app, ["--version"]).output.startswith("xxgk ")
    db = tmp_path / "x.db"
    xxgk("run", str(samples_dir), db=db)
    out = tmp_path / "t.csv"
    assert xxgk("export", "--format", "CSV", "--status", "Queued", "-o", str(out), db=db).exit_code == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")


def test_export_writes_xlsx_and_wide_csv_from_the_command_line(tmp_path, samples_dir):
    db = tmp_path / "x.db"
    xxgk("run", str(samples_dir), db=db)
    book = tmp_path / "t.xlsx"
    assert xxgk("export", "--format", "xlsx", "-o", str(book), db=db).exit_code == 0 and book.stat().st_size
    assert xxgk("export", "--format", "xlsx", db=db).exit_code == 2  # needs a file
    wide = xxgk("export", "--format", "csv", "--wide", "--section", "applications", db=db).output.splitlines()
    assert len(wide) == 1 + 5 and "一、本年新收/总计" in wide[0]


def test_datasette_metadata_is_written(tmp_path):
    out = tmp_path / "metadata.json"
    result = runner.invoke(app, ["datasette-metadata", "-o", str(out), "--db", str(tmp_path / "xxgk.db")])
    assert result.exit_code == 0
    assert "cells" in json.loads(out.read_text(encoding="utf-8"))["databases"]["xxgk"]["tables"]


def test_the_readme_links_the_spec_inside_the_repository_and_names_every_command():
    from conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "../shared" not in readme
    for doc in ("docs/TEMPLATE.md", "docs/EXPORT.md"):
        assert f"]({doc})" in readme and (ROOT / doc).is_file()
    for command in app.registered_commands:
        assert f"xxgk {command.name}" in readme, command.name
