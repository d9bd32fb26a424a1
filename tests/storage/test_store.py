"""The store's promises: idempotent ingest, every attempt kept, reviews never lost."""

import dataclasses
import signal
import subprocess
import sys

import pytest
from conftest import SAMPLES

from extraction import pipeline
from extraction.read import ingest
from extraction.schema import Cell, Report
from extraction.storage import store


def run_samples(db):
    return pipeline.run(db, [str(p) for p in SAMPLES])


def test_ingesting_the_same_bytes_twice_is_a_no_op(db, tmp_path):
    copy = tmp_path / "renamed.txt"
    copy.write_bytes(SAMPLES[0].read_bytes())
    first = pipeline.ingest_paths(db, [str(SAMPLES[0])])
    again = pipeline.ingest_paths(db, [str(SAMPLES[0]), str(copy)])
    assert [o.status for o in first] == ["ingested"]
    assert [o.status for o in again] == ["present", "present"]
    assert db["documents"].count == 1


def test_extracting_twice_keeps_both_attempts_and_one_current(db):
    run_samples(db)
    doc_id = next(store.documents(db))["id"]
    first = store.current_extraction(db, doc_id)["id"]
    pipeline.extract_document(db, doc_id)
    assert db["extractions"].count_where("doc_id = ?", [doc_id]) == 2
    assert store.current_extraction(db, doc_id)["id"] != first
    # Findings belong to their own attempt: the old attempt's are still there, not duplicated.
    assert len(store.findings(db, first)) == len(store.findings(db, store.current_extraction(db, doc_id)["id"]))


def test_run_twice_does_not_re_extract_or_duplicate(db):
    run_samples(db)
    before = db["extractions"].count
    outcomes = run_samples(db)
    assert db["extractions"].count == before
    assert {o.status for o in outcomes} == {"accepted", "queued"}


def test_a_review_survives_re_extraction_and_re_checking(db):
    run_samples(db)
    queued = next(store.documents(db, "queued"))
    report = store.report_of(store.current_extraction(db, queued["id"]))
    report.applications.set("total_handled", "total", Cell.of(4))
    store.add_review(db, queued["id"], "ana", "fixed", report, [{"cell": "applications.total_handled.total"}])
    pipeline.extract_document(db, queued["id"])
    extraction = store.current_extraction(db, queued["id"])
    store.replace_findings(db, queued["id"], extraction["id"], store.findings(db, extraction["id"]))
    assert store.document(db, queued["id"])["status"] == "reviewed"
    review = store.latest_review(db, queued["id"])
    assert store.report_of(review).applications.value("total_handled", "total") == 4
    assert db["gold"].count == 1


def test_accept_as_printed_needs_a_note(db):
    run_samples(db)
    queued = next(store.documents(db, "queued"))
    report = store.report_of(store.current_extraction(db, queued["id"]))
    with pytest.raises(ValueError, match="note"):
        store.add_review(db, queued["id"], "ana", "accepted_as_printed", report, [], note=" ")
    assert store.latest_review(db, queued["id"]) is None
    store.add_review(
        db, queued["id"], "ana", "accepted_as_printed", report, [], note="总计栏空白", source_inconsistent=True
    )
    assert store.latest_review(db, queued["id"])["source_inconsistent"] == 1


def test_status_counts_and_top_failing_checks(db):
    run_samples(db)
    counts = store.status_counts(db)
    assert counts["accepted"] + counts["queued"] == len(SAMPLES)
    top = dict(store.top_failing_checks(db))
    assert top["applications.handled_sum.blank_total"] == 2


def test_store_uses_wal(db):
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


# --- All or nothing, and runs sharing a store ----------------------------------------------

KILLED_IN = """
import os, signal, sys
import sqlite_utils.db
from extraction.read import ingest
from extraction import pipeline
from extraction.storage import store

table, db_path, what = sys.argv[1], sys.argv[2], sys.argv[3]
insert_all = sqlite_utils.db.Table.insert_all

def dying(self, records, *args, **kwargs):
    if self.name == table:  # the first rows of the write are in: die before the rest
        os.kill(os.getpid(), signal.SIGKILL)
    return insert_all(self, records, *args, **kwargs)

sqlite_utils.db.Table.insert_all = dying
db = store.open_db(db_path)
if what == "scan":
    store.add_document(db, ingest.Document("scan", "scan.png", "image", 3, "text", images=(b"png",)))
else:
    pipeline.run(db, [what])
"""


