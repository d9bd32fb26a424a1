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
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from charset_normalizer import from_bytes

from extraction.read import html, mojibake, ocr, pdf, word
from extraction.read.readout import Doubt, Readout

DEFAULT_MAX_MB = 20.0
DEFAULT_MAX_PAGES = 100
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
# A file that is not a file: opening a FIFO blocks until a writer comes, /dev/zero never ends.
_SPECIAL = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)
# A text with a few bad bytes is kept (each read as U+FFFD, and named); more than this many and
# the guess of its encoding is no longer trusted.
_MAX_BAD_BYTES = 16


class SettingsError(ValueError):
    """A setting (an environment variable) that cannot be used; its message is one line."""


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
    notes: tuple[dict[str, Any], ...] = ()  # bytes of the text that did not decode, and where
    repair: str | None = None  # what reading had to mend (garbled text repaired), for the record


@dataclass(frozen=True)
class Limits:
    """How big a file, and what it unpacks to, may be before it is refused with a reason instead of read.

    Each is a budget one hostile or broken file could otherwise blow (a 565-byte PDF with one
    14400 pt page renders to 900 megapixels; an 8 MB .docx unpacks to 8 GB). Over one, the
    document fails naming the budget and its setting, and the batch goes on.
    """

    max_mb: float = DEFAULT_MAX_MB
    max_pages: int = DEFAULT_MAX_PAGES
    min_confidence: float = ocr.MIN_CONFIDENCE
    max_inflated_mb: float = 64.0  # a .docx unpacked (its XML and media)
    max_megapixels: float = 60.0  # one page of a scan or one rendered PDF page (A4 at 600 dpi is 35)
    max_table_cells: int = 50_000  # one HTML table after its row and column spans (a report's: ~300)
    ocr_threads: int | None = None  # onnxruntime's threads for OCR (None: every core); not a budget, but read here
    # with the others so a bad value stops the batch before it starts instead of failing each scan

    @classmethod
    def from_env(cls, **given: Any) -> Limits:
        """Limits from XXGK_* variables, arguments first; a bad value is a SettingsError naming it."""
        values = {
            name: env_number(variable, getattr(cls, name), kind)
            for name, (variable, kind) in _LIMIT_VARIABLES.items()
            if given.get(name) is None
        }
        return cls(**values, **{k: v for k, v in given.items() if v is not None})


_LIMIT_VARIABLES: dict[str, tuple[str, type]] = {
    "max_mb": ("XXGK_MAX_FILE_MB", float),
    "max_pages": ("XXGK_MAX_PAGES", int),
    "min_confidence": ("XXGK_OCR_MIN_CONFIDENCE", float),
    "max_inflated_mb": ("XXGK_MAX_INFLATED_MB", float),
    "max_megapixels": ("XXGK_MAX_MEGAPIXELS", float),
    "max_table_cells": ("XXGK_MAX_TABLE_CELLS", int),
    "ocr_threads": ("XXGK_OCR_THREADS", int),
}


def env_number(variable: str, default: Any, kind: type) -> Any:
    """A positive number from the environment, or `default` when unset; a bad value is a
    one-line SettingsError naming the variable (never a traceback, even for `status`).

    A default of None leaves the choice to the library the number is for (OCR threads: every
    core), so the message then offers 1 and leaving it unset instead of the default."""
    raw = os.environ.get(variable)
    if raw is None or not raw.strip():
        return default
    hint = f"e.g. {variable}={default}" if default is not None else f"e.g. {variable}=1, or leave it unset"
    try:
        value = kind(raw.strip())
    except ValueError:
        example = "a whole number" if kind is int else "a number"
        raise SettingsError(f"{variable}={raw!r} is not {example} ({hint})") from None
    if value <= 0:
        shown = f"the default is {default}" if default is not None else hint
        raise SettingsError(f"{variable}={raw!r} must be above 0 ({shown})")
    return value


@dataclass(frozen=True)
class Input:
    """A path to read, or one recorded as failed without being opened, with why."""

    path: Path
    refused: str | None = None
    stored: bool = field(default=True, compare=False)  # a path naming nothing has nothing to store

    @property
    def name(self) -> str:
        return self.path.name


