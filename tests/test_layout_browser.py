"""Every page at a phone's 390×844 (touch) and at a 1920×1080 projector, in a real browser: nothing
wider than the screen except inside a scrollable table, the demo notice at most two lines, no
Plotly mode bar on touch; 培训模式's slides fit 1080 px with body text ≥ 28 px and chart ticks ≥
18 px; the PowerPoint download holds the same slides and numbers as the page."""

import pytest

from governance import slides as sl
from playwright.sync_api import expect

from tests.browser import wait_for_app

pytestmark = pytest.mark.browser

PAGES = ["overview", "coverage?community=江欣苑社区", "organizations?community=西山社区",
         "tickets?community=裕园社区", "compare?communities=江欣苑社区,西山社区,裕园社区", "data", "glossary"]
PHONE = dict(viewport=(390, 844), is_mobile=True, has_touch=True)
SIX = "compare?communities=江欣苑社区,西山社区,裕园社区,康城社区,文昌花园社区,黄门街社区&present=1"

CHARTS_DRAWN = """() => [...document.querySelectorAll('[data-testid=stPlotlyChart]')]
    .every(c => c.querySelector('.main-svg'))"""

# elements whose right edge passes the viewport, outside anything that scrolls sideways (tables)
TOO_WIDE = """() => {
  const w = document.documentElement.clientWidth, out = [];
  const top = document.querySelector('[data-testid=stMainBlockContainer]');
  for (const el of top.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || r.right <= w + 1) continue;
    let p = el.parentElement, scrolls = false;
    while (p && p !== top && !scrolls) {
      const s = getComputedStyle(p);
      scrolls = ['auto', 'scroll', 'hidden'].includes(s.overflowX) && p.scrollWidth > p.clientWidth - 1
                && p.getBoundingClientRect().right <= w + 1;
      p = p.parentElement;
    }
    if (!scrolls) out.push((el.getAttribute('data-testid') || el.tagName) + ' ' + Math.round(r.right));
  }
  return out;
}"""

NOTICE_LINES = """() => {
  const a = [...document.querySelectorAll('[data-testid=stAlert]')].find(e => e.innerText.includes('演示数据'));
  if (!a) return null;
  const p = a.querySelector('[data-testid=stMarkdownContainer] p');
  return p.getBoundingClientRect().height / parseFloat(getComputedStyle(p).lineHeight);
}"""

VISIBLE_MODEBARS = """() => [...document.querySelectorAll('.modebar-container')]
    .filter(m => getComputedStyle(m).display !== 'none' && m.getBoundingClientRect().height > 0).length"""


def rendered(page):
    wait_for_app(page)
    page.wait_for_function(CHARTS_DRAWN, timeout=60_000)
    assert page.locator("[data-testid='stException']").count() == 0
    return page


@pytest.mark.parametrize("path", PAGES)
def test_phone_every_page_fits_and_has_no_mode_bar(open_url, path):
    page = rendered(open_url(path, **PHONE))
    assert page.evaluate(TOO_WIDE) == []
    lines = page.evaluate(NOTICE_LINES)
    assert lines is not None and lines <= 2.05, lines
    assert page.evaluate(VISIBLE_MODEBARS) == 0
    if path == "overview":
        # the measure can fail: a block wider than the phone is reported
        page.evaluate("""() => { const d = document.createElement('div'); d.style.width = '600px';
            d.style.height = '10px'; document.querySelector('[data-testid=stMainBlockContainer]').appendChild(d); }""")
        assert [x.split()[0] for x in page.evaluate(TOO_WIDE)] == ["DIV"]
    if path.startswith("compare"):
        # one card per community instead of the side-by-side table
        assert not page.locator(".st-key-cmp_table").is_visible()
        cards = page.locator(".st-key-cmp_cards [data-testid='stTable']")
        cards.nth(2).wait_for(timeout=60_000)
        assert cards.count() == 3 and "100.0%（88/88 栋）" in cards.first.inner_text()


@pytest.mark.parametrize("path", PAGES)
def test_projector_every_page_fits(open_url, path):
    page = rendered(open_url(path, viewport=(1920, 1080)))
    assert page.evaluate(TOO_WIDE) == []
    lines = page.evaluate(NOTICE_LINES)
    assert lines is not None and lines <= 1.05, lines
    if path.startswith("compare"):
        assert page.locator(".st-key-cmp_table").is_visible() and not page.locator(".st-key-cmp_cards").is_visible()


