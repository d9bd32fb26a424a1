"""The main job on the samples and on bad input in one batch."""

import random
import subprocess
import sys
import time

from conftest import GOLD, ROOT, SAMPLES
from gold_double import GoldReport, GoldServer
from llm_double import ScriptedServer

from extraction import pipeline, workers
from extraction.model import llm
from extraction.read import ingest
from extraction.schema import Report
from extraction.storage import store
from extraction.synth import generator


def test_samples_with_a_blank_total_are_queued_with_that_finding_and_the_rest_accepted(db):
    # (002 waits too: its tab export loses empty fields, so where a lone 0 stands, blank or 0, is
    # not fixed by its text.)
    outcomes = {o.name: o for o in pipeline.run(db, [str(p) for p in SAMPLES])}
    for path in SAMPLES:
        doc = store.find_document(db, str(path))
        failing = [f for f in store.findings(db, doc["current_extraction"]) if f.blocks_acceptance]
        blank_totals = [f for f in failing if f.id.endswith("blank_total")]
        printed_blank_total = path.stem.startswith(("000", "004"))
        assert (doc["status"] == "queued") == (printed_blank_total or path.stem.startswith("002")), path.stem
        assert bool(blank_totals) == printed_blank_total
        assert outcomes[str(path)].status == doc["status"]


def test_a_bad_batch_goes_on_and_loses_nothing(db, tmp_path):
    tmp_path = tmp_path / "inbox"
    tmp_path.mkdir()
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    (tmp_path / "gbk.txt").write_bytes(SAMPLES[1].read_text(encoding="utf-8").encode("gbk"))
    (tmp_path / "weather.txt").write_text("今天天气很好。\n明天下雨。\n", encoding="utf-8")
    with (tmp_path / "huge.txt").open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    outcomes = {o.name.rsplit("/", 1)[-1]: o for o in pipeline.run(db, [str(tmp_path)])}
    assert db["documents"].count == 5
    assert outcomes["empty.txt"].status == "failed" and "empty" in outcomes["empty.txt"].detail
    assert outcomes["binary.txt"].status == "failed" and "binary" in outcomes["binary.txt"].detail
    assert outcomes["huge.txt"].status == "failed" and "50.0 MB" in outcomes["huge.txt"].detail
    assert outcomes["gbk.txt"].status == "accepted"  # GBK decoded, tables read, identities hold
    assert outcomes["weather.txt"].status == "queued" and "not_a_report" in outcomes["weather.txt"].detail


def test_a_parser_crash_fails_one_document_not_the_batch(db, monkeypatch):
    pipeline.ingest_paths(db, [str(p) for p in SAMPLES[:2]])

    def boom(text):
        raise RuntimeError("parser bug")

    monkeypatch.setattr("extraction.tables.layout.parse", boom)
    outcomes = pipeline.extract_documents(db, pipeline.pending(db))
    assert [o.status for o in outcomes] == ["failed", "failed"]
    assert "parser bug" in store.document(db, outcomes[0].doc_id)["error"]


def test_cross_year_check_runs_when_last_year_is_in_the_store(db, tmp_path):
    text = SAMPLES[2].read_text(encoding="utf-8")
    (tmp_path / "2019.txt").write_text(text, encoding="utf-8")
    (tmp_path / "2020.txt").write_text(text.replace("2019 年政府信息公开", "2020 年政府信息公开"), encoding="utf-8")
    pipeline.run(db, [str(tmp_path / "2019.txt")])
    pipeline.run(db, [str(tmp_path / "2020.txt")])
    doc = store.find_document(db, str(tmp_path / "2020.txt"))
    ids = {f.id for f in store.findings(db, doc["current_extraction"])}
    assert "applications.carried_over_vs_last_year.total" in ids


