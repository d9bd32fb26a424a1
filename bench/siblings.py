"""Siblings of the real reports: the same printing, another agency's numbers.

    python bench/siblings.py [--shared ../shared] [--count 20] [--seed 1] [--out /tmp/sibs/siblings]

Every real text with gold (`shared/corpus/texts`, the corpus web page as ingestion reads it, the
seeds with their bundled gold) is the mould for `--count` siblings. A sibling keeps every
character of its mould except the numbers: each printed number run of sections 二, 三 and 四 is
matched to the gold cells it prints (`align`: a run-together row such as `291000030` is the
cells 29|1|0|0|0|0|30), and the new values of those cells are written into the same place,
run together where the mould ran them together and spaced where it spaced them. Blank cells
stay blank; a money or change cell keeps its printed text. The new values come from the
generator's own model (`extraction.synth.generator`) and satisfy every identity of
`extraction.checks`, unless the sibling is one whose source does not balance (one total off,
as real agencies print them), which must never be accepted.

On top of the numbers a sibling may take the variants the spec lists for the family: the
labels with 和/受理, the 第二十条第（一）项 heading dropped, the 规章 row absent, the （六） cells
merged over its three sub-rows, and other page chrome or a page footer between rows.

Each sibling goes through ingest, the layout parser and the checks (as `bench/real.py`), and
is scored against its gold. Per family and overall: exact, accepted, accepted wrong (must be
0), and what the queued ones wait on. Texts and gold are written under `--out` to look at.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
from collections import Counter, defaultdict
from copy import deepcopy
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extraction import checks, pipeline, template  # noqa: E402
from extraction.model.cascade import Settings  # noqa: E402
from extraction.read import ingest  # noqa: E402
from extraction.scoring import evaluation  # noqa: E402
from extraction.storage import store  # noqa: E402
from extraction.synth import generator  # noqa: E402
from extraction.tables import sections  # noqa: E402

# The printing family of each mould, as ../shared/corpus/README.md describes it.
FAMILIES = {
    "101": "crawl, run together",
    "104": "crawl, run together",
    "105": "crawl, run together",
    "107": "crawl, run together",
    "109": "crawl, run together",
    "114": "crawl, run together",
    "103": "crawl, labels spaced, cells run together",
    "112": "crawl, labels spaced, cells run together",
    "118": "crawl, labels spaced, cells run together",
    "110": "crawl, single-space separated",
    "116": "crawl, single-space separated",
    "119": "crawl, single-space separated",
    "016": "PDF -> Markdown",
    "201": "Word-exported web page",
    "000": "Word saved as text",
    "001": "Word saved as text",
    "003": "Word saved as text",
    "004": "Word saved as text",
    "002": "tab-separated rows",
}
_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
_NUMBER = re.compile(r"(?:[+-]|增|减)?\d+(?:\.\d+)?")
_ITEM_MARK = ".、．)）"  # "2.其他": the digit before it numbers the next row's label


@dataclass(frozen=True)
class Cell:
    section: str
    row: str
    column: str
    kind: str  # count | money | change
    value: Any


@dataclass(frozen=True)
class Token:
    start: int
    end: int
    text: str


@dataclass
class Sibling:
    name: str
    family: str
    text: str
    gold: dict[str, Any]
    variants: list[str] = field(default_factory=list)
    unbalanced: bool = False


# --- Where the mould printed each cell ---------------------------------------------------------


def tokens(text: str, start: int, end: int) -> list[Token]:
    """The number runs of a span. A digit just before "." and a non-digit ("00000002.其他") is
    the next label's item number, not a value."""
    plain = text.translate(_FULLWIDTH)
    out = []
    for match in _NUMBER.finditer(plain, start, end):
        a, b = match.start(), match.end()
        if b < len(plain) and plain[b] in _ITEM_MARK and (b + 1 >= len(plain) or not plain[b + 1].isdigit()):
            if "." in plain[a:b]:
                continue
            b -= 1
        if b > a:
            out.append(Token(a, b, plain[a:b]))
    return out


def _kind(section: str, column: str) -> str:
    if column in ("amount_wan_yuan",):
        return "money"
    if column == "change":
        return "change"
    return "count"


