"""The Streamlit review app: its logic through streamlit.testing's AppTest, and a reviewer's
work in a real browser (Debian's chromium driven by playwright, skipped when absent)."""

import random
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLES
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(ROOT / "review_app"))
import grids
import scripted  # the counted reviewer the bench uses too

from extraction import pipeline, review, template
from extraction.read import ingest
from extraction.storage import store
from extraction.synth import generator, render
from extraction.tables import sections

APP = str(ROOT / "review_app" / "app.py")
S004 = SAMPLES[4]


@pytest.fixture
def app(tmp_path, monkeypatch):
    db_path = tmp_path / "review.db"
    db = store.open_db(db_path)
    pipeline.run(db, [str(S004)])
    monkeypatch.setenv("XXGK_DB", str(db_path))
    return AppTest.from_file(APP, default_timeout=60), db


def open_item(at: AppTest, doc_id: str) -> AppTest:
    at.session_state["doc"] = doc_id
    at.session_state["page"] = "Item"
    at.run()
    assert not at.exception, at.exception
    return at


def first_item(at: AppTest, db) -> AppTest:
    at.run()
    return open_item(at, review.queue(db)[0].doc_id)


def edit(at: AppTest, section: str, edited_rows: dict) -> None:
    """What the browser sends when the form is submitted: the grid's edited rows."""
    editor = next(d for d in at.data_editor if d.key.startswith(f"ed-{section}-"))
    at.session_state[editor.key] = {"edited_rows": edited_rows, "added_rows": [], "deleted_rows": []}


def texts(at: AppTest) -> str:
    return "\n".join(t.value for t in at.text)


def alerts(at: AppTest) -> str:
    """The alerts as a reader sees them (the app escapes every Markdown character in them)."""
    shown = "\n".join(e.value for e in [*at.error, *at.success, *at.warning, *at.info])
    return re.sub(r"\\(.)", r"\1", shown)


def test_queue_says_why_in_words_with_counts_total_and_cells_to_check(app):
    at, _ = app
    at.run()
    assert not at.exception
    assert at.metric[0].value == "1"
    why = at.dataframe[1].value["why · 原因"][0]
    assert "总计空白" in why and "a total is blank" in why and "×3" in why
    assert "applications." not in why  # no internal check ids
    assert at.dataframe[1].value["file"].tolist() == [S004.name]
    assert at.dataframe[1].value["cells"][0] > 0


def test_edit_cells_in_the_form_see_the_finding_clear_and_save_the_next_opens(app):
    at, db = app
    first_item(at, db)
    assert "blank_total" not in texts(at) and "总计空白" in texts(at)
    row = [r.key for r in template.spec("applications", "2021").rows].index("total_handled")
    edit(at, "applications", {row: {"自然人": "3", "其他": "1", "总计": "4"}})
    at.sidebar.text_input(key="reviewer").input("ana")
    at.button(key="check").click().run()
    assert "All hard identities hold" in alerts(at)
    at.button(key="save").click().run()
    assert "saved as a fix" in alerts(at), alerts(at)
    saved = db["reviews"].get(1)
    assert saved["reviewer"] == "ana" and saved["action"] == "fixed"
    diff = store.json.loads(saved["diff"])
    assert {d["column"] for d in diff} == {"natural_person", "other_org", "total"}
    assert {d["why"] for d in diff} == {review.WHY["typed"]}
    assert db["gold"].count == 1 and store.document(db, saved["doc_id"])["status"] == "reviewed"


def test_the_source_marks_the_cells_under_edit_apart_from_the_failing_ones(app):
    at, db = app
    first_item(at, db)
    failing_only = at.html[0].value
    assert review.FAILING_STYLE in failing_only and review.EDITED_STYLE not in failing_only
    item = review.open_item(db, at.session_state["doc"])
    cell = item.original.applications.cell("new_received", "natural_person")
    printed = item.text[cell.span[0] : cell.span[1]]
    edit(at, "applications", {0: {"自然人": "9"}})  # 一、本年新收 自然人
    at.button(key="check").click().run()
    shown = at.html[0].value
    assert f"<mark style='{review.EDITED_STYLE}'>{printed}</mark>" in shown
    assert review.FAILING_STYLE in shown  # the identities that still fail stay marked