def test_a_cross_year_finding_follows_the_report_it_is_compared_with_and_no_other_of_that_year(db, tmp_path):
    from extraction.schema import Cell

    text = SAMPLES[3].read_text(encoding="utf-8")  # 2020
    earlier = text[:200].replace("2020年", "2019年") + text[200:]
    for name, body in (("later.txt", text), ("earlier.txt", earlier), ("copy.txt", earlier + "\n（副本）\n")):
        (tmp_path / name).write_text(body, encoding="utf-8")
    check = "applications.carried_over_vs_last_year.total"
    pipeline.run(db, [str(tmp_path / "later.txt")])
    later = store.find_document(db, "later.txt")

    def cross_year():
        rows = db.execute(
            "select f.id, f.status from findings f join documents d on d.current_extraction = f.extraction_id "
            "where d.id = ? and f.check_id = ?",
            [later["id"], check],
        ).fetchall()
        return rows[0] if rows else None

    assert cross_year() is None  # no previous year yet
    pipeline.run(db, [str(tmp_path / "earlier.txt")])
    first = store.find_document(db, "earlier.txt")
    appeared = cross_year()
    assert appeared is not None  # filed after its next year, and the next year is re-checked
    # Another report of 2019 (a second copy) is not the one 2020 is compared with: nothing to redo.
    pipeline.run(db, [str(tmp_path / "copy.txt")])
    copy = store.find_document(db, "copy.txt")
    assert pipeline.recheck_next_year(db, copy["id"]) == 0 and cross_year() == appeared
    assert pipeline.recheck_next_year(db, first["id"]) == 1

    carried_over = store.report_of(store.current_extraction(db, later["id"])).applications.value(
        "carried_over", "total"
    )

    def review(doc, carried_forward):
        report = store.report_of(store.current_extraction(db, doc["id"]))
        report.applications.set("carried_forward", "total", Cell.of(carried_forward))
        store.add_review(db, doc["id"], "ana", "accepted_as_printed", report, [], note="核对", source_inconsistent=True)

    review(first, carried_over + 7)
    assert cross_year()[1] == "fail"  # compared with the reviewed 结转下年度
    review(copy, carried_over)
    assert cross_year()[1] == "fail"  # the copy's review is not what 2020 is compared with
    review(first, carried_over)
    assert cross_year()[1] == "pass"


def test_a_batch_process_sweeps_garbage_less_often_and_only_when_asked():
    import gc
    import subprocess
    import sys

    # Importing the library (and its command line) leaves the process's settings alone.
    probe = "import gc; t = gc.get_threshold(); import extraction.cli; print(gc.get_threshold() == t)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.strip() == "True"
    before = gc.get_threshold()
    try:
        pipeline.tune_for_batch()
        assert gc.get_threshold()[0] > before[0]
    finally:
        gc.set_threshold(*before)


def _model_settings(db, server, kind="llm"):
    config = llm.LLMConfig(base_url=server.base_url, model="double", mode="TOOLS", timeout=5.0, http_retries=0)
    return pipeline.prepare(db, kind, config)


def test_a_model_answer_that_could_not_be_used_does_not_call_the_document_not_a_report(db, tmp_path):
    path = tmp_path / "r.txt"
    path.write_text(SAMPLES[2].read_text(encoding="utf-8"), encoding="utf-8")
    with ScriptedServer([{"text": "not json"}] * 12) as s:
        outcome = pipeline.run(db, [str(path)], settings=_model_settings(db, s))[0]
    ids = {f.id for f in store.findings(db, store.current_extraction(db, outcome.doc_id)["id"])}
    assert outcome.status == "queued" and "applications.llm.unparseable" in ids
    assert "document.not_a_report" not in ids


def test_retry_model_failures_asks_again_only_the_reports_whose_call_failed(db, tmp_path):
    # The default prompt asks for a report's sections in one call: a report is answered or its call
    # failed as a whole (per-section retries in one report: tests/model/test_llm.py, cached sections).
    reports, paths = [], []
    for sample in (SAMPLES[3], SAMPLES[1]):  # reports every check accepts
        text = sample.read_text(encoding="utf-8")
        reports.append(GoldReport(sample.name, text, GOLD[sample.stem]))
        paths.append(tmp_path / sample.name)
        paths[-1].write_text(text, encoding="utf-8")
    _, failing = reports

    with GoldServer(reports) as s:

        def down_for_the_second(body):  # the endpoint fails the second report's call only
            return {"status": 503} if s.quoted_report(body) is failing else s.answer(body)

        s.add(down_for_the_second, down_for_the_second)
        first = pipeline.run(db, [str(p) for p in paths], settings=_model_settings(db, s))
    assert [o.status for o in first] == ["accepted", "queued"] and len(s.requests) == 2
    assert pipeline.pending(db, model_failures=True) == [first[1].doc_id]
    with GoldServer(reports) as s:
        todo = pipeline.pending(db, model_failures=True)
        again = pipeline.extract_documents(db, todo, settings=_model_settings(db, s))
    # One call, for the report that failed; the accepted one's answer, paid for, is not asked again.
    assert len(s.requests) == 1 and s.quoted_report(s.requests[0]) is failing
    assert set(s.requests[0]["tools"][0]["function"]["parameters"]["properties"]) == {"二", "三", "四"}
    assert again[0].status == "accepted" and store.find_document(db, str(paths[0]))["status"] == "accepted"
    assert pipeline.pending(db, model_failures=True) == []


