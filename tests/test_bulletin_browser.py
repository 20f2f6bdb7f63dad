"""月度通报 in a real browser against `streamlit run` on the demo data: the street's bulletin link,
its sections and links back to the pages, and both files downloaded from the page."""

import io

import pytest
from docx import Document
from pypdf import PdfReader

from tests.browser import download, open_tab, tab_names, text_containing, wait_for_app

pytestmark = pytest.mark.browser

LINK = "bulletin?street=江堤街道&month=2023-08"


def test_street_bulletin_page_and_its_files(open_url):
    page = open_url(LINK)
    assert page.get_by_text("Page not found").count() == 0
    assert page.locator("[data-testid='stException']").count() == 0
    page.get_by_role("heading", name="江堤街道社区治理月度通报（2023 年 8 月）").wait_for()
    titles = ["一、总体情况", "二、排名", "三、变化", "四、需关注", "五、每月一题 候选", "六、每月一题 进展", "七、组织与社会组织"]
    page.get_by_role("tab", name=titles[-1], exact=True).wait_for(timeout=60_000)
    assert tab_names(page) == titles                       # a tab per section, in the bulletin's order
    # each section is drawn when its tab is chosen (and only then): a sentence every bulletin has there
    shown = ["各社区按本月 T9 综合得分", "两个区间不重叠才称“显著”", "口径：月末仍未办结", "沿用“诉求办理”页举一反三的口径",
             "已采纳的每月一题逐项跟踪", "组织覆盖与社会组织（月末存量）"]
    for title, text in zip(titles[1:], shown):
        assert page.get_by_text(text, exact=False).count() == 0, title
        open_tab(page, title)
        page.get_by_text(text, exact=False).first.wait_for(timeout=60_000)
        assert page.locator("[data-testid='stException']").count() == 0, title
    open_tab(page, titles[0])
    # the URL keeps the month and the street; the sidebar shows the month chosen
    assert "month=2023-08" in page.url and "street=" in page.url
    sidebar = page.locator("[data-testid=stSidebar]")
    assert sidebar.get_by_role("combobox", name="通报月份", exact=True).input_value() == "2023-08"
    # a source link goes to 诉求办理 with the same street and the month as from/to
    source = page.get_by_role("link", name="诉求办理 · 本月")
    href = source.get_attribute("href")
    assert href.startswith("tickets?") and "from=2023-08&to=2023-08" in href

    page.get_by_role("button", name="准备 Word 和 PDF 文件").click()
    page.get_by_role("button", name="下载 PDF").wait_for(timeout=180_000)
    wait_for_app(page)
    name, data = download(page, "下载 Word（.docx）")
    assert name == "江堤街道_月度通报_2023-08.docx"
    doc = Document(io.BytesIO(data))
    assert doc.paragraphs[0].text == "江堤街道社区治理月度通报（2023 年 8 月）"
    cells = [[c.text for c in r.cells] for r in doc.tables[0].rows]
    assert ["T3 解决率", "87.5%", "119 / 136 件有效回访"] == cells[4][:3]
    name, data = download(page, "下载 PDF")
    assert name == "江堤街道_月度通报_2023-08.pdf"
    reader = PdfReader(io.BytesIO(data))
    first = "".join(reader.pages[0].extract_text().replace("\x00", "").split())
    assert "T3解决率87.5%119/136件有效回访" in first and "演示数据" in first
    assert page.locator("[data-testid='stException']").count() == 0

    # following the link opens 诉求办理 on the same selection, whose T3 card shows the same figure
    with page.context.expect_page() as opened:   # Streamlit opens Markdown links in a new tab
        source.click()
    tickets = opened.value
    tickets.wait_for_url("**/tickets?**")
    wait_for_app(tickets)
    card = tickets.locator("[data-testid=stMetric]", has_text="T3 解决率").first
    text_containing(card, "87.5%")