def expand(paths: Iterable[str]) -> Iterator[Input]:
    """Files named by paths, folders (recursively) and globs, each once, in a stable order.

    A path that exists is taken literally even if it looks like a glob (`报告[2020].txt`); a
    glob matching nothing is reported, not silently dropped. Inside a folder, a symbolic link
    whose target lies outside it is not followed (a planted link to /etc/passwd must not be
    stored) and an unreadable subfolder is reported; special files are left to read(), which
    refuses them without opening them.
    """
    seen: set[Path] = set()
    for raw in paths:
        if os.path.lexists(raw) or not glob.has_magic(raw):
            matches = [Path(raw)]
        else:
            matches = [Path(p) for p in sorted(glob.glob(raw, recursive=True))]
            if not matches:
                yield Input(Path(raw), f"nothing matches {raw!r}", stored=False)
                continue
        for path in matches:
            entries = _walk(path) if _is_dir(path) else [Input(path)]
            for entry in entries:
                if entry.path in seen:
                    continue
                seen.add(entry.path)
                yield entry


def _is_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except OSError:  # not there, or not ours to look at: read() says which
        return False


def _walk(root: Path) -> list[Input]:
    base = root.resolve()
    found: list[Input] = []

    def unreadable(exc: OSError) -> None:
        found.append(Input(Path(exc.filename), f"folder cannot be read ({exc.strerror}): its files were not seen"))

    for folder, dirs, files in os.walk(root, onerror=unreadable, followlinks=False):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in [*files, *(d for d in dirs if os.path.islink(os.path.join(folder, d)))]:
            path = Path(folder) / name
            if name.startswith(".") or path.suffix in _SKIPPED_SUFFIXES:
                continue
            if path.is_symlink():
                target = Path(os.path.realpath(path))
                if not target.is_relative_to(base):
                    found.append(
                        Input(path, f"a symbolic link to {target}, outside {root}: not followed (name it to read it)")
                    )
                    continue
                if target.is_dir():  # its files are walked where they are
                    continue
            found.append(Input(path))
    return sorted(found, key=lambda i: i.path)


def refusal(entry: Input) -> Document:
    """The document recorded for an input refused before it was opened."""
    return Document(
        _sha256_text(f"refused:{entry.path.absolute()}"), str(entry.path), "refused", 0, None, entry.refused
    )


def kind(path: Path, head: bytes) -> str:
    """The file's format from its first bytes, else from its name."""
    for magic, fmt in _MAGIC:
        if head.startswith(magic):
            return fmt
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm", ".shtml", ".xhtml"):
        return "HTML"
    return {".pdf": "PDF", ".docx": "Word", ".doc": "old Word"}.get(suffix, "image" if suffix in _IMAGES else "text")


def read(path: Path, max_mb: float | None = None, limits: Limits | None = None) -> Document:
    """Read one file. Never raises for a bad file: the Document carries the error instead.

    The file type is checked before the file is opened and again on the open descriptor (a
    FIFO or device opened to read blocks or never ends), and it is opened non-blocking, so no
    path can hang the batch.
    """
    limits = limits or Limits(max_mb=max_mb if max_mb is not None else DEFAULT_MAX_MB)
    name = str(path)
    opened = _open(path)
    if isinstance(opened, Document):
        return opened
    with opened as handle:
        size = os.fstat(handle.fileno()).st_size
        head = handle.read(8)
        fmt = kind(path, head)
        try:
            if size > limits.max_mb * 1024 * 1024:
                digest = _sha256_handle(handle, hashlib.sha256(head))
                error = (
                    f"file is {size / 1024 / 1024:.1f} MB, over the {limits.max_mb:g} MB limit "
                    "(raise it with --max-file-mb or XXGK_MAX_FILE_MB if this really is one report)"
                )
                return Document(digest, name, fmt, size, None, error)
            data = head + handle.read()
        except OSError as exc:  # an I/O error half-way (a failing disk, a network share gone)
            return _unreadable(path, exc)
    digest = hashlib.sha256(data).hexdigest()
    if not data:
        return Document(digest, name, fmt, size, None, "file is empty")
    try:
        readout = _read_as(fmt, data, limits)
        if readout is None:
            text, error, notes = decode_text(data)
            repair = None
            if text is not None:
                repaired = mojibake.repair(text)
                text, repair = repaired.text, repaired.note
                if fmt == "HTML" or html.carries_tables(text):  # a page saved as .txt, or a script writing one
                    page = fmt == "HTML" or text.lstrip().startswith("<")
                    markup = text if page else html.markup_in_script(text) or text
                    text = html.to_text(markup, limits.max_table_cells)
            return Document(digest, name, fmt, size, text, error, notes=tuple(notes), repair=repair)
    except ValueError as exc:  # the readers' own refusals, already worded for a user
        return Document(digest, name, fmt, size, None, str(exc))
    except Exception as exc:  # a library choking on a damaged file must not stop the batch
        return Document(digest, name, fmt, size, None, f"could not read the {fmt} file ({type(exc).__name__}: {exc})")
    if readout.images:
        fmt = f"{fmt} (scanned)" if fmt == "PDF" else fmt
    error = None if readout.text.strip() else f"no text found in the {fmt} file ({readout.pages} page(s))"
    return Document(
        digest, name, fmt, size, readout.text, error, readout.pages, tuple(readout.images), tuple(readout.doubts)
    )


