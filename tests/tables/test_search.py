"""The searches for row readings that satisfy the identities, checked against trying every combination."""

import itertools
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from extraction import checks, template
from extraction.schema import Table
from extraction.synth import generator
from extraction.tables import search

COLUMNS = tuple(c.key for c in template.APPLICANT_COLUMNS)


def test_the_search_for_balanced_readings_checks_section_four_groups_through_its_single_row():
    """Section 四 is one printed row ("*") holding three groups: the search must judge each
    reading by the groups' identities, not take every reading as balanced."""
    table = Table.empty("review_litigation", "2019")
    balanced = {
        (g, c): v
        for g in ("review", "litigation_direct", "litigation_after_review")
        for c, v in zip(("upheld", "corrected", "other", "pending", "total"), (1, 2, 3, 4, 10), strict=True)
    }
    broken = {**balanced, ("review", "total"): 11}
    found = search.balanced(table, {}, ["*"], [[broken, balanced, broken]], max_steps=100)
    assert found is not None and found.picks == [(1,)] and found.every_one


def placements(row: str, printed: list[int | None]) -> list[dict[tuple[str, str], int | None]]:
    """Every reading of a row whose blanks printed nothing: its numbers, in order, in any columns."""
    numbers = [v for v in printed if v is not None]
    out = []
    for at in itertools.combinations(range(len(COLUMNS)), len(numbers)):
        values: dict[tuple[str, str], int | None] = {(row, c): None for c in COLUMNS}
        for column, number in zip(at, numbers, strict=True):
            values[(row, COLUMNS[column])] = number
        out.append(values)
    return out


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), version=st.sampled_from(("2019", "2021")))
def test_the_column_search_finds_exactly_the_combinations_that_balance(seed, version):
    """Three rows of a generated table lose their blanks; the search must return the same
    combinations of their readings as trying every one, the printed one among them."""
    rng = random.Random(seed)
    gold = generator._applications(rng, version)
    printed = {row: [None if v == 0 and c != "total" else v for c, v in cols.items()] for row, cols in gold.items()}
    rows = list(printed)
    open_rows = rng.sample(rows, 2)
    fixed = {(r, c): v for r in rows if r not in open_rows for c, v in zip(COLUMNS, printed[r], strict=True)}
    per_row = [placements(row, printed[row]) for row in open_rows]
    table = Table.empty("applications", version)
    found = search.by_columns(table, fixed, open_rows, per_row, COLUMNS, max_steps=1_000_000)

    def balances(picks: tuple[int, ...]) -> bool:
        values = dict(fixed)
        for opts, pick in zip(per_row, picks, strict=True):
            values.update(opts[pick])
        return checks.count_failures("applications", version, values) == 0

    every = [picks for picks in itertools.product(*[range(len(opts)) for opts in per_row]) if balances(picks)]
    assert found is not None
    assert set(found.picks) <= set(every)

    def amounts(picks: tuple[int, ...]) -> tuple:
        """What a combination adds to the sums: where a 0 stands is not seen."""
        return tuple(v or 0 for opts, p in zip(per_row, picks, strict=True) for _, v in sorted(opts[p].items()))

    classes = {amounts(p) for p in every}
    if found.every_one:  # every balanced combination, up to where a 0 stands, is there
        assert {amounts(p) for p in found.picks} == classes
        for cls in classes:  # and where the 0s could stand elsewhere, a second one shows it
            members = sum(amounts(p) == cls for p in every)
            assert sum(amounts(p) == cls for p in found.picks) == min(members, 2)
    else:  # it stops counting, and says so
        assert len({amounts(p) for p in found.picks}) == search.MAX_SOLUTIONS
    truth = tuple(
        next(i for i, o in enumerate(opts) if [o[(r, c)] for c in COLUMNS] == printed[r])
        for r, opts in zip(open_rows, per_row, strict=True)
    )
    assert truth in every


def test_the_column_search_is_cut_short_rather_than_running_on():
    rng = random.Random(3)
    gold = generator._applications(rng, "2019")
    rows = list(gold)
    per_row = [placements(r, [v or None for v in gold[r].values()]) for r in rows]
    found = search.by_columns(Table.empty("applications", "2019"), {}, rows, per_row, COLUMNS, max_steps=50)
    assert found is None


def test_the_column_search_knows_at_once_when_the_totals_cannot_balance():
    # Every row's blanks vanished, each read with its 总计 last (as the layout parser reads
    # them); 四、结转下年度 printed one more than it should, its own row still adding up. No
    # placement of the parts can mend the 总计 column: the search must say so in a few steps,
    # not wander through the parts until it is cut short.
    gold = generator._applications(random.Random(5), "2019")
    gold["carried_forward"]["natural_person"] += 1
    gold["carried_forward"]["total"] += 1
    rows = list(gold)
    per_row = []
    for row in rows:
        parts = [v for c, v in gold[row].items() if c != "total" and v]
        readings = []
        for at in itertools.combinations(range(len(COLUMNS) - 1), len(parts)):
            values = {(row, c): None for c in COLUMNS} | {(row, "total"): gold[row]["total"]}
            values.update({(row, COLUMNS[column]): v for column, v in zip(at, parts, strict=True)})
            readings.append(values)
        per_row.append(readings)
    assert sum(len(readings) > 1 for readings in per_row) > 10
    found = search.by_columns(Table.empty("applications", "2019"), {}, rows, per_row, COLUMNS, max_steps=50)
    assert found is not None and found.picks == [] and found.every_one


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_failures_of_every_combination_count_what_the_checks_count(seed):
    rng = random.Random(seed)
    gold = generator._applications(rng, "2019")
    printed = {row: [None if v == 0 and c != "total" else v for c, v in cols.items()] for row, cols in gold.items()}
    open_rows = rng.sample(list(printed), 3)
    fixed = {(r, c): v for r in printed if r not in open_rows for c, v in zip(COLUMNS, printed[r], strict=True)}
    per_row = [placements(row, printed[row])[:6] for row in open_rows]
    equations = list(checks.equations("applications", "2019"))
    counted = search.failures_of_every_combination(equations, fixed, per_row)
    for picks, failures in zip(itertools.product(*[range(len(opts)) for opts in per_row]), counted, strict=True):
        values = dict(fixed)
        for opts, pick in zip(per_row, picks, strict=True):
            values.update(opts[pick])
        assert failures == sum(checks.fails(eq, values) for eq in equations)


def test_numbers_too_large_for_64_bits_are_left_to_the_one_by_one_count():
    equations = list(checks.equations("applications", "2019"))
    huge = {("new_received", "total"): 10**30}
    assert search.failures_of_every_combination(equations, huge, [[{("granted", "total"): 1}]]) is None
