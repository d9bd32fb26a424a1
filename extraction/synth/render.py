"""Generated reports rendered as the files users hold: Word, a text PDF, a scan (PNG or PDF).

The generator writes a report as a web page; this lays the same paragraphs and tables out on
pages (ruled tables with merged cells, labels wrapped inside their cells) and draws them
with python-docx, reportlab or Pillow. Tests and bench read these files back through
ingestion and compare with the generator's gold, so every reader is proved on files whose
true values are known. Scans are drawn with a CJK font from the machine, blurred and
speckled a little, as a scanner would.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import lxml.html

from extraction.read import html

# Fonts with Chinese glyphs, in order of preference; Debian's fonts-noto-cjk and
# fonts-wqy-microhei put them here.
CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
)
PAGE = (1240, 1754)  # A4 at 150 dpi
MARGIN = 70
MAX_COLUMN = 330  # a label column wider than this wraps its text


def cjk_font() -> str | None:
    return next((f for f in CJK_FONTS if Path(f).exists()), None)


@dataclass(frozen=True)
class Block:
    """A paragraph (cells empty) or a table (text empty) of the page, in reading order."""

    text: str = ""
    cells: tuple[html.Placed, ...] = ()


def blocks(page: str) -> list[Block]:
    """The paragraphs and tables of a generated web page, chrome (menus, scripts) left out."""
    root = lxml.html.fromstring(page)
    html.unwrap_scripts(root)  # a report written from inside a script is drawn like any other
    for element in root.iter("script", "style", "nav"):
        element.drop_tree()
    out = []
    for element in root.iter("h1", "h2", "h3", "p", "div", "table"):
        if element.tag == "table":
            out.append(Block(cells=tuple(html.table_cells(element))))
        elif not any(a.tag == "table" for a in element.iterancestors()) and element.text_content().strip():
            out.append(Block(text=" ".join(element.text_content().split())))
    return out


# --- Word -------------------------------------------------------------------------------------


def docx_bytes(page: str) -> bytes:
    import docx

    document = docx.Document()
    for block in blocks(page):
        if not block.cells:
            document.add_paragraph(block.text)
            continue
        rows = max(p.row + p.rowspan for p in block.cells)
        cols = max(p.column + p.colspan for p in block.cells)
        table = document.add_table(rows=rows, cols=cols)
        table.style = "Table Grid"
        for p in block.cells:
            cell = table.cell(p.row, p.column)
            if p.rowspan > 1 or p.colspan > 1:
                cell = cell.merge(table.cell(p.row + p.rowspan - 1, p.column + p.colspan - 1))
            cell.text = p.text.strip()
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --- Page layout shared by the PDF and the scan ------------------------------------------------

Measure = Callable[[str], float]


@dataclass(frozen=True)
class Draw:
    """One thing on a page: a ruled box (text empty) or a line of text at its baseline-top."""

    page: int
    x: float
    y: float
    w: float = 0
    h: float = 0
    text: str = ""


def _wrap(text: str, width: float, measure: Measure) -> list[str]:
    if text.isascii():
        return [text] if text else []  # a number is printed on one line, however narrow
    lines, line = [], ""
    for ch in text:
        if line and measure(line + ch) > width:
            lines.append(line)
            line = ""
        line += ch
    return [*lines, line] if line else lines


def layout(parts: list[Block], measure: Measure, line_height: float) -> list[Draw]:
    """Paragraphs wrapped to the page; tables ruled, column widths from their contents."""
    width = PAGE[0] - 2 * MARGIN
    draws: list[Draw] = []
    page, y = 0, MARGIN
    pad = line_height * 0.35
    for block in parts:
        if not block.cells:
            lines = _wrap(block.text, width, measure)
            if y + len(lines) * line_height > PAGE[1] - MARGIN:
                page, y = page + 1, MARGIN
            for line in lines:
                draws.append(Draw(page, MARGIN, y, text=line))
                y += line_height
            y += line_height * 0.4
            continue
        cols = max(p.column + p.colspan for p in block.cells)
        rows = max(p.row + p.rowspan for p in block.cells)
        col_w = [line_height * 1.6] * cols
        for p in block.cells:
            if p.colspan == 1:
                col_w[p.column] = max(col_w[p.column], min(measure(p.text.strip()) + 2 * pad + 6, MAX_COLUMN))
        scale = min(1.0, width / sum(col_w))
        col_w = [w * scale for w in col_w]
        xs = [MARGIN + sum(col_w[:i]) for i in range(cols + 1)]
        wrapped = {
            p: _wrap(p.text.strip(), xs[p.column + p.colspan] - xs[p.column] - 2 * pad, measure) for p in block.cells
        }
        row_h = [line_height + 2 * pad] * rows
        for p in block.cells:
            need = len(wrapped[p]) * line_height + 2 * pad
            have = sum(row_h[p.row : p.row + p.rowspan])
            if need > have:
                for r in range(p.row, p.row + p.rowspan):
                    row_h[r] += (need - have) / p.rowspan
        # Rows go on the page while they fit; a table longer than the page goes on over the
        # next, and a merged cell crossing the break is ruled on both, its text on the larger part.
        placed: list[tuple[int, float]] = []
        for h in row_h:
            if y + h > PAGE[1] - MARGIN and y > MARGIN:
                page, y = page + 1, MARGIN
            placed.append((page, y))
            y += h
        for p in block.cells:
            x0, x1 = xs[p.column], xs[p.column + p.colspan]
            parts: dict[int, list[float]] = {}
            for r in range(p.row, p.row + p.rowspan):
                on, top = placed[r]
                part = parts.setdefault(on, [top, top])
                part[1] = top + row_h[r]
            for on, (y0, y1) in parts.items():
                draws.append(Draw(on, x0, y0, x1 - x0, y1 - y0))
            on, (y0, y1) = max(parts.items(), key=lambda item: item[1][1] - item[1][0])
            lines = wrapped[p]
            top = y0 + (y1 - y0 - len(lines) * line_height) / 2
            for i, line in enumerate(lines):
                draws.append(Draw(on, x0 + (x1 - x0 - measure(line)) / 2, top + i * line_height, text=line))
        y += line_height
    return draws


# --- Text PDF ---------------------------------------------------------------------------------


def pdf_bytes(page: str, font_size: float = 16) -> bytes:
    """A PDF with a real text layer, in the CID font every PDF reader knows (no file needed)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    draws = layout(blocks(page), lambda t: pdfmetrics.stringWidth(t, "STSong-Light", font_size), font_size * 1.5)
    out = io.BytesIO()
    # Layout units are pixels at 150 dpi; the PDF page is A4 in points.
    k = 72 / 150
    pdf = canvas.Canvas(out, pagesize=(PAGE[0] * k, PAGE[1] * k))
    pdf.setFont("STSong-Light", font_size * k)
    for number in range(max((d.page for d in draws), default=0) + 1):
        if number:
            pdf.showPage()
            pdf.setFont("STSong-Light", font_size * k)
        for d in (d for d in draws if d.page == number):
            if d.text:
                pdf.drawString(d.x * k, (PAGE[1] - d.y - font_size * 1.1) * k, d.text)
            else:
                pdf.rect(d.x * k, (PAGE[1] - d.y - d.h) * k, d.w * k, d.h * k)
    pdf.save()
    return out.getvalue()


