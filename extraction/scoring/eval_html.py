"""An evaluation run as one self-contained HTML page a non-programmer can read.

No scripts, no network: tables and inline SVG bar charts. Every piece of report text is
escaped, so a source that contains markup is shown, never interpreted.
"""

from __future__ import annotations

from html import escape
from typing import Any

_EXPLAIN = {
    "accuracy": "Share of all gold cells extracted exactly (a blank and a 0 are different answers).",
    "accuracy_blank_as_zero": "The same, counting a blank and a 0 as equal.",
    "nonzero_precision": "Of the non-zero numbers extracted, the share that are right.",
    "nonzero_recall": "Of the non-zero numbers printed, the share extracted right (an empty answer scores 0).",
    "nonzero_f1": "Balance of the two above.",
    "exact_table_rate": "Share of tables with every cell right.",
    "exact_report_rate": "Share of reports with all three tables right.",
    "queue_rate": "Share of reports sent to a reviewer.",
    "queued_but_correct_rate": "Of the reports sent to a reviewer, the share already right (reviewer time spent).",
}

_STYLE = """
body{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2rem auto;max-width:72rem;color:#222}
h1{margin-bottom:.2rem} h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.3rem}
table{border-collapse:collapse;margin:.6rem 0}
td,th{border:1px solid #ddd;padding:.3rem .6rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#f4f4f4} td.n{text-align:right;font-variant-numeric:tabular-nums}
.safety{font-size:1.4rem;padding:1rem;border-radius:.4rem;display:inline-block}
.ok{background:#e5f5e5;border:1px solid #6b6} .bad{background:#fde8e8;border:1px solid #d55}
.muted{color:#777} code{background:#f4f4f4;padding:0 .2rem}
"""


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _bars(values: dict[str, float], as_percent: bool, colour: str = "#4a7fd0") -> str:
    """A horizontal bar chart in SVG."""
    if not values:
        return '<p class="muted">nothing to show</p>'
    top = max(values.values()) or 1
    scale = 1 if as_percent else top
    height = 22 * len(values) + 10
    rows = []
    for i, (name, value) in enumerate(values.items()):
        width = 420 * (value / scale if scale else 0)
        label = _pct(value) if as_percent else str(int(value))
        y = 22 * i + 5
        rows.append(
            f'<text x="0" y="{y + 14}" font-size="13">{escape(name)}</text>'
            f'<rect x="260" y="{y}" width="{width:.1f}" height="16" fill="{colour}"/>'
            f'<text x="{265 + width:.1f}" y="{y + 13}" font-size="12">{label}</text>'
        )
    return f'<svg width="760" height="{height}" role="img">{"".join(rows)}</svg>'


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{escape(str(c))}</td>' if isinstance(c, (int, float)) else f"<td>{escape(str(c))}</td>"
            for c in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def render(record: dict[str, Any]) -> str:
    """The page: the safety figure first, then the overall figures, charts, breakdowns, every wrong cell."""
    summary = record["summary"]
    overall = summary["overall"]
    parts = _headline(record, overall)
    if summary["accepted_but_wrong"]:
        parts.append(
            _table(
                ["report", "wrong cells"],
                [[d["source"] or d["doc_id"], d["wrong_cells"]] for d in summary["accepted_but_wrong"]],
            )
        )
    parts.append("<h2>Overall</h2>")
    parts.append(_table(["figure", "value", "what it means"], [[k, _pct(overall[k]), v] for k, v in _EXPLAIN.items()]))
    parts.append("<h2>By section</h2>")
    parts.append(
        _table(
            ["section", "cells", "accuracy", "blank = 0", "exact tables"],
            [
                [s, m["cells"], _pct(m["accuracy"]), _pct(m["accuracy_blank_as_zero"]), _pct(m["exact_tables"])]
                for s, m in overall["sections"].items()
            ],
        )
    )
    layouts = summary["breakdowns"]["layout"]
    parts.append("<h2>Accuracy by layout family</h2>")
    parts.append(_bars({k: v["accuracy"] or 0.0 for k, v in layouts.items()}, as_percent=True))
    parts.append("<h2>Which rows go wrong</h2>")
    parts.append(
        _bars({k: float(v) for k, v in list(summary["wrong_rows"].items())[:20]}, as_percent=False, colour="#d0704a")
    )
    parts += _breakdowns(summary["breakdowns"])
    parts.append("<h2>Every wrong cell</h2>")
    parts.append(_wrong_cells(record["wrong"]))
    parts.append("</body></html>")
    return "\n".join(parts)


def _headline(record: dict[str, Any], overall: dict[str, Any]) -> list[str]:
    """The page's head and the figure that matters most: wrong tables accepted without review."""
    wrong_accepted = overall["accepted_but_wrong"]
    safety_class = "ok" if wrong_accepted == 0 else "bad"
    return [
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>",
        f"<title>xxgk evaluation {escape(str(record.get('id', '')))}</title><style>{_STYLE}</style></head><body>",
        "<h1>How right are the extracted tables?</h1>",
        f"<p class='muted'>Run {escape(str(record.get('id', '')))} {escape(record.get('label') or '')} · "
        f"{escape(record.get('created_at', ''))} · {overall['documents']} reports, {overall['cells']} gold cells</p>",
        f"<div class='safety {safety_class}'><b>{wrong_accepted}</b> report(s) accepted without review and wrong "
        f"(of {overall['accepted']} accepted)</div>",
        "<p>This is the number that matters most: a wrong table that no check stopped.</p>",
    ]


def _breakdowns(breakdowns: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    parts = []
    for by in ("extractor", "model", "prompt_version", "template"):
        groups = breakdowns[by]
        parts.append(f"<h2>By {escape(by.replace('_', ' '))}</h2>")
        parts.append(
            _table(
                [by, "reports", "accuracy", "exact reports", "accepted but wrong", "queue rate"],
                [
                    [
                        k,
                        m["documents"],
                        _pct(m["accuracy"]),
                        _pct(m["exact_report_rate"]),
                        m["accepted_but_wrong"],
                        _pct(m["queue_rate"]),
                    ]
                    for k, m in groups.items()
                ],
            )
        )
    return parts


def _wrong_cells(wrong: list[dict[str, Any]]) -> str:
    if not wrong:
        return "<p>None.</p>"
    return _table(
        ["report", "cell", "gold", "got", "caught by", "source text around it"],
        [
            [
                w["source"] or w["doc_id"][:12],
                f"{w['section']}.{w['row']}.{w['column']}",
                _show(w["gold"]),
                _show(w["got"]),
                ", ".join(w["caught_by"]) or "not caught",
                w["snippet"],
            ]
            for w in wrong
        ],
    )


def _show(value: Any) -> str:
    return "blank" if value is None else str(value)
