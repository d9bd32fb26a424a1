"""A model double that reads: it answers each section call with the gold values of the report whose
text it was sent, and on request slips as models do, or lies.

It knows reports only as (text, gold) pairs, and finds the one a request is about by matching the
text inside ``<report>…</report>`` against their texts, so the client is tested on what it really
sends (a prompt holding the wrong part of the report gets an answer for no report). The answer
takes the shape of the response model in the request (the schema in `tools`, in
`response_format`, or written into the messages for MD_JSON), so every instructor mode is served.

Slips (`SLIPS`), each applied once per section answer, deterministically:
- ``digit``: two digits of a number swapped (or one misread where it has one);
- ``next_column``: a number moved to the next column;
- ``row_dropped``: a row left blank;
- ``row_copied``: a row copied from its neighbour;
- ``total_recomputed``: a count misread and the totals recomputed so the table balances;
- ``invented``: a whole section invented, balanced;
- ``column_shift``: a column's numbers all moved into the neighbouring column the table leaves
  blank (a model that lost an empty cell on every row): every row still sums, every number
  still printed in order;
- ``resplit``: a row's digits cut at another place (2|44|32 read 24|4|32): every digit as
  printed and in order, so a run printed together still reproduces; only the cut is a guess.
Hostile answers (`HOSTILE`): ``other_report`` (another report's table), ``blank_totals`` (totals
the report leaves blank filled with the sum), ``rows_swapped`` (two rows exchanged).
What was changed is kept in `changes`, so a caller can tell a slip that changed nothing (a
report without blank totals) from one that was caught.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from llm_double import ScriptedServer, keyed_section, request_schema

from extraction import template
from extraction.read import ingest

SLIPS = ("digit", "next_column", "row_dropped", "row_copied", "total_recomputed", "invented", "column_shift", "resplit")
HOSTILE = ("other_report", "blank_totals", "rows_swapped")
_WHITESPACE = re.compile(r"\s+")
_REPORT = re.compile(r"<report>\n?(.*?)\n?</report>", re.S)


@dataclass(frozen=True)
class GoldReport:
    name: str
    text: str  # what the pipeline reads (and quotes to the model): a file's readout for a PDF
    gold: dict[str, Any]
    file: Path | None = None  # the original file, where it is not the text itself


def load_reports(shared: Path, root: Path) -> list[GoldReport]:
    """The real reports that have gold: the corpus texts, the real PDFs and their pdftotext
    texts (gold in data/gold/realfiles, verified against the rendered pages), and the bundled
    seed samples."""
    out: list[GoldReport] = []
    for gold_path in sorted((shared / "corpus" / "gold").glob("*.json")):
        gold = json.loads(gold_path.read_text(encoding="utf-8"), parse_float=Decimal)
        text = shared / "corpus" / "texts" / gold["source"]
        if text.exists():
            out.append(GoldReport(f"corpus/{text.name}", text.read_text(encoding="utf-8"), gold))
    for gold_path in sorted((root / "data" / "gold" / "realfiles").glob("*.jsonl")):
        for line in gold_path.read_text(encoding="utf-8").splitlines():
            gold = json.loads(line, parse_float=Decimal)
            path = shared / "realfiles" / gold["source"]
            if not path.exists():
                continue
            if path.suffix == ".pdf":
                text = ingest.read(path).text or ""
                out.append(GoldReport(f"realfiles/{path.name}", text, gold, path))
            else:
                out.append(GoldReport(f"realfiles/{path.name}", path.read_text(encoding="utf-8"), gold))
    for gold_path in sorted((root / "data" / "gold").glob("*.json")):
        sample = root / "data" / "samples" / f"{gold_path.stem}.txt"
        gold = json.loads(gold_path.read_text(encoding="utf-8"), parse_float=Decimal)
        out.append(GoldReport(f"samples/{sample.name}", sample.read_text(encoding="utf-8"), gold))
    return out


class GoldServer(ScriptedServer):
    """Answers from the gold of the report a request quotes; `slip` names a slip or hostile answer."""

    def __init__(self, reports: list[GoldReport], slip: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        assert slip is None or slip in SLIPS + HOSTILE, slip
        self.reports = reports
        self.slip = slip
        self.changes: list[tuple[str, str, str]] = []  # (report, section, what the slip changed)
        self.unknown = 0  # requests quoting no known report

    def _next(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.requests.append(body)
            if self.script:
                entry = self.script.pop(0)
                return entry(body) if callable(entry) else entry
        return self.answer(body)

    def quoted_report(self, body: dict[str, Any]) -> GoldReport | None:
        """The report a request quotes (in its longest ``<report>`` block), if any."""
        quoted = max((q for t in _texts(body) for q in _REPORT.findall(t)), key=len, default=None)
        return self.quoting(quoted or "")

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        schema = request_schema(body)
        report = self.quoted_report(body)
        if report is None or schema is None:
            self.unknown += 1
            return {"status": 500, "error": "gold double: the request quotes no known report"}
        parts = _parts_of(schema)
        if parts is None:
            section, version = _section_of(schema, body)
            return {"json": self.section_answer(report, section, version)}
        # A report call (prompt shape "report"): each section under its numeral, in the "rows" shape.
        out: dict[str, Any] = {}
        for key, (section, version) in parts.items():
            rows = list(self.section_answer(report, section, version).values())
            out[key] = rows if section == "applications" else [v for cells in rows for v in cells]
        return {"json": out}

    def section_answer(self, report: GoldReport, section: str, version: str) -> dict[str, list[Any]]:
        """One section's gold rows, with the slip applied (and recorded) when there is one."""
        answer = rows_of(report.gold, section, version)
        if self.slip:
            other = next((r for r in self.reports if r is not report and r.gold.get(section)), None)
            what = apply(self.slip, answer, section, version, other.gold if other else None)
            with self.lock:
                self.changes.append((report.name, section, what))
        return answer

    def quoting(self, quoted: str) -> GoldReport | None:
        """The report a quoted text was cut from. Lines are compared without their trailing
        blanks (the client may trim them on the way); only if none matches so, whitespace is
        ignored altogether (a short section such as an all-zero 四 may then match several).

        A condensed quote (prompt v4: row labels written as 【tags】, long prose as …) is no
        substring of any report: what is left between its tags and ellipses is, piece by piece
        and in order (with their blanks as printed, else ignoring blanks as above). Of the
        reports that hold every piece so, the one holding them closest
        together is the one quoted (an all-zero table's pieces are found in many a report, but
        spread over it, past digits of its own)."""
        for norm in (_trimmed, lambda t: _WHITESPACE.sub("", t)):
            bare = norm(quoted).strip()
            found = next((r for r in self.reports if bare and bare in norm(r.text)), None)
            if found is not None:
                return found
        for norm in (_trimmed, lambda t: _WHITESPACE.sub("", t)):  # blanks as printed first: they place cells
            pieces = [norm(x) for x in _ELIDED.split(quoted) if x.strip()]
            if len(pieces) < 2:
                return None
            spans = {i: _span(pieces, norm(r.text)) for i, r in enumerate(self.reports)}
            held = [(span, i) for i, span in spans.items() if span is not None]
            if held:
                return self.reports[min(held)[1]]
        return None