def test_the_grid_colours_the_rows_holding_failing_cells_and_cells_under_edit():
    table = review.complete(review.Report(), "2021").applications
    frame = grids.grid(table)
    failing = {("applications", "granted", "total")}
    edited = {("applications", "new_received", "natural_person")}
    styles = grids.marked(frame, table, failing, edited)._compute().ctx  # (line, column) -> css
    rows = [r.key for r in template.spec("applications", "2021").rows]
    assert styles[(rows.index("granted"), 0)] == [("background-color", "#ffe08a")]
    assert ("background-color", "#cfe3ff") in styles[(rows.index("new_received"), 0)]
    assert not any(styles.get((rows.index("carried_over"), c)) for c in range(len(frame.columns)))


def test_fill_derived_totals_is_one_action(app):
    at, db = app
    first_item(at, db)
    at.button(key="fill").click().run()
    assert "All hard identities hold" in alerts(at)
    assert "total_handled.total = 4" in texts(at)


def test_a_guarded_save_is_refused_with_its_reasons_and_the_refusal_stays(app):
    at, db = app
    first_item(at, db)
    at.sidebar.text_input(key="reviewer").input("ana").run()
    at.button(key="save").click().run()
    assert "identity check(s) still fail" in alerts(at) and db["reviews"].count == 0
    at.sidebar.text_input(key="reviewer").input("ana2").run()  # any other re-run
    assert "identity check(s) still fail" in alerts(at)


def test_accept_as_printed_is_refused_without_a_note_and_saved_with_one(app):
    at, db = app
    first_item(at, db)
    at.sidebar.text_input(key="reviewer").input("ana").run()
    at.button(key="accept").click().run()
    assert "note" in alerts(at) and db["reviews"].count == 0
    at.text_area(key=f"note-{at.session_state['doc']}").input("原表（七）总计为空，按原样接受")
    at.button(key="accept").click().run()
    assert db["reviews"].count == 1 and db["reviews"].get(1)["source_inconsistent"] == 1


def test_a_concurrent_change_is_shown_with_load_latest_and_the_draft_is_kept(app):
    at, db = app
    first_item(at, db)
    doc_id = at.session_state["doc"]
    edit(at, "applications", {23: {"自然人": "3"}})
    other = review.open_item(db, doc_id)
    review.accept_as_printed(db, other, other.report, "bob", "bob was faster")
    at.sidebar.text_input(key="reviewer").input("ana")
    at.button(key="save").click().run()
    assert "bob saved review" in alerts(at) and "bob was faster" in alerts(at)
    assert db["reviews"].count == 1
    at.button(key="latest").click().run()
    assert "total_handled.natural_person = 3" in texts(at)
    assert at.session_state["opened"][doc_id] == 1


def test_an_unread_section_opens_as_the_full_template_grid_and_empty_needs_a_note(tmp_path, monkeypatch):
    text = S004.read_text(encoding="utf-8")
    span = sections.locate(text)["review_litigation"]
    path = tmp_path / "no_four.txt"
    path.write_text(text[: span.start] + text[span.end :], encoding="utf-8")
    db_path = tmp_path / "u.db"
    db = store.open_db(db_path)
    pipeline.run(db, [str(path)])
    monkeypatch.setenv("XXGK_DB", str(db_path))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    doc_id = review.queue(db)[0].doc_id
    open_item(at, doc_id)
    grid = next(d for d in at.data_editor if d.key.startswith("ed-review_litigation-")).value
    assert grid.shape == (3, 6) and set(grid.iloc[:, 1:].stack()) == {""}  # blank, not "None"
    at.sidebar.text_input(key="reviewer").input("ana")
    at.button(key="fill").click().run()
    at.button(key="save").click().run()
    assert "section 四 is empty" in alerts(at) and db["reviews"].count == 0


