"""The export contract of EXPORT.md."""

import csv
import io
import json
from decimal import Decimal

from conftest import GOLD, SAMPLES

from extraction import export, pipeline, store
from extraction.schema import Cell

REQUIRED = {
    "doc_id",
    "source",
    "status",
    "agency",
    "year",
    "template",
    "proactive",
    "applications",
    "review_litigation",
    "checks",
    "extractor",
    "source_inconsistent",
    "error",
}


def exported(db) -> dict[str, dict]:
    out = io.StringIO()
    export.write_jsonl(db, out)
    records = [json.loads(line, parse_float=Decimal) for line in out.getvalue().splitlines()]
    return {r["source"].rsplit("/", 1)[-1].removesuffix(".txt"): r for r in records}


def test_every_sample_exports_its_gold_values(db):
    pipeline.run(db, [str(p) for p in SAMPLES])
    records = exported(db)
    assert set(records) == set(GOLD)
    for stem, record in records.items():
        assert set(record) >= REQUIRED
        for key in ("agency", "year", "template", "proactive", "applications", "review_litigation"):
            assert record[key] == GOLD[stem][key], (stem, key)
        assert record["extractor"] == "layout" and record["error"] is None
        assert record["doc_id"] == GOLD[stem]["doc_id"]


def test_blank_is_null_and_failing_checks_are_listed(db):
    pipeline.run(db, [str(SAMPLES[4])])
    record = next(iter(exported(db).values()))
    assert record["applications"]["total_handled"]["total"] is None  # printed blank, never 0
    assert record["applications"]["carried_forward"]["total"] == 0
    failing = [c for c in record["checks"] if not c["passed"]]
    assert any(c["id"] == "applications.handled_sum.total.blank_total" and c["severity"] == "hard" for c in failing)
    assert all(c["message"] for c in record["checks"])


def test_failed_documents_are_exported_with_their_error(db, tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    pipeline.run(db, [str(tmp_path / "empty.txt")])
    record = next(iter(exported(db).values()))
    assert record["status"] == "failed" and "empty" in record["error"]
    assert record["applications"] is None and record["template"] is None


def test_reviewed_documents_export_the_review(db):
    pipeline.run(db, [str(SAMPLES[4])])
    doc = next(store.documents(db))
    report = store.report_of(store.current_extraction(db, doc["id"]))
    report.applications.set("total_handled", "total", Cell.of(4))
    store.add_review(db, doc["id"], "ana", "accepted_as_printed", report, [], note="印刷如此", source_inconsistent=True)
    record = next(iter(exported(db).values()))
    assert record["status"] == "reviewed" and record["extractor"] == "review"
    assert record["source_inconsistent"] is True
    assert record["applications"]["total_handled"]["total"] == 4


def test_csv_is_one_row_per_cell_with_blank_as_empty(db):
    pipeline.run(db, [str(SAMPLES[4])])
    out = io.StringIO()
    count = export.write_csv(db, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert count == len(rows) == 10 + 175 + 15  # section 二 (2021: 3+3+1+1+1+1), 三 (2021), 四
    assert list(rows[0])[:8] == ["doc_id", "agency", "year", "section", "row", "column", "value", "status"]
    cell = next(r for r in rows if r["row"] == "total_handled" and r["column"] == "total")
    assert (cell["value"], cell["kind"], cell["status"]) == ("", "blank", "queued")
    zero = next(r for r in rows if r["row"] == "carried_forward" and r["column"] == "total")
    assert (zero["value"], zero["kind"]) == ("0", "zero")


def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_written_as_text(db):
    pipeline.run(db, [str(SAMPLES[1])])
    doc = next(store.documents(db))
    db["documents"].update(doc["id"], {"agency": '=HYPERLINK("http://127.0.0.1/x","局")'})
    out = io.StringIO()
    export.write_csv(db, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert {r["agency"] for r in rows} == {'\'=HYPERLINK("http://127.0.0.1/x","局")'}
    assert [export.spreadsheet_safe(v) for v in ("+1", "-2", "@a", "\tx", "12", -3)] == [
        "'+1",
        "'-2",
        "'@a",
        "'\tx",
        "12",
        -3,
    ]
