"""Web pages: tables kept cell by cell through rowspan, colspan, &nbsp; and page chrome."""

import random

import pytest
from lxml.html import fromstring

from extraction import pipeline
from extraction.read import html
from extraction.storage import store
from extraction.synth import generator
from extraction.tables import layout


def test_rowspan_and_colspan_keep_every_cell_in_its_place():
    page = """<table>
      <tr><td rowspan="2" colspan="2">项目</td><td colspan="2">甲</td></tr>
      <tr><td>a</td><td>b</td></tr>
      <tr><td rowspan="2">组</td><td>一</td><td>1</td><td>&nbsp;</td></tr>
      <tr><td>二</td><td>0</td><td>3</td></tr>
    </table>"""
    rows = html.table_rows(fromstring(page))
    assert rows == [["项目", "", "甲", ""], ["", "", "a", "b"], ["组", "一", "1", "\xa0"], ["", "二", "0", "3"]]


def test_chrome_and_tables_inside_scripts_are_dropped_and_text_kept():
    page = "<nav>首页 | 政务公开</nav><script>var t='<table><tr><td>9</td></tr></table>';</script><p>正文</p>"
    text = html.to_text(page)
    assert "首页" not in text and "9" not in text and "正文" in text


def test_a_web_page_report_is_read_exactly():
    report = generator.generate(random.Random(11), "html", version="2021")
    extraction = layout.parse(report.readable())
    assert extraction.layouts["applications"] == "cell_per_line"
    for section in ("proactive", "applications", "review_litigation"):
        assert extraction.report.table(section).values() == report.values[section]


def test_html_files_are_ingested_as_their_tables(db, tmp_path):
    report = generator.generate(random.Random(5), "html")
    path = tmp_path / "report.html"
    path.write_text(report.text, encoding="utf-8")
    outcome = pipeline.run(db, [str(path)])[0]
    doc = store.document(db, outcome.doc_id)
    assert doc["format"] == "HTML" and "<table" not in doc["text"]
    extraction = store.report_of(store.current_extraction(db, outcome.doc_id))
    assert extraction.applications.values() == report.values["applications"]
    if report.errors:  # a printed source error is never accepted, whatever the format
        assert outcome.status == "queued"


def test_a_report_delivered_inside_a_script_string_is_read_from_it():
    embedded = [
        g for g in (generator.generate(random.Random(s), "html") for s in range(60)) if "document.write" in g.text
    ]
    assert embedded, "the generator embeds some web pages' reports in a script"
    for report in embedded[:5]:
        assert "<\\/table>" in report.text  # written as sites do, with escaped closing tags
        extraction = layout.parse(report.readable())
        for section in ("proactive", "applications", "review_litigation"):
            assert extraction.report.table(section).values() == report.values[section]


def test_escapes_inside_a_script_string_are_undone():
    page = (
        '<script>var a = 1; document.write("<h3>\\u4e09\\u3001收到和处理政府信息公开申请情况<\\/h3>'
        "<table><tr><td>自然人<\\/td><td>it\\'s<\\/td><\\/tr><\\/table>\");</script>"
    )
    text = html.to_text(page)
    assert "三、收到和处理政府信息公开申请情况" in text and "\tit's\n" in text and "\t自然人\n" in text


def test_a_page_saved_as_text_or_written_by_a_script_file_is_read_as_the_page(tmp_path):
    import json

    from extraction.read import ingest

    page = generator.generate(random.Random(11), "html").text
    (tmp_path / "page.html").write_text(page, encoding="utf-8")
    (tmp_path / "page.txt").write_text(page, encoding="utf-8")
    (tmp_path / "page.js").write_text(f"document.write({json.dumps(page)});", encoding="utf-8")
    single = page.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")
    (tmp_path / "inner.js").write_text(f"var s = '{single}'; el.innerHTML = s;", encoding="utf-8")
    expected = layout.parse(ingest.read(tmp_path / "page.html").text).report
    assert expected.applications is not None
    for name in ("page.txt", "page.js", "inner.js"):
        doc = ingest.read(tmp_path / name)
        assert "<td" not in doc.text and "\\u" not in doc.text, name
        assert layout.parse(doc.text).report == expected, name


def test_text_that_merely_mentions_a_tag_is_not_taken_for_a_page():
    text = "本报告不含表格。<td> 是一个 HTML 标签。\n" * 3
    assert not html.carries_tables(text)


def test_a_table_whose_spans_lay_out_too_many_cells_is_refused_before_it_is_built(tmp_path):
    from extraction.read import ingest

    cells = '<td rowspan="100" colspan="100">1</td>' * 40
    page = f"<table>{'<tr>' + cells + '</tr>'}" * 3 + "</table>"
    with pytest.raises(html.TooLarge, match="XXGK_MAX_TABLE_CELLS"):
        html.to_text(page, max_cells=100_000)
    path = tmp_path / "spans.html"
    path.write_text(page, encoding="utf-8")
    doc = ingest.read(path, limits=ingest.Limits(max_table_cells=100_000))
    assert doc.text is None and "over the budget of 100,000 cells per table" in doc.error
