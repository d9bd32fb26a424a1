"""PDF files: the text layer with positions, tables rebuilt from the page's ruling lines.

pdfplumber finds a ruled table's cells from the lines drawn on the page, so a merged cell
comes back as one cell and the places it spans as empty ones: the same grid the HTML and
Word readers hand on. Prose outside the tables is read line by line and set between the
tables by its height on the page. A page with tables drawn without rules is read as text laid
out by position (the `pdftotext -layout` family the stream parser knows). A page with no text
layer at all is a scan: it is rendered and read by OCR.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pdfplumber
from PIL import Image

from extraction.read import balance, ocr
from extraction.read.readout import Readout, TextBuilder, TextCell, cell_text

DPI = 150
MAX_DPI = 300
# The page image kept for a page on which nothing is drawn (pages stay numbered as in the file).
_EMPTY_PAGE = ocr.png(Image.new("L", (1, 1), 255))
Progress = Callable[[int, int], None]


class NotReadable(ValueError):
    """A PDF that cannot be opened: encrypted, corrupt, or over the page limit."""


def read(
    data: bytes,
    max_pages: int,
    min_confidence: float = ocr.MIN_CONFIDENCE,
    progress: Progress | None = None,
    max_megapixels: float = 60.0,
    ocr_threads: int | None = None,
) -> Readout:
    declared = declared_pages(data)
    if declared is not None and declared > max_pages:
        raise _too_long(declared, max_pages)
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
        count = len(pdf.pages)
    except Exception as exc:  # pdfminer raises its own error per kind of damage
        raise NotReadable(_why(exc)) from exc
    if count > max_pages:
        pdf.close()
        raise _too_long(count, max_pages)
    builder = TextBuilder(min_confidence)
    images: list[bytes] = []
    scans = ocr.PageReader(builder, threads=ocr_threads)
    with pdf:
        for number, page in enumerate(pdf.pages):
            try:
                chars = page.chars
            except Exception as exc:
                raise NotReadable(f"page {number + 1}: {_why(exc)}") from exc
            if chars:
                scans.flush()  # a scanned page waiting for its next is read before this text
                _text_page(page, builder)
            elif not (page.images or page.rects or page.lines or page.curves):
                images.append(_EMPTY_PAGE)  # nothing drawn on it: no text to render or read
            else:
                resolution = scan_resolution(page)
                _check_pixels(page, number, max_megapixels, resolution)
                image = page.to_image(resolution=resolution).original
                images.append(ocr.png(image))
                scans.add(image, number, images[-1])  # blank sheets and pages without tables: not read
            if progress:
                progress(number + 1, count)
        scans.finish()
    text, doubts = balance.resolve(builder.text(), builder.doubts)  # scanned pages' numbers, by the identities
    return Readout(text=text, pages=count, images=images, doubts=doubts)


def declared_pages(data: bytes) -> int | None:
    """The page count the document catalogue declares (/Pages /Count), read without walking the
    page tree: pdfplumber lists every page first, 39 s and 885 MB for a 150,000-page file. None
    where the catalogue cannot say; the count of pages actually found is checked after."""
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import resolve1

    try:
        catalog = PDFDocument(PDFParser(io.BytesIO(data))).catalog
        count = resolve1(resolve1(catalog.get("Pages")).get("Count"))
    except Exception:  # damage and encryption are worded by the full open that follows
        return None
    return count if isinstance(count, int) and count >= 0 else None


def _too_long(count: int, max_pages: int) -> NotReadable:
    return NotReadable(
        f"PDF has {count} pages, over the limit of {max_pages} "
        "(an annual report runs to a few dozen; raise it with --max-pages or XXGK_MAX_PAGES)"
    )


def scan_resolution(page: pdfplumber.page.Page) -> float:
    """The resolution a scanned page is rendered at: that of the scan it carries (its largest
    image's pixels across the width it is drawn), between DPI and MAX_DPI. Rendered at less, a
    200 dpi scan's one-pixel rules turn light grey and the table's grid is lost; at more, OCR
    only gets slower."""

    def area(image: dict) -> float:
        return (float(image["x1"]) - float(image["x0"])) * (float(image["bottom"]) - float(image["top"]))

    largest = max(page.images, key=area, default=None)
    if largest is None or area(largest) <= 0 or not (largest.get("srcsize") or (0,))[0]:
        return DPI
    drawn = float(largest["x1"]) - float(largest["x0"])
    return min(max(DPI, round(largest["srcsize"][0] / (drawn / 72))), MAX_DPI)


def _check_pixels(page: pdfplumber.page.Page, number: int, max_megapixels: float, resolution: float = DPI) -> None:
    """A scanned page is rendered before OCR: its size in pixels is known from its size in
    points beforehand (one 14400 pt square page would be 900 megapixels, 13 GB and minutes)."""
    scale = resolution / 72
    width, height = float(page.width) * scale, float(page.height) * scale
    pixels = width * height / 1e6
    if pixels > max_megapixels:
        raise NotReadable(
            f"page {number + 1} is {page.width:.0f}x{page.height:.0f} pt, {pixels:.0f} megapixels "
            f"at {resolution:g} dpi: over the pixel budget of {max_megapixels:g} (XXGK_MAX_MEGAPIXELS)"
        )


def _why(exc: Exception) -> str:
    # pdfplumber wraps pdfminer's own error, which names the damage.
    inner = exc.args[0] if exc.args and isinstance(exc.args[0], Exception) else exc.__cause__ or exc
    exc = inner if isinstance(inner, Exception) else exc
    name = type(exc).__name__
    if "Password" in name or "Encrypt" in name or "password" in str(exc).lower():
        return "PDF is encrypted (password protected); save an unprotected copy and ingest that"
    return f"PDF is damaged or not a PDF ({name}: {exc})"


def _text_page(page: pdfplumber.page.Page, builder: TextBuilder) -> None:
    tables = [t for t in page.find_tables() if len(t.rows) > 1]
    if not tables:
        for line in (page.extract_text(layout=True) or "").splitlines():
            builder.line(line)
        return

    def outside(obj: dict) -> bool:
        return not any(_inside(obj, t.bbox) for t in tables)

    pieces: list[tuple[float, str | list[list[TextCell]]]] = [
        (line["top"], line["text"]) for line in page.filter(outside).extract_text_lines()
    ]
    for table in tables:
        rows = [[TextCell(cell_text(cell)) for cell in row] for row in table.extract()]
        pieces.append((table.bbox[1], rows))
    for _, piece in sorted(pieces, key=lambda p: p[0]):
        if isinstance(piece, str):
            builder.line(piece)
        else:
            builder.table(piece)


def _inside(obj: dict, box: tuple[float, float, float, float]) -> bool:
    x = (obj["x0"] + obj["x1"]) / 2
    y = (obj["top"] + obj["bottom"]) / 2
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]
