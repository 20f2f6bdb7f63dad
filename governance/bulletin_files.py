"""The 月度通报 as files: Word (.docx, python-docx) and PDF (fpdf2), A4 portrait.

Both render one `governance.bulletin.Bulletin` — the object the page shows — section by section:
its texts as paragraphs, its tables as real tables, its charts as pictures (Plotly through Kaleido and
Debian's chromium, as governance.reports does), its links as hyperlinks to the dashboard. Every page
carries a header with the scope, the month and the date generated, and the demo notice while the
data are simulated. Nothing here queries the database or computes a figure.
"""

from __future__ import annotations

import io
import os

import plotly.graph_objects as go
import plotly.io as pio

from governance.bulletin import Bulletin
from governance.reports import HEADER_FILL, charts_png, new_pdf

CHART_SIZE = (1000, 520)          # pixels of a chart picture (rendered at scale 2)
BODY_FONT, HEADING_FONT = "宋体", "黑体"  # Word: fonts every Chinese Windows has; the text stays text
DEMO_RGB = (160, 60, 0)
PUBLIC_URL = "http://localhost:8501/"


def public_url() -> str:
    """Where the dashboard is reached, for the links in files ($GOVERNANCE_PUBLIC_URL)."""
    url = os.environ.get("GOVERNANCE_PUBLIC_URL") or PUBLIC_URL
    return url if url.endswith("/") else url + "/"


def absolute(link: str | None) -> str | None:
    return None if not link else public_url() + link


def readable(url: str) -> str:
    """A link as people read it: Chinese names instead of percent escapes (the link itself stays encoded)."""
    from urllib.parse import unquote

    return unquote(url)


def chart_pictures(b: Bulletin) -> dict[tuple[int, int], bytes | None]:
    """Every chart of the bulletin as PNG, keyed (section index, chart index); None where Kaleido failed."""
    keys = [(i, j) for i, s in enumerate(b.sections) for j, _ in enumerate(s.charts)]
    figs = [pio.to_json(go.Figure(b.sections[i].charts[j].figure)) for i, j in keys]
    return dict(zip(keys, charts_png(figs, *CHART_SIZE)))


# ---------------------------------------------------------------- Word

def _east_asian(run_or_style, name: str) -> None:
    from docx.oxml.ns import qn

    el = run_or_style.element if hasattr(run_or_style, "element") else run_or_style._element
    rpr = el.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia"):
        fonts.set(qn(attr), name)


def _hyperlink(paragraph, url: str, text: str, size=None) -> None:
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    r_id = paragraph.part.relate_to(url, RT.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), r_id)
    run = OxmlElement("w:r")
    rpr = OxmlElement("w:rPr")
    color = OxmlElement("w:color")
    color.set(qn("w:val"), "1F5F99")
    underline = OxmlElement("w:u")
    underline.set(qn("w:val"), "single")
    rpr.append(color)
    rpr.append(underline)
    if size:
        sz = OxmlElement("w:sz")
        sz.set(qn("w:val"), str(int(size * 2)))
        rpr.append(sz)
    run.append(rpr)
    t = OxmlElement("w:t")
    t.text = text
    t.set(qn("xml:space"), "preserve")
    run.append(t)
    link.append(run)
    paragraph._p.append(link)


def _page_number(paragraph) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    paragraph.add_run("第 ")
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    r = OxmlElement("w:r")
    t = OxmlElement("w:t")
    t.text = "1"
    r.append(t)
    field.append(r)
    paragraph._p.append(field)
    paragraph.add_run(" 页")


