"""Hostile names: a community, compound, organisation, category and practice named like markup
or a spreadsheet formula is imported through the importer and shown as text everywhere —
tables, charts, hover labels, the page header — with no script run (no dialog ever opens), and
every CSV export neutralises cells that a spreadsheet would read as a formula."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from governance import db, exports, importer, runtime
from governance.labels import md_escape, plot_text
from tests.apptest import each_tab, open_tab as choose_tab
from tests.browser import (expect_text, new_context, open_tab, running_server, tab_names, text_containing, wait_for_app,
                           wait_for_charts)
from tests.fixtures import ADMIN

ROOT = Path(__file__).resolve().parent.parent
S = "<script>alert(1)</script>"
I = "<img src=x onerror=alert(1)>"  # noqa: E741
H = '=HYPERLINK("http://x")'
M = "**粗体**[链接](http://x.example) :red[红] $x$"   # Markdown: must read as typed, not as bold or a link
STREET = "江堤街道"
# issue 18's corpus: live links and images in Plotly and Markdown, javascript: URLs, bidirectional
# controls, very long names, and a file name that was a live link and a tracking image
A = '<a href="javascript:alert(1)">点我</a>'
LINK = '<a href="http://evil.example/x">官方</a>'
MDIMG = "![t](http://evil.example/track.png)[官方通知](http://evil.example/n)"
BIDI = "\u202e区社常正\u202c"
LONG = "很长的名字" * 60
FILE = "[官方通知](http://evil.example) ![t](http://evil.example/track.png).csv"
HOSTILE_TAGS = [S, I, A, LINK]   # names holding markup that Plotly would render


def _csv(rows: list[list]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


FILES = [
    ("communities", [["省", "市", "区县", "街道", "社区", "类型", "户数", "居民人数"],
                     ["湖北省", "武汉市", "汉阳区", STREET, S, "城市", 900, 2400],
                     ["湖北省", "武汉市", "汉阳区", STREET, H, "城市", 500, 1300],
                     ["湖北省", "武汉市", "汉阳区", STREET, M, "城市", 400, 1000],
                     ["湖北省", "武汉市", "汉阳区", STREET, A, "城市", 300, 800],
                     ["湖北省", "武汉市", "汉阳区", STREET, LONG, "城市", 200, 500]]),
    ("compounds", [["街道", "社区", "小区", "户数"], [STREET, S, I, 300], [STREET, S, H, 200], [STREET, H, S, 150],
                   [STREET, S, LINK, 120], [STREET, A, MDIMG, 80], [STREET, LONG, BIDI, 60]]),
    ("buildings", [["街道", "社区", "小区", "楼栋", "户数"], [STREET, S, I, S, 40], [STREET, S, I, "2栋", 40],
                   [STREET, S, H, I, 30]]),
    ("branches", [["街道", "社区", "小区", "党支部名称", "党员人数", "成立日期"], [STREET, S, I, S, 5, "2020-01-01"]]),
    ("building_groups", [["街道", "社区", "小区", "楼栋", "党小组长", "成立日期"], [STREET, S, I, S, H, "2021-01-01"]]),
    ("social_orgs", [["街道", "社区", "组织名称", "组织类型", "是否党建引领", "成立日期"],
                     [STREET, S, H, "志愿服务", "是", "2020-01-01"], [STREET, S, I, "文体娱乐", "否", "2021-05-01"],
                     [STREET, H, S, "邻里互助", "是", "2019-03-01"], [STREET, S, LINK, "志愿服务", "是", "2022-01-01"],
                     [STREET, A, MDIMG, "志愿服务", "否", "2022-02-01"], [STREET, S, BIDI, "文体娱乐", "是", "2022-03-01"]]),
    ("practices", [["街道", "社区", "做法名称", "开始日期", "相关诉求分类", "说明"],
                   [STREET, S, I, "2023-06-01", I, H]]),
    ("tickets", [["诉求编号", "街道", "社区", "小区", "一级分类", "二级分类", "三级分类", "受理时间", "办结时间",
                  "回访联系上", "是否解决", "满意度"]]
     + [[f"HX{i:04d}", STREET, S, I, "物业管理", H, I, f"2023-0{5 + i % 4}-{1 + i % 27:02d} 09:00",
         f"2023-0{5 + i % 4}-{1 + i % 27:02d} 18:00", "是", "是" if i % 3 else "否", "满意"] for i in range(40)]
     + [[f"HY{i:04d}", STREET, H, S, S, "", "", f"2023-0{6 + i % 3}-{2 + i:02d} 10:00", "", "", "", ""]
        for i in range(10)]
     + [[f"HZ{i:04d}", STREET, A, MDIMG, LINK, A, "", f"2023-0{6 + i % 3}-{3 + i:02d} 11:00",
         f"2023-0{6 + i % 3}-{3 + i:02d} 15:00", "是", "否", "不满意"] for i in range(12)]),
]


def build(path: Path) -> Path:
    con = db.connect(path)
    try:
        for table, rows in FILES:
            name = {"practices": f"{I}.csv", "social_orgs": FILE}.get(table, f"{table}.csv")   # the batch list shows it
            report, batch = importer.import_file(con, table, _csv(rows), name, actor=ADMIN)
            assert batch is not None, report.problems
    finally:
        con.close()
    return path


@pytest.fixture(scope="module")
def hostile_db(demo_db_master, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "demo.duckdb"
    shutil.copy(demo_db_master, path)
    return build(path)


@pytest.fixture
def hostile_app(hostile_db, monkeypatch):
    monkeypatch.setenv("GOVERNANCE_DB", str(hostile_db))

    def make(page, **params):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        for k, v in params.items():
            at.query_params[k] = v
        at.run()
        at.switch_page(page).run()
        assert not at.exception, at.exception
        return at

    return make


def shown_strings(at) -> set[str]:
    """Every string value in the page's tables, chart specs, captions and widget options."""
    out = set()
    for df in at.dataframe:
        frame = df.value
        for col in frame.columns:
            out.update(str(v) for v in frame[col].tolist() if isinstance(v, str))
    out.update(chart_strings(at))
    for sb in at.selectbox:
        out.update(sb.options)
    return out