def test_blank_zero_and_slash_are_distinct_and_enterable(app):
    at, db = app
    first_item(at, db)
    edit(at, "review_litigation", {0: {"结果维持": "/", "结果纠正": "0", "其他结果": ""}})
    at.button(key="check").click().run()
    report = review.with_changes(
        review.complete(review.open_item(db, at.session_state["doc"]).report),
        at.session_state["drafts"][at.session_state["doc"]],
    )
    cells = report.review_litigation.cells["review"]
    assert (cells["upheld"].kind, cells["corrected"].kind) == ("not_applicable", "zero")
    assert cells["other"].kind in ("blank", "zero")  # as it was: "" typed over nothing changes nothing


def test_hostile_source_text_and_file_name_are_shown_as_plain_text(tmp_path, monkeypatch):
    text = S004.read_text(encoding="utf-8").replace(
        "一、总体情况", "一、总体情况\n<script>alert('x')</script> **粗体** # 标题 <b>b</b>"
    )
    path = tmp_path / "__bold__ `code` #h.txt"  # Markdown, were it rendered
    path.write_text(text, encoding="utf-8")
    db_path = tmp_path / "h.db"
    db = store.open_db(db_path)
    pipeline.run(db, [str(path)])
    monkeypatch.setenv("XXGK_DB", str(db_path))
    at = first_item(AppTest.from_file(APP, default_timeout=60), db)
    at.toggle(key=f"whole-{at.session_state['doc']}").set_value(True).run()
    shown = at.html[0].value
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in shown and "<script>" not in shown
    assert "**粗体** # 标题 &lt;b&gt;b&lt;/b&gt;" in shown and "<b>" not in shown and "<strong>" not in shown
    assert not any("粗体" in m.value or "bold" in m.value for m in at.markdown)
    assert any(t.value.startswith("__bold__ `code` #h.txt") for t in at.text)


def test_failed_documents_are_listed_with_their_reasons(tmp_path, monkeypatch):
    db_path = tmp_path / "f.db"
    db = store.open_db(db_path)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 not really")
    pipeline.run(db, [str(broken), str(S004)])
    monkeypatch.setenv("XXGK_DB", str(db_path))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert [m.value for m in at.metric][2] == "1"
    at.sidebar.radio(key="page").set_value("Failed").run()
    frame = at.dataframe[0].value
    assert frame["file"].tolist() == ["broken.pdf"] and frame["why"][0]
    failed_id = store.find_document(db, str(broken))["id"]
    open_item(at, failed_id)  # opening one says why, no traceback
    assert any("no extraction to review" in e.value for e in at.error)


def test_gold_and_stats_pages_render(app):
    at, db = app
    item = review.open_item(db, review.queue(db)[0].doc_id)
    review.accept_as_printed(db, item, item.report, "ana", "as printed")
    at.run()
    at.sidebar.radio(key="page").set_value("Gold").run()
    assert not at.exception and at.dataframe[0].value["reviewer"].tolist() == ["ana"]
    at.sidebar.radio(key="page").set_value("Stats").run()
    assert not at.exception and any("Review throughput" in h.value for h in at.subheader)


def test_previous_and_next_keep_unsaved_edits(tmp_path, monkeypatch):
    db_path = tmp_path / "two.db"
    db = store.open_db(db_path)
    pipeline.run(db, [str(SAMPLES[0]), str(S004)])
    monkeypatch.setenv("XXGK_DB", str(db_path))
    at = first_item(AppTest.from_file(APP, default_timeout=60), db)
    first = at.session_state["doc"]
    edit(at, "applications", {0: {"自然人": "977"}})
    at.button(key="check").click().run()
    at.button(key="next").click().run()
    assert at.session_state["doc"] != first
    at.button(key="prev").click().run()
    assert at.session_state["doc"] == first
    restored = next(d for d in at.data_editor if d.key.startswith("ed-applications-"))
    assert restored.value.loc[0, "自然人"] == "977"


def test_a_scan_shows_its_page_images_and_the_cells_ocr_doubted(tmp_path, monkeypatch):
    import io

    from PIL import Image

    from extraction.read.readout import Doubt
    from extraction.tables import layout

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
    at = first_item(AppTest.from_file(APP, default_timeout=60), db)
    assert any("read alone: 8" in t.value for t in at.text)
    assert at.tabs[1].label == "Page images (1)"
    assert [type(e).__name__ for e in at.tabs[1]] == ["Tab", "Image"]  # the tab itself, then its one page


