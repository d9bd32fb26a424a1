"""Stage 2, text -> tables: in goes a report's text; out comes an Extraction (`layout.parse`):
the title (agency, year), sections 二, 三 and 四 as typed tables whose every cell points at what was
printed, the layout family each was read in, and a finding for every doubt (which printed
number is which cell, weighed by the template's identities; normalising one printed cell).
"""
