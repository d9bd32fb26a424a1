"""Stage 4, results -> SQLite: in go documents, extractions, findings and reviews; out comes one
store file (`store`, via sqlite-utils) that keeps every attempt and every human decision, the
browsable current cells and findings (`cells`), and the same agency across years (`agencies`).
"""