def _open(path: Path) -> io.BufferedReader | Document:
    """The file opened for reading, or the failed Document saying why it cannot be."""
    name = str(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        why = "a symbolic link to a file that does not exist" if path.is_symlink() else "no such file"
        return Document(_sha256_text(name), name, "missing", 0, None, f"{why}: {name}")
    except OSError as exc:
        return _unreadable(path, exc)
    special = _special(info.st_mode)
    if special:
        return _refused(path, special)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        return _unreadable(path, exc)
    special = _special(os.fstat(fd).st_mode)  # swapped for a FIFO since the stat
    if special:
        os.close(fd)
        return _refused(path, special)
    return os.fdopen(fd, "rb")


def _special(mode: int) -> str | None:
    return next((what for test, what in _SPECIAL if test(mode)), None)


def _refused(path: Path, what: str) -> Document:
    return refusal(Input(path, f"{what}, not a file: not read"))


def _unreadable(path: Path, exc: OSError) -> Document:
    why = exc.strerror or type(exc).__name__
    fix = " (check its permissions)" if isinstance(exc, PermissionError) else ""
    return refusal(Input(path, f"file cannot be read: {why}{fix}"))


def _read_as(fmt: str, data: bytes, limits: Limits) -> Readout | None:
    """A binary format's readout; None for the text formats, which are decoded instead."""
    if fmt == "PDF":
        return pdf.read(
            data,
            limits.max_pages,
            limits.min_confidence,
            max_megapixels=limits.max_megapixels,
            ocr_threads=limits.ocr_threads,
        )
    if fmt == "Word":
        return word.read(data, max_inflated_mb=limits.max_inflated_mb)
    if fmt == "old Word":
        raise ValueError(
            "an old binary Office file (.doc): not read; convert it with: libreoffice --headless --convert-to docx"
        )
    if fmt == "image":
        return ocr.read_images(_images(data, limits), limits.min_confidence, threads=limits.ocr_threads)
    return None


def _images(data: bytes, limits: Limits) -> Iterator[Any]:
    """The frames of an image file (a TIFF may hold many pages), one at a time.

    The page count and each frame's size are read from the headers before any pixels are
    decoded, and a frame is let go before the next is read: a 316 KB TIFF of 30 frames of
    169 megapixels never sits in memory at once.
    """
    from PIL import Image, ImageSequence, UnidentifiedImageError

    unreadable = (UnidentifiedImageError, OSError, SyntaxError, EOFError)
    try:
        image = Image.open(io.BytesIO(data))
        count = getattr(image, "n_frames", 1)
    except Image.DecompressionBombError as exc:
        raise ValueError(
            f"image refused by Pillow as a decompression bomb ({exc}): over the pixel budget of "
            f"{limits.max_megapixels:g} megapixels per page (XXGK_MAX_MEGAPIXELS)"
        ) from exc
    except unreadable as exc:
        raise ValueError(f"not a readable image ({type(exc).__name__}: {exc})") from exc
    if count > limits.max_pages:
        raise ValueError(
            f"image has {count} pages, more than {limits.max_pages} (raise it with --max-pages or XXGK_MAX_PAGES)"
        )
    for number, frame in enumerate(ImageSequence.Iterator(image)):
        pixels = frame.size[0] * frame.size[1] / 1e6
        if pixels > limits.max_megapixels:
            raise ValueError(
                f"image page {number + 1} is {frame.size[0]}x{frame.size[1]} ({pixels:.0f} megapixels), over the "
                f"pixel budget of {limits.max_megapixels:g} (XXGK_MAX_MEGAPIXELS)"
            )
        try:
            yield frame.convert("L")
        except unreadable as exc:
            raise ValueError(f"not a readable image, page {number + 1} ({type(exc).__name__}: {exc})") from exc


def decode(data: bytes) -> tuple[str | None, str | None]:
    """Text from bytes in any Chinese encoding, or (None, why not)."""
    text, error, _ = decode_text(data)
    return text, error


def decode_text(data: bytes) -> tuple[str | None, str | None, list[dict[str, Any]]]:
    """Text from bytes in any Chinese encoding, or (None, why not), and the bytes that did not decode.

    One bad byte (a file cut and joined, a copy through a broken tool) must not cost the whole
    report: a text that is plainly UTF-8 or GB18030 apart from a few bytes is read with each
    bad run as U+FFFD, and each is named (line, column, bytes) for the checks to report.
    """
    if not data.strip():
        return None, "file is empty", []
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), None, []
            except UnicodeDecodeError:
                lenient = _lenient(data[len(bom) :], encoding.removesuffix("_sig"))
                if lenient is not None:
                    return lenient[0], None, lenient[1]
                return None, f"file starts with a {encoding} byte-order mark but is not valid {encoding}", []
    utf16 = _bomless_utf16(data)
    if utf16 is not None:
        return utf16, None, []
    if _looks_binary(data):
        return None, "file is binary, not text (is it a PDF, image or archive with the wrong name?)", []
    try:
        return data.decode("utf-8"), None, []
    except UnicodeDecodeError:
        pass
    lenient = _lenient(data, "utf_8")
    if lenient is not None:
        return lenient[0], None, lenient[1]
    best = from_bytes(data, cp_isolation=_ENCODINGS).best()
    if best is not None:
        return str(best), None, []
    for encoding in ("gb18030", "big5"):
        lenient = _lenient(data, encoding)
        if lenient is not None:
            return lenient[0], None, lenient[1]
    return None, "could not decode the text as UTF-8, GB18030/GBK, Big5 or UTF-16", []


