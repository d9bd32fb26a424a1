"""Generated reports drawn in each layout family: the same printed cells laid out the ways real
text arrives (Word saved as text, tab exports, pdftotext in both orders, Markdown, web text and
pages). In: a `Style` (the report's noise) and the printed cells; out: the text of sections 二-四.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from extraction import template
from extraction.template import Version

_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
# Abbreviations real reports print for long row labels.
_SHORT_LABELS = {
    "other_overdue_correction": "1.逾期不补正",
    "other_unpaid_fee": "2.逾期未缴纳费用",
    "not_processed_confirmation": "5.要求确认或重新出具已获取信息",
    "partially_granted": "（二）部分公开",
}


@dataclass
class Style:
    rng: random.Random
    fullwidth: bool
    blank: str  # how an empty cell prints in this report
    zero_as_blank: bool  # print zero counts of section 三 parts as blank cells
    vertical_headers: bool
    abbreviate: bool

    noisy: bool = False  # retyped or OCR'd: look-alike letters and stray spaces inside numbers
    proactive_version: Version = "2019"  # section 二 may follow 2021 while section 三 keeps 2019

    def number(self, text: str) -> str:
        text = text.translate(_FULLWIDTH) if self.fullwidth and self.rng.random() < 0.5 else text
        if self.noisy and self.rng.random() < 0.1:
            for digit, letter in (("0", "O"), ("1", "l"), ("1", "I")):
                if digit in text and self.rng.random() < 0.5:
                    at = text.index(digit)
                    return text[:at] + letter + text[at + 1 :]
            if len(text) > 1 and text.isdigit():
                at = self.rng.randint(1, len(text) - 1)
                return text[:at] + " " + text[at:]
        return text


def printed_cell(style: Style, value: int | None, is_total: bool) -> tuple[str, int | None]:
    """What a section-三/四 cell prints and therefore what the gold holds."""
    if value is None:
        return style.blank, None
    if value == 0 and style.zero_as_blank and not is_total:
        return style.blank, None
    return style.number(str(value)), value


MERGED_SIX = ("other_unpaid_fee", "other_misc")


def _label(style: Style, row: template.Row) -> str:
    if style.abbreviate and row.key in _SHORT_LABELS:
        return _SHORT_LABELS[row.key]
    return row.label


def _header(style: Style, word: str) -> str:
    """A column header, printed one character per line when the report's headers are vertical."""
    return "\n".join(word) if style.vertical_headers and len(word) <= 6 else word


_ITEMS = {
    "regulations": "（一）",
    "licensing": "（五）",
    "penalty": "（六）",
    "fees": "（八）",
    "procurement": "（九）",
}


def _proactive_blocks(version: Version) -> list[list[template.Row]]:
    """Section 二 is a series of small tables, one per article item, each with its own header."""
    rows = template.spec("proactive", version).rows
    blocks: list[list[template.Row]] = []
    for row in rows:
        if row.key in _ITEMS or not blocks:
            blocks.append([row])
        else:
            blocks[-1].append(row)
    return blocks


