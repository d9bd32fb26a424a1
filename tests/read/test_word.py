"""Word files: paragraphs and tables in document order, merged cells kept in their places."""

import io

import docx
from formats import render, report, run, write, wrong_cells

from extraction.read import word
from extraction.storage import store


def test_generated_word_reports_are_read_exactly(db, tmp_path):
    reports = [report(seed) for seed in range(20, 26)]
    paths = [write(tmp_path, f"r{i}.docx", render.docx_bytes(r.text)) for i, r in enumerate(reports)]
    for gold, outcome in zip(reports, run(db, paths), strict=True):
        assert store.document(db, outcome.doc_id)["format"] == "Word"
        assert wrong_cells(db, outcome.doc_id, gold) == []
        assert outcome.status == ("queued" if gold.errors else "accepted")


def test_merged_cells_leave_empty_places_across_and_down():
    document = docx.Document()
    table = document.add_table(rows=3, cols=3)
    table.cell(0, 0).merge(table.cell(1, 1)).text = "项目"
    table.cell(0, 2).text = "甲"
    table.cell(2, 0).text, table.cell(2, 1).text, table.cell(2, 2).text = "一", "1", ""
    out = io.BytesIO()
    document.save(out)
    rows = word.table_rows(docx.Document(io.BytesIO(out.getvalue())).tables[0]._tbl)
    assert [[c.text for c in row] for row in rows] == [["项目", "", "甲"], ["", "", ""], ["一", "1", ""]]


def test_paragraphs_and_tables_keep_their_order():
    document = docx.Document()
    document.add_paragraph("二、主动公开政府信息情况")
    table = document.add_table(rows=2, cols=2)
    table.cell(1, 0).text, table.cell(1, 1).text = "规章", "7"
    document.add_paragraph("三、收到和处理政府信息公开申请情况")
    out = io.BytesIO()
    document.save(out)
    text = word.read(out.getvalue()).text
    assert text.index("二、主动") < text.index("\t7\n") < text.index("三、收到")


def test_a_zip_that_is_not_a_word_file_fails_with_a_reason_and_the_batch_goes_on(db, tmp_path):
    import zipfile

    fake = tmp_path / "report.docx"
    with zipfile.ZipFile(fake, "w") as archive:
        archive.writestr("photo.jpg", b"\xff\xd8\xff not a document")
    good = write(tmp_path, "good.docx", render.docx_bytes(report(3).text))
    bad, fine = run(db, [fake, good])
    assert bad.status == "failed" and "not a readable Word .docx file" in bad.detail
    assert store.document(db, bad.doc_id)["status"] == "failed"
    assert fine.status in ("accepted", "queued")
