"""Stage 2, text -> tables: in goes a report's text; out comes an Extraction (`layout.parse`):
the title (agency, year), sections 二, 三 and 四 as typed tables whose every cell points at what was
printed, the layout family each was read in, and a finding for every doubt (which printed
number is which cell, weighed by the template's identities; normalising one printed cell).

The flow: `sections` finds each table's text; `families` says how its rows are printed (lines,
tab rows, Markdown, web text by its labels in `anchored`, PDF streams in `streams`, whose
printing orders `orders` undoes and whose -layout columns `edges` reads) and gives every
family's rows in one shape; `placement` lays a row's printed numbers over its columns (runs cut
into cells, placements where blanks vanished); `choose` keeps the readings the identities
allow across the table, with `search` when the combinations are many; `proactive` reads
section 二, which no identity binds; `normalize` reads one printed cell.
"""
