"""Scans: OCR with the bundled models, table cells from the ruling lines, doubts as findings."""

import io
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT
from formats import cell_count, render, report, run, write, wrong_cells
from PIL import Image, ImageDraw, ImageFilter

from extraction import pipeline
from extraction.read import ingest, ocr
from extraction.read.readout import Doubt, TextCell
from extraction.schema import Cell
from extraction.storage import store
from extraction.tables import layout

needs_font = pytest.mark.skipif(render.cjk_font() is None, reason="no CJK font on this machine (fonts-noto-cjk)")


def _accepted_tables_are_right(db, outcome, gold) -> None:
    wrong = wrong_cells(db, outcome.doc_id, gold)
    assert len(wrong) <= 0.01 * cell_count(gold), wrong
    if outcome.status == "accepted":
        assert wrong == [] and not gold.errors


@needs_font
def test_a_long_png_scan_is_read_with_at_most_one_cell_in_a_hundred_wrong(db, tmp_path):
    gold = report(7)
    path = write(tmp_path, "图片版.png", render.png_bytes(render.long_image(render.scan_images(gold.text, seed=7))))
    outcome = run(db, [path])[0]
    doc = store.document(db, outcome.doc_id)
    assert doc["format"] == "image" and len(store.page_images(db, outcome.doc_id)) == 1
    _accepted_tables_are_right(db, outcome, gold)


@needs_font
def test_an_image_only_pdf_goes_to_ocr_and_keeps_its_page_images(db, tmp_path):
    gold = report(8, error="wrong_total")
    pages = render.scan_images(gold.text, seed=8)
    path = write(tmp_path, "scan.pdf", render.scan_pdf_bytes(pages))
    outcome = run(db, [path])[0]
    doc = store.document(db, outcome.doc_id)
    assert doc["format"] == "PDF (scanned)" and doc["pages"] == len(pages)
    assert len(store.page_images(db, outcome.doc_id)) == len(pages)
    _accepted_tables_are_right(db, outcome, gold)
    assert outcome.status == "queued"  # a printed wrong total is never accepted, scanned or not


