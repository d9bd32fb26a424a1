"""Reading report files into documents: bytes in, text out, and a reason whenever that fails.

A file's id is the sha256 of its bytes, computed before anything else can go wrong, so even an
unreadable file is recorded (as failed, with a reason a user can act on) and never dropped.

The format comes from the file's first bytes before its name (a PDF saved as .txt is a PDF):
text in any Chinese encoding, HTML, Word .docx, PDF (its text layer, or OCR for scanned
pages) and images (OCR). Each ends in the same Document: the text the parser reads, and for
scans the page images and the cells OCR doubted.
"""

from __future__ import annotations

import glob
import hashlib
import io
import itertools
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from charset_normalizer import from_bytes

from extraction import html, mojibake, ocr, pdf, word
from extraction.readout import Doubt, Readout

DEFAULT_MAX_MB = float(os.environ.get("XXGK_MAX_FILE_MB", "20"))
DEFAULT_MAX_PAGES = int(os.environ.get("XXGK_MAX_PAGES", "100"))
TEXT_SUFFIXES = {".txt", ".text", ".md", ".csv", ".tsv", ""}
# The store's own files, when a folder holding it is ingested.
_SKIPPED_SUFFIXES = {".db", ".db-wal", ".db-shm", ".db-journal", ".sqlite"}
# Chinese reports arrive in these encodings; detection is limited to them so that a GBK file is
# never read as Latin-1 mojibake.
_ENCODINGS = ["utf_8", "gb18030", "big5", "utf_16"]
_BOMS = ((b"\xef\xbb\xbf", "utf_8_sig"), (b"\xff\xfe", "utf_16"), (b"\xfe\xff", "utf_16"))
_IMAGES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp"}
# What the first bytes say a file is, whatever its name says: a PDF saved as .txt is a PDF.
_MAGIC = (
    (b"%PDF-", "PDF"),
    (b"\x89PNG", "image"),
    (b"\xff\xd8\xff", "image"),
    (b"II*\x00", "image"),
    (b"MM\x00*", "image"),
    (b"PK\x03\x04", "Word"),
    (b"\xd0\xcf\x11\xe0", "old Word"),
)


@dataclass(frozen=True)
class Document:
    id: str
    name: str
    format: str
    size: int
    text: str | None
    error: str | None = None
    pages: int = 0
    images: tuple[bytes, ...] = ()  # scanned pages, for the reviewer to see beside the text
    doubts: tuple[Doubt, ...] = ()
    note: str | None = None  # what reading had to mend (garbled text repaired), for the record


@dataclass(frozen=True)
class Limits:
    """How big a file may be before it is refused with a reason instead of read."""

    max_mb: float = DEFAULT_MAX_MB
    max_pages: int = DEFAULT_MAX_PAGES
    min_confidence: float = ocr.MIN_CONFIDENCE


def expand(paths: Iterable[str]) -> Iterator[Path]:
    """Files named by paths, folders (recursively) and globs, each once, in a stable order."""
    seen: set[Path] = set()
    for raw in paths:
        matches = [Path(p) for p in sorted(glob.glob(raw, recursive=True))] if glob.has_magic(raw) else [Path(raw)]
        for path in matches:
            files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
            for file in files:
                if file in seen or (path.is_dir() and (file.name.startswith(".") or file.suffix in _SKIPPED_SUFFIXES)):
                    continue
                seen.add(file)
                yield file


def kind(path: Path, head: bytes) -> str:
    """The file's format from its first bytes, else from its name."""
    for magic, fmt in _MAGIC:
        if head.startswith(magic):
            return fmt
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm", ".shtml", ".xhtml"):
        return "HTML"
    return {".pdf": "PDF", ".docx": "Word", ".doc": "old Word"}.get(suffix, "image" if suffix in _IMAGES else "text")