def test_two_runs_on_one_store_never_crash_and_extract_each_document_once(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for i, report in enumerate(generator.batch(5, 24, ("cell_per_line", "tab_rows"), error_rate=0.1)):
        (inbox / f"r{i:02d}.txt").write_text(report.text, encoding="utf-8")
    for round_ in range(1):  # one round here; bench/faults.py --only concurrent_runs runs 20
        db_path = tmp_path / f"shared{round_}.db"
        command = [sys.executable, "-m", "extraction.cli", "run", str(inbox), "--db", str(db_path)]
        command += ["--extractor", "layout"]
        runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in "ab"]
        finished = [run.communicate(timeout=120) for run in runs]
        for run, (out, errors) in zip(runs, finished, strict=True):
            assert run.returncode == 0, out + errors
            assert "Traceback" not in errors
        db = store.open_db(db_path)
        assert db["documents"].count == 24
        per_doc = db.execute("select doc_id, count(*) from extractions group by doc_id").fetchall()
        assert len(per_doc) == 24 and {n for _, n in per_doc} == {1}
        assert all(d["claim"] is None for d in store.documents(db))


def test_a_bad_byte_inside_a_table_keeps_the_report_and_queues_it_naming_the_place(db, tmp_path):
    data = SAMPLES[1].read_bytes()
    cut = data.index("收到和处理政府信息公开申请情况".encode()) + 60
    path = tmp_path / "r.txt"
    path.write_bytes(data[:cut] + b"\xff" + data[cut:])
    (outcome,) = pipeline.run(db, [str(path)])
    assert outcome.status == "queued" and "document.decoding" in outcome.detail
    doc = store.find_document(db, str(path))
    (finding,) = [f for f in store.findings(db, doc["current_extraction"]) if f.id == "document.decoding"]
    assert finding.blocks_acceptance and "bytes ff, in a table" in finding.message and "line " in finding.message


def test_a_number_longer_than_any_count_is_kept_as_text_for_a_person_and_the_batch_goes_on(db, tmp_path):
    # 22 digits in one cell: digits run together that nothing cut, or a lie. SQLite integers stop
    # at 2**63 and Excel keeps 15 digits, so it is not stored as a value (it once killed the batch).
    text = generator.generate(random.Random(3), "tab_rows").readable()
    row = "一、本年新收政府信息公开申请数量\t"
    assert row in text
    huge = "1911831322102241771117"
    first, after = text.split(row, 1)
    (tmp_path / "huge.txt").write_text(first + row + huge + after[after.index("\t") :], encoding="utf-8")
    (tmp_path / "next.txt").write_text(SAMPLES[1].read_text(encoding="utf-8"), encoding="utf-8")
    outcomes = pipeline.run(db, [str(tmp_path / "huge.txt"), str(tmp_path / "next.txt")])
    assert [o.status for o in outcomes] == ["queued", "accepted"]
    doc = store.find_document(db, str(tmp_path / "huge.txt"))
    report = store.report_of(store.current_extraction(db, doc["id"]))
    cell = report.table("applications").cell("new_received", "natural_person")
    assert cell.value is None and cell.raw == huge
    findings = store.findings(db, doc["current_extraction"])
    (finding,) = [f for f in findings if f.id.endswith("unreadable_value")]
    assert finding.blocks_acceptance and huge in finding.message


sys.path.insert(0, str(ROOT / "bench"))
import hostile  # noqa: E402  (the hostile files are made by code there)


