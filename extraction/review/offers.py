"""What the app offers a reviewer to take in one click: the parser's readings of an ambiguous
cell, the splits of pasted digits that satisfy the identities, a section read from pasted text."""

from __future__ import annotations

import re
from dataclasses import dataclass

from extraction import template
from extraction.review.item import Change, Key, complete, recheck, with_changes
from extraction.schema import Finding, Report, Table
from extraction.tables import layout, placement

# --- Offering readings -----------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One cell the parser could not settle, with the values its readings put there."""

    cell: Key
    options: tuple[str, ...]  # "" blank


_DIFFERS = re.compile(r"([a-z_]+)\.([a-z_]+): ((?:(?!; [a-z_]+\.[a-z_]+:).)+)")


def choices(findings: list[Finding]) -> list[Choice]:
    """The cells an ambiguity finding lists ("Differs in row.col: 3 or 12; …") with their options."""
    out: dict[Key, Choice] = {}
    for finding in findings:
        if not finding.id.endswith(".layout.ambiguous") or "Differs in " not in finding.message:
            continue
        section = finding.id.split(".")[0]
        listed = finding.message.split("Differs in ", 1)[1]
        for row, column, values in _DIFFERS.findall(listed):
            options = tuple(dict.fromkeys("" if v.strip() == "blank" else v.strip() for v in values.split(" or ")))
            if len(options) > 1:
                out[(section, row, column)] = Choice((section, row, column), options)
    return list(out.values())


def splits(section: str, version: str, row: str, pasted: str, limit: int = 12) -> list[dict[str, str]]:
    """The ways a row's pasted digits fill its columns, those satisfying the row's identity
    first (placement.readings with split=True: run-together digits are cut, vanished blanks placed)."""
    columns = template.spec(section, version).row(row).columns  # type: ignore[arg-type]
    cells = [placement.RawCell(m.group(), m.start(), m.end()) for m in re.finditer(r"\S+", pasted)]
    if not cells:
        return []
    found = placement.readings(cells, len(columns), "cell_per_line", split=True)
    out: list[dict[str, str]] = []
    for _, reading in found:
        placed = {c.key: "" if raw is None else raw.text for c, raw in zip(columns, reading, strict=True)}
        if placed not in out:
            out.append(placed)
        if len(out) >= limit:
            break
    return out


def balances(section: str, version: str, row: str, values: dict[str, str]) -> bool:
    """Whether a row's own total identity holds for these texts (rows of 三 and 四)."""
    table = complete(Report(), version).table(section)  # type: ignore[arg-type]
    filled = with_changes(
        Report(**{section: table}), {(section, row, c): Change(t, "split") for c, t in values.items()}
    )
    return not any(f.blocks_acceptance and f".{row}" in f.id for f in recheck(filled))


def section_from_text(section: str, text: str) -> Table | None:
    """A section's table read from its pasted text (the heading is added when missing)."""
    title = template.SECTION_TITLES[section]  # type: ignore[index]
    body = text if title[:2] in text[:40] else f"{title}\n{text}"
    return layout.parse(body).report.table(section)  # type: ignore[arg-type]
