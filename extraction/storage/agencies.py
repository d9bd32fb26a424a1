"""One agency across years: a normalised key, and cross-year checks that follow the files.

The same office prints its name differently from one year to the next ("洪泽区人民政府" in 2023,
"淮安市洪泽区人民政府" in 2024), and crawled titles carry prefixes ("标题：…"). The key drops the
prefix, width and spacing differences and the higher-level regions in front of a county-level
unit, so both years land on "洪泽区人民政府". Two different districts with the same name in
different cities (鼓楼区 in 南京, 福州, 徐州) would share a key: `xxgk years` shows every
document under a key, so such a clash is visible rather than silent.

Identities 6-8 compare a report with the previous year's. The files may arrive in any order,
so filing one year re-checks the next year's report of the same agency.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import sqlite_utils

_PREFIX = re.compile(r"^(?:标题|title|发布机构|发布单位|来源|信息来源|机构|单位)\s*[:：]\s*", re.IGNORECASE)
_SPACE = re.compile(r"[\s\u3000\xa0#*]+")
# A leading province or prefecture-level region ("江苏省", "淮安市", "黔东南苗族侗族自治州").
_REGION = re.compile(r"^[\u4e00-\u9fff]{1,9}?(?:省|自治区|特别行政区|自治州|地区|盟|市)")
# What may follow it and still be one office: a county-level unit, itself named ("洪泽区…").
_COUNTY = re.compile(r"^[\u4e00-\u9fff]{1,7}?(?:区|县|旗|自治县|自治旗|市)")
_TRAILING_REPORT = re.compile(r"\d{4}\s*年.*$")


def key(agency: str | None) -> str | None:
    """The name two years of one agency share; None when no agency was read."""
    if not agency:
        return None
    name = unicodedata.normalize("NFKC", agency).strip()
    while True:
        stripped = _PREFIX.sub("", name)
        if stripped == name:
            break
        name = stripped
    name = _SPACE.sub("", name)
    name = _TRAILING_REPORT.sub("", name) or name  # "…人民政府2023年政府信息公开工作年度报告"
    while True:
        region = _REGION.match(name)
        if not region:
            break
        rest = name[region.end() :]
        # Strip only when a named unit follows: "淮安市人民政府" stays, it is the city itself.
        if not rest or not _COUNTY.match(rest) or _COUNTY.match(rest).end() == len(rest):  # type: ignore[union-attr]
            break
        name = rest
    return name or None


def documents_of(db: sqlite_utils.Database, agency_key: str) -> list[dict[str, Any]]:
    """Every document filed under an agency key (or under a name that normalises to it), by year."""
    wanted = key(agency_key) or agency_key
    return list(db["documents"].rows_where("agency_key = ?", [wanted], order_by="year, ingested_at"))


def previous_year_docs(db: sqlite_utils.Database, doc_id: str, agency: str | None, year: int | None) -> list[dict]:
    """The same agency's documents for the year before (matched by key, not by exact name)."""
    agency_key = key(agency)
    if not agency_key or not year:
        return []
    return list(
        db["documents"].rows_where(
            "agency_key = ? and year = ? and id != ?", [agency_key, year - 1, doc_id], order_by="rowid"
        )
    )


def next_year_docs(db: sqlite_utils.Database, doc_id: str) -> list[dict[str, Any]]:
    """The same agency's documents for the year after one just filed: their cross-year checks are stale."""
    doc = db["documents"].get(doc_id)
    if not doc["agency_key"] or not doc["year"]:
        return []
    return list(
        db["documents"].rows_where(
            "agency_key = ? and year = ? and id != ? and current_extraction is not null",
            [doc["agency_key"], doc["year"] + 1, doc_id],
        )
    )


def is_cross_year(check_id: str) -> bool:
    return "_vs_last_year." in check_id


def years(db: sqlite_utils.Database, agency: str) -> list[dict[str, Any]]:
    """An agency's reports year by year, with its cross-year checks (identities 6-8) as they stand now.

    `agency` is matched by normalised key first, then as part of the printed name.
    """
    wanted = key(agency) or agency
    rows = list(db.query("select * from agency_years where agency_key = ? order by year", [wanted]))
    if not rows:
        rows = list(
            db.query("select * from agency_years where agency like ? order by agency_key, year", [f"%{agency}%"])
        )
    for row in rows:
        found = db.query(
            "select check_id, status, message from current_findings where doc_id = ? and check_id like ? order by id",
            [row["doc_id"], "%_vs_last_year.%"],
        )
        row["cross_year"] = [dict(f) for f in found]
    return rows
