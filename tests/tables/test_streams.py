"""PDF text streams (pdftotext default order and -layout): the real reports in ../shared/realfiles,
and streams built here where blank cells printed nothing."""

import pytest
from conftest import ROOT

from extraction import checks, template
from extraction.tables import layout, streams

REAL = ROOT.parent / "shared" / "realfiles"
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/realfiles is not beside this checkout")


def read(name: str):
    text = (REAL / f"{name}.txt").read_text(encoding="utf-8")
    extraction = layout.parse(text)
    return extraction, extraction.findings + checks.run(extraction.report)


@needs_real
def test_layout_mode_report_is_read_exactly_and_accepted():
    extraction, findings = read("003_hongze_district_2024")  # pdftotext -layout, hand-checked cell by cell
    assert checks.accepted(findings)
    assert set(extraction.layouts.values()) == {"number_stream"}
    report = extraction.report
    assert (report.proactive.version, report.applications.version) == ("2021", "2019")  # the mixed template
    assert report.proactive.values()["licensing"] == {"decisions": 9487}
    assert report.proactive.values()["normative_documents"] == {"issued": 3, "repealed": 0, "in_force": 8}
    apps = report.applications.values()
    assert apps["new_received"]["natural_person"] == apps["total_handled"]["total"] == 95
    assert apps["partially_granted"]["total"] == 9  # its label wraps over two lines before the numbers
    assert apps["unavailable_not_held"]["natural_person"] == 31
    assert report.review_litigation.values()["litigation_after_review"] == {
        "upheld": 2,
        "corrected": 0,
        "other": 1,
        "pending": 0,
        "total": 3,
    }


@needs_real
def test_default_order_with_detached_labels_and_column_runs_reads_sections_two_and_three():
    for name in ("001_huaian_city_2024", "002_hongze_district_2023"):
        extraction, findings = read(name)
        failing = {f.id for f in findings if f.blocks_acceptance}
        assert not [f for f in failing if f.startswith(("applications.", "proactive."))], (name, failing)
        assert not checks.accepted(findings)  # section 四 cannot be settled from the text: queued, not guessed
    extraction, _ = read("001_huaian_city_2024")
    apps = extraction.report.applications
    assert apps.version == "2021"  # its split （六） labels come after every number
    assert apps.value("total_handled", "total") == 3050 and apps.value("other_misc", "total") == 110


@needs_real
def test_interleaved_section_four_lists_every_balanced_reading():
    extraction, findings = read("001_huaian_city_2024")
    doubt = next(f for f in findings if f.id == "review_litigation.layout.*")
    assert "72/64/178/37/351/12/1/1/6/20/13/4/8/1/26" in doubt.message and doubt.blocks_acceptance
    assert extraction.report.review_litigation.values()["review"]["total"] == 351


def test_value_tokens_leave_labels_page_numbers_and_years_alone():
    text = "1.属于国家秘密   12   0  3,001\n-3-\n2024年 增1 3773631元 849.39万元\n"
    cells = [c.text for run in streams.runs(text, 0, len(text)) for c in run.cells]
    assert cells == ["12", "0", "3,001", "增1", "3773631元", "849.39万元"]


def default_order(rows: dict[str, list[int | None]]) -> str:
    """Section 三 as pdftotext prints it in default order: a label line, then one line per printed
    cell; a blank cell prints nothing, a row of blanks nothing at all."""
    lines = ["三、收到和处理政府信息公开申请情况", "申请人情况", "自然人", "法人或其他组织", "总计"]
    for row in template.spec("applications", "2019").rows:
        lines.append(row.label)
        lines += [str(v) for v in rows.get(row.key, [None] * 7) if v is not None]
    return "\n".join([*lines, "四、政府信息公开行政复议、行政诉讼情况", ""])


def applications(text: str):
    extraction = layout.parse(text)
    findings = [f for f in extraction.findings + checks.run(extraction.report) if f.id.startswith("applications.")]
    return extraction, findings


SHORT = [5, None, None, None, None, None, 5]  # natural persons only: five blanks printed nothing


def test_labelled_short_runs_are_rows_whose_blanks_the_identities_place():
    rows = {
        "new_received": [5, 0, 0, 0, 0, 0, 5],  # printed in full: it fixes where the columns stand
        "granted": [3, None, None, None, None, None, 3],
        "unavailable_not_held": [2, None, None, None, None, None, 2],
        "total_handled": SHORT,
        "carried_forward": [1, None, None, None, None, None, 1],
    }
    rows["new_received"][0] = rows["new_received"][-1] = 6
    extraction, findings = applications(default_order(rows))
    assert extraction.layouts["applications"] == "gapped_stream"
    assert not [f for f in findings if f.blocks_acceptance]
    values = extraction.report.applications.values()
    for key, printed in rows.items():
        assert list(values[key].values()) == printed
    assert set(values["carried_over"].values()) == {None}  # a row of blanks stays blank, not zero


