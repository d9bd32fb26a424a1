"""What a reviewer does, as a library: the queue, an item, live re-checks, fixes and decisions.

The review app is a thin screen over these functions. The rules hold here, not in the UI:
- every section can be filled in: a section the parser did not read opens as the template's
  full blank grid (`complete`), so "not read" can never be saved as "the report has no table";
- a decision is guarded (`objections`): a table that still fails a hard identity, a section
  left empty, or a printed value changed by hand is saved only with the reviewer's note, and
  accepting an inconsistent source as printed stays its own, noted action;
- every stored decision lists the cells it changed and why (typed, a parser reading, a split
  of pasted digits, a derived total), and nothing earlier is ever overwritten;
- a save is refused when someone else reviewed the same document after it was opened.
Blank, 0 and "/" are three different cells everywhere here: "" , "0" and "/" in a grid.

The package by concept: `waiting` (why items wait, the queue in SQL), `item` (an item and its
cells), `decisions` (the guarded saves), `offers` (readings, splits, one-cell repairs to take in
one click), `source` (the text and page images beside the grid). Everything is re-exported here:
callers write `review.queue(...)`, `review.save_fix(...)`.
"""

from extraction import template
from extraction.review.decisions import Refused, accept_as_printed, discard, objections, save_fix
from extraction.review.item import (
    WHY,
    Change,
    Item,
    Key,
    complete,
    derived_totals,
    diff,
    finalize,
    is_empty,
    kind_of,
    open_item,
    recheck,
    text_of,
    with_changes,
    with_values,
)
from extraction.review.offers import Choice, Repair, balances, choices, repair, section_from_text, splits
from extraction.review.source import EDITED_STYLE, FAILING_STYLE, printed_row, row_html, source_html
from extraction.review.waiting import (
    REASONS,
    SECTION_NAMES,
    QueueItem,
    QueueSummary,
    failed_documents,
    gold_examples,
    neighbour,
    prepare,
    queue,
    queue_position,
    queue_size,
    queue_summary,
    reason_counts,
    reason_of,
    reason_text,
    stats,
)
from extraction.schema import Cell, CellKind, Finding, Report, Table, Value

__all__ = [
    "EDITED_STYLE",
    "FAILING_STYLE",
    "REASONS",
    "SECTION_NAMES",
    "WHY",
    "Cell",
    "CellKind",
    "Change",
    "Choice",
    "Finding",
    "Item",
    "Key",
    "QueueItem",
    "QueueSummary",
    "Refused",
    "Repair",
    "Report",
    "Table",
    "Value",
    "accept_as_printed",
    "balances",
    "choices",
    "complete",
    "derived_totals",
    "diff",
    "discard",
    "failed_documents",
    "finalize",
    "gold_examples",
    "is_empty",
    "kind_of",
    "neighbour",
    "objections",
    "open_item",
    "prepare",
    "printed_row",
    "queue",
    "queue_position",
    "queue_size",
    "queue_summary",
    "reason_counts",
    "reason_of",
    "reason_text",
    "recheck",
    "repair",
    "row_html",
    "save_fix",
    "section_from_text",
    "source_html",
    "splits",
    "stats",
    "template",
    "text_of",
    "with_changes",
    "with_values",
]
