"""OCR's doubtful numbers chosen by the identities: one balancing reading, several, or none."""

from formats import report

from extraction import checks, template
from extraction.read import balance
from extraction.read.readout import Doubt
from extraction.tables import layout


def _printed(text: str, section: str, row: str, column: str) -> tuple[int, int, str]:
    """Where a cell is printed in the text, and what."""
    table = layout.parse(text).report.table(section)
    span = table.cell(row, column).span
    return span[0], span[1], text[span[0] : span[1]]


def _misread(text: str, section: str, row: str, column: str, read: str, *readings: str) -> tuple[str, Doubt]:
    """The text with one cell read as `read` by OCR, and the doubt OCR left on it."""
    start, end, _ = _printed(text, section, row, column)
    text = text[:start] + read + text[end:]
    return text, Doubt(start, start + len(read), 0.0, 1, f"{read} (read alone: {readings})", readings or (read,))


def _cell_with(section: str, wanted) -> tuple[str, str, str]:
    """A generated report's text, and a cell of `section` whose printed value `wanted` accepts."""
    for seed in range(60):
        gold = report(seed)
        if gold.errors:
            continue
        for row, columns in gold.values[section].items():
            for column, value in columns.items():
                if isinstance(value, int) and wanted(value, columns):
                    return gold.readable(), row, column
    raise AssertionError("no generated report has such a cell")


def test_the_one_reading_under_which_rows_and_columns_balance_is_written_in_and_resolved():
    text, row, column = _cell_with("applications", lambda v, _: v == 6)
    later = _printed(text, "applications", "carried_forward", "total")
    misread, doubt = _misread(text, "applications", row, column, "8", "8", "9")
    other = Doubt(later[0], later[1], 0.5, 2, "a later doubt", ())
    fixed, doubts = balance.resolve(misread, [doubt, other])
    assert fixed == text  # the 6 neither reading saw: the only lookalike the identities accept
    assert doubts[0].resolved and "choose 6" in doubts[0].read
    assert (doubts[1].start, doubts[1].end) == later[:2] and not doubts[1].resolved
    assert layout.parse(fixed).report.applications.cell(row, column).value == 6


def test_a_lost_digit_is_put_back_and_later_doubts_move_with_the_longer_text():
    text, row, column = _cell_with("applications", lambda v, _: v == 10)
    misread, doubt = _misread(text, "applications", row, column, "1")
    after = _printed(misread, "applications", "carried_forward", "total")
    fixed, doubts = balance.resolve(misread, [doubt, Doubt(after[0], after[1], 0.5, 1, after[2], ())])
    assert fixed == text and doubts[0].resolved
    assert fixed[doubts[1].start : doubts[1].end] == after[2]


def test_several_balancing_readings_are_listed_the_printed_text_kept_and_the_doubt_blocks():
    # A group of section 四 whose other parts add to at most 2: its 结果维持 read 7 and its 总计
    # read 7 more than the rest balance as 7 and as 17 (a lost 1) alike.
    text, row, _ = _cell_with("review_litigation", lambda v, cols: cols["total"] - cols["upheld"] <= 2)
    text, upheld = _misread(text, "review_litigation", row, "upheld", "7")
    start, end, _ = _printed(text, "review_litigation", row, "total")
    values = layout.parse(text).report.review_litigation
    total = str(7 + sum(values.value(row, c) or 0 for c in ("corrected", "other", "pending")))
    text = text[:start] + total + text[end:]
    doubts = [upheld, Doubt(start, start + len(total), 0.0, 1, total, (total,))]
    kept, after = balance.resolve(text, doubts)
    assert kept == text and not any(d.resolved for d in after)
    assert all("readings that balance" in d.read for d in after)
    found = checks.doubtful_cells(layout.parse(kept).report, after)
    assert len(found) == 2 and all(f.blocks_acceptance for f in found)


def test_a_doubt_no_reading_balances_stays_as_printed():
    text, row, column = _cell_with("applications", lambda v, _: v == 6)
    misread, doubt = _misread(text, "applications", row, column, "2")  # 2 has no lookalike 6
    kept, doubts = balance.resolve(misread, [doubt])
    assert kept == misread and not doubts[0].resolved and "no reading balances" in doubts[0].read


def test_a_resolved_doubt_no_longer_blocks_in_section_three_but_a_section_two_doubt_always_does():
    text, row, column = _cell_with("applications", lambda v, _: v == 6)
    misread, doubt = _misread(text, "applications", row, column, "8", "8", "9")
    fixed, doubts = balance.resolve(misread, [doubt])
    report_ = layout.parse(fixed).report
    [finding] = checks.doubtful_cells(report_, doubts)
    assert not finding.blocks_acceptance and "choose 6" in finding.message
    table = report_.proactive
    span = next(
        table.cell(r.key, c.key).span
        for r in template.spec("proactive", table.version).rows
        for c in r.columns
        if table.cell(r.key, c.key).span
    )
    forced = Doubt(span[0], span[1], 0.2, 1, "x", ("1",), resolved=True)  # no identity can have resolved it
    [blocking] = checks.doubtful_cells(report_, [forced])
    assert blocking.blocks_acceptance


def test_candidates_are_the_readings_their_lookalikes_and_a_digit_lost_or_doubled():
    found = balance.candidates(("66", "9"))
    assert {"66", "6", "86", "68", "166", "9", "19", "90"} <= set(found)
    assert "06" not in found and balance.candidates(("?",)) == [str(n) for n in range(100)]
    assert balance.candidates(("了",)) == []


def test_a_cell_read_as_a_mark_keeps_its_place_in_the_row_and_the_identities_name_its_number():
    text, row, column = _cell_with("applications", lambda v, _: 10 <= v <= 99)
    misread, doubt = _misread(text, "applications", row, column, "U", "?")  # a blurred 11 read as U
    fixed, doubts = balance.resolve(misread, [doubt])
    assert fixed == text and doubts[0].resolved
