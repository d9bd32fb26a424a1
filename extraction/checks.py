"""The identities (勾稽关系) of the template, run on any extraction.

Hard checks (1-5) decide acceptance: a table that fails one cannot be right as extracted, or
its source is itself inconsistent, and a person must look. Soft checks (6-9) are signals for
the reviewer, never proof. Arithmetic treats a blank as 0 but never writes one: a result that
only balances because blanks count as 0 is "uncertain", and a blank total whose parts are not
zero is its own finding ("total missing, parts sum to N") that a reviewer can confirm at once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal

from extraction import template
from extraction.schema import Finding, Report, Table, Value

_COLUMN_LABEL = {c.key: c.label for c in template.APPLICANT_COLUMNS}
_GROUP_LABEL = {r.key: r.label for r in template.REVIEW_LITIGATION.rows}


def _show(value: Value) -> str:
    return "空" if value is None else str(value)


def _sum(values: Sequence[Value]) -> int | Decimal:
    return sum((v for v in values if v is not None), 0)


def _sum_check(
    check_id: str,
    formula: str,
    table: Table,
    total: tuple[str, str],
    parts: Sequence[tuple[str, str]],
    part_names: Sequence[str],
    total_name: str,
) -> Finding:
    """total == sum(parts), with the blank-total case kept apart."""
    total_value = table.value(*total)
    part_values = [table.value(*p) for p in parts]
    parts_sum = _sum(part_values)
    cells = [(table.section, *total)] + [(table.section, *p) for p in parts]
    printed = [f"{n}={_show(v)}" for n, v in zip(part_names, part_values, strict=True) if v is not None]
    summed = f"{' + '.join(printed) or '全部为空'} = {parts_sum}"
    if total_value is None and parts_sum != 0:
        return Finding(
            id=f"{check_id}.blank_total",
            severity="hard",
            status="fail",
            formula=formula,
            message=f"{total_name} is blank but its parts sum to {parts_sum} ({summed})",
            left=None,
            right=parts_sum,
            difference=parts_sum,
            cells=cells,
            suggestion=parts_sum,
        )
    left = total_value if total_value is not None else 0
    difference = left - parts_sum
    blanks = total_value is None or any(v is None for v in part_values)
    status = "fail" if difference != 0 else ("uncertain" if blanks else "pass")
    message = f"{total_name} = {_show(total_value)}, {summed}"
    if difference:
        message += f", off by {difference}"
    return Finding(
        id=check_id,
        severity="hard",
        status=status,
        formula=formula,
        message=message,
        left=total_value,
        right=parts_sum,
        difference=difference,
        cells=cells,
    )


def _applications(table: Table) -> list[Finding]:
    out = []
    handling = template.handling_rows(table.version)
    for column in template.APPLICANT_COLUMNS:
        c = column.key
        values = {r: table.value(r, c) for r in ("new_received", "carried_over", "total_handled", "carried_forward")}
        left = _sum([values["new_received"], values["carried_over"]])
        right = _sum([values["total_handled"], values["carried_forward"]])
        blanks = any(v is None for v in values.values())
        difference = left - right
        status = "fail" if difference else ("uncertain" if blanks else "pass")
        message = (
            f"{column.label}: 一+二 = {_show(values['new_received'])}+{_show(values['carried_over'])} = {left}, "
            f"三(七)+四 = {_show(values['total_handled'])}+{_show(values['carried_forward'])} = {right}"
        )
        out.append(
            Finding(
                id=f"applications.balance.{c}",
                severity="hard",
                status=status,
                formula=f"{column.label}列：一、本年新收 + 二、上年结转 = 三(七)总计 + 四、结转下年度",
                message=message + (f", off by {difference}" if difference else ""),
                left=left,
                right=right,
                difference=difference,
                cells=[("applications", r, c) for r in values],
            )
        )
        out.append(
            _sum_check(
                f"applications.handled_sum.{c}",
                f"{column.label}列：(七)总计 = (一)至(六)各项之和",
                table,
                ("total_handled", c),
                [(r, c) for r in handling],
                [_row_name(table, r) for r in handling],
                f"{column.label}(七)总计",
            )
        )
    for row in template.spec("applications", table.version).rows:
        out.append(
            _sum_check(
                f"applications.row_sum.{row.key}",
                f"{row.name}行：总计 = 自然人 + 商业企业 + 科研机构 + 社会公益组织 + 法律服务机构 + 其他",
                table,
                (row.key, "total"),
                [(row.key, p) for p in template.APPLICANT_PARTS],
                [_COLUMN_LABEL[p] for p in template.APPLICANT_PARTS],
                f"{row.name}行总计",
            )
        )
    return out


def _row_name(table: Table, row: str) -> str:
    """A short printable name for a row: "（三）不予公开 1.属于国家秘密" -> "(三)1.国家秘密"."""
    return template.spec(table.section, table.version).row(row).name


def _review_litigation(table: Table) -> list[Finding]:
    return [
        _sum_check(
            f"review_litigation.sum.{group.key}",
            f"{group.label}：总计 = 结果维持 + 结果纠正 + 其他结果 + 尚未审结",
            table,
            (group.key, "total"),
            [(group.key, p) for p in template.OUTCOME_PARTS],
            [c.label for c in template.OUTCOME_COLUMNS[:-1]],
            f"{group.label}总计",
        )
        for group in template.REVIEW_LITIGATION.rows
    ]


def _non_negative(table: Table) -> list[Finding]:
    """Identity 5: counts are non-negative integers, money a non-negative amount."""
    out = []
    for row in template.spec(table.section, table.version).rows:
        for column in row.columns:
            value = table.value(row.key, column.key)
            if column.kind == "change" or value is None:
                continue
            wrong = value < 0 or (column.kind == "count" and not isinstance(value, int))
            if wrong:
                out.append(
                    Finding(
                        id=f"{table.section}.non_negative.{row.key}.{column.key}",
                        severity="hard",
                        status="fail",
                        formula=f"{column.label} is a non-negative {'amount' if column.kind == 'money' else 'integer'}",
                        message=f"{row.label} {column.label} = {value}",
                        left=value,
                        cells=[(table.section, row.key, column.key)],
                    )
                )
    if not out:
        out.append(
            Finding(
                id=f"{table.section}.non_negative",
                severity="hard",
                status="pass",
                formula="every count is a non-negative integer, every amount non-negative",
                message="all values are in range",
            )
        )
    return out


def hard_checks(table: Table) -> list[Finding]:
    """Identities 1-5 on one table."""
    out = _non_negative(table)
    if table.section == "applications":
        out = _applications(table) + out
    elif table.section == "review_litigation":
        out = _review_litigation(table) + out
    return out


def run(report: Report, previous: Report | None = None, prose: str | None = None) -> list[Finding]:
    """Every check on a report: the hard identities, and the soft ones whose inputs exist.

    `previous` is the same agency's report for the year before (identities 6-8); `prose` is the
    report text outside the tables (identity 9).
    """
    findings = [f for table in report.tables() for f in hard_checks(table)]
    if previous is not None:
        findings += _cross_year(report, previous)
    if prose is not None and report.applications is not None:
        findings += _prose_restatement(report.applications, prose)
    return findings


def _soft(check_id: str, formula: str, left: Value, right: Value, cells: list[tuple[str, str, str]]) -> Finding:
    blank = left is None or right is None
    difference = None if blank else left - right
    status = "uncertain" if blank else ("pass" if difference == 0 else "fail")
    return Finding(
        id=check_id,
        severity="soft",
        status=status,
        formula=formula,
        message=f"{_show(left)} vs {_show(right)}" + (f", off by {difference}" if difference else ""),
        left=left,
        right=right,
        difference=difference,
        cells=cells,
    )


def _cross_year(report: Report, previous: Report) -> list[Finding]:
    out = []
    now, before = report.applications, previous.applications
    if now is not None and before is not None:
        for column in template.APPLICANT_COLUMNS:
            out.append(
                _soft(
                    f"applications.carried_over_vs_last_year.{column.key}",
                    f"{column.label}：本年“上年结转” = 上一年报告“结转下年度继续办理”",
                    now.value("carried_over", column.key),
                    before.value("carried_forward", column.key),
                    [("applications", "carried_over", column.key)],
                )
            )
    now, before = report.proactive, previous.proactive
    if now is None or before is None:
        return out
    if now.version == before.version == "2021":
        for row in ("regulations", "normative_documents"):
            expected = None
            parts = [before.value(row, "in_force"), now.value(row, "issued"), now.value(row, "repealed")]
            if None not in parts:
                expected = parts[0] + parts[1] - parts[2]
            out.append(
                _soft(
                    f"proactive.in_force_vs_last_year.{row}",
                    "现行有效件数 = 上年现行有效 + 本年制发 − 本年废止（自然失效、重新清理会打破）",
                    now.value(row, "in_force"),
                    expected,
                    [("proactive", row, "in_force")],
                )
            )
    if now.version == before.version == "2019":
        for row in ("licensing", "other_services", "penalty", "coercion", "fees"):
            parts = [before.value(row, "prior_items"), before.value(row, "change")]
            expected = None if None in parts else parts[0] + parts[1]
            out.append(
                _soft(
                    f"proactive.prior_items_vs_last_year.{row}",
                    "上一年项目数量 = 上年报告的上一年项目数量 + 上年增/减",
                    now.value(row, "prior_items"),
                    expected,
                    [("proactive", row, "prior_items")],
                )
            )
    return out


# "共收到政府信息公开申请4件", "收到依申请公开4件"; "未收到…申请" means none.
_RECEIVED = re.compile(r"(?:共|累计|全年)?(?:收到|受理|新收)[^，。；,;\d]{0,14}?申请\s*(\d+)\s*件")
_NONE_RECEIVED = re.compile(r"未(?:收到|受理)[^，。；,;\d]{0,10}申请")


def _prose_restatement(table: Table, prose: str) -> list[Finding]:
    """Identity 9: the first count of received requests the prose states, against row 一's total."""
    match = _RECEIVED.search(prose)
    if match:
        stated: Value = int(match.group(1))
    elif _NONE_RECEIVED.search(prose):
        stated = 0
    else:
        return []
    return [
        _soft(
            "applications.prose_restates_new_received",
            "正文所述收到申请数 = 表三 一、本年新收 总计（措辞多样，可能误配）",
            table.value("new_received", "total"),
            stated,
            [("applications", "new_received", "total")],
        )
    ]


def family(check_id: str) -> str:
    """The identity a finding belongs to, without its row or column.

    applications.balance.natural_person -> applications.balance;
    applications.row_sum.granted.blank_total -> applications.row_sum.blank_total.
    """
    parts = check_id.split(".")
    return ".".join(parts[:2] + (["blank_total"] if parts[-1] == "blank_total" else []))


def accepted(findings: Sequence[Finding]) -> bool:
    """A result is accepted when no hard check fails."""
    return not any(f.blocks_acceptance for f in findings)
