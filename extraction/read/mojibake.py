"""Garbled text (乱码) repaired before it is read, and characters lost to garbling named.

Crawlers and mail clients garble Chinese text in one typical way: the bytes of a UTF-8 or
GBK/GB18030 file are decoded as Latin-1 or Windows-1252 and saved again, so ``固原市`` arrives as
``å›ºåŽŸå¸‚`` (UTF-8 bytes) or ``¹ÌÔ­ÊÐ`` (GBK bytes). Such text decodes without error and
is read as "not a report". Encoding it back with the codec that garbled it gives the original
bytes, which then decode as they were meant to; both source encodings and both garbling codecs
are tried, and the reading that gives the most Chinese with the fewest losses wins. Latin-1 maps
every byte, so its garbling loses nothing; Windows-1252 leaves five bytes undefined, which a
garbler turns into "�", and those characters are gone for good: what is left is read, and the
loss is named in a finding (`lost_characters`), as it is for any text that holds "�".
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import ftfy.bad_codecs  # noqa: F401  (registers "sloppy-windows-1252": 1252 with its five holes kept)

from extraction.schema import Finding
from extraction.tables import sections

REPLACEMENT = "\ufffd"
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# What garbled Chinese is made of: Latin-1 letters and signs, and Windows-1252's extras (€ ‚ ƒ „ … Œ ‘ ’).
_GARBLE = re.compile(
    r"[\u0080-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)
# The characters of the words every such report prints (政府信息公开, 申请, 年度报告, …).
_COMMON = frozenset("政府信息公开工作年度报告申请情况主动处理行政复议诉讼本的不予和其他数量总计结果")
_GARBLERS = ("latin-1", "sloppy-windows-1252")
_HOLE = "xxgk-mojibake-hole"
codecs.register_error(_HOLE, lambda error: (b"\xff" * (error.end - error.start), error.end))
_SOURCES = ("utf-8", "gb18030")


@dataclass(frozen=True)
class Repair:
    text: str
    note: str | None  # what was repaired, for the document's record; None when nothing was


def repair(text: str) -> Repair:
    """The text as its author wrote it, when it is garbled Chinese; otherwise the text itself."""
    garbled = len(_GARBLE.findall(text))
    if garbled < 20 or garbled < 2 * len(_CJK.findall(text)):
        return Repair(text, None)
    best: tuple[tuple[int, int], str, str, str] | None = None
    for garbler in _GARBLERS:
        # A "�" the garbler wrote, or a character it cannot have written, has no byte left: it
        # becomes a byte no source encoding starts a character with, so it decodes as "�" again.
        raw = text.encode(garbler, errors=_HOLE)
        for source in _SOURCES:
            candidate = raw.decode(source, errors="replace")
            lost = candidate.count(REPLACEMENT)
            # GB18030 takes almost any byte pair for some character, so the count of Chinese alone
            # does not tell a wrong source encoding: the words every report uses do.
            score = (sum(candidate.count(ch) for ch in _COMMON) - 3 * lost, -lost)
            if best is None or score > best[0]:
                best = (score, candidate, garbler, source)
    assert best is not None
    _, candidate, garbler, source = best
    if len(_CJK.findall(candidate)) <= len(_CJK.findall(text)) + candidate.count(REPLACEMENT):
        return Repair(text, None)
    lost = candidate.count(REPLACEMENT)
    note = f"garbled text repaired: {source.upper()} bytes had been read as {garbler.replace('sloppy-', '')}"
    return Repair(candidate, note + (f"; {lost} character(s) lost (�)" if lost else ""))


def lost_characters(text: str) -> Finding | None:
    """A finding for text that holds replacement characters: what stood there is lost. Inside a
    table it blocks acceptance (a digit may be gone); elsewhere it only tells the reviewer."""
    places = [m.start() for m in re.finditer(REPLACEMENT, text)]
    if not places:
        return None
    in_tables = len(sections.in_tables(text, places))
    where = f"{in_tables} of them inside the tables" if in_tables else "none inside the tables"
    return Finding(
        id="document.lost_characters",
        severity="hard" if in_tables else "soft",
        status="fail" if in_tables else "uncertain",
        formula="every character of the text was decoded",
        message=f"{len(places)} character(s) could not be decoded and show as �, {where}: what stood there is lost",
    )
