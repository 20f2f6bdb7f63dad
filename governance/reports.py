"""Files a training class takes home: the comparison as an Excel workbook (a sheet per indicator
family plus the definitions) and as an A4 landscape PDF with Chinese text and the charts.

Both are built from what the page shows (the comparison table, the charts as Plotly JSON, the
practices) and a `meta` dict of plain strings (title, filters, date, demo notice); nothing here
queries the database. Text cells are neutralised against spreadsheet formulas (governance.exports).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pandas as pd

from governance import exports
from governance.indicators import FAMILIES, INDICATORS
from governance.labels import plot_safe

CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
CJK_FONT_INDEX = 2  # Noto Sans CJK SC inside the collection (fc-list :lang=zh -f "%{family} %{index}")
CHROMIUM = "/usr/bin/chromium"
BEST_FILL = (213, 245, 227)  # the light green the page uses for the best value
HEADER_FILL = (234, 237, 240)


def definitions_frame() -> pd.DataFrame:
    """Every indicator's one definition (governance.indicators), for the 指标定义 sheet."""
    return pd.DataFrame([{
        "指标族": i.family, "代码": i.code, "名称": i.name, "公式": i.formula, "分子": i.numerator,
        "分母": i.denominator, "单位": i.unit, "定义来源": i.source, "注意": i.caveats,
    } for i in INDICATORS.values()])


def meta_lines(meta: dict) -> list[str]:
    """The header lines every file carries: filters, date, and the demo notice when it applies."""
    lines = [f"期间：{meta['period']}", f"对比社区：{meta['communities']}", f"相似社区：{meta['peers']}",
             f"生成日期：{meta['generated']}", f"链接：{meta['link']}"]
    if meta.get("demo"):
        lines.append(meta["demo"])
    return lines


# ---------------------------------------------------------------- Excel

def excel_bytes(flat: pd.DataFrame, practices: pd.DataFrame, meta: dict) -> bytes:
    """An .xlsx: 说明 (filters, date, demo notice), one sheet per family with the flat comparison
    rows of that family, 经验做法, and 指标定义. Every text cell is formula-safe."""
    from openpyxl.styles import Alignment, Font, PatternFill

    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        cover = pd.DataFrame({"项目": [meta["title"]] + [ln.split("：", 1)[0] for ln in meta_lines(meta)],
                              "内容": [""] + [ln.split("：", 1)[-1] for ln in meta_lines(meta)]})
        exports.safe_frame(cover).to_excel(xl, sheet_name="说明", index=False)
        for family in FAMILIES.values():
            part = flat[flat["指标族"] == family]
            exports.safe_frame(part).to_excel(xl, sheet_name=family, index=False)
        exports.safe_frame(practices).to_excel(xl, sheet_name="经验做法", index=False)
        exports.safe_frame(definitions_frame()).to_excel(xl, sheet_name="指标定义", index=False)
        best = PatternFill("solid", fgColor="D5F5E3")
        for ws in xl.book.worksheets:
            for cell in ws[1]:
                cell.font = Font(bold=True)
            for col in ws.columns:
                width = max(len(str(c.value)) if c.value is not None else 0 for c in col)
                ws.column_dimensions[col[0].column_letter].width = min(60, max(8, width * 1.6))
            if "所选社区中最佳" in [c.value for c in ws[1]]:
                flag = [c.value for c in ws[1]].index("所选社区中最佳")
                for row in ws.iter_rows(min_row=2):
                    if row[flag].value == "是":
                        for c in row:
                            c.fill = best
            ws.freeze_panes = "A2"
            for row in ws.iter_rows(min_row=2):
                for c in row:
                    c.alignment = Alignment(vertical="top", wrap_text=ws.title in ("指标定义", "经验做法"))
    return buf.getvalue()


# ---------------------------------------------------------------- PDF

def chart_png(fig_json: str, width: int = 1100, height: int = 560) -> bytes | None:
    """A Plotly figure (JSON) as PNG via Kaleido and Debian's chromium; None if that fails."""
    import plotly.io as pio

    if Path(CHROMIUM).exists():
        os.environ.setdefault("BROWSER_PATH", CHROMIUM)
    try:
        fig = plot_safe(pio.from_json(fig_json))
        return fig.to_image(format="png", width=width, height=height, scale=2)
    except Exception:  # noqa: BLE001 - a report without a chart is better than no report
        return None


def _run_async(make_coro):
    """asyncio.run(make_coro()), in a thread of its own when this thread already runs an event loop
    (Playwright's sync API does, in the tests and the load drill: asyncio.run would refuse)."""
    import asyncio
    import concurrent.futures

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make_coro())
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(make_coro())).result()