def gold_cells(gold: dict[str, Any], section: str) -> list[Cell]:
    """The printed (non-blank) cells of a section in the gold's order, which is the template's."""
    out = []
    for row, columns in (gold.get(section) or {}).items():
        for column, value in columns.items():
            if value is not None:
                out.append(Cell(section, row, column, _kind(section, column), value))
    return out


def pieces(token: str, cells: list[Cell]) -> list[str] | None:
    """The token cut into the printed text of each cell ("0+11" is 0|+1|1), or None when the
    cells do not print it. A money cell, printed in 元 or 万元, ends the token."""
    out, rest = [], token
    for i, cell in enumerate(cells):
        if cell.kind == "money":
            if i != len(cells) - 1:
                return None
            try:
                number = Decimal(rest)
            except InvalidOperation:
                return None
            value = Decimal(str(cell.value))
            if number != value and number / 10000 != value:
                return None
            out.append(rest)
            rest = ""
            continue
        value = int(cell.value)
        forms = [str(value)]
        if cell.kind == "change" and value:
            forms = [f"+{value}", f"增{value}", str(value)] if value > 0 else [f"-{-value}", f"减{-value}"]
        for form in forms:
            if rest.startswith(form):
                out.append(form)
                rest = rest[len(form) :]
                break
        else:
            return None
    return out if not rest else None


def align(found: list[Token], cells: list[Cell]) -> list[tuple[Token, list[Cell]]] | None:
    """Each number run with the cells it prints, fewest runs left over (page numbers, years, a
    note's count); None when the gold's cells cannot all be found in print order."""
    n, m = len(found), len(cells)
    inf = n + 1
    # best[i][j]: fewest runs skipped reading runs i.. for cells j..
    best = [[inf] * (m + 1) for _ in range(n + 1)]
    step: list[list[int]] = [[0] * (m + 1) for _ in range(n + 1)]  # 0 skip, k>0 takes k cells
    best[n][m] = 0
    for i in range(n - 1, -1, -1):
        for j in range(m, -1, -1):
            here, how = best[i + 1][j] + 1, 0
            length = 0
            for k in range(1, m - j + 1):
                length += len(str(cells[j + k - 1].value)) if cells[j + k - 1].kind == "count" else 1
                if length > len(found[i].text):
                    break
                if best[i + 1][j + k] < here and pieces(found[i].text, cells[j : j + k]) is not None:
                    here, how = best[i + 1][j + k], k
                if cells[j + k - 1].kind == "money":
                    break
            best[i][j], step[i][j] = here, how
    if best[0][0] >= inf:
        return None
    out, i, j = [], 0, 0
    while i < n:
        k = step[i][j]
        if k:
            out.append((found[i], cells[j : j + k]))
            j += k
        i += 1
    return out


# --- New numbers --------------------------------------------------------------------------------


def _blanks(gold: dict[str, Any], section: str) -> set[tuple[str, str]]:
    return {(r, c) for r, cols in (gold.get(section) or {}).items() for c, v in cols.items() if v is None}


def _balanced(table: dict[str, dict[str, Any]], section: str, version: str) -> bool:
    values = {(r, c): v for r, cols in table.items() for c, v in cols.items()}
    return all(not checks.fails(eq, values) for eq in checks.equations(section, version))  # type: ignore[arg-type]


def new_applications(rng: random.Random, gold: dict[str, Any], unbalanced: bool) -> dict[str, dict[str, Any]] | None:
    """Section 三 drawn by the generator's model, blank where the mould printed blank, balanced
    (or, for an unbalanced sibling, one total off)."""
    old = gold.get("applications")
    if not old:
        return None
    version = "2021" if "other_misc" in old else "2019"
    blanks = _blanks(gold, "applications")
    for _ in range(200):
        table: dict[str, dict[str, Any]] = generator._applications(rng, version)  # type: ignore[arg-type]
        table = {r: {c: (None if (r, c) in blanks else v) for c, v in cols.items()} for r, cols in table.items()}
        if _balanced(table, "applications", version):
            break
    else:
        table = deepcopy(old)
    if unbalanced:
        error = rng.choice(("wrong_total", "row_one_contradiction"))
        before = deepcopy(table)
        try:
            generator._inject(rng, table, error)
        except TypeError:  # the total it picked is blank in this mould
            table = before
    return table