# --- In a real browser: Debian's chromium driven by playwright --------------------------------

CHROMIUM = Path("/usr/bin/chromium")


def _browser_skip_reason() -> str | None:
    if not CHROMIUM.is_file():
        return f"no chromium at {CHROMIUM} (.ci/run installs Debian's package; it could not here)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worn_scan(text: str, seed: int) -> bytes:
    """A generated report scanned, then blurred (Gaussian, radius 1) as a worn copy: a clean
    generated scan reads without a doubt; this one leaves several, deterministically."""
    from PIL import ImageFilter

    pages = [page.filter(ImageFilter.GaussianBlur(1.0)) for page in render.scan_images(text, seed=seed)]
    return render.scan_pdf_bytes(pages)


def _unread_applications(seed: int) -> tuple[str, str, dict]:
    """A generated report whose section 三 the parser cannot find (its heading and table cut out):
    the text, the cut section's text, and the values it printed."""
    made = generator.generate(random.Random(seed), "tab_rows", "2021")
    text = made.readable()
    span = sections.locate(text)["applications"]
    return text[: span.start] + text[span.end :], text[span.start : span.end], made.values["applications"]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One review server on 127.0.0.1 (a free port) over a store with one document per browser test."""
    reason = _browser_skip_reason()
    if reason:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("browser")
    files: dict[str, Path] = {}
    unread_text, section_text, gold = _unread_applications(5)
    files["unread"] = folder / "unread.txt"
    files["unread"].write_text(unread_text, encoding="utf-8")
    misread = generator.generate(random.Random(5), "tab_rows", "2021").readable()
    for name in ("misread", "overwrite"):  # 一、本年新收 自然人 printed 127, a digit lost in reading: 12
        files[name] = folder / f"{name}.txt"
        files[name].write_text(misread.replace("数量\t127\t0", "数量\t12\t0", 1) + f"\n{name}\n", encoding="utf-8")
    files["pdf"] = folder / "text_layer.pdf"  # a PDF with a text layer: no page images are stored for it
    files["pdf"].write_bytes(render.pdf_bytes(generator.generate(random.Random(3), "html", error="wrong_total").text))
    for name in ("printed", "conflict", "typing"):
        files[name] = folder / f"{name}_{S004.name}"
        files[name].write_text(S004.read_text(encoding="utf-8") + f"\n{name}\n", encoding="utf-8")
    if render.cjk_font():  # a scan with doubts OCR left, some resolved by the identities, some not
        files["scan"] = folder / "scan.pdf"
        files["scan"].write_bytes(worn_scan(generator.generate(random.Random(3), "html").text, seed=3))
    files["readme"] = folder / "README.md"
    files["readme"].write_text("# Real files\n\nWhere the reports came from, and their licences.\n", encoding="utf-8")
    db_path = folder / "browser.db"
    db = store.open_db(db_path)
    pipeline.run(db, [str(p) for p in files.values()])
    ids = {key: store.find_document(db, str(path))["id"] for key, path in files.items()}
    assert all(store.document(db, i)["status"] == "queued" for i in ids.values())
    port = _free_port()
    command = [sys.executable, "-m", "streamlit", "run", APP, "--server.port", str(port)]
    command += ["--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    server = subprocess.Popen([*command, "--", "--db", str(db_path)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail(f"the review server did not start: {server.stderr.read().decode()[-2000:]}")
                time.sleep(0.3)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
            yield {
                "browser": browser,
                "url": f"http://127.0.0.1:{port}",
                "db": db,
                "ids": ids,
                "section_text": section_text,
                "gold": gold,
            }
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)


def _open(served, key: str, name: str = "ana"):
    for earlier in served["browser"].contexts:
        earlier.close()  # one reviewer's page at a time: the machine is small
    page = served["browser"].new_page(viewport={"width": 1600, "height": 1300})
    page.set_default_timeout(30_000)
    page.goto(f"{served['url']}/?doc={served['ids'][key][:16]}")
    page.get_by_role("button", name="Save fix").wait_for()
    page.get_by_label("Your name (recorded with every decision)").fill(name)
    page.get_by_label("Your name (recorded with every decision)").press("Enter")
    page.wait_for_timeout(500)
    _settle(page)
    return page


def _grid(page, section_index: int):
    """The editable grid of 二 (0), 三 (1) or 四 (2), scrolled into view."""
    _settle(page)
    grid = page.locator("[data-testid='stForm'] [data-testid='stDataFrame']").nth(section_index)
    grid.evaluate("e => e.scrollIntoView({block: 'center'})")  # the whole grid in the viewport
    page.wait_for_timeout(100)
    return grid


def _type_down(page, grid, row: int, column: int, values: list[str], delay: int = 40) -> None:
    """Click a cell of a grid (label column 130 px, value columns 64 px, rows 35 px) and type a
    value into it and each cell below, Enter after each, `delay` ms per key as a fast typist.
    The first key waits until the grid's cell editor has opened (the click has landed)."""
    editor = page.locator("textarea.gdg-input")
    for attempt in range(10):
        # The grid may still be drawing after a re-run (a message above it moves it): find it
        # again, in view, before each click; close whatever editor an earlier click opened.
        grid.evaluate("e => e.scrollIntoView({block: 'center'})")
        page.wait_for_timeout(150 * attempt)
        box = grid.bounding_box()
        page.mouse.click(box["x"] + 130 + 64 * column + 32, box["y"] + 35 * (row + 1) + 17)
        page.keyboard.press("Enter")  # open the cell's editor
        try:
            editor.wait_for(timeout=1500)
            break
        except Exception:
            page.keyboard.press("Escape")
    editor.fill(values[0])
    page.keyboard.press("Enter", delay=delay)
    for value in values[1:]:
        # The grid's own editor closes after Enter a frame or two later; on a loaded machine a key
        # typed before that lands in the closing editor (the grid's timing, not a re-run: the form
        # sends nothing until a button is pressed). Wait for it as a typist's eye would.
        editor.wait_for(state="hidden", timeout=2000)
        page.keyboard.type(value, delay=delay)
        page.keyboard.press("Enter", delay=delay)
    page.wait_for_timeout(400)  # a reader's glance before the next click: the grid hands its edits to the form