# What a condensed quote puts in place of the text it leaves out: tags and ellipses.
_ELIDED = re.compile(r"【[^】]*】|…")


def _span(pieces: list[str], text: str) -> tuple[int, int] | None:
    """How closely `text` holds `pieces` in order: the fewest digits, then characters, it holds
    between them, trying every place the first piece is found; None when they are not all there.

    Each later piece is looked for after some text that is not blank (a tag or an ellipsis
    stands for a stretch of label text: the values on either side were separate runs).
    Condensing leaves out labels, not values, so the report quoted skips few digits (its
    labels' enumeration), another report its own values."""
    best = None
    start = text.find(pieces[0])
    while start >= 0:
        at, skipped = start + len(pieces[0]), 0
        for piece in pieces[1:]:
            label = _LABEL.search(text, at)
            found = text.find(piece, label.end()) if label else -1
            if found < 0:
                return best  # a later start finds this piece no sooner
            skipped += sum(c.isdigit() for c in text[at:found])
            at = found + len(piece)
        best = min(best or (skipped, at - start), (skipped, at - start))
        start = text.find(pieces[0], start + 1)
    return best


_LABEL = re.compile(r"[^\s|｜]")


def _trimmed(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines())


def _texts(body: dict[str, Any]) -> list[str]:
    return [m.get("content") or "" for m in body.get("messages", []) if isinstance(m.get("content"), str)]


