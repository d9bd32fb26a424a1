"""The review library: queue, live re-check, derived totals, diffs, decisions, conflicts."""

import pytest
from conftest import SAMPLES

from extraction import pipeline, review
from extraction.review import waiting
from extraction.storage import store


@pytest.fixture
def queued(db):
    pipeline.run(db, [str(p) for p in SAMPLES])
    return db


def sample_004(db) -> review.Item:
    """The sample whose （七）总计 row is printed blank."""
    return review.open_item(db, next(i.doc_id for i in review.queue(db) if i.name.endswith(SAMPLES[4].name)))


def test_queue_lists_queued_documents_oldest_first_with_reasons(queued):
    items = review.queue(queued)
    # (002 waits on where its tab export's lone zeros stand: blank or 0 is not in its text.)
    assert [i.name.rsplit("/", 1)[-1][:3] for i in items] == ["000", "002", "004"]
    assert dict(items[2].reasons) == {"balance": 3, "blank_total": 3}
    assert review.reason_counts(items)["balance"] == 2 and items[2].cells > 0
    assert "总计空白" in items[2].why and "a total is blank" in items[2].why
    assert review.queue_size(queued) == 3 and review.queue_position(queued, items[2].doc_id) == 3
    assert review.neighbour(queued, items[0].doc_id, 1) == items[1].doc_id
    assert review.neighbour(queued, items[2].doc_id, 1) == items[0].doc_id  # wraps round


def test_the_queue_is_paged_filtered_and_sorted_in_sql_with_totals_over_every_page(db, tmp_path):
    texts = [p.read_text(encoding="utf-8") for p in (SAMPLES[0], SAMPLES[4])]  # both queued
    files = []
    for n in range(7):  # seven queued copies, each a new document: three pages of three
        files.append(tmp_path / f"{n:02d}.txt")
        files[-1].write_text(texts[n % 2] + f"\ncopy {n}\n", encoding="utf-8")
    files.append(tmp_path / "README.md")  # queued as perhaps not a report
    files[-1].write_text("# Real files\n\nWhere the reports came from.\n", encoding="utf-8")
    pipeline.run(db, [str(f) for f in files])
    whole = review.queue(db)
    assert len(whole) == 8
    pages = [review.queue(db, 3, offset) for offset in (0, 3, 6)]  # the last page holds two
    assert [i.doc_id for page in pages for i in page] == [i.doc_id for i in whole]
    summary = review.queue_summary(db)
    assert summary.queued == 8 and summary.cells == sum(i.cells for i in whole)
    assert summary.reasons == review.reason_counts(whole)
    [readme] = review.queue(db, reasons=["not_a_report"])
    assert readme.name.endswith("README.md") and review.queue_summary(db, ["not_a_report"]).queued == 1
    assert len(review.queue(db, reasons=["blank_total", "not_a_report"])) == 8
    most = review.queue(db, 2, order="most cells first")
    assert [i.cells for i in most] == sorted((i.cells for i in whole), reverse=True)[:2]
    assert review.queue(db, agencies=["no such agency"]) == []


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
    assert figures["status"]["reviewed"] == 1 and figures["queue_over_time"][-1]["queued"] == 2
    assert figures["reviews_per_day"][0]["reviewer"] == "ana"


def test_an_unread_section_is_a_full_blank_grid_and_stays_absent_when_left_empty(queued):
    item = sample_004(queued)
    item.report.review_litigation = None
    grid = review.complete(item.report)
    assert grid.review_litigation.values() == {r: dict.fromkeys(c, None) for r, c in _keys("review_litigation")}
    assert review.finalize(grid).review_litigation is None
    assert any("section 四 is empty" in o for o in review.objections(item, grid))


def _keys(section):
    spec = review.template.spec(section, "2021")
    return [(r.key, [c.key for c in r.columns]) for r in spec.rows]


def test_save_fix_refuses_a_hand_changed_printed_value_without_a_note(queued):
    item = sample_004(queued)
    changes = review.derived_totals(item.report)
    draft = {k: review.Change(str(v), "derived") for k, v in changes.items()}
    draft[("applications", "new_received", "natural_person")] = review.Change("30", "typed")  # printed 3
    draft[("applications", "new_received", "total")] = review.Change("31", "typed")
    report = review.with_changes(item.report, draft)
    with pytest.raises(review.Refused, match="printed value"):
        review.save_fix(queued, item, report, "ana", "", draft)
    review_id = review.save_fix(queued, item, report, "ana", "解析读错", draft)
    whys = {d["row"] + "." + d["column"]: d["why"] for d in store.json.loads(queued["reviews"].get(review_id)["diff"])}
    assert whys["new_received.natural_person"] == review.WHY["typed"]
    assert whys["total_handled.total"] == review.WHY["derived"]