def docx_bytes(b: Bulletin, pictures: dict | None = None) -> bytes:
    """The bulletin as a Word document: A4 portrait, header (scope, month, date, demo notice) on
    every page, each section's texts, tables (real Word tables) and charts (pictures)."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt, RGBColor

    pictures = chart_pictures(b) if pictures is None else pictures
    doc = Document()
    doc.core_properties.title = b.title
    doc.core_properties.subject = b.header
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.left_margin = sec.right_margin = Mm(18)
    sec.top_margin, sec.bottom_margin = Mm(22), Mm(18)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(10.5)
    _east_asian(normal, BODY_FONT)
    for name in ("Title", "Heading 1", "Heading 2"):
        _east_asian(doc.styles[name], HEADING_FONT)
        doc.styles[name].font.color.rgb = RGBColor(0x1B, 0x2A, 0x3A)

    head = sec.header.paragraphs[0]
    head.text = b.header
    head.runs[0].font.size = Pt(8)
    if b.demo:
        p = sec.header.add_paragraph()
        r = p.add_run(b.demo)
        r.font.size = Pt(7.5)
        r.font.color.rgb = RGBColor(*DEMO_RGB)
    foot = sec.footer.paragraphs[0]
    foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _page_number(foot)

    doc.add_heading(b.title, level=0)
    p = doc.add_paragraph(b.header)
    if b.demo:
        r = doc.add_paragraph().add_run(b.demo)
        r.font.color.rgb = RGBColor(*DEMO_RGB)
    p = doc.add_paragraph("在线查看：")
    _hyperlink(p, absolute(bulletin_link(b)), readable(absolute(bulletin_link(b))))

    width = sec.page_width - sec.left_margin - sec.right_margin
    for i, s in enumerate(b.sections):
        doc.add_heading(s.title, level=1)
        for text in s.texts:
            doc.add_paragraph(text)
        for t in s.tables:
            cap = doc.add_paragraph()
            cap.add_run(t.title).bold = True
            cols = list(t.frame.columns)
            table = doc.add_table(rows=1 + len(t.frame), cols=len(cols))
            table.style = "Table Grid"
            for j, c in enumerate(cols):
                cell = table.rows[0].cells[j]
                cell.text = str(c)
                cell.paragraphs[0].runs[0].bold = True
            for r_i, row in enumerate(t.frame.itertuples(index=False), start=1):
                for j, v in enumerate(row):
                    cell = table.rows[r_i].cells[j]
                    url = t.row_links[r_i - 1] if (j == 0 and t.row_links) else None
                    if url:
                        _hyperlink(cell.paragraphs[0], absolute(url), str(v))
                    else:
                        cell.text = str(v)
            for row in table.rows:
                for cell in row.cells:
                    for para in cell.paragraphs:
                        for run in para.runs:
                            run.font.size = Pt(8.5)
            if t.note:
                n = doc.add_paragraph().add_run(t.note)
                n.font.size = Pt(8.5)
                n.italic = True
        for j, c in enumerate(s.charts):
            png = pictures.get((i, j))
            if png is None:
                doc.add_paragraph(f"（图表“{c.title}”生成失败：未找到 Chromium/Kaleido，请在看板中查看。）")
            else:
                doc.add_picture(io.BytesIO(png), width=width)
        if s.sources:
            p = doc.add_paragraph("数据来源：")
            for k, (label, url) in enumerate(s.sources):
                if k:
                    p.add_run("；")
                _hyperlink(p, absolute(url), label, size=9)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def bulletin_link(b: Bulletin) -> str:
    from urllib.parse import urlencode

    from governance.periods import fmt_month

    return "bulletin?" + urlencode({**{k: v for k, v in b.region.items() if v}, "month": fmt_month(b.month)})


# ---------------------------------------------------------------- PDF

def _display_width(text: str) -> int:
    """Width in half-width characters: a Chinese character takes two."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _widths(frame, total: float) -> list[float]:
    """Column widths in proportion to each column's longest text (header included), within bounds."""
    lengths = []
    for c in frame.columns:
        longest = max([_display_width(str(c))] + [_display_width(str(v)) for v in frame[c]])
        lengths.append(min(max(longest, 10), 48))
    s = sum(lengths)
    return [total * n / s for n in lengths]


