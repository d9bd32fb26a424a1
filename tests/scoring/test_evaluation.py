"""The scorer on hand-built gold and extraction pairs, and `xxgk eval` on the samples."""

import json
import shutil

from conftest import GOLD, ROOT
from typer.testing import CliRunner

from extraction import pipeline, review
from extraction.cli import app
from extraction.schema import Finding, Report, Table
from extraction.scoring import eval_html, evaluation
from extraction.storage import store

COLS = ["upheld", "corrected", "other", "pending", "total"]


def review_table(rows: dict[str, list]) -> Table:
    return Table.from_values("review_litigation", "2021", {g: dict(zip(COLS, v, strict=True)) for g, v in rows.items()})


def gold(rows: dict[str, list], doc_id: str = "d1") -> evaluation.Gold:
    table = review_table(rows).values()
    return evaluation.Gold(
        doc_id, f"{doc_id}.txt", {"proactive": None, "applications": None, "review_litigation": table}, "t"
    )


GOLD_ROWS = {"review": [1, 0, None, None, 1], "litigation_direct": [0, 0, 0, 0, 0]}


def scored(got_rows, status="accepted", findings=(), groups=None):
    report = Report(review_litigation=review_table(got_rows)) if got_rows is not None else Report()
    return evaluation.score(gold(GOLD_ROWS), report, list(findings), status, groups or {"extractor": "layout"})


def test_a_perfect_extraction_scores_everything_full():
    m = evaluation.metrics([scored(GOLD_ROWS)])
    assert m["accuracy"] == m["nonzero_recall"] == m["nonzero_precision"] == m["exact_report_rate"] == 1.0
    assert m["accepted_but_wrong"] == 0


def test_blank_and_zero_are_different_answers_unless_asked_otherwise():
    got = {"review": [1, 0, 0, None, 1], "litigation_direct": [0, 0, 0, 0, 0]}  # a 0 where the gold is blank
    score = scored(got)
    m = evaluation.metrics([score])
    assert m["accuracy"] == 14 / 15 and m["accuracy_blank_as_zero"] == 1.0
    assert [(w.row, w.column, w.gold, w.got) for w in score.wrong] == [("review", "other", None, 0)]


def test_an_all_blank_extraction_has_zero_nonzero_recall():
    blank = {"review": [None] * 5, "litigation_direct": [None] * 5}
    m = evaluation.metrics([scored(blank)])
    assert m["nonzero_recall"] == 0.0 and m["nonzero_f1"] == 0.0 and m["nonzero_precision"] is None
    assert m["accuracy_blank_as_zero"] < 1.0  # the gold's 1s are missing even when blank counts as 0


def test_an_accepted_wrong_table_is_in_the_safety_list():
    wrong = {"review": [1, 0, None, None, 2], "litigation_direct": [0, 0, 0, 0, 0]}
    run = evaluation.Run("t", [scored(wrong, status="accepted")])
    summary = run.summary()
    assert summary["overall"]["accepted_but_wrong"] == 1
    assert summary["accepted_but_wrong"] == [{"doc_id": "d1", "source": "d1.txt", "wrong_cells": 1}]


def test_queued_reports_count_towards_queue_rate_and_wasted_review_when_already_right():
    right_but_queued = scored(GOLD_ROWS, status="queued")
    wrong_and_queued = scored({"review": [9, 0, None, None, 1], "litigation_direct": [0] * 5}, status="queued")
    m = evaluation.metrics([right_but_queued, wrong_and_queued, scored(GOLD_ROWS)])
    assert m["queue_rate"] == 2 / 3 and m["queued_but_correct_rate"] == 0.5 and m["accepted_but_wrong"] == 0


def test_a_missing_table_makes_every_gold_cell_wrong():
    score = scored(None)
    assert score.strict_right == 0 and {w.got for w in score.wrong} == {evaluation.MISSING}
    assert not score.tables_exact["review_litigation"] and score.tables_exact["applications"]


def test_a_wrong_cell_names_the_identity_that_caught_it():
    wrong = {"review": [1, 0, None, None, 2], "litigation_direct": [0, 0, 0, 0, 0]}
    finding = Finding.blocking(
        "review_litigation.sum.review", "f", "m", cells=[("review_litigation", "review", "total")]
    )
    score = scored(wrong, status="queued", findings=[finding])
    assert score.wrong[0].caught_by == ["review_litigation.sum.review"]
    assert scored(wrong).wrong[0].caught_by == []  # "not caught"


