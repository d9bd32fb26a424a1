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
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from extraction.read.readout import Readout, TextBuilder, TextCell

STRIP = 1800  # OCR shrinks an image taller than 2000 px; taller pages are read in strips
MIN_CONFIDENCE = 0.75  # XXGK_OCR_MIN_CONFIDENCE, read by ingest.Limits.from_env
# Every number is read a second time, cut out alone (a label cell never is: the parser matches
# labels loosely). The recogniser is sure of some misreads too, and section 二 has no identity to
# catch one, so confidence alone never spares a number its second reading.


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
    scan given as an iterator never holds more than two pages' pixels."""
    builder = TextBuilder(min_confidence)
    reader = PageReader(builder)
    pages: list[bytes] = []
    for number, image in enumerate(images):
        pages.append(png(image))
        reader.add(image, number, pages[-1])
    reader.finish()
    return Readout(builder.text(), len(pages), pages, builder.doubts)


class PageReader:
    """The scanned pages of one document, fully read only where the tables can be.

    OCR costs seconds a page; the ruling lines, found in a few milliseconds, tell which pages
    hold a table. Read are: the first page with ink (the title: agency, year), every page with
    ruling lines, and the lower half of the page before one (the section heading may end the
    page before its table). A page without rules waits for the next to decide. If no page of the document has
    rules (a table printed without them), every page is read after all, in order. One OCR engine
    serves all pages: building it loads the models."""

    def __init__(self, builder: TextBuilder, make_engine: Any = None) -> None:
        self.builder = builder
        self._make_engine = make_engine or engine
        self._engine: Any = None
        self._pending: tuple[Any, int] | None = None
        self._waiting: list[tuple[bytes, int]] = []  # pages not read yet, as PNG: pixels are let go
        self._ruled = False
        self._started = False
        self.read_pages: list[int] = []

    def add(self, image: Any, number: int, as_png: bytes) -> None:
        if blank(image):  # a blank page (a separator, the back of a sheet) has nothing to read
            return
        gray = np.asarray(image.convert("L"))
        ruled = has_rules(gray)
        if self._pending is not None:
            before, at = self._pending
            self._pending = None
            if ruled:
                self._read(_lower_half(before), at)
            else:
                self._waiting.append((png(before), at))
        if ruled or not self._started:
            self._ruled |= ruled
            self._started = True
            self._read(image, number)
        else:
            self._pending = (image, number)

    def flush(self) -> None:
        """Read the page waiting for its next (the next page is a text page, or there is none)."""
        if self._pending is not None:
            image, number = self._pending
            self._pending = None
            self._read(image, number)

    def finish(self) -> None:
        if self._pending is not None:
            image, number = self._pending
            self._pending = None
            self._waiting.append((png(image), number))
        if not self._ruled:
            from PIL import Image

            for data, number in self._waiting:
                self._read(Image.open(io.BytesIO(data)), number)
        self._waiting = []

    def _read(self, image: Any, number: int) -> None:
        self._engine = self._engine or self._make_engine()
        read_page(self._engine, image, self.builder, page=number)
        self.read_pages.append(number)


def _lower_half(image: Any) -> Any:
    """The lower half of a page, cut along a blank line so that no line of text is cut."""
    gray = np.asarray(image.convert("L"))
    blank_rows = np.flatnonzero((gray < 150).mean(axis=1) < 0.002)
    above = blank_rows[blank_rows <= gray.shape[0] // 2]
    top = int(above[-1]) if above.size else 0
    return image.crop((0, top, image.width, image.height))


def has_rules(gray: np.ndarray) -> bool:
    """Whether a page has ruling lines: three horizontal strokes an eighth of the page wide. The
    ink is first thickened up and down, so that a rule tilted by a crooked scan (±1°) still holds
    a straight run that long; a line of text, even thickened, has gaps between its characters."""
    import cv2

    ink = cv2.dilate((gray < 150).astype(np.uint8), np.ones((7, 1), np.uint8))
    length = max(20, gray.shape[1] // 8)
    lines = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1)))
    rows = np.flatnonzero(lines.any(axis=1))
    return int((np.diff(rows) > 3).sum()) + (1 if rows.size else 0) >= 3


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
    gray = straightened(np.asarray(image.convert("L")))
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