def _press(page, name: str) -> None:
    page.get_by_role("button", name=name, exact=False).first.click()
    _settle(page)


_settle = scripted.settle


def _wait_text(page, text: str) -> None:
    try:
        scripted.wait_text(page, text)
    except Exception:
        page.screenshot(path="/tmp/fail.png", full_page=True)
        alerts = page.locator("[data-testid='stAlert']").all_inner_texts()
        raise AssertionError(f"{text!r} not shown; alerts: {alerts}") from None


def _reviews(db, doc_id: str) -> list[dict]:
    return list(db["reviews"].rows_where("doc_id = ?", [doc_id], order_by="id"))


def test_browser_an_unread_section_is_finished_by_paste_and_split(served):
    page = _open(served, "unread")
    _wait_text(page, "表格未读出")  # why it waits, in words
    lines = served["section_text"].splitlines()
    new_received = next(line for line in lines if line.startswith("一、本年新收"))
    digits = "".join(new_received.split("\t")[1:])  # the row's printed digits, run together
    wanted = " | ".join(str(v) for v in served["gold"]["new_received"].values())
    counted = scripted.finish_unread_section(
        page,
        "\n".join(line for line in lines if line != new_received),
        ("三 一、本年新收", digits),
        take=f"Take ✓ {wanted}",
    )
    [saved] = _reviews(served["db"], served["ids"]["unread"])
    report = store.report_of(saved)
    assert report.applications.values() == served["gold"]
    why = {d["why"] for d in store.json.loads(saved["diff"]) if d["row"] == "new_received"}
    assert why == {review.WHY["split"]}
    # What was pressed: copy + paste (4), pick the row (click, filter, Enter), Offer, Take; again for
    # the row whose digits ran together; Save.
    section = 4 + 1 + len("三: the whole") + 1 + 1 + 1
    row = 4 + 1 + len("三 一、本年新收") + 1 + 1 + 1
    assert counted.actions == section + row + 1, counted.log