_NUMERALS = {"二": "proactive", "三": "applications", "四": "review_litigation"}


def _parts_of(schema: dict[str, Any]) -> dict[str, tuple[str, str]] | None:
    """The sections (and template versions) a report call's schema asks for, by numeral; the
    version is the one whose size the array's length bounds state. None for a one-section schema."""
    properties = schema.get("properties", {})
    if not properties or not set(properties) <= set(_NUMERALS):
        return None
    out = {}
    for key, prop in properties.items():
        section = _NUMERALS[key]
        sizes = {
            v: len(spec.rows) if section == "applications" else sum(len(r.columns) for r in spec.rows)
            for v in ("2019", "2021")
            for spec in [template.spec(section, v)]  # type: ignore[arg-type]
        }
        version = next((v for v, n in sizes.items() if n == prop.get("maxItems")), "2021")
        out[key] = (section, version)
    return out


_NAMED = re.compile(r"(Proactive|Applications|ReviewLitigation)(2019|2021)")


def _section_of(schema: dict[str, Any], body: dict[str, Any]) -> tuple[str, str]:
    """The section and version a request asks for: by its row keys (keyed shape), else by the
    response model's name (the tool, the json_schema name, or the schema's title)."""
    found = keyed_section(set(schema.get("properties", {})))
    if found is not None:
        return found
    names = [schema.get("title") or ""]
    names += [t["function"]["name"] for t in body.get("tools") or []]
    names.append(((body.get("response_format") or {}).get("json_schema") or {}).get("name") or "")
    for name in names:
        match = _NAMED.fullmatch(name)
        if match:
            word = match.group(1)
            section = "review_litigation" if word == "ReviewLitigation" else word.lower()
            return section, match.group(2)
    raise ValueError(f"gold double: no template answers schema {sorted(schema.get('properties', {}))}")


def rows_of(gold: dict[str, Any], section: str, version: str) -> dict[str, list[Any]]:
    """The gold of one section as the response model's rows; a row the gold lacks is blank."""
    table = gold.get(section) or {}
    out: dict[str, list[Any]] = {}
    for row in template.spec(section, version).rows:  # type: ignore[arg-type]
        values = [(table.get(row.key) or {}).get(c.key) for c in row.columns]
        out[row.key] = [_printed(v) for v in values] if section == "proactive" else values
    return out


def _printed(value: Any) -> str:
    return "" if value is None else str(value)


# --- Slips ------------------------------------------------------------------------------------


def apply(kind: str, answer: dict[str, list[Any]], section: str, version: str, other: dict | None) -> str:
    """Change `answer` in place as the slip `kind` does; what changed, or "" when nothing could."""
    texts = section == "proactive"
    before = copy.deepcopy(answer)
    rows = list(answer)
    numbers = [(r, i) for r in rows for i, v in enumerate(answer[r]) if _num(v) not in (None, 0)]
    if kind == "digit" and numbers:
        r, i = max(numbers, key=lambda ri: (len(str(_num(answer[ri[0]][ri[1]]))), ri))
        answer[r][i] = _set(answer[r][i], _swap_digits(str(_num(answer[r][i]))), texts)
    elif kind == "next_column":
        for r, i in numbers:
            if i + 1 < len(answer[r]) and _num(answer[r][i + 1]) != _num(answer[r][i]):
                answer[r][i], answer[r][i + 1] = ("" if texts else None), answer[r][i]
                break
    elif kind == "row_dropped" and numbers:
        r = numbers[0][0]
        answer[r] = ["" if texts else None] * len(answer[r])
    elif kind == "row_copied":
        for a, b in itertools.pairwise(rows):
            if answer[a] != answer[b] and len(answer[a]) == len(answer[b]):
                answer[b] = list(answer[a])
                break
    elif kind == "rows_swapped":
        for a, b in itertools.pairwise(rows):
            if answer[a] != answer[b] and len(answer[a]) == len(answer[b]):
                answer[a], answer[b] = answer[b], answer[a]
                break
    elif kind == "total_recomputed":
        _misread_and_rebalance(answer, section)
    elif kind == "invented":
        _invent(answer, section)
    elif kind == "other_report" and other is not None:
        answer.update(rows_of(other, section, version))
    elif kind == "blank_totals":
        _fill_blank_totals(answer, section)
    elif kind == "resplit":
        _resplit(answer, texts)
    elif kind == "column_shift":
        _shift_column(answer, texts)
    changed = [r for r in rows if answer[r] != before[r]]
    return f"{kind}: {', '.join(changed)}" if changed else ""


