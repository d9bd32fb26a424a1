"""Scans: RapidOCR reads the page, and the table's ruling lines give its rows and columns.

A scanned table is ruled, and the rules are the surest evidence of where a cell is: the
enclosed regions between them are the cells, a region spanning several rows or columns is
a merged cell. The text boxes OCR finds are put into the cells that hold them; a cell with
ink in it but no box (a lone "0" or "/" is easy for a detector to miss) is read on its own.
Text outside the tables is prose, set in reading order by height. A page with no rules is
read as lines of boxes.

Every cell keeps OCR's confidence; a cell read with less than MIN_CONFIDENCE is recorded as
a doubt (see readout), and a value extracted from it becomes a finding. The Chinese models
ship inside the rapidocr-onnxruntime package: this works offline, on the CPU.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from extraction.read.readout import Readout, TextBuilder, TextCell

STRIP = 1800  # OCR shrinks an image taller than 2000 px; taller pages are read in strips
MIN_CONFIDENCE = 0.75  # XXGK_OCR_MIN_CONFIDENCE, read by ingest.Limits.from_env


def engine() -> Any:
    """A RapidOCR engine with its bundled models (loading takes a fraction of a second)."""
    from rapidocr_onnxruntime import RapidOCR

    # Box threshold below the default: single-character cells ("0") are the ones missed.
    return RapidOCR(det_box_thresh=0.3, det_unclip_ratio=1.8, text_score=0.3)


def png(image: Any) -> bytes:
    out = io.BytesIO()
    image.convert("L").save(out, format="PNG", optimize=True)
    return out.getvalue()


def read_images(images: Iterable[Any], min_confidence: float = MIN_CONFIDENCE) -> Readout:
    """Pages of a scan (Pillow images), in order; each page is let go once read, so a many-page
    scan given as an iterator never holds more than one page's pixels."""
    builder = TextBuilder(min_confidence)
    ocr = None
    pages: list[bytes] = []
    for number, image in enumerate(images):
        if not blank(image):  # a blank page (a separator, the back of a sheet) has nothing to read
            ocr = ocr or engine()
            read_page(ocr, image, builder, page=number)
        pages.append(png(image))
    return Readout(builder.text(), len(pages), pages, builder.doubts)


# A page on which fewer pixels than this are ink holds no text: OCR, seconds a page, is not run.
_INK = 1e-4


