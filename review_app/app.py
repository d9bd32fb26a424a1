"""xxgk review: the queue where people fix and confirm extractions (a screen over extraction.review).

Start it with `xxgk review [--db FILE] [--port N] [--host ADDR]`. Three rules shape this screen:
- nothing typed is lost: the grids, the note and every action button sit in one form, so edits
  stay in the browser until an action submits them all at once (no keystroke races a re-run),
  and the draft lives in the session until it is saved, across items and conflicts;
- a report is data, never markup: every report-supplied string (file name, agency, text) is
  shown through st.text, st.dataframe or escaped HTML, never handed to the Markdown renderer;
- a re-run does no whole-queue work: the item page asks SQL for its neighbours and position.
Beside it: grids.py (tables as editable grids, rows marked), source_pane.py (the text and page
images), scripted.py (a reviewer's browser work, scripted and counted, for tests and the bench).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from extraction import export, review, template
from extraction.review import Change, Key
from extraction.schema import Report, Table
from extraction.storage import store

if str(Path(__file__).parent) not in sys.path:  # `streamlit run` puts it there; streamlit's AppTest does not
    sys.path.insert(0, str(Path(__file__).parent))
import source_pane
from grids import column_config, grid, grid_keys, marked

PAGES = ("Queue", "Item", "Failed", "Gold", "Stats")
NOTE_PRESETS = {
    "misread": "解析读错了原文数字 · the parser misread the printed digits",
    "absent": "原文没有此表 · the report prints no such table",
}


def connect() -> Any:
    """The store, opened per run and per callback (a sqlite connection stays in its thread)."""
    return store.open_db(db_path())


def db_path() -> str:
    """`streamlit run app.py -- --db FILE`, else XXGK_DB, else ./xxgk.db."""
    args = sys.argv[1:]
    if "--db" in args and args.index("--db") + 1 < len(args):
        return args[args.index("--db") + 1]
    return os.environ.get("XXGK_DB", "xxgk.db")


def reviewer() -> str:
    """The identity from st.login when configured, else a name entered once per session."""
    return (
        reviewer_from_login()
        or st.sidebar.text_input("Your name (recorded with every decision)", key="reviewer").strip()
    )


def plain(text: object) -> str:
    """A string for a Markdown-rendering element (alerts, buttons), every markup character escaped."""
    return "".join("\\" + c if c in "\\`*_{}[]()#+-.!|<>~$:=" else c for c in str(text))


def notice(doc_id: str, kind: str, text: str) -> None:
    """A message that stays on screen until the next action on this item."""
    st.session_state.setdefault("notices", {}).setdefault(doc_id, []).append((kind, text))


def show_notices(doc_id: str) -> None:
    for kind, text in st.session_state.get("notices", {}).get(doc_id, []):
        getattr(st, kind)(plain(text))


# --- Session state: drafts, the review each item started from, editor generations ------------


def drafts(doc_id: str) -> dict[Key, Change]:
    return st.session_state.setdefault("drafts", {}).setdefault(doc_id, {})


def editor_key(section: str, doc_id: str) -> str:
    generation = st.session_state.setdefault("generations", {}).get(doc_id, 0)
    return f"ed-{section}-{doc_id[:12]}-{generation}"


def rebuild(doc_id: str) -> None:
    """Editors start again from the draft (their own deltas have been taken into it)."""
    generations = st.session_state.setdefault("generations", {})
    generations[doc_id] = generations.get(doc_id, 0) + 1


def base_report(item: review.Item) -> Report:
    version = st.session_state.get("versions", {}).get(item.doc_id)
    return review.complete(item.report, version)


def absorb(item: review.Item) -> None:
    """Take every grid's submitted edits into the draft, marked as typed."""
    base = base_report(item)
    draft = drafts(item.doc_id)
    current = with_draft(base, draft, strict=False)
    for table in current.tables():
        state = st.session_state.get(editor_key(table.section, item.doc_id))
        if not state:
            continue
        keys = grid_keys(table)
        labels = list(grid(table).columns)
        for line, edited in state.get("edited_rows", {}).items():
            for label, value in edited.items():
                key = keys[int(line)][labels.index(label)]
                if key is None:
                    continue
                text = "" if value is None else str(value).strip()
                if text == review.text_of(base.table(key[0]).cell(key[1], key[2])):  # type: ignore[union-attr]
                    draft.pop(key, None)  # typed back to what it was
                else:
                    draft[key] = Change(text, "typed")
    rebuild(item.doc_id)


