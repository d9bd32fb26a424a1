"""The identities (勾稽关系) of the template, run on any extraction.

Hard checks (1-5) decide acceptance: a table that fails one cannot be right as extracted, or
its source is itself inconsistent, and a person must look. Soft checks (6-9) are signals for
the reviewer, never proof. Arithmetic treats a blank as 0 but never writes one: a result that
only balances because blanks count as 0 is "uncertain", and a blank total whose parts are not
zero is its own finding ("total missing, parts sum to N") that a reviewer can confirm at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, cached_property

from extraction import template
from extraction.read.readout import Doubt
from extraction.schema import Finding, Report, Status, Table, Value
from extraction.template import Section, Version

Key = tuple[str, str]  # (row, column)


@dataclass(frozen=True)
class Equation:
    """One hard identity: sum(left) == sum(right), blanks counted as 0.

    A sum identity has a single total on the left; when that total is blank but its parts are
    not zero, the outcome is the "blank total" finding rather than a plain failure.
    """

    id: str
    formula: str
    left: tuple[Key, ...]
    right: tuple[Key, ...]
    left_names: tuple[str, ...]
    right_names: tuple[str, ...]

    def names(self, key: Key, value: Callable[[Key], object]) -> int | None:
        """The value this identity leaves `key` when every other cell holds what `value` gives
        (blank: 0): the total less the other parts, or the parts less the other totals. None
        when another cell holds no whole number (a decimal, unreadable text): it names nothing."""
        others = [k for k in self.left + self.right if k != key]
        if any(not isinstance(v := value(k), int) and v is not None for k in others):
            return None
        total = sum(v for k in self.left if k != key and isinstance(v := value(k), int))
        parts = sum(v for k in self.right if k != key and isinstance(v := value(k), int))
        return parts - total if key in self.left else total - parts

    @cached_property
    def rows(self) -> frozenset[str]:
        """The table rows this identity reads (kept: searches ask it of every row they try)."""
        return frozenset(row for row, _ in self.left + self.right)

    @property
    def is_sum(self) -> bool:
        return len(self.left) == 1


@dataclass(frozen=True)
class Outcome:
    status: Status
    left: int | Decimal
    right: int | Decimal
    blank_total: bool


def _sum(values: Sequence[Value]) -> int | Decimal:
    return sum((v for v in values if v is not None), 0)


def evaluate(equation: Equation, value: Callable[[str, str], Value]) -> Outcome:
    left_values = [value(*k) for k in equation.left]
    right_values = [value(*k) for k in equation.right]
    left, right = _sum(left_values), _sum(right_values)
    if equation.is_sum and left_values[0] is None and right != 0:
        return Outcome("fail", left, right, blank_total=True)
    blanks = None in left_values or None in right_values
    status: Status = "fail" if left != right else ("uncertain" if blanks else "pass")
    return Outcome(status, left, right, blank_total=False)


def fails(equation: Equation, values: Mapping[Key, Value]) -> bool:
    """`evaluate(...).status == "fail"` over a dict of values, without the outcome: readings are
    weighed by the thousand, so this is the layout parser's inner loop."""
    get = values.get
    right = sum(v for k in equation.right if (v := get(k)) is not None)
    if len(equation.left) == 1:
        total = get(equation.left[0])
        return right != 0 if total is None else total != right
    return sum(v for k in equation.left if (v := get(k)) is not None) != right


@cache
def equations(section: Section, version: Version) -> tuple[Equation, ...]:
    """Identities 1-4 for one section and template version (section 二 has none)."""
    if section == "applications":
        return _application_equations(version)
    if section == "review_litigation":
        return tuple(
            _row_total(f"review_litigation.sum.{group.key}", group.key, group.label, template.OUTCOME_COLUMNS)
            for group in template.REVIEW_LITIGATION.rows
        )
    return ()


def _row_total(check_id: str, row: str, name: str, columns: tuple[template.Column, ...]) -> Equation:
    """A row whose last column, 总计, is the sum of the others (identities 3 and 4)."""
    parts = columns[:-1]
    return Equation(
        check_id,
        f"{name}：总计 = {' + '.join(c.label for c in parts)}",
        ((row, "total"),),
        tuple((row, c.key) for c in parts),
        (f"{name}总计",),
        tuple(c.label for c in parts),
    )


