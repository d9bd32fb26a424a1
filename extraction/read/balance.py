"""OCR's doubtful numbers chosen by the identities, as the text parser chooses run-together digits.

A recogniser misreads a printed 6 as 8 or 9, a 1 as 7, loses a lone digit or doubles one, and is
sometimes sure of it. Sections 三 and 四 check themselves: every row of 三 adds up to its 总计,
every column balances (一 + 二 = 三(七) + 四) and sums its handling rows to 三(七); each group of 四
adds up to its 总计. So each doubtful number keeps its candidates (the page read, the cell read
alone, each with one digit swapped for its lookalike, a doubled digit read once, a lost digit put
back), and the identities choose, all of them at once over the parsed tables:

- exactly one combination balances -> that reading is written into the text and the doubt is
  recorded as resolved (the identities check the value, so it does not wait for a person);
- several -> the doubt stays, listing them, and blocks;
- none -> the text stays as printed, and the identity findings say where it fails.

A number read with high confidence by both readings is not a doubt and is never reopened: the
identities weigh only what OCR was unsure of, so a source that does not balance is queued as
printed. Section 二 has no identity; its doubts always wait for a person.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from extraction.checks import Equation, equations, fails
from extraction.read.readout import Doubt

Key = tuple[str, str]  # (row, column)

# What OCR confuses a printed digit with, both ways (a 6 and a 9 score 0.95 for each other).
LOOKALIKE = {"0": "689", "1": "7", "3": "8", "5": "6", "6": "0895", "7": "1", "8": "0693", "9": "068"}
# Past this many tries the doubts of one connected group of identities stay open (listed as
# undecided): a page read so badly that this many combinations need weighing needs a person.
BUDGET = 200_000
_LISTED = 6


def candidates(readings: Sequence[str]) -> list[str]:
    """The numbers a doubtful cell may have printed: its readings, each with one digit swapped for
    its lookalike, one doubled digit read once, one digit lost; "?" (ink the recogniser could not
    read, or read as a mark: a lone digit, most often) may be any number of one or two digits."""
    out: list[str] = []
    for read in readings:
        read = read.replace(" ", "")
        if read == "?":  # a mark of one or two digits
            out += [str(n) for n in range(100)]
            continue
        if not read.isdigit():
            continue
        out.append(read)
        for i, ch in enumerate(read):
            out += [read[:i] + other + read[i + 1 :] for other in LOOKALIKE.get(ch, "")]
            if i + 1 < len(read) and read[i + 1] == ch:
                out.append(read[:i] + read[i + 1 :])  # a digit read twice
        out += [read[:i] + d + read[i:] for i in range(len(read) + 1) for d in "0123456789"]  # one lost
    return list(dict.fromkeys(c for c in out if c == "0" or not c.startswith("0")))


def resolve(text: str, doubts: Sequence[Doubt]) -> tuple[str, list[Doubt]]:
    """The text with the numbers the identities chose written in, and the doubts as they stand."""
    if not any(d.readings for d in doubts):
        return text, list(doubts)
    from extraction.tables import layout  # the parser places the cells; it never reads files

    # A doubtful cell OCR read as a mark, not a number ("U" for a blurred 11), would be skipped by
    # the parser and the numbers after it moved up a column: to place the cells, the parser reads
    # a copy with a 0 in each of its characters. The copy is only looked at, never kept.
    probe = list(text)
    for d in doubts:
        if d.readings and not text[d.start : d.end].strip().replace(".", "").isdigit():
            probe[d.start : d.end] = "0" * (d.end - d.start)
    report = layout.parse("".join(probe)).report
    chosen: dict[int, str] = {}  # doubt index -> the reading written in
    notes: dict[int, str] = {}
    for table in report.tables():
        identities = equations(table.section, table.version)
        if not identities:
            continue
        keys = {k for e in identities for k in e.left + e.right}
        known: dict[Key, object] = {}
        options: dict[Key, list[int]] = {}
        owner: dict[Key, int] = {}
        for key in keys:
            cell = table.cell(*key)
            span = cell.span
            at = next((i for i, d in enumerate(doubts) if span and d.start < span[1] and span[0] < d.end), None)
            numbers = [int(c) for c in candidates(doubts[at].readings)] if at is not None else []
            if at is not None and numbers and not doubts[at].resolved:
                options[key], owner[key] = numbers, at
            else:
                known[key] = cell.value
        for group in _groups(identities, options):
            found = solve(identities, known, {k: options[k] for k in group})
            if found is not None and len(found) == 1:
                for key, value in found[0].items():
                    chosen[owner[key]] = str(value)
                continue
            if found is None:
                why = "too many combinations of readings to weigh"
            elif not found:
                why = "no reading balances: kept as printed"
            else:
                shown = "; ".join(", ".join(str(s[k]) for k in sorted(group)) for s in found[:_LISTED])
                why = f"readings that balance ({', '.join('.'.join(k) for k in sorted(group))}): {shown}"
                why += " ..." if len(found) > _LISTED else ""
            for key in group:
                notes[owner[key]] = why
    return _rewrite(text, doubts, chosen, notes)


def _groups(identities: Sequence[Equation], options: Mapping[Key, list[int]]) -> list[list[Key]]:
    """The doubtful cells in groups the identities join (a row and a column sharing a cell join
    them): each group is weighed on its own, so the choices of one never multiply another's."""
    parent = {k: k for k in options}

    def root(k: Key) -> Key:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for equation in identities:
        inside = [k for k in equation.left + equation.right if k in options]
        for other in inside[1:]:
            parent[root(other)] = root(inside[0])
    groups: dict[Key, list[Key]] = {}
    for k in options:
        groups.setdefault(root(k), []).append(k)
    return list(groups.values())