def with_draft(base: Report, draft: dict[Key, Change], strict: bool = True) -> Report:
    try:
        return review.with_changes(base, draft)
    except ValueError:
        if strict:
            raise
        return review.with_changes(base, {k: c for k, c in draft.items() if _readable(k, c)})


def _readable(key: Key, change: Change) -> bool:
    try:
        review.with_changes(review.complete(Report(), "2021"), {key: change})
    except ValueError:
        return False
    return True


# --- Actions (form callbacks: they run before the page is drawn again) -----------------------


def open_doc(doc_id: str) -> None:
    st.session_state["doc"] = doc_id
    st.session_state["page"] = "Item"


def _open_item(db: Any, doc_id: str) -> review.Item:
    opened = st.session_state.setdefault("opened", {})
    if doc_id in opened:
        return review.open_item(db, doc_id, based_on=opened[doc_id])
    item = review.open_item(db, doc_id)
    opened[doc_id] = item.based_on  # what this reviewer started from: a later save by someone else conflicts
    return item


def act(doc_id: str, action: str, *args: Any) -> None:
    """Every button of the item form: the submitted edits go into the draft first, then the action."""
    db = connect()
    st.session_state.setdefault("notices", {})[doc_id] = []
    item = _open_item(db, doc_id)
    absorb(item)
    draft = drafts(doc_id)
    if action == "choose":  # a reading the parser offered, or a split of pasted digits
        why, values = args
        for key, text in values.items():
            draft[key] = Change(text, why)
    elif action == "fill":
        for key, value in review.derived_totals(with_draft(base_report(item), draft, strict=False)).items():
            draft[key] = Change(str(value), "derived")
    elif action == "splits":
        _offer_splits(item)
    elif action == "version":
        st.session_state.setdefault("versions", {})[doc_id] = st.session_state[f"version-{doc_id}"]
    elif action in ("fix", "accept", "discard"):
        _decide(db, item, action)


def _offer_splits(item: review.Item) -> None:
    doc_id = item.doc_id
    pasted = st.session_state.get(f"paste-{doc_id}", "")
    target = st.session_state.get(f"paste-row-{doc_id}", "")
    offers = st.session_state.setdefault("offers", {})
    offers[doc_id] = []
    if not pasted.strip() or not target:
        notice(doc_id, "warning", "Paste a row's printed digits (or a whole section's text) and pick the row first.")
        return
    section, row = target.split(".")
    version = base_report(item).table(section).version  # type: ignore[union-attr]
    if row == "*":
        table = review.section_from_text(section, pasted)
        if table is None or review.is_empty(table):
            notice(doc_id, "warning", "No table could be read from the pasted text; paste it row by row.")
            return
        values = {(section, r, c): review.text_of(cell) for r, cols in table.cells.items() for c, cell in cols.items()}
        offers[doc_id] = [("pasted", "the whole section as read from the pasted text", values)]
        return
    width = len(template.spec(section, version).row(row).columns)  # type: ignore[arg-type]
    found = review.splits(section, version, row, pasted)
    for placed in found:
        fits = "✓" if review.balances(section, version, row, placed) else "✗"
        shown = " | ".join(t or "·" for t in placed.values())
        offers[doc_id].append(("split", f"{fits} {shown}", {(section, row, c): t for c, t in placed.items()}))
    if not found:
        notice(doc_id, "warning", f"The pasted digits do not fit the {width} columns of {row}.")


