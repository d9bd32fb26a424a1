"""PDF files: tables rebuilt from the text layer's positions and rules; bad PDFs refused clearly."""

import io
from pathlib import Path

import pytest
from conftest import ROOT
from formats import render, report, run, write, wrong_cells
from reportlab.pdfgen import canvas

from extraction import checks
from extraction.read import ingest
from extraction.scoring import evaluation
from extraction.storage import store
from extraction.tables import layout

REAL = ROOT.parent / "shared" / "realfiles"
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/realfiles is not beside this checkout")


def test_generated_text_pdfs_are_read_exactly(db, tmp_path):
    reports = [report(seed) for seed in range(40, 46)] + [report(46, error="blank_total")]
    paths = [write(tmp_path, f"r{i}.pdf", render.pdf_bytes(r.text)) for i, r in enumerate(reports)]
    for gold, outcome in zip(reports, run(db, paths), strict=True):
        doc = store.document(db, outcome.doc_id)
        assert doc["format"] == "PDF" and doc["pages"] >= 2
        assert wrong_cells(db, outcome.doc_id, gold) == []
        assert outcome.status == ("queued" if gold.errors else "accepted")
        assert store.page_images(db, outcome.doc_id) == []  # a text layer needs no page images


def _pdf(pages: int, **options: object) -> bytes:
    out = io.BytesIO()
    pdf = canvas.Canvas(out, **options)
    for number in range(pages):
        pdf.drawString(72, 720, f"page {number + 1}")
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def test_encrypted_pdf_fails_saying_so(tmp_path):
    doc = ingest.read(write(tmp_path, "locked.pdf", _pdf(1, encrypt="secret")))
    assert doc.text is None and "encrypted" in doc.error


def test_truncated_pdf_fails_as_damaged(tmp_path):
    data = render.pdf_bytes(report(1).text)
    doc = ingest.read(write(tmp_path, "cut.pdf", data[: len(data) // 3]))
    assert doc.text is None and doc.format == "PDF"
    assert "damaged" in doc.error or "no text found" in doc.error


def test_a_pdf_over_the_page_limit_is_refused_before_any_page_is_read(tmp_path):
    path = write(tmp_path, "long.pdf", _pdf(300))
    doc = ingest.read(path, limits=ingest.Limits(max_pages=100))
    assert doc.text is None and "300 pages, over the limit of 100" in doc.error and "XXGK_MAX_PAGES" in doc.error
    assert ingest.read(path, limits=ingest.Limits(max_pages=300)).pages == 300


def test_bad_pdfs_fail_and_the_batch_goes_on(db, tmp_path):
    locked = write(tmp_path, "a_locked.pdf", _pdf(1, encrypt="secret"))
    good = write(tmp_path, "b_good.pdf", render.pdf_bytes(report(2).text))
    outcomes = run(db, [locked, good])
    assert outcomes[0].status == "failed" and "encrypted" in outcomes[0].detail
    assert outcomes[1].status in ("accepted", "queued")
    assert store.status_counts(db).get("failed") == 1


@needs_real
def test_real_pdf_reads_like_its_hand_checked_text(db):
    """003's pdftotext -layout text was checked by hand cell by cell; the PDF's own cells agree."""
    outcome = run(db, [REAL / "003_hongze_district_2024.pdf"])[0]
    assert outcome.status == "accepted"
    from_pdf = store.report_of(store.current_extraction(db, outcome.doc_id))
    from_text = layout.parse((REAL / "003_hongze_district_2024.txt").read_text(encoding="utf-8")).report
    for section in ("proactive", "applications", "review_litigation"):
        assert from_pdf.table(section).values() == from_text.table(section).values()


@needs_real
def test_positions_settle_what_the_text_order_left_ambiguous(db):
    """In 001's default-order text two interleavings of section 四 balance; the PDF's cells pick one of them."""
    text = layout.parse((REAL / "001_huaian_city_2024.txt").read_text(encoding="utf-8"))
    ambiguous = [f for f in text.findings if f.blocks_acceptance and f.id.startswith("review_litigation")]
    assert ambiguous
    outcome = run(db, [REAL / "001_huaian_city_2024.pdf"])[0]
    assert outcome.status == "accepted"
    from_pdf = store.report_of(store.current_extraction(db, outcome.doc_id)).review_litigation
    assert checks.accepted(checks.hard_checks(from_pdf))
    direct = from_pdf.values()["litigation_direct"]
    assert any(str(direct["total"]) in f.message for f in ambiguous)


def test_blank_pages_are_not_rendered_or_read_and_a_blank_scan_fails_saying_so(tmp_path, monkeypatch):
    import io

    from reportlab.pdfgen import canvas

    from extraction.read import ocr

    def no_engine(threads=None):
        raise AssertionError("OCR started on a blank page")

    monkeypatch.setattr(ocr, "engine", no_engine)
    buffer = io.BytesIO()
    pages = canvas.Canvas(buffer)
    for _ in range(100):
        pages.showPage()
    pages.save()
    path = tmp_path / "blank.pdf"
    path.write_bytes(buffer.getvalue())
    doc = ingest.read(path)
    assert not doc.text and "no text found" in doc.error and "100 page(s)" in doc.error
    assert len(doc.images) == 100  # pages stay numbered as in the file


@needs_real
def test_real_pdfs_match_their_page_checked_gold_and_their_texts_never_accept_a_wrong_cell(db):
    """data/gold/realfiles was checked against the rendered pages: each PDF reads exactly (002,
    whose source does not balance, queued with its printed totals); each pdftotext text reads
    exactly or is queued with every wrong cell named (001's text interleaves two rows of 四)."""
    golds = {Path(g.source).name: g for g in evaluation.load_gold_dir(ROOT / "data" / "gold" / "realfiles")}
    assert len(golds) == 6
    paths = [REAL / name for name in sorted(golds)]
    for path, outcome in zip(paths, run(db, paths), strict=True):
        extraction = store.current_extraction(db, outcome.doc_id)
        findings = store.findings(db, extraction["id"])
        doc = store.document(db, outcome.doc_id)
        values = store.report_of(extraction)
        scored = evaluation.score(golds[path.name], values, findings, outcome.status, {}, doc["text"])
        assert not [w for w in scored.wrong if not w.caught_by], path.name
        if path.suffix == ".pdf":
            assert scored.exact, (path.name, scored.wrong)
            assert outcome.status == ("queued" if path.name.startswith("002") else "accepted"), path.name
        else:
            assert not (outcome.status == "accepted" and scored.wrong), path.name
