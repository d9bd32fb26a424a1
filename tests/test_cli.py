"""`xxgk` end to end, as a user types it."""

import json
import os
import resource
import signal
import subprocess
import sys

from conftest import GOLD, ROOT, SAMPLES
from typer.testing import CliRunner

from extraction.cli import app
from extraction.storage import store

runner = CliRunner()


def xxgk(*args, db):
    return runner.invoke(app, [*args, "--db", str(db)])


def test_run_status_queue_show_export_on_the_samples(tmp_path, samples_dir):
    db = tmp_path / "x.db"
    result = xxgk("run", str(samples_dir), db=db)
    assert result.exit_code == 0, result.output
    assert "2 accepted, 3 queued" in result.output

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
    assert extracted.exit_code == 0 and "2 accepted, 3 queued" in extracted.output
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


def test_an_output_that_is_the_store_or_an_input_is_refused_and_the_store_kept(tmp_path, samples_dir):
    db = tmp_path / "x.db"
    assert xxgk("run", str(samples_dir / "001_309576c5c0f6d228.txt"), db=db).exit_code == 0
    before = list(store.open_db(db).conn.iterdump())
    (tmp_path / "link.db").symlink_to(db)
    gold = tmp_path / "gold"
    gold.mkdir()
    (gold / "a.json").write_text("{}", encoding="utf-8")
    for args in (
        ["export", "-o", str(db)],
        ["export", "--format", "csv", "-o", str(tmp_path / "link.db")],
        ["export", "-o", str(db) + "-wal"],
        ["eval", "--report", str(db)],
        ["eval", "--gold", str(gold), "--report", str(gold / "a.json")],
    ):
        result = xxgk(*args, db=db)
        assert result.exit_code == 2, args
        assert "refused, nothing written" in result.output and len(result.output.strip().splitlines()) == 1
    assert list(store.open_db(db).conn.iterdump()) == before
    assert (gold / "a.json").read_text(encoding="utf-8") == "{}"


def test_markup_and_terminal_controls_in_report_strings_are_shown_as_text(tmp_path, samples_dir):
    db = tmp_path / "x.db"
    hostile = tmp_path / "evil\x1b[2J[bold]name.txt"
    hostile.write_bytes((samples_dir / "004_21ec6acd18ba8880.txt").read_bytes())
    run = xxgk("run", str(hostile), db=db)
    assert run.exit_code == 0, run.output
    assert "\x1b" not in run.output and "evil\\x1b[2J[bold]name" in run.output
    database = store.open_db(db)
    doc = next(store.documents(database))
    database["documents"].update(doc["id"], {"agency": "[/]局[bold]\x07"})
    queue = xxgk("queue", db=db)
    assert queue.exit_code == 0 and "[/]局[bold]\\x07" in queue.output
    show = xxgk("show", doc["id"][:12], db=db)
    assert show.exit_code == 0 and "[/]局[bold]\\x07" in show.output and "\x1b" not in show.output


def test_a_bad_setting_is_one_line_and_exit_2_and_help_still_works(tmp_path, samples_dir, monkeypatch):
    monkeypatch.setenv("XXGK_MAX_INFLATED_MB", "lots")
    monkeypatch.setenv("XXGK_OCR_MIN_CONFIDENCE", "high")
    assert runner.invoke(app, ["run", "--help"]).exit_code == 0
    result = xxgk("run", str(samples_dir), db=tmp_path / "x.db")
    assert result.exit_code == 2 and result.output.strip().count("\n") == 0
    assert "XXGK_" in result.output and "is not a number" in result.output


def test_a_bad_ocr_threads_setting_stops_the_batch_before_it_starts(tmp_path, samples_dir, monkeypatch):
    monkeypatch.setenv("XXGK_OCR_THREADS", "all")
    for command in ("ingest", "run"):
        result = xxgk(command, str(samples_dir), db=tmp_path / "x.db")
        assert result.exit_code == 2 and result.output.strip().count("\n") == 0, command
        assert "XXGK_OCR_THREADS='all' is not a whole number" in result.output
    assert not (tmp_path / "x.db").exists()