SLIDE_SIZES = """() => {
  const s = document.querySelector('.st-key-slide');
  const fonts = [...s.querySelectorAll('p, li, span, td, th')]
    .filter(e => !e.closest('[data-testid=stPlotlyChart]') && e.innerText && e.innerText.trim()
                 && e.getBoundingClientRect().height > 0)
    .map(e => parseFloat(getComputedStyle(e).fontSize));
  const ticks = [...s.querySelectorAll('.xtick text, .ytick text')].map(t => parseFloat(t.style.fontSize));
  const main = document.querySelector('[data-testid=stMain]');
  return {bottom: s.getBoundingClientRect().bottom, scroll: main.scrollHeight, body: Math.min(...fonts),
          ticks: ticks.length ? Math.min(...ticks) : null, title: s.querySelector('h2').innerText};
}"""


def test_projector_slides_fit_and_read_from_the_back(open_url):
    page = rendered(open_url(SIX, viewport=(1920, 1080)))
    count = int(page.get_by_text("页", exact=False).filter(has_text="第 1 /").inner_text().split("/")[1].split()[0])
    assert count == 3 + 6   # three families, then each community's practices
    titles = []
    for n in range(1, count + 1):
        page.goto(page.url.split("&slide=")[0].split("?")[0] + "?" + SIX.split("?")[1] + f"&slide={n}")
        rendered(page)
        page.wait_for_function("n => document.body.innerText.includes(`第 ${n} / `)", arg=n)
        m = page.evaluate(SLIDE_SIZES)
        assert m["bottom"] <= 1080 and m["scroll"] <= 1080, (n, m)
        assert m["body"] >= 28, (n, m)
        if n <= 3:
            assert m["ticks"] is not None and m["ticks"] >= 18, (n, m)
        titles.append(m["title"])
    assert titles[:3] == sl.FAMILY_TITLES and titles[3] == "江欣苑社区 · 经验做法"

    # the arrow keys turn the slides, and the link follows
    page.goto(page.url.split("&slide=")[0] + "&slide=1")
    rendered(page)
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => location.search.includes('slide=2')")
    rendered(page)
    expect(page.locator(".st-key-slide h2")).to_have_text("社区社会组织", timeout=60_000)
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("() => location.search.includes('slide=1')")
    rendered(page)
    expect(page.locator(".st-key-slide h2")).to_have_text("组织覆盖", timeout=60_000)


def test_powerpoint_holds_the_slides_and_the_numbers_of_the_page(open_url):
    from pptx import Presentation
    import io

    page = rendered(open_url(SIX, viewport=(1920, 1080)))
    button = page.get_by_role("button", name="下载 PowerPoint")
    with page.expect_download() as info:
        button.click()
    download = info.value
    assert download.suggested_filename.endswith(".pptx")
    data = open(download.path(), "rb").read()
    prs = Presentation(io.BytesIO(data))
    texts = sl.slide_text(data)
    assert len(prs.slides) == 3 + 6
    assert [t.splitlines()[0] for t in texts[:3]] == sl.FAMILY_TITLES
    # text is text: every family slide has a table and a native chart, no pictures
    for s in list(prs.slides)[:3]:
        kinds = {sh.shape_type for sh in s.shapes}
        assert any(getattr(sh, "has_table", False) and sh.has_table for sh in s.shapes)
        assert any(getattr(sh, "has_chart", False) and sh.has_chart for sh in s.shapes)
        assert 13 not in kinds  # MSO_SHAPE_TYPE.PICTURE
    # the same big numbers as each slide on the page, community by community
    seen = {}
    for n in (1, 2, 3):
        if n > 1:
            page.get_by_role("button", name="下一页").click()
            page.wait_for_function("n => location.search.includes(`slide=${n}`)", arg=n)
            rendered(page)
        shown = page.locator(".st-key-slide_grid strong").all_inner_texts()
        table = next(sh.table for sh in list(prs.slides)[n - 1].shapes if getattr(sh, "has_table", False) and sh.has_table)
        in_file = [table.cell(i, j).text_frame.paragraphs[0].text
                   for i in range(1, len(table.rows)) for j in range(1, len(table.columns))]
        assert shown == in_file and len(in_file) == 6 * 4
        seen[n] = in_file
    assert seen[1][0] == "★ 100.0%"     # 江欣苑's 8 branches on 8 compounds (published)
    assert seen[2][4] == "★ 43"         # 西山's 43 organisations (published), its S1
    assert "西山社区" in texts[1] and "爱心联盟" in "\n".join(texts[3:])
