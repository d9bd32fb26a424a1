"""Page images beside the grid. A scan keeps its rendered pages in the store; a PDF with a text
layer keeps none, so its pages are rendered on demand from the file it was read from, which is
used only while it still holds the same bytes (a document's id is the sha256 of its bytes: a
file replaced at the same path is not shown as this document's source)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pdfplumber

from extraction.read import ingest, ocr

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