def test_browser_one_wrong_cell_is_fixed_in_two_clicks_by_the_repair_checked_against_the_printed_row(served):
    page = _open(served, "misread")
    _wait_text(page, "One cell settles every failing identity")
    printed_row = page.locator("pre[style*='1c6dd0']")  # the row as printed, shown with the offer
    assert "一、本年新收" in printed_row.inner_text() and printed_row.locator("mark").inner_text() == "12"
    counted = scripted.fix_one_cell(page)
    assert counted.actions == 2 <= 3, counted.log
    [saved] = _reviews(served["db"], served["ids"]["misread"])
    assert store.report_of(saved).applications.value("new_received", "natural_person") == 127
    [change] = store.json.loads(saved["diff"])
    assert (change["before"], change["after"], change["why"]) == ("12", "127", review.WHY["confirmed"])
    assert "confirmed against the source" in saved["note"] and "12 → 127" in saved["note"]


def test_browser_a_balancing_value_typed_over_a_printed_one_is_still_refused_without_a_note(served):
    page = _open(served, "overwrite")
    _type_down(page, _grid(page, 1), 0, 0, ["127"])  # the repair's value, typed by hand instead
    _press(page, "Save fix")
    _wait_text(page, "printed value(s) changed by hand")
    page.wait_for_timeout(1500)  # the refusal stays on screen
    assert page.get_by_text("printed value(s) changed by hand", exact=False).first.is_visible()
    assert _reviews(served["db"], served["ids"]["overwrite"]) == []
    _press(page, "Note: parser misread")
    _press(page, "Save fix")
    _wait_text(page, "saved as a fix")
    [saved] = _reviews(served["db"], served["ids"]["overwrite"])
    [change] = store.json.loads(saved["diff"])
    assert (change["before"], change["after"], change["why"]) == ("12", "127", review.WHY["typed"])
    assert "misread" in saved["note"]


def test_browser_a_text_pdf_shows_the_page_holding_the_section_beside_the_grid(served):
    page = _open(served, "pdf")
    page.get_by_role("tab", name="Page images").click()
    _wait_text(page, "the section is on page")
    image = page.locator("[data-testid='stImage'] img").first
    image.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert image.evaluate("img => img.naturalWidth") > 500  # a rendered A4 page, not a placeholder


def test_browser_a_source_that_does_not_balance_is_accepted_as_printed(served):
    page = _open(served, "printed")
    page.get_by_label("Note (why").fill("原表（七）总计为空，按原样接受")
    _press(page, "Source inconsistent: accept as printed")
    _wait_text(page, "accepted as printed")
    [saved] = _reviews(served["db"], served["ids"]["printed"])
    assert saved["action"] == "accepted_as_printed" and saved["source_inconsistent"] == 1


def test_browser_not_a_report_is_discarded_with_a_reason_and_makes_no_gold(served):
    page = _open(served, "readme")
    _wait_text(page, "可能不是年报")
    _press(page, "Not a report / discard")
    _wait_text(page, "a reason is required")
    page.get_by_label("Note (why").fill("the folder's README, not a report")
    _press(page, "Not a report / discard")
    _wait_text(page, "discarded (not a report)")
    doc_id = served["ids"]["readme"]
    assert store.document(served["db"], doc_id)["status"] == "discarded"
    assert served["db"]["gold"].count_where("doc_id = ?", [doc_id]) == 0