# ------------------------------------------------------------------ the names arrive intact


def test_names_are_stored_exactly_as_given(hostile_db):
    con = db.connect(hostile_db, read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM communities WHERE community IN (?, ?)", [S, H]).fetchone()[0] == 2
        assert con.execute("SELECT count(*) FROM compounds WHERE compound IN (?, ?, ?)", [S, I, H]).fetchone()[0] == 3
        assert con.execute("SELECT count(*) FROM social_orgs WHERE org IN (?, ?, ?)", [S, I, H]).fetchone()[0] == 3
    finally:
        con.close()


@pytest.mark.parametrize("page, names", [
    ("pages/1_overview.py", {S, I}),           # practices timeline and table
    ("pages/2_coverage.py", {I, H}),           # compounds in the chain chart and the gaps
    ("pages/3_organizations.py", {S, I, H}),   # organisations in the list
    ("pages/4_tickets.py", {I, H}),            # categories in the sunburst, compounds in recurring
])
def test_pages_show_the_names_as_given_text(hostile_app, page, names):
    at = hostile_app(page, street=STREET, community=S)
    assert f"› {md_escape(S)}" in at.caption[0].value      # the page header says where we are, as text
    strings = set().union(*(shown_strings(view) for view in each_tab(at)))
    joined = "\n".join(strings)
    missing = [n for n in names if n not in joined and plot_text(n) not in joined]   # tables / charts
    assert not missing, missing


def chart_strings(at) -> list[str]:
    out = []

    def walk(x):
        if isinstance(x, str):
            out.append(x)
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
    for chart in at.get("plotly_chart"):
        walk(json.loads(chart.proto.spec))
    return out


@pytest.mark.parametrize("page, params", [
    ("pages/1_overview.py", {"street": STREET}), ("pages/2_coverage.py", {"street": STREET}),
    ("pages/2_coverage.py", {"street": STREET, "community": S}),
    ("pages/3_organizations.py", {"street": STREET}), ("pages/3_organizations.py", {"street": STREET, "community": S}),
    ("pages/4_tickets.py", {"street": STREET}), ("pages/4_tickets.py", {"street": STREET, "community": A}),
    ("pages/5_compare.py", {"communities": f"{STREET}/{S},{STREET}/{A},{STREET}/{H}"}),
])
def test_no_chart_carries_markup_from_the_data(hostile_app, page, params):
    """Plotly renders <a href>, <b>, <br> in labels, hover text (also in hovertemplate
    substitutions), legends and ticks: every data string in every figure is escaped (plot_text)."""
    at = hostile_app(page, **params)
    strings = [x for view in each_tab(at) for x in chart_strings(view)]
    assert strings, "the page draws charts"
    raw = [x for x in strings if any(tag in x for tag in HOSTILE_TAGS) or "\u202e" in x]
    assert not raw, raw[:5]
    assert any(plot_text(tag) in x for x in strings for tag in HOSTILE_TAGS), "the names are shown, escaped"


def test_plot_text_and_plot_safe():
    import plotly.graph_objects as go

    from governance.labels import OWN_MARKUP, plot_safe
    assert plot_text(LINK) == '&lt;a href="http://evil.example/x"&gt;官方&lt;/a&gt;'
    assert plot_text(BIDI) == "区社常正" and plot_text(3) == 3
    fig = go.Figure(go.Bar(x=[A, "b"], y=[1, 2], customdata=[[S, 1], ["x", 2]], name=LINK,
                           hovertemplate="%{customdata[0]}<br>%{y}<extra></extra>"))
    fig.update_layout(title=dict(text=f"组织 {I}", subtitle=dict(text=LINK)), xaxis=dict(categoryarray=[A, "b"]))
    fig.add_annotation(text=LINK)
    fig.add_annotation(text="<b>图例</b>", name=OWN_MARKUP)
    d = plot_safe(fig).to_plotly_json()
    assert d["data"][0]["x"] == [plot_text(A), "b"] and d["data"][0]["customdata"][0][0] == plot_text(S)
    assert d["data"][0]["name"] == plot_text(LINK) and d["data"][0]["hovertemplate"].endswith("<br>%{y}<extra></extra>")
    assert d["layout"]["xaxis"]["categoryarray"] == [plot_text(A), "b"] and I not in d["layout"]["title"]["text"]
    assert d["layout"]["title"]["subtitle"]["text"] == plot_text(LINK)
    assert [a["text"] for a in d["layout"]["annotations"]] == [plot_text(LINK), "<b>图例</b>"]


@pytest.mark.parametrize("page, params", [
    ("pages/4_tickets.py", {"street": STREET}), ("pages/3_organizations.py", {"street": STREET}),
    ("pages/5_compare.py", {"communities": f"{STREET}/{S},{STREET}/{A},{STREET}/{H}"}),
])
def test_a_cached_chart_is_escaped_once_however_often_it_is_shown(hostile_app, page, params):
    """Figures come from caches (derived.figure, runtime.derived(shared=True)) already escaped: a
    rerun, or another session, shows the same text, not "&amp;lt;" for "<"."""
    at = hostile_app(page, **params)
    first = chart_strings(at)
    at.run()
    assert not at.exception
    assert chart_strings(at) == first
    assert not [x for x in first if "&amp;lt;" in x or "&amp;gt;" in x], "escaped twice"


def test_plot_safe_escapes_a_figure_once():
    import plotly.graph_objects as go

    from governance.labels import plot_safe
    fig = go.Figure(go.Bar(x=[A, LINK], y=[1, 2], name=LINK))
    once = plot_safe(fig).to_plotly_json()
    assert plot_safe(plot_safe(fig)).to_plotly_json() == once and once["data"][0]["name"] == plot_text(LINK)


def test_every_page_shows_charts_through_the_one_escaping_function():
    pages = sorted((ROOT / "pages").glob("*.py"))
    direct = [p.name for p in pages if "st.plotly_chart(" in p.read_text(encoding="utf-8")]
    assert direct == []   # ui.plotly_chart applies labels.plot_safe


@pytest.mark.parametrize("page", ["pages/1_overview.py", "pages/2_coverage.py", "pages/3_organizations.py",
                                  "pages/4_tickets.py", "pages/5_compare.py"])
def test_markdown_in_a_name_is_escaped_wherever_markdown_renders(hostile_app, page):
    compare = page.endswith("compare.py")
    at = (hostile_app(page, communities=f"{STREET}/{M},江欣苑社区,[链接](http://x.example)") if compare else hostile_app(page, street=STREET, community=M))
    texts = [c.value for c in at.caption] + [m.value for m in at.markdown] + [w.value for w in at.warning]
    if compare:   # the side-by-side table's column, the peer group's heading, the notice on the URL
        assert md_escape(M) in at.table[0].value.columns and any(f"**{md_escape(M)}**" in t for t in texts)
        notice = f"“{md_escape('[链接](http://x.example)')}”不存在"
        assert any(notice in w.value for w in at.warning), [w.value for w in at.warning]
    else:
        assert f"› {md_escape(M)}" in texts[0]
    raw = [t for t in texts if "**粗体**" in t or "[链接](" in t]
    assert not raw, raw                                    # nowhere does the name reach markdown unescaped


# ------------------------------------------------------------------ exports


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", H])
def test_formula_like_cells_are_neutralised(cell):
    frame = pd.DataFrame({"社区": [cell, "江欣苑社区"], "件数": [-3, 5], cell: ["x", "y"]})
    text = exports.csv_bytes(frame).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == 3                                     # a CR or tab inside a cell splits no row
    assert rows[0] == ["社区", "件数", "'" + cell]
    assert rows[1] == ["'" + cell, "-3", "x"]                 # numbers stay numbers
    assert rows[2] == ["江欣苑社区", "5", "y"]


def test_the_org_list_export_of_a_hostile_community_is_safe(hostile_db, monkeypatch):
    monkeypatch.setenv("GOVERNANCE_DB", str(hostile_db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["street"], at.query_params["community"] = STREET, H
    at.run()
    at.switch_page("pages/3_organizations.py").run()
    assert not at.exception
    choose_tab(at, "组织名单")
    listed = next(df.value for df in at.dataframe if "org" in df.value.columns)
    rows = list(csv.reader(io.StringIO(exports.csv_bytes(listed).decode("utf-8-sig"))))
    assert ["'" + H, S] == [rows[1][listed.columns.get_loc("community")], rows[1][listed.columns.get_loc("org")]]


# ------------------------------------------------------------------ in a real browser


def _outside(base: str, requests: list[str]) -> list[str]:
    """Requests to anywhere but the dashboard itself (data:/blob: URLs are in-page)."""
    return [u for u in requests if not (u.startswith(base + "/") or u == base or u.startswith(("data:", "blob:")))]


def _no_live_data_links(page, name: str) -> None:
    """No link or picture pointing at an address from the data, no javascript: link."""
    assert page.locator("a[href*='evil.example'], a[href^='javascript:'], a[href*='x.example']").count() == 0, name
    assert page.locator("img[src*='evil.example'], img[src='x']").count() == 0, name
    assert page.locator("script:text('alert(1)')").count() == 0, name


@pytest.mark.browser
@pytest.mark.timeout(900)
def test_no_script_runs_and_names_read_as_text_in_a_browser(hostile_db, browser, tmp_path):
    """Every page with the hostile corpus in a real browser: no dialog ever opens, the page asks
    nothing of any other address (its requests are recorded), and no live link or picture points
    at an address from the data; names read as typed in tables, charts, hover labels and headers."""
    path = tmp_path / "hostile.duckdb"
    shutil.copy(hostile_db, path)
    dialogs: list[str] = []
    requests: list[str] = []
    with running_server(path) as base:
        q = f"street={quote(STREET)}&community={quote(S)}"
        visits = [(n, q) for n in ["overview", "coverage", "organizations", "tickets", "data"]] + [
            ("overview", f"street={quote(STREET)}"), ("tickets", f"street={quote(STREET)}&community={quote(A)}"),
            ("organizations", f"street={quote(STREET)}&community={quote(A)}"),
            ("coverage", f"street={quote(STREET)}&community={quote(LONG)}"),
            ("compare", "communities=" + quote(f"{STREET}/{S},{STREET}/{A},{STREET}/{H},{STREET}/{LONG}")),
            ("bulletin", f"street={quote(STREET)}"), ("glossary", "")]
        for name, query in visits:
            context = new_context(browser, (1400, 1000), accept_downloads=True)
            page = context.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(f"{base}/{name}?{query}")
            wait_for_app(page)
            assert page.get_by_text("Page not found").count() == 0
            assert page.locator("[data-testid='stException']").count() == 0, name
            wait_for_charts(page)   # charts draw after the script finishes: wait for every one
            _no_live_data_links(page, name)
            if name not in ("data", "compare", "glossary", "bulletin") and query == q:
                assert page.get_by_role("combobox", name="社区", exact=True).input_value() == S
                expect_text(page, f"{STREET} › {S}", exact=False)
            svg = "\n".join(page.locator(".main-svg text").all_text_contents())
            assert not [t for t in HOSTILE_TAGS if t in page.content()], name   # never as live markup
            if name == "overview" and query == q:
                open_tab(page, "经验做法")
                wait_for_charts(page)
                svg = "\n".join(page.locator(".main-svg text").all_text_contents())
                assert S in svg and f"{I[:13]}…" in svg          # timeline: community, practice (shortened)
                point = page.locator(".scatterlayer .point").first
                point.scroll_into_view_if_needed()
                box = point.bounding_box()                        # Plotly's drag layer takes the pointer
                page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
                page.locator(".hoverlayer text").first.wait_for(timeout=10_000)
                hover = "".join(page.locator(".hoverlayer text").all_text_contents())
                assert S in hover and I in hover, hover
                _no_live_data_links(page, "overview hover")
            if name == "overview" and query != q:
                # the table's own download neutralises formulas; Streamlit's built-in one is switched off
                table = page.locator("[data-testid='stDataFrame']").first
                table.hover()
                assert page.get_by_role("button", name="Download as CSV").count() == 0
                with page.expect_download() as dl:
                    page.get_by_role("button", name="下载此表（CSV）").first.click()
                rows = list(csv.reader(io.StringIO(Path(dl.value.path()).read_bytes().decode("utf-8-sig"), newline="")))
                cells = [c for r in rows for c in r]
                assert "'" + H in cells and S in cells and A in cells and LONG in cells
                assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")]
            if name == "tickets":                                 # the sunburst is on the tab 诉求类别
                open_tab(page, "诉求类别")
                wait_for_charts(page)
                svg = "\n".join(page.locator(".main-svg text").all_text_contents())
            if name == "tickets" and query == q:
                assert I in svg or H in svg                       # the sunburst's category labels
            if name == "tickets" and query != q:
                assert LINK in svg or A in svg, svg[:500]         # categories named like links read as typed
            if name == "organizations" and query == q:
                open_tab(page, "组织名单")
                with page.expect_download() as dl:
                    page.get_by_role("button", name="下载组织名单（CSV）").click()
                rows = list(csv.reader(io.StringIO(Path(dl.value.path()).read_bytes().decode("utf-8-sig"), newline="")))
                cells = [c for r in rows for c in r]
                assert "'" + H in cells and S in cells and I in cells
                assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
            if name == "data":                                    # uploaded files' names, in markdown
                expect_text(page, f"经验做法 · {I}.csv")
                shown = [t.replace("\u2060", "") for t in page.get_by_text("[官方通知](", exact=False).all_inner_texts()]
                assert any(FILE in t for t in shown), shown   # read as typed (a word joiner keeps the address unlinked)
            for tab in tab_names(page):                            # the other tabs, each run in turn
                open_tab(page, tab)
                assert page.locator("[data-testid='stException']").count() == 0, (name, tab)
                wait_for_charts(page)
                _no_live_data_links(page, f"{name} · {tab}")
                assert not [t for t in HOSTILE_TAGS if t in page.content()], (name, tab)
            context.close()
        context = new_context(browser, (1400, 1000))
        page = context.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.goto(f"{base}/overview?street={quote(STREET)}&community={quote(M)}")
        wait_for_app(page)
        header = page.locator("[data-testid='stMain'] [data-testid='stCaptionContainer']").first
        text_containing(header, "[链接](")
        assert f"{STREET} › {M}" in header.inner_text().replace("\u2060", "")   # as typed (word joiner aside)
        assert header.locator("strong, em, .katex").count() == 0, header.inner_html()   # no bold or formula
        assert header.locator("a").count() == 0, header.inner_html()   # "[链接](…)" reads as typed, no link
        assert "[链接](" in header.inner_text()
        context.close()
    assert dialogs == []
    assert _outside(base, requests) == [], sorted(set(_outside(base, requests)))[:10]
