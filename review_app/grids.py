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
