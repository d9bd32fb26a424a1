"""Placing a row's printed numbers into cells: readings, cuts of digits run together, placements."""

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from extraction.tables import placement


@pytest.mark.parametrize(
    ("values", "family", "expected"),
    [
        (["4", "", "3", "1", "", "", "8", ""], "tab_rows", ["4", "", "3", "1", "", "", "8"]),  # trailing tab
        (["", "4", "", "3", "1", "", "", "8"], "tab_rows", ["4", "", "3", "1", "", "", "8"]),  # leading empty field
        (["", "", "", "", "", "0", ""], "tab_rows", ["", "", "", "", "", "", "0"]),  # right-aligned total
    ],
)
def test_tab_row_readings_cheapest_first(values, family, expected):
    cells = [placement.RawCell(v, 0, len(v)) for v in values]
    cost, reading = placement.readings(cells, 7, family)[0]
    assert cost == 0
    assert ["" if c is None else c.text for c in reading] == expected


@settings(max_examples=300, deadline=None)
@given(
    amounts=st.lists(st.integers(0, 12), max_size=8),
    shape=st.sampled_from([(7, 7), (15, 5)]),
)
def test_a_split_is_judged_balanceable_exactly_when_it_has_a_balanced_placement(amounts, shape):
    width, group = shape
    cells = [placement.RawCell(str(a), 0, len(str(a))) for a in amounts]
    placeable = bool(placement._balanced_placements(cells, width, group)) if len(amounts) <= width else False
    assert placement._can_balance(tuple(amounts), width, group) == placeable


PRINTED_CELL = st.text("0012345６789", min_size=1, max_size=6) | st.sampled_from(["", "/", "－", "-3"])


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(PRINTED_CELL, max_size=5), width=st.sampled_from([3, 7]))
@example(texts=["0000"], width=3)  # a cell no split fits in the columns
@example(texts=["5", "-3", "2"], width=7)  # a negative count: sums do not only grow
def test_a_rows_balancing_splits_are_those_of_every_split_that_can_balance(texts, width):
    # Made directly (branches cut short on their sums), the same splits in the same order as
    # trying every split: nothing a section 三 row could balance under is lost.
    cells, at = [], 0
    for text in texts:
        cells.append(placement.RawCell(text, at, at + len(text)))
        at += len(text) + 1
    every = [split for split in placement._splits(cells, width) if placement._can_balance(split[1], width, width)]
    made = placement._balancing_splits(cells, width, width)
    assert [(extra, amounts) for extra, amounts, _ in made] == [(extra, amounts) for extra, amounts, _ in every]
    assert [parts() for _, _, parts in made] == [parts() for _, _, parts in every]


def test_cells_run_together_are_cut_where_the_row_total_balances():
    text = "230 000023"  # TEMPLATE.md: 23,0,0,0,0,0,23
    cells = [placement.RawCell("230", 0, 3), placement.RawCell("000023", 4, 10)]
    found = [reading for _, reading in placement.readings(cells, 7, "space_rows", split=True)]
    shown = {tuple(None if c is None else int(c.text) for c in reading) for reading in found}
    assert (23, 0, 0, 0, 0, 0, 23) in shown
    for reading in found:
        numbers = [int(c.text) for c in reading if c is not None]
        assert reading[-1] is not None and numbers[-1] == sum(numbers[:-1])  # every reading balances
        assert all(text[c.start : c.end] == c.text for c in reading if c is not None)  # spans into the text


def test_a_run_of_digits_too_long_to_cut_is_read_as_printed_and_named():
    run = placement.RawCell("1" * 34, 0, 34)
    assert placement._ways(run.text, 7) == ((((0, 34),), (int(run.text),)),)  # not cut: 34 digits have ~1.3M cuts
    assert placement.uncut_run([placement.RawCell("12", 0, 2), run]) is run
    assert placement.uncut_run([placement.RawCell("1" * 20, 0, 20)]) is None


def test_a_total_holds_only_when_the_last_number_is_the_sum_of_the_printed_ones_before_it():
    assert placement.ends_in_its_total([2, 3, 0, 5])
    assert placement.ends_in_its_total([0, 0, 0])
    assert not placement.ends_in_its_total([2, 3, 6])
    assert not placement.ends_in_its_total([2, None, 2])  # a blank part is not a printed 0


@settings(max_examples=200, deadline=None)
@given(text=st.from_regex(r"[0-9]{1,12}", fullmatch=True), width=st.sampled_from([3, 7, 15]), most=st.integers(0, 15))
def test_a_cells_ways_made_one_at_a_time_are_its_kept_ways_that_fit(text, width, most):
    # Made lazily for long runs (only as many as are taken), the same ways in the same order as
    # the kept list filtered to the columns left: no reading changes by being made lazily.
    kept = [way for way in placement._ways(text, width) if len(way[0]) <= min(most, width)]
    assert list(placement._ways_within(text, min(most, width))) == kept


def test_a_long_run_over_section_fours_columns_makes_only_the_splits_it_weighs():
    # 20 digits over 15 columns have half a million ways; only the first 50,000 splits are
    # weighed, and only those are made, in the order of the first ones of every way.
    run = placement.RawCell("9" * 20, 0, 20)
    made = placement._splits([run], 15)
    assert len(made) == placement._MAX_SPLITS
    assert made[0][1] == (int(run.text),)  # as printed first
    assert all(len(amounts) <= 15 for _, amounts, _ in made)
    first = placement._splits([run], 15, most=10)
    assert [(e, a) for e, a, _ in first] == [(e, a) for e, a, _ in made[:10]]
    assert all("".join(c.text for c in parts()) == run.text for _, _, parts in first)