def _cell_per_line(style: Style, version: Version, proactive: dict, apps: dict, review: list[str]) -> str:
    """Word saved as text: a tab opens each cell, an empty line ends each row."""
    out = ["二、主动公开政府信息情况"]
    for block in _proactive_blocks(style.proactive_version):
        item = _ITEMS.get(block[0].key, "（一）")
        out += [f"\t第二十条第{item}项", ""]
        out += ["\t信息内容"] + [f"\t{_header(style, c.label)}" for c in block[0].columns] + [""]
        for row in block:
            out += [f"\t{row.label}"] + [f"\t{style.number(proactive[row.key][c.key])}" for c in row.columns] + [""]
    out += [
        "",
        "三、收到和处理政府信息公开申请情况",
        "\t（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）",
        "\t申请人情况",
        "",
    ]
    out += ["\t", "\t自然人", "\t法人或其他组织", "\t总计", ""]
    out += ["\t", "\t"] + [f"\t{_header(style, c.label)}" for c in template.APPLICANT_COLUMNS[1:-1]] + ["\t", ""]
    for row in template.spec("applications", version).rows:
        lead = ["\t"] if row.key not in ("new_received", "carried_over", "carried_forward") else []
        out += lead + [f"\t{_label(style, row)}"] + [f"\t{cell}" for cell in apps[row.key]] + [""]
    out += ["", "四、政府信息公开行政复议、行政诉讼情况", "\t行政复议", "\t行政诉讼", ""]
    out += ["\t" + _header(style, c.label) for c in template.OUTCOME_COLUMNS] + [
        "\t未经复议直接起诉",
        "\t复议后起诉",
        "",
    ]
    out += ["\t"] * 5 + ["\t" + _header(style, c.label) for c in template.OUTCOME_COLUMNS] * 2 + [""]
    out += [f"\t{cell}" for cell in review] + ["", ""]
    return "\n".join(out)


def _tab_rows(style: Style, version: Version, proactive: dict, apps: dict, review: list[str]) -> str:
    """One row per line, cells split by tabs; converters drop empty fields and add trailing ones."""
    out = ["二、主动公开政府信息情况", ""]
    for block in _proactive_blocks(style.proactive_version):
        out.append(f"第二十条{_ITEMS.get(block[0].key, '（一）')}项\t\t\t")
        out.append("\t".join(["信息内容"] + [c.label for c in block[0].columns]))
        for row in block:
            out.append("\t".join([row.label] + [style.number(proactive[row.key][c.key]) for c in row.columns]))
    out += ["", "三、收到和处理政府信息公开申请情况", ""]
    out.append("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）\t申请人情况" + "\t" * 7)
    out.append("\t自然人\t法人或其他组织\t\t\t\t\t总计\t")
    out.append("\t\t" + "\t".join(c.label for c in template.APPLICANT_COLUMNS[1:-1]) + "\t\t")
    for row in template.spec("applications", version).rows:
        cells = list(apps[row.key])
        if style.rng.random() < 0.3 and "" in cells[:-1]:
            # A converter that loses one empty field on the left: the numbers shift right.
            cells.pop(cells.index(""))
        tail = "\t" if style.rng.random() < 0.5 else ""
        out.append("\t".join([_label(style, row), *cells]) + tail)
    out += ["", "四、政府信息公开行政复议、行政诉讼情况", ""]
    out.append("行政复议\t\t\t\t\t行政诉讼\t")
    out.append("\t".join(c.label for c in template.OUTCOME_COLUMNS) + "\t未经复议直接起诉\t复议后起诉")
    out.append("\t".join(review))
    return "\n".join(out) + "\n"