# --- Scans ------------------------------------------------------------------------------------


def scan_images(page: str, seed: int = 0, font_size: int = 22) -> list:
    """The report as scanned page images (Pillow), drawn with a CJK font from the machine."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    path = cjk_font()
    if path is None:
        raise FileNotFoundError(f"no CJK font found (looked for {', '.join(CJK_FONTS)}); install fonts-noto-cjk")
    font = ImageFont.truetype(path, font_size)
    draws = layout(blocks(page), font.getlength, font_size * 1.5)
    rng = random.Random(seed)
    images = []
    for number in range(max((d.page for d in draws), default=0) + 1):
        image = Image.new("L", PAGE, 255)
        pen = ImageDraw.Draw(image)
        for d in (d for d in draws if d.page == number):
            if d.text:
                pen.text((d.x, d.y + font_size * 0.1), d.text, fill=rng.randint(0, 40), font=font)
            else:
                pen.rectangle((d.x, d.y, d.x + d.w, d.y + d.h), outline=rng.randint(0, 60), width=2)
        image = image.filter(ImageFilter.GaussianBlur(0.6))
        speckle = Image.effect_noise(PAGE, 18)
        image = Image.blend(image, speckle.point(lambda v: 255 if v > 90 else 180), 0.08)
        images.append(image.rotate(rng.uniform(-0.3, 0.3), fillcolor=255, resample=Image.Resampling.BICUBIC))
    return images


def long_image(images: list) -> object:
    """Pages stacked into one tall image, as web pages publish a "图片版" report."""
    from PIL import Image

    tall = Image.new("L", (PAGE[0], PAGE[1] * len(images)), 255)
    for number, image in enumerate(images):
        tall.paste(image, (0, PAGE[1] * number))
    return tall


def png_bytes(image: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")  # type: ignore[attr-defined]
    return out.getvalue()


def scan_pdf_bytes(images: list) -> bytes:
    """Scanned pages as an image-only PDF (no text layer), as a copier makes them."""
    out = io.BytesIO()
    images[0].save(out, format="PDF", save_all=True, append_images=images[1:], resolution=150)
    return out.getvalue()
