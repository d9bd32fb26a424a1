"""Grounding a model's table row by row against the values printed after each row's label."""

from decimal import Decimal

from extraction import template
from extraction.model import grounding
from extraction.schema import Table
from extraction.tables import sections

# A crawled page body on one line: cells run together or single-space separated.
ONE_LINE = (
    "三、收到和处理政府信息公开申请情况 （本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和） "
    "申请人情况 自然人 法人或其他组织 总计 商业企业 科研机构 社会公益组织 法律服务机构 其他 "
    "一、本年新收政府信息公开申请数量 230 000023二、上年结转政府信息公开申请数量 000000 0"
    "三、本年度办理结果 （一）予以公开 2000002（二）部分公开（区分处理的，只计这一情形，不计其他情形） 0000000"
    "（七）总计 230 000023四、结转下年度继续办理 000000 0 "
    "四、政府信息公开行政复议、行政诉讼情况 结果维持 结果纠正 其他结果 尚未审结 总计 100010000000101"
)
SPANS = sections.locate(ONE_LINE)


def table(rows):
    values = {}
    for key, cells in rows.items():
        values[key] = dict(
            zip(
                ("natural_person", "commercial", "research", "social_welfare", "legal_service", "other_org", "total"),
                cells,
                strict=True,
            )
        )
    return Table.from_values("applications", "2021", values)


def findings(rows):
    span = SPANS["applications"]
    return grounding.grounding(table(rows), ONE_LINE, span.start, span.end)


GOOD = {
    "new_received": [23, 0, 0, 0, 0, 0, 23],
    "carried_over": [0, 0, 0, 0, 0, 0, 0],
    "granted": [2, 0, 0, 0, 0, 0, 2],
    "partially_granted": [0, 0, 0, 0, 0, 0, 0],
    "total_handled": [23, 0, 0, 0, 0, 0, 23],
    "carried_forward": [0, 0, 0, 0, 0, 0, 0],
}


def rows_named(found):
    return {f.id.rsplit(".", 1)[1] for f in found}


def test_cells_that_reproduce_the_rows_run_together_digits_are_grounded():
    # "230 000023" is 23 0 then 0 0 0 0 23: a printed value may hold several cells, never part of two.
    assert findings(GOOD) == []
    split_across = dict(GOOD, new_received=[2, 300, 0, 0, 0, 2, 3])  # the same digits, 300 across two values
    assert rows_named(findings(split_across)) == {"new_received"}


def test_a_count_not_printed_after_its_own_label_is_not_grounded():
    wrong = dict(GOOD, granted=[3, 0, 0, 0, 0, 0, 3])  # 3 is printed in the section, not in this row
    assert rows_named(findings(wrong)) == {"granted"}


def test_a_row_copied_from_its_neighbour_or_two_rows_swapped_are_not_grounded():
    copied = dict(GOOD, partially_granted=GOOD["granted"])
    swapped = dict(GOOD, granted=GOOD["partially_granted"], partially_granted=GOOD["granted"])
    assert rows_named(findings(copied)) == {"partially_granted"}
    assert rows_named(findings(swapped)) == {"granted", "partially_granted"}


def test_a_value_where_the_row_prints_none_is_not_grounded():
    # 3.其他 is printed with no values: a model filling it in (a total, zeros) is not reading the page.
    text = ONE_LINE.replace("（七）总计", "（六）其他处理 3.其他 （七）总计")
    span = sections.locate(text)["applications"]
    filled = dict(GOOD, other_misc=[None, None, None, None, None, None, 0])
    blank = dict(GOOD, other_misc=[None] * 7)
    assert "other_misc" in rows_named(grounding.grounding(table(filled), text, span.start, span.end))
    assert "other_misc" not in rows_named(grounding.grounding(table(blank), text, span.start, span.end))


def test_section_four_printed_as_one_run_is_grounded_cell_by_cell():
    span = SPANS["review_litigation"]
    good = Table.from_values(
        "review_litigation",
        "2021",
        {
            "review": dict(upheld=1, corrected=0, other=0, pending=0, total=1),
            "litigation_direct": dict(upheld=0, corrected=0, other=0, pending=0, total=0),
            "litigation_after_review": dict(upheld=0, corrected=0, other=1, pending=0, total=1),
        },
    )
    assert grounding.grounding(good, ONE_LINE, span.start, span.end) == []
    other = good.model_copy(deep=True)
    other.set("review", "upheld", other.cell("litigation_after_review", "other"))
    other.set("litigation_after_review", "other", other.cell("review", "corrected"))
    assert grounding.grounding(other, ONE_LINE, span.start, span.end)


