"""The Streamlit review app driven with streamlit.testing's AppTest."""

from pathlib import Path

import pytest
from conftest import ROOT, SAMPLES
from streamlit.testing.v1 import AppTest

from extraction import pipeline, review, store

APP = str(ROOT / "review_app" / "app.py")
S004 = SAMPLES[4]


@pytest.fixture
def app(tmp_path, monkeypatch):
    db_path = tmp_path / "review.db"
    db = store.open_db(db_path)
    pipeline.run(db, [str(S004)])
    monkeypatch.setenv("XXGK_DB", str(db_path))
    return AppTest.from_file(APP, default_timeout=60), db


def open_first_item(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    at.button(key="open").click().run()
    assert not at.exception, at.exception
    assert at.session_state["page"] == "Item"
    return at


def applications_editor(at: AppTest):
    return next(d for d in at.data_editor if d.key.startswith("applications-"))


def test_queue_shows_items_with_their_reasons(app):
    at, _ = app
    at.run()
    assert "applications.handled_sum.blank_total" in at.caption[0].value
    assert at.dataframe[0].value["file"].tolist() == [S004.name]


def test_edit_a_cell_see_the_finding_clear_and_save(app):
    at, db = app
    open_first_item(at)
    assert any("blank_total" in t.value for t in at.text)
    editor = applications_editor(at)
    row = editor.value.index.get_loc("total_handled")
    at.session_state[editor.key] = {
        "edited_rows": {row: {"自然人": 3, "其他": 1, "总计": 4}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.sidebar.text_input(key="reviewer").input("ana")
    at.run()
    assert any("All hard identities hold" in s.value for s in at.success)
    assert not any("blank_total" in t.value for t in at.text)
    at.button(key="save").click().run()
    assert any("Saved as review" in s.value for s in at.success), [e.value for e in at.error]
    saved = db["reviews"].get(1)
    assert saved["reviewer"] == "ana" and saved["action"] == "fixed"
    assert {d["column"] for d in store.json.loads(saved["diff"])} == {"natural_person", "other_org", "total"}
    assert db["gold"].count == 1 and store.document(db, saved["doc_id"])["status"] == "reviewed"


def test_fill_derived_totals_is_one_action_shown_before_saving(app):
    at, _ = app
    open_first_item(at)
    assert any("Blank totals whose parts are printed" in t.value for t in at.text)
    at.button(key="fill").click().run()
    assert any("All hard identities hold" in s.value for s in at.success)


def test_accept_as_printed_is_refused_without_a_note_and_saved_with_one(app):
    at, db = app
    open_first_item(at)
    at.sidebar.text_input(key="reviewer").input("ana").run()
    at.button(key="accept").click().run()
    assert any("note" in e.value for e in at.error) and db["reviews"].count == 0
    doc_id = at.session_state["doc"]
    at.text_area(key=f"note-{doc_id}").input("原表（七）总计为空，按原样接受").run()
    at.button(key="accept").click().run()
    assert db["reviews"].count == 1 and db["reviews"].get(1)["source_inconsistent"] == 1


def test_a_concurrent_change_is_detected_and_shown(app):
    at, db = app
    open_first_item(at)
    doc_id = at.session_state["doc"]
    other = review.open_item(db, doc_id)
    review.accept_as_printed(db, other, other.report, "bob", "bob was faster")
    at.sidebar.text_input(key="reviewer").input("ana").run()
    at.button(key="save").click().run()
    assert any("bob saved a review" in e.value for e in at.error)
    assert any("bob was faster" in str(j.value) for j in at.json)
    assert db["reviews"].count == 1


def test_hostile_source_text_is_shown_as_plain_text(tmp_path, monkeypatch):
    text = S004.read_text(encoding="utf-8").replace(
        "一、总体情况", "一、总体情况\n<script>alert('x')</script> **粗体** # 标题 <b>b</b>"
    )
    path = tmp_path / "hostile.txt"
    path.write_text(text, encoding="utf-8")
    db_path = tmp_path / "h.db"
    pipeline.run(store.open_db(db_path), [str(path)])
    monkeypatch.setenv("XXGK_DB", str(db_path))
    at = open_first_item(AppTest.from_file(APP, default_timeout=60))
    at.toggle(key=f"whole-{at.session_state['doc']}").set_value(True).run()
    shown = at.html[0].value
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in shown and "<script>" not in shown
    assert "**粗体** # 标题 &lt;b&gt;b&lt;/b&gt;" in shown and "<b>" not in shown and "<strong>" not in shown
    assert not any("粗体" in m.value for m in at.markdown)  # never handed to the Markdown renderer


def test_gold_and_stats_pages_render(app):
    at, db = app
    item = review.open_item(db, review.queue(db)[0].doc_id)
    review.accept_as_printed(db, item, item.report, "ana", "as printed")
    at.run()
    at.sidebar.radio(key="page").set_value("Gold").run()
    assert not at.exception and at.dataframe[0].value["reviewer"].tolist() == ["ana"]
    at.sidebar.radio(key="page").set_value("Stats").run()
    assert not at.exception and any("Review throughput" in h.value for h in at.subheader)


def test_xxgk_review_knows_where_the_app_is():
    assert Path(APP).is_file()


def test_previous_and_next_keep_unsaved_edits(tmp_path, monkeypatch):
    db_path = tmp_path / "two.db"
    pipeline.run(store.open_db(db_path), [str(SAMPLES[0]), str(S004)])
    monkeypatch.setenv("XXGK_DB", str(db_path))
    at = open_first_item(AppTest.from_file(APP, default_timeout=60))
    first = at.session_state["doc"]
    editor = applications_editor(at)
    row = editor.value.index.get_loc("total_handled")
    at.session_state[editor.key] = {"edited_rows": {row: {"自然人": 1}}, "added_rows": [], "deleted_rows": []}
    at.run()
    at.button(key="next").click().run()
    assert at.session_state["doc"] != first
    at.button(key="prev").click().run()
    assert at.session_state["doc"] == first
    restored = applications_editor(at)
    assert restored.key != editor.key  # a fresh editor, started from the draft
    assert restored.value.loc["total_handled", "自然人"] == 1


def test_a_scan_shows_its_page_images_and_the_cells_ocr_doubted(tmp_path, monkeypatch):
    import io
    import random

    from PIL import Image

    from extraction import generator, ingest, layout
    from extraction.readout import Doubt

    text = generator.generate(random.Random(3), "html").readable()
    cell = layout.parse(text).report.applications.cell("new_received", "total")
    png = io.BytesIO()
    Image.new("L", (40, 60), 255).save(png, format="PNG")
    doubt = Doubt(cell.span[0], cell.span[1], 0.3, 0, f"{cell.raw} (read alone: 8)")
    doc = ingest.Document("scan1", "scan.png", "image", 10, text, None, 1, (png.getvalue(),), (doubt,))
    db_path = tmp_path / "s.db"
    db = store.open_db(db_path)
    store.add_document(db, doc)
    assert pipeline.extract_document(db, "scan1").status == "queued"
    monkeypatch.setenv("XXGK_DB", str(db_path))
    at = open_first_item(AppTest.from_file(APP, default_timeout=60))
    assert any("read alone: 8" in t.value for t in at.text)
    assert at.tabs[1].label == "Page images (1)"
    assert [type(e).__name__ for e in at.tabs[1]] == ["Tab", "Image"]  # the tab itself, then its one page
