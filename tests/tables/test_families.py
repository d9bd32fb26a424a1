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
