"""The export contract of EXPORT.md."""

import csv
import io
import json
from decimal import Decimal

import pytest
from conftest import GOLD, SAMPLES

from extraction import export, pipeline
from extraction.schema import Cell
from extraction.storage import cells, store

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


def test_csv_is_one_row_per_cell_with_labels_file_name_and_blank_as_empty(db):
    pipeline.run(db, [str(SAMPLES[4])])
    out = io.StringIO()
    count = export.write_long_csv(db, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert count == len(rows) == 10 + 175 + 15  # section 二 (2021: 3+3+1+1+1+1), 三 (2021), 四
    assert list(rows[0]) == export.LONG_COLUMNS
    cell = next(r for r in rows if r["row"] == "total_handled" and r["column"] == "total")
    assert (cell["value"], cell["kind"], cell["status"]) == ("", "blank", "queued")
    assert (cell["row_label"], cell["column_label"], cell["template"]) == ("（七）总计", "总计", "2021")
    assert cell["file"] == SAMPLES[4].name and len(cell["doc"]) == export.SHORT_ID
    zero = next(r for r in rows if r["row"] == "carried_forward" and r["column"] == "total")
    assert (zero["value"], zero["kind"]) == ("0", "zero")


def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_written_as_text(db):
    pipeline.run(db, [str(SAMPLES[1])])
    doc = next(store.documents(db))
    with store.transaction(db):
        db["documents"].update(doc["id"], {"agency": '=HYPERLINK("http://127.0.0.1/x","局")'})
        cells.refresh(db, doc["id"])  # the cells table carries the agency the export reads
    out = io.StringIO()
    export.write_long_csv(db, out)
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


def test_jsonl_carries_failing_checks_only(db):
    pipeline.run(db, [str(p) for p in SAMPLES])
    for record in exported(db).values():
        assert all(not c["passed"] for c in record["checks"])
        assert record["checks_passed"] > 0


def test_filters_select_documents_by_status_year_agency_and_template(db):
    pipeline.run(db, [str(p) for p in SAMPLES])
    docs = list(store.documents(db))

    def files(filters):
        out = io.StringIO()
        export.write_long_csv(db, out, filters)
        return {r["file"] for r in csv.DictReader(io.StringIO(out.getvalue()))}

    queued = {p.rsplit("/", 1)[-1] for p in (d["name"] for d in docs if d["status"] == "queued")}
    assert files(export.Filters(status="queued")) == queued
    year = docs[0]["year"]
    assert files(export.Filters(year=year)) == {d["name"].rsplit("/", 1)[-1] for d in docs if d["year"] == year}
    agency = next(d for d in docs if d["agency"])
    assert SAMPLES[0].name not in files(export.Filters(agency="不存在的机关"))
    assert agency["name"].rsplit("/", 1)[-1] in files(export.Filters(agency=agency["agency"]))
    templates = {r["template"] for r in db.query("select distinct template from cells")}
    for version in templates:
        assert files(export.Filters(template=version))
    assert not files(export.Filters(template="1999"))


def test_wide_csv_is_one_row_per_report_per_section(db):
    pipeline.run(db, [str(p) for p in SAMPLES])
    out = io.StringIO()
    count = export.write_wide_csv(db, out, export.Filters(section="applications"))
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert (
        count
        == len(rows)
        == db["cells"].count_where("section = 'applications' and row = 'new_received' and column = 'total'")
    )
    assert "一、本年新收/自然人" in rows[0] and "四、结转下年度/总计" in rows[0]


def test_pandas_reads_csv_xlsx_and_parquet_with_integer_counts_and_chinese_labels(db, tmp_path):
    pd = pytest.importorskip("pandas")
    pipeline.run(db, [str(p) for p in SAMPLES])
    long_csv, wide_csv, book = tmp_path / "cells.csv", tmp_path / "wide.csv", tmp_path / "tables.xlsx"
    with long_csv.open("w", encoding="utf-8-sig", newline="") as handle:
        export.write_long_csv(db, handle)
    with wide_csv.open("w", encoding="utf-8-sig", newline="") as handle:
        export.write_wide_csv(db, handle, export.Filters(section="applications"))
    export.write_xlsx(db, book)
    assert long_csv.read_bytes().startswith(b"\xef\xbb\xbf")  # the BOM Excel needs

    frame = pd.read_csv(long_csv, encoding="utf-8-sig", dtype_backend="numpy_nullable")
    assert str(frame["value"].dtype) == "Int64" and str(frame["year"].dtype) == "Int64"
    assert "（七）总计" in set(frame["row_label"])
    blank = frame[(frame["row"] == "total_handled") & (frame["column"] == "total") & (frame["status"] == "queued")]
    assert blank["value"].isna().any()  # blank stays blank, not 0

    wide = pd.read_csv(wide_csv, encoding="utf-8-sig", dtype_backend="numpy_nullable")
    assert str(wide["一、本年新收/总计"].dtype) == "Int64"
    sheet = pd.read_excel(book, sheet_name="applications", dtype_backend="numpy_nullable")
    assert str(sheet["一、本年新收/总计"].dtype) == "Int64"
    assert list(sheet["一、本年新收/总计"]) == list(wide["一、本年新收/总计"])
    checks = pd.read_excel(book, sheet_name="checks")
    assert len(checks) == db["current_findings"].count_where("status = 'fail'")

    pytest.importorskip("pyarrow")
    parquet = tmp_path / "cells.parquet"
    export.write_parquet(db, parquet)
    table = pd.read_parquet(parquet, dtype_backend="numpy_nullable")
    assert str(table["value"].dtype) == "Int64" and "（七）总计" in set(table["row_label"])
    assert len(table) == len(frame)
