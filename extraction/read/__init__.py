"""Stage 1, files -> text: in go report files as users hold them (text in any Chinese encoding,
garbled text, web pages, Word .docx, PDF text layers, scans); out comes a Document (`ingest`)
whose text keeps every table cell by cell, with the cells OCR doubted and the page images, or a
reason the file could not be read.
"""
