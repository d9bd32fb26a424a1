"""Scans: RapidOCR reads the page, and the table's ruling lines give its rows and columns.

A scanned table is ruled, and the rules are the surest evidence of where a cell is: the
enclosed regions between them are the cells, a region spanning several rows or columns is
a merged cell; a table a page break cuts is closed along the ends of its rules. The text boxes
OCR finds are put into the cells that hold them, a box run across several cells cut at the
rules; a cell with ink in it but no box (a lone "0" or "/" is easy for a detector to miss) is
read on its own, and so is every number, a second time. Text outside the tables is prose, set
in reading order by height. A page with no rules is read as lines of boxes.

Every cell keeps OCR's confidence; a cell read with less than MIN_CONFIDENCE, or read two ways,
is recorded as a doubt with its readings (see readout). The identities of sections 三 and 四
choose among a doubtful number's readings (read.balance); any other doubt, and every one in
section 二, becomes a blocking finding. The Chinese models ship inside the rapidocr-onnxruntime
package: this works offline, on the CPU.
"""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from extraction.read import balance
from extraction.read.readout import Readout, TextBuilder, TextCell

STRIP = 1800  # OCR shrinks an image taller than 2000 px; taller pages are read in strips
MIN_CONFIDENCE = 0.75  # XXGK_OCR_MIN_CONFIDENCE, read by ingest.Limits.from_env
# Every number is read a second time, cut out alone (a label cell never is: the parser matches
# labels loosely). The recogniser is sure of some misreads too, and section 二 has no identity to
# catch one, so confidence alone never spares a number its second reading.


def engine(threads: int | None = None) -> Any:
    """A RapidOCR engine with its bundled models (loading takes a fraction of a second).

    `threads` (XXGK_OCR_THREADS, read with the other settings by ingest.Limits.from_env; None:
    every core) bounds onnxruntime's threads: on a machine other work shares, its idle threads
    spin for the cores and one thread does the same work for about half the CPU time (a ruled
    page of 001: 4.3 s CPU on one thread, 7.4 s on two)."""
    from rapidocr_onnxruntime import RapidOCR

    threads = threads if threads is not None else -1
    # Box threshold below the default: single-character cells ("0") are the ones missed.
    return RapidOCR(
        det_box_thresh=0.3,
        det_unclip_ratio=1.8,
        text_score=0.3,
        intra_op_num_threads=threads,
        inter_op_num_threads=threads,
    )


def png(image: Any) -> bytes:
    out = io.BytesIO()
    image.convert("L").save(out, format="PNG", optimize=True)
    return out.getvalue()


def read_images(images: Iterable[Any], min_confidence: float = MIN_CONFIDENCE, threads: int | None = None) -> Readout:
    """Pages of a scan (Pillow images), in order; each page is let go once read, so a many-page
    scan given as an iterator never holds more than two pages' pixels. `threads`: see `engine`."""
    builder = TextBuilder(min_confidence)
    reader = PageReader(builder, threads=threads)
    pages: list[bytes] = []
    for number, image in enumerate(images):
        pages.append(png(image))
        reader.add(image, number, pages[-1])
    reader.finish()
    text, doubts = balance.resolve(builder.text(), builder.doubts)
    return Readout(text, len(pages), pages, doubts)


class PageReader:
    """The scanned pages of one document, fully read only where the tables can be.

    OCR costs seconds a page; the ruling lines, found in a few milliseconds, tell which pages
    hold a table. Read are: the first page with ink (the title: agency, year), every page with
    ruling lines, and the lower half of the page before one (the section heading may end the
    page before its table). A page without rules waits for the next to decide. If no page of the document has
    rules (a table printed without them), every page is read after all, in order. One OCR engine
    serves all pages: building it loads the models."""

    def __init__(self, builder: TextBuilder, make_engine: Any = None, threads: int | None = None) -> None:
        self.builder = builder
        self._make_engine = make_engine or engine
        self._threads = threads
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
        self._engine = self._engine or self._make_engine(self._threads)
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
    # No angle classifier: a scanned page is upright once turned level, and it costs 0.4 s a page.
    result, _ = ocr(gray, use_cls=False)
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
        # The frame's outline is drawn in: a table cut by a page break has its last row open at the
        # bottom (the rule that closes it is on the next page), and some tables are printed
        # without side rules; the ends of the other rules mark where the closing rule would be.
        frame = rules[y : y + h, x : x + w].copy()
        frame[:2, :] = frame[-2:, :] = 1
        frame[:, :2] = frame[:, -2:] = 1
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
    {"。": "0", "o": "0", "O": "0", "〇": "0", "口": "0", "一": "1", "D": "0", "Q": "0", "l": "1", "I": "1", "|": "1"}
    | {"B": "8", "&": "8", "＆": "8", "S": "5", "Z": "2", "b": "6", "G": "6", "g": "9", "q": "9"}
    | {chr(0xFF10 + d): str(d) for d in range(10)}  # a full-width digit is the same number
)
# A letter taken as its lookalike digit is a guess: the cell stays a doubt (at most this sure).
_GUESSED = 0.5