def test_a_store_that_fails_is_exit_3_with_one_line(tmp_path, samples_dir):
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not a SQLite file, but a user's notes" * 100)
    command = [sys.executable, "-m", "extraction.cli", "status", "--db", str(broken)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 3 and "Traceback" not in done.stderr
    assert done.stderr.startswith("The store failed") and "not a database" in done.stderr


def test_a_full_disk_is_exit_3_not_a_traceback(tmp_path, samples_dir):
    def small_files():  # every file this process writes stops at 64 KB, as on a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    sample = str(samples_dir / "001_309576c5c0f6d228.txt")
    command = [sys.executable, "-m", "extraction.cli", "run", sample, "--db", str(tmp_path / "x.db")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, preexec_fn=small_files)
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr and "The store failed" in done.stderr


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
    assert counts["accepted"] == 2 and counts["queued"] == 3
    queue = xxgk("queue", "--csv", db=db).output.splitlines()
    assert queue[0].startswith("doc_id,name,agency,year") and len(queue) == 4


def test_run_prints_a_summary_and_only_the_documents_that_need_a_person(tmp_path, samples_dir):
    db = tmp_path / "x.db"
    quiet = xxgk("run", str(samples_dir), db=db)
    assert "2 accepted, 3 queued" in quiet.output and "2 more not listed" in quiet.output
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


def terminal(monkeypatch):
    """stderr as a terminal that records what the progress bars drew (ANSI codes removed)."""
    import io
    import re

    from rich.console import Console

    from extraction.cli import ui as cli

    buffer = io.StringIO()
    monkeypatch.setattr(cli, "err", Console(file=buffer, force_terminal=True, width=100, soft_wrap=True))
    return lambda: re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", buffer.getvalue())


def test_run_shows_an_ingest_bar_per_file_and_an_extract_bar_per_document_with_totals(
    tmp_path, samples_dir, monkeypatch
):
    drawn = terminal(monkeypatch)
    db = tmp_path / "p.db"
    files = [str(p) for p in SAMPLES[:3]]
    assert runner.invoke(app, ["run", *files, str(SAMPLES[0]), "--db", str(db)]).exit_code == 0
    assert "ingest" in drawn() and "3/3" in drawn() and "/?" not in drawn()  # the repeated path counted once
    assert "extract" in drawn()
    first = drawn()
    assert runner.invoke(app, ["run", str(samples_dir), "--db", str(db)]).exit_code == 0
    again = drawn()[len(first) :]
    assert "ingest" in again and "5/5" in again  # five files listed
    assert "extract" in again and "2/2" in again  # only the two not yet in the store are extracted


def test_the_bars_start_no_thread_that_could_hold_stderr_while_workers_fork(tmp_path, monkeypatch):
    import threading

    from extraction.cli import ui as cli

    drawn = terminal(monkeypatch)
    before = set(threading.enumerate())
    with cli.progress() as bar:
        bar.phase("ingest", 3)
        during = set(threading.enumerate()) - before
        for _ in range(3):
            bar.tick()
    assert during == set()
    assert "ingest" in drawn() and "0/3" in drawn()  # drawn by the command itself, from the start


def test_eval_and_generate_show_bars_with_their_totals(tmp_path, monkeypatch):
    drawn = terminal(monkeypatch)
    out = tmp_path / "gen"
    assert runner.invoke(app, ["generate", "--out", str(out), "--count", "7"]).exit_code == 0
    assert "write" in drawn() and "7/7" in drawn()
    result = runner.invoke(app, ["eval", "--gold", str(out / "gold"), "--db", str(out / "eval.db")])
    assert result.exit_code == 0, result.output
    scored = drawn()[drawn().index("score") :]
    assert "7/7" in scored and "/?" not in scored
    assert "accepted but wrong" in result.output and "(7 reports" in result.output


def test_doc_seconds_fails_a_slow_document_naming_the_option_and_a_bad_budget_creates_no_store(
    tmp_path, samples_dir, monkeypatch
):
    sys.path.insert(0, str(ROOT / "bench"))
    import hostile  # the hostile files are made by code there

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    hostile.digit_runs(inbox / "slow.txt")  # rows of 20-digit runs: some 3-5 s of weighing
    (inbox / "good.txt").write_bytes((samples_dir / "001_309576c5c0f6d228.txt").read_bytes())
    db = tmp_path / "t.db"
    result = xxgk("run", str(inbox), "--doc-seconds", "1", "--verbose", db=db)
    assert result.exit_code == 1
    database = store.open_db(db)
    slow, good = store.find_document(database, "slow.txt"), store.find_document(database, "good.txt")
    assert slow["status"] == "failed" and "longer than 1 s" in slow["error"] and "--doc-seconds" in slow["error"]
    assert good["status"] == "accepted"
    monkeypatch.setenv("XXGK_DOC_MEMORY_MB", "2GB")
    bad = xxgk("run", str(inbox), db=tmp_path / "new.db")
    assert bad.exit_code == 2 and "XXGK_DOC_MEMORY_MB" in bad.output and not (tmp_path / "new.db").exists()


def test_a_section_the_model_copies_unbalanced_is_queued_without_library_output_on_the_terminal(tmp_path):
    """004 prints blank totals: a model that copies them runs out of re-asks, which is recorded
    (one finding, the attempts in the store), not printed by instructor's logger on stderr."""
    from gold_double import GoldReport, GoldServer

    sample = next(p for p in SAMPLES if p.stem == "004_21ec6acd18ba8880")
    reports = [GoldReport(sample.name, sample.read_text(encoding="utf-8"), GOLD[sample.stem])]
    db = tmp_path / "x.db"
    command = [sys.executable, "-m", "extraction.cli", "run", str(sample), "--extractor", "llm", "--db", str(db)]
    with GoldServer(reports) as server:
        env = {**os.environ, "XXGK_LLM_BASE_URL": server.base_url, "XXGK_LLM_MODEL": "double", "XXGK_LLM_MODE": "TOOLS"}
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert "queued" in done.stdout and server.requests  # the model was asked, and re-asked
    assert "Max retries" not in done.stderr and "validation error" not in done.stderr, done.stderr


def test_a_file_over_the_time_budget_is_retried_by_run_with_retry_failed_after_the_budget_is_raised(
    tmp_path, monkeypatch
):
    sys.path.insert(0, str(ROOT / "bench"))
    import hostile

    path = tmp_path / "spans.html"
    hostile.html_spans(path, rows=4)  # real spans: 3.3 M cells, read in 2-4 s
    monkeypatch.setenv("XXGK_MAX_TABLE_CELLS", "1000000000")
    db = tmp_path / "t.db"
    first = xxgk("run", str(path), "--doc-seconds", "0.5", db=db)
    assert first.exit_code == 1 and "longer than 0.5 s to read it" in " ".join(first.output.split())
    again = xxgk("run", str(path), "--doc-seconds", "120", db=db)
    assert again.exit_code == 1 and "--retry-failed" in again.output  # failed stays failed, and it says how to retry
    retried = xxgk("run", str(path), "--doc-seconds", "120", "--retry-failed", db=db)
    assert retried.exit_code == 0, retried.output
    doc = store.find_document(store.open_db(db), "spans.html")
    assert doc["status"] == "queued" and doc["error"] is None and doc["text"]
