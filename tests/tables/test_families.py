"""Each layout family gives a section's rows in one shape: a label cell and value cells with offsets."""

from extraction.tables import families, sections


def test_markdown_rows_keep_empty_cells_and_their_spans():
    text = "| 规章 |  | ０ | 12 |\n| --- | :---: | --- | ---: |\n"
    cells = families._split_pipes(text.splitlines()[0], 0)
    assert [c.text for c in cells] == ["规章", "", "０", "12"]
    assert [text[c.start : c.end] for c in cells] == ["规章", "", "０", "12"]
    assert families._MARKDOWN_RULE.match(text.splitlines()[1])


def test_a_pdf_stream_whose_blanks_printed_nothing_is_read_as_a_gapped_stream():
    # pdftotext default order: one number per line, fewer numbers than the row has cells.
    text = "一、本年新收政府信息公开申请数量\n2\n1\n3\n二、上年结转政府信息公开申请数量\n1\n1\n"
    span = sections.Span(0, len(text))
    assert families.detect_family(text, span) == "number_stream"
    printed = families.printed_rows(text, span, "applications", "number_stream")
    assert printed.family == "gapped_stream"
    labelled = [(row[0].text, [c.text for c in row[1:]]) for row in printed.rows if len(row) > 1]
    assert labelled == [
        ("一、本年新收政府信息公开申请数量", ["2", "1", "3"]),
        ("二、上年结转政府信息公开申请数量", ["1", "1"]),
    ]
    assert [(c.start, c.end) for c in printed.rows[1][1:]] == [(17, 18), (19, 20), (21, 22)]


def test_web_text_a_line_per_row_with_cells_run_into_the_label_is_read_by_its_labels():
    # A page's rows one per line, no space between a label and its cells: still web text (PDF
    # text never glues a row's numbers to its label), and the rows are found by their labels.
    text = (
        "三、收到和处理政府信息公开申请情况（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）\n"
        "一、本年新收政府信息公开申请数量043000043\n二、上年结转政府信息公开申请数量0000000\n"
        "三、本年度办理结果（一）予以公开043000043\n（七）总计043000043\n四、结转下年度继续办理0000000\n"
    )
    span = sections.Span(0, len(text))
    assert families.detect_family(text, span) == "space_rows"
    printed = families.printed_rows(text, span, "applications", "space_rows")
    cells = {row[0].text: [c.text for c in row[1:]] for row in printed.rows if len(row) > 1}
    assert cells["一、本年新收政府信息公开申请数量"] == ["043000043"]
    assert cells["二、上年结转政府信息公开申请数量"] == ["0000000"]


def test_pdf_text_with_spaced_numbers_is_not_taken_for_glued_web_rows():
    text = "一、本年新收政府信息公开申请数量\n2\n1\n3\n二、上年结转政府信息公开申请数量\n1\n1\n三、本年度办理结果\n4\n"
    assert families.detect_family(text, sections.Span(0, len(text))) == "number_stream"
