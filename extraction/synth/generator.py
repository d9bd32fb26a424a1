"""Random annual reports with known answers, rendered the broken ways real ones arrive.

Tables are drawn balanced (every identity holds) in either template version; on request a
realistic source error is printed instead (a wrong 总计, a blank total, a row 一 that
contradicts the rest), in which case the gold is still what is printed and the report must
never be accepted. Each report is rendered into one layout family with the noise real files
carry: full-width digits, full-width or non-breaking blanks, abbreviated and wrapped labels,
vertical one-character headers, collapsed empty fields. Used by tests, bench/ and `xxgk eval`.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from extraction import template
from extraction.read import html
from extraction.storage import store
from extraction.synth import renderers
from extraction.template import Version

FAMILIES = ("cell_per_line", "tab_rows", "pdftotext_default", "pdftotext_layout", "html", "markdown", "web_text")
# The real files each family is modelled on (../shared): no family stands for nothing real.
MODELLED_ON = {
    "cell_per_line": "seeds 000, 001, 003, 004 (Word saved as text)",
    "tab_rows": "seed 002 (tab-separated export)",
    "pdftotext_default": "realfiles 001, 002 (pdftotext, default order)",
    "pdftotext_layout": "realfiles 003 (pdftotext -layout)",
    "html": "corpus files/201.html (Word-exported web page)",
    "markdown": "corpus texts/016 (PDF -> Markdown conversion)",
    "web_text": "corpus texts/1NN (crawled page bodies, one line; browser copies, a line per row)",
}
_DELIMITED = ("cell_per_line", "tab_rows", "html", "markdown")
ERRORS = ("wrong_total", "blank_total", "row_one_contradiction")
_AGENCIES = (
    "某某市卫生健康委员会",
    "某某县人民政府办公室",
    "某某区市场监督管理局",
    "某某市生态环境局",
    "某某镇人民政府",
)


@dataclass
class Generated:
    text: str
    values: dict[str, Any]  # agency, year, template and the three tables, as printed
    family: str
    errors: list[str] = field(default_factory=list)

    @property
    def suffix(self) -> str:
        return ".html" if self.family == "html" else ".txt"

    def readable(self) -> str:
        """The text the parser reads: a web page after ingestion's table-keeping conversion."""
        return html.to_text(self.text) if self.family == "html" else self.text

    @property
    def doc_id(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def gold_record(self, source: str) -> dict[str, Any]:
        """The export-format gold of this report, for `xxgk eval --gold`."""
        return {
            "doc_id": self.doc_id,
            "source": source,
            "status": "reviewed",
            **self.values,
            "checks": [],
            "extractor": "review",
            "source_inconsistent": bool(self.errors),
            "error": None,
            "layout_family": self.family,
        }


# --- Values ----------------------------------------------------------------------------------


def _count(rng: random.Random, busy: float, top: int = 40) -> int:
    return rng.randint(1, top) if rng.random() < busy else 0


def _applications(rng: random.Random, version: Version) -> dict[str, dict[str, int]]:
    spec = template.spec("applications", version)
    handling = template.handling_rows(version)
    busy = rng.choice((0.05, 0.15, 0.4))
    table: dict[str, dict[str, int]] = {row.key: {} for row in spec.rows}
    for column in template.APPLICANT_PARTS:
        active = rng.random() < (0.9 if column == "natural_person" else 0.35)
        for row in handling:
            table[row][column] = _count(rng, busy if active else 0.0)
        handled = sum(table[row][column] for row in handling)
        carried_over = _count(rng, 0.3 if active else 0, 5)
        carried_forward = _count(rng, 0.3 if active else 0, 5)
        table["total_handled"][column] = handled
        table["carried_over"][column] = carried_over
        table["carried_forward"][column] = carried_forward
        table["new_received"][column] = handled + carried_forward - carried_over
        if table["new_received"][column] < 0:  # keep every count non-negative: carry less over
            table["carried_over"][column] += table["new_received"][column]
            table["new_received"][column] = 0
    for row in spec.rows:
        table[row.key]["total"] = sum(table[row.key][c] for c in template.APPLICANT_PARTS)
    return table


def _review(rng: random.Random) -> dict[str, dict[str, int]]:
    out = {}
    for group in template.REVIEW_LITIGATION.rows:
        parts = {c: _count(rng, 0.25, 6) for c in template.OUTCOME_PARTS}
        out[group.key] = {**parts, "total": sum(parts.values())}
    return out


def _proactive(rng: random.Random, version: Version) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, str]]]:
    """Values and the text printed for each cell (changes and money have several printed forms)."""
    values: dict[str, dict[str, Any]] = {}
    printed: dict[str, dict[str, str]] = {}
    for row in template.spec("proactive", version).rows:
        values[row.key], printed[row.key] = {}, {}
        for column in row.columns:
            if column.kind == "change":
                value = rng.randint(-20, 30)
                text = rng.choice(
                    (
                        f"增{value}" if value > 0 else f"减{-value}" if value < 0 else "0",
                        f"{value:+d}" if value else "0",
                    )
                )
            elif column.kind == "money":
                fen = rng.choice((0, rng.randint(1, 99_999_999)))
                yuan = Decimal(fen) / 100
                style = rng.choice(("yuan", "wan", "bare"))
                if style == "yuan" and fen % 100 == 0:
                    text, value = f"{fen // 100}元", (Decimal(fen // 100) / 10000)
                else:
                    wan = (yuan / 10000).quantize(Decimal("0.01"))
                    text, value = (f"{wan}万元" if style == "wan" else f"{wan}"), wan
                value = _tidy(value)
            else:
                value = rng.choice((0, rng.randint(1, 60), rng.randint(60, 20000)))
                text = str(value)
            values[row.key][column.key], printed[row.key][column.key] = value, text
    return values, printed


def _tidy(value: Decimal) -> Decimal:
    return Decimal(int(value)) if value == value.to_integral_value() else value.normalize()


def _inject(rng: random.Random, table: dict[str, dict[str, Any]], error: str) -> None:
    """Print a source error: the gold keeps it, the identities must catch it."""
    column = rng.choice(("natural_person", "total"))
    if error == "wrong_total":
        table["total_handled"][column] += rng.choice((-2, -1, 1, 3))
    elif error == "blank_total":
        row = rng.choice(("total_handled", "new_received"))
        table[row]["natural_person"] = table[row]["natural_person"] or 1
        table[row]["total"] = None
    elif error == "row_one_contradiction":
        table["new_received"]["total"] += rng.choice((1, 2, 5))


# --- Rendering -------------------------------------------------------------------------------


def _style(rng: random.Random, family: str, version: Version) -> renderers.Style:
    """The noise of one report: digits, blanks, headers, labels, and the template of section 二."""
    return renderers.Style(
        rng,
        fullwidth=rng.random() < 0.3,
        blank=rng.choice(("", "\u3000", "\xa0", " ")) if family == "cell_per_line" else "",
        zero_as_blank=rng.random() < 0.4,
        vertical_headers=rng.random() < 0.5,
        abbreviate=rng.random() < 0.5,
        # Only where cells are delimited: in space-separated text a stray space splits a number.
        noisy=family in _DELIMITED and rng.random() < 0.2,
        # The mixed case of TEMPLATE.md: a 2021 section 二 above a 2019 section 三.
        proactive_version="2021" if version == "2019" and rng.random() < 0.2 else version,
    )


def _printed_applications(
    style: renderers.Style, family: str, version: Version, applications: dict[str, dict[str, int]]
) -> tuple[dict[str, dict[str, Any]], dict[str, list[str]]]:
    """Section 三 as printed: the gold of each cell and its text, row by row."""
    printed_apps: dict[str, dict[str, Any]] = {}
    apps_text: dict[str, list[str]] = {}
    # Web pages merge the （六） cells over its three sub-rows when the last two are all zero: the
    # page prints them once, on sub-row 1, and the other two have no cells of their own.
    merged = (
        family == "web_text"
        and version == "2021"
        and style.rng.random() < 0.3
        and not any(applications[key][c.key] for key in renderers.MERGED_SIX for c in template.APPLICANT_COLUMNS)
    )
    for row in template.spec("applications", version).rows:
        printed_apps[row.key], apps_text[row.key] = {}, []
        for column in template.APPLICANT_COLUMNS:
            text, value = renderers.printed_cell(style, applications[row.key][column.key], column.key == "total")
            if merged and row.key in renderers.MERGED_SIX:
                text, value = "", None
            printed_apps[row.key][column.key] = value
            apps_text[row.key].append(text)
    return printed_apps, apps_text


def _printed_review(
    style: renderers.Style, review: dict[str, dict[str, int]]
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Section 四 as printed: the gold of each cell, and the texts in reading order."""
    printed_review: dict[str, dict[str, Any]] = {}
    review_text: list[str] = []
    for group in template.REVIEW_LITIGATION.rows:
        printed_review[group.key] = {}
        for column in template.OUTCOME_COLUMNS:
            text, value = renderers.printed_cell(style, review[group.key][column.key], column.key == "total")
            printed_review[group.key][column.key] = value
            review_text.append(text)
    return printed_review, review_text


def _document(family: str, agency: str, year: int, body: str) -> str:
    """The whole report around sections 二-四: title, section 一 and the closing sections."""
    title = f"{agency}{year}年政府信息公开工作年度报告"
    opening = f"{year}年，本机关认真贯彻落实《中华人民共和国政府信息公开条例》，现将有关情况报告如下。"
    if family == "html":
        return (
            f"<html><head><meta charset='utf-8'><title>{title}</title></head><body><h1>{title}</h1>"
            f"<p>一、总体情况</p><p>{opening}</p>\n{body}<p>五、存在的主要问题及改进情况</p><p>无。</p>"
            "<p>六、其他需要报告的事项</p><p>无。</p></body></html>\n"
        )
    return (
        f"{title}\n\n一、总体情况\n{opening}\n\n"
        f"{body}\n五、存在的主要问题及改进情况\n无。\n六、其他需要报告的事项\n无。\n"
    )


def generate(rng: random.Random, family: str, version: Version | None = None, error: str | None = None) -> Generated:
    version = version or rng.choice(("2019", "2021"))
    style = _style(rng, family, version)
    year = rng.randint(2019, 2025)
    agency = rng.choice(_AGENCIES)
    applications = _applications(rng, version)
    if error:
        _inject(rng, applications, error)
    proactive, proactive_text = _proactive(rng, style.proactive_version)
    review = _review(rng)
    printed_apps, apps_text = _printed_applications(style, family, version, applications)
    printed_review, review_text = _printed_review(style, review)
    body = renderers.RENDERERS[family](style, version, proactive_text, apps_text, review_text)
    values = {
        "agency": agency,
        "year": year,
        "template": style.proactive_version,  # section 二 decides the report's template
        "proactive": proactive,
        "applications": printed_apps,
        "review_litigation": printed_review,
    }
    return Generated(_document(family, agency, year, body), values, family, [error] if error else [])


def batch(seed: int, count: int, families: tuple[str, ...] = FAMILIES, error_rate: float = 0.1) -> list[Generated]:
    """`count` reports spread evenly over the families; a share of them with a printed source error."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        error = rng.choice(ERRORS) if rng.random() < error_rate else None
        out.append(generate(rng, families[i % len(families)], error=error))
    return out


def write(folder: Path, reports: list[Generated]) -> tuple[Path, Path]:
    """Reports as text files under folder/reports and their gold under folder/gold, for `xxgk eval`."""
    texts, golds = folder / "reports", folder / "gold"
    texts.mkdir(parents=True, exist_ok=True)
    golds.mkdir(parents=True, exist_ok=True)
    for i, report in enumerate(reports):
        name = f"{i:05d}_{report.family}"
        (texts / f"{name}{report.suffix}").write_bytes(report.text.encode("utf-8"))
        record = report.gold_record(f"reports/{name}{report.suffix}")
        (golds / f"{name}.json").write_text(store.dumps(record) + "\n", encoding="utf-8")
    return texts, golds