def _num(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return Decimal(value)
        except ArithmeticError:
            return None
    return value


def _set(old: Any, digits: str, texts: bool) -> Any:
    if texts:
        return digits
    return int(digits) if isinstance(old, int) else Decimal(digits)


def _swap_digits(text: str) -> str:
    for i in range(len(text) - 1):
        if text[i] != text[i + 1] and text[i].isdigit() and text[i + 1].isdigit():
            return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text.replace(text[0], "7" if text[0] != "7" else "1", 1)  # a one-digit count misread


def _misread_and_rebalance(answer: dict[str, list[Any]], section: str) -> None:
    """A part read one too high, and every total that holds it raised to match: it still balances."""
    if section == "applications":
        handled = "granted" if "granted" in answer else next(iter(answer))
        for row in (handled, "total_handled", "new_received"):
            if row in answer:
                for col in (0, 6):
                    answer[row][col] = (answer[row][col] or 0) + 1
    elif section == "review_litigation":
        answer["review"][0] = (answer["review"][0] or 0) + 1
        answer["review"][4] = (answer["review"][4] or 0) + 1
    else:  # section 二 has no totals to rebalance: a count read one too high
        row = next(r for r in answer if answer[r])
        answer[row][0] = str((_num(answer[row][0]) or 0) + 1)


def _shift_column(answer: dict[str, list[Any]], texts: bool) -> None:
    """The first column with numbers whose neighbour (left or right, totals excluded) is blank in
    every row takes that neighbour's place."""
    rows = [v for v in answer.values() if len(v) > 2]
    width = min((len(v) for v in rows), default=0)
    blank = "" if texts else None
    for c in range(width - 1):  # the last column is the total where a row has one
        for n in (c + 1, c - 1):
            if (
                0 <= n < width - 1
                and all(v[n] in (None, "") for v in rows)
                and any(v[c] not in (None, "") for v in rows)
            ):
                for v in rows:
                    v[n], v[c] = v[c], blank
                return


def _resplit(answer: dict[str, list[Any]], texts: bool) -> None:
    """The first two neighbouring counts of a row that can be cut otherwise (each part a count:
    no leading zero) get the cut between them moved by one digit, left or right."""
    for values in answer.values():
        at = [i for i, v in enumerate(values) if isinstance(_num(v), int | Decimal) and str(_num(v)).isdigit()]
        for a, b in itertools.pairwise(at):
            left, right = str(_num(values[a])), str(_num(values[b]))
            both = left + right
            for cut in (len(left) + 1, len(left) - 1):
                first, second = both[:cut], both[cut:]
                if first and second and all(p == "0" or not p.startswith("0") for p in (first, second)):
                    values[a], values[b] = _set(values[a], first, texts), _set(values[b], second, texts)
                    return


def _invent(answer: dict[str, list[Any]], section: str) -> None:
    """A plausible, balanced table that is not the report's."""
    for row in answer:
        answer[row] = ["" if section == "proactive" else 0] * len(answer[row])
    if section == "applications":
        for row in ("new_received", "granted", "total_handled"):
            answer[row] = [2, 1, 0, 0, 0, 0, 3]
    elif section == "review_litigation":
        answer["review"] = [1, 0, 0, 0, 1]
        answer["litigation_direct"] = [0, 1, 0, 0, 1]
    else:
        for n, row in enumerate(answer):
            answer[row] = [str(n + 3)] * len(answer[row])


def _fill_blank_totals(answer: dict[str, list[Any]], section: str) -> None:
    if section not in ("applications", "review_litigation"):
        return
    for cells in answer.values():
        if cells[-1] is None and any(v is not None for v in cells[:-1]):
            cells[-1] = sum(v or 0 for v in cells[:-1])
        elif cells[-1] is None and section == "applications":
            cells[-1] = 0
