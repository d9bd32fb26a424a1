"""xxgk review: the queue where people fix and confirm extractions (a screen over extraction.review).

Start it with `xxgk review [--db FILE] [--port N]`. Source text is always escaped before it is
shown: a report is data, never markup.
"""

from __future__ import annotations

import os
import sys
from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st

from extraction import export, review, sections, store, template
from extraction.schema import Report, Table, Value

PAGES = ("Queue", "Item", "Gold", "Stats")


def db_path() -> str:
    """`streamlit run app.py -- --db FILE`, else XXGK_DB, else ./xxgk.db."""
    args = sys.argv[1:]
    if "--db" in args and args.index("--db") + 1 < len(args):
        return args[args.index("--db") + 1]
    return os.environ.get("XXGK_DB", "xxgk.db")


def reviewer() -> str:
    """The identity from st.login when configured, else a name entered once per session."""
    user = getattr(st, "user", None)
    try:
        if user is not None and user.is_logged_in:
            return str(user.get("email") or user.get("name"))
    except Exception:  # st.user without an auth configuration
        pass
    return st.sidebar.text_input("Your name (recorded with every decision)", key="reviewer").strip()


# --- Tables as grids -------------------------------------------------------------------------


def grid(table: Table) -> pd.DataFrame:
    """A table as an editable frame: Chinese labels, one row per template row, blanks as empty."""
    spec = template.spec(table.section, table.version)
    if table.section == "proactive":  # rows of 二 have different columns: one line per cell
        records = [
            {"项目": row.label, "列": column.label, "值": _plain(table.value(row.key, column.key))}
            for row in spec.rows
            for column in row.columns
        ]
        return pd.DataFrame(records, index=[f"{r.key}.{c.key}" for r in spec.rows for c in r.columns])
    columns = spec.rows[0].columns
    data = {c.label: [_plain(table.value(r.key, c.key)) for r in spec.rows] for c in columns}
    frame = pd.DataFrame(data, index=[r.key for r in spec.rows])
    frame.insert(0, "行", [r.name for r in spec.rows])
    return frame


def _plain(value: Value) -> float | int | None:
    if value is None:
        return None
    return float(value) if isinstance(value, Decimal) else value


def edits_from(table: Table, frame: pd.DataFrame) -> dict[tuple[str, str, str], Value]:
    """The cells of an edited frame, back in template keys and types (money stays exact)."""
    spec = template.spec(table.section, table.version)
    out: dict[tuple[str, str, str], Value] = {}
    if table.section == "proactive":
        for key, value in frame["值"].items():
            row, column = str(key).split(".")
            kind = next(c.kind for c in spec.row(row).columns if c.key == column)
            out[(table.section, row, column)] = _typed(value, kind)
        return out
    for column in spec.rows[0].columns:
        for row, value in frame[column.label].items():
            out[(table.section, str(row), column.key)] = _typed(value, column.kind)
    return out


def _typed(value: Any, kind: str) -> Value:
    if value is None or pd.isna(value):
        return None
    if kind == "money":
        return Decimal(str(value)).normalize() if value != int(value) else Decimal(int(value))
    return int(value)


def column_config(frame: pd.DataFrame) -> dict[str, Any]:
    config: dict[str, Any] = {c: st.column_config.TextColumn(c, disabled=True) for c in ("行", "项目", "列")}
    for name in frame.columns:
        if name not in config:
            config[name] = st.column_config.NumberColumn(name, step=None)
    return config


# --- Source text -----------------------------------------------------------------------------


# --- Pages -----------------------------------------------------------------------------------


def open_doc(doc_id: str) -> None:
    st.session_state["doc"] = doc_id
    st.session_state["page"] = "Item"


