"""The layout parser on the two sample families, on built rows, and on doubt."""

import itertools
import random
import re

import pytest
from conftest import GOLD, SAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st

from extraction import checks, template
from extraction.synth import generator
from extraction.tables import choose, layout, placement

SAMPLE_IDS = [p.stem for p in SAMPLES]


@pytest.mark.parametrize("path", SAMPLES, ids=SAMPLE_IDS)
def test_samples_parse_to_their_gold_values(path):
    gold = GOLD[path.stem]
    extraction = layout.parse(path.read_text(encoding="utf-8"))
    for section in ("proactive", "applications", "review_litigation"):
        assert extraction.report.table(section).values() == gold[section], section
    assert extraction.report.template_version() == gold["template"]
    assert (extraction.agency, extraction.year) == (gold["agency"], gold["year"])


@pytest.mark.parametrize("path", SAMPLES, ids=SAMPLE_IDS)
def test_every_nonblank_value_carries_the_span_it_was_read_from(path):
    text = path.read_text(encoding="utf-8")
    for table in layout.parse(text).report.tables():
        for cols in table.cells.values():
            for cell in cols.values():
                if cell.value is not None:
                    start, end = cell.span
                    assert text[start:end] == cell.raw


HEADER = (
    "三、收到和处理政府信息公开申请情况\n"
    "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）\t申请人情况\n"
    "\t自然人\t法人或其他组织\t\t\t\t\t总计\n"
    "\t\t商业企业\t科研机构\t社会公益组织\t法律服务机构\t其他\t\n"
)


def tab_report(rows: dict[str, str]) -> str:
    labels = {
        "new_received": "一、本年新收政府信息公开申请数量",
        "carried_over": "二、上年结转政府信息公开申请数量",
        "granted": "三、本年度办理结果\t（一）予以公开",
        "not_processed_duplicate": "\t2.重复申请",
        "other_handling": "（六）其他处理",
        "total_handled": "（七）总计",
        "carried_forward": "四、结转下年度继续办理",
    }
    body = "".join(f"{labels[k]}\t{v}\n" for k, v in rows.items())
    return HEADER + body + "四、政府信息公开行政复议、行政诉讼情况\n"


def test_collapsed_blank_is_placed_where_the_identities_balance():
    # 予以公开 lost its empty 商业企业 cell: right-aligned it would put 2 under 商业企业.
    text = tab_report(
        {
            "new_received": "5\t\t3\t\t\t\t8\t",
            "carried_over": "\t\t\t\t\t\t0",
            "granted": "2\t3\t\t\t\t5\t",
            "not_processed_duplicate": "3\t\t\t\t\t\t3",
            "total_handled": "5\t\t3\t\t\t\t8",
            "carried_forward": "\t\t\t\t\t\t0",
        }
    )
    table = layout.parse(text).report.applications
    assert [table.value("granted", c) for c in ("natural_person", "commercial", "research", "total")] == [2, None, 3, 5]
    assert not [f for f in checks.hard_checks(table) if f.failed]


def short_row_report(value: str) -> str:
    """One value in a row of four cells, with nothing to tie it down: every placement fits equally."""
    return (
        "三、收到和处理政府信息公开申请情况\n\n"
        f"\t一、本年新收政府信息公开申请数量\n\t{value}\n\t\n\t\n\t\n\n"
        "\t（七）总计\n\t\n\t\n\t\n\t\n\t\n\t\n\t\n\n"
    )


def test_a_number_whose_column_the_text_does_not_fix_is_an_ambiguity_not_a_guess():
    extraction = layout.parse(short_row_report("3"))
    ambiguous = [f for f in extraction.findings if f.id == "applications.layout.ambiguous"]
    assert ambiguous and ambiguous[0].blocks_acceptance
    assert ("applications", "new_received", "natural_person") in ambiguous[0].cells
    assert "3 or blank" in ambiguous[0].message or "blank or 3" in ambiguous[0].message


def test_a_zero_whose_column_the_text_does_not_fix_blocks_acceptance_since_blank_and_0_differ():
    extraction = layout.parse(short_row_report("0"))
    notes = [f for f in extraction.findings if f.id == "applications.layout.zero_placement"]
    assert notes and notes[0].blocks_acceptance
    assert ("applications", "new_received", "natural_person") in notes[0].cells
    assert "0 or blank" in notes[0].message or "blank or 0" in notes[0].message
    assert not [f for f in extraction.findings if f.id == "applications.layout.ambiguous"]


