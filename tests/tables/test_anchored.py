"""Rows found by their printed labels, wherever the text breaks its lines (web pages as crawled)."""

from pathlib import Path

import pytest
from conftest import ROOT

from extraction import checks, template
from extraction.scoring import evaluation
from extraction.tables import anchored, layout

CORPUS = ROOT.parent / "shared" / "corpus"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not beside this checkout")

HEAD = (
    "三、收到和处理政府信息公开申请情况（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）申请人情况"
)


def _rows(text: str, section="applications") -> list[tuple[str, list[str]]]:
    return [(label, [c[0] for c in cells]) for label, cells in anchored.rows(text, 0, len(text), section)]


def _named(rows: list[tuple[str, list[str]]]) -> dict[str, list[str]]:
    out = {}
    previous = None
    for label, cells in rows:
        key = template.match_application_row(label, previous)
        if key:
            out[key], previous = cells, key
    return out


def test_a_page_body_on_one_line_gives_the_same_rows_as_one_row_per_line():
    rows = [
        "一、本年新收政府信息公开申请数量 291000030",
        "二、上年结转政府信息公开申请数量 000000 0",
        "（七）总计 291000030",
    ]
    one_line = _named(_rows(HEAD + "".join(rows)))
    per_line = _named(_rows(HEAD + "\n" + "\n".join(rows)))
    assert (
        one_line
        == per_line
        == {
            "new_received": ["291000030"],
            "carried_over": ["000000", "0"],
            "total_handled": ["291000030"],
        }
    )


def test_the_enumeration_of_the_next_label_is_not_a_digit_of_this_row():
    text = (
        HEAD + "（三）不予公开 1.属于国家秘密 000000 02.其他法律行政法规禁止公开 2600000 263.危及“三安全一稳定” 0000000"
    )
    named = _named(_rows(text))
    assert named["withheld_state_secret"] == ["000000", "0"]
    assert named["withheld_law_prohibited"] == ["2600000", "26"]
    assert named["withheld_three_safety"] == ["0000000"]


def test_numbers_glued_to_prose_or_page_chrome_are_not_cells():
    text = HEAD + "一、本年新收政府信息公开申请数量 1000001 第2页 共3页 二、上年结转政府信息公开申请数量 0000000"
    assert all(cells in (["1000001"], ["0000000"], []) for _, cells in _rows(text))
    assert anchored.tokens("共收到467条，2024年", 0, 13) == []


def test_rows_named_together_with_no_digits_between_them_printed_no_cells():
    # A merged （六） cell printed once, on its first sub-row: the other two rows have none.
    text = (
        HEAD + "（六）其他处理 1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请0000000"
        "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请3.其他（七）总计5000005"
    )
    named = _named(_rows(text))
    assert named["other_overdue_correction"] == ["0000000"]
    assert named["other_unpaid_fee"] == [] and named["other_misc"] == []
    assert named["total_handled"] == ["5000005"]
    assert "other_handling" not in named  # the group heading of the three sub-rows is not a row


def test_a_bare_three_other_is_the_last_sub_row_even_with_chrome_before_it():
    text = (
        HEAD
        + "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请 0000000【我要纠错】3.其他 0000000"
    )
    assert _named(_rows(text))["other_misc"] == ["0000000"]


def _one_line_report(proactive: str, rows: str, review: str) -> str:
    return (
        "标题: 某某局2023年政府信息公开工作年度报告\n正文\n当前位置：首页 微信 微博 一、总体情况 本局共收到申请1件。"
        "二、主动公开政府信息情况第二十条第（一）项信息内容本年制发件数本年废止件数现行有效件数"
        + proactive
        + HEAD
        + rows
        + "四、政府信息公开行政复议、行政诉讼情况行政复议行政诉讼结果维持结果纠正其他结果尚未审结总计"
        "未经复议直接起诉复议后起诉" + review + "五、存在的主要问题及改进情况无。 附件下载\n"
    )


_ZERO_ROWS = "".join(
    r.label + ("1000001" if r.key in ("new_received", "granted", "total_handled") else "0000000")
    for r in template.APPLICATIONS_2021.rows
)


def test_a_one_line_report_that_balances_and_prints_every_cell_is_read_and_accepted():
    text = _one_line_report(
        "规章000行政规范性文件0011第二十条第（五）项信息内容本年处理决定数量行政许可202", _ZERO_ROWS, "0" * 15
    )
    extraction = layout.parse(text)
    findings = extraction.findings + checks.run(extraction.report)
    assert extraction.agency == "某某局" and extraction.year == 2023
    assert checks.accepted(findings), [f.message for f in findings if f.blocks_acceptance]
    assert extraction.report.proactive.value("normative_documents", "in_force") == 11  # 0|0|11: no count starts with 0
    assert extraction.report.applications.value("granted", "total") == 1


def test_section_two_digits_that_split_several_ways_are_a_doubt_naming_every_candidate():
    text = _one_line_report("规章000行政规范性文件24432", _ZERO_ROWS, "0" * 15)
    extraction = layout.parse(text)
    doubts = [f for f in extraction.findings if f.id == "proactive.layout.ambiguous"]
    assert len(doubts) == 1 and doubts[0].blocks_acceptance
    assert "2|44|32" in doubts[0].message and "24|4|32" in doubts[0].message
    assert ("proactive", "normative_documents", "in_force") in doubts[0].cells