def straightened(gray: np.ndarray, most: float = 1.5, step: float = 0.1) -> np.ndarray:
    """A page turned level: a crooked scan (a sheet laid 0.8° askew) bends the table's rules out
    of the rows and columns they mark, and its cells no longer close. The angle is the one under
    which the page's ink falls into the sharpest rows (rules and lines of text are level then),
    searched on a quarter-size copy; under a tenth of a degree the page is left as it is."""
    import cv2

    small = (gray[::4, ::4] < 150).astype(np.float32)
    if not small.any():
        return gray
    center = (small.shape[1] / 2, small.shape[0] / 2)

    def sharpness(angle: float) -> float:
        turned = cv2.warpAffine(small, cv2.getRotationMatrix2D(center, angle, 1.0), small.shape[::-1])
        return float((turned.sum(axis=1) ** 2).sum())

    angles = np.arange(-most, most + step / 2, step)
    best = float(max(angles, key=sharpness))
    if abs(best) < 0.1 or sharpness(best) <= sharpness(0.0) * 1.02:
        return gray
    matrix = cv2.getRotationMatrix2D((gray.shape[1] / 2, gray.shape[0] / 2), best, 1.0)
    return cv2.warpAffine(gray, matrix, gray.shape[::-1], flags=cv2.INTER_CUBIC, borderValue=255)


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
_CONFUSABLE = str.maketrans(
    {"。": "0", "o": "0", "O": "0", "〇": "0", "D": "0", "Q": "0", "l": "1", "I": "1", "|": "1"}
    | {"B": "8", "&": "8", "＆": "8", "S": "5", "Z": "2", "b": "6", "G": "6", "g": "9", "q": "9"}
)
# A letter taken as its lookalike digit is a guess: the cell stays a doubt (at most this sure).
_GUESSED = 0.5


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
        if not found:
            cell = _read_alone(ocr, gray, region)
        else:
            raw = "".join(b.text for b in found)
            cell = TextCell(_digits(raw), min(b.score for b in found))
            guessed = cell.text != raw
            if _NUMERIC.match(cell.text):
                cell = _second_opinion(cell, _read_alone(ocr, gray, region))
            if guessed:
                note = cell.note or f"{cell.text} (read as {raw})"
                cell = TextCell(cell.text, min(cell.confidence or 0.0, _GUESSED), note, cell.readings or (cell.text,))
        grid[(_index(tops, region.y0), _index(lefts, region.x0))] = cell
    height = max(r for r, _ in grid) + 1
    width = max(c for _, c in grid) + 1
    rows = [[grid.get((r, c), TextCell("")) for c in range(width)] for r in range(height)]
    if _is_applications(rows):
        rows = [balance_row(row) for row in rows]
    return rows, taken


def _second_opinion(page_read: TextCell, alone: TextCell) -> TextCell:
    """A number is read twice, in the page and cut out on its own; two readings that differ
    make the cell a doubt whatever either confidence says (a 6 read as 9 can score 0.95)."""
    if alone.text.replace(" ", "") == page_read.text.replace(" ", ""):
        # Two readings agreeing: wrong only if both are wrong the same way.
        doubt = (1 - (page_read.confidence or 0.0)) * (1 - (alone.confidence or 0.0))
        return TextCell(page_read.text, 1 - doubt)
    readings = (page_read.text, alone.text) if alone.text not in ("", "?") else (page_read.text,)
    return TextCell(page_read.text, 0.0, f"{page_read.text} (read alone: {alone.text or 'nothing'})", readings)


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


# Section 三 (applications) is the table whose rows each balance: the six applicant columns
# (自然人, then 商业企业 科研机构 社会公益组织 法律服务机构 其他 under 法人或其他组织) add up to 总计.
_APPLICANTS = 7
# What OCR confuses a printed digit with, both ways (a 6 and a 9 score 0.95 for each other).
_LOOKALIKE = {"0": "689", "1": "7", "3": "8", "5": "6", "6": "0895", "7": "1", "8": "0693", "9": "068"}
_MAX_DOUBTFUL = 3  # more doubtful cells in one row and too many readings balance to choose