def _fill(ocr: Any, gray: np.ndarray, regions: list[Region], boxes: list[Box]) -> tuple[list[list[TextCell]], set[int]]:
    """The table as rows of cells: grid positions from the cells' edges, text from the boxes."""
    tops = _clusters([r.y0 for r in regions])
    lefts = _clusters([r.x0 for r in regions])
    grid: dict[tuple[int, int], TextCell] = {}
    found: dict[int, list[tuple[float, float, str, float]]] = {}
    taken: set[int] = set()
    for i, box in enumerate(boxes):
        for at, piece in _split(box, regions):
            taken.add(i)
            found.setdefault(at, []).append(piece)
    for at, region in enumerate(regions):
        pieces = sorted(found.get(at, []), key=lambda p: (round(p[0] / 12), p[1]))
        if not pieces:
            cell = _read_alone(ocr, gray, region)
        else:
            raw = "".join(p[2] for p in pieces)
            cell = TextCell(_digits(raw), min(p[3] for p in pieces))
            guessed = cell.text != raw
            if _NUMERIC.match(cell.text):
                cell = _second_opinion(cell, _read_alone(ocr, gray, region))
            elif len(cell.text) == 1 and (cell.confidence or 0.0) < MIN_CONFIDENCE:
                cell = _lone_mark(cell, _read_alone(ocr, gray, region))
            elif guessed:
                cell = TextCell(cell.text, min(cell.confidence or 0.0, _GUESSED), f"{cell.text} (read as {raw})")
        box = (int(region.x0), int(region.y0), int(region.x1), int(region.y1))
        grid[(_index(tops, region.y0), _index(lefts, region.x0))] = dataclasses.replace(cell, box=box)
    height = max(r for r, _ in grid) + 1
    width = max(c for _, c in grid) + 1
    rows = [[grid.get((r, c), TextCell("")) for c in range(width)] for r in range(height)]
    # A row of nothing (the strip between a rule's stubs and the outline drawn in) is no row.
    return [row for row in rows if any(c.text.strip() for c in row)], taken


def _split(box: Box, regions: list[Region]) -> list[tuple[int, tuple[float, float, str, float]]]:
    """The cells a text box falls in, with its text's share of each. The detector sometimes joins
    the texts of neighbouring cells into one box (short headers printed close, "0 0 0" in narrow
    cells); its characters are set out evenly along it and each goes to the cell it lies in,
    which cuts the box at the rules between them."""
    y = box.center[1]
    across = [i for i, r in enumerate(regions) if r.y0 <= y <= r.y1 and r.x0 < box.x1 and box.x0 < r.x1]
    inside = [i for i in across if regions[i].holds(box.center)]
    width = box.x1 - box.x0
    if len(across) <= 1 or any(min(regions[i].x1, box.x1) - max(regions[i].x0, box.x0) >= 0.8 * width for i in inside):
        return [(inside[0], (box.y0, box.x0, box.text, box.score))] if inside else []
    text = box.text.replace(" ", "")
    shares: dict[int, str] = {}
    for n, ch in enumerate(text):
        x = box.x0 + (n + 0.5) * width / len(text)
        at = min(across, key=lambda i: max(regions[i].x0 - x, x - regions[i].x1, 0))
        shares[at] = shares.get(at, "") + ch
    # A share of a box is less sure than the box: where the cut falls is an estimate.
    return [(at, (box.y0, regions[at].x0, part, box.score * 0.9)) for at, part in shares.items()]


def _second_opinion(page_read: TextCell, alone: TextCell) -> TextCell:
    """A number is read twice, in the page and cut out on its own; two readings that differ
    make the cell a doubt whatever either confidence says (a 6 read as 9 can score 0.95). The cell
    cut out, freed of its rules, is the better reading of the two (the detector's box of a lone
    digit is tight, and the recogniser reads a 0 in it as D or 二): it is the text kept."""
    if alone.text.replace(" ", "") == page_read.text.replace(" ", ""):
        # Two readings agreeing: wrong only if both are wrong the same way.
        doubt = (1 - (page_read.confidence or 0.0)) * (1 - (alone.confidence or 0.0))
        return TextCell(page_read.text, 1 - doubt, readings=(page_read.text,))
    if alone.text in ("", "?"):
        return TextCell(
            page_read.text, 0.0, f"{page_read.text} (read alone: {alone.text or 'nothing'})", (page_read.text,)
        )
    kept = alone.text if _NUMERIC.match(alone.text) else page_read.text
    return TextCell(
        kept, 0.0, f"{kept} (page read: {page_read.text}; read alone: {alone.text})", (alone.text, page_read.text)
    )