def new_review(rng: random.Random, gold: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
    old = gold.get("review_litigation")
    if not old:
        return None
    blanks = _blanks(gold, "review_litigation")
    for _ in range(200):
        table = generator._review(rng)
        table = {r: {c: (None if (r, c) in blanks else v) for c, v in cols.items()} for r, cols in table.items()}
        if _balanced(table, "review_litigation", "2019"):
            return table
    return deepcopy(old)


def new_proactive(rng: random.Random, gold: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
    """Section 二's counts, which no identity binds: as the crawled agencies print them, half 0,
    most of the rest one digit, some two, a few three (a run-together row of such is often cut
    one way only: "0017" over three columns is 0|0|17)."""
    old = gold.get("proactive")
    if not old:
        return None
    out: dict[str, dict[str, Any]] = {}
    for row, cols in old.items():
        out[row] = {}
        for column, value in cols.items():
            if value is None or _kind("proactive", column) != "count":
                out[row][column] = value
            else:
                digits = rng.choices((0, 1, 2, 3), weights=(50, 35, 12, 3))[0]
                out[row][column] = rng.randint(10 ** (digits - 1), 10**digits - 1) if digits else 0
    return out


# --- The sibling ---------------------------------------------------------------------------------


_CHROME = (
    "您当前所在位置：首页 > 政务公开 > 政府信息公开年报",
    "当前位置：首页 > 信息公开 > 年度报告 【字体：大 中 小】 打印",
    "首页 | 政务公开 | 政府信息公开年报 浏览次数： 分享到：",
)
_FOOTERS_LINE = ("— {n} —", "- {n} -", "第 {n} 页 共 {m} 页", "{n}")
_FOOTERS_CRAWL = (" 打印本页 关闭窗口 ", " 【我要纠错】 ", " 扫一扫在手机打开当前页 ")


def make(mould: str, family: str, text: str, gold: dict[str, Any], rng: random.Random, index: int) -> Sibling | None:
    """One sibling of a mould, or None when its gold cannot be found in its print."""
    spans = sections.locate(text)
    unbalanced = rng.random() < 0.15
    new = {
        "proactive": new_proactive(rng, gold),
        "applications": new_applications(rng, gold, unbalanced),
        "review_litigation": new_review(rng, gold),
    }
    sib_gold = deepcopy(gold)
    edits: list[tuple[int, int, str]] = []
    variants: list[str] = []
    crawl = family.startswith("crawl")
    version_2021 = "other_misc" in (gold.get("applications") or {})
    merge_six = (
        crawl
        and version_2021
        and rng.random() < 0.3
        and all(
            new["applications"] is not None and not new["applications"][r][c]
            for r in generator.renderers.MERGED_SIX
            for c in new["applications"][r]
        )
    )
    drop_rules = (
        crawl and "regulations" in (gold.get("proactive") or {}) and "issued" in gold["proactive"]["regulations"]
    ) and rng.random() < 0.25
    # A browser copy of the same page: a line per row instead of the body on one line.
    per_line = crawl and "\n" not in text[min(s.start for s in spans.values()) :].strip() and rng.random() < 0.15
    for section in template.SECTIONS:
        span = spans.get(section)
        values = new[section]
        if span is None or values is None:
            continue
        aligned = align(tokens(text, span.start, span.end), gold_cells(gold, section))
        if aligned is None:
            variants.append(f"{section} kept (gold not found in print)")
            continue
        sib_gold[section] = deepcopy(values)
        if per_line and section != "review_litigation":
            for (token, cells), after in zip(aligned, [*aligned[1:], None], strict=True):
                if after is None or after[1][0].row != cells[-1].row:
                    end = token.end + next(len(u) for u in ("万元", "元", "") if text.startswith(u, token.end))
                    edits.append((end, end, "\n"))
        for token, cells in aligned:
            if merge_six and section == "applications" and cells[0].row in generator.renderers.MERGED_SIX:
                edits.append((token.start, token.end, ""))
                continue
            if drop_rules and section == "proactive" and cells[0].row == "regulations":
                label = text.rfind("规章", span.start, token.start)
                if label >= 0 and not text[label + 2 : token.start].strip():
                    edits.append((label, token.end, ""))
                    continue
                drop_rules = False
            printed = pieces(token.text, cells) or []
            edits.append(
                (
                    token.start,
                    token.end,
                    "".join(
                        str(values[c.row][c.column]) if c.kind == "count" else p
                        for c, p in zip(cells, printed, strict=True)
                    ),
                )
            )
    if per_line:
        variants.append("a line per row")
    if merge_six and sib_gold.get("applications"):
        for r in generator.renderers.MERGED_SIX:
            sib_gold["applications"][r] = {c: None for c in sib_gold["applications"][r]}
        variants.append("（六） merged")
    if drop_rules and sib_gold.get("proactive"):
        del sib_gold["proactive"]["regulations"]
        variants.append("no 规章 row")
    if unbalanced and sib_gold.get("applications") is not None:
        version = "2021" if version_2021 else "2019"
        unbalanced = not _balanced(sib_gold["applications"], "applications", version)
    out = text
    for start, end, replacement in sorted(edits, reverse=True):
        out = out[:start] + replacement + out[end:]
    out = _variants(out, family, rng, variants)
    sib_gold["source"] = f"{mould}_{index:03d}.txt"
    sib_gold["doc_id"] = ""
    sib_gold["source_inconsistent"] = unbalanced
    return Sibling(f"{mould}_{index:03d}", family, out, sib_gold, variants, unbalanced)


def _variants(text: str, family: str, rng: random.Random, variants: list[str]) -> str:
    """The wording, headings and chrome other agencies of the family print."""
    if rng.random() < 0.3:
        swaps = (("其他法律行政法规禁止公开", "其他法律和行政法规禁止公开"), ("不再处理其政府", "不再受理其政府"))
        for a, b in swaps:
            if a in text:
                text = text.replace(a, b)
            elif b in text:
                text = text.replace(b, a)
        variants.append("和/受理 labels")
    if rng.random() < 0.25 and "第二十条第（一）项" in text:
        text = text.replace("第二十条第（一）项", "", 1)
        variants.append("no 第二十条第（一）项")
    if family.startswith("crawl") and rng.random() < 0.3 and "当前位置" in text:
        at = text.find("当前位置")
        end = text.find(" ", text.find("首页", at) + 1)
        if 0 <= at < end:
            text = text[:at] + rng.choice(_CHROME) + text[end:]
            variants.append("other chrome")
    if rng.random() < 0.3:
        spans = sections.locate(text)
        span = spans.get("applications")
        if span is not None:
            marks = [m.start() for m in re.finditer(r"（[一二三四五六七]）|[二三四]、", text[span.start : span.end])]
            if len(marks) > 3:
                at = span.start + rng.choice(marks[2:])
                if not family.startswith("crawl"):  # a converted PDF's page footer, on a line of its own
                    footer = rng.choice(_FOOTERS_LINE).format(n=rng.randint(2, 9), m=rng.randint(9, 12))
                    at = text.rfind("\n", span.start, at) + 1 or at
                    text = text[:at] + footer + "\n" + text[at:]
                else:  # a web page's furniture between rows (a crawl or a browser copy)
                    text = text[:at] + rng.choice(_FOOTERS_CRAWL) + text[at:]
                variants.append("page footer")
    return text


# --- The moulds ----------------------------------------------------------------------------------


def moulds(shared: Path) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(name, family, text as the parser reads it, gold) of every real text with gold."""
    golds: dict[str, dict[str, Any]] = {}
    for folder in (shared / "corpus" / "gold", ROOT / "data" / "gold"):
        for path in sorted(folder.glob("*.json")):
            record = json.loads(path.read_text("utf-8"), parse_float=Decimal)
            golds[Path(record["source"]).name] = record
    out = []
    for path in [
        *sorted((shared / "corpus" / "texts").glob("*.txt")),
        *sorted((shared / "corpus" / "files").glob("*")),
        *sorted((shared / "seeds").glob("*.txt")),
    ]:
        gold = golds.get(path.name)
        if gold is None:
            continue
        name = path.name[:3]
        text = ingest.read(path).text or ""
        out.append((name, FAMILIES.get(name, "other"), text, gold))
    return out


def run(siblings: list[Sibling], out: Path) -> list[dict[str, Any]]:
    """Every sibling through ingest, parser and checks; its score against its gold."""
    (out / "texts").mkdir(parents=True, exist_ok=True)
    (out / "gold").mkdir(parents=True, exist_ok=True)
    for s in siblings:
        (out / "texts" / f"{s.name}.txt").write_text(s.text, "utf-8")
        (out / "gold" / f"{s.name}.json").write_text(store.dumps(s.gold) + "\n", "utf-8")
    pipeline.tune_for_batch()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        db = store.open_db(Path(tmp) / "siblings.db")
        docs = {}
        for s in siblings:
            doc = ingest.read(out / "texts" / f"{s.name}.txt")
            store.add_document(db, doc)
            docs[s.name] = doc
        outcomes = {
            o.doc_id: o
            for o in pipeline.extract_documents(db, [d.id for d in docs.values()], settings=Settings(kind="layout"))
        }
        for s in siblings:
            doc = docs[s.name]
            outcome = outcomes[doc.id]
            extraction = store.current_extraction(db, doc.id)
            report = store.report_of(extraction) if extraction else None
            findings = store.findings(db, extraction["id"]) if extraction else []
            tables = {sec: s.gold.get(sec) for sec in template.SECTIONS}
            gold = evaluation.Gold(doc.id, s.name, tables, "sibling")
            scored = evaluation.score(gold, report, findings, outcome.status, {}, doc.text or "")
            rows.append(
                {
                    "name": s.name,
                    "family": s.family,
                    "status": outcome.status,
                    "exact": scored.exact,
                    "wrong": [f"{w.section}.{w.row}.{w.column}: {w.gold}->{w.got}" for w in scored.wrong],
                    "unnamed": sum(1 for w in scored.wrong if not w.caught_by),
                    "why": pipeline.reasons([f for f in findings if f.blocks_acceptance]),
                    "variants": s.variants,
                    "unbalanced": s.unbalanced,
                }
            )
    return rows


def summary(rows: list[dict[str, Any]]) -> None:
    by_family: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_family[r["family"]].append(r)
    print("| family | siblings | exact | accepted | accepted wrong | unbalanced (none may pass) | queued: why (top) |")
    print("|---|---|---|---|---|---|---|")
    for family, group in [*sorted(by_family.items()), ("all", rows)]:
        why = Counter(w.strip() for r in group if r["status"] != "accepted" for w in r["why"].split(",") if w.strip())
        queued_why = ", ".join(f"{w} ({n})" for w, n in why.most_common(3))
        unbalanced = sum(r["unbalanced"] for r in group)
        unbalanced_accepted = sum(r["unbalanced"] and r["status"] == "accepted" for r in group)
        print(
            f"| {family} | {len(group)} | {sum(r['exact'] for r in group)} "
            f"| {sum(r['status'] == 'accepted' for r in group)} "
            f"| {sum(r['status'] == 'accepted' and not r['exact'] for r in group)} "
            f"| {unbalanced} ({unbalanced_accepted}) "
            f"| {queued_why} |"
        )
    print()
    print(
        json.dumps(
            {
                "siblings": len(rows),
                "exact": sum(r["exact"] for r in rows),
                "accepted": sum(r["status"] == "accepted" for r in rows),
                "accepted_wrong": sum(r["status"] == "accepted" and not r["exact"] for r in rows),
                "wrong_cells_not_named": sum(r["unnamed"] for r in rows),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", default=None)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "sibs" / "siblings")
    parser.add_argument("--show", action="store_true", help="print every sibling read wrong or queued")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    siblings = []
    for name, family, text, gold in moulds(args.shared):
        if args.only and args.only != name:
            continue
        for i in range(args.count):
            sibling = make(name, family, text, gold, rng, i)
            if sibling is not None:
                siblings.append(sibling)
    rows = run(siblings, args.out)
    if args.show:
        for r in rows:
            if not r["exact"] or r["status"] != "accepted":
                print(r["name"], r["status"], "exact" if r["exact"] else "WRONG", r["why"], r["variants"])
                for w in r["wrong"][:6]:
                    print("    ", w)
    summary(rows)


if __name__ == "__main__":
    main()