def blank(image: Any) -> bool:
    """Whether a page has (next to) no ink: scanner noise of a few specks, but no character."""
    gray = np.asarray(image.convert("L"))
    return float((gray < 128).mean()) < _INK


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    score: float

    @property
    def center(self) -> tuple[float, float]:
        return (self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2


@dataclass(frozen=True)
class Region:
    """An enclosed cell of a ruled table, in pixels."""

    x0: int
    y0: int
    x1: int
    y1: int

    def holds(self, point: tuple[float, float]) -> bool:
        return self.x0 <= point[0] <= self.x1 and self.y0 <= point[1] <= self.y1


def read_page(ocr: Any, image: Any, builder: TextBuilder, page: int = 0) -> None:
    gray = np.asarray(image.convert("L"))
    boxes = [box for top, strip in strips(gray) for box in _boxes(ocr, strip, top)]
    tables = ruled_tables(gray)
    pieces: list[tuple[float, str | list[list[TextCell]]]] = []
    used: set[int] = set()
    for regions in tables:
        rows, taken = _fill(ocr, gray, regions, boxes)
        used |= taken
        pieces.append((min(r.y0 for r in regions), rows))
    loose = [b for i, b in enumerate(boxes) if i not in used]
    for line in _lines(loose):
        pieces.append((line[0].y0, "  ".join(b.text for b in line)))
    for _, piece in sorted(pieces, key=lambda p: p[0]):
        if isinstance(piece, str):
            builder.line(piece)
        else:
            builder.table(piece, page=page)


def _boxes(ocr: Any, gray: np.ndarray, top: int) -> list[Box]:
    result, _ = ocr(gray)
    return [_box(points, text, score, top) for points, text, score in (result or [])]


def _box(points: list[list[float]], text: str, score: float, top: int = 0) -> Box:
    xs = [p[0] for p in points]
    ys = [p[1] + top for p in points]
    return Box(min(xs), min(ys), max(xs), max(ys), text, float(score))


def strips(gray: np.ndarray, height: int = STRIP) -> list[tuple[int, np.ndarray]]:
    """A tall page (a whole report published as one long image) in strips OCR can read at full
    resolution, cut only along a blank line or a ruling line, which no text crosses."""
    if gray.shape[0] <= height * 1.25:
        return [(0, gray)]
    ink = (gray < 150).mean(axis=1)
    safe = np.flatnonzero((ink < 0.002) | (ink > 0.5))
    out, top = [], 0
    while gray.shape[0] - top > height * 1.25:
        candidates = safe[(safe > top + height // 2) & (safe <= top + height)]
        cut = int(candidates[-1]) if candidates.size else top + height
        out.append((top, gray[top:cut]))
        top = cut
    out.append((top, gray[top:]))
    return out


def ruled_tables(gray: np.ndarray) -> list[list[Region]]:
    """The cells of every ruled table on the page, one list per table."""
    import cv2

    ink = (gray < 150).astype(np.uint8)
    length = max(20, gray.shape[1] // 40)
    horizontal = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1)))
    vertical = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, length)))
    rules = cv2.dilate(horizontal | vertical, np.ones((3, 3), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(rules, connectivity=8)
    tables = []
    for i in range(1, count):
        x, y, w, h, _ = stats[i]
        if w < gray.shape[1] // 4 or h < 30:
            continue
        frame = rules[y : y + h, x : x + w]
        n, _, cell_stats, _ = cv2.connectedComponentsWithStats(1 - frame, connectivity=4)
        regions = []
        for j in range(1, n):
            cx, cy, cw, ch, area = cell_stats[j]
            touches_edge = cx == 0 or cy == 0 or cx + cw >= w or cy + ch >= h
            if touches_edge or cw < 8 or ch < 8 or area < 0.5 * cw * ch:
                continue
            regions.append(Region(x + cx, y + cy, x + cx + cw, y + cy + ch))
        if len(regions) >= 2:
            tables.append(regions)
    return tables


def _clusters(values: list[int], tolerance: int = 8) -> list[int]:
    out: list[int] = []
    for v in sorted(values):
        if not out or v - out[-1] > tolerance:
            out.append(v)
    return out


def _index(edges: list[int], value: int, tolerance: int = 8) -> int:
    return min(range(len(edges)), key=lambda i: abs(edges[i] - value)) if edges else 0


_NUMERIC = re.compile(r"^[0-9０-９.,，/／\-—–%+增减元万\s]+$")
# What a recogniser reading a lone digit out of context confuses it with.
_CONFUSABLE = str.maketrans({"。": "0", "o": "0", "O": "0", "〇": "0", "D": "0", "l": "1", "I": "1", "|": "1"})


def _fill(ocr: Any, gray: np.ndarray, regions: list[Region], boxes: list[Box]) -> tuple[list[list[TextCell]], set[int]]:
    """The table as rows of cells: grid positions from the cells' edges, text from the boxes."""
    tops = _clusters([r.y0 for r in regions])
    lefts = _clusters([r.x0 for r in regions])
    grid: dict[tuple[int, int], TextCell] = {}
    taken: set[int] = set()
    for region in regions:
        inside = [i for i, b in enumerate(boxes) if region.holds(b.center)]
        taken.update(inside)
        found = sorted((boxes[i] for i in inside), key=lambda b: (round(b.center[1] / 12), b.x0))
        alone = _read_alone(ocr, gray, region)
        if not found:
            cell = alone
        else:
            cell = TextCell(_digits("".join(b.text for b in found)), min(b.score for b in found))
            if _NUMERIC.match(cell.text):
                cell = _second_opinion(cell, alone)
        grid[(_index(tops, region.y0), _index(lefts, region.x0))] = cell
    height = max(r for r, _ in grid) + 1
    width = max(c for _, c in grid) + 1
    return [[grid.get((r, c), TextCell("")) for c in range(width)] for r in range(height)], taken


def _second_opinion(page_read: TextCell, alone: TextCell) -> TextCell:
    """A number is read twice, in the page and cut out on its own; two readings that differ
    make the cell a doubt whatever either confidence says (a 6 read as 9 can score 0.95)."""
    if alone.text.replace(" ", "") == page_read.text.replace(" ", ""):
        # Two readings agreeing: wrong only if both are wrong the same way.
        doubt = (1 - (page_read.confidence or 0.0)) * (1 - (alone.confidence or 0.0))
        return TextCell(page_read.text, 1 - doubt)
    return TextCell(page_read.text, 0.0, f"{page_read.text} (read alone: {alone.text or 'nothing'})")


def _read_alone(ocr: Any, gray: np.ndarray, region: Region) -> TextCell:
    """A cell cut out of the page: blank if there is no ink, else read as one line."""
    # Well inside the rules: a scan is never quite straight, and a rule left in the crop makes a
    # lone "0" look like a small mark in a big box.
    m = 7
    crop = gray[region.y0 + m : region.y1 - m, region.x0 + m : region.x1 - m]
    if crop.size == 0 or int((crop < 128).sum()) < 12:
        return TextCell("")
    ys, xs = np.nonzero(crop < 128)
    tight = crop[max(0, ys.min() - 6) : ys.max() + 7, max(0, xs.min() - 6) : xs.max() + 7]
    result, _ = ocr(np.pad(tight, 6, constant_values=255), use_det=False, use_cls=False)
    text = result[0][0].strip() if result else ""
    if not text:
        return TextCell("?", 0.0, "ink but no reading")
    return TextCell(_digits(text), float(result[0][1]))


def _digits(text: str) -> str:
    """A reading that is a number once letters looking like digits are taken as digits ("o" in a
    column of counts is a 0); any other reading is left as read."""
    as_digits = text.translate(_CONFUSABLE)
    return as_digits if _NUMERIC.match(as_digits) and any(ch.isdigit() for ch in as_digits) else text


def _lines(boxes: list[Box]) -> list[list[Box]]:
    """Boxes outside tables as lines of text, top to bottom, left to right."""
    lines: list[list[Box]] = []
    for box in sorted(boxes, key=lambda b: b.center[1]):
        if lines and abs(lines[-1][0].center[1] - box.center[1]) < (box.y1 - box.y0) * 0.5:
            lines[-1].append(box)
        else:
            lines.append([box])
    return [sorted(line, key=lambda b: b.x0) for line in lines]