_MARGIN = 0.6
_INK_LEVEL = 185


def _lone_mark(page_read: TextCell, alone: TextCell) -> TextCell:
    """One character the page read unsurely ("的" for a lone 9): the cell read alone decides, and
    a number read there is weighed as any number is; otherwise the mark may be any digit."""
    if _NUMERIC.match(alone.text):
        return _second_opinion(page_read, alone)
    return TextCell(page_read.text, page_read.confidence, f"{page_read.text} (a lone mark, read unsurely)", ("?",))


def _read_alone(ocr: Any, gray: np.ndarray, region: Region) -> TextCell:
    """A cell cut out of the page: blank if there is no ink, else read as one line."""
    crop = _interior(gray, region)
    # Ink is anything clearly darker than paper: a 1 printed one pixel wide and blurred by a worn
    # copy is grey (150-180), never black, and a blank judged by black ink loses it.
    ink = crop < _INK_LEVEL
    if crop.size == 0 or int(ink.sum()) < 8:
        return TextCell("")
    # The glyph's box from its black where it has some: JPEG's ringing is grey, and a box grown
    # around it turns a 1 into 目.
    dark = crop < 128
    ys, xs = np.nonzero(dark if int(dark.sum()) >= 8 else ink)
    tight = crop[max(0, ys.min() - 2) : ys.max() + 3, max(0, xs.min() - 2) : xs.max() + 3]
    # White around the ink in proportion to its height: the recogniser reads a lone digit 10 px
    # tall well with half its height of margin, and as "#" or nothing with a fixed 12 px (on the
    # real pages: 0 of 94 digits wrong against 30) or with a line's width of white beside it.
    pad = max(2, round(_MARGIN * tight.shape[0]))
    result, _ = ocr(np.pad(tight, pad, constant_values=255), use_det=False, use_cls=False)
    text = result[0][0].strip() if result else ""
    if not text:
        return TextCell("?", 0.0, "ink but no reading", ("?",))
    read, score = _digits(text), float(result[0][1])
    if _NUMERIC.match(read):
        return TextCell(read, score, readings=(read,))
    if len(read) == 1 and score < MIN_CONFIDENCE:
        # One mark read unsurely as a character ("的" for a lone 9): in a table of counts it is
        # most likely a digit, any digit; the identities may tell which (read.balance).
        return TextCell(read, score, f"{read} (a lone mark, read unsurely)", ("?",))
    return TextCell(read, score)


def _interior(gray: np.ndarray, region: Region) -> np.ndarray:
    """A cell without what is left of its rules: a scan is never quite straight, and a rule left
    in the crop makes a lone "0" look like a small mark in a big box. The rules are the ink rows
    and columns along the crop's edges that run most of its length; a fixed margin would cut
    into the digits of a low row (a 0 printed 20 px tall in a row 25 px high)."""
    crop = gray[region.y0 : region.y1, region.x0 : region.x1]
    if crop.size == 0:
        return crop
    ink = crop < 160
    height, width = crop.shape

    def edge(fractions: np.ndarray) -> tuple[int, int]:
        band = max(2, min(10, len(fractions) // 4))
        head = [i + 1 for i in range(band) if fractions[i] > 0.5]
        tail = [i + 1 for i in range(band) if fractions[-1 - i] > 0.5]
        return (max(head) + 2 if head else 1), (max(tail) + 2 if tail else 1)

    top, bottom = edge(ink.mean(axis=1))
    left, right = edge(ink.mean(axis=0))
    return crop[top : height - bottom, left : width - right]


def _digits(text: str) -> str:
    """A reading that is a number once letters looking like digits are taken as digits ("o" in a
    column of counts is a 0); any other reading is left as read."""
    # A piece of a rule left beside the digits in the detector's box reads as a bracket.
    as_digits = text.strip("[]【】「」").translate(_CONFUSABLE)
    if as_digits[-1:] in (".", "。", ",") and as_digits[:-1].strip().replace(".", "").isdigit():
        as_digits = as_digits[:-1]  # a speck after the last digit (JPEG's ringing) carries no value
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
