"""Claims: two runs never extract one document at once; a document that kills its worker is failed."""

import socket
import subprocess

from conftest import SAMPLES

from extraction import pipeline
from extraction.storage import claims, store


def dead_owner() -> str:
    process = subprocess.Popen(["true"])
    process.wait()
    return f"{socket.gethostname()}:{process.pid}:gone"


def test_a_document_that_killed_its_worker_twice_is_failed_not_retried(db):
    pipeline.ingest_paths(db, [str(p) for p in SAMPLES[1:4:2]])  # two samples the parser accepts
    killer, innocent = (d["id"] for d in store.documents(db))
    db["documents"].update(killer, {"claim": dead_owner(), "attempts": 2})
    db["documents"].update(innocent, {"claim": dead_owner(), "attempts": 1})  # in flight when it died once
    outcomes = {o.doc_id: o for o in pipeline.extract_documents(db, [killer, innocent])}
    assert outcomes[killer].status == "failed" and "killed its worker" in outcomes[killer].detail
    assert (
        store.document(db, killer)["status"] == "failed" and db["extractions"].count_where("doc_id = ?", [killer]) == 0
    )
    assert outcomes[innocent].status == "accepted" and store.document(db, innocent)["attempts"] == 0


def test_a_document_claimed_by_another_live_run_is_left_to_it(db):
    pipeline.ingest_paths(db, [str(SAMPLES[1])])
    doc_id = next(store.documents(db))["id"]
    assert store.claim(db, doc_id, store.owner(), "ingested") == "go"  # another run of this live process
    (outcome,) = pipeline.extract_documents(db, [doc_id])
    assert outcome.detail == "being extracted by another run" and db["extractions"].count == 0


def test_the_store_hands_on_the_claims_calls():
    assert (store.claim, store.release, store.owner, store.MAX_ATTEMPTS) == (
        claims.claim,
        claims.release,
        claims.owner,
        claims.MAX_ATTEMPTS,
    )