@pytest.mark.parametrize(("table", "what"), [("page_images", "scan"), ("findings", str(SAMPLES[1]))])
def test_a_kill_inside_a_write_leaves_all_of_the_document_or_none(tmp_path, table, what):
    db_path = tmp_path / "x.db"
    killed = subprocess.run([sys.executable, "-c", KILLED_IN, table, str(db_path), what], timeout=60)
    assert killed.returncode == -signal.SIGKILL
    db = store.open_db(db_path)
    if what == "scan":  # the document row went in before its page images: rolled back with them
        assert db["documents"].count == 0 and db["page_images"].count == 0
        return
    assert db["extractions"].count == 0  # the extraction row went in before its findings: rolled back
    assert [d["status"] for d in store.documents(db)] == ["ingested"]
    assert [o.status for o in pipeline.run(db, [what])] == ["accepted"]
    assert db["extractions"].count == 1 and store.document(db, next(store.documents(db))["id"])["attempts"] == 0


def test_a_new_store_links_every_record_to_its_document(db):
    # Datasette shows these as links: a finding, call, review or gold example points at what it belongs to.
    assert {fk.other_table for fk in db["findings"].foreign_keys} == {"documents", "extractions"}
    assert {fk.other_table for fk in db["llm_calls"].foreign_keys} == {"documents", "extractions"}
    assert {fk.other_table for fk in db["reviews"].foreign_keys} == {"documents", "extractions"}
    assert {fk.other_table for fk in db["gold"].foreign_keys} == {"documents", "reviews"}


def _failed_read(doc_id: str = "f" * 64) -> ingest.Document:
    reason = "needed more than 40 MB of memory to read it: stopped (the per-document memory limit)"
    return ingest.Document(doc_id, "scan.pdf", "PDF", 10, None, reason)


def test_a_document_failed_at_read_takes_the_new_reading_and_its_pages_when_read_again(db):
    failed = _failed_read()
    assert store.add_document(db, failed)
    assert store.failed_at_read(store.document(db, failed.id))
    read = dataclasses.replace(
        failed, format="PDF (scanned)", text=SAMPLES[0].read_text("utf-8"), error=None, pages=2, images=(b"1", b"2")
    )
    assert store.replace_reading(db, read)
    row = store.document(db, failed.id)
    assert (row["status"], row["error"], row["format"], row["pages"]) == ("ingested", None, "PDF (scanned)", 2)
    assert row["text"] == read.text and store.page_images(db, failed.id) == [b"1", b"2"]
    assert db["documents"].count == 1
    # Read now: a second reading (another run's, a stale retry) changes nothing.
    assert not store.replace_reading(db, dataclasses.replace(read, text="other", images=(b"3",)))
    assert store.document(db, failed.id)["text"] == read.text and store.page_images(db, failed.id) == [b"1", b"2"]


def test_a_failed_reading_read_again_and_failing_again_keeps_only_the_new_reason(db):
    failed = _failed_read()
    store.add_document(db, failed)
    assert store.replace_reading(db, dataclasses.replace(failed, error="took longer than 60 s to read it"))
    row = store.document(db, failed.id)
    assert row["status"] == "failed" and row["error"] == "took longer than 60 s to read it"


def test_a_document_a_person_discarded_is_never_read_again(db):
    failed = _failed_read()
    store.add_document(db, failed)
    store.add_review(db, failed.id, "ana", "discarded", Report(), [], note="not a report")
    assert not store.replace_reading(db, dataclasses.replace(failed, text="text", error=None))
    row = store.document(db, failed.id)
    assert row["status"] == "discarded" and row["text"] is None and store.latest_review(db, failed.id)


def test_a_reviewed_document_whose_re_extraction_fails_stays_reviewed(db):
    run_samples(db)
    doc = next(store.documents(db, "queued"))
    report = store.report_of(store.current_extraction(db, doc["id"]))
    store.add_review(db, doc["id"], "ana", "fixed", report, [])
    store.set_failed(db, doc["id"], "took longer than 60 s to extract its tables")
    row = store.document(db, doc["id"])
    assert row["status"] == "reviewed" and "60 s" in row["error"]
    assert doc["id"] not in [d["id"] for d in store.documents(db, "failed")]