def test_browser_a_conflict_offers_load_latest_and_keeps_the_draft(served):
    page = _open(served, "conflict")
    doc_id = served["ids"]["conflict"]
    _type_down(page, _grid(page, 1), 23, 0, ["3"])  # (七)总计 自然人, printed blank
    bob = review.open_item(served["db"], doc_id)
    review.accept_as_printed(served["db"], bob, bob.report, "bob", "bob was faster")
    _press(page, "Save fix")
    _wait_text(page, "bob saved review")
    _press(page, "Load latest")
    _wait_text(page, "your draft is kept")
    _wait_text(page, "Your changes: total_handled.natural_person = 3")
    _type_down(page, _grid(page, 1), 23, 5, ["1"])  # its 其他
    _type_down(page, _grid(page, 1), 23, 6, ["4"])  # and its 总计
    _press(page, "Save fix")
    _wait_text(page, "saved as a fix")
    first, second = _reviews(served["db"], doc_id)
    assert first["reviewer"] == "bob" and second["reviewer"] == "ana" and second["action"] == "fixed"
    assert store.report_of(second).applications.values()["total_handled"]["total"] == 4


def test_browser_fast_typing_down_a_column_loses_nothing(served):
    page = _open(served, "typing")
    typed = ["103", "7", "0", "/", "12", "5", "44", ""]
    _type_down(page, _grid(page, 1), 2, 1, [t or " " for t in typed])  # 商业企业 from (一) down
    _press(page, "Check edits")
    _wait_text(page, "Your changes")
    shown = page.get_by_text("Your changes", exact=False).first.inner_text()
    rows = [r.key for r in template.spec("applications", "2021").rows[2:10]]
    for row, value in zip(rows, typed, strict=True):
        if value.strip():
            assert f"{row}.commercial = {value}" in shown, shown


def test_browser_a_scan_s_doubted_cells_are_cut_out_beside_their_readings_and_outlined_on_its_pages(served):
    from extraction.review import pages

    if "scan" not in served["ids"]:
        pytest.skip("no CJK font to draw the scan with")
    db, doc_id = served["db"], served["ids"]["scan"]
    doubts = [d for d in store.doubts(store.document(db, doc_id)) if d.box]
    assert {d.resolved for d in doubts} == {True, False}  # the blur leaves both kinds
    report = review.open_item(db, doc_id).original
    page = _open(served, "scan")
    _wait_text(page, "Cells OCR doubted")
    captions = page.locator("[data-testid='stText']").all_text_contents()
    for d in doubts:  # each beside its crop, saying what was read and who settles it
        key = pages.cell_of(report, d)
        assert pages.caption(d, pages.label(report, key) if key else None) in captions
    crops = page.locator("[data-testid='stImage'] img:visible")
    crops.first.wait_for()
    sizes = {(d.box[2] - d.box[0] + 2 * pages.MARGIN, d.box[3] - d.box[1] + 2 * pages.MARGIN) for d in doubts}
    shown = min(len(doubts), 6)
    loaded = "[...document.querySelectorAll('[data-testid=stImage] img')].filter(i => i.offsetParent && i.naturalWidth)"
    page.wait_for_function(f"() => {loaded}.length >= {shown}")  # the crops drawn, not placeholders
    for img in crops.all()[:shown]:
        assert tuple(img.evaluate("i => [i.naturalWidth, i.naturalHeight]")) in sizes
    page.get_by_role("tab", name="Page images").click()
    page_images = page.locator("[data-testid='stImage'] img:visible")
    for d in (next(d for d in doubts if d.resolved), next(d for d in doubts if not d.resolved)):
        img = page_images.nth(d.page)
        img.wait_for()
        page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=img.element_handle())
        assert img.evaluate("i => i.naturalWidth") == 1241  # the page as stored, not scaled: boxes in its pixels
        x, y = d.box[0] + 1, (d.box[1] + d.box[3]) // 2  # on the box's left side
        pixel = img.evaluate(
            """(i, [x, y]) => { const c = document.createElement('canvas'); c.width = i.naturalWidth;
            c.height = i.naturalHeight; const g = c.getContext('2d'); g.drawImage(i, 0, 0);
            return Array.from(g.getImageData(x, y, 1, 1).data.slice(0, 3)); }""",
            [x, y],
        )
        # The browser may shift a colour by a few levels (colour management): the nearer one counts.
        nearest = min(
            (pages.RESOLVED, pages.UNRESOLVED), key=lambda c: sum(abs(a - b) for a, b in zip(c, pixel, strict=True))
        )
        assert nearest == pages.colour(d) and max(abs(a - b) for a, b in zip(nearest, pixel, strict=True)) < 40, pixel