def _lenient(data: bytes, encoding: str) -> tuple[str, list[dict[str, Any]]] | None:
    """The text with its few undecodable runs as U+FFFD and where each was, if `encoding` is
    plainly the file's: at most _MAX_BAD_BYTES bad runs, and far more good non-ASCII characters
    than bad runs (a GBK file read as UTF-8 fails at nearly every Chinese character)."""
    parts: list[str] = []
    notes: list[dict[str, Any]] = []
    position = 0
    while True:
        try:
            parts.append(data[position:].decode(encoding))
            break
        except UnicodeDecodeError as exc:
            if len(notes) >= _MAX_BAD_BYTES:
                return None
            start, end = position + exc.start, position + exc.end
            parts.append(data[position:start].decode(encoding))
            before = "".join(parts)
            line = before.count("\n") + 1
            column = len(before) - (before.rfind("\n") + 1) + 1
            notes.append(
                {
                    "offset": len(before),
                    "line": line,
                    "column": column,
                    "bytes": data[start:end].hex(" "),
                    "encoding": encoding,
                }
            )
            parts.append("\ufffd")
            position = end
    text = "".join(parts)
    good = sum(1 for ch in text if ord(ch) > 127 and ch != "\ufffd")
    if good < 20 * len(notes):
        return None
    return text, notes


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
    """The id a file's document has (the sha256 of its bytes, or of its path for a file refused
    unopened), or None for a path naming nothing. Never blocks on a special file."""
    opened = _open(path)
    if isinstance(opened, Document):
        return None if opened.format == "missing" else opened.id
    with opened as handle:
        try:
            return _sha256_handle(handle, hashlib.sha256())
        except OSError:
            return None


def _sha256_handle(handle: io.BufferedReader, digest: Any) -> str:
    for block in iter(lambda: handle.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
