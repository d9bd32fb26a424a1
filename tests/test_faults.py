"""The fast part of bench/faults.py: every scenario, small, and none may lose a document or
accept a wrong one."""

import sys

import pytest
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(ROOT / "bench"))
import faults


def assert_nothing_lost(row: faults.Row) -> None:
    assert row.documents > 0, row
    assert row.lost == 0 and row.wrong_accepted == 0, row
    assert row.survived == row.documents, row


def test_killed_and_rerun_extraction_keeps_every_document_and_review(tmp_path):
    row = faults.crash(tmp_path, documents=40, kills=2, seed=3)
    assert_nothing_lost(row)
    assert "5 reviews kept" in row.note


def test_reviewers_saving_during_extraction_never_see_a_locked_database(tmp_path):
    row = faults.concurrency(tmp_path, documents=40, seed=4)
    assert_nothing_lost(row)
    assert " 0 errors" in row.note and "reviews saved" in row.note


def test_a_flaky_endpoint_leaves_every_document_filed_with_a_reason(tmp_path):
    assert_nothing_lost(faults.flaky_endpoint(tmp_path, documents=10, seed=5))


def test_a_model_obeying_planted_instructions_gets_nothing_accepted(tmp_path):
    row = faults.injection(tmp_path, documents=8, seed=6)
    assert_nothing_lost(row)
    assert "accepted" not in row.note  # every obeyed answer is queued


def test_mutated_and_random_reports_never_crash_or_hang_a_stage():
    assert_nothing_lost(faults.fuzz(150, seed=7, limit=5))


def test_hostile_text_never_leaves_the_source_view_as_markup():
    assert_nothing_lost(faults.review_html(seed=8))


def test_names_with_path_tricks_export_as_data_and_write_nothing_else(tmp_path):
    assert_nothing_lost(faults.export_paths(tmp_path))


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_files_past_a_limit_fail_naming_the_limit_and_the_batch_goes_on(tmp_path):
    assert_nothing_lost(faults.limits(tmp_path))


report_alphabet = st.sampled_from(
    list("0123456789０１２３４５６７８９ \t\n/-—增减万元（）()一二三四五六七总计结转申请公开规章")
)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(), st.text(alphabet=report_alphabet, max_size=3000)))
def test_any_text_goes_through_every_stage_without_an_exception(text):
    faults.every_stage(text)
