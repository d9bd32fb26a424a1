"""Reading report files into documents: bytes in, text out, and a reason whenever that fails.

A file's id is the sha256 of its bytes, computed before anything else can go wrong, so even an
unreadable file is recorded (as failed, with a reason a user can act on) and never dropped.
"""

from __future__ import annotations

import glob
import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes

from extraction import html

DEFAULT_MAX_MB = float(os.environ.get("XXGK_MAX_FILE_MB", "20"))
TEXT_SUFFIXES = {".txt", ".text", ".md", ".csv", ".tsv", ""}
# The store's own files, when a folder holding it is ingested.
_SKIPPED_SUFFIXES = {".db", ".db-wal", ".db-shm", ".db-journal", ".sqlite"}
# Chinese reports arrive in these encodings; detection is limited to them so that a GBK file is
# never read as Latin-1 mojibake.
_ENCODINGS = ["utf_8", "gb18030", "big5", "utf_16"]
_BOMS = ((b"\xef\xbb\xbf", "utf_8_sig"), (b"\xff\xfe", "utf_16"), (b"\xfe\xff", "utf_16"))
_NOT_YET = {
    ".pdf": "PDF",
    ".docx": "Word",
    ".doc": "Word",
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".tif": "image",
    ".tiff": "image",
}


@dataclass(frozen=True)
class Document:
    id: str
    name: str
    format: str
    size: int
    text: str | None
    error: str | None = None


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


def read(path: Path, max_mb: float = DEFAULT_MAX_MB) -> Document:
    """Read one file. Never raises for a bad file: the Document carries the error instead."""
    name = str(path)
    if not path.exists():
        return Document(_sha256_text(name), name, "missing", 0, None, f"no such file: {name}")
    size = path.stat().st_size
    digest = _sha256_file(path)
    fmt = _NOT_YET.get(path.suffix.lower(), "text")
    if size > max_mb * 1024 * 1024:
        error = (
            f"file is {size / 1024 / 1024:.1f} MB, over the {max_mb:g} MB limit "
            "(raise it with --max-file-mb or XXGK_MAX_FILE_MB if this really is one report)"
        )
        return Document(digest, name, fmt, size, None, error)
    if fmt != "text":
        error = f"{fmt} files are not read yet; convert to text (e.g. pdftotext) and ingest that"
        return Document(digest, name, fmt, size, None, error)
    data = path.read_bytes()
    text, error = decode(data)
    if text is not None and path.suffix.lower() in (".html", ".htm"):
        return Document(digest, name, "HTML", size, html.to_text(text), None)
    return Document(digest, name, fmt, size, text, error)


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


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