def test_short_runs_that_could_stand_in_several_columns_are_queued_as_ambiguous():
    one = [1, None, None, None, None, None, 1]
    six = [6, None, None, None, None, None, 6]
    # Every number could stand in any part column, as long as all of them move together.
    rows = {"new_received": six, "granted": SHORT, "total_handled": SHORT, "carried_forward": one}
    extraction, findings = applications(default_order(rows))
    assert extraction.layouts["applications"] == "gapped_stream"
    ambiguous = [f for f in findings if f.id == "applications.layout.ambiguous"]
    assert ambiguous and ambiguous[0].blocks_acceptance


def layout_mode(rows: dict[str, list[int | None]]) -> str:
    """Section 三 as `pdftotext -layout` prints it: a label, then each cell right-aligned in its
    column of eight characters; a blank cell is spaces."""
    lines = ["三、收到和处理政府信息公开申请情况", " " * 45 + "自然人   商业 科研 社会 法律 其他   总计"]
    for row in template.spec("applications", "2019").rows:
        cells = "".join(f"{'' if v is None else v:>8}" for v in rows.get(row.key, [None] * 7)).rstrip()
        lines.append(row.label + " " * (40 - len(row.label)) + cells)
    return "\n".join([*lines, "四、政府信息公开行政复议、行政诉讼情况", ""])


def test_short_layout_rows_are_placed_by_where_their_numbers_stand():
    rows = {
        "new_received": [4, 1, 2, 1, 1, 1, 10],  # every column shows where it stands
        "granted": [None, None, 2, None, None, None, 2],  # alone, the 2 could be any part
        "unavailable_not_held": [4, 1, None, 1, 1, 1, 8],
        "total_handled": [4, 1, 2, 1, 1, 1, 10],
    }
    extraction, findings = applications(layout_mode(rows))
    assert not [f for f in findings if f.blocks_acceptance]
    values = extraction.report.applications.values()
    assert {key: list(values[key].values()) for key in rows} == rows


def test_a_column_blank_in_every_layout_row_is_a_doubt_not_a_guess():
    rows = {
        "new_received": [4, None, 2, None, None, None, 6],  # commercial and three more print nothing anywhere
        "granted": [4, None, 2, None, None, None, 6],
        "total_handled": [4, None, 2, None, None, None, 6],
    }
    extraction, findings = applications(layout_mode(rows))
    doubt = next(f for f in findings if f.id == "applications.layout.*")
    assert doubt.blocks_acceptance and "3 of 7 columns" in doubt.message
    # The placement kept for the reviewer is the evenly spaced one: here, the printed one.
    values = extraction.report.applications.values()
    assert {key: list(values[key].values()) for key in rows} == rows


def test_section_four_on_one_layout_line_keeps_the_evenly_spaced_reading_but_queues_it():
    printed = [None, 3, None, None, 3, None, None, 1, None, 1, 2, None, None, None, 2]
    line = "".join(f"{'' if v is None else v:>8}" for v in printed).rstrip()
    text = (
        "四、政府信息公开行政复议、行政诉讼情况\n行政复议 行政诉讼\n\n"
        + line
        + "\n五、存在的主要问题及改进情况\n无。\n"
    )
    extraction = layout.parse(text)
    findings = [f for f in extraction.findings if f.id.startswith("review_litigation.")]
    assert any(f.id == "review_litigation.layout.ambiguous" and f.blocks_acceptance for f in findings)
    values = extraction.report.review_litigation.values()
    assert [v for group in values.values() for v in group.values()] == printed


def test_labels_wrapped_just_after_their_item_number_do_not_make_a_stream_look_like_web_text():
    full = {row.key: [0, 0, 0, 0, 0, 0, 0] for row in template.spec("applications", "2019").rows}
    text = default_order(full)
    for item in ("（四）无法提供 1.", "（五）不予处理 1.", "（三）不予公开 1."):
        text = text.replace(item, item + "\n", 1)  # "1." ends the line, as pdftotext wraps it
    assert "（四）无法提供 1.\n" in text
    extraction, findings = applications(text)
    assert extraction.layouts["applications"] == "number_stream"
    assert not [f for f in findings if f.blocks_acceptance]