def _is_applications(rows: list[list[TextCell]]) -> bool:
    words = "".join(c.text for row in rows[:4] for c in row)
    return "自然人" in words and "总计" in words


def candidates(cell: TextCell) -> list[str]:
    """The numbers a doubtful cell may have printed: its readings (the page, the cell alone), each
    with one digit swapped for its lookalike, one doubled digit read once, one digit lost."""
    if cell.text == "?":  # ink the recogniser could not read: a lone digit, most often
        return list("0123456789")
    out: list[str] = []
    for read in cell.readings or (cell.text,):
        read = read.replace(" ", "")
        if not read.isdigit():
            continue
        out.append(read)
        for i, ch in enumerate(read):
            out += [read[:i] + other + read[i + 1 :] for other in _LOOKALIKE.get(ch, "")]
            if i + 1 < len(read) and read[i + 1] == ch:
                out.append(read[:i] + read[i + 1 :])  # a digit read twice
        out += [read[:i] + d + read[i:] for i in range(len(read) + 1) for d in "0123456789"]  # one lost
    return list(dict.fromkeys(c for c in out if c == "0" or not c.startswith("0")))


def balance_row(row: list[TextCell], min_confidence: float = MIN_CONFIDENCE) -> list[TextCell]:
    """A section 三 row whose doubtful numbers are chosen by its identity (total = the sum of the
    applicant columns), as the text parser chooses among run-together digits: exactly one
    balancing choice -> that reading, named in the cell's note; several -> all listed; none ->
    left as printed. The cell stays a doubt either way: a person confirms it against the page
    (a 0 read as 8 in a cell and in its total balances too). A number both readings read with
    high confidence is not reopened."""
    if len(row) < _APPLICANTS:
        return row
    tail = row[-_APPLICANTS:]
    doubtful = [i for i, c in enumerate(tail) if (c.confidence or 0.0) < min_confidence and c.text.strip()]
    fixed = [i for i in range(_APPLICANTS) if i not in doubtful]
    if not doubtful or len(doubtful) > _MAX_DOUBTFUL or not all(tail[i].text.strip().isdigit() for i in fixed):
        return row
    options = [candidates(tail[i]) for i in doubtful]
    if not all(options):
        return row
    known = {i: int(tail[i].text.strip()) for i in fixed}
    balancing = []
    for choice in itertools.product(*options):
        values = dict(known) | {i: int(v) for i, v in zip(doubtful, choice, strict=True)}
        if sum(values[i] for i in range(_APPLICANTS - 1)) == values[_APPLICANTS - 1]:
            balancing.append(choice)
    if not balancing:
        return row
    out = list(tail)
    if len(balancing) == 1:
        for i, value in zip(doubtful, balancing[0], strict=True):
            cell = tail[i]
            why = f"the row's total chooses {value} among the readings ({cell.note or cell.text})"
            out[i] = TextCell(value, cell.confidence, why, cell.readings)
    else:
        listed = "; ".join(", ".join(c) for c in balancing[:6]) + (" ..." if len(balancing) > 6 else "")
        for i in doubtful:
            cell = tail[i]
            note = f"{cell.note or cell.text}; readings that balance: {listed}"
            out[i] = TextCell(cell.text, cell.confidence, note, cell.readings)
    return row[:-_APPLICANTS] + out


def _lines(boxes: list[Box]) -> list[list[Box]]:
    """Boxes outside tables as lines of text, top to bottom, left to right."""
    lines: list[list[Box]] = []
    for box in sorted(boxes, key=lambda b: b.center[1]):
        if lines and abs(lines[-1][0].center[1] - box.center[1]) < (box.y1 - box.y0) * 0.5:
            lines[-1].append(box)
        else:
            lines.append([box])
    return [sorted(line, key=lambda b: b.x0) for line in lines]