def queue_page(db: Any) -> None:
    st.header("Review queue")
    items = review.queue(db)
    if not items:
        st.success("Nothing waits for review.")
        return
    counts = review.reason_counts(items)
    st.caption("Why items wait: " + ", ".join(f"{reason} ({n})" for reason, n in counts.most_common()))
    left, middle, right = st.columns(3)
    reasons = left.multiselect("Reason", sorted(counts), key="f_reason")
    agencies = middle.multiselect("Agency", sorted({i.agency for i in items}), key="f_agency")
    years = right.multiselect("Year", sorted({i.year for i in items if i.year}), key="f_year")
    templates = left.multiselect("Template", sorted({i.template for i in items}), key="f_template")
    extractors = middle.multiselect("Extractor", sorted({i.extractor for i in items}), key="f_extractor")
    shown = [
        i
        for i in items
        if (not reasons or set(reasons) & set(i.reasons))
        and (not agencies or i.agency in agencies)
        and (not years or i.year in years)
        and (not templates or i.template in templates)
        and (not extractors or i.extractor in extractors)
    ]
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "doc": i.doc_id[:12],
                    "file": i.name.rsplit("/", 1)[-1],
                    "agency": i.agency,
                    "year": i.year,
                    "template": i.template,
                    "extractor": i.extractor,
                    "why": ", ".join(i.reasons),
                    "since": i.since,
                }
                for i in shown
            ]
        ),
        hide_index=True,
    )
    if shown:
        choice = st.selectbox("Item", [i.doc_id for i in shown], format_func=lambda d: _label(shown, d), key="pick")
        st.button("Open", on_click=open_doc, args=(choice,), key="open")


def _label(items: list[review.QueueItem], doc_id: str) -> str:
    item = next(i for i in items if i.doc_id == doc_id)
    return f"{item.name.rsplit('/', 1)[-1]} · {item.agency} {item.year or ''}"


def item_page(db: Any, name: str) -> None:
    ids = [i.doc_id for i in review.queue(db)]
    doc_id = st.session_state.get("doc") or (ids[0] if ids else None)
    if doc_id is None:
        st.info("Nothing to review. Pick a document on the Queue page.")
        return
    item = review.open_item(db, doc_id)
    opened = st.session_state.setdefault("opened", {})
    opened.setdefault(doc_id, item.based_on)  # what this reviewer saw first: a later save by someone else conflicts
    drafts = st.session_state.setdefault("drafts", {})
    generations = st.session_state.setdefault("generations", {})
    if st.session_state.get("last_doc") != doc_id:  # (re)entering: editors start again from the draft
        generations[doc_id] = generations.get(doc_id, 0) + 1
    st.session_state["last_doc"] = doc_id
    _navigation(ids, doc_id)
    st.subheader(f"{item.name.rsplit('/', 1)[-1]} · {item.status} · values from {item.extractor}")

    base = review.with_values(item.report, drafts.get(doc_id, {}))
    left, right = st.columns([2, 5])
    with right:
        edits: dict[tuple[str, str, str], Value] = {}
        for table in base.tables():
            st.markdown(f"**{template.SECTION_TITLES[table.section]}** ({table.version})")
            frame = grid(table)
            key = f"{table.section}-{doc_id}-{generations[doc_id]}"
            edited = st.data_editor(frame, key=key, column_config=column_config(frame), num_rows="fixed")
            edits.update(edits_from(table, edited))
        changed = {k: v for k, v in edits.items() if item.report.table(k[0]).value(k[1], k[2]) != v}  # type: ignore[union-attr]
        drafts[doc_id] = changed
        current = review.with_values(item.report, changed)
        failing = [f for f in review.recheck(current) if f.blocks_acceptance]
        if failing:
            st.warning(f"{len(failing)} identity check(s) still fail:")
            for f in failing:
                st.text(f"✗ {f.id}: {f.message}")
        else:
            st.success("All hard identities hold.")
        fills = review.derived_totals(current)
        if fills:
            st.text(
                "Blank totals whose parts are printed: " + "; ".join(f"{r}.{c} = {v}" for (_, r, c), v in fills.items())
            )
            st.button("Fill derived totals", on_click=_fill, args=(doc_id, fills), key="fill")
        note = st.text_area("Note (required to accept an inconsistent source as printed)", key=f"note-{doc_id}")
        a, b, c = st.columns(3)
        if a.button("Save fix", key="save", type="primary"):
            _decide(db, item, current, name, note, fix=True)
        if b.button("Accept as printed", key="accept"):
            _decide(db, item, current, name, note, fix=False)
        c.button("Skip", on_click=_move, args=(ids, doc_id, 1), key="skip")
        _comparison(item)
    with left:
        spans = [s for f in failing for cell in f.cells if (s := _span(item.original, cell)) is not None]
        located = sections.locate(item.text)
        # Open the text at the section the first failing cell is in, else at the first table.
        first = next((f.cells[0][0] for f in failing if f.cells), None)
        start = located[first].start if first in located else min((s.start for s in located.values()), default=0)
        doubts = [f for f in item.findings if ".ocr_confidence." in f.id]
        spans += [s for f in doubts for cell in f.cells if (s := _span(item.original, cell)) is not None]
        images = store.page_images(db, doc_id)
        text_tab, pages_tab = st.tabs(["Text", f"Page images ({len(images)})"])
        with text_tab:
            for f in doubts:
                st.text(f"? {f.message}")
            whole = st.toggle("Whole text", key=f"whole-{doc_id}")
            st.html(review.source_html(item.text, spans, 0 if whole else start))
        with pages_tab:
            if not images:
                st.caption("This file has a text layer: there are no scanned pages to show.")
            for number, image in enumerate(images, 1):
                st.image(image, caption=f"page {number}", width="stretch")


