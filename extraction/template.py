"""What the State Council template prescribes: sections, rows, columns, labels, versions.

Everything that knows a Chinese label lives here, so the parser, the checks, the exports and
the review app agree on one set of stable keys (TEMPLATE.md). Real reports abbreviate labels,
split them over lines and print headers one character per line, so matching works on a
compacted label (no whitespace, unified brackets) against distinctive keywords rather than on
the full printed text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Section = Literal["proactive", "applications", "review_litigation"]
Version = Literal["2019", "2021"]
ColumnKind = Literal["count", "change", "money"]

SECTIONS: tuple[Section, ...] = ("proactive", "applications", "review_litigation")
SECTION_TITLES: dict[Section, str] = {
    "proactive": "二、主动公开政府信息情况",
    "applications": "三、收到和处理政府信息公开申请情况",
    "review_litigation": "四、政府信息公开行政复议、行政诉讼情况",
}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: ColumnKind = "count"


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    columns: tuple[Column, ...]
    keywords: tuple[str, ...] = ()
    short: str = ""  # a few characters for messages and grid headers

    @property
    def name(self) -> str:
        return self.short or self.label


@dataclass(frozen=True)
class TableSpec:
    section: Section
    version: Version
    rows: tuple[Row, ...]

    def row(self, key: str) -> Row:
        for row in self.rows:
            if row.key == key:
                return row
        raise KeyError(f"{self.section} {self.version} has no row {key!r}")

    def cells(self) -> list[tuple[str, str]]:
        return [(row.key, col.key) for row in self.rows for col in row.columns]


# --- Section 二: proactive disclosure -------------------------------------------------------

_MADE = (
    Column("made", "本年新制作数量"),
    Column("published", "本年新公开数量"),
    Column("total_published", "对外公开总数量"),
)
_ITEMS = (
    Column("prior_items", "上一年项目数量"),
    Column("change", "本年增/减", "change"),
    Column("decisions", "处理决定数量"),
)
_ISSUED = (
    Column("issued", "本年制发件数"),
    Column("repealed", "本年废止件数"),
    Column("in_force", "现行有效件数"),
)
_DECISIONS = (Column("decisions", "本年处理决定数量"),)

PROACTIVE_2019 = TableSpec(
    "proactive",
    "2019",
    (
        Row("regulations", "规章", _MADE, ("规章",)),
        Row("normative_documents", "规范性文件", _MADE, ("规范性文件",)),
        Row("licensing", "行政许可", _ITEMS, ("行政许可",)),
        Row("other_services", "其他对外管理服务事项", _ITEMS, ("其他对外管理服务", "对外管理服务")),
        Row("penalty", "行政处罚", _ITEMS, ("行政处罚",)),
        Row("coercion", "行政强制", _ITEMS, ("行政强制",)),
        Row("fees", "行政事业性收费", _ITEMS[:2], ("事业性收费", "行政收费")),
        Row(
            "procurement",
            "政府集中采购",
            (Column("projects", "采购项目数量"), Column("amount_wan_yuan", "采购总金额", "money")),
            ("集中采购", "政府采购"),
        ),
    ),
)

PROACTIVE_2021 = TableSpec(
    "proactive",
    "2021",
    (
        Row("regulations", "规章", _ISSUED, ("规章",)),
        Row("normative_documents", "行政规范性文件", _ISSUED, ("规范性文件",)),
        Row("licensing", "行政许可", _DECISIONS, ("行政许可",)),
        Row("penalty", "行政处罚", _DECISIONS, ("行政处罚",)),
        Row("coercion", "行政强制", _DECISIONS, ("行政强制",)),
        Row(
            "fees",
            "行政事业性收费",
            (Column("amount_wan_yuan", "本年收费金额（单位：万元）", "money"),),
            ("事业性收费", "行政收费"),
        ),
    ),
)

# Header words that only one version of section 二 prints.
PROACTIVE_VERSION_MARKERS: dict[Version, tuple[str, ...]] = {
    "2019": ("本年新制作数量", "本年新公开数量", "对外公开总数量", "上一年项目数量", "采购项目数量"),
    "2021": ("本年制发件数", "本年废止件数", "现行有效件数", "本年处理决定数量", "本年收费金额"),
}

# --- Section 三: requests -------------------------------------------------------------------

APPLICANT_COLUMNS = (
    Column("natural_person", "自然人"),
    Column("commercial", "商业企业"),
    Column("research", "科研机构"),
    Column("social_welfare", "社会公益组织"),
    Column("legal_service", "法律服务机构"),
    Column("other_org", "其他"),
    Column("total", "总计"),
)
APPLICANT_PARTS = tuple(c.key for c in APPLICANT_COLUMNS[:-1])


def _app(key: str, label: str, short: str, *keywords: str) -> Row:
    return Row(key, label, APPLICANT_COLUMNS, keywords, short)


# Ordered as printed. Keywords are distinctive fragments that survive abbreviation
# ("1.逾期不补正") and labels split over lines ("7.属于行政执法" / "案卷").
_APPLICATION_HEAD = (
    _app("new_received", "一、本年新收政府信息公开申请数量", "一、本年新收", "本年新收", "新收"),
    _app("carried_over", "二、上年结转政府信息公开申请数量", "二、上年结转", "上年结转"),
    _app("granted", "三、本年度办理结果（一）予以公开", "(一)予以公开", "予以公开"),
    _app("partially_granted", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", "(二)部分公开", "部分公开"),
    _app("withheld_state_secret", "（三）不予公开 1.属于国家秘密", "(三)1.国家秘密", "国家秘密"),
    _app(
        "withheld_law_prohibited",
        "2.其他法律行政法规禁止公开",
        "(三)2.法规禁止",
        "禁止公开",
        "法律行政法规",
        "其他法律",
    ),
    _app("withheld_three_safety", "3.危及“三安全一稳定”", "(三)3.三安全一稳定", "三安全", "一稳定"),
    _app("withheld_third_party", "4.保护第三方合法权益", "(三)4.第三方权益", "第三方"),
    _app("withheld_internal_affairs", "5.属于三类内部事务信息", "(三)5.内部事务", "内部事务"),
    _app("withheld_process_info", "6.属于四类过程性信息", "(三)6.过程性信息", "过程性"),
    _app("withheld_enforcement_file", "7.属于行政执法案卷", "(三)7.执法案卷", "执法案卷", "行政执法"),
    _app("withheld_query_item", "8.属于行政查询事项", "(三)8.行政查询", "行政查询", "查询事项"),
    _app("unavailable_not_held", "（四）无法提供 1.本机关不掌握相关政府信息", "(四)1.不掌握", "不掌握"),
    _app("unavailable_needs_creation", "2.没有现成信息需要另行制作", "(四)2.需另行制作", "另行制作", "没有现成"),
    _app("unavailable_unclear", "3.补正后申请内容仍不明确", "(四)3.仍不明确", "不明确"),
    _app("not_processed_complaint", "（五）不予处理 1.信访举报投诉类申请", "(五)1.信访举报", "信访", "举报投诉"),
    _app("not_processed_duplicate", "2.重复申请", "(五)2.重复申请", "重复申请"),
    _app("not_processed_publication", "3.要求提供公开出版物", "(五)3.公开出版物", "出版物"),
    _app("not_processed_mass_requests", "4.无正当理由大量反复申请", "(五)4.大量反复", "大量反复"),
    _app(
        "not_processed_confirmation",
        "5.要求行政机关确认或重新出具已获取信息",
        "(五)5.确认或重新出具",
        "重新出具",
        "确认或",
    ),
)
_APPLICATION_TAIL = (
    _app("total_handled", "（七）总计", "(七)总计", "总计"),
    _app("carried_forward", "四、结转下年度继续办理", "四、结转下年度", "结转下年", "继续办理"),
)
_OTHER_2019 = (_app("other_handling", "（六）其他处理", "(六)其他处理", "其他处理"),)
_OTHER_2021 = (
    _app(
        "other_overdue_correction",
        "（六）其他处理 1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
        "(六)1.逾期不补正",
        "逾期不补正",
        "不补正",
    ),
    _app(
        "other_unpaid_fee",
        "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
        "(六)2.逾期未缴费",
        "缴纳费用",
        "收费通知",
    ),
    _app("other_misc", "3.其他", "(六)3.其他"),  # "其他" alone: only recognised right after the two rows above
)

APPLICATIONS_2019 = TableSpec("applications", "2019", _APPLICATION_HEAD + _OTHER_2019 + _APPLICATION_TAIL)
APPLICATIONS_2021 = TableSpec("applications", "2021", _APPLICATION_HEAD + _OTHER_2021 + _APPLICATION_TAIL)

# Rows summed into total_handled (identity 2): every handling outcome (一)…(六).
HANDLING_ROWS_2019 = tuple(r.key for r in APPLICATIONS_2019.rows[2:-2])
HANDLING_ROWS_2021 = tuple(r.key for r in APPLICATIONS_2021.rows[2:-2])

# --- Section 四: appeals and lawsuits -------------------------------------------------------

OUTCOME_COLUMNS = (
    Column("upheld", "结果维持"),
    Column("corrected", "结果纠正"),
    Column("other", "其他结果"),
    Column("pending", "尚未审结"),
    Column("total", "总计"),
)
OUTCOME_PARTS = tuple(c.key for c in OUTCOME_COLUMNS[:-1])
REVIEW_LITIGATION = TableSpec(
    "review_litigation",
    "2019",  # identical in both versions
    (
        Row("review", "行政复议", OUTCOME_COLUMNS),
        Row("litigation_direct", "行政诉讼·未经复议直接起诉", OUTCOME_COLUMNS),
        Row("litigation_after_review", "行政诉讼·复议后起诉", OUTCOME_COLUMNS),
    ),
)

_SPECS = {
    ("proactive", "2019"): PROACTIVE_2019,
    ("proactive", "2021"): PROACTIVE_2021,
    ("applications", "2019"): APPLICATIONS_2019,
    ("applications", "2021"): APPLICATIONS_2021,
    ("review_litigation", "2019"): REVIEW_LITIGATION,
    ("review_litigation", "2021"): REVIEW_LITIGATION,
}


def spec(section: Section, version: Version) -> TableSpec:
    """The rows and columns of one section in one template version."""
    return _SPECS[(section, version)]


def handling_rows(version: Version) -> tuple[str, ...]:
    return HANDLING_ROWS_2019 if version == "2019" else HANDLING_ROWS_2021


# --- Label matching --------------------------------------------------------------------------

_BRACKETS = str.maketrans({"（": "(", "）": ")", "“": "", "”": "", '"': "", "、": ".", "．": "."})
_SPACE = re.compile(r"[\s\u3000\xa0]+")
_NUMBERING = re.compile(r"^(\(?[一二三四五六七八九十]+\)?\.?|\d+[.)])")


def compact(label: str) -> str:
    """A label without whitespace, with unified brackets and quotes, for matching."""
    return _SPACE.sub("", label).translate(_BRACKETS)


_LABEL_START = re.compile(r"^(\([一二三四五六七八九十]+\)|[一二三四五六七八九十]+\.|\d+\.)")


def starts_numbered(line: str) -> bool:
    """Row labels begin with their enumeration (三、 （五） 2.); a wrapped label's later lines do not."""
    return bool(_LABEL_START.match(compact(line)))


