"""The browsable store: current cells, current checks, views, search and Datasette descriptions."""

import asyncio
import json

import pytest
from conftest import SAMPLES

from extraction import pipeline
from extraction.schema import Cell
from extraction.storage import cells, store


def one_queued(db):
    pipeline.run(db, [str(SAMPLES[4])])
    return next(store.documents(db))


def cell(db, doc_id, section, row, column):
    return db["cells"].get((doc_id, section, row, column))


def test_cells_hold_the_current_values_with_chinese_labels(db):
    doc = one_queued(db)
    total = cell(db, doc["id"], "applications", "total_handled", "total")
    assert (total["value"], total["kind"], total["status"], total["reviewed"]) == (None, "blank", "queued", 0)
    carried = cell(db, doc["id"], "applications", "carried_forward", "total")
    assert carried["value"] == 0 and carried["kind"] == "zero"
    assert carried["row_label"] == "四、结转下年度继续办理" and carried["column_label"] == "总计"
    assert carried["template"] == "2021" and carried["extractor"] == "layout" and carried["name"] == doc["name"]
    assert db["cells"].count_where("doc_id = ?", [doc["id"]]) == 10 + 175 + 15


def test_a_review_rewrites_the_cells_and_the_current_findings(db):
    doc = one_queued(db)
    before = db["current_findings"].count_where("status = 'fail' and severity = 'hard'")
    assert before > 0
    report = store.report_of(store.current_extraction(db, doc["id"]))
    report.applications.set("total_handled", "total", Cell.of(4))
    store.add_review(db, doc["id"], "ana", "accepted_as_printed", report, [], note="印刷如此", source_inconsistent=True)
    total = cell(db, doc["id"], "applications", "total_handled", "total")
    assert (total["value"], total["status"], total["extractor"], total["reviewed"]) == (4, "reviewed", "review", 1)
    rows = list(db["current_findings"].rows_where("doc_id = ?", [doc["id"]]))
    assert rows and {r["source"] for r in rows} == {"review"}
    fixed = "applications.handled_sum.total.blank_total"
    assert db["findings"].count_where("check_id = ? and status = 'fail'", [fixed]) == 1  # history keeps it
    assert not any(r["check_id"] == fixed and r["status"] == "fail" for r in rows)


def test_re_extraction_keeps_findings_history_apart_from_the_current_ones(db):
    doc = one_queued(db)
    current = db["current_findings"].count
    history = db["findings"].count
    pipeline.extract_document(db, doc["id"])
    assert db["findings"].count == 2 * history  # history keeps both attempts
    assert db["current_findings"].count == current  # the current ones are not doubled
    assert db["cells"].count == 200


def test_queue_and_agency_years_views_and_wide_tables(db):
    pipeline.run(db, [str(p) for p in SAMPLES])
    queue = list(db["queue"].rows)
    assert len(queue) == 3 and all(q["reasons"] and q["failing_checks"] > 0 for q in queue)
    years = list(db["agency_years"].rows)
    assert len(years) == db["documents"].count_where("agency is not null") and all(y["agency_key"] for y in years)
    row = next(db.query("select * from current_tables where section = 'applications' and row = 'carried_forward'"))
    assert set(row) >= {"natural_person", "total", "row_label"}


def test_documents_are_searchable_by_text_and_agency(db):
    pipeline.run(db, [str(p) for p in SAMPLES])
    hits = list(db["documents"].search("卫生健康局"))
    assert hits and all("卫生健康局" in (h["agency"] or "") + h["text"] for h in hits)


def test_a_store_made_before_cells_existed_is_filled_on_open(tmp_path):
    path = tmp_path / "old.db"
    db = store.open_db(path)
    pipeline.run(db, [str(SAMPLES[0])])
    db["cells"].drop()
    db["current_findings"].drop()
    reopened = store.open_db(path)
    assert reopened["cells"].count > 0 and reopened["current_findings"].count > 0


def test_failed_document_has_no_cells(db, tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    pipeline.run(db, [str(tmp_path / "empty.txt")])
    assert db["cells"].count == 0


def test_datasette_reads_the_cells_table_and_a_view_with_descriptions(db, tmp_path):
    datasette_app = pytest.importorskip("datasette.app")
    pipeline.run(db, [str(p) for p in SAMPLES])
    path = tmp_path / "test.db"
    ds = datasette_app.Datasette(files=[str(path)], metadata=cells.metadata("test"))

    async def read():
        await ds.invoke_startup()
        got_cells = await ds.client.get("/test/cells.json?_shape=array&section=applications&row=new_received")
        got_queue = await ds.client.get("/test/queue.json?_shape=array")
        page = await ds.client.get("/test/cells")
        return got_cells, got_queue, page

    got_cells, got_queue, page = asyncio.run(read())
    assert got_cells.status_code == 200 and got_queue.status_code == 200
    rows = got_cells.json()
    assert rows and {r["row_label"] for r in rows} == {"一、本年新收政府信息公开申请数量"}
    assert len(got_queue.json()) == 3
    assert "当前数值" in page.text  # the Chinese description is on the page


def test_datasette_metadata_describes_every_view(db):
    meta = cells.metadata("xxgk")
    tables = meta["databases"]["xxgk"]["tables"]
    assert set(cells.views()) <= set(tables)
    assert "NULL" in tables["cells"]["columns"]["value"]
    json.dumps(meta, ensure_ascii=False)


def test_a_review_of_the_earlier_year_rechecks_the_next_years_cross_year_checks(db, tmp_path):
    text = SAMPLES[3].read_text(encoding="utf-8")
    (tmp_path / "later.txt").write_text(text, encoding="utf-8")
    (tmp_path / "earlier.txt").write_text(text[:200].replace("2020年", "2019年") + text[200:], encoding="utf-8")
    pipeline.run(db, [str(tmp_path / "later.txt"), str(tmp_path / "earlier.txt")])
    docs = {d["name"].rsplit("/", 1)[-1]: d for d in store.documents(db)}
    later, earlier = docs["later.txt"], docs["earlier.txt"]
    check = "applications.carried_over_vs_last_year.total"

    def stored(doc_id):
        found = store.findings(db, store.current_extraction(db, doc_id)["id"])
        return next(f.status for f in found if f.id == check)

    def current(doc_id):
        return db.execute(
            "select status from current_findings where doc_id = ? and check_id = ?", [doc_id, check]
        ).fetchone()[0]

    carried_over = store.report_of(store.current_extraction(db, later["id"])).applications.value(
        "carried_over", "total"
    )
    report = store.report_of(store.current_extraction(db, earlier["id"]))
    report.applications.set("carried_forward", "total", Cell.of(carried_over + 7))
    store.add_review(db, earlier["id"], "ana", "accepted_as_printed", report, [], note="改", source_inconsistent=True)
    assert stored(later["id"]) == current(later["id"]) == "fail"  # compared with the reviewed 结转下年度
    report.applications.set("carried_forward", "total", Cell.of(carried_over))
    store.add_review(db, earlier["id"], "ana", "accepted_as_printed", report, [], note="改回", source_inconsistent=True)
    assert stored(later["id"]) == current(later["id"]) == "pass"
    later_report = store.report_of(store.current_extraction(db, later["id"]))
    store.add_review(
        db, later["id"], "ana", "accepted_as_printed", later_report, [], note="原样", source_inconsistent=True
    )
    assert current(later["id"]) == "pass"  # a reviewed year keeps its cross-year checks
