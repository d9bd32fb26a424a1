"""One sample through a real model endpoint. Skipped unless XXGK_LLM_BASE_URL is set."""

import os

import pytest
from conftest import GOLD, SAMPLES

from extraction import pipeline
from extraction.storage import store

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not os.environ.get("XXGK_LLM_BASE_URL"), reason="set XXGK_LLM_BASE_URL to test a real model"),
]


def test_a_real_model_reads_a_sample_and_nothing_wrong_is_accepted(db):
    sample = SAMPLES[2]
    outcome = pipeline.run(db, [str(sample)], settings=pipeline.prepare(db, "llm"))[0]
    assert outcome.status in ("accepted", "queued"), outcome.detail
    extraction = store.current_extraction(db, outcome.doc_id)
    assert extraction["model"] and extraction["mode"] and extraction["prompt_version"].startswith("v1@")
    report = store.report_of(extraction)
    assert report.applications is not None
    if outcome.status == "accepted":  # the number that matters: an accepted table is a right table
        for section in ("applications", "review_litigation"):
            assert report.table(section).values() == GOLD[sample.stem][section]
