"""Page images beside the grid. A scan keeps its rendered pages in the store; a PDF with a text
layer keeps none, so its pages are rendered on demand from the file it was read from, which is
used only while it still holds the same bytes (a document's id is the sha256 of its bytes: a
file replaced at the same path is not shown as this document's source).

On a scan's pages the cells OCR doubted are outlined, and each is cut out beside its readings,
so a reviewer compares the printed digit with what was read without searching the page."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pdfplumber
from PIL import Image, ImageDraw

from extraction import template
from extraction.read import ingest, ocr
from extraction.read.readout import Doubt
from extraction.review.item import Key
from extraction.review.waiting import SECTION_NAMES
from extraction.schema import Report

RESOLUTION = 150  # dpi, as scans are rendered: digits legible when the image is opened full screen
MAX_MEGAPIXELS = 40.0  # a page is refused rather than rendered beyond this (a hostile page size)


def source_pdf(doc: dict[str, Any]) -> Path | None:
    """The PDF a document was read from, when it is still at its path with the same bytes."""
    if not str(doc.get("format") or "").startswith("PDF"):
        return None
    path = Path(doc["name"])
    if not path.is_file() or ingest.file_id(path) != doc["id"]:
        return None
    return path


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def page_texts(path: Path) -> list[str]:
    """Each page's text layer with its white space removed, for finding where a snippet is."""
    with pdfplumber.open(path) as pdf:
        return [_squash(page.extract_text() or "") for page in pdf.pages]


def page_of(texts: list[str], snippets: list[str]) -> int | None:
    """The 1-based page holding the first snippet found (white space ignored, as a PDF's text
    layer spaces a line differently from the text the parser read)."""
    for snippet in snippets:
        wanted = _squash(snippet)
        if not wanted:
            continue
        for number, text in enumerate(texts, 1):
            if wanted in text:
                return number
    return None


def render(path: Path, number: int, resolution: int = RESOLUTION) -> bytes:
    """One page of a PDF as PNG bytes; ValueError for a page out of range or too large to draw."""
    with pdfplumber.open(path) as pdf:
        if not 1 <= number <= len(pdf.pages):
            raise ValueError(f"{path.name} has {len(pdf.pages)} page(s), not a page {number}")
        page = pdf.pages[number - 1]
        megapixels = float(page.width) * float(page.height) * (resolution / 72) ** 2 / 1e6
        if megapixels > MAX_MEGAPIXELS:
            raise ValueError(f"page {number} is {megapixels:.0f} megapixels at {resolution} dpi: not drawn")
        return ocr.png(page.to_image(resolution=resolution).original)


# --- The cells OCR doubted, on a scan's page images --------------------------------------------

RESOLVED = (26, 143, 60)  # green: the identities chose the reading, and check it
UNRESOLVED = (214, 39, 40)  # red: the reading waits for a person
OUTLINE = 4  # px: still seen on a page scaled down to the pane's width
MARGIN = 24  # px of page around a crop: the cell's rules and its neighbours, to see which cell it is


def level(page_png: bytes) -> Image.Image:
    """A scanned page as OCR read it: turned level (ocr.straightened, deterministic), since a
    doubt's box is in the pixels of the level page; a page laid 0.8° askew puts a cell at the
    edge of an A4 page at 150 dpi some 10 px from where the stored image has it."""
    with Image.open(io.BytesIO(page_png)) as image:
        gray = np.asarray(image.convert("L"))
    return Image.fromarray(ocr.straightened(gray))


def colour(doubt: Doubt) -> tuple[int, int, int]:
    return RESOLVED if doubt.resolved else UNRESOLVED


def _inside(box: tuple[int, int, int, int] | None, size: tuple[int, int]) -> bool:
    """A box that has an area and overlaps the image; any other is not drawn (a box from a
    different page, a store written by another version)."""
    if box is None:
        return False
    x0, y0, x1, y1 = box
    return x0 < x1 and y0 < y1 and x1 > 0 and y1 > 0 and x0 < size[0] and y0 < size[1]


def outlined(page: Image.Image, doubts: Sequence[Doubt]) -> Image.Image:
    """The page in colour with each doubt's box outlined, green if the identities resolved it,
    red if it waits for a person. The caller passes the page's doubts; one without a box, or
    outside the image, is skipped."""
    out = page.convert("RGB")
    pen = ImageDraw.Draw(out)
    for doubt in doubts:
        if _inside(doubt.box, out.size):
            pen.rectangle(doubt.box, outline=colour(doubt), width=OUTLINE)  # type: ignore[arg-type]
    return out


def crop(page: Image.Image, doubt: Doubt, margin: int = MARGIN) -> Image.Image | None:
    """The doubt's cell with `margin` pixels of page around it and its box outlined: always the
    box's size plus twice the margin (white where the page ends), so crops line up. None for a
    doubt without a box or outside the image."""
    if not _inside(doubt.box, page.size):
        return None
    x0, y0, x1, y1 = doubt.box  # type: ignore[misc]
    out = outlined(page, [doubt]).crop((x0 - margin, y0 - margin, x1 + margin, y1 + margin))
    inside = Image.new("L", page.size, 255).crop((x0 - margin, y0 - margin, x1 + margin, y1 + margin))
    # Pillow fills beyond the page with black: paper white there instead, as the page's margin.
    white = Image.new("RGB", out.size, (255, 255, 255))
    return Image.composite(out, white, inside)


def scan_views(images: Sequence[bytes], doubts: Sequence[Doubt]) -> tuple[list[bytes], list[bytes | None]]:
    """A scan's pages as PNG with their doubts outlined (a page without one as stored), and the
    crop of each doubt (None where it has no box on its page). Each page with a doubt is levelled
    once for both."""
    marked: list[bytes] = list(images)
    crops: list[bytes | None] = [None for _ in doubts]
    for number, image in enumerate(images):
        mine = [i for i, d in enumerate(doubts) if d.page == number and _inside(d.box, (1 << 30, 1 << 30))]
        if not mine:
            continue
        page = level(image)
        marked[number] = as_png(outlined(page, [doubts[i] for i in mine]))
        for i in mine:
            cut = crop(page, doubts[i])
            crops[i] = as_png(cut) if cut is not None else None
    return marked, crops


def as_png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def cell_of(report: Report, doubt: Doubt) -> Key | None:
    """The cell whose printed text the doubt overlaps (as checks.doubtful_cells matches them),
    or None: a doubt about a label, a heading, a cell the parser did not take."""
    for table in report.tables():
        for row, columns in table.cells.items():
            for column, cell in columns.items():
                if cell.span and doubt.start < cell.span[1] and cell.span[0] < doubt.end:
                    return (table.section, row, column)
    return None


def label(report: Report, key: Key) -> str:
    table = report.table(key[0])  # type: ignore[arg-type]
    spec = template.spec(key[0], table.version if table else "2021")  # type: ignore[arg-type]
    row = next((r for r in spec.rows if r.key == key[1]), None)
    column = next((c for c in (row.columns if row else []) if c.key == key[2]), None)
    return f"{SECTION_NAMES.get(key[0], key[0])} · {row.name if row else key[1]} · {column.label if column else key[2]}"


def caption(doubt: Doubt, where: str | None) -> str:
    """What OCR read in the cell and who settles it, for the reviewer to compare with the crop."""
    readings = " / ".join(r or "nothing" for r in doubt.readings)
    settled = "resolved by the identities" if doubt.resolved else "a person must choose"
    return (
        f"{where or 'not a table cell'} (page {doubt.page + 1}): read {doubt.read}"
        f"{f'; readings {readings}' if readings else ''} — {settled}"
    )