def read(path: Path, max_mb: float = DEFAULT_MAX_MB, limits: Limits | None = None) -> Document:
    """Read one file. Never raises for a bad file: the Document carries the error instead."""
    limits = limits or Limits(max_mb=max_mb)
    name = str(path)
    if not path.exists():
        return Document(_sha256_text(name), name, "missing", 0, None, f"no such file: {name}")
    size = path.stat().st_size
    digest = _sha256_file(path)
    with path.open("rb") as handle:
        fmt = kind(path, handle.read(8))
    if size > limits.max_mb * 1024 * 1024:
        error = (
            f"file is {size / 1024 / 1024:.1f} MB, over the {limits.max_mb:g} MB limit "
            "(raise it with --max-file-mb or XXGK_MAX_FILE_MB if this really is one report)"
        )
        return Document(digest, name, fmt, size, None, error)
    data = path.read_bytes()
    if not data:
        return Document(digest, name, fmt, size, None, "file is empty")
    try:
        readout = _read_as(fmt, data, limits)
    except ValueError as exc:  # the readers' own refusals, already worded for a user
        return Document(digest, name, fmt, size, None, str(exc))
    except Exception as exc:  # a library choking on a damaged file must not stop the batch
        return Document(digest, name, fmt, size, None, f"could not read the {fmt} file ({type(exc).__name__}: {exc})")
    if readout is None:
        text, error = decode(data)
        note = None
        if text is not None:
            repaired = mojibake.repair(text)
            text, note = repaired.text, repaired.note
            if fmt == "HTML" or html.carries_tables(text):  # a page saved as .txt, or a script writing one
                page = fmt == "HTML" or text.lstrip().startswith("<")
                text = html.to_text(text if page else html.markup_in_script(text) or text)
        return Document(digest, name, fmt, size, text, error, note=note)
    if readout.images:
        fmt = f"{fmt} (scanned)" if fmt == "PDF" else fmt
    error = None if readout.text.strip() else f"no text found in the {fmt} file ({readout.pages} page(s))"
    return Document(
        digest, name, fmt, size, readout.text, error, readout.pages, tuple(readout.images), tuple(readout.doubts)
    )


def _read_as(fmt: str, data: bytes, limits: Limits) -> Readout | None:
    """A binary format's readout; None for the text formats, which are decoded instead."""
    if fmt == "PDF":
        return pdf.read(data, limits.max_pages, limits.min_confidence)
    if fmt == "Word":
        return word.read(data)
    if fmt == "old Word":
        raise ValueError(
            "an old binary Office file (.doc): not read; convert it with: libreoffice --headless --convert-to docx"
        )
    if fmt == "image":
        return ocr.read_images(_images(data, limits.max_pages), limits.min_confidence)
    return None


def _images(data: bytes, max_pages: int) -> list[Any]:
    """The frames of an image file (a TIFF may hold many pages)."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        frames = list(itertools.islice((f.convert("L") for f in ImageSequence.Iterator(image)), max_pages + 1))
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as exc:
        raise ValueError(f"not a readable image ({type(exc).__name__}: {exc})") from exc
    if len(frames) > max_pages:
        raise ValueError(f"image has more than {max_pages} pages (raise it with --max-pages or XXGK_MAX_PAGES)")
    return frames


def decode(data: bytes) -> tuple[str | None, str | None]:
    """Text from bytes in any Chinese encoding, or (None, why not)."""
    if not data.strip():
        return None, "file is empty"
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), None
            except UnicodeDecodeError:
                return None, f"file starts with a {encoding} byte-order mark but is not valid {encoding}"
    utf16 = _bomless_utf16(data)
    if utf16 is not None:
        return utf16, None
    if _looks_binary(data):
        return None, "file is binary, not text (is it a PDF, image or archive with the wrong name?)"
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    best = from_bytes(data, cp_isolation=_ENCODINGS).best()
    if best is None:
        return None, "could not decode the text as UTF-8, GB18030/GBK, Big5 or UTF-16"
    return str(best), None


def _bomless_utf16(data: bytes) -> str | None:
    """UTF-16 without a byte-order mark: every other byte of Chinese or ASCII text is telling."""
    head = data[:4096]
    if len(head) < 4 or b"\x00" not in head:
        return None
    for encoding in ("utf_16_le", "utf_16_be"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        readable = sum(1 for ch in text[:2000] if ch.isprintable() or ch in "\r\n\t")
        if readable > 0.98 * min(len(text), 2000):
            return text
    return None


def _looks_binary(data: bytes) -> bool:
    head = data[:65536]
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 0x20 and b not in (9, 10, 12, 13))
    return controls > len(head) * 0.02


def file_id(path: Path) -> str | None:
    """The id a file's document has (the sha256 of its bytes), or None if it cannot be read."""
    try:
        return _sha256_file(path)
    except OSError:
        return None


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
