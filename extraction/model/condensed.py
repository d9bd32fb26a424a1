"""The text a model reads of a located section: its printed values, with the template's row labels
written as short tags (prompt version v4, whose `quote.txt` says "condensed").

The template's long row labels, its identity notes and its column headers are the same in every
report, and they cost more tokens than the values themselves (section 三 prints 25 labels of up
to 40 characters for 175 cells). What the model needs is where each row's printed values are.
The parser already finds that by the labels (`anchored.runs` cuts a section into stretches of
label text and runs of values; `named_*_rows` say which rows a stretch names), so here:

- a stretch that names template rows becomes the tags of those rows, in the words the prompt
  uses for them (三: 【一】 【（一）】 【（三）1】 … 【四】, as the outline ``一 二 三（一）…（七）四``
  numbers them, a sub-item right after one of its group by its number alone, 【2】, as the
  template prints them: 6 Qwen tokens become 3; 二: 【规章】 【行政许可】 …, its row names).
  The brackets keep a tag's own digit apart from the printed ones: ``【（三）1】0000000``.
  The blanks and cell separators at the stretch's two ends (line breaks, tabs, pipes,
  ideographic spaces: the places of blank cells beside the row's values) are kept as printed,
  so a row that prints fewer values than it has columns still shows where they stand;
- every run of values is kept verbatim and in order, from its first to its last value, spaces
  and separators included (how the digits of a run split into cells is the model's to read,
  as it is the identities' in the parser);
- a stretch naming no row is kept verbatim when it has at most `SHORT` characters (a heading,
  a table rule, a label fragment split off by a page break, a line such as ``发布总数量：``
  saying the value after it is not a row's), and otherwise replaced by ``…`` between its
  blanks. Measured on the corpus, the seed samples and the real files (21 reports), the no-row
  stretches are either at most 50 characters or at least 112 (prose on what was published,
  a multi-line header whose column words are scrambled): the long ones carry nothing a cell
  needs, and a planted instruction in them is not sent at all.

Section 四 prints no row labels (its cells follow a block of column headers), so it is sent
as printed. Section 二's column headers, which tell its 2019 and 2021 templates apart, sit in
the stretch that names its first row and are replaced with it: the version is decided on the
original text (`llm.section_version`), and the ask names that version's rows and cells.

Where the labels name fewer than half of the version's rows, the parser could not anchor the
text (OCR noise, a layout without the template's words): there the model is the reader of last
resort, and the section is sent verbatim.

Only what is sent changes. Grounding, coverage and the identities judge the answer against the
original text at the Part's offsets.
"""

from __future__ import annotations

import re
from functools import cache

from extraction import template
from extraction.tables import anchored
from extraction.template import Section, Version

SHORT = 60  # characters: a stretch naming no row up to this long is sent as printed
MIN_NAMED = 0.5  # share of the version's rows the labels must name, else the section goes verbatim
ELIDED = "…"
_MARKS = re.compile(r"[一二三四]、|（[一二三四五六七]）|\d+\.")


def condense(text: str, start: int, end: int, section: Section, version: Version) -> str:
    """What the model reads of `text[start:end]`, a located section (see the module docstring)."""
    verbatim = text[start:end]
    if section == "review_litigation":
        return verbatim
    namer = anchored.named_application_rows if section == "applications" else anchored.named_proactive_rows
    tags = row_tags(section, version)
    found = anchored.runs(text, start, end)
    stretches = [(label_from, cells[0][1]) for label_from, cells in found]
    stretches.append((found[-1][1][-1][2] if found else start, end))
    pieces: list[str] = []
    previous: list[str] = []
    for i, (a, b) in enumerate(stretches):
        label = text[a:b]
        named = [key for _, key in namer(label, previous[-1] if previous else None)]
        written = []
        for key in named:
            written.append(_tag(tags[key], tags[previous[-1]] if previous else None))
            previous.append(key)
        pieces.append(_stretch(label, written))
        if i < len(found):
            cells = found[i][1]
            pieces.append(text[cells[0][1] : cells[-1][2]])
    rows = {r.key for r in template.spec(section, version).rows}
    if len(rows & set(previous)) < MIN_NAMED * len(rows):
        return verbatim
    return "".join(pieces)


def _stretch(label: str, tags: list[str]) -> str:
    """A stretch of label text as sent: its rows' tags, else itself when short, else an
    ellipsis; its blank ends kept either way."""
    if not tags and len(label.strip()) <= SHORT:
        return label
    lead = 0
    while lead < len(label) and _blank(label[lead]):
        lead += 1
    trail = len(label)
    while trail > lead and _blank(label[trail - 1]):
        trail -= 1
    middle = "".join(f"【{tag}】" for tag in tags) if tags else ELIDED
    return label[:lead] + middle + label[trail:]


def _blank(char: str) -> bool:
    """Blanks and cell separators (line breaks, tabs, ideographic spaces, pipes): the places of
    blank cells, kept as printed at a stretch's ends."""
    return char.isspace() or char in "|｜"


def _tag(row: tuple[str, str], before: tuple[str, str] | None) -> str:
    """A row's tag: its group and number (（三）2), the number alone right after a row of the
    same group, as the template prints its sub-items (（三）不予公开 1.… 2.…)."""
    group, number = row
    return number if number and before is not None and before[0] == group else group + number


@cache
def row_tags(section: Section, version: Version) -> dict[str, tuple[str, str]]:
    """Each row's tag words as (group, number): 三's rows by the numbering the template prints
    before their labels (一, （一）, （三） and 2 for （三）2), 二's by the version's row names.
    Rows of the other version (a 2019 其他处理 where the 2021 template's words are printed) get theirs."""
    other: Version = "2019" if version == "2021" else "2021"
    out: dict[str, tuple[str, str]] = {}
    for spec in (template.spec(section, other), template.spec(section, version)):  # the version's own win
        group = ""
        for row in spec.rows:
            if section != "applications":
                out[row.key] = (row.label, "")
                continue
            marks = [m.rstrip("、.") for m in _MARKS.findall(row.label)]
            groups = [m for m in marks if m.startswith("（")]
            number = next((m for m in marks if m.isdigit()), "")
            if groups:
                group = groups[-1]
            elif not number:  # 一、 二、 四、: a row of its own, in no group
                group = marks[0] if marks else row.label
            out[row.key] = (group, number)
    return out
