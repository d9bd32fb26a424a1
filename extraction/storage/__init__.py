"""Stage 4, results -> SQLite: in go documents, extractions, findings and reviews; out comes one
store file (`store`, via sqlite-utils) that keeps every attempt and every human decision, runs
sharing it taking turns per document (`claims`, re-exported by `store`), the browsable current
cells and findings (`cells`), and the same agency across years (`agencies`). The tables are
data (`shape`): a store made by older code gains the columns and links it lacks when opened.
"""

# `store` first, whichever module of the package is imported: it re-exports the calls of
# `claims`, which are written over the store's transactions.
from extraction.storage import store as store