def _pipe_line(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _pipe_table(rows: list[list[str]]) -> list[str]:
    """A Markdown table: rows padded to the widest, the first taken for the header."""
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    return [_pipe_line(rows[0]), _pipe_line(["---"] * width), *map(_pipe_line, rows[1:]), ""]


def _markdown(style: Style, version: Version, proactive: dict, apps: dict, review: list[str]) -> str:
    """What document converters write: pipe tables whose first row is taken for a header (even
    when it is data), merged cells as empty or repeated cells, a table cut into one small table
    per group of rows, and headers split over two rows."""
    rng, table = style.rng, _pipe_table
    out = ["二、主动公开政府信息情况", ""]
    for block in _proactive_blocks(style.proactive_version):
        head = [f"第二十条第{_ITEMS.get(block[0].key, '（一）')}项"] + [""] * len(block[0].columns)
        names = ["信息内容"] + [c.label for c in block[0].columns]
        body = [[row.label] + [style.number(proactive[row.key][c.key]) for c in row.columns] for row in block]
        out += table([head, names, *body])
    out += ["三、收到和处理政府信息公开申请情况", ""]
    header = [
        ["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", "", "申请人情况"] + [""] * 6,
        ["", "", "自然人", "法人或其他组织", "", "", "", "", "总计"],
        ["", "", ""] + [c.label for c in template.APPLICANT_COLUMNS[1:-1]] + [""],
    ]
    rows = []
    # A converter may lift one handling row's label out of the table (016: "（二）部分公开…" above
    # a row of bare numbers): the label stands on a line of its own before the table.
    handling = template.handling_rows(version)
    lifted = rng.choice(handling) if rng.random() < 0.2 else None
    for row in template.spec("applications", version).rows:
        outer = row.key not in ("new_received", "carried_over", "carried_forward")
        merged = "三、本年度办理结果" if outer and rng.random() < 0.5 else ""  # a merged cell repeated, or not
        lead = [merged, _label(style, row)] if outer else [_label(style, row), ""]
        rows.append(([] if row.key == lifted else lead) + list(apps[row.key]))
    if lifted:
        out += [_label(style, template.spec("applications", version).row(lifted)), ""]
    if rng.random() < 0.5:
        out += table(header + rows)
    else:  # one small table per group of rows, the first row of each taken for a header
        out += table(header)
        cut = sorted(rng.sample(range(1, len(rows)), 3))
        for start, end in zip([0, *cut], [*cut, len(rows)], strict=True):
            if rng.random() < 0.3:  # a header the converter made up for a table it did not understand
                out += table([["项目", *(f"数据{i}" for i in range(1, 8))], *rows[start:end]])
            else:
                out += table(rows[start:end])
            if rng.random() < 0.3:
                out += [f"— {rng.randint(2, 9)} —", ""]  # the page footer between two pages' rows
    out += ["四、政府信息公开行政复议、行政诉讼情况", ""]
    labels = [c.label for c in template.OUTCOME_COLUMNS]
    out += table(
        [
            ["行政复议", "", "", "", "", "行政诉讼"] + [""] * 9,
            [*labels, "未经复议直接起诉", "", "", "", "", "复议后起诉", "", "", "", ""],
            [""] * 5 + labels * 2,
            review,
        ]
    )
    return "\n".join(out) + "\n"


def _pdftotext_layout(style: Style, version: Version, proactive: dict, apps: dict, review: list[str]) -> str:
    """`pdftotext -layout`: space-aligned rows, wrapped labels with their numbers below, page footers.

    A blank cell prints nothing, as in a PDF, but keeps its width: columns stay aligned.
    """
    rng = style.rng
    page = rng.randint(2, 4)

    def numbers(cells: list[str]) -> str:
        return "".join(f"{cell.strip():>8}" for cell in cells).rstrip()

    def footer() -> list[str]:
        nonlocal page
        page += 1
        return ["", f"{' ' * 60}-{page}-", ""] if rng.random() < 0.08 else []

    out = ["     二、主动公开政府信息情况"]
    for block in _proactive_blocks(style.proactive_version):
        out += [f"              第二十条第{_ITEMS.get(block[0].key, '（一）')}项", ""]
        out += ["       信息内容   " + "    ".join(c.label for c in block[0].columns), ""]
        for row in block:
            out += [row.label.ljust(16) + numbers([style.number(proactive[row.key][c.key]) for c in row.columns]), ""]
        out += footer()
    out += ["", "                  三、收到和处理政府信息公开申请情况", " " * 60 + "申请人情况", ""]
    out += ["（本列数据的勾稽关系为：第一项加第二项之和， 等", "于第三项加第四项之和）"]
    out += [" " * 45 + "自然人   商业 科研 社会 法律 其他   总计", " " * 51 + "企业 机构 公益 服务", ""]
    for row in template.spec("applications", version).rows:
        label = " " * rng.choice((0, 18)) + _label(style, row)
        cells = numbers(apps[row.key])
        if len(label) > 40:  # the label wraps; its numbers stand on a line of their own, in their columns
            out += [label[:40], label[40:], " " * 40 + cells]
        else:
            out.append(label + " " * (40 - len(label)) + cells)
        out += footer()
    out += [
        "",
        "     四、政府信息公开行政复议、行政诉讼情况",
        "          行政复议                              行政诉讼",
        "",
    ]
    out += ["结果   结果     其他   尚未     总 计", "维持   纠正     结果   审结", "", numbers(review), ""]
    return "\n".join(out) + "\n"


def _pdftotext_default(style: Style, version: Version, proactive: dict, apps: dict, review: list[str]) -> str:
    """`pdftotext` in its default order: every cell on a line of its own, blank cells gone, long
    labels wrapped, the labels of the last rows printed after all the numbers, and some blocks
    of full rows printed column by column (as in ../shared/realfiles 001 and 002)."""
    rng = style.rng
    gap = rng.random() < 0.5  # pdftotext often leaves an empty line between cells

    def lines(cells: list[str]) -> list[str]:
        shown = [cell.strip() for cell in cells if cell.strip()]  # a blank cell prints nothing
        return [x for cell in shown for x in ([cell, ""] if gap else [cell])]

    def label(text: str) -> list[str]:
        cut = rng.randint(10, 16)
        return [text[:cut], text[cut:]] if len(text) > 18 else [text]

    out = ["二、主动公开政府信息情况"]
    for block in _proactive_blocks(style.proactive_version):
        out += [f"第二十条第{_ITEMS.get(block[0].key, '（一）')}项", "", "信息内容"]
        out += [c.label for c in block[0].columns] + [""]
        for row in block:
            out += label(row.label) + lines([style.number(proactive[row.key][c.key]) for c in row.columns])
    out += ["三、收到和处理政府信息公开申请情况", "申请人情况", ""]
    out += ["（本列数据的勾稽关系为：第一项加第二项之和， 等", "于第三项加第四项之和）", ""]
    if style.vertical_headers:  # one character per line, column after column
        out += ["法人或其他组织"] + [ch for c in template.APPLICANT_COLUMNS for ch in c.label] + [""]
    else:
        out += ["法人或其他组织", "自然人", "", "社会 法律", "商业 科研", "公益 服务 其他"]
        out += ["企业 机构", "组织 机构", "", "总计", ""]
    rows = template.spec("applications", version).rows

    def full(block: list[template.Row]) -> bool:
        return all(all(c.strip() for c in apps[r.key]) for r in block)

    def numbers_of(block: list[template.Row]) -> list[str]:
        """A block's numbers row by row, or (for full rows, sometimes) column by column."""
        if len(block) > 1 and full(block) and rng.random() < 0.5:
            return lines([apps[r.key][i] for i in range(len(template.APPLICANT_COLUMNS)) for r in block])
        return lines([cell for r in block for cell in apps[r.key]])

    # From `late` on, labels come after every number; before it, a block of rows may likewise
    # print its numbers first and its labels after (../shared/realfiles 002).
    late = rng.randint(len(rows) - 6, len(rows)) if rng.random() < 0.6 else len(rows)
    start = rng.randint(2, late - 3) if rng.random() < 0.3 and late > 6 else late
    block = rows[start : min(late, start + rng.randint(2, 10))]
    index = 0
    while index < late:
        if index == start and block:
            out += numbers_of(block) + [x for r in block for x in label(_label(style, r))]
            index += len(block)
            continue
        out += label(_label(style, rows[index])) + lines(apps[rows[index].key])
        index += 1
    tail = rows[late:]
    out += numbers_of(tail) if tail else []
    for row in tail:
        out += label(_label(style, row))
    out += ["", "四、政府信息公开行政复议、行政诉讼情况", "行政复议", "", "行政诉讼", "未经复议直接起诉", "复议后起诉"]
    out += [c.label for c in template.OUTCOME_COLUMNS] + ["", "结果 结果 其他 尚未", "总 计", "维持 纠正 结果 审结", ""]
    out += [*lines(review), ""]
    return "\n".join(out) + "\n"


def _web_text(style: Style, version: Version, proactive: dict, apps: dict, review: list[str]) -> str:
    """A web page's text as copied from the browser: one row per line, cells split by single
    spaces, blank cells gone, menus and page furniture in between; on some pages the cells of
    a row run together with no separator at all (`230 000023` is 23,0,0,0,0,0,23).

    Half the pages are as a crawler writes them instead (`_crawled`): the whole body on one line,
    with the site's chrome around the report, header words split by spaces and section 二's cells
    run together too (`规章000行政规范性文件24432`)."""
    rng = style.rng
    together = rng.random() < 0.4
    crawled = rng.random() < 0.5
    spaced_labels = crawled and rng.random() < 0.5

    def cells(texts: list[str]) -> str:
        shown = [t.strip() for t in texts if t.strip()]
        if not together:
            return " ".join(shown)
        return "".join(t + (" " if rng.random() < 0.2 else "") for t in shown).strip()

    def header(words: list[str]) -> str:
        # A crawl splits two-line header cells with a space: 商业 企业, 科研 机构.
        return " ".join(w[:2] + " " + w[2:] if spaced_labels and len(w) == 4 else w for w in words)

    def chrome() -> list[str]:
        return (
            [rng.choice(("第2页 共3页", "打印本页 关闭窗口", "字号：大 中 小", "【我要纠错】"))]
            if rng.random() < 0.1
            else []
        )

    out = ["首页 > 政务公开 > 政府信息公开年报", "字号：大 中 小 | 打印", "二、主动公开政府信息情况"]
    for block in _proactive_blocks(style.proactive_version):
        out.append(f"第二十条第{_ITEMS.get(block[0].key, '（一）')}项")
        out.append(" ".join(["信息内容"] + [c.label for c in block[0].columns]))
        for row in block:
            printed = [style.number(proactive[row.key][c.key]) for c in row.columns]
            out.append(row.label + ("".join(printed) if crawled and together else " " + " ".join(printed)))
        out += chrome()
    out += ["三、收到和处理政府信息公开申请情况"]
    out.append("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和） 申请人情况")
    out.append("自然人 法人或其他组织 总计")
    out.append(header([c.label for c in template.APPLICANT_COLUMNS[1:-1]]))
    for row in template.spec("applications", version).rows:
        out.append((_label(style, row) + " " + cells(apps[row.key])).rstrip())
        out += chrome()
    out += ["四、政府信息公开行政复议、行政诉讼情况", "行政复议 行政诉讼"]
    out.append(" ".join(c.label for c in template.OUTCOME_COLUMNS) + " 未经复议直接起诉 复议后起诉")
    out.append(" ".join(c.label for c in template.OUTCOME_COLUMNS) * 2)
    out.append(cells(review))
    out += ["打印本页 关闭窗口", "主办单位：某某市人民政府办公室  网站标识码：3200000000"]
    return _crawled(rng, out) if crawled else "\n".join(out) + "\n"


def _crawled(rng: random.Random, lines: list[str]) -> str:
    """The body as a crawler's page.txt holds it: every line joined into one, with a space or
    with nothing between them, and the page's chrome in front ("当前位置：…微信 微博") and behind."""
    body = ""
    for line in lines:
        body += line if not body or rng.random() < 0.5 else " " + line
    front = "当前位置： 首页政务公开政府信息公开年报 来源： 时间：2024-01-06 17:09 --> 微信 微博 QQ空间 "
    return f"{front}{body} 附件下载\n"


def _html(style: Style, version: Version, proactive: dict, apps: dict, review: list[str]) -> str:
    """A web page: real tables with rowspan/colspan, &nbsp; blanks, menus and a script around them."""
    rng = style.rng

    def td(text: str, **span: int) -> str:
        attrs = "".join(f' {k}="{v}"' for k, v in span.items())
        shown = escape(text) if text.strip() else rng.choice(("&nbsp;", "", " "))
        return f"<td{attrs}>{shown}</td>"

    out = [
        "<nav><a href='/'>首页</a> | 政务公开 | 年度报告</nav>",
        "<script>var t = '<table><tr><td>1</td></tr></table>';</script>",
    ]
    out.append("<h3>二、主动公开政府信息情况</h3>")
    for block in _proactive_blocks(style.proactive_version):
        out.append("<table border='1'>")
        item = f"第二十条第{_ITEMS.get(block[0].key, '（一）')}项"
        out.append(f"<tr>{td(item, colspan=len(block[0].columns) + 1)}</tr>")
        out.append("<tr>" + td("信息内容") + "".join(td(c.label) for c in block[0].columns) + "</tr>")
        for row in block:
            out.append(
                "<tr>"
                + td(row.label)
                + "".join(td(style.number(proactive[row.key][c.key])) for c in row.columns)
                + "</tr>"
            )
        out.append("</table>")
    out += _html_applications(td, style, version, apps)
    out.append("</table><h3>四、政府信息公开行政复议、行政诉讼情况</h3><table border='1'>")
    out.append("<tr>" + td("行政复议", colspan=5) + td("行政诉讼", colspan=10) + "</tr>")
    out.append(
        "<tr>"
        + "".join(td(c.label, rowspan=2) for c in template.OUTCOME_COLUMNS)
        + td("未经复议直接起诉", colspan=5)
        + td("复议后起诉", colspan=5)
        + "</tr>"
    )
    out.append("<tr>" + "".join(td(c.label) for c in template.OUTCOME_COLUMNS) * 2 + "</tr>")
    out.append("<tr>" + "".join(td(cell) for cell in review) + "</tr></table>")
    if rng.random() < 0.25:  # some sites deliver the report inside a script that writes it
        body = "\n".join(out[2:])
        literal = body.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("</", "<\\/")
        out[2:] = [f"<script>document.write('{literal}');</script>"]
    return "\n".join(out) + "\n"


def _html_applications(td: Callable[..., str], style: Style, version: Version, apps: dict) -> list[str]:
    """Section 三 as a web page's table: a three-row header, 办理结果 spanning the handling rows."""
    out = ["<h3>三、收到和处理政府信息公开申请情况</h3><table border='1'>"]
    out.append(
        "<tr>"
        + td("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", rowspan=3, colspan=2)
        + td("申请人情况", colspan=7)
        + "</tr>"
    )
    out.append("<tr>" + td("自然人", rowspan=2) + td("法人或其他组织", colspan=5) + td("总计", rowspan=2) + "</tr>")
    out.append("<tr>" + "".join(td(c.label) for c in template.APPLICANT_COLUMNS[1:-1]) + "</tr>")
    rows = template.spec("applications", version).rows
    handling = [r for r in rows if r.key not in ("new_received", "carried_over", "carried_forward")]
    for row in rows:
        cells = "".join(td(cell) for cell in apps[row.key])
        if row is handling[0]:
            out.append(
                "<tr>" + td("三、本年度办理结果", rowspan=len(handling)) + td("（一）予以公开") + cells + "</tr>"
            )
        elif row in handling:
            out.append("<tr>" + td(_label(style, row)) + cells + "</tr>")
        else:
            out.append("<tr>" + td(row.label, colspan=2) + cells + "</tr>")
    return out


Renderer = Callable[[Style, Version, dict, dict, list[str]], str]
RENDERERS: dict[str, Renderer] = {
    "cell_per_line": _cell_per_line,
    "tab_rows": _tab_rows,
    "pdftotext_layout": _pdftotext_layout,
    "html": _html,
    "markdown": _markdown,
    "web_text": _web_text,
    "pdftotext_default": _pdftotext_default,
}
