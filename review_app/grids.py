"""Tables as the grids the reviewer edits: text cells ("" blank, "0", "/" not applicable), one
grid line per template row (section 二, whose rows have different columns: one line per cell)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from extraction import review, template
from extraction.review import Key
from extraction.schema import Table


def grid(table: Table) -> pd.DataFrame:
    """A table as text cells: "" blank, "0", "/" not applicable; one row per template row."""
    spec = template.spec(table.section, table.version)
    if table.section == "proactive":  # rows of 二 have different columns: one line per cell
        records = [
            {"项目": row.label, "列": column.label, "值": review.text_of(table.cell(row.key, column.key))}
            for row in spec.rows
            for column in row.columns
        ]
        return pd.DataFrame(records)
    columns = spec.rows[0].columns
    data: dict[str, list[str]] = {"行": [r.name for r in spec.rows]}
    for column in columns:
        data[column.label] = [review.text_of(table.cell(r.key, column.key)) for r in spec.rows]
    return pd.DataFrame(data)


def grid_keys(table: Table) -> list[list[Key | None]]:
    """For each grid line, the cell key of each grid column (None for a label column)."""
    spec = template.spec(table.section, table.version)
    if table.section == "proactive":
        return [[None, None, (table.section, r.key, c.key)] for r in spec.rows for c in r.columns]
    return [[None] + [(table.section, r.key, c.key) for c in spec.rows[0].columns] for r in spec.rows]


LABEL_WIDTH, VALUE_WIDTH = 130, 64  # pixels: the 总计 column of 三 stays on screen


def column_config(frame: pd.DataFrame) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for name in frame.columns:
        if name in ("行", "项目", "列"):
            config[name] = st.column_config.TextColumn(name, disabled=True, width=LABEL_WIDTH, pinned=True)
        else:
            config[name] = st.column_config.TextColumn(name, width=VALUE_WIDTH if name != "值" else 2 * VALUE_WIDTH)
    return config


FAILING_LABEL = "background-color:#ffe08a"  # a line holding a cell behind a failing identity
EDITED_LABEL = "background-color:#cfe3ff;font-weight:600"  # a line holding a cell you changed


def marked(frame: pd.DataFrame, table: Table, failing: set[Key], edited: set[Key]) -> Any:
    """The grid with the label of each line that holds a failing cell or a cell under edit
    coloured as the source marks them (streamlit styles only a grid's read-only columns)."""
    lines = grid_keys(table)

    def style(column: pd.Series) -> list[str]:
        out = []
        for keys in lines:
            inside = {k for k in keys if k is not None}
            out.append(EDITED_LABEL if inside & edited else FAILING_LABEL if inside & failing else "")
        return out

    label = "项目" if table.section == "proactive" else "行"
    return frame.style.apply(style, subset=[label])
