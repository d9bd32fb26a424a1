"""Identities 1-9 on hand-built tables: passing, failing, uncertain, blank totals."""

from hypothesis import given
from hypothesis import strategies as st

from extraction import checks
from extraction.schema import Report, Table
from extraction.template import APPLICANT_PARTS


def grid(section: str, version: str, columns: list[str], rows: dict[str, list]) -> Table:
    """A table from rows of values in column order (None = blank)."""
    return Table.from_values(section, version, {r: dict(zip(columns, v, strict=True)) for r, v in rows.items()})


def applications(rows: dict[str, list], version: str = "2019") -> Table:
    """A section-三 table from rows of 7 values (None = blank)."""
    return grid("applications", version, [*APPLICANT_PARTS, "total"], rows)


def balanced() -> Table:
    return applications(
        {
            "new_received": [4, 0, 3, 1, 0, 0, 8],
            "carried_over": [1, 0, 0, 0, 0, 0, 1],
            "granted": [2, 0, 3, 1, 0, 0, 6],
            "not_processed_duplicate": [2, 0, 0, 0, 0, 0, 2],
            "total_handled": [4, 0, 3, 1, 0, 0, 8],
            "carried_forward": [1, 0, 0, 0, 0, 0, 1],
        }
    )


def by_id(findings):
    return {f.id: f for f in findings}


def test_balanced_table_passes_every_hard_identity():
    findings = checks.hard_checks(balanced())
    failing = [f for f in findings if f.status == "fail"]
    assert failing == []
    assert by_id(findings)["applications.balance.natural_person"].status == "pass"  # its four rows are printed
    assert by_id(findings)["applications.handled_sum.natural_person"].status == "uncertain"  # blank handling rows
    assert checks.accepted(findings)


def test_identity_1_fails_with_both_sides_and_the_difference():
    table = balanced()
    table.set(
        "carried_forward", "total", table.cell("carried_forward", "natural_person").model_copy(update={"value": 3})
    )
    finding = by_id(checks.hard_checks(table))["applications.balance.total"]
    assert finding.status == "fail" and finding.severity == "hard"
    assert (finding.left, finding.right, finding.difference) == (9, 11, -2)
    assert ("applications", "carried_forward", "total") in finding.cells
    assert "off by -2" in finding.message


def test_identity_2_total_handled_is_the_sum_of_handling_rows():
    table = balanced()
    table.set("granted", "research", table.cell("granted", "research").model_copy(update={"value": 5}))
    found = by_id(checks.hard_checks(table))
    assert found["applications.handled_sum.research"].status == "fail"
    assert found["applications.handled_sum.research"].difference == -2
    assert found["applications.row_sum.granted"].status == "fail"  # identity 3 catches it too


def test_identity_3_row_total_is_the_sum_of_applicant_columns():
    table = balanced()
    table.set("new_received", "total", table.cell("new_received", "total").model_copy(update={"value": 9}))
    finding = by_id(checks.hard_checks(table))["applications.row_sum.new_received"]
    assert finding.status == "fail" and finding.difference == 1


def test_identity_3_passes_only_when_nothing_is_blank():
    found = by_id(checks.hard_checks(balanced()))
    assert found["applications.row_sum.new_received"].status == "pass"
    assert found["applications.row_sum.partially_granted"].status == "uncertain"  # an all-blank row


def test_blank_total_with_nonzero_parts_is_its_own_finding_with_the_sum():
    table = applications({"new_received": [3, None, None, None, None, 1, None]})
    found = by_id(checks.hard_checks(table))
    finding = found["applications.row_sum.new_received.blank_total"]
    assert finding.status == "fail" and finding.suggestion == 4 and finding.left is None
    assert finding.cells[0] == ("applications", "new_received", "total")
    assert "applications.row_sum.new_received" not in found


def test_blank_total_with_zero_parts_is_uncertain_not_failed():
    table = applications({"new_received": [0, None, None, None, None, None, None]})
    assert by_id(checks.hard_checks(table))["applications.row_sum.new_received"].status == "uncertain"


def test_identity_2_uses_the_2021_split_other_rows():
    table = applications(
        {
            "new_received": [2, 0, 0, 0, 0, 0, 2],
            "carried_over": [0, 0, 0, 0, 0, 0, 0],
            "other_overdue_correction": [1, 0, 0, 0, 0, 0, 1],
            "other_misc": [1, 0, 0, 0, 0, 0, 1],
            "total_handled": [2, 0, 0, 0, 0, 0, 2],
            "carried_forward": [0, 0, 0, 0, 0, 0, 0],
        },
        version="2021",
    )
    finding = by_id(checks.hard_checks(table))["applications.handled_sum.total"]
    assert (finding.status, finding.right) == ("uncertain", 2)  # the blank rows count as 0, (六)1 and 3 as 1 each
    table.set("other_misc", "total", table.cell("other_misc", "natural_person").model_copy(update={"value": 2}))
    assert by_id(checks.hard_checks(table))["applications.handled_sum.total"].status == "fail"