def test_a_finding_that_names_no_cell_catches_its_whole_section_or_the_whole_document():
    failed_call = Finding.blocking("review_litigation.llm.request_failed", "f", "the model endpoint failed")
    other_section = Finding.blocking("applications.llm.request_failed", "f", "the model endpoint failed")
    not_a_report = Finding.blocking("document.not_a_report", "f", "no section found")
    for finding in (failed_call, not_a_report):
        score = scored(None, status="queued", findings=[finding])
        assert score.wrong and all(w.caught_by == [finding.id] for w in score.wrong)
    assert all(w.caught_by == [] for w in scored(None, status="queued", findings=[other_section]).wrong)
    advisory = failed_call.model_copy(update={"severity": "soft"})  # only blocking findings catch
    assert all(w.caught_by == [] for w in scored(None, status="queued", findings=[advisory]).wrong)


def test_breakdowns_group_by_extractor_and_layout_family():
    a = scored(GOLD_ROWS, groups={"extractor": "layout", "layout:review_litigation": "tab_rows"})
    b = scored(
        {"review": [0] * 5, "litigation_direct": [0] * 5},
        groups={"extractor": "llm:m", "layout:review_litigation": "llm:m"},
    )
    by_extractor = evaluation.breakdown([a, b], "extractor")
    assert by_extractor["layout"]["accuracy"] == 1.0 and by_extractor["llm:m"]["accuracy"] < 1.0
    by_layout = evaluation.breakdown([a, b], "layout")
    assert by_layout["tab_rows"]["exact_table_rate"] == 1.0 and by_layout["llm:m"]["exact_table_rate"] == 0.0
    assert evaluation.wrong_rows([a, b])["review_litigation.review"] == 4  # 1,0,blank,blank,1 read as zeros


def test_compare_lists_new_and_fixed_errors():
    before = evaluation.Run("a", [scored({"review": [1, 0, None, None, 2], "litigation_direct": [0] * 5})]).record()
    after = evaluation.Run("b", [scored({"review": [1, 0, None, 5, 1], "litigation_direct": [0] * 5})]).record()
    diff = evaluation.compare(before, after)
    assert [w["column"] for w in diff["fixed_errors"]] == ["total"]
    assert [w["column"] for w in diff["new_errors"]] == ["pending"]


def test_html_report_escapes_source_text():
    score = scored({"review": [1, 0, None, None, 2], "litigation_direct": [0] * 5})
    score.wrong[0].snippet = "<script>alert(1)</script> **粗体**"
    page = eval_html.render(evaluation.Run("t", [score]).record())
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<svg" in page and "accepted without review and wrong" in page


def test_eval_on_the_samples_shows_every_figure_saves_runs_and_compares(tmp_path):
    db = str(tmp_path / "e.db")
    html = tmp_path / "report.html"
    first = CliRunner().invoke(app, ["eval", "--gold", str(ROOT / "data" / "gold"), "--db", db, "--report", str(html)])
    assert first.exit_code == 0, first.output
    for figure in (
        "accepted but wrong: 0",
        "accuracy blank as zero",
        "nonzero f1",
        "exact report rate",
        "queue rate",
        "queued but correct rate",
        "By layout",
        "By template",
        "By prompt version",
        "saved as run 1",
    ):
        assert figure in first.output, figure
    assert "100.0%" in html.read_text(encoding="utf-8")
    rerun = CliRunner().invoke(app, ["eval", "--gold", str(ROOT / "data" / "gold"), "--db", db, "--rerun"])
    assert rerun.exit_code == 0 and "saved as run 2" in rerun.output
    compared = CliRunner().invoke(app, ["eval", "--compare", "1", "2", "--db", db])
    assert compared.exit_code == 0 and "New errors (0)" in compared.output and "Fixed errors (0)" in compared.output


