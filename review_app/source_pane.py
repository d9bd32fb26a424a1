"""The source beside the grid: the report text with the failing cells and the cells under edit
marked, opened at the section being worked on, and the pages of the file as images (a scan's
stored pages; a text PDF's pages rendered on demand, one page at a time, cached)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import streamlit as st
from PIL import Image

from extraction import review
from extraction.review import pages
from extraction.schema import Report
from extraction.storage import store
from extraction.tables import sections


def source(
    db: Any,
    item: review.Item,
    failing: list[Any],
    draft: dict[review.Key, review.Change],
    repair: review.Key | None = None,
) -> None:
    """`repair`: the cell a one-cell repair is offered for, whose printed row the page opens at."""
    spans = [s for f in failing for cell in f.cells if (s := span(item.original, cell)) is not None]
    located = sections.locate(item.text)
    waiting = [f for f in item.findings if f.blocks_acceptance]
    # Open at the section under edit, else the first failing one, else the first waiting finding's.
    first = next(iter(draft), (None,))[0] or next((f.cells[0][0] for f in failing + waiting if f.cells), None)
    if first is None:
        first = next((f.id.split(".")[0] for f in waiting if f.id.split(".")[0] in located), None)
    start = located[first].start if first in located else min((s.start for s in located.values()), default=0)
    doubts = [f for f in item.findings if ".ocr_confidence." in f.id]
    spans += [s for f in doubts for cell in f.cells if (s := span(item.original, cell)) is not None]
    doc = store.document(db, item.doc_id)
    # A scan's stored pages first: they are what OCR read, and its doubts' boxes are in their
    # pixels; an image-only PDF still at its path would otherwise be rendered from the file.
    images = store.page_images(db, item.doc_id)
    pdf = None if images else _source_pdf(doc["id"], doc["name"], doc["format"] or "", _stamp(doc["name"]))
    count = (doc.get("pages") or 0) if pdf else len(images)
    text_tab, pages_tab = st.tabs(["Text", f"Page images ({count})"])
    scan = store.doubts(doc) if images else []
    marked, crops = _scan_views(item.doc_id, images, scan) if scan else (images, [])
    with text_tab:
        shown = _doubted_cells(item, scan, crops, [*draft, *(c for f in failing for c in f.cells)])
        for f in doubts:
            if not set(f.cells) & shown:
                st.text(f"? {f.message}")
        whole = st.toggle("Whole text", key=f"whole-{item.doc_id}")
        edited = [s for key in draft if (s := span(item.original, key)) is not None]
        st.caption("Marked: yellow, a printed cell behind a failing identity; blue outline, a cell you changed")
        st.html(review.source_html(item.text, spans, 0 if whole else start, edited))
    with pages_tab:
        if pdf is not None:
            _pdf_pages(
                item,
                pdf,
                count,
                _snippets(
                    item,
                    first,
                    located,
                    [*draft, *([repair] if repair else []), *(c for f in failing for c in f.cells)],
                ),
            )
        elif not images:
            why = "its file is no longer where it was read, with the same bytes" if doc["format"] == "PDF" else ""
            st.caption(f"No page images for this file{': ' + why if why else ' (it has no pages)'}: read the Text tab.")
        if any(crops):
            st.caption("Outlined: the cells OCR doubted; green, the identities chose the reading; red, a person must")
        for number, image in enumerate(marked, 1):
            st.image(image, caption=f"page {number}", width="stretch")


SHOWN = 6  # crops of doubted cells shown at once; the others under "more"


def _doubted_cells(item: review.Item, scan: list[Any], crops: list[bytes | None], first: list[review.Key]) -> set:
    """Each doubted cell of a scan cut out of its page beside what OCR read there: the cells
    under edit first, then the failing ones, then those waiting for a person. The cells shown."""
    placed = [(d, crop, pages.cell_of(item.original, d)) for d, crop in zip(scan, crops, strict=True) if crop]
    if not placed:
        return set()

    def rank(entry: tuple) -> tuple[int, int]:
        doubt, _, key = entry
        return (first.index(key) if key in first else len(first), int(doubt.resolved))

    placed.sort(key=rank)
    st.caption(f"Cells OCR doubted ({len(placed)}), cut out of the page images: compare the digit with the reading")
    top = st.container()
    more = st.expander(f"{len(placed) - SHOWN} more doubted cell(s)") if len(placed) > SHOWN else top
    for at, (doubt, crop, key) in enumerate(placed):
        left, right = (top if at < SHOWN else more).columns([2, 3])
        left.image(crop, width=min(2 * Image.open(io.BytesIO(crop)).width, 320))
        right.text(pages.caption(doubt, pages.label(item.original, key) if key else None))
    return {key for _, _, key in placed if key}


def _snippets(item: review.Item, section: str | None, located: dict, keys: list[review.Key]) -> list[str]:
    """Text to find the page by, most telling first: the printed rows of the cells under edit and
    then of the failing cells (whole, then their first line), then the section's heading."""
    rows = [where for key in keys if (where := review.printed_row(item.text, item.original, key))]
    out = [item.text[a:b][:80] for a, b in rows] + [item.text[a:b].strip().split("\n")[0][:40] for a, b in rows]
    if section in located:
        out.append(item.text[located[section].start :].strip().split("\n")[0][:40])
    return out


def _stamp(name: str) -> tuple[int, int] | None:
    try:
        info = Path(name).stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


@st.cache_data(max_entries=64, show_spinner=False)
def _source_pdf(doc_id: str, name: str, fmt: str, stamp: tuple[int, int] | None) -> Path | None:
    """pages.source_pdf hashes the file: once per file as it stands (its time and size), not per re-run."""
    return pages.source_pdf({"id": doc_id, "name": name, "format": fmt}) if stamp else None


@st.cache_data(max_entries=4, show_spinner=False)
def _scan_views(doc_id: str, _images: list[bytes], _doubts: list[Any]) -> tuple[list[bytes], list[bytes | None]]:
    """A stored scan never changes (its id is its bytes' hash): its marked pages are made once."""
    return pages.scan_views(_images, _doubts)


@st.cache_data(max_entries=8, show_spinner=False)
def _page_texts(path: str, doc_id: str) -> list[str]:
    return pages.page_texts(Path(path))


@st.cache_data(max_entries=32, show_spinner=False)
def _page_png(path: str, doc_id: str, number: int) -> bytes:
    return pages.render(Path(path), number)


def _pdf_pages(item: review.Item, pdf: Path, count: int, snippets: list[str]) -> None:
    found = pages.page_of(_page_texts(str(pdf), item.doc_id), snippets) or 1
    number = st.number_input(
        f"Page (of {count}; the section is on page {found})", 1, max(count, 1), found, key=f"pdf-page-{item.doc_id}"
    )
    try:
        st.image(_page_png(str(pdf), item.doc_id, int(number)), caption=f"page {number}", width="stretch")
    except ValueError as problem:
        st.text(str(problem))


def span(report: Report, cell: tuple[str, str, str]) -> tuple[int, int] | None:
    table = report.table(cell[0])  # type: ignore[arg-type]
    if table is None or cell[1] not in table.cells or cell[2] not in table.cells[cell[1]]:
        return None
    return table.cell(cell[1], cell[2]).span