def _decide(db: Any, item: review.Item, action: str) -> None:
    doc_id = item.doc_id
    name = st.session_state.get("reviewer", "").strip() or reviewer_from_login()
    if not name:
        notice(doc_id, "error", "Enter your name in the sidebar first: every decision records who made it.")
        return
    note = st.session_state.get(f"note-{doc_id}", "")
    draft = drafts(doc_id)
    following = review.neighbour(db, doc_id, 1)
    try:
        current = with_draft(base_report(item), draft)
        if action == "fix":
            review_id = review.save_fix(db, item, current, name, note, draft)
        elif action == "accept":
            review_id = review.accept_as_printed(db, item, current, name, note, draft)
        else:
            review_id = review.discard(db, item, name, note)
    except store.Conflict as conflict:
        other = conflict.other
        st.session_state.setdefault("conflicts", {})[doc_id] = other
        notice(
            doc_id,
            "error",
            f"Not saved: {other['reviewer']} saved review {other['id']} of this document at {other['created_at']} "
            f"after you opened it ({other['action']}; note: {other['note'] or '-'}). Your draft is kept: "
            "load the latest to continue from their review.",
        )
        return
    except review.Refused as refused:
        lines = "\n".join(f"- {o}" for o in refused.objections)
        notice(doc_id, "error", f"Not saved, a note is needed:\n{lines}")
        return
    except ValueError as problem:
        notice(doc_id, "error", f"Not saved: {problem}")
        return
    st.session_state["drafts"].pop(doc_id, None)
    st.session_state["opened"][doc_id] = review_id
    st.session_state.setdefault("conflicts", {}).pop(doc_id, None)
    done = {"fix": "saved as a fix", "accept": "accepted as printed", "discard": "discarded (not a report)"}[action]
    message = f"Review {review_id}: {item.name.rsplit('/', 1)[-1]} {done}."
    if following and following != doc_id:
        st.session_state["doc"] = following
        notice(following, "success", message + " This is the next item.")
    else:
        notice(doc_id, "success", message + " The queue is empty.")


def reviewer_from_login() -> str:
    user = getattr(st, "user", None)
    try:
        if user is not None and user.is_logged_in:
            return str(user.get("email") or user.get("name"))
    except Exception:  # st.user without an auth configuration
        pass
    return ""


def load_latest(doc_id: str) -> None:
    """After a conflict: start from the review saved meanwhile, the draft kept on top of it."""
    db = connect()
    latest = store.latest_review(db, doc_id)
    st.session_state["opened"][doc_id] = latest["id"] if latest else None
    st.session_state["conflicts"].pop(doc_id, None)
    st.session_state["notices"][doc_id] = [
        ("info", f"Loaded review {latest['id'] if latest else '-'}; your draft is kept on top of it.")
    ]
    rebuild(doc_id)


def preset(doc_id: str, which: str) -> None:
    st.session_state[f"note-{doc_id}"] = NOTE_PRESETS[which]


def move(doc_id: str, step: int) -> None:
    target = review.neighbour(connect(), doc_id, step)
    if target:
        st.session_state["doc"] = target


# --- Pages -----------------------------------------------------------------------------------


PAGE_ROWS = 100  # queue rows per page: the page costs the same with 100 or 10,000 queued