def test_blank_zero_and_slash_are_three_cells():
    report = review.complete(review.Report(), "2021")
    key = ("review_litigation", "review", "upheld")
    kinds = [
        review.with_changes(report, {key: review.Change(t, "typed")}).review_litigation.cell(*key[1:]).kind
        for t in ("", "0", "/")
    ]
    assert kinds == ["blank", "zero", "not_applicable"]
    with pytest.raises(ValueError, match="not a number"):
        review.with_changes(report, {key: review.Change("abc", "typed")})


def test_a_typed_number_longer_than_any_count_is_refused_not_stored():
    report = review.complete(review.Report(), "2021")
    key = ("review_litigation", "review", "upheld")
    with pytest.raises(ValueError, match="1234567890123456789"):
        review.with_changes(report, {key: review.Change("1234567890123456789", "typed")})


def test_pasted_run_together_digits_are_offered_as_the_splits_that_balance():
    offered = review.splits("applications", "2021", "new_received", "12700000127")
    wanted = dict(
        zip(
            ["natural_person", "commercial", "research", "social_welfare", "legal_service", "other_org", "total"],
            ["127", "0", "0", "0", "0", "0", "127"],
            strict=True,
        )
    )
    assert wanted in offered
    assert review.balances("applications", "2021", "new_received", wanted)


def test_an_ambiguity_is_offered_as_its_readings():
    finding = review.Finding.blocking(
        "applications.layout.ambiguous",
        "f",
        "2 readings fit the identities; kept one, a person must choose. "
        "Differs in granted.total: 3 or 12; granted.other_org: blank or 9",
    )
    [first, second] = review.choices([finding])
    assert first.cell == ("applications", "granted", "total") and first.options == ("3", "12")
    assert second.options == ("", "9")


def test_a_model_pick_among_the_readings_is_offered_and_explained_as_the_same_choice():
    finding = review.Finding.blocking(
        "proactive.llm.open_in_text",
        "f",
        "the model chose one of the readings the text allows; 行政规范性文件: the printed digits split 3 ways "
        "(2|44|32; 24|4|32; 2|4|432); kept 2|44|32, a person must choose. "
        "Differs in normative_documents.issued: 2 or 24; normative_documents.repealed: 44 or 4",
    )
    [issued, repealed] = review.choices([finding])
    assert issued.cell == ("proactive", "normative_documents", "issued") and issued.options == ("2", "24")
    assert repealed.options == ("44", "4")
    assert waiting.reason_of(finding.id) == waiting.reason_of("proactive.layout.ambiguous") == "layout.ambiguous"


def test_a_zero_the_text_does_not_place_is_offered_as_its_two_cells():
    finding = review.Finding.blocking(
        "applications.layout.zero_placement",
        "f",
        "where a printed 0 belongs is not fixed by the text (blank and 0 differ); the layout's usual placement "
        "was kept, a person must confirm. Differs in partially_granted.total: 0 or blank; "
        "partially_granted.other_org: blank or 0",
    )
    [total, other] = review.choices([finding])
    assert total.cell == ("applications", "partially_granted", "total") and total.options == ("0", "")
    assert other.options == ("", "0")
    assert waiting.reason_of(finding.id) == "layout.zero_placement"


def test_discard_needs_a_reason_makes_no_gold_and_survives_re_extraction(queued):
    item = sample_004(queued)
    with pytest.raises(ValueError, match="reason"):
        review.discard(queued, item, "ana", " ")
    review.discard(queued, item, "ana", "a README")
    assert store.document(queued, item.doc_id)["status"] == "discarded" and queued["gold"].count == 0
    pipeline.extract_document(queued, item.doc_id)
    assert store.document(queued, item.doc_id)["status"] == "discarded"


def test_the_source_marks_edited_and_failing_spans_apart_and_escapes_the_text():
    shown = review.source_html("a<b>12</b> 34 56", [(4, 6), (11, 13)], 0, edited=[(11, 13), (14, 16)])
    assert f"<mark style='{review.FAILING_STYLE}'>12</mark>" in shown and "&lt;b&gt;" in shown and "<b>" not in shown
    assert f"<mark style='{review.EDITED_STYLE}'>34</mark>" in shown  # an edit wins where both fall
    assert f"<mark style='{review.EDITED_STYLE}'>56</mark>" in shown
    assert shown.count("<mark") == 3


