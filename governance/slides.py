"""培训模式 as slides: one slide per indicator family (big numbers, ranks beneath, one bar chart) and
one per community's practices, for a 1920×1080 projector; and the same slides as a PowerPoint file
whose Chinese text is text (tables and native charts, not pictures).

Everything comes from the comparison frame of governance.compare (`comparison`) and the practices
the page shows; nothing here queries the database, so the page and the .pptx show the same numbers.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go

from governance import compare as cmp
from governance.indicators import FAMILIES, INDICATORS
from governance.labels import FONT_FAMILY, NA, fmt_num

# Eight colours far apart in hue and in grey level (≈ 43 … 216 of 255), each bar also with its own
# fill pattern, so up to 8 communities stay apart on a projector and on a grey-scale print.
COLORS = ["#08306B", "#A50F15", "#1B7837", "#6A51A3", "#2E86C1", "#E67E22", "#E78AC3", "#F7DC6F"]
PATTERNS = ["", "/", "x", ".", "\\", "+", "-", "|"]
# per family: the indicators on its slide, and the one drawn as bars
FAMILY_ROWS = {
    "C": (["C1", "C2", "C3", "C4"], "C4"),
    "S": (["S1", "S2", "S3", "S5"], "S1"),
    "T": (["T2", "T3", "T4", "T9"], "T3"),
}
PRACTICES_PER_SLIDE = 3
# the community's own figures under its practices: one headline per family
PRACTICE_FIGURES = ["C4", "S1", "T3", "T9"]
TICK_PX = 22          # chart ticks on the page (≥ 18 px from the back of the room)


@dataclass(frozen=True)
class Cell:
    big: str            # the value, large
    small: str          # its ranks beneath, smaller
    value: float | None
    best: bool = False


@dataclass
class Slide:
    title: str
    kind: str                                   # "family" | "practices"
    subtitle: str = ""
    headers: list[str] = field(default_factory=list)                 # family: indicator names
    rows: list[tuple[str, list[Cell]]] = field(default_factory=list)  # family: (community, cells)
    chart_key: str | None = None
    chart_title: str = ""
    chart_percent: bool = False
    items: list[tuple[str, str, str, str]] = field(default_factory=list)  # practices: date, title, text, source
    community: str = ""
    figures: list[tuple[str, Cell]] = field(default_factory=list)  # practices: (indicator name, its cell)


def header(key: str) -> str:
    """An indicator's name with its code after it: '楼栋党小组覆盖率（C2）'."""
    row = cmp.ROW_BY_KEY[key]
    name = row.label.split(" ", 1)[1] if " " in row.label else row.label
    return f"{name}（{row.code}）"


def _big(row: cmp.Row, value) -> str:
    if value is None or pd.isna(value):
        return NA
    text = cmp.value_text(row, value, None, None, units=False)
    return text.split("（", 1)[0]


def cell(c) -> Cell:
    """One comparison row (governance.compare.comparison) as a big number with its ranks beneath."""
    row = cmp.ROW_BY_KEY[c.key]
    small = (f"{cmp.rank_text(c.rank_all, c.n_all, None, c.note, short=True)}"
             f" · 组内 {cmp.rank_text(c.rank_peer, c.n_peer, None, c.note, short=True)}")
    if row.kind == "target" and c.numerator is not None and c.denominator is not None \
            and not pd.isna(c.numerator) and not pd.isna(c.denominator):
        small = f"{fmt_num(c.numerator)} 个，目标 {fmt_num(c.denominator)} 个"
    return Cell(("★ " if c.best else "") + _big(row, c.value), small, c.value, bool(c.best))