def review(groups: dict[str, list]) -> Table:
    return grid("review_litigation", "2021", ["upheld", "corrected", "other", "pending", "total"], groups)


def test_identity_4_each_group_total():
    found = by_id(checks.hard_checks(review({"review": [1, 0, 0, 0, 1], "litigation_direct": [1, 1, 0, 0, 3]})))
    assert found["review_litigation.sum.review"].status == "pass"
    assert found["review_litigation.sum.litigation_direct"].status == "fail"
    assert found["review_litigation.sum.litigation_direct"].difference == 1
    assert found["review_litigation.sum.litigation_after_review"].status == "uncertain"


def test_identity_5_negative_counts_and_money_fail_but_changes_may_be_negative():
    table = Table.from_values(
        "proactive", "2019", {"penalty": {"prior_items": -1, "change": -3}, "procurement": {"amount_wan_yuan": -2}}
    )
    failing = {f.id for f in checks.hard_checks(table) if f.status == "fail"}
    assert failing == {
        "proactive.non_negative.penalty.prior_items",
        "proactive.non_negative.procurement.amount_wan_yuan",
    }


def test_identity_6_carried_over_against_last_years_carried_forward():
    last = Report(applications=applications({"carried_forward": [1, 0, 0, 0, 0, 0, 1]}))
    now = Report(applications=applications({"carried_over": [2, 0, 0, 0, 0, 0, 2]}))
    found = by_id(checks.run(now, previous=last))
    assert found["applications.carried_over_vs_last_year.total"].status == "fail"
    assert found["applications.carried_over_vs_last_year.total"].severity == "soft"
    assert found["applications.carried_over_vs_last_year.commercial"].status == "pass"


def test_identity_7_in_force_follows_issued_and_repealed():
    last = Report(proactive=Table.from_values("proactive", "2021", {"regulations": {"in_force": 10}}))
    now = Report(
        proactive=Table.from_values("proactive", "2021", {"regulations": {"issued": 2, "repealed": 1, "in_force": 11}})
    )
    assert by_id(checks.run(now, previous=last))["proactive.in_force_vs_last_year.regulations"].status == "pass"
    now.proactive.set(
        "regulations", "in_force", now.proactive.cell("regulations", "issued").model_copy(update={"value": 12})
    )
    assert by_id(checks.run(now, previous=last))["proactive.in_force_vs_last_year.regulations"].status == "fail"


def test_identity_8_prior_items_follow_last_years_change():
    last = Report(proactive=Table.from_values("proactive", "2019", {"licensing": {"prior_items": 10, "change": 1}}))
    now = Report(proactive=Table.from_values("proactive", "2019", {"licensing": {"prior_items": 11}}))
    assert by_id(checks.run(now, previous=last))["proactive.prior_items_vs_last_year.licensing"].status == "pass"


def test_identity_9_prose_restating_received_requests():
    report = Report(applications=applications({"new_received": [3, None, None, None, None, 1, 4]}))
    assert (
        by_id(checks.run(report, prose="2021年，我局共收到政府信息公开申请4件"))[
            "applications.prose_restates_new_received"
        ].status
        == "pass"
    )
    assert (
        by_id(checks.run(report, prose="我局共收到政府信息公开申请5件"))[
            "applications.prose_restates_new_received"
        ].status
        == "fail"
    )
    assert (
        by_id(checks.run(report, prose="2019年，我局未收到政府信息公开申请"))[
            "applications.prose_restates_new_received"
        ].right
        == 0
    )


def test_soft_failures_never_block_acceptance():
    report = Report(applications=balanced())
    findings = checks.run(report, prose="共收到政府信息公开申请99件")
    assert any(f.status == "fail" and f.severity == "soft" for f in findings)
    assert checks.accepted(findings)


def test_family_groups_a_check_by_identity():
    assert checks.family("applications.balance.natural_person") == "applications.balance"
    assert checks.family("applications.row_sum.granted.blank_total") == "applications.row_sum.blank_total"


@given(st.lists(st.one_of(st.none(), st.integers(-5, 50)), min_size=60, max_size=60))
def test_the_parsers_quick_failure_test_agrees_with_evaluate(numbers):
    """`fails` is the layout parser's fast copy of `evaluate`'s verdict: they must never differ."""
    for equation in checks.equations("applications", "2021") + checks.equations("review_litigation", "2019"):
        keys = equation.left + equation.right
        values = dict(zip(keys, numbers, strict=False))
        verdict = checks.evaluate(equation, lambda r, c, v=values: v.get((r, c))).status == "fail"
        assert checks.fails(equation, values) == verdict