def strip_numbering(label: str) -> str:
    """ "(六)3.其他" -> "其他": drop the leading enumeration marks a row label carries."""
    text = compact(label)
    while True:
        stripped = _NUMBERING.sub("", text, count=1)
        if stripped == text:
            return text
        text = stripped


def match_application_row(label: str, previous: str | None = None) -> str | None:
    """The section-三 row a printed label names, or None.

    Sub-item keywords are tried before group words, so "（六）其他处理 1.逾期不补正" is the
    2021 sub-row, not the 2019 single row. A bare "3.其他" is only the 2021 other_misc row
    when it follows the other (六) sub-rows: elsewhere "其他" is just a column header.
    """
    text = compact(label)
    # The group heading sits in a merged cell; converters that repeat a merged cell on every
    # row it spans put it before each handling row's own label.
    head = compact("三、本年度办理结果")
    if text.startswith(head) and len(text) > len(head):
        text = text[len(head) :]
    if not text:
        return None
    for row in _APPLICATION_HEAD + _OTHER_2021[:2]:
        if any(k in text for k in row.keywords):
            return row.key
    if strip_numbering(text) == "其他" and previous in ("other_overdue_correction", "other_unpaid_fee"):
        return "other_misc"
    if "其他处理" in text:
        return "other_handling"
    if "总计" in text and "七" not in text and not any(k in text for k in ("结转下年", "继续办理")):
        return None  # a bare 总计 is the column header; the row is （七）总计
    for row in _APPLICATION_TAIL:
        if any(k in text for k in row.keywords):
            return row.key
    return None


def match_proactive_row(label: str) -> str | None:
    text = compact(label)
    for row in PROACTIVE_2019.rows:
        if any(k in text for k in row.keywords):
            return row.key
    return None


def proactive_version(header_text: str) -> Version | None:
    """Section 二's version from its printed column headers (never from the year)."""
    text = compact(header_text)
    hits = {v: sum(m in text for m in markers) for v, markers in PROACTIVE_VERSION_MARKERS.items()}
    if hits["2019"] == hits["2021"]:
        return None
    return "2019" if hits["2019"] > hits["2021"] else "2021"
