"""Locating the section tables and reading the title."""

import pytest

from extraction.tables import sections

REPORT = """某某市某某局2022年政府信息公开工作年度报告
一、总体情况
（二）依申请公开情况。2022年，我局共收到政府信息公开申请3件，主动公开政府信息情况良好。
二、主动公开政府信息情况
\t规章
三、收到和处理政府信息公开申请情况
\t一、本年新收政府信息公开申请数量
四、政府信息公开行政复议、行政诉讼情况
\t行政复议
五、存在的主要问题及改进情况
无
"""


def test_sections_are_located_by_their_headings_not_prose():
    spans = sections.locate(REPORT)
    assert REPORT[spans["proactive"].start :].startswith("二、主动公开")
    assert REPORT[spans["applications"].start :].startswith("三、收到和处理")
    assert "行政复议" in REPORT[spans["review_litigation"].start : spans["review_litigation"].end]
    assert "存在的主要问题" not in REPORT[spans["review_litigation"].start : spans["review_litigation"].end]


def test_missing_heading_falls_back_to_the_table_anchor():
    text = (
        "报告\n（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）\n"
        "\t一、本年新收政府信息公开申请数量\n"
    )
    assert "applications" in sections.locate(text)


def test_text_without_tables_has_no_sections():
    assert sections.locate("这是一篇关于天气的文章。\n明天晴。") == {}


@pytest.mark.parametrize(
    ("text", "agency", "year"),
    [
        ("固原市卫生健康委 2019 年政府信息公开工作年度报告\n正文", "固原市卫生健康委", 2019),
        ("2019年下城区卫生健康局政府信息公开\n年度工作报告\n正文", "下城区卫生健康局", 2019),
        ("德惠市卫生健康局\n2020年政府信息公开工作年度报告\n", "德惠市卫生健康局", 2020),
        ("市卫健局2021年度政府信息公开工作年度报告\n", "市卫健局", 2021),
        ("    一、总体情况\n    2019年，我局认真贯彻落实《条例》。", None, 2019),
    ],
)
def test_title_gives_agency_as_printed_and_year(text, agency, year):
    assert sections.title_info(text) == (agency, year)


def test_a_report_whose_tables_are_not_read_is_still_a_report():
    assert sections.looks_like_report("某某局2023年政府信息公开工作年度报告\n一、总体情况\n本年度……\n")
    assert sections.looks_like_report("前言……二、主动公开政府信息情况 第二十条第（一）项 ……")
    assert not sections.looks_like_report("今天天气晴，最高气温 25 度。\n" * 20)
