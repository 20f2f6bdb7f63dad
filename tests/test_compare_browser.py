"""社区对比 in a real browser against `streamlit run` on the demo data: the training link, its
published figures, 培训模式, and the three files with their content."""

import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.browser import download, open_tab, text_containing, wait_for_app

pytestmark = pytest.mark.browser

LINK = "compare?communities=江欣苑社区,西山社区,裕园社区"
NAMES = ("江欣苑社区", "西山社区", "裕园社区")


def test_training_link_presentation_mode_and_files(open_url):
    page = open_url(LINK)
    assert page.get_by_text("Page not found").count() == 0
    assert page.locator("[data-testid='stException']").count() == 0
    table = page.locator(".st-key-cmp_table [data-testid='stTable']")   # the cards are for phones
    text = text_containing(table, *NAMES)
    # published figures: 88 building groups in 江欣苑, 43 organisations in 西山
    assert "100.0%（88/88 栋）" in text and "★ 43" in text
    assert page.locator("[data-testid='stSidebar']").is_visible()

    # 培训模式: sidebar and controls hidden, link says present=1, the first slide holds the three
    page.get_by_text("培训模式", exact=True).click()
    page.wait_for_function("() => location.search.includes('present=1')")
    page.wait_for_selector("[data-testid='stSidebar']", state="hidden")
    wait_for_app(page)
    assert page.get_by_role("button", name="准备 PDF 报告").count() == 0
    assert page.locator("[data-testid='stMultiSelect']").count() == 0
    present_text = text_containing(page.locator(".st-key-slide"), *NAMES)
    assert all(n in present_text for n in NAMES) and "★ 100.0%" in present_text and "1/33 · 组内 1/6" in present_text
    cell = page.locator(".st-key-slide_grid strong").first
    assert float(cell.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 28
    page.get_by_text("培训模式", exact=True).click()
    page.wait_for_selector("[data-testid='stSidebar']", state="visible")
    page.wait_for_function("() => !location.search.includes('present=1')")
    wait_for_app(page)

    # the files are on their own tab: CSV with a BOM, one row per community and indicator
    assert page.get_by_role("button", name="下载 CSV").count() == 0
    open_tab(page, "导出")
    name, data = download(page, "下载 CSV")
    assert name.endswith(".csv") and data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("街道,社区,指标族,指标代码,指标,值")
    assert any(l.startswith("江堤街道,江欣苑社区,组织覆盖,C2,") and ",88.0,88.0," in l for l in lines)
    assert any(l.startswith("硖石街道,西山社区,社区社会组织,S1,") and ",43.0," in l for l in lines)

    # Excel: prepared on request, a sheet per family and the definitions
    page.get_by_role("button", name="准备 Excel 文件").click()
    page.get_by_role("button", name="下载 Excel（.xlsx）").wait_for()
    name, data = download(page, "下载 Excel（.xlsx）")
    wb = load_workbook(io.BytesIO(data))
    assert name.endswith(".xlsx")
    assert {"组织覆盖", "社区社会组织", "诉求办理", "指标定义"} <= set(wb.sheetnames)
    orgs = [[c.value for c in r] for r in wb["社区社会组织"].iter_rows()]
    assert any(r[1] == "西山社区" and r[3] == "S1" and r[5] == 43 for r in orgs)

    # PDF: A4 landscape pages whose text layer holds the communities, the period and the demo notice
    page.get_by_role("button", name="准备 PDF 报告").click()
    page.get_by_role("button", name="下载 PDF（A4 横向）").wait_for(timeout=120_000)
    name, data = download(page, "下载 PDF（A4 横向）")
    reader = PdfReader(io.BytesIO(data))
    assert name.endswith(".pdf") and len(reader.pages) >= 4
    assert round(float(reader.pages[0].mediabox.width)) == 842
    # the first page's text layer (pypdf mis-maps some glyphs of fpdf2's font subset on later pages,
    # which pdftotext reads correctly; the first page holds the filters and the table)
    first = "".join(reader.pages[0].extract_text().replace("\x00", "").split())
    for n in NAMES:
        assert n in first
    assert "★100.0%（88/88）｜全部1/33·相似组1/6" in first  # 江欣苑's C2 with its ranks
    assert "★43｜全部1/33" in first  # 西山's 43 organisations
    assert "演示数据" in first and "期间：2022-09至2023-08" in first
    assert page.locator("[data-testid='stException']").count() == 0