def _misread(db, tmp_path, digits: str = "12"):
    """A generated report whose 一、本年新收 自然人 (127) was read with a digit lost."""
    import random

    from extraction.synth import generator

    text = generator.generate(random.Random(5), "tab_rows", "2021").readable()
    path = tmp_path / "misread.txt"
    path.write_text(text.replace("数量\t127\t0", f"数量\t{digits}\t0", 1), encoding="utf-8")
    pipeline.run(db, [str(path)])
    return review.open_item(db, store.find_document(db, str(path))["id"])


CELL = ("applications", "new_received", "natural_person")


def test_the_one_cell_that_settles_every_failing_identity_is_offered_with_its_printed_row(db, tmp_path):
    item = _misread(db, tmp_path)
    offered = review.repair(item.report)
    assert (offered.cell, offered.before, offered.after) == (CELL, "12", "127")
    assert set(offered.settles) == {"applications.row_sum.new_received", "applications.balance.natural_person"}
    row = review.row_html(item.text, item.original, CELL)
    assert "一、本年新收" in row and f"<mark style='{review.EDITED_STYLE}'>12</mark>" in row


def test_no_repair_is_offered_when_several_cells_could_settle_the_failures(queued):
    item = sample_004(queued)  # three blank totals: filled by derived totals, not one repair
    assert review.repair(item.report) is None
    blank = review.complete(review.Report(), "2021")
    part = ("review_litigation", "review", "upheld")
    assert review.repair(review.with_changes(blank, {part: review.Change("3", "typed")})) is None  # total blank
    typed = {part: review.Change("3", "typed"), ("review_litigation", "review", "total"): review.Change("5", "typed")}
    assert review.repair(review.with_changes(blank, typed)) is None  # 四's row alone: its part or its total


def test_a_confirmed_repair_is_saved_without_a_note_and_the_decision_says_what_and_why(db, tmp_path):
    item = _misread(db, tmp_path)
    draft = {CELL: review.Change("127", "confirmed")}
    review_id = review.save_fix(db, item, review.with_changes(item.report, draft), "ana", "", draft)
    saved = db["reviews"].get(review_id)
    [change] = store.json.loads(saved["diff"])
    assert (change["before"], change["after"], change["why"]) == ("12", "127", review.WHY["confirmed"])
    assert "confirmed against the source" in saved["note"] and "12 → 127" in saved["note"]


def test_a_typed_balancing_overwrite_or_a_forged_confirmation_still_needs_a_note(db, tmp_path):
    item = _misread(db, tmp_path)
    typed = {CELL: review.Change("127", "typed")}  # the same value, typed: the guard stands
    with pytest.raises(review.Refused, match="printed value"):
        review.save_fix(db, item, review.with_changes(item.report, typed), "ana", "", typed)
    forged = {  # marked confirmed, but another cell changed too: no longer the one-cell repair
        CELL: review.Change("128", "confirmed"),
        ("applications", "new_received", "total"): review.Change("128", "typed"),
    }
    with pytest.raises(review.Refused, match="one-cell repair"):
        review.save_fix(db, item, review.with_changes(item.report, forged), "ana", "", forged)
    assert db["reviews"].count == 0


def test_a_text_pdf_s_pages_are_rendered_from_its_file_only_while_it_holds_the_same_bytes(db, tmp_path):
    import random

    from extraction.review import pages
    from extraction.synth import generator, render

    made = generator.generate(random.Random(3), "html", error="wrong_total")
    path = tmp_path / "report.pdf"
    path.write_bytes(render.pdf_bytes(made.text))
    pipeline.run(db, [str(path)])
    doc = store.find_document(db, str(path))
    assert store.page_images(db, doc["id"]) == []  # a text layer: nothing stored
    assert pages.source_pdf(doc) == path
    texts = pages.page_texts(path)
    assert len(texts) == doc["pages"] >= 2
    assert pages.page_of(texts, ["四、政府信息公开行政复议、行政诉讼情况"]) == len(texts)  # 四 is on the last page
    assert pages.page_of(texts, ["no such words", "二、主动公开政府信息情况"]) == 1
    png = pages.render(path, 1)
    assert png.startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="page"):
        pages.render(path, len(texts) + 1)
    path.write_bytes(render.pdf_bytes(made.text + "\n另一份文件"))  # replaced at the same path
    assert pages.source_pdf(doc) is None


def _page(size=(300, 200)) -> bytes:
    from PIL import Image

    from extraction.review import pages

    return pages.as_png(Image.new("L", size, 255))