def queue_page(db: Any) -> None:
    st.header("Review queue")
    whole = review.queue_summary(db)
    failed = db.execute("select count(*) from documents where status = 'failed'").fetchone()[0]
    left, middle, right = st.columns(3)
    left.metric("Queued · 待审", whole.queued)
    middle.metric("Cells to check · 待核格数", whole.cells)
    right.metric("Failed to read · 读取失败", failed)
    if not whole.queued:
        st.success("Nothing waits for review.")
        return
    counts = whole.reasons
    st.dataframe(
        pd.DataFrame([{"why · 原因": review.reason_text(k), "documents": n} for k, n in counts.most_common()]),
        hide_index=True,
    )
    a, b, c = st.columns(3)
    reasons = a.multiselect("Reason · 原因", sorted(counts), format_func=review.reason_text, key="f_reason")
    agencies = b.multiselect("Agency", whole.agencies, key="f_agency")
    order = c.selectbox("Sort", ("oldest first", "fewest cells first", "most cells first"), key="f_sort")
    kept = review.queue_summary(db, reasons, agencies).queued if reasons or agencies else whole.queued
    pages = max(1, -(-kept // PAGE_ROWS))
    number = min(st.session_state.get("queue_page_number", 1), pages)
    if pages > 1:
        number = st.number_input(f"Page (of {pages}, {PAGE_ROWS} a page)", 1, pages, number, key="queue_page_number")
    shown = review.queue(db, PAGE_ROWS, (number - 1) * PAGE_ROWS, reasons, agencies, order)
    st.session_state["queue_shown"] = [i.doc_id for i in shown]
    first = (number - 1) * PAGE_ROWS + 1
    st.caption(f"Click a row to open it · 点击一行打开 — {first}–{first + len(shown) - 1} of {kept}")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "file": i.name.rsplit("/", 1)[-1],
                    "agency": i.agency,
                    "year": i.year,
                    "template": i.template,
                    "cells": i.cells,
                    "why · 原因": i.why,
                    "since": i.since[:19],
                }
                for i in shown
            ]
        ),
        hide_index=True,
        on_select=_picked,
        selection_mode="single-row",
        key="queue_table",
        column_config={"why · 原因": st.column_config.TextColumn(width="large")},
    )


def _picked() -> None:
    rows = st.session_state["queue_table"].selection.rows
    if rows:
        open_doc(st.session_state["queue_shown"][rows[0]])


def item_page(db: Any) -> None:
    doc_id = st.session_state.get("doc") or review.neighbour(db, None)
    if doc_id is None:
        st.info("Nothing to review. Pick a document on the Queue page.")
        return
    st.session_state["doc"] = doc_id
    try:
        item = _open_item(db, doc_id)
    except ValueError as problem:
        st.error(plain(problem))
        return
    _navigation(db, doc_id)
    st.text(f"{item.name.rsplit('/', 1)[-1]} · {item.status} · values from {item.extractor}")
    show_notices(doc_id)
    if doc_id in st.session_state.get("conflicts", {}):
        st.button("Load latest (keep my draft) · 载入最新", on_click=load_latest, args=(doc_id,), key="latest")
    waiting = [f for f in item.findings if f.blocks_acceptance]
    for f in waiting:
        st.text(f"✗ {review.reason_text(review.reason_of(f.id))} — {f.message}")
    base = base_report(item)
    draft = drafts(doc_id)
    current = with_draft(base, draft, strict=False)
    failing = [f for f in review.recheck(current) if f.blocks_acceptance]
    source, work = st.columns([5, 6])
    with work:
        repair = review.repair(current)
        _form(db, item, current, failing, repair)
        _comparison(item)
    with source:
        source_pane.source(db, item, failing, draft, repair.cell if repair else None)