def charts_png(figs_json: list[str], width: int = 1100, height: int = 560) -> list[bytes | None]:
    """Several Plotly figures (JSON) as PNGs in one Kaleido browser session (a chromium start costs
    about as much as drawing three charts); per figure None if it fails, all None without chromium."""
    import asyncio

    import kaleido
    import plotly.io as pio

    if Path(CHROMIUM).exists():
        os.environ.setdefault("BROWSER_PATH", CHROMIUM)

    async def draw(figs: list[str]):
        out = []
        async with kaleido.Kaleido(n=1) as k:
            for fig_json in figs:
                try:
                    out.append(await k.calc_fig(plot_safe(pio.from_json(fig_json)),
                                                opts=dict(format="png", width=width, height=height, scale=2)))
                except Exception:  # noqa: BLE001 - a report without one chart is better than no report
                    out.append(None)
        return out

    if not figs_json:
        return []
    out: list[bytes | None] = [None] * len(figs_json)
    for _ in range(2):  # a busy machine can make the browser's start or a drawing time out: try once more
        todo = [i for i, png in enumerate(out) if png is None]
        if not todo:
            break
        try:
            drawn = _run_async(lambda: draw([figs_json[i] for i in todo]))
        except Exception:  # noqa: BLE001 - no browser: the files say so where each chart would be
            continue
        for i, png in zip(todo, drawn):
            out[i] = png
    return out


def new_pdf(orientation: str = "L", footer=lambda page: f"社区治理指标看板 · 社区对比报告 · 第 {page}/{{nb}} 页",
            draw_header=None, margins: tuple = (10, 10, 10), bottom: float = 14):
    """An A4 fpdf2 document with Noto Sans CJK SC embedded as font "cjk", a centred footer line
    (`footer(page_number)`, `{nb}` = page count) and, with `draw_header(pdf)`, a header on every page."""
    from fpdf import FPDF

    class Report(FPDF):
        def header(self):
            if draw_header is not None:
                draw_header(self)

        def footer(self):
            self.set_y(-bottom + 4)
            self.set_font("cjk", size=8)
            self.set_text_color(120)
            self.cell(0, 5, footer(self.page_no()), align="C")

    pdf = Report(orientation=orientation, format="A4", unit="mm")
    pdf.add_font("cjk", "", str(CJK_FONT), collection_font_number=CJK_FONT_INDEX)
    pdf.set_auto_page_break(True, margin=bottom)
    pdf.set_margins(*margins)
    pdf.alias_nb_pages()
    return pdf


def pdf_bytes(table: pd.DataFrame, best: pd.DataFrame, practices: pd.DataFrame, meta: dict,
              charts: tuple[tuple[str, str], ...] = ()) -> bytes:
    """An A4 landscape report: title, filters and date, demo notice, the side-by-side table (best
    values shaded), the charts (title, Plotly JSON) as images, and the practices with their sources."""
    from fpdf.fonts import FontFace

    pdf = new_pdf()
    pdf.add_page()
    pdf.set_font("cjk", size=18)
    pdf.cell(0, 10, meta["title"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    for line in meta_lines(meta):
        if line == meta.get("demo"):
            pdf.set_text_color(160, 60, 0)
        pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0)
    pdf.ln(2)

    cols = list(table.columns)
    n = len(cols) - 1
    first = 46
    widths = [first] + [(pdf.epw - first) / max(n, 1)] * n
    size = 8 if n <= 4 else 7 if n <= 6 else 6
    pdf.set_font("cjk", size=size)
    head = FontFace(fill_color=HEADER_FILL)
    shade = FontFace(fill_color=BEST_FILL)
    with pdf.table(col_widths=widths, text_align="LEFT", line_height=size * 0.5, headings_style=head,
                   first_row_as_headings=True) as t:
        row = t.row()
        for c in cols:
            row.cell(str(c))
        for i in range(len(table)):
            row = t.row()
            for c in cols:
                row.cell(str(table.iloc[i][c]), style=shade if bool(best.iloc[i].get(c, False)) else None)
    pdf.set_font("cjk", size=8)
    pdf.multi_cell(0, 4.5, meta.get("table_note", ""), new_x="LMARGIN", new_y="NEXT")

    for title, fig_json in charts:
        png = chart_png(fig_json)
        pdf.add_page()
        pdf.set_font("cjk", size=13)
        pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
        if png is None:
            pdf.set_font("cjk", size=10)
            pdf.cell(0, 8, "（图表生成失败：未找到 Chromium/Kaleido，请在看板中查看。）", new_x="LMARGIN", new_y="NEXT")
            continue
        h = pdf.eph - 12
        w = min(pdf.epw, h * 1100 / 560)
        pdf.image(io.BytesIO(png), x=(pdf.w - w) / 2, w=w)

    if not practices.empty:
        pdf.add_page()
        pdf.set_font("cjk", size=13)
        pdf.cell(0, 8, "经验做法", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=8)
        pcols = list(practices.columns)
        pw = {"社区": 24, "开始日期": 18, "做法": 52, "相关指标": 18, "相关诉求类别": 22, "来源": 58}
        rest = pdf.epw - sum(pw.get(c, 0) for c in pcols)
        widths = [pw.get(c, rest) for c in pcols]
        with pdf.table(col_widths=widths, text_align="LEFT", line_height=4.6, headings_style=head, padding=1) as t:
            row = t.row()
            for c in pcols:
                row.cell(str(c))
            for r in practices.itertuples(index=False):
                row = t.row()
                for v in r:
                    row.cell("—" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v))
    return bytes(pdf.output())