def test_unrecognised_row_with_values_is_a_finding():
    text = tab_report({"new_received": "1\t\t\t\t\t\t1", "carried_over": "\t\t\t\t\t\t0"}).replace(
        "四、政府信息公开", "本年接到咨询\t7\t\t\t\t\t7\n四、政府信息公开"
    )
    messages = [f.message for f in layout.parse(text).findings]
    assert any("本年接到咨询" in m and "not recognised" in m for m in messages)


def test_missing_sections_are_named():
    extraction = layout.parse("这不是年报。\n只是一段文字。\n")
    assert {f.id for f in extraction.findings} == {
        "proactive.layout.unread",
        "applications.layout.unread",
        "review_litigation.layout.unread",
    }
    assert extraction.report.tables() == []


def test_unreadable_value_is_kept_raw_and_flagged():
    text = tab_report({"new_received": "1\t\t\t\t\t\t1", "carried_over": "\t\t\t\t\t\t增2"})
    extraction = layout.parse(text)
    cell = extraction.report.applications.cell("carried_over", "total")
    assert cell.value is None and cell.raw == "增2"
    assert any(f.id == "applications.layout.unreadable_value" for f in extraction.findings)


def test_every_balanced_reading_of_a_lone_data_row_is_counted():
    # Section 四 prints one data row. Where its blanks vanished, each group's parts may stand in
    # several of its columns; every placement is counted (here by brute force over the
    # identities), not only as many as a search would stop at.
    envelope = generator.generate(random.Random(3), "web_text", version="2019").text
    lines = envelope.splitlines()
    data = max(i for i, line in enumerate(lines) if line[:1].isdigit() or line[:1] == "０")
    numbers = ["2", "1", "3", "4", "4", "1", "1"]
    text = "\n".join([*lines[:data], " ".join(numbers), *lines[data + 1 :]])
    keys = [(g.key, c.key) for g in template.REVIEW_LITIGATION.rows for c in template.OUTCOME_COLUMNS]
    fitting = 0
    for places in itertools.combinations(range(len(keys)), len(numbers)):
        values = dict.fromkeys(keys)
        values.update({keys[p]: int(n) for p, n in zip(places, numbers, strict=True)})
        fitting += checks.count_failures("review_litigation", "2019", values) == 0
    extraction = layout.parse(text)
    ambiguous = [f for f in extraction.findings if f.id == "review_litigation.layout.ambiguous"]
    assert fitting > 16 and len(ambiguous) == 1
    assert ambiguous[0].message.startswith(f"{fitting} readings fit the identities")


def _passes_own_identities(section, row, columns, reading) -> bool:
    values = choose._values(choose._keys(row, columns), reading)
    own = [eq for eq in checks.equations(section, "2019") if set(eq.left + eq.right) <= set(values)]
    return not any(checks.fails(eq, values) for eq in own)


REVIEW_COLUMNS = tuple(
    template.Column(f"{g.key}.{c.key}", c.label) for g in template.REVIEW_LITIGATION.rows for c in g.columns
)


@settings(max_examples=200, deadline=None)
@given(
    digits=st.lists(st.text("0123456789", min_size=1, max_size=3), min_size=1, max_size=6),
    family=st.sampled_from(["space_rows", "gapped_stream"]),
    section=st.sampled_from(["applications", "review_litigation"]),
)
def test_where_blanks_vanish_a_rows_readings_all_pass_its_own_identities_or_none_does(digits, family, section):
    # choose relies on this to skip judging each reading against its own row again.
    cells = [placement.RawCell(d, 0, len(d)) for d in digits]
    if section == "applications":
        row, columns, group = "granted", template.APPLICANT_COLUMNS, 0
    else:
        row, columns, group = "*", REVIEW_COLUMNS, len(template.OUTCOME_COLUMNS)
    found = placement.readings(cells, len(columns), family, split=family == "space_rows", group=group)
    verdicts = {_passes_own_identities(section, row, columns, reading) for _, reading in found}
    assert len(verdicts) <= 1


def _fifteen_digits_run_together() -> tuple[list[str], list[list[int]]]:
    """A generated web-text report whose section 四 row prints fifteen digits run together in
    fifteen cells: each digit a cell of its own, or "1" and "0" one number beside a blank that
    vanished. Both balance."""
    envelope = generator.generate(random.Random(3), "web_text", version="2019").text
    lines = envelope.splitlines()
    data = max(i for i, line in enumerate(lines) if line[:1].isdigit() or line[:1] == "０")
    groups = [[0, 0, 1, 0, 1], [0, 0, 0, 4, 4], [4, 0, 0, 0, 4]]
    row = "0 0" + "".join(str(n) for g in groups for n in g)[2:]
    return [*lines[:data], row, *lines[data + 1 :]], groups