def solve(
    identities: Sequence[Equation],
    known: Mapping[Key, object],
    options: Mapping[Key, list[int]],
    most: int = _LISTED + 1,
    budget: int = BUDGET,
) -> list[dict[Key, int]] | None:
    """The choices of the doubtful cells (up to `most`) under which every identity they are part of
    holds, or None past the budget. An identity left with one open cell names its value (the total
    less the other parts), so most cells are never tried one by one."""
    relevant = [e for e in identities if any(k in options for k in e.left + e.right)]
    allowed = {k: set(v) for k, v in options.items()}
    found: list[dict[Key, int]] = []
    chosen: dict[Key, int] = {}
    tries = 0

    def value(k: Key) -> object:
        return chosen[k] if k in chosen else known.get(k)

    def holds(equation: Equation) -> bool:
        return not fails(equation, {k: value(k) for k in equation.left + equation.right})  # type: ignore[misc]

    def open_cells(equation: Equation) -> list[Key]:
        return [k for k in equation.left + equation.right if k in options and k not in chosen]

    def search() -> bool:
        nonlocal tries
        tries += 1
        if tries > budget:
            return False
        pending = [(len(cells), e, cells) for e in relevant if (cells := open_cells(e))]
        if not pending:
            found.append(dict(chosen))
            return len(found) < most
        _, equation, cells = min(pending, key=lambda p: p[0])
        if len(cells) == 1:
            key = cells[0]
            named = equation.names(key, value)
            tries_values = [named] if named is not None and named in allowed[key] else []
        else:
            key = min(cells, key=lambda k: len(options[k]))
            tries_values = options[key]
        for v in tries_values:
            chosen[key] = v
            ok = all(holds(e) for e in relevant if key in e.left + e.right and not open_cells(e))
            if ok and not search():
                del chosen[key]
                return False
            del chosen[key]
        return True

    complete = search()
    if not complete and tries > budget:
        return None
    return found


def _rewrite(
    text: str, doubts: Sequence[Doubt], chosen: Mapping[int, str], notes: Mapping[int, str]
) -> tuple[str, list[Doubt]]:
    """The chosen readings written over the doubtful stretches, every later doubt moved by the
    change in length (a lost digit put back makes the text one longer)."""
    out: list[str] = []
    moved: list[Doubt] = []
    at, shift = 0, 0
    for i, doubt in sorted(enumerate(doubts), key=lambda p: p[1].start):
        start, end = doubt.start + shift, doubt.end + shift
        if i in chosen:
            value = chosen[i]
            out.append(text[at : doubt.start] + value)
            at = doubt.end
            read = f"{doubt.read}; the identities choose {value}, the only reading under which they balance"
            moved.append(dataclasses.replace(doubt, start=start, end=start + len(value), read=read, resolved=True))
            shift += len(value) - (doubt.end - doubt.start)
            continue
        read = f"{doubt.read}; {notes[i]}" if i in notes else doubt.read
        moved.append(dataclasses.replace(doubt, start=start, end=end, read=read))
    out.append(text[at:])
    return "".join(out), moved