def test_each_doubt_s_box_is_outlined_on_its_page_in_the_colour_of_who_settles_it_and_cut_out_with_a_margin():
    import io

    from PIL import Image

    from extraction.read.readout import Doubt
    from extraction.review import pages

    resolved = Doubt(0, 1, 0.2, 0, "6", ("6", "8"), True, (20, 30, 80, 70))
    waiting = Doubt(2, 3, 0.2, 0, "9", ("9", "3"), False, (150, 40, 220, 100))
    skipped = [
        Doubt(4, 5, 0.2, 0, "1", box=None),  # no box: a store written before boxes were kept
        Doubt(4, 5, 0.2, 0, "1", box=(400, 300, 450, 350)),  # off the image
        Doubt(4, 5, 0.2, 0, "1", box=(60, 60, 60, 90)),  # no area
        Doubt(4, 5, 0.2, 1, "1", box=(20, 30, 80, 70)),  # a page the scan does not have
    ]
    [marked], crops = pages.scan_views([_page()], [resolved, waiting, *skipped])
    page = Image.open(io.BytesIO(marked)).convert("RGB")
    for x, y in [(20, 50), (79, 50), (50, 30), (50, 69)]:  # the box's four sides
        assert page.getpixel((x, y)) == pages.RESOLVED
    assert page.getpixel((150, 70)) == page.getpixel((185, 99)) == pages.UNRESOLVED
    for x, y in [(50, 50), (15, 50), (85, 50), (185, 70), (60, 75), (10, 10)]:  # inside, beside, elsewhere
        assert page.getpixel((x, y)) == (255, 255, 255)
    assert crops[2:] == [None, None, None, None]
    cut = Image.open(io.BytesIO(crops[0])).convert("RGB")
    assert cut.size == (60 + 2 * pages.MARGIN, 40 + 2 * pages.MARGIN)
    assert cut.getpixel((pages.MARGIN, pages.MARGIN + 20)) == pages.RESOLVED
    assert cut.getpixel((pages.MARGIN // 2, pages.MARGIN // 2)) == (255, 255, 255)
    assert Image.open(io.BytesIO(crops[1])).size == (70 + 2 * pages.MARGIN, 60 + 2 * pages.MARGIN)


def test_a_crop_at_the_page_s_edge_keeps_its_size_with_paper_white_beyond_the_page():
    import io

    from PIL import Image

    from extraction.read.readout import Doubt
    from extraction.review import pages

    _, [crop] = pages.scan_views([_page()], [Doubt(0, 1, 0.2, 0, "6", box=(0, 170, 40, 200))])
    cut = Image.open(io.BytesIO(crop)).convert("RGB")
    assert cut.size == (40 + 2 * pages.MARGIN, 30 + 2 * pages.MARGIN)
    assert cut.getpixel((2, 2)) == cut.getpixel((cut.width - 3, cut.height - 3)) == (255, 255, 255)
    assert cut.getpixel((pages.MARGIN, pages.MARGIN + 10)) == pages.UNRESOLVED


def test_a_tilted_scan_is_shown_level_as_ocr_read_it_so_the_boxes_fall_on_their_cells():
    import numpy as np
    from PIL import Image, ImageDraw

    from extraction.review import pages

    image = Image.new("L", (1200, 900), 255)
    pen = ImageDraw.Draw(image)
    for y in range(100, 800, 100):  # a table's rules
        pen.line((100, y, 1100, y), fill=0, width=2)
    tilted = image.rotate(0.8, fillcolor=255, resample=Image.Resampling.BICUBIC)

    def widest_row(page) -> int:
        return int((np.asarray(page.convert("L")) < 128).sum(axis=1).max())

    assert widest_row(tilted) < 300  # askew, a rule crosses many rows of pixels
    assert widest_row(pages.level(pages.as_png(tilted))) > 900  # level, it lies in one


def test_a_doubt_is_matched_to_the_cell_it_read_and_captioned_with_its_readings_and_who_settles_it():
    import random

    from extraction.read.readout import Doubt
    from extraction.review import pages
    from extraction.synth import generator
    from extraction.tables import layout

    text = generator.generate(random.Random(3), "html").readable()
    report = layout.parse(text).report
    cell = report.applications.cell("new_received", "total")
    doubt = Doubt(cell.span[0], cell.span[1], 0.3, 1, f"{cell.raw} (page read: 8; read alone: {cell.raw})", ("8",))
    key = pages.cell_of(report, doubt)
    assert key == ("applications", "new_received", "total")
    assert "本年新收" in pages.label(report, key) and "总计" in pages.label(report, key)
    assert pages.cell_of(report, Doubt(0, 2, 0.3, 0, "x")) is None  # the title is no cell
    shown = pages.caption(doubt, pages.label(report, key))
    assert "page 2" in shown and "read alone" in shown and "a person must choose" in shown
    assert "resolved by the identities" in pages.caption(Doubt(0, 2, 0.3, 0, "6", resolved=True), None)