def family_slide(letter: str, comp: pd.DataFrame, names: dict[int, str], chosen: list[int]) -> Slide:
    keys, chart_key = FAMILY_ROWS[letter]
    by = {(r.community_id, r.key): r for r in comp.itertuples(index=False)}
    n_all = next((r.n_all for r in comp.itertuples(index=False)), 0)
    rows = [(names[cid], [cell(by[(cid, key)]) for key in keys]) for cid in chosen]
    chart_row = cmp.ROW_BY_KEY[chart_key]
    return Slide(
        title=FAMILIES[letter], kind="family",
        subtitle=f"数字下为名次：在全部 {n_all} 个社区中 · 组内（本社区的相似社区组）；★ 所选社区中最佳",
        headers=[header(k) for k in keys], rows=rows, chart_key=chart_key,
        chart_title=header(chart_key), chart_percent=chart_row.kind == "rate",
    )


def practice_slides(comp: pd.DataFrame, practices: pd.DataFrame, names: dict[int, str],
                    chosen: list[int]) -> list[Slide]:
    """One slide per chosen community: its practices (more than three continue on a second slide)
    and, beneath, its headline figure of each family with ranks."""
    from governance.labels import SOURCE_LABELS

    by = {(r.community_id, r.key): r for r in comp.itertuples(index=False)}
    out = []
    for cid in chosen:
        mine = practices[practices["community_id"] == cid]
        items = [(f"{pd.Timestamp(p.started_on):%Y-%m}", str(p.practice),
                  "" if p.description is None or pd.isna(p.description) else str(p.description),
                  SOURCE_LABELS.get(p.source, str(p.source)))
                 for p in mine.itertuples(index=False)]
        chunks = [items[i:i + PRACTICES_PER_SLIDE] for i in range(0, len(items), PRACTICES_PER_SLIDE)] or [[]]
        for i, chunk in enumerate(chunks):
            out.append(Slide(title=f"{names[cid]} · 经验做法" + ("（续）" if i else ""), kind="practices",
                             items=chunk, community=names[cid],
                             figures=[(header(k), cell(by[(cid, k)])) for k in PRACTICE_FIGURES]))
    return out


def deck(comp: pd.DataFrame, names: dict[int, str], chosen: list[int], practices: pd.DataFrame) -> list[Slide]:
    """The slides: the three families, then each community's practices."""
    return [family_slide(letter, comp, names, chosen) for letter in FAMILY_ROWS] + \
        practice_slides(comp, practices, names, chosen)


def slide_number(raw, count: int) -> tuple[int, str | None]:
    """The 1-based slide of `slide=N` in the URL, and a notice when N was not a slide."""
    if raw is None or raw == "":
        return 1, None
    text = str(raw).strip()
    if text.isdigit() and 1 <= int(text) <= count:
        return int(text), None
    return 1, f"链接中的 slide 应为 1 至 {count} 的页码，已从第 1 页开始。"


# ---------------------------------------------------------------- chart

def bar_figure(slide: Slide, height: int = 600, tick_px: int = TICK_PX) -> go.Figure:
    """The slide's headline indicator as horizontal bars, one per community, each in its own colour
    and fill pattern, with the value written at the bar's end."""
    names = [name for name, _ in slide.rows]
    i = [k for k in FAMILY_ROWS.values() if k[1] == slide.chart_key][0][0].index(slide.chart_key)
    values = [cells[i].value for _, cells in slide.rows]
    scale = 100 if slide.chart_percent else 1
    x = [None if v is None or pd.isna(v) else v * scale for v in values]
    fig = go.Figure(go.Bar(
        y=names, x=x, orientation="h",
        marker=dict(color=[COLORS[j % len(COLORS)] for j in range(len(names))],
                    pattern=dict(shape=[PATTERNS[j % len(PATTERNS)] for j in range(len(names))],
                                 fgcolor="#FFFFFF", solidity=0.25),
                    line=dict(color="#222222", width=1)),
        text=[cells[i].big.replace("★ ", "") for _, cells in slide.rows], textposition="outside",
        textfont=dict(size=tick_px + 2), cliponaxis=False, hoverinfo="skip",
    ))
    top = max([v for v in x if v is not None] or [1])
    fig.update_layout(
        title=dict(text=slide.chart_title, x=0, xanchor="left", font=dict(size=tick_px + 6)),
        font=dict(family=FONT_FAMILY, size=tick_px), height=height, template="plotly_white",
        margin=dict(l=10, r=30, t=70, b=40), showlegend=False,
    )
    fig.update_xaxes(range=[0, 122 if slide.chart_percent else top * 1.3], ticksuffix="%" if slide.chart_percent else "",
                     tickmode="array" if slide.chart_percent else "auto",
                     tickvals=[0, 25, 50, 75, 100] if slide.chart_percent else None,
                     ticktext=[f"{v}%" for v in (0, 25, 50, 75, 100)] if slide.chart_percent else None,
                     tickfont=dict(size=tick_px), separatethousands=True)
    fig.update_yaxes(autorange="reversed", tickfont=dict(size=tick_px))
    return fig