def _form(db: Any, item: review.Item, current: Report, failing: list[Any], repair: review.Repair | None) -> None:
    doc_id = item.doc_id
    draft = drafts(doc_id)
    failing_cells = {cell for f in failing for cell in f.cells}
    with st.form(f"form-{doc_id[:12]}", enter_to_submit=False, border=False):
        st.caption(
            "Edits stay in this page until you press a button below: blank = empty, 0 = zero, / = 不适用. "
            "Row labels: yellow, the row holds a cell behind a failing identity; blue, a cell you changed."
        )
        if item.report.template_version() is None:
            st.selectbox("Template version", ("2021", "2019"), key=f"version-{doc_id}")
            st.form_submit_button("Use this version", on_click=act, args=(doc_id, "version"))
        for table in current.tables():
            st.text(f"{template.SECTION_TITLES[table.section]} ({table.version})")
            if repair is not None and repair.cell[0] == table.section:
                _offer_repair(item, table, repair)  # above its grid: the first thing read on opening
            frame = grid(table)
            st.data_editor(
                marked(frame, table, failing_cells, set(draft)),
                key=editor_key(table.section, doc_id),
                column_config=column_config(frame),
                num_rows="fixed",
                hide_index=True,
                width="stretch",
                height=35 * (len(frame) + 1) + 3,  # no inner scrolling: every row on the page
            )
        if failing:
            st.warning(f"{len(failing)} identity check(s) fail on the values above:")
            for f in failing[:12]:
                st.text(f"✗ {f.message}")
        else:
            st.success("All hard identities hold on the values above.")
        if draft:
            st.text("Your changes: " + "; ".join(f"{k[1]}.{k[2]} = {c.text or '(blank)'}" for k, c in draft.items()))
        _fills_and_readings(item, current)
        _paste(db, item, current)
        st.text_area("Note (why: needed for a guarded save, accepting as printed, or discarding)", key=f"note-{doc_id}")
        a, b, c, d = st.columns(4)
        a.form_submit_button("Save fix · 保存", type="primary", on_click=act, args=(doc_id, "fix"), key="save")
        b.form_submit_button(
            "Source inconsistent: accept as printed", on_click=act, args=(doc_id, "accept"), key="accept"
        )
        c.form_submit_button("Not a report / discard", on_click=act, args=(doc_id, "discard"), key="discard")
        d.form_submit_button("Check edits", on_click=act, args=(doc_id, "check"), key="check")
    p, q, _ = st.columns(3)
    p.button("Note: parser misread", on_click=preset, args=(doc_id, "misread"), key="preset-misread")
    q.button("Note: no such table", on_click=preset, args=(doc_id, "absent"), key="preset-absent")


def _fills_and_readings(item: review.Item, current: Report) -> None:
    """One-click offers: blank totals filled from their parts, the parser's readings of a cell."""
    doc_id = item.doc_id
    fills = review.derived_totals(current)
    if fills:
        st.text(
            "Blank totals whose parts are printed: " + "; ".join(f"{r}.{c} = {v}" for (_, r, c), v in fills.items())
        )
        st.form_submit_button("Fill derived totals", on_click=act, args=(doc_id, "fill"), key="fill")
    for n, choice in enumerate(review.choices(item.findings)):
        _, row, column = choice.cell
        st.text(f"The parser's readings of {row}.{column}:")
        cols = st.columns(min(len(choice.options), 6))
        for i, option in enumerate(choice.options[:6]):
            cols[i].form_submit_button(
                plain(option or "(blank)"),
                on_click=act,
                args=(doc_id, "choose", "reading", {choice.cell: option}),
                key=f"reading-{n}-{i}",
            )


def _offer_repair(item: review.Item, table: Table, repair: review.Repair) -> None:
    """The one cell that would settle every failing identity, beside its grid, with the row as
    printed: taken only if the source shows that value (else the source does not balance)."""
    _, row, column = repair.cell
    spec = template.spec(table.section, table.version).row(row)
    label = next(c.label for c in spec.columns if c.key == column)
    st.text(
        f"One cell settles every failing identity · 一格即可平衡: {spec.name} · {label} was read as "
        f"{repair.before or '(blank)'}, the identities need {repair.after}. Compare with the printed row:"
    )
    st.html(review.row_html(item.text, item.original, repair.cell))
    st.form_submit_button(
        plain(f"Source prints {repair.after}: take it (parser misread) · 原文为{repair.after}"),
        on_click=act,
        args=(item.doc_id, "choose", "confirmed", {repair.cell: repair.after}),
        key="repair",
    )
    st.caption(
        f"If the page prints {repair.before or 'nothing'} there, the source itself does not balance: "
        "accept it as printed instead, with a note."
    )