def _batch_with(tmp_path, make, name):
    """An inbox of a hostile file between two good reports."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a_good.txt").write_text(SAMPLES[1].read_text(encoding="utf-8"), encoding="utf-8")
    make(inbox / name)
    (inbox / "z_good.txt").write_text(SAMPLES[3].read_text(encoding="utf-8"), encoding="utf-8")
    return inbox


def _store_intact(db):
    assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert all(d["claim"] is None for d in store.documents(db))


def test_a_report_that_takes_past_the_time_limit_to_extract_fails_naming_it_and_is_not_retried(db, tmp_path):
    # A real slow input: rows of 20-digit runs, which the layout parser weighs for some 3-5 s.
    inbox = _batch_with(tmp_path, hostile.digit_runs, "m_digits.txt")
    budget = workers.Budget(seconds=1)
    started = time.monotonic()
    outcomes = {o.name.rsplit("/", 1)[-1]: o for o in pipeline.run(db, [str(inbox)], budget=budget)}
    assert time.monotonic() - started < 30
    slow = outcomes["m_digits.txt"]
    assert slow.status == "failed" and "took longer than 1 s to extract its tables" in slow.detail
    assert "XXGK_DOC_SECONDS" in store.document(db, slow.doc_id)["error"]
    assert outcomes["a_good.txt"].status == outcomes["z_good.txt"].status == "accepted"
    _store_intact(db)
    # Failed is final: a rerun reports it as stored and does not try it again.
    again = {o.name.rsplit("/", 1)[-1]: o for o in pipeline.run(db, [str(inbox)], budget=budget)}
    assert again["m_digits.txt"].status == "failed" and again["m_digits.txt"].detail == "already in the store"
    assert pipeline.pending(db) == []
    assert db["extractions"].count_where("doc_id = ?", [slow.doc_id]) == 0
    assert db["extractions"].count == 2
    # Forced, with the budget raised, it is extracted and filed like any other.
    assert slow.doc_id in pipeline.pending(db, force=True)
    (forced,) = pipeline.extract_documents(db, [slow.doc_id], budget=workers.Budget(seconds=300))
    assert forced.status == "queued" and store.document(db, slow.doc_id)["error"] is None


def test_a_report_that_needs_more_than_the_memory_limit_to_extract_fails_naming_it(tmp_path):
    # The 20-digit runs make a worker grow by some 80-110 MB; a good report, by under 20 MB. Run
    # from a fresh process: forked from a long test session, a worker first fills the free room
    # of the heap it inherits, which its growth does not show.
    inbox = _batch_with(tmp_path, hostile.digit_runs, "m_digits.txt")
    db_path = tmp_path / "m.db"
    code = (
        "import sys; from extraction import pipeline, workers; from extraction.storage import store; "
        "pipeline.run(store.open_db(sys.argv[1]), [sys.argv[2]], budget=workers.Budget(seconds=120, memory_mb=50))"
    )
    subprocess.run([sys.executable, "-c", code, str(db_path), str(inbox)], check=True, timeout=300, cwd=ROOT)
    db = store.open_db(db_path)
    docs = {name: store.find_document(db, name) for name in ("a_good.txt", "m_digits.txt", "z_good.txt")}
    assert [d["status"] for d in docs.values()] == ["accepted", "failed", "accepted"]
    assert "needed more than 50 MB of memory to extract its tables" in docs["m_digits.txt"]["error"]
    _store_intact(db)


def test_a_file_that_needs_more_than_the_memory_limit_to_read_fails_naming_it_and_the_batch_goes_on(db, tmp_path):
    # A real hostile file with the reader's own cell cap lifted: spans laying out 22 M cells.
    inbox = _batch_with(tmp_path, hostile.html_spans, "m_spans.html")
    limits = ingest.Limits(max_table_cells=10**9)
    outcomes = pipeline.run(db, [str(inbox)], limits=limits, budget=workers.Budget(memory_mb=300))
    assert [o.status for o in outcomes] == ["accepted", "failed", "accepted"]
    assert "needed more than 300 MB of memory to read it" in outcomes[1].detail
    doc = store.document(db, outcomes[1].doc_id)
    assert doc["status"] == "failed" and doc["text"] is None and doc["format"] == "HTML"
    _store_intact(db)
    assert pipeline.ingest_paths(db, [str(inbox / "m_spans.html")], limits=limits)[0].status == "present"


def test_a_file_that_failed_at_read_is_read_again_with_a_raised_budget_only_when_asked(db, tmp_path):
    # A real hostile file, small: spans laying out 3.3 M cells, read in 2-4 s. A time budget, not a
    # memory one: a worker forked from a process with free heap may grow into it unseen.
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    hostile.html_spans(inbox / "m_spans.html", rows=4)
    limits = ingest.Limits(max_table_cells=10**9)
    (first,) = pipeline.run(db, [str(inbox)], limits=limits, budget=workers.Budget(seconds=0.5))
    assert first.status == "failed" and "took longer than 0.5 s to read it" in first.detail
    raised = workers.Budget(seconds=120)
    (again,) = pipeline.run(db, [str(inbox)], limits=limits, budget=raised)
    assert again.status == "failed" and again.detail == "already in the store"  # not asked: failed stays
    (retried,) = pipeline.run(db, [str(inbox)], limits=limits, budget=raised, retry_failed=True)
    assert retried.doc_id == first.doc_id and retried.status in ("accepted", "queued")
    doc = store.document(db, first.doc_id)
    assert doc["error"] is None and doc["format"] == "HTML" and len(doc["text"]) > 1_000_000
    assert db["documents"].count == 1 and db["extractions"].count_where("doc_id = ?", [first.doc_id]) == 1
    _store_intact(db)
    # Read now: asking again reads nothing and extracts nothing.
    (settled,) = pipeline.run(db, [str(inbox)], limits=limits, budget=raised, retry_failed=True)
    assert settled.detail == "already in the store" and db["extractions"].count == 1


def test_a_retried_reading_that_fails_again_keeps_the_new_reason_and_a_discarded_one_is_left_alone(db, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    hostile.html_spans(inbox / "m_spans.html", rows=4)
    hostile.html_spans(inbox / "n_spans.html", rows=5)
    lifted = ingest.Limits(max_table_cells=10**9)
    outcomes = pipeline.ingest_paths(db, [str(inbox)], limits=lifted, budget=workers.Budget(seconds=0.5))
    assert [o.status for o in outcomes] == ["failed", "failed"]
    discarded = outcomes[1].doc_id
    store.add_review(db, discarded, "ana", "discarded", Report(), [], note="not a report")
    # Retried under the reader's own cell cap: the first fails again, now saying why that is.
    capped = ingest.Limits(max_table_cells=50_000)
    retried = pipeline.ingest_paths(db, [str(inbox)], limits=capped, budget=workers.Budget(), retry_failed=True)
    error = store.document(db, retried[0].doc_id)["error"]
    assert retried[0].status == "failed" and "XXGK_MAX_TABLE_CELLS" in error and "longer than" not in error
    assert retried[1].status == "present"
    row = store.document(db, discarded)
    assert row["status"] == "discarded" and row["text"] is None and store.latest_review(db, discarded)


def test_run_retry_failed_extracts_again_a_document_whose_extraction_failed(db, tmp_path):
    path = tmp_path / "m_spans.html"
    hostile.html_spans(path, rows=4)  # its 3.3 M characters take the layout parser 0.4-1 s
    lifted = ingest.Limits(max_table_cells=10**9)
    (read,) = pipeline.ingest_paths(db, [str(path)], limits=lifted)
    (failed,) = pipeline.extract_documents(db, [read.doc_id], budget=workers.Budget(seconds=0.1))
    assert failed.status == "failed" and "longer than 0.1 s to extract its tables" in failed.detail
    (again,) = pipeline.run(db, [str(path)], limits=lifted)
    assert again.status == "failed" and again.detail == "already in the store"
    (retried,) = pipeline.run(db, [str(path)], limits=lifted, retry_failed=True)
    assert retried.status == "queued" and store.document(db, read.doc_id)["error"] is None
    assert db["extractions"].count == 1


def test_a_file_that_takes_past_the_time_limit_to_read_is_recorded_by_its_bytes(db, tmp_path):
    # 150,000 real page objects with the page cap lifted: pdfplumber lists them for tens of seconds.
    inbox = _batch_with(tmp_path, hostile.pdf_many_pages, "m_long.pdf")
    limits = ingest.Limits(max_pages=10**6)
    outcomes = pipeline.run(db, [str(inbox)], limits=limits, budget=workers.Budget(seconds=1))
    assert [o.status for o in outcomes] == ["accepted", "failed", "accepted"]
    assert "took longer than 1 s to read it" in outcomes[1].detail
    assert outcomes[1].doc_id == ingest.file_id(inbox / "m_long.pdf")  # the same bytes are known next time
    assert store.document(db, outcomes[1].doc_id)["format"] == "PDF"
    _store_intact(db)


def test_the_model_path_runs_in_the_workers_and_the_breaker_counts_across_documents(db, tmp_path):
    paths = []
    for i in range(3):
        path = tmp_path / f"r{i}.txt"
        path.write_text(SAMPLES[2].read_text(encoding="utf-8") + f"\n副本{i}\n", encoding="utf-8")
        paths.append(str(path))
    with ScriptedServer([{"status": 500}] * 40) as server:
        config = llm.LLMConfig(
            base_url=server.base_url, model="double", mode="TOOLS", timeout=5.0, http_retries=0, breaker_after=2
        )
        settings = pipeline.prepare(db, "llm", config)
        outcomes = pipeline.run(db, paths, settings=settings)
    assert [o.status for o in outcomes] == ["queued"] * 3
    assert len(server.requests) == 2  # the third failure never happened: the batch's breaker opened
    assert settings.breaker is not None and settings.breaker.open
    last = store.findings(db, store.current_extraction(db, outcomes[2].doc_id)["id"])
    assert any(f.id.endswith("llm.model_unavailable") for f in last)
