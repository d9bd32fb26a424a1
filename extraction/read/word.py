"""Word files (.docx): paragraphs and tables in document order, tables read as tables.

Word merges cells two ways: a cell spanning columns (gridSpan) and a cell continued from the
row above (vMerge="continue"). Both are laid out on the grid as the HTML reader does: the
text in the top-left place, empty cells where the merge spans, so column positions stay
those of the printed table. Rows may also skip grid columns before or after their cells
(gridBefore/gridAfter); those places are empty cells too.
"""

from __future__ import annotations

import io
import zipfile

import docx
from docx.oxml.ns import qn
from docx.oxml.table import CT_Tbl, CT_Tc
from docx.oxml.text.paragraph import CT_P
from docx.text.paragraph import Paragraph

from extraction.read.readout import Readout, TextBuilder, TextCell, cell_text


class NotWord(ValueError):
    """The bytes are not a readable .docx file."""


def read(data: bytes, max_inflated_mb: float = 64.0) -> Readout:
    _check_inflated(data, max_inflated_mb)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises zip, key and package errors alike for a bad file
        raise NotWord(
            f"not a readable Word .docx file ({type(exc).__name__}: {exc}); "
            "if it is an old .doc, convert it with: libreoffice --headless --convert-to docx"
        ) from exc
    builder = TextBuilder(min_confidence=0.0)
    for element in document.element.body.iterchildren():
        if isinstance(element, CT_P):
            builder.line(Paragraph(element, None).text)  # type: ignore[arg-type]
        elif isinstance(element, CT_Tbl):
            builder.table(table_rows(element))
    return Readout(text=builder.text(), pages=1)


def _check_inflated(data: bytes, max_inflated_mb: float) -> None:
    """A .docx is a zip: what its parts unpack to is read from the zip's directory before any is
    inflated (an 8 MB file can unpack to 8 GB of XML, which python-docx would parse whole)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return  # not a zip at all: python-docx words the refusal below
    if inflated > max_inflated_mb * 1024 * 1024:
        raise NotWord(
            f"the .docx unpacks to {inflated / 1024 / 1024:,.0f} MB, over the budget of {max_inflated_mb:g} MB "
            "for what a Word file may unpack to (XXGK_MAX_INFLATED_MB)"
        )


def table_rows(table: CT_Tbl) -> list[list[TextCell]]:
    rows: list[list[TextCell]] = []
    for tr in table.tr_lst:
        row: list[TextCell] = [TextCell("")] * _grid_skip(tr, "w:gridBefore")
        for tc in tr.tc_lst:
            continued = tc.vMerge == "continue"
            row.append(TextCell("" if continued else _text(tc)))
            row.extend([TextCell("")] * (tc.grid_span - 1))
        row.extend([TextCell("")] * _grid_skip(tr, "w:gridAfter"))
        rows.append(row)
    width = max((len(r) for r in rows), default=0)
    return [r + [TextCell("")] * (width - len(r)) for r in rows]


def _text(tc: CT_Tc) -> str:
    """A cell's paragraphs as one line (a nested table's text included, in order)."""
    return cell_text("\n".join(Paragraph(p, None).text for p in tc.iter(qn("w:p"))))  # type: ignore[arg-type]


def _grid_skip(tr: object, tag: str) -> int:
    found = tr.find(f"{qn('w:trPr')}/{qn(tag)}")  # type: ignore[attr-defined]
    if found is None:
        return 0
    try:
        return max(0, min(int(found.get(qn("w:val"), "0")), 100))
    except ValueError:
        return 0