def _span(report: Report, cell: tuple[str, str, str]) -> tuple[int, int] | None:
    table = report.table(cell[0])  # type: ignore[arg-type]
    if table is None or cell[1] not in table.cells or cell[2] not in table.cells[cell[1]]:
        return None
    return table.cell(cell[1], cell[2]).span


def _navigation(ids: list[str], doc_id: str) -> None:
    previous, position, following = st.columns([1, 4, 1])
    previous.button("← Previous", on_click=_move, args=(ids, doc_id, -1), key="prev")
    where = f"{ids.index(doc_id) + 1} of {len(ids)} in the queue" if doc_id in ids else "not in the queue"
    position.caption(where)
    following.button("Next →", on_click=_move, args=(ids, doc_id, 1), key="next")


def _move(ids: list[str], doc_id: str, step: int) -> None:
    if not ids:
        return
    index = ids.index(doc_id) if doc_id in ids else -1
    st.session_state["doc"] = ids[(index + step) % len(ids)]


def _fill(doc_id: str, fills: dict[tuple[str, str, str], Value]) -> None:
    st.session_state["drafts"][doc_id] = {**st.session_state["drafts"].get(doc_id, {}), **fills}
    st.session_state["last_doc"] = None  # rebuild the editors from the filled draft


def _decide(db: Any, item: review.Item, current: Report, name: str, note: str, fix: bool) -> None:
    if not name:
        st.error("Enter your name in the sidebar first: every decision records who made it.")
        return
    item.based_on = st.session_state["opened"][item.doc_id]
    try:
        if fix:
            review_id = review.save_fix(db, item, current, name, note)
        else:
            review_id = review.accept_as_printed(db, item, current, name, note)
    except store.Conflict as conflict:
        other = conflict.other
        st.error(
            f"Not saved: {other['reviewer']} saved a review of this document at {other['created_at']} "
            "after you opened it. Their change is below; reopen the item to start from it."
        )
        st.json({"their decision": other["action"], "their note": other["note"], "their changes": other["diff"]})
        return
    except ValueError as refused:
        st.error(f"Not saved: {refused}")
        return
    st.session_state["drafts"].pop(item.doc_id, None)
    st.session_state["opened"][item.doc_id] = review_id
    st.session_state["last_doc"] = None
    st.success(f"Saved as review {review_id}; this is now a gold example.")


def _comparison(item: review.Item) -> None:
    with st.expander("Original extraction and other extractors"):
        for table in item.original.tables():
            st.caption(f"{template.SECTION_TITLES[table.section]} as extracted")
            st.dataframe(grid(table))
        disagreements = [f for f in item.findings if ".both.disagree." in f.id]
        if disagreements:
            st.caption("Where the layout parser and the model disagree")
            st.dataframe(
                pd.DataFrame(
                    [{"cell": f.id.split(".disagree.")[-1], "layout": f.left, "model": f.right} for f in disagreements]
                )
            )


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
    db = store.open_db(db_path())
    requested = st.query_params.get("doc")
    if requested and "doc" not in st.session_state:
        matches = [d["id"] for d in store.documents(db) if d["id"].startswith(requested)]
        if matches:
            open_doc(matches[0])
    page = st.sidebar.radio("Page", PAGES, key="page")
    name = reviewer()
    if page != "Item":
        st.session_state["last_doc"] = None
    if page == "Item":
        item_page(db, name)
    elif page == "Gold":
        gold_page(db)
    elif page == "Stats":
        stats_page(db)
    else:
        queue_page(db)


main()
