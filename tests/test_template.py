"""Label matching with the variants real reports print, and version detection from headers."""

import pytest

from extraction import template


@pytest.mark.parametrize(
    ("label", "key"),
    [
        ("一、本年新收政府信息公开申请数量", "new_received"),
        ("三、本年度办理结果（一）予以公开", "granted"),
        ("(一) 予以公开", "granted"),
        ("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", "partially_granted"),
        ("（三）不予公开1.属于国家秘密", "withheld_state_secret"),
        ("2.其他法律行政法规禁止公开", "withheld_law_prohibited"),
        ("3.危及“三安全一稳定”", "withheld_three_safety"),
        ("7.属于行政执法", "withheld_enforcement_file"),  # the rest, 案卷, wrapped to the next line
        ("（四）无法提供1.本机关不掌握相关政府信息", "unavailable_not_held"),
        ("（五）不予处理 1.信访举报投诉类申请", "not_processed_complaint"),
        ("（六）其他处理", "other_handling"),
        ("（六）其他处理1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", "other_overdue_correction"),
        ("1.逾期不补正", "other_overdue_correction"),
        ("2.逾期未缴纳费用", "other_unpaid_fee"),
        ("（七）总计", "total_handled"),
        ("(七) 总 计", "total_handled"),
        ("四、结转下年度继续办理", "carried_forward"),
    ],
)
def test_application_labels_and_their_variants(label, key):
    assert template.match_application_row(label) == key


def test_bare_other_is_the_2021_sub_row_only_after_the_other_sub_rows():
    assert template.match_application_row("3.其他", previous="other_unpaid_fee") == "other_misc"
    assert template.match_application_row("其他", previous="granted") is None


@pytest.mark.parametrize(
    ("label", "key"),
    [
        ("规章", "regulations"),
        ("行政规范性文件", "normative_documents"),
        ("规范性文件", "normative_documents"),
        ("其他对外管理服务事项", "other_services"),
        ("行政事业性收费", "fees"),
        ("政府集中采购", "procurement"),
    ],
)
def test_proactive_labels(label, key):
    assert template.match_proactive_row(label) == key


@pytest.mark.parametrize(
    ("header", "version"),
    [
        ("信息内容 本年新制作数量 本年新公开数量 对外公开总数量", "2019"),
        ("信息内容本年新\n制作数量本年新\n公开数量", "2019"),
        ("信息内容 本年制发件数 本年废止件数 现行有效件数 本年处理决定数量", "2021"),
        ("信息内容", None),
    ],
)
def test_proactive_version_comes_from_headers(header, version):
    assert template.proactive_version(header) == version


def test_specs_have_the_documented_sizes():
    assert len(template.APPLICATIONS_2019.rows) == 23 and len(template.APPLICATIONS_2021.rows) == 25
    assert len(template.APPLICATIONS_2019.cells()) == 161 and len(template.APPLICATIONS_2021.cells()) == 175
    assert len(template.REVIEW_LITIGATION.cells()) == 15
    assert len(template.handling_rows("2019")) == 19 and len(template.handling_rows("2021")) == 21