@needs_corpus
def test_real_crawled_and_converted_texts_are_read_exactly_or_every_wrong_cell_is_named():
    golds = {Path(g.source).name: g for g in evaluation.load_gold_dir(CORPUS / "gold")}
    texts = sorted((CORPUS / "texts").glob("*.txt"))
    exact = accepted = 0
    for path in texts:
        text = path.read_text(encoding="utf-8")
        extraction = layout.parse(text)
        findings = extraction.findings + checks.run(extraction.report)
        status = "accepted" if checks.accepted(findings) else "queued"
        scored = evaluation.score(golds[path.name], extraction.report, findings, status, {}, text)
        assert not [w for w in scored.wrong if not w.caught_by], path.name  # a wrong cell is always named
        assert not (status == "accepted" and scored.wrong), path.name
        assert not any(f.id == "document.not_a_report" for f in findings)
        exact += not scored.wrong or all(w.caught_by for w in scored.wrong)
        accepted += status == "accepted"
    assert exact >= 12 and accepted >= 7, (exact, accepted)


def test_of_the_cuts_that_fit_the_one_kept_is_the_one_the_prose_restates_still_a_doubt():
    text = _one_line_report("规章000行政规范性文件24432", _ZERO_ROWS, "0" * 15)
    for prose, kept in (("本年制发行政规范性文件24件。", (24, 4, 32)), ("本年制发行政规范性文件2件。", (2, 44, 32))):
        extraction = layout.parse(text.replace("本局共收到申请1件。", prose))
        table = extraction.report.proactive
        assert tuple(table.value("normative_documents", c) for c in ("issued", "repealed", "in_force")) == kept
        assert any(f.id == "proactive.layout.ambiguous" and f.blocks_acceptance for f in extraction.findings)


def test_changes_and_amounts_in_their_printed_forms_are_values_in_web_text():
    section_two = (
        "二、主动公开政府信息情况第二十条第（一）项信息内容本年新制作数量本年新公开数量对外公开总数量规章 0 0 0"
        "规范性文件 1 1 3第二十条第（五）项信息内容上一年项目数量本年增/减处理决定数量行政许可 10 增加2 12"
        "其他对外管理服务事项 5 减少1 4第二十条第（六）项信息内容上一年项目数量本年增/减处理决定数量行政处罚 7 −3 4"
        "行政强制 0 0 0第二十条第（八）项信息内容上一年项目数量本年增/减行政事业性收费 0 0"
        "第二十条第（九）项信息内容采购项目数量采购总金额政府集中采购 3 12.5万"
    )
    text = _one_line_report("", _ZERO_ROWS, "0" * 15).replace(
        "二、主动公开政府信息情况第二十条第（一）项信息内容本年制发件数本年废止件数现行有效件数", section_two
    )
    table = layout.parse(text).report.proactive
    assert table.version == "2019"
    assert [table.value("licensing", c) for c in ("prior_items", "change", "decisions")] == [10, 2, 12]
    assert table.value("other_services", "change") == -1 and table.value("penalty", "change") == -3
    assert table.cell("licensing", "change").raw == "增加2"
    assert str(table.value("procurement", "amount_wan_yuan")) == "12.5"


def test_section_two_without_its_first_item_heading_still_reads_the_rows_under_its_column_headers():
    # Some agencies print the first block's headers without "第二十条第（一）项": the table begins
    # at its column headers, and the prose above it (counts of items published) is no row.
    text = (
        "二、主动公开政府信息情况(一)主动公开政府信息的数量制作政府信息总数46条。"
        "信息内容本年制发件数本年废止件数现行有效件数规章000行政规范性文件203"
        "第二十条第（五）项信息内容本年处理决定数量行政许可7"
    )
    rows = {template.match_proactive_row(label): cells for label, cells in _rows(text, "proactive") if cells}
    assert rows == {"regulations": ["000"], "normative_documents": ["203"], "licensing": ["7"]}


def test_page_chrome_after_a_bare_3_other_does_not_hide_the_row():
    # "3.其他" is named by its whole text: chrome printed after it is not part of its label.
    text = (
        HEAD + "（六）其他处理1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请0000000"
        "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请00000003.其他 扫一扫在手机打开当前页 "
        "（七）总计1000001"
    )
    named = _named(_rows(text))
    assert "other_misc" in named and named["total_handled"] == ["1000001"]


def test_a_page_number_between_dashes_is_no_cell_of_the_row_above_it():
    text = (
        HEAD + "\n一、本年新收政府信息公开申请数量 3 0 0 0 0 0 3\n— 7 —\n"
        "二、上年结转政府信息公开申请数量 0 0 0 0 0 0 0\n- 12 -\n"
    )
    named = _named(_rows(text))
    assert named["new_received"] == ["3", "0", "0", "0", "0", "0", "3"]
    assert named["carried_over"] == ["0"] * 7
    # Within a line the dashes and the number may be cells ("/"-like marks and a value).
    inline = _named(_rows(HEAD + "\n二、上年结转政府信息公开申请数量 0 — 4 —\n"))
    assert "4" in inline["carried_over"]