def test_ruling_lines_give_cells_with_their_spans():
    image = Image.new("L", (600, 300), 255)
    pen = ImageDraw.Draw(image)
    pen.rectangle((50, 50, 550, 250), outline=0, width=2)
    pen.line((50, 150, 550, 150), fill=0, width=2)  # one row boundary across the whole table
    pen.line((300, 50, 300, 250), fill=0, width=2)
    pen.line((425, 150, 425, 250), fill=0, width=2)  # the lower row has one more column
    tables = ocr.ruled_tables(np.asarray(image))
    assert len(tables) == 1
    tops = sorted({r.y0 // 20 for r in tables[0]})
    # Top row: 2 cells (the right one spans two columns below); bottom row: 3.
    assert [sum(1 for r in tables[0] if r.y0 // 20 == top) for top in tops] == [2, 3]


def test_an_empty_or_broken_image_fails_with_a_reason(tmp_path):
    empty = ingest.read(write(tmp_path, "scan.png", b""))
    assert empty.text is None and "empty" in empty.error
    broken = ingest.read(write(tmp_path, "scan2.png", b"\x89PNG\r\n\x1a\n" + bytes(100)))
    assert broken.text is None and "not a readable image" in broken.error


def test_a_value_read_from_a_doubtful_stretch_is_a_blocking_finding(db):
    gold = report(9)
    text = gold.readable()
    extraction = layout.parse(text)
    column = next(c for c, v in gold.values["applications"]["new_received"].items() if v)  # a printed number
    cell: Cell = extraction.report.applications.cell("new_received", column)
    assert cell.span is not None
    doubt = Doubt(cell.span[0], cell.span[1], 0.41, 1, f"{cell.raw} (read alone: 8)")
    findings = pipeline.check(db, "x", text, extraction, [doubt])
    blocking = [f for f in findings if f.blocks_acceptance and "ocr_confidence" in f.id]
    assert [f.cells for f in blocking] == [[("applications", "new_received", column)]]
    assert "read alone: 8" in blocking[0].message and "page 2" in blocking[0].message
    assert all(f.id != blocking[0].id for f in pipeline.check(db, "x", text, extraction, []))


def test_blank_pages_are_kept_but_not_read(monkeypatch):
    white = Image.new("RGB", (1200, 1700), "white")
    specks = white.copy()
    ImageDraw.Draw(specks).point([(10, 10), (500, 900), (1100, 1600)], fill="black")  # scanner dust
    printed = white.copy()
    ImageDraw.Draw(printed).rectangle((100, 100, 700, 160), fill="black")  # as much ink as a line of text
    assert ocr.blank(white) and ocr.blank(specks) and not ocr.blank(printed)

    def no_engine(threads=None):
        raise AssertionError("OCR started on a blank page")

    monkeypatch.setattr(ocr, "engine", no_engine)
    readout = ocr.read_images(iter([white, specks] * 50))
    assert readout.pages == 100 and len(readout.images) == 100 and readout.text.strip() == ""


def test_the_ocr_threads_setting_reaches_the_engine_that_reads_the_scan(tmp_path, monkeypatch):
    built = []

    def engine(threads=None):
        built.append(ocr.engine.__wrapped__(threads))
        return built[-1]

    engine.__wrapped__ = ocr.engine
    monkeypatch.setattr(ocr, "engine", engine)
    page = Image.new("L", (600, 200), 255)
    ImageDraw.Draw(page).rectangle((50, 50, 550, 110), fill=0)  # ink, so the first page is read
    buffer = io.BytesIO()
    page.save(buffer, format="PNG")
    path = tmp_path / "scan.png"
    path.write_bytes(buffer.getvalue())
    ingest.read(path, limits=ingest.Limits(ocr_threads=1))
    (used,) = built
    options = used.text_det.infer.session.get_session_options()
    assert options.intra_op_num_threads == 1 and options.inter_op_num_threads == 1


def _page(ruled: bool) -> Image.Image:
    image = Image.new("L", (1200, 1700), 255)
    pen = ImageDraw.Draw(image)
    pen.rectangle((100, 100, 900, 160), fill=0)  # a line of text's worth of ink
    if ruled:
        for y in range(300, 700, 80):
            pen.line((100, y, 1100, y), fill=0, width=2)
        for x in (100, 600, 1100):
            pen.line((x, 300, x, 620), fill=0, width=2)
    return image


def test_only_the_title_page_the_table_pages_and_the_page_before_a_table_are_ocred(monkeypatch):
    read, built = [], []
    monkeypatch.setattr(ocr, "engine", lambda threads=None: built.append(1) or object())
    monkeypatch.setattr(ocr, "read_page", lambda engine, image, builder, page=0: read.append((page, image.height)))
    # title, prose, prose, table, table, prose, prose (the closing remarks)
    pages = [_page(r) for r in (False, False, False, True, True, False, False)]
    readout = ocr.read_images(iter(pages))
    # the page before the first table only in its lower half (where the section heading can be)
    assert read == [(0, 1700), (2, 850), (3, 1700), (4, 1700)] and built == [1]  # one engine
    assert readout.pages == 7 and len(readout.images) == 7  # every page image kept for review


def test_a_scan_without_ruling_lines_is_read_on_every_page_in_order(monkeypatch):
    read = []
    monkeypatch.setattr(ocr, "engine", lambda threads=None: object())
    monkeypatch.setattr(ocr, "read_page", lambda engine, image, builder, page=0: read.append(page))
    ocr.read_images(iter([_page(False) for _ in range(4)]))
    assert read == [0, 1, 2, 3]


def test_a_table_cut_by_a_page_break_keeps_its_last_row_open_at_the_bottom():
    image = Image.new("L", (600, 300), 255)
    pen = ImageDraw.Draw(image)
    for y in (50, 120, 190):  # no rule under the last row: it closes on the next page
        pen.line((50, y, 550, y), fill=0, width=2)
    for x in (50, 300, 550):
        pen.line((x, 50, x, 260), fill=0, width=2)
    regions = ocr.ruled_tables(np.asarray(image))[0]
    assert sorted({(r.y0 // 10, r.y1 // 10) for r in regions}) == [(5, 11), (12, 18), (19, 26)]  # to the rules' ends


def test_a_text_box_the_detector_ran_across_cells_is_cut_at_the_rules():
    cells = [ocr.Region(0, 0, 100, 40), ocr.Region(104, 0, 200, 40), ocr.Region(204, 0, 300, 40)]
    across = ocr.Box(10, 10, 290, 30, "结果其他尚未", 0.9)  # two characters in each cell
    assert [(at, piece[2]) for at, piece in ocr._split(across, cells)] == [(0, "结果"), (1, "其他"), (2, "尚未")]
    inside = ocr.Box(20, 10, 80, 30, "1001", 0.9)
    assert [(at, piece[2]) for at, piece in ocr._split(inside, cells)] == [(0, "1001")]


def test_a_cell_is_read_without_its_rules_and_a_digit_filling_a_low_row_is_not_cut():
    image = Image.new("L", (120, 34), 255)
    pen = ImageDraw.Draw(image)
    pen.rectangle((0, 0, 119, 33), outline=0, width=2)  # the rules left inside a crooked cell
    pen.rectangle((55, 5, 65, 28), outline=0, width=2)  # a "0" nearly as tall as the row
    inner = ocr._interior(np.asarray(image), ocr.Region(0, 0, 120, 34))
    ys, xs = np.nonzero(inner < 128)
    assert ys.max() - ys.min() == 23 and xs.max() - xs.min() == 10  # the whole digit, no rule


def test_two_readings_that_differ_keep_the_cell_read_alone_and_both_readings():
    cell = ocr._second_opinion(TextCell("D", 0.9), TextCell("0", 0.95))
    assert cell.text == "0" and cell.confidence == 0.0 and cell.readings == ("0", "D")
    agreed = ocr._second_opinion(TextCell("12", 0.9), TextCell("12", 0.9))
    assert agreed.confidence == pytest.approx(0.99) and agreed.readings == ("12",)


def test_a_table_scanned_crooked_still_counts_as_ruled_and_a_text_page_does_not():
    tilted = _page(True).rotate(0.8, fillcolor=255, resample=Image.BICUBIC)
    assert ocr.has_rules(np.asarray(tilted)) and not ocr.has_rules(np.asarray(_page(False)))


def test_a_crooked_scan_is_turned_level_so_its_cells_fall_into_rows_again():
    level = _page(True)
    crooked = np.asarray(level.rotate(0.8, fillcolor=255, resample=Image.BICUBIC))
    straight = ocr.straightened(crooked)
    tops = lambda gray: {r.y0 // 4 for r in ocr.ruled_tables(gray)[0]}  # noqa: E731
    assert len(tops(straight)) == len(tops(np.asarray(level))) == 4 != len(tops(crooked))
    assert ocr.straightened(np.asarray(level)) is not None and np.array_equal(
        ocr.straightened(np.asarray(level)), np.asarray(level)
    )


REAL = ROOT.parent / "shared" / "realfiles"
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/realfiles is not beside this checkout")


def _scanned(pdf: Path, pages: list[int], worn: bool) -> bytes:
    """Pages of a real PDF as a copier gives them back: images only, tilted and blurred if worn."""
    import pdfplumber

    images = []
    with pdfplumber.open(pdf) as doc:
        for number in pages:
            image = doc.pages[number].to_image(resolution=150).original.convert("L")
            if worn:
                image = image.rotate(0.8 if number % 2 == 0 else -0.8, fillcolor=255, resample=Image.BICUBIC)
                image = image.filter(ImageFilter.GaussianBlur(0.6))
            images.append(image)
    out = io.BytesIO()
    images[0].save(out, format="PDF", save_all=True, append_images=images[1:], resolution=150)
    return out.getvalue()


@needs_real
def test_the_section_pages_of_a_real_report_scanned_worn_read_as_its_text_layer_and_nothing_blocks(db, tmp_path):
    # 003: section 三 runs over a page break (its last row on page 3 has no rule under it), and
    # section 四's header cells are printed close enough for the detector to run them together.
    pdf = REAL / "003_hongze_district_2024.pdf"
    reference = layout.parse(ingest.read(pdf).text).report
    path = write(tmp_path, "scan.pdf", _scanned(pdf, [2, 3], worn=True))
    outcome = run(db, [path])[0]
    scanned = store.report_of(store.current_extraction(db, outcome.doc_id))
    for section in ("applications", "review_litigation"):
        assert scanned.table(section).values() == reference.table(section).values()
    found = store.findings(db, store.current_extraction(db, outcome.doc_id)["id"])
    blocking = [f.id for f in found if f.blocks_acceptance and not f.id.startswith("proactive")]
    assert blocking == []  # every doubt OCR left in 三 and 四 was settled by the identities


def test_a_doubt_keeps_its_readings_and_where_its_cell_is_on_the_page_through_the_store():
    import json

    from extraction.read.readout import TextBuilder

    builder = TextBuilder(ocr.MIN_CONFIDENCE)
    builder.table([[TextCell("合计"), TextCell("8", 0.3, "8 (read alone: 6)", ("6", "8"), box=(120, 40, 180, 80))]])
    [doubt] = builder.doubts
    assert doubt.box == (120, 40, 180, 80) and doubt.readings == ("6", "8")
    assert Doubt(**json.loads(json.dumps(doubt.as_dict()))) == doubt  # as the store writes and reads it