def _paste(db: Any, item: review.Item, current: Report) -> None:
    doc_id = item.doc_id
    targets: dict[str, str] = {}
    for table in current.tables():
        name = review.SECTION_NAMES[table.section]
        targets[f"{table.section}.*"] = f"{name}: the whole section's text"
        for row in template.spec(table.section, table.version).rows:
            targets[f"{table.section}.{row.key}"] = f"{name} {row.name}"
    left, right = st.columns([2, 3])
    left.selectbox("Row", list(targets), format_func=targets.get, key=f"paste-row-{doc_id}")
    right.text_area("Paste its printed digits · 粘贴原文数字", key=f"paste-{doc_id}", height=68)
    st.form_submit_button("Offer splits · 拆分", on_click=act, args=(doc_id, "splits"), key="offer")
    for n, (why, label, values) in enumerate(st.session_state.get("offers", {}).get(doc_id, [])):
        st.form_submit_button(
            plain(f"Take {label}"), on_click=act, args=(doc_id, "choose", why, values), key=f"take-{n}"
        )


def _navigation(db: Any, doc_id: str) -> None:
    previous, position, following = st.columns([1, 4, 1])
    previous.button("← Previous", on_click=move, args=(doc_id, -1), key="prev")
    place = review.queue_position(db, doc_id)
    total = review.queue_size(db)
    position.caption(f"{place} of {total} in the queue" if place else f"not in the queue ({total} queued)")
    following.button("Next →", on_click=move, args=(doc_id, 1), key="next")


def _comparison(item: review.Item) -> None:
    with st.expander("Original extraction and other extractors"):
        for table in item.original.tables():
            st.caption(f"{template.SECTION_TITLES[table.section]} as extracted")
            st.dataframe(grid(table), hide_index=True)
        disagreements = [f for f in item.findings if ".both.disagree." in f.id]
        if disagreements:
            st.caption("Where the layout parser and the model disagree")
            st.dataframe(
                pd.DataFrame(
                    [{"cell": f.id.split(".disagree.")[-1], "layout": f.left, "model": f.right} for f in disagreements]
                )
            )


def failed_page(db: Any) -> None:
    st.header("Failed documents · 读取失败")
    rows = review.failed_documents(db)
    if not rows:
        st.info("No document failed.")
        return
    frame = pd.DataFrame(
        [{"file": r["name"].rsplit("/", 1)[-1], "format": r["format"], "why": r["error"]} for r in rows]
    )
    st.dataframe(frame, hide_index=True, column_config={"why": st.column_config.TextColumn(width="large")})


def gold_page(db: Any) -> None:
    st.header("Gold examples")
    rows = review.gold_examples(db)
    if not rows:
        st.info("No reviewed documents yet.")
        return
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    reviewed = {row["doc_id"] for row in rows}
    lines = [store.dumps(export.record(db, store.document(db, d))) for d in sorted(reviewed)]
    st.download_button(
        "Download (export format, jsonl)", "\n".join(lines) + "\n", file_name="gold.jsonl", key="download"
    )


def stats_page(db: Any) -> None:
    st.header("Stats")
    figures = review.stats(db)
    st.subheader("Documents by status")
    st.bar_chart(pd.Series(figures["status"], name="documents"))
    if figures["queue_over_time"]:
        st.subheader("Queue size over time")
        st.line_chart(pd.DataFrame(figures["queue_over_time"]).set_index("at"))
    if figures["top_identities"]:
        st.subheader("Top failing identities")
        st.bar_chart(pd.Series(dict(figures["top_identities"]), name="documents"))
    if figures["reviews_per_day"]:
        st.subheader("Review throughput")
        st.bar_chart(pd.DataFrame(figures["reviews_per_day"]), x="day", y="reviews", color="reviewer")


def main() -> None:
    st.set_page_config(page_title="xxgk review", layout="wide")
    db = connect()
    if not st.session_state.get("prepared"):
        review.prepare(db)
        st.session_state["prepared"] = True
    requested = st.query_params.get("doc")
    if requested and "doc" not in st.session_state:
        row = db.execute("select id from documents where id like ? limit 1", [requested + "%"]).fetchone()
        if row:
            open_doc(row[0])
    page = st.sidebar.radio("Page", PAGES, key="page")
    reviewer()
    {"Item": item_page, "Failed": failed_page, "Gold": gold_page, "Stats": stats_page}.get(page, queue_page)(db)


main()