def pdf_bytes(b: Bulletin, pictures: dict | None = None) -> bytes:
    """The bulletin as an A4 portrait PDF with Noto Sans CJK embedded (fpdf2 subsets it)."""
    from fpdf.fonts import FontFace

    pictures = chart_pictures(b) if pictures is None else pictures

    def draw_header(pdf):
        pdf.set_font("cjk", size=7.5)
        pdf.set_text_color(90)
        pdf.cell(0, 4, b.header, new_x="LMARGIN", new_y="NEXT")
        if b.demo:
            pdf.set_text_color(*DEMO_RGB)
            pdf.multi_cell(0, 3.6, b.demo, align="L", wrapmode="CHAR", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0)
        pdf.set_draw_color(200)
        pdf.line(pdf.l_margin, pdf.get_y() + 1, pdf.w - pdf.r_margin, pdf.get_y() + 1)
        pdf.ln(4)

    pdf = new_pdf("P", footer=lambda page: f"{b.title} · 第 {page}/{{nb}} 页", draw_header=draw_header,
                  margins=(15, 12, 15), bottom=16)
    pdf.add_page()
    pdf.set_font("cjk", size=17)
    pdf.multi_cell(0, 9, b.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    pdf.set_text_color(31, 95, 153)
    url = absolute(bulletin_link(b))
    pdf.multi_cell(0, 5, "在线查看：" + readable(url), link=url, align="L", wrapmode="CHAR", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)
    head = FontFace(fill_color=HEADER_FILL)
    for i, s in enumerate(b.sections):
        pdf.ln(2)
        pdf.set_font("cjk", size=13)
        pdf.cell(0, 8, s.title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=9.5)
        for text in s.texts:
            pdf.multi_cell(0, 5.2, text, align="L", wrapmode="CHAR", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(0.8)
        for t in s.tables:
            pdf.set_font("cjk", size=9.5)
            pdf.multi_cell(0, 6, t.title, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("cjk", size=7.5)
            with pdf.table(col_widths=_widths(t.frame, pdf.epw), text_align="LEFT", line_height=3.8,
                           headings_style=head, padding=0.8) as table:
                row = table.row()
                for c in t.frame.columns:
                    row.cell(str(c))
                for r_i, values in enumerate(t.frame.itertuples(index=False)):
                    row = table.row()
                    for j, v in enumerate(values):
                        url = absolute(t.row_links[r_i]) if (j == 0 and t.row_links) else None
                        row.cell(str(v), link=url)
            if t.note:
                pdf.set_font("cjk", size=7.5)
                pdf.set_text_color(90)
                pdf.multi_cell(0, 4, t.note, align="L", wrapmode="CHAR", new_x="LMARGIN", new_y="NEXT")
                pdf.set_text_color(0)
            pdf.ln(1.5)
        for j, c in enumerate(s.charts):
            png = pictures.get((i, j))
            if png is None:
                pdf.set_font("cjk", size=9)
                pdf.multi_cell(0, 5, f"（图表“{c.title}”生成失败：未找到 Chromium/Kaleido，请在看板中查看。）",
                               new_x="LMARGIN", new_y="NEXT")
                continue
            h = pdf.epw * CHART_SIZE[1] / CHART_SIZE[0]
            if pdf.get_y() + h > pdf.page_break_trigger:
                pdf.add_page()
            pdf.image(io.BytesIO(png), x=pdf.l_margin, w=pdf.epw)
        if s.sources:
            pdf.set_font("cjk", size=8)
            pdf.set_text_color(31, 95, 153)
            pdf.write(4.5, "数据来源：")
            for k, (label, link) in enumerate(s.sources):
                pdf.write(4.5, ("；" if k else "") + label, link=absolute(link))
            pdf.ln(6)
            pdf.set_text_color(0)
    return bytes(pdf.output())


def from_runtime(region_items: tuple, month) -> tuple[bytes, bytes]:
    """(Word, PDF) of the dashboard's bulletin (for derived.compute: made once per selection and data version)."""
    from governance.bulletin import from_runtime as bulletin_from_runtime

    b = bulletin_from_runtime(region_items, month)
    pictures = chart_pictures(b)
    return docx_bytes(b, pictures), pdf_bytes(b, pictures)