def _kept(extraction) -> list[list[int | None]]:
    table = extraction.report.review_litigation
    return [[table.value(g.key, c.key) for c in template.OUTCOME_COLUMNS] for g in template.REVIEW_LITIGATION.rows]


def test_of_readings_that_fit_the_one_printing_every_cell_is_kept_for_the_reviewer():
    # Without a section 三 to show how the page prints empty cells, a person must choose; the
    # reading shown first is the one that needs no vanished cell.
    lines, groups = _fifteen_digits_run_together()
    three = next(i for i, line in enumerate(lines) if line.startswith("三、收到"))
    four = next(i for i, line in enumerate(lines) if line.startswith("四、政府信息公开"))
    extraction = layout.parse("\n".join(lines[:three] + lines[four:]))
    ambiguous = [f for f in extraction.findings if f.id == "review_litigation.layout.ambiguous"]
    assert len(ambiguous) == 1 and ambiguous[0].blocks_acceptance
    assert _kept(extraction) == groups


def test_a_page_whose_section_three_prints_every_cell_prints_every_cell_of_section_four():
    # The same row beside a section 三 that printed a 0 in every empty cell: no cell of this page
    # vanishes, so only the one-digit-per-cell reading is the page's.
    lines, groups = _fifteen_digits_run_together()
    extraction = layout.parse("\n".join(lines))
    assert all(c.kind.value != "blank" for row in extraction.report.applications.cells.values() for c in row.values())
    assert not [f for f in extraction.findings if f.id == "review_litigation.layout.ambiguous"]
    assert _kept(extraction) == groups


def test_a_page_that_merges_the_six_cells_still_prints_every_cell_of_section_four():
    # A web page prints the （六） cells once over its three sub-rows: the two sub-rows with no
    # cell of their own are a merged cell, not blanks the page leaves, so section 四's digits
    # are still read one per cell.
    _, groups = _fifteen_digits_run_together()
    lines21 = generator.generate(random.Random(3), "web_text", version="2021").text.splitlines()
    six = [i for i, line in enumerate(lines21) if "申请人逾期未按收费通知" in line or line.startswith("3.其他")]
    data = max(i for i, line in enumerate(lines21) if line[:1].isdigit() or line[:1] == "０")
    row = "0 0" + "".join(str(n) for g in groups for n in g)[2:]
    page = [
        re.sub(r"[ 0-9０-９]+$", "", line) if i in six else (row if i == data else line)
        for i, line in enumerate(lines21)
    ]
    extraction = layout.parse("\n".join(page))
    blank_rows = [
        key
        for key, row_cells in extraction.report.applications.cells.items()
        if all(c.kind.value == "blank" for c in row_cells.values())
    ]
    assert set(blank_rows) == {"other_unpaid_fee", "other_misc"}
    assert not [f for f in extraction.findings if f.id == "review_litigation.layout.ambiguous"]
    assert _kept(extraction) == groups


def _markdown_section_three(rows: list[str]) -> str:
    head = "三、收到和处理政府信息公开申请情况\n| （本列数据的勾稽关系） | 自然人 | 总计 |\n|---|---|---|\n"
    return head + "\n".join(rows) + "\n四、政府信息公开行政复议、行政诉讼情况\n"


def _zero_rows(version: str, unlabelled: set[str]) -> list[str]:
    out = []
    for row in template.spec("applications", version).rows:
        label = "" if row.key in unlabelled else row.label
        out.append(f"| {label} | 0 | 0 | 0 | 0 | 0 | 0 | 0 |" if label else "| 0 | 0 | 0 | 0 | 0 | 0 | 0 |")
    return out


def test_a_converted_row_that_lost_its_label_takes_the_one_missing_row_by_its_place():
    extraction = layout.parse(_markdown_section_three(_zero_rows("2021", {"partially_granted"})))
    placed = [f for f in extraction.findings if f.id == "applications.layout.partially_granted"]
    assert len(placed) == 1 and not placed[0].blocks_acceptance
    assert extraction.report.applications.value("partially_granted", "total") == 0


def test_several_rows_placed_by_order_wait_for_a_person():
    extraction = layout.parse(
        _markdown_section_three(_zero_rows("2021", {"not_processed_confirmation", "other_overdue_correction"}))
    )
    placed = [f for f in extraction.findings if f.id.startswith("applications.layout.") and "by its place" in f.message]
    assert len(placed) == 2 and all(f.blocks_acceptance for f in placed)