# ---------------------------------------------------------------- PowerPoint

PPT_FONT = "Noto Sans CJK SC"


def _font(run, size: float, bold: bool = False, color: str | None = None) -> None:
    """Size, weight and a font for Latin and East Asian text (python-pptx sets only the Latin one)."""
    from pptx.dml.color import RGBColor
    from pptx.oxml.ns import qn
    from pptx.util import Pt

    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = PPT_FONT
    if color:
        run.font.color.rgb = RGBColor.from_string(color.lstrip("#"))
    rpr = run._r.get_or_add_rPr()
    for tag in ("a:ea", "a:cs"):
        el = rpr.find(qn(tag))
        if el is None:
            el = rpr.makeelement(qn(tag), {})
            rpr.append(el)
        el.set("typeface", PPT_FONT)


def _text(slide, x, y, w, h, lines: list[tuple[str, float, bool, str | None]]):
    from pptx.util import Inches

    box = slide.shapes.add_textbox(Inches(x), Inches(y), Inches(w), Inches(h))
    tf = box.text_frame
    tf.word_wrap = True
    for i, (text, size, bold, color) in enumerate(lines):
        p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        _font(p.add_run(), size, bold, color)
        p.runs[0].text = text
    return box


def pptx_bytes(slides: list[Slide], meta: dict) -> bytes:
    """A 16:9 deck: the slides in the page's order, each with the period and (for demo data) the
    notice in its footer; family slides hold a table (value, ranks beneath) and a bar chart."""
    from pptx import Presentation
    from pptx.chart.data import CategoryChartData
    from pptx.dml.color import RGBColor
    from pptx.enum.chart import XL_CHART_TYPE
    from pptx.util import Inches, Pt

    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    blank = prs.slide_layouts[6]
    footer = meta.get("period", "") + ("　" + meta["demo"] if meta.get("demo") else "")
    for s in slides:
        page = prs.slides.add_slide(blank)
        _text(page, 0.4, 0.25, 12.5, 0.7, [(s.title, 30, True, "#1F2D3D")])
        if s.kind == "family":
            _text(page, 0.4, 0.9, 12.5, 0.4, [(s.subtitle, 14, False, "#555555")])
            rows, cols = len(s.rows) + 1, len(s.headers) + 1
            height = min(5.6, 0.55 + 0.62 * len(s.rows))
            table = page.shapes.add_table(rows, cols, Inches(0.4), Inches(1.35), Inches(8.3), Inches(height)).table
            table.columns[0].width = Inches(1.9)
            for j in range(1, cols):
                table.columns[j].width = Inches(1.6)
            for j, h in enumerate(["社区", *s.headers]):
                cell = table.cell(0, j)
                cell.text = ""
                _font(cell.text_frame.paragraphs[0].add_run(), 13, True)
                cell.text_frame.paragraphs[0].runs[0].text = h
            for i, (name, cells) in enumerate(s.rows, start=1):
                c0 = table.cell(i, 0)
                c0.text = ""
                _font(c0.text_frame.paragraphs[0].add_run(), 16, True)
                c0.text_frame.paragraphs[0].runs[0].text = name
                for j, c in enumerate(cells, start=1):
                    cell = table.cell(i, j)
                    cell.text = ""
                    tf = cell.text_frame
                    _font(tf.paragraphs[0].add_run(), 22, True, "#145A32" if c.best else "#1F2D3D")
                    tf.paragraphs[0].runs[0].text = c.big
                    p = tf.add_paragraph()
                    _font(p.add_run(), 11, False, "#555555")
                    p.runs[0].text = c.small
                    if c.best:
                        cell.fill.solid()
                        cell.fill.fore_color.rgb = RGBColor(0xD5, 0xF5, 0xE3)
            i = s.headers.index(header(s.chart_key))
            data = CategoryChartData()
            data.categories = [name for name, _ in s.rows]
            scale = 100 if s.chart_percent else 1
            data.add_series(s.chart_title, [None if c[i].value is None or pd.isna(c[i].value)
                                            else round(c[i].value * scale, 1) for _, c in s.rows])
            frame = page.shapes.add_chart(XL_CHART_TYPE.BAR_CLUSTERED, Inches(8.9), Inches(1.35), Inches(4.1),
                                          Inches(max(3.0, height)), data)
            chart = frame.chart
            chart.has_title = True
            chart.chart_title.text_frame.text = s.chart_title + ("（%）" if s.chart_percent else "")
            _font(chart.chart_title.text_frame.paragraphs[0].runs[0], 14, True)
            chart.has_legend = False
            chart.font.size = Pt(12)
            chart.font.name = PPT_FONT
            plot = chart.plots[0]
            plot.has_data_labels = True
            plot.data_labels.number_format = "0.0" if s.chart_percent else "#,##0"
            plot.data_labels.number_format_is_linked = False
            chart.category_axis.reverse_order = True
            for j, point in enumerate(plot.series[0].points):
                point.format.fill.solid()
                point.format.fill.fore_color.rgb = RGBColor.from_string(COLORS[j % len(COLORS)].lstrip("#"))
        else:
            if not s.items:
                _text(page, 0.6, 1.3, 12, 1, [("暂未登记经验做法。", 20, False, "#555555")])
            y = 1.2
            for date, title, text, source in s.items:
                _text(page, 0.6, y, 12.2, 1.4, [(f"{date}　{title}", 20, True, "#1F2D3D"),
                                                (text, 15, False, None), (f"来源：{source}", 12, False, "#555555")])
                y += 1.45
            if s.figures:
                table = page.shapes.add_table(2, len(s.figures), Inches(0.6), Inches(5.6), Inches(12.1),
                                              Inches(1.1)).table
                for j, (name, c) in enumerate(s.figures):
                    head, body = table.cell(0, j), table.cell(1, j)
                    head.text = ""
                    _font(head.text_frame.paragraphs[0].add_run(), 13, True)
                    head.text_frame.paragraphs[0].runs[0].text = name
                    body.text = ""
                    _font(body.text_frame.paragraphs[0].add_run(), 22, True)
                    body.text_frame.paragraphs[0].runs[0].text = c.big
                    p = body.text_frame.add_paragraph()
                    _font(p.add_run(), 11, False, "#555555")
                    p.runs[0].text = c.small
        _text(page, 0.4, 6.9, 12.5, 0.45, [(footer, 10, False, "#777777")])
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


def slide_text(prs_bytes: bytes) -> list[str]:
    """Every slide's text (text boxes and table cells), for tests and checks."""
    from pptx import Presentation

    out = []
    for page in Presentation(io.BytesIO(prs_bytes)).slides:
        bits = []
        for shape in page.shapes:
            if shape.has_text_frame:
                bits.append(shape.text_frame.text)
            if getattr(shape, "has_table", False) and shape.has_table:
                bits += [c.text for r in shape.table.rows for c in r.cells]
        out.append("\n".join(bits))
    return out


FAMILY_TITLES = [FAMILIES[k] for k in FAMILY_ROWS]
assert all(k in INDICATORS for keys, _ in FAMILY_ROWS.values() for k in keys)
