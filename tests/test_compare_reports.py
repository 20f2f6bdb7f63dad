"""The comparison's Excel and PDF files: sheets, formula-safe text, definitions, Chinese in the PDF."""

import io

import pandas as pd
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from governance import reports
from governance.indicators import INDICATORS

META = dict(title="社区对比：甲社区、丙社区", period="2023-06 至 2023-08（截至 2023-08-31）",
            communities="甲社区（东街道）、丙社区（西街道）", peers="本社区 + 同类型中规模最接近的 5 个社区",
            generated="2023-09-01", link="compare?communities=甲社区,丙社区", table_note="名次说明",
            demo="演示数据：当前数据库含模拟数据。")

FLAT = pd.DataFrame([
    {"街道": "东街道", "社区": "甲社区", "指标族": "组织覆盖", "指标代码": "C1", "指标": "C1 小区党支部覆盖率",
     "值": 33.33, "所选社区中最佳": ""},
    {"街道": "西街道", "社区": "=HYPERLINK(\"x\")", "指标族": "组织覆盖", "指标代码": "C1", "指标": "C1 小区党支部覆盖率",
     "值": 100.0, "所选社区中最佳": "是"},
    {"街道": "东街道", "社区": "甲社区", "指标族": "诉求办理", "指标代码": "T2", "指标": "T2 响应率",
     "值": 75.0, "所选社区中最佳": "是"},
])
def pdf_text(page) -> str:
    """A page's text layer; pypdf puts spaces (and NULs, with fpdf2's CID fonts) between CJK glyphs,
    so compare without them (pdftotext reads the same layer cleanly)."""
    return "".join(page.extract_text().replace("\x00", "").split())


PRACTICES = pd.DataFrame([{"社区": "甲社区", "开始日期": "2023-06-01", "做法": "+甲一小区管网改造", "来源": "模拟"}])


def test_excel_has_a_sheet_per_family_definitions_and_no_formulas():
    wb = load_workbook(io.BytesIO(reports.excel_bytes(FLAT, PRACTICES, META)))
    assert wb.sheetnames == ["说明", "组织覆盖", "社区社会组织", "诉求办理", "经验做法", "指标定义"]
    cover = [[c.value for c in r] for r in wb["说明"].iter_rows()]
    assert ["期间", META["period"]] in cover and ["演示数据", "当前数据库含模拟数据。"] in cover
    org = [[c.value for c in r] for r in wb["组织覆盖"].iter_rows()]
    assert len(org) == 3 and org[2][1] == "'=HYPERLINK(\"x\")"  # text, not a formula
    assert all(c.data_type != "f" for ws in wb.worksheets for row in ws.iter_rows() for c in row)
    assert wb["经验做法"]["C2"].value == "'+甲一小区管网改造"
    assert [[c.value for c in r] for r in wb["诉求办理"].iter_rows()][1][4] == "T2 响应率"
    defs = {r[1].value: r[3].value for r in wb["指标定义"].iter_rows(min_row=2)}
    assert defs.keys() == INDICATORS.keys() and defs["C4"] == INDICATORS["C4"].formula


def test_pdf_is_a4_landscape_with_chinese_filters_date_and_demo_notice():
    table = pd.DataFrame({"指标": ["C1 小区党支部覆盖率"], "甲社区": ["33.3%（1/3 个小区）"], "丙社区": ["★ 100.0%（1/1 个小区）"]})
    best = pd.DataFrame({"指标": [False], "甲社区": [False], "丙社区": [True]})
    data = reports.pdf_bytes(table, best, PRACTICES, META, charts=())
    reader = PdfReader(io.BytesIO(data))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (842, 595)  # A4 landscape in points
    text = "".join(pdf_text(p) for p in reader.pages)
    for expected in ("社区对比：甲社区、丙社区", "期间：2023-06至2023-08", "生成日期：2023-09-01", "演示数据",
                     "33.3%（1/3个小区）", "经验做法", "甲一小区管网改造"):
        assert expected in text, expected
    without_demo = reports.pdf_bytes(table, best, PRACTICES, {**META, "demo": None})
    assert "演示数据" not in pdf_text(PdfReader(io.BytesIO(without_demo)).pages[0])


def test_pdf_renders_a_chart_with_kaleido():
    import plotly.graph_objects as go

    fig = go.Figure(go.Bar(x=["甲社区", "丙社区"], y=[1, 2]))
    png = reports.chart_png(fig.to_json(), width=400, height=300)
    assert png is not None and png.startswith(b"\x89PNG")
    table = pd.DataFrame({"指标": ["C1"], "甲社区": ["1"]})
    data = reports.pdf_bytes(table, table.map(lambda _: False), PRACTICES.iloc[0:0], META, charts=(("图表", fig.to_json()),))
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 2
    assert "/XObject" in reader.pages[1]["/Resources"]  # the chart image