def test_eval_catches_a_wrong_gold_as_an_accepted_error(tmp_path):
    """Perturb one gold cell: the (right) extraction now disagrees, is accepted, and must be listed."""
    gold_dir = tmp_path / "gold"
    gold_dir.mkdir()
    for name, record in GOLD.items():
        record = json.loads(json.dumps(record, default=float))
        if name.startswith("003"):  # a sample the parser accepts
            record["applications"]["granted"]["research"] = 4
        (gold_dir / f"{name}.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    samples = tmp_path / "data" / "samples"
    shutil.copytree(ROOT / "data" / "samples", samples)
    result = CliRunner().invoke(
        app, ["eval", "--gold", str(gold_dir), "--db", str(tmp_path / "e.db")], catch_exceptions=False
    )
    assert "accepted but wrong: 1" in result.output
    assert "applications.granted.research" in result.output and "not caught" in result.output


def test_reviewed_documents_of_the_store_are_gold_too(tmp_path):
    db = store.open_db(tmp_path / "r.db")
    pipeline.run(db, [str(ROOT / "data" / "samples" / "004_21ec6acd18ba8880.txt")])
    item = review.open_item(db, review.queue(db)[0].doc_id)
    review.save_fix(db, item, review.with_values(item.report, review.derived_totals(item.report)), "ana")
    golds = evaluation.gather(db, None)
    assert [g.origin.split(":")[0] for g in golds] == ["review"]
    run, missing = evaluation.evaluate(db, golds)
    # The machine left （七）总计 blank; the reviewer filled it: three cells the extraction got "wrong".
    assert not missing and len(run.wrong_cells()) == 3 and run.scores[0].status == "queued"


def test_gold_without_doc_id_is_matched_by_file_name_and_unmatched_gold_is_named(tmp_path):
    gold_dir = tmp_path / "gold"
    gold_dir.mkdir()
    record = dict(GOLD["002_ff50e99d4c3fccda"])
    record.pop("doc_id")
    (gold_dir / "hand.json").write_text(json.dumps(record, ensure_ascii=False, default=str), encoding="utf-8")
    stray = {"source": "nowhere/ghost.txt", "applications": None}
    (gold_dir / "ghost.json").write_text(json.dumps(stray), encoding="utf-8")
    db = str(tmp_path / "e.db")
    assert CliRunner().invoke(app, ["run", str(ROOT / "data" / "samples"), "--db", db]).exit_code == 0
    result = CliRunner().invoke(app, ["eval", "--gold", str(gold_dir), "--db", db])
    assert result.exit_code == 0, result.output
    assert "(1 reports" in result.output and "ghost.json" in result.output


def test_eval_runs_are_listed_and_a_missing_run_is_named(tmp_path):
    db = str(tmp_path / "e.db")
    assert (
        CliRunner()
        .invoke(app, ["eval", "--gold", str(ROOT / "data" / "gold"), "--db", db, "--label", "base"])
        .exit_code
        == 0
    )
    listed = CliRunner().invoke(app, ["eval", "--runs", "--db", db])
    assert "base" in listed.output and "1" in listed.output
    compared = CliRunner().invoke(app, ["eval", "--compare", "1", "99", "--db", db])
    assert compared.exit_code == 2 and "No such run: 99" in compared.output


def test_eval_ingests_and_extracts_the_gold_documents_in_one_batch_each(tmp_path, monkeypatch):
    # A batch starts its worker processes once; one batch per gold file made `eval` of 200
    # generated reports take a minute, most of it starting and stopping pools.
    batches = {"ingest": [], "extract": []}
    real_ingest, real_extract = pipeline.ingest_paths, pipeline.extract_documents

    def ingest(db, paths, *args, **kwargs):
        batches["ingest"].append(len(list(paths)))
        return real_ingest(db, paths, *args, **kwargs)

    def extract(db, ids, *args, **kwargs):
        batches["extract"].append(len(list(ids)))
        return real_extract(db, ids, *args, **kwargs)

    monkeypatch.setattr(pipeline, "ingest_paths", ingest)
    monkeypatch.setattr(pipeline, "extract_documents", extract)
    db = str(tmp_path / "e.db")
    result = CliRunner().invoke(app, ["eval", "--gold", str(ROOT / "data" / "gold"), "--db", db])
    assert result.exit_code == 0, result.output
    assert batches == {"ingest": [len(GOLD)], "extract": [len(GOLD)]}
    assert "accepted but wrong: 0" in result.output and f"({len(GOLD)} reports" in result.output
