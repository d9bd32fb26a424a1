"""What every file reader hands on: the document text, with its tables kept cell by cell.

HTML, Word, PDF and scans all end here, so the layout parser reads one form whatever the
file was. A table's structure is the evidence and is not flattened: each cell is written as
a line opening with a tab and each row ends with an empty line (the "one cell per line"
family, where cells are taken as they are, without guessing about lost fields). A merged
cell keeps its text in its top-left place and leaves empty cells where it spans.

A scan also leaves doubts: the stretches of text OCR read with low confidence, as character
spans of the text, so a value extracted from one becomes a finding instead of a silent guess;
and the page images, which the review app shows beside the text.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Doubt:
    """A stretch of the text that OCR read with low confidence."""

    start: int
    end: int
    confidence: float
    page: int
    read: str
    # What the recogniser read there when it is a number (the page, the cell alone): the
    # identities choose among these and their lookalikes (read.balance).
    readings: tuple[str, ...] = ()
    # The identities left exactly one reading that balances, and it is the text now: the cell's
    # value is checked by them, so it no longer waits for a person (section 二 has none: never).
    resolved: bool = False
    # Where on the page image the cell is (x0, y0, x1, y1 in pixels), for a reviewer to see it.
    box: tuple[int, int, int, int] | None = None

    def __post_init__(self) -> None:
        # Lists when read back from JSON.
        object.__setattr__(self, "readings", tuple(self.readings))
        if self.box is not None:
            object.__setattr__(self, "box", tuple(int(v) for v in self.box))

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class TextCell:
    """A table cell as read from a file; confidence only where OCR read it."""

    text: str
    confidence: float | None = None
    note: str | None = None  # what a reviewer should know of the reading, e.g. a second reading
    readings: tuple[str, ...] = ()  # OCR's readings of a doubtful number (the page, the cell alone)
    box: tuple[int, int, int, int] | None = None  # where OCR read it on the page image, in pixels


@dataclass
class Readout:
    """A file's text as the parser reads it, the pages it came from, and what OCR doubted."""

    text: str = ""
    pages: int = 0
    images: list[bytes] = field(default_factory=list)  # PNG of each scanned page
    doubts: list[Doubt] = field(default_factory=list)


class TextBuilder:
    """Writes paragraphs and tables into one text, recording doubtful cells by their span."""

    def __init__(self, min_confidence: float) -> None:
        self.min_confidence = min_confidence
        self._parts: list[str] = []
        self._length = 0
        self.doubts: list[Doubt] = []

    def _write(self, text: str) -> int:
        start = self._length
        self._parts.append(text)
        self._length += len(text)
        return start

    def line(self, text: str) -> None:
        if text.strip():
            self._write(text.rstrip() + "\n")

    def table(self, rows: list[list[TextCell]], page: int = 0) -> None:
        """Rows of cells; a table of one column is prose in a frame, written as lines."""
        if all(sum(1 for c in row if c.text.strip()) <= 1 for row in rows):
            for row in rows:
                self.line("".join(c.text for c in row))
            return
        for row in rows:
            self._write("\n")
            for cell in row:
                start = self._write("\t") + 1
                self._write(cell.text + "\n")
                if cell.confidence is not None and cell.confidence < self.min_confidence and cell.text.strip():
                    self.doubts.append(
                        Doubt(
                            start,
                            start + len(cell.text),
                            round(cell.confidence, 3),
                            page,
                            cell.note or cell.text,
                            cell.readings,
                            box=cell.box,
                        )
                    )
        self._write("\n")

    def text(self) -> str:
        return "".join(self._parts)


def cell_text(raw: str | None) -> str:
    """A cell's text on one line: a label wrapped inside its cell is one label (Chinese has no
    spaces between words, so the line breaks go without a trace)."""
    if raw is None:
        return ""
    return "".join(part.strip() for part in raw.splitlines())
