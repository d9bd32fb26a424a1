"""The review library: queue, live re-check, derived totals, diffs, decisions, conflicts."""

import pytest
from conftest import SAMPLES

from extraction import pipeline, review, store


@pytest.fixture
def queued(db):
    pipeline.run(db, [str(p) for p in SAMPLES])
    return db


def sample_004(db) -> review.Item:
    """The sample whose （七）总计 row is printed blank."""
    return review.open_item(db, next(i.doc_id for i in review.queue(db) if i.name.endswith(SAMPLES[4].name)))


def test_queue_lists_queued_documents_oldest_first_with_reasons(queued):
    items = review.queue(queued)
    assert [i.name.rsplit("/", 1)[-1][:3] for i in items] == ["000", "004"]
    assert "applications.handled_sum.blank_total" in items[1].reasons
    assert review.reason_counts(items)["applications.balance"] == 2


def test_filling_derived_totals_clears_the_blank_total_findings(queued):
    item = sample_004(queued)
    fills = review.derived_totals(item.report)
    assert fills == {
        ("applications", "total_handled", "natural_person"): 3,
        ("applications", "total_handled", "other_org"): 1,
        ("applications", "total_handled", "total"): 4,
    }
    filled = review.with_values(item.report, fills)
    assert not [f for f in review.recheck(filled) if f.blocks_acceptance]
    assert len(review.diff(item.original, filled)) == 3


def test_save_fix_records_review_diff_and_gold_and_never_touches_the_extraction(queued):
    item = sample_004(queued)
    fixed = review.with_values(item.report, review.derived_totals(item.report))
    review_id = review.save_fix(queued, item, fixed, "ana")
    row = queued["reviews"].get(review_id)
    assert row["action"] == "fixed" and row["reviewer"] == "ana" and len(store.json.loads(row["diff"])) == 3
    assert queued["gold"].count_where("review_id = ?", [review_id]) == 1
    assert (
        store.report_of(store.current_extraction(queued, item.doc_id)).applications.value("total_handled", "total")
        is None
    )


def test_accept_as_printed_needs_a_note_and_records_the_inconsistency(queued):
    item = sample_004(queued)
    with pytest.raises(ValueError, match="note"):
        review.accept_as_printed(queued, item, item.report, "ana", "  ")
    review_id = review.accept_as_printed(queued, item, item.report, "ana", "原表（七）总计空白")
    assert queued["reviews"].get(review_id)["source_inconsistent"] == 1


def test_a_second_save_on_a_changed_item_is_refused_with_the_other_change(queued):
    mine, theirs = sample_004(queued), sample_004(queued)
    review.accept_as_printed(queued, theirs, theirs.report, "bob", "as printed")
    with pytest.raises(store.Conflict) as refused:
        review.save_fix(queued, mine, mine.report, "ana")
    assert refused.value.other["reviewer"] == "bob"
    assert queued["reviews"].count == 1


def test_stats_count_queue_and_throughput(queued):
    item = review.open_item(queued, review.queue(queued)[0].doc_id)
    review.accept_as_printed(queued, item, item.report, "ana", "as printed")
    figures = review.stats(queued)
    assert figures["status"]["reviewed"] == 1 and figures["queue_over_time"][-1]["queued"] == 1
    assert figures["reviews_per_day"][0]["reviewer"] == "ana"
