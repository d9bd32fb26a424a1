"""Finding the parts of a report: its title (agency, year) and the spans of sections 二, 三, 四.

Headings are recognised by their wording, not their numbering, because reports renumber them
("5、 存在主要问题") and because prose mentions the same words ("（二）依申请公开情况。…"): a
heading is a short line that carries the section's key phrase.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from extraction.template import Section

# Key phrase of each heading, and table anchors used when a heading is missing.
_HEADINGS: dict[str, re.Pattern[str]] = {
    "proactive": re.compile(r"主动公开政府信息(?:情况)?\s*$|^\s*[二2][、.．,，\s]\s*主动公开"),
    "applications": re.compile(r"收到和处理政府信息公开申请"),
    "review_litigation": re.compile(r"行政复议[、，,和及\s]*行政诉讼"),
    "end": re.compile(r"存在的?主要问题|其他需要报告的事项"),
}
_ANCHORS: dict[str, re.Pattern[str]] = {
    "proactive": re.compile(r"第二十条第"),
    "applications": re.compile(r"本列数据的勾稽关系|本年新收政府信息公开申请"),
    "review_litigation": re.compile(r"结果\s*维持"),
}
_MAX_HEADING = 40
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_TITLE = re.compile(r"政府信息公开.{0,6}报告|年度报告|工作报告")
_NOISE = re.compile(r"\[bookmark:[^\]]*\]")
# What crawlers and converters put in front of a title: "标题: …", "# …", "title: …".
_TITLE_PREFIX = re.compile(r"^(?:#+\s*|(?:标\s*题|题\s*目|名\s*称|title)\s*[:：]\s*)", re.IGNORECASE)


@dataclass(frozen=True)
class Span:
    start: int
    end: int


# The same headings inside a long line (a page body written as one line): there only the
# numbered form counts, since the report's preface lists every section's name in its prose
# ("本报告包括总体情况、主动公开政府信息情况、收到和处理…").
_NUMBERED: dict[str, re.Pattern[str]] = {
    "proactive": re.compile(r"[二2]\s*[、.．]\s*主动公开政府信息"),
    "applications": re.compile(r"[三3]\s*[、.．]\s*收到和处理政府信息公开申请"),
    "review_litigation": re.compile(r"[四4]\s*[、.．]\s*[^。，]{0,16}?行政法?复议"),
    "end": re.compile(r"[五5]\s*[、.．]\s*[^。，]{0,10}?存在的?主要问题|[六6]\s*[、.．]\s*其他需要报告的事项"),
}


def locate(text: str) -> dict[Section, Span]:
    """Character spans of the sections whose heading or table anchor is present.

    A heading is a short line carrying its key phrase, or, inside a long line, the numbered
    heading itself; a table anchor stands in for a missing heading (from the start of its line,
    or from the anchor itself in a long line).
    """
    starts: dict[str, int] = {}
    long_lines: list[tuple[int, str]] = []
    offset = 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped and len(stripped) <= _MAX_HEADING:
            for name, pattern in _HEADINGS.items():
                if name not in starts and pattern.search(stripped):
                    # The end marker only counts once the tables have begun.
                    if name == "end" and not starts:
                        continue
                    starts[name] = offset
                    break
        elif len(stripped) > _MAX_HEADING:
            long_lines.append((offset, line))
        offset += len(line)
    for at, line in long_lines:
        for name, pattern in _NUMBERED.items():
            if name in starts:
                continue
            after = max([s - at for s in starts.values() if at <= s < at + len(line)] or [0]) if name == "end" else 0
            match = pattern.search(line, after)
            if match and (name != "end" or starts):
                starts[name] = at + match.start()
    for name, anchor in _ANCHORS.items():
        if name not in starts:
            match = anchor.search(text)
            if match:
                line_start = text.rfind("\n", 0, match.start()) + 1
                starts[name] = line_start if match.start() - line_start <= _MAX_HEADING else match.start()
    if "end" in starts and starts["end"] < max(v for k, v in starts.items() if k != "end"):
        del starts["end"]  # a closing heading above the last table is the preface's, not the end
    ordered = sorted(starts.items(), key=lambda item: item[1])
    spans: dict[Section, Span] = {}
    for i, (name, start) in enumerate(ordered):
        if name == "end":
            continue
        end = ordered[i + 1][1] if i + 1 < len(ordered) else len(text)
        spans[name] = Span(start, end)  # type: ignore[index]
    return spans


def in_tables(text: str, offsets: list[int]) -> set[int]:
    """Those of `offsets` that fall inside the spans of sections 二, 三 and 四."""
    spans = locate(text).values()
    return {at for at in offsets if any(span.start <= at < span.end for span in spans)}


def looks_like_report(text: str) -> bool:
    """Whether a text is an annual report at all, read or not: a section of the template, or a
    report's title near the top. A file that is neither is "not a report"; one that is, but
    whose tables could not be read, is a report the parser could not read."""
    return bool(locate(text)) or bool(_TITLE.search(text[:2000]) and "政府信息公开" in text[:2000])


def title_info(text: str) -> tuple[str | None, int | None]:
    """The publishing agency (as printed) and report year, read from the title lines.

    The agency is whatever the title prints before or after the year ("固原市卫生健康委 2019
    年…", "2019年下城区卫生健康局…"), or the line above a title that starts with the year.
    """
    lines = [_TITLE_PREFIX.sub("", _NOISE.sub("", line).strip()) for line in text.splitlines()]
    lines = [line for line in lines if line][:6]
    agency: str | None = None
    year: int | None = None
    for i, line in enumerate(lines):
        match = _YEAR.search(line)
        # The title may wrap: "2019年下城区卫生健康局政府信息公开" / "年度工作报告".
        joined = line + (lines[i + 1] if i + 1 < len(lines) and len(line) < 30 else "")
        if not match or not _TITLE.search(joined) or len(line) > 60:
            continue
        year = int(match.group(1))
        before = line[: match.start()].strip()
        after = re.split(r"政府信息|信息公开|年度", line[match.end() :])[0].strip("度 ")
        agency = before or after or None
        if agency is None and i > 0 and len(lines[i - 1]) <= 30 and not _YEAR.search(lines[i - 1]):
            agency = lines[i - 1]
        break
    if year is None:
        head = "\n".join(lines)
        match = _YEAR.search(head)
        year = int(match.group(1)) if match else None
    return agency, year