def _application_equations(version: Version) -> tuple[Equation, ...]:
    spec = template.spec("applications", version)
    handling = template.handling_rows(version)
    out = []
    for column in template.APPLICANT_COLUMNS:
        c, label = column.key, column.label
        out.append(
            Equation(
                f"applications.balance.{c}",
                f"{label}列：一、本年新收 + 二、上年结转 = 三(七)总计 + 四、结转下年度",
                (("new_received", c), ("carried_over", c)),
                (("total_handled", c), ("carried_forward", c)),
                ("一", "二"),
                ("三(七)", "四"),
            )
        )
        out.append(
            Equation(
                f"applications.handled_sum.{c}",
                f"{label}列：(七)总计 = (一)至(六)各项之和",
                (("total_handled", c),),
                tuple((r, c) for r in handling),
                (f"{label}(七)总计",),
                tuple(spec.row(r).name for r in handling),
            )
        )
    for row in spec.rows:
        out.append(_row_total(f"applications.row_sum.{row.key}", row.key, f"{row.name}行", template.APPLICANT_COLUMNS))
    return tuple(out)


def count_failures(section: Section, version: Version, values: Mapping[Key, Value]) -> int:
    """How many hard identities fail: the cheap score the layout parser ranks readings by."""
    return sum(fails(eq, values) for eq in equations(section, version))


def _show(value: Value) -> str:
    return "空" if value is None else str(value)


def _finding(equation: Equation, table: Table) -> Finding:
    values = {k: table.value(*k) for k in equation.left + equation.right}  # each cell read once
    outcome = evaluate(equation, lambda row, column: values[(row, column)])
    cells = [(table.section, *k) for k in equation.left + equation.right]

    def side(keys: tuple[Key, ...], names: tuple[str, ...], total: int | Decimal) -> str:
        # Short sides show every operand (三(七)=空 matters); long sums only the printed ones.
        every = len(keys) <= 2
        shown = [(n, values[k]) for k, n in zip(keys, names, strict=True)]
        printed = [f"{n}={_show(v)}" for n, v in shown if every or v is not None]
        return f"{' + '.join(printed) or '全部为空'} = {total}"

    if outcome.blank_total:
        return Finding(
            id=f"{equation.id}.blank_total",
            severity="hard",
            status="fail",
            formula=equation.formula,
            message=f"{equation.left_names[0]} is blank but its parts sum to {outcome.right} "
            f"({side(equation.right, equation.right_names, outcome.right)})",
            right=outcome.right,
            difference=outcome.right,
            cells=cells,
            suggestion=outcome.right,
        )
    difference = outcome.left - outcome.right
    if equation.is_sum:
        left_text = f"{equation.left_names[0]} = {_show(values[equation.left[0]])}"
    else:
        left_text = f"{equation.formula.split('：')[0]}: {side(equation.left, equation.left_names, outcome.left)}"
    message = f"{left_text}; {side(equation.right, equation.right_names, outcome.right)}"
    return Finding(
        id=equation.id,
        severity="hard",
        status=outcome.status,
        formula=equation.formula,
        message=message + (f"; off by {difference}" if difference else ""),
        left=values[equation.left[0]] if equation.is_sum else outcome.left,
        right=outcome.right,
        difference=difference,
        cells=cells,
    )


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
                    Finding.blocking(
                        f"{table.section}.non_negative.{row.key}.{column.key}",
                        f"{column.label} is a non-negative {'amount' if column.kind == 'money' else 'integer'}",
                        f"{row.label} {column.label} = {value}",
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
    return [_finding(eq, table) for eq in equations(table.section, table.version)] + _non_negative(table)


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


def doubtful_cells(report: Report, doubts: Sequence[Doubt]) -> list[Finding]:
    """A value read from a stretch OCR was unsure of waits for a person, unless the identities
    chose it as the only one of its readings under which they balance (read.balance): then they
    check it, and the doubt is shown, not blocking. Section 二 has no identity: its doubts wait."""
    out = []
    for table in report.tables():
        spec = template.spec(table.section, table.version)
        checked = {k for e in equations(table.section, table.version) for k in e.left + e.right}
        for row in spec.rows:
            for column in row.columns:
                span = table.cell(row.key, column.key).span
                doubt = next((d for d in doubts if span and d.start < span[1] and span[0] < d.end), None)
                if doubt is None:
                    continue
                finding = Finding.blocking(
                    f"{table.section}.ocr_confidence.{row.key}.{column.key}",
                    "a value OCR read with low confidence is confirmed against the page image",
                    f"{row.label} {column.label}: OCR read {doubt.read!r} on page {doubt.page + 1} "
                    f"with confidence {doubt.confidence:.2f}",
                    left=table.value(row.key, column.key),
                    cells=[(table.section, row.key, column.key)],
                )
                if doubt.resolved and (row.key, column.key) in checked:
                    finding = finding.model_copy(update={"severity": "soft", "status": "uncertain"})
                out.append(finding)
    return out


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