def test_amounts_are_compared_by_their_digits_whatever_the_unit():
    # 3773631元 is 377.3631 万元; 2059.2090 and 2059.209 are one amount.
    assert grounding.reproduces(["39", grounding.digits_of("377.3631")], ["39", grounding.digits_of("3773631元")])
    assert grounding.digits_of("82059.2090万元") == "8" + grounding.digits_of(str(Decimal("2059.209")))


def test_coverage_reads_a_postcode_followed_by_a_comma_without_failing():
    text = ONE_LINE.replace("申请人情况", "地址：平潭县 邮编350400, 电话 申请人情况")
    span = sections.locate(text)["applications"]
    assert grounding.coverage(table(GOOD), text, span.start, span.end) == []


def test_coverage_catches_an_all_zero_answer():
    span = SPANS["applications"]
    zeros = {key: [0] * 7 for key in GOOD}
    assert grounding.coverage(table(zeros), ONE_LINE, span.start, span.end)[0].blocks_acceptance


# --- Rows printed without their label (a PDF converted to Markdown) -------------------------

COLUMNS = ("natural_person", "commercial", "research", "social_welfare", "legal_service", "other_org", "total")
TEMPLATE_ROWS = template.spec("applications", "2021").rows
UNLABELLED = {"not_processed_confirmation", "other_overdue_correction"}
DISTINCT = {r.key: [n, 0, 0, 0, 0, 0, n] for n, r in enumerate(TEMPLATE_ROWS, start=1)}


def markdown_three(values, unlabelled=UNLABELLED, extra=""):
    """Section 三 as a Markdown table whose `unlabelled` rows lost their label cell."""
    lines = [
        "三、收到和处理政府信息公开申请情况",
        "| 申请人情况 | 自然人 | 商业企业 | 科研机构 | 社会公益组织 | 法律服务机构 | 其他 | 总计 |",
    ]
    for row in TEMPLATE_ROWS:
        cells = " | ".join(str(v) for v in values[row.key])
        lines.append(f"| {cells} |" if row.key in unlabelled else f"| {row.label} | {cells} |")
        if row.key == "not_processed_mass_requests" and extra:
            lines.append(extra)
    return "\n".join([*lines, "", "四、政府信息公开行政复议、行政诉讼情况", "| 0 | 0 | 0 | 0 | 0 |"])


def ungrounded(text, values):
    span = sections.locate(text)["applications"]
    found = grounding.grounding(
        Table.from_values("applications", "2021", {k: dict(zip(COLUMNS, v, strict=True)) for k, v in values.items()}),
        text,
        span.start,
        span.end,
    )
    return rows_named(found)


def test_rows_printed_without_their_label_are_grounded_by_their_place_between_named_rows():
    assert ungrounded(markdown_three(DISTINCT), DISTINCT) == set()


def test_a_row_copied_or_swapped_into_an_unlabelled_place_is_not_grounded():
    text = markdown_three(DISTINCT)
    copied = dict(DISTINCT, not_processed_confirmation=DISTINCT["not_processed_mass_requests"])
    assert ungrounded(text, copied) == {"not_processed_confirmation"}
    swapped = dict(
        DISTINCT,
        not_processed_confirmation=DISTINCT["other_overdue_correction"],
        other_overdue_correction=DISTINCT["not_processed_confirmation"],
    )
    assert ungrounded(text, swapped) == {"not_processed_confirmation", "other_overdue_correction"}


def test_unlabelled_values_are_placed_only_when_exactly_as_many_as_the_rows_between():
    one_more = markdown_three(DISTINCT, extra="| 9 |")  # a stray value: which row it belongs to is not known
    assert ungrounded(one_more, DISTINCT) >= {"not_processed_confirmation", "other_overdue_correction"}
    only_one_lost = markdown_three(DISTINCT, unlabelled={"not_processed_confirmation"})
    assert ungrounded(only_one_lost, DISTINCT) == set()


def test_a_page_folio_between_a_rows_values_is_not_a_printed_value():
    text = "二、主动公开政府信息情况\n行政事业性收费 0\n— 4 —\n三、收到和处理政府信息公开申请情况"
    span = sections.locate(text)["proactive"]
    fees = grounding.printed_rows(text, span.start, span.end, "proactive")["fees"]
    assert fees == [["0"]]
    assert grounding.printed_rows("行政事业性收费 0 — 4 —", 0, 22, "proactive")["fees"] == [["0", "4"]]  # not a line
