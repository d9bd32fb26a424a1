"""Stage 6, evaluation: in go the store's extractions and hand-verified gold; out come cell-by-cell
scores, breakdowns and saved runs to compare (`evaluation`), and a run as one HTML page
(`eval_html`).
"""
