"""A batch killed with SIGKILL mid-run, then run again: every document exactly once, nothing lost."""

import os
import signal
import subprocess
import sys
import time

from conftest import GOLD, SAMPLES
from llm_double import ScriptedServer
from model.test_llm import applications_answer, proactive_answer, review_answer

from extraction.storage import store

TEXT = SAMPLES[3].read_text(encoding="utf-8")  # 003: a report every check accepts


def faithful(body):
    """Answer the report call (every section in one, the default prompt), slowly, as a real model
    takes time: about what three section calls took, so the kill still lands mid-batch."""
    answer = {
        "proactive": proactive_answer(TEXT),
        "applications": applications_answer(GOLD[SAMPLES[3].stem]),
        "review_litigation": review_answer(GOLD[SAMPLES[3].stem]),
    }
    return {"delay": 0.45, "json": answer}


def test_killed_batch_resumes_without_duplicates_or_losses(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for i in range(8):
        (inbox / f"r{i}.txt").write_text(TEXT + f"\n副本{i}\n", encoding="utf-8")
    db_path = tmp_path / "x.db"
    with ScriptedServer([faithful] * 200) as server:
        env = {**os.environ, "XXGK_LLM_BASE_URL": server.base_url, "XXGK_LLM_MODEL": "double", "XXGK_LLM_MODE": "TOOLS"}
        command = [sys.executable, "-m", "extraction.cli", "run", str(inbox), "--db", str(db_path)]
        command += ["--extractor", "llm", "--concurrency", "1"]
        victim = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        db = store.open_db(db_path)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and store.status_counts(db)["accepted"] < 2:
            time.sleep(0.05)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        done_before = store.status_counts(db)["accepted"]
        assert 2 <= done_before < 8, "the kill should land mid-batch"

        again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    counts = store.status_counts(db)
    assert counts["accepted"] == 8 and db["documents"].count == 8
    for doc in store.documents(db):
        extractions = db["extractions"].count_where("doc_id = ?", [doc["id"]])
        assert extractions == 1, f"{doc['name']} extracted {extractions} times"
        assert doc["current_extraction"] is not None
    # Calls are only ever stored with the extraction they belong to: none dangle from the killed run.
    assert (
        db.execute("select count(*) from llm_calls where extraction_id not in (select id from extractions)").fetchone()[
            0
        ]
        == 0
    )