def test_rows_printed_numbers_first_are_cut_by_their_totals():
    """pdftotext may print the numbers of the last rows before any of their labels; with blanks
    gone, each row's 总计 (the sum of the numbers before it) shows where the row ends."""
    rows = {row.key: [0] * 7 for row in template.spec("applications", "2019").rows}
    rows |= {
        "new_received": [5, 2, 0, 0, 0, 0, 7],
        "granted": [3, None, None, None, None, None, 3],
        "not_processed_confirmation": [1, None, None, None, None, None, 1],
        "other_handling": [1, 2, None, None, None, None, 3],
        "total_handled": [5, 2, None, None, None, None, 7],
    }
    tail = ("other_handling", "total_handled", "carried_forward")
    lines = ["三、收到和处理政府信息公开申请情况", "申请人情况", "自然人", "法人或其他组织", "总计"]
    for row in template.spec("applications", "2019").rows:
        if row.key not in tail:
            lines += [row.label, *(str(v) for v in rows[row.key] if v is not None)]
    lines += [str(v) for key in tail for v in rows[key] if v is not None]  # 1 2 3 5 2 7 0 0 0 0 0 0 0
    lines += ["（六）其他处理", "（七）总计", "四、结转下年度", "继续办理"]  # the last label wraps
    text = "\n".join([*lines, "四、政府信息公开行政复议、行政诉讼情况", ""])
    extraction, findings = applications(text)
    assert extraction.layouts["applications"] == "gapped_stream"
    assert not [f for f in findings if f.blocks_acceptance]
    values = extraction.report.applications.values()
    for key, printed in rows.items():
        assert list(values[key].values()) == printed, key


def test_a_block_printed_numbers_first_just_before_the_tail_gives_each_run_its_own_rows():
    """Two blocks printed numbers first, back to back: the label just before the second run ends
    the first block (its numbers closed the run before), so the second run starts at the row
    after it. The totals decide; "3.其他" names its row only when read after the line before it."""
    spec = template.spec("applications", "2021")
    rows = {row.key: [None] * 6 + [0] for row in spec.rows}
    rows |= {
        "granted": [4, None, None, None, None, None, 4],
        "not_processed_mass_requests": [1, 3, None, None, None, None, 4],
        "other_unpaid_fee": [None, 2, None, None, None, None, 2],
        "other_misc": [None, 1, None, None, None, None, 1],
        "total_handled": [5, 6, None, None, None, None, 11],
        "carried_forward": [4, None, None, None, None, None, 4],
    }
    # Printed in full, these two fix where the columns stand.
    rows["new_received"] = [9, 6, 0, 0, 0, 0, 15]
    rows["carried_over"] = [0, 0, 0, 0, 0, 0, 0]
    keys = [row.key for row in spec.rows]
    block = keys[keys.index("not_processed_mass_requests") : keys.index("other_misc") + 1]
    tail = ["total_handled", "carried_forward"]
    printed = {key: [str(v) for v in rows[key] if v is not None] for key in keys}
    lines = ["三、收到和处理政府信息公开申请情况", "申请人情况", "自然人", "法人或其他组织", "总计"]
    for key in keys[: keys.index(block[0])]:
        lines += [spec.rows[keys.index(key)].label, *printed[key]]
    lines += [v for key in block for v in printed[key]]  # the block's numbers, then its labels
    lines += ["4.无正当理由大量反复申请", "5.要求行政机关确认或重新出具已获取信息"]
    lines += ["（六）其他处理 1.申请人无正当理由逾期不补正", "2.申请人逾期未按收费通知要求缴纳费用", "3.其他"]
    lines += [v for key in tail for v in printed[key]]  # the tail's numbers, then its labels
    lines += ["（七）总计", "四、结转下年度继续办理", "四、政府信息公开行政复议、行政诉讼情况", ""]
    extraction, findings = applications("\n".join(lines))
    assert extraction.layouts["applications"] == "gapped_stream"
    values = extraction.report.applications.values()
    for key in keys:
        assert list(values[key].values()) == rows[key], key
    # Queued only because a lone 0 may be a part or the 总计: no cut doubt, nothing unbalanced.
    assert {f.id for f in findings if f.blocks_acceptance} == {"applications.layout.ambiguous"}
    assert not [f for f in extraction.findings if "cut" in f.message or "none balances" in f.message]


def test_section_four_in_default_order_with_blanks_gone_is_queued_keeping_each_group_its_total():
    """Four numbers for fifteen cells, one per line: where the 3 stands is for a person to say,
    but the reading shown gives every group its 总计, as a printed group always has one."""
    text = "四、政府信息公开行政复议、行政诉讼情况\n行政复议\n行政诉讼\n结果维持\n结果纠正\n其他结果\n尚未审结\n总计\n"
    text += "\n3\n\n3\n\n0\n\n0\n\n五、存在的主要问题及改进情况\n无。\n"
    extraction = layout.parse(text)
    assert extraction.layouts["review_litigation"] == "gapped_stream"
    values = extraction.report.review_litigation.values()
    assert [values[g]["total"] for g in ("review", "litigation_direct", "litigation_after_review")] == [3, 0, 0]
    assert values["litigation_direct"]["upheld"] is None  # a lone 0 is shown as the total, not a part
    ambiguous = [f for f in extraction.findings if f.id == "review_litigation.layout.ambiguous"]
    assert ambiguous and ambiguous[0].blocks_acceptance
