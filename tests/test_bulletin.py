"""月度通报: ranks, changes and the 显著 rule on a hand-worked fixture; the verdict rule; the month
parameter; the scope names of the command line; the bulletin's figures against the pages' (AppTest
of 诉求办理, 组织覆盖 and the bulletin page on the demo data); the Word and PDF files; the CLI."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
import sys

import pytest
from docx import Document
from pypdf import PdfReader

from governance import bulletin, bulletin_files, db, filters
from governance.access import ALL_SCOPE
from governance.indicators import BULLETIN_RULES, problem_verdict
from tests import fixtures
from tests.apptest import open_tab
from tests.test_tickets_page import metric

AUG, JUL = dt.date(2023, 8, 1), dt.date(2023, 7, 1)
SOUTH = {**fixtures.ALL, "street": "南街道"}
PAGE = "pages/8_bulletin.py"

# A street of four communities, 南街道, added to the fixture under new ids (nothing else changes).
# Every ticket has a valid follow-up that reached the resident (T2 = 100% everywhere); a solved one is
# rated 满意 (weight 1), an unsolved one 不满意 (weight 0), so T4 = T3. All are closed the next day,
# within the due time. Follow-ups (solved / valid):
#            2023-07   2023-08
#   丁社区    20/40     36/40     T3 50% → 90%, +40.0 个百分点
#   戊社区    30/40     32/40     T3 75% → 80%,  +5.0 个百分点
#   己社区     3/10      5/10     T3 30% → 50%, +20.0 个百分点 (fewer than 30 follow-ups: listed apart)
#   庚社区    30/30     21/30     T3 100% → 70%, -30.0 个百分点
# 95% Wilson interval, z = 1.959964, z² = 3.841459:
#   centre = (p + z²/2n) / (1 + z²/n),  half = z·sqrt(p(1−p)/n + z²/4n²) / (1 + z²/n)
#   n = 40: 1 + z²/n = 1.096036, z²/2n = 0.048018, z²/4n² = 0.000600
#     20/40: p .5,  centre .548018/1.096036 = .5000, half 1.959964·sqrt(.00625 + .0006)/1.096036 = .1480 → 35.2%–64.8%
#     36/40: p .9,  centre .948018/1.096036 = .8650, half 1.959964·sqrt(.00225 + .0006)/1.096036 = .0955 → 76.9%–96.0%
#       64.8% < 76.9%: the intervals do not overlap → 显著
#     30/40: p .75, centre .798018/1.096036 = .7281, half 1.959964·sqrt(.0046875 + .0006)/1.096036 = .1300 → 59.8%–85.8%
#     32/40: p .8,  centre .848018/1.096036 = .7737, half 1.959964·sqrt(.004 + .0006)/1.096036 = .1213 → 65.2%–89.5%
#       65.2% < 85.8%: they overlap → 可能为偶然波动
#   n = 30: 1 + z²/n = 1.128049, z²/2n = 0.064024, z²/4n² = 0.001067
#     30/30: p 1,   centre 1.064024/1.128049 = .9432, half 1.959964·sqrt(0 + .001067)/1.128049 = .0568 → 88.6%–100.0%
#     21/30: p .7,  centre .764024/1.128049 = .6773, half 1.959964·sqrt(.007 + .001067)/1.128049 = .1560 → 52.1%–83.3%
#       83.3% < 88.6%: they do not overlap → 显著 (a fall)
#   n = 10: 1 + z²/n = 1.384146, z²/2n = 0.192073, z²/4n² = 0.009604
#     3/10:  p .3,  centre .492073/1.384146 = .3555, half 1.959964·sqrt(.021 + .009604)/1.384146 = .2477 → 10.8%–60.3%
#     5/10:  p .5,  centre .692073/1.384146 = .5000, half 1.959964·sqrt(.025 + .009604)/1.384146 = .2634 → 23.7%–76.3%
#       they overlap → 可能为偶然波动
# T9 for 2023-08 with the weights in force at 2023-08-31 (0.30 / 0.35 / 0.35), T2 = 1 and T4 = T3:
#   100 × (0.30 + 0.70 × T3):  丁 0.30 + 0.63 = 93.0;  戊 0.30 + 0.56 = 86.0;  庚 0.30 + 0.49 = 79.0;  己 65.0
#   ranked (≥ 30 follow-ups): 丁 1, 戊 2, 庚 3; 己 (10) listed apart. On T2 all three tie: 第 1 名 each.
# The street in 2023-08: 120 tickets, 120 follow-ups, 36 + 32 + 5 + 21 = 94 solved → T3 = 94/120 = 78.3%,
#   T9 = 100 × (0.30 + 0.70 × 94/120) = 84.8; 2023-07: 20 + 30 + 3 + 30 = 83 solved → 69.2%, T9 = 78.4;
#   change +6.4 分 (84.833 − 78.417 = 6.417); residents 4 × 1,000 → 120 / 4,000 × 1,000 = 30.00 per thousand.
PLAN = {5: ("丁社区", (20, 40), (36, 40)), 6: ("戊社区", (30, 40), (32, 40)),
        7: ("己社区", (3, 10), (5, 10)), 8: ("庚社区", (30, 30), (21, 30))}


def _south() -> dict:
    communities, tickets = [], []
    for cid, (name, july, august) in PLAN.items():
        communities.append(dict(fixtures._community(cid, "南街道", name, "urban", 400, 1000)))
        for month, (solved, n) in ((7, july), (8, august)):
            for i in range(n):
                ok = i < solved
                day = f"2023-{month:02d}-{1 + i % 28:02d}"
                tickets.append(fixtures._ticket(f"S{cid}-{month}-{i}", cid, f"{day} 09:00", f"{day} 23:00",
                                                f"{day} 20:00", True, ok, "满意" if ok else "不满意"))
    # 丁社区's organisation chain: one compound, one building with a branch, a group and a household lead
    # that is dissolved on 2023-08-15 → C4 1/1 = 100% at 2023-07-31, 0/1 = 0% at 2023-08-31 (a fall).
    # Ten organisations (urban target 10), one dissolved on 2023-08-10 → S3 met at 07-31 (10 ≥ 10), not at 08-31 (9).
    chain = {
        "compounds": [dict(compound_id=51, community_id=5, compound="丁一小区", households=400)],
        "buildings": [dict(building_id=511, compound_id=51, community_id=5, building="1号楼", households=400)],
        "branches": [dict(branch_id=150, community_id=5, compound_id=51, branch="丁一小区党支部", members=5,
                          has_committee=False, established_on=dt.date(2022, 1, 1), dissolved_on=None)],
        "building_groups": [dict(group_id=250, community_id=5, building_id=511, leader="赵六",
                                 established_on=dt.date(2022, 1, 1), dissolved_on=None)],
        "household_leads": [dict(lead_id=350, community_id=5, building_id=511, household="101室",
                                 established_on=dt.date(2022, 1, 1), dissolved_on=dt.date(2023, 8, 15))],
        "social_orgs": [dict(org_id=450 + k, community_id=5, org=f"丁组织{k + 1}", type="邻里互助", party_led=False,
                             founded_on=dt.date(2022, 1, 1), dissolved_on=dt.date(2023, 8, 10) if k == 0 else None)
                        for k in range(10)],
    }
    return {**chain, "communities": communities, "tickets": tickets,
            "practices": [dict(practice_id=590, community_id=5, practice="丁社区管网疏通专项", started_on=JUL,
                               related_category="下水道堵塞", description="测试用每月一题")]}


@pytest.fixture(scope="module")
def south(tmp_path_factory):
    path = fixtures.build(tmp_path_factory.mktemp("bulletin") / "south.duckdb", _south())
    con = db.connect(path)
    yield bulletin.from_connection(con, SOUTH, AUG)
    con.close()


def section(b, key):
    return next(s for s in b.sections if s.key == key)


def table(s, title_part):
    return next(t.frame for t in s.tables if title_part in t.title)


def test_ranks_on_t9_and_each_rate_small_communities_apart(south):
    s = section(south, "ranking")
    ranked = table(s, "四项排名")
    assert ranked["社区"].tolist() == ["丁社区", "戊社区", "庚社区"]
    assert ranked["T9 综合得分"].tolist() == ["93.0 分 · 第 1 名", "86.0 分 · 第 2 名", "79.0 分 · 第 3 名"]
    assert ranked["T3 解决率"].tolist() == ["90.0%（36/40） · 第 1 名", "80.0%（32/40） · 第 2 名",
                                         "70.0%（21/30） · 第 3 名"]
    assert set(ranked["T2 响应率"].str.endswith("第 1 名")) == {True}  # a tie: every one is first
    apart = table(s, "不排名")
    assert apart["社区"].tolist() == ["己社区"] and apart["T9 综合得分"].tolist() == ["65.0 分"]
    text = " ".join(s.texts)
    assert "T9 综合得分：前 3 名 丁社区、戊社区、庚社区" in text  # three ranked: named once, not again as 后 3 名
    assert "响应 0.3 / 解决 0.35 / 满意 0.35（2023-07-01 起生效）" in text


def test_changes_and_the_significance_rule(south):
    s = section(south, "changes")
    rises, falls = table(s, "升幅最大"), table(s, "降幅最大")
    t3 = rises[rises["指标"] == "T3 解决率"].set_index("社区")
    assert t3.index.tolist() == ["丁社区", "己社区", "戊社区"]          # +40, +20, +5 points
    assert t3.loc["丁社区", "变化"] == "+40.0 个百分点"
    # intervals apart → 显著; overlapping → 可能为偶然波动 (worked out in the comment above)
    assert (t3.loc["丁社区", "上月 95% 区间"], t3.loc["丁社区", "本月 95% 区间"]) == ("35.2%–64.8%", "76.9%–96.0%")
    assert t3.loc["丁社区", "判断"] == "显著"
    assert (t3.loc["戊社区", "上月 95% 区间"], t3.loc["戊社区", "本月 95% 区间"]) == ("59.8%–85.8%", "65.2%–89.5%")
    assert t3.loc["戊社区", "判断"] == "可能为偶然波动"
    assert (t3.loc["己社区", "上月 95% 区间"], t3.loc["己社区", "本月 95% 区间"]) == ("10.8%–60.3%", "23.7%–76.3%")
    assert t3.loc["己社区", "判断"] == "可能为偶然波动"
    g = falls[falls["指标"] == "T3 解决率"].iloc[0]
    assert (g["社区"], g["变化"], g["上月 95% 区间"], g["本月 95% 区间"], g["判断"]) == \
        ("庚社区", "-30.0 个百分点", "88.6%–100.0%", "52.1%–83.3%", "显著")
    assert "T2" not in " ".join(rises["指标"]) + " ".join(falls["指标"])  # 100% both months: no change
    # the street as a whole: 83/120 → 94/120 (Wilson 60.4%–76.7% and 70.1%–84.8% overlap)
    assert "T3 解决率 69.2% → 78.3%（+9.2 个百分点，可能为偶然波动）" in " ".join(s.texts)
    assert bulletin.significance(20, 40, 36, 40)[0] == "显著"
    assert bulletin.significance(30, 40, 32, 40)[0] == "可能为偶然波动"


def test_headline_counts_beside_rates_and_change(south):
    rows = table(section(south, "overview"), "本月与上月").set_index("指标")
    assert rows.loc["T1 诉求量（件）", "本月"] == "120" and rows.loc["T1 诉求量（件）", "环比"] == "持平"   # 120 − 120: no change
    assert rows.loc["每千居民诉求量（件）", "本月"] == "30.00"
    assert rows.loc["T3 解决率", "本月"] == "78.3%" and rows.loc["T3 解决率", "计数"] == "94 / 120 件有效回访"
    assert rows.loc["T3 解决率", "上月（2023-07）"] == "69.2%"
    assert rows.loc["T9 综合得分", "本月"] == "84.8 分" and rows.loc["T9 综合得分", "环比"] == "+6.4 分"
    assert rows.loc["T5 办结率（承办单位报告）", "计数"] == "120 / 120 件受理"
    # no data a year earlier: shown as such, not as 0
    assert rows.loc["T3 解决率", "去年同月（2022-08）"] == "无数据" and rows.loc["T3 解决率", "同比"] == "无数据"


def test_chain_and_target_that_fell_this_month(south):
    s = section(south, "attention")
    fell = table(s, "下降").set_index("指标")
    assert fell.loc["C4 组织链完整率", "社区"] == "丁社区"
    assert (fell.loc["C4 组织链完整率", "上月末（07-31）"], fell.loc["C4 组织链完整率", "本月末（08-31）"]) == \
        ("100.0%（1/1 栋）", "0.0%（0/1 栋）")
    assert (fell.loc["S3 社会组织数达标", "上月末（07-31）"], fell.loc["S3 社会组织数达标", "本月末（08-31）"]) == \
        ("达标（10 / 目标 10）", "未达标（9 / 目标 10）")
    # the same month's 组织与社会组织 section: 南街道 counts only 丁社区 as reporting organisation data
    org = table(section(south, "structure"), "月末存量").set_index("指标")
    assert org.loc["C4 组织链完整率", "本月末（2023-08-31）"] == "0.0%" and org.loc["C4 组织链完整率", "变化"] == "-100.0 个百分点"
    assert org.loc["S1 社会组织数", "本月末（2023-08-31）"] == "9" and org.loc["S1 社会组织数", "变化"] == "-1"


def test_progress_of_a_practice_with_a_related_category(south):
    # not adopted as 每月一题 (tests/test_problems.py adopts one): followed apart, by its own community
    s = section(south, "progress")
    row = table(s, "其他登记了相关类别的做法").iloc[0]
    # 丁社区's 下水道堵塞 (every ticket of the street has that category): 2023-07 40, 2023-08 40 → 持平;
    # baseline: 2023-01..06, of which only 2023-05 and -06 are in the data (first ticket 2023-05-31), 0 each
    assert (row["做法"], row["社区"], row["开始"]) == ("丁社区管网疏通专项", "丁社区", "2023-07")
    assert (row["上月（2023-07）"], row["本月（2023-08）"]) == ("40 件", "40 件")
    assert row["判定"] == "持平（2023-08 对比 2023-07）"
    assert row["基线（前 6 个月月均）"] == "0.0 件（2 个月）"


def test_a_problem_is_followed_from_its_start_month(tmp_path):
    # adopting a class problem adds a practice with a related category: the bulletin of the month before
    # its start does not list it, the bulletin of its start month and every later one does
    con = db.connect(fixtures.build(tmp_path / "south.duckdb", _south()))
    try:
        june = bulletin.from_connection(con, SOUTH, dt.date(2023, 6, 1))
        july = bulletin.from_connection(con, SOUTH, JUL)
    finally:
        con.close()
    assert not section(june, "progress").tables and "尚无已确定的每月一题" in " ".join(section(june, "progress").texts)
    row = table(section(july, "progress"), "相关类别").iloc[0]
    # 2023-06: no ticket of 南街道 (0), 2023-07: 40 → 反弹 against the month before
    assert row["做法"] == "丁社区管网疏通专项" and row["判定"] == "反弹（2023-07 对比 2023-06）"


def test_verdict_rule_on_a_constructed_series():
    series = [12, 9, 9, 14]   # fall, flat, rebound
    verdicts = [problem_verdict(a, b) for a, b in zip(series, series[1:])]
    assert verdicts == ["好转", "持平", "反弹"]
    assert problem_verdict(None, 3) is None and problem_verdict(3, None) is None
    assert "好转" in BULLETIN_RULES["problem_verdict"].text


def test_month_parameter_and_default():
    first, last = dt.date(2021, 1, 1), dt.date(2023, 8, 1)
    assert filters.default_month(first, last, dt.date(2023, 8, 31)) == last
    assert filters.default_month(first, last, dt.date(2023, 8, 30)) == JUL   # August not complete
    assert filters.resolve_month("2023-06", first, last, last) == (dt.date(2023, 6, 1), None)
    m, notice = filters.resolve_month("2023年8月", first, last, last)
    assert m == last and "格式不对" in notice and "2023年8月" in notice
    m, notice = filters.resolve_month("2030-01", first, last, last)
    assert m == last and "2021-01 至 2023-08" in notice


def test_scope_names_any_level(demo_con):
    communities = db.run_query(demo_con, "common/communities", max_rows=db.SUM_ROWS, scope=ALL_SCOPE)
    region, _ = bulletin.resolve_scope("江堤街道", communities)
    assert region == {"province": "湖北省", "city": "武汉市", "district": "汉阳区", "street": "江堤街道",
                      "community": None}
    assert bulletin.resolve_scope("武汉市", communities)[0]["city"] == "武汉市"
    assert bulletin.resolve_scope("江欣苑社区", communities)[0]["street"] == "江堤街道"
    region, problem = bulletin.resolve_scope("不存在街道", communities)
    assert region is None and "没有名为“不存在街道”" in problem


# ---------------------------------------------------------------- against the pages (demo data)

def _frame(at, column):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_bulletin_figures_equal_the_pages(app):
    page = app(PAGE, street="江堤街道", month="2023-08")
    assert not page.exception
    assert page.title[0].value == "江堤街道社区治理月度通报（2023 年 8 月）"
    assert [t.label for t in page.tabs] == ["一、总体情况", "二、排名", "三、变化", "四、需关注", "五、每月一题 候选",
                                            "六、每月一题 进展", "七、组织与社会组织"]   # a tab per section
    head = _frame(page, "计数").set_index("指标")
    links = _frame(page, "计数")["查看"].tolist()
    tickets = app("pages/4_tickets.py", street="江堤街道", **{"from": "2023-08", "to": "2023-08"})
    assert not tickets.exception
    pairs = {"T1 诉求量（件）": "T1", "T2 响应率": "T2", "T3 解决率": "T3", "T4 满意率": "T4",
             "T5 办结率（承办单位报告）": "T5", "按时办结率": "按时办结率", "T9 综合得分": "T9"}
    for row, card in pairs.items():
        assert head.loc[row, "本月"] == metric(tickets, card).value, row
    # the change against the previous month is the page's change against the previous period (one month)
    assert head.loc["T3 解决率", "环比"] == metric(tickets, "T3").delta
    assert head.loc["T3 解决率", "计数"] in " ".join(c.value for c in tickets.caption)
    # the ranking's rates with their counts are the 诉求办理 page's, community by community
    tickets.session_state["tickets_tab"] = "社区排名"   # the page's ranking is a tab of its own
    assert not tickets.run().exception
    page_rank = _frame(tickets, "名次").set_index("社区")
    # the ranked table (有效回访 ≥ 30) and the table of communities apart
    open_tab(page, "二、排名")
    frames = [d.value for d in page.dataframe if "T9 综合得分" in d.value.columns]
    assert len(frames) == 2
    seen = 0
    for frame in frames:
        for _, row in frame.iterrows():
            for col in ("T2 响应率", "T3 解决率", "T4 满意率"):
                assert row[col].split(" · ")[0] == page_rank.loc[row["社区"], col], (row["社区"], col)
            seen += 1
    assert seen == len(page_rank) == 6
    coverage = app("pages/2_coverage.py", street="江堤街道", **{"from": "2023-08", "to": "2023-08"})
    open_tab(page, "七、组织与社会组织")
    org = _frame(page, "上月末（2023-07-31）").set_index("指标")
    for code in ("C1", "C2", "C4"):
        card = metric(coverage, code)
        assert org.loc[card.label, "本月末（2023-08-31）"] == card.value, code
        assert org.loc[card.label, "变化"] == (card.delta or "持平"), code   # the card says 持平 beneath it
    # every table row links back to a page with the shared URL parameters
    assert all(x.startswith("tickets?") and "from=2023-08&to=2023-08" in x for x in links)


@pytest.mark.parametrize("month, notice, shown", [
    ("2023年8月", "通报月份“2023年8月”格式不对", "2023-08"),        # the default: the latest complete month
    ("' OR 1=1 --", "格式不对", "2023-08"),
    ("9" * 10_000, "格式不对", "2023-08"),
    ("2030-01", "数据只覆盖 2021-01 至 2023-08，没有 2030-01 的通报", "2023-08"),
    (["2023-05", "2023-06"], None, "2023-05"),                      # repeated: the first one counts
])
def test_month_in_the_url(demo_db, monkeypatch, month, notice, shown):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("GOVERNANCE_DB", str(demo_db))
    at = AppTest.from_file(str(fixtures.Path(__file__).parent.parent / "app.py"), default_timeout=120)
    at.query_params.update(street="江堤街道", month=month)
    at.switch_page(PAGE).run()   # the session's first run reads the URL as given (repeated values too)
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert (notice in warnings) if notice else "通报月份" not in warnings, warnings
    assert all(len(w.value) < 400 for w in at.warning)   # a long value is not echoed back
    year, m = shown.split("-")
    assert at.title[0].value.endswith(f"（{year} 年 {int(m)} 月）")
    assert at.query_params["month"] == shown       # the URL now says which month is shown


# ---------------------------------------------------------------- files

@pytest.fixture(scope="module")
def jiangdi(demo_db_master, tmp_path_factory):
    path = tmp_path_factory.mktemp("bulletin-demo") / "demo.duckdb"
    shutil.copy(demo_db_master, path)
    con = db.connect(path)
    b = bulletin.from_connection(con, {"street": "江堤街道"}, AUG)
    con.close()
    return b, path


@pytest.fixture(scope="module")
def files(jiangdi):
    b, _ = jiangdi
    pictures = bulletin_files.chart_pictures(b)
    return bulletin_files.docx_bytes(b, pictures), bulletin_files.pdf_bytes(b, pictures), pictures


def test_word_file_holds_every_section_with_its_tables(jiangdi, files):
    b, _ = jiangdi
    doc = Document(io.BytesIO(files[0]))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert headings == [s.title for s in b.sections]
    assert round(doc.sections[0].page_width.mm) == 210 and round(doc.sections[0].page_height.mm) == 297
    assert b.demo in "\n".join(p.text for p in doc.sections[0].header.paragraphs)
    assert "江堤街道" in doc.sections[0].header.paragraphs[0].text and "2023-08" in doc.sections[0].header.paragraphs[0].text
    tables = [[[c.text for c in r.cells] for r in t.rows] for t in doc.tables]
    assert len(tables) == sum(len(s.tables) for s in b.sections)
    for got, want in zip(tables, [t.frame for s in b.sections for t in s.tables]):
        assert got[0] == list(want.columns) and got[1:] == want.astype(str).values.tolist()
    head = tables[0]
    assert ["T3 解决率", "87.5%", "119 / 136 件有效回访"] == head[4][:3]
    assert len(doc.inline_shapes) == sum(len(s.charts) for s in b.sections)   # charts as pictures


def test_pdf_text_holds_the_same_figures(jiangdi, files):
    b, _ = jiangdi
    reader = PdfReader(io.BytesIO(files[1]))
    assert round(float(reader.pages[0].mediabox.width)) == 595 and round(float(reader.pages[0].mediabox.height)) == 842
    first = "".join(reader.pages[0].extract_text().replace("\x00", "").split())
    rows = table(section(b, "overview"), "本月与上月").set_index("指标")
    for label in ("T1 诉求量（件）", "T2 响应率", "T3 解决率", "T4 满意率", "T9 综合得分"):
        assert "".join((label + rows.loc[label, "本月"]).split()) in first, label
    assert "119/136件有效回访" in first and "演示数据" in first and "范围：江堤街道" in first
    for page in reader.pages:   # the header and the demo notice on every page
        text = "".join(page.extract_text().replace("\x00", "").split())
        assert "月份：2023-08" in text and "演示数据" in text
    assert len(reader.pages) >= 4


def test_command_line(jiangdi, tmp_path):
    _, path = jiangdi
    run = lambda *a: subprocess.run([sys.executable, "-m", "governance", "bulletin", *a, "--db", str(path)],
                                    capture_output=True, text=True, cwd=str(fixtures.Path(__file__).parent.parent))
    out = tmp_path / "通报.docx"
    ok = run("--scope", "江堤街道", "--month", "2023-08", "-o", str(out))
    assert ok.returncode == 0, ok.stderr
    assert Document(str(out)).paragraphs[0].text == "江堤街道社区治理月度通报（2023 年 8 月）"
    unknown = run("--scope", "不存在街道", "--month", "2023-08", "-o", str(tmp_path / "x.pdf"))
    assert unknown.returncode == 1 and "没有名为“不存在街道”" in unknown.stderr
    late = run("--scope", "江堤街道", "--month", "2030-01", "-o", str(tmp_path / "x.pdf"))
    assert late.returncode == 1 and "2021-01 至 2023-08" in late.stderr
    usage = run("--scope", "江堤街道", "--month", "2023-08", "-o", str(tmp_path / "x.txt"))
    assert usage.returncode == 2 and ".docx 或 .pdf" in usage.stderr
    assert not (tmp_path / "x.pdf").exists()


def test_url_text_never_reaches_sql(app, bound_text):
    """Every value the bulletin binds is a known name or a date, whatever the URL carried."""
    seen = bound_text
    at = app(PAGE, street="江堤街道", community="x'; DROP TABLE tickets; --", month="2023-08' OR '1'='1")
    assert not at.exception
    assert "江堤街道" in seen          # the known street is bound; the unknown community and the month text are not
    assert not [v for v in seen if "'" in v or "--" in v]


def test_long_lists_are_cut_and_say_so():
    import pandas as pd

    rows = pd.DataFrame({"社区": [f"社区{i}" for i in range(40)]})
    ranking = bulletin._cut(bulletin.Table("排名", rows, "tickets?x=1", [f"l{i}" for i in range(40)], ends=True))
    assert ranking.frame["社区"].tolist() == [f"社区{i}" for i in list(range(15)) + list(range(25, 40))]
    assert ranking.row_links[15] == "l25" and "共 40 行，仅列前 15 行和后 15 行" in ranking.note
    listed = bulletin._cut(bulletin.Table("积压", rows, None, None))
    assert len(listed.frame) == 30 and "共 40 行，仅列前 30 行" in listed.note
    assert bulletin._names([f"社区{i}" for i in range(12)]) == "、".join(f"社区{i}" for i in range(10)) + "等 12 个"


def test_a_province_score_chart_draws_the_lowest_and_highest_ranked_communities():
    # 40 ranked communities (30+ follow-ups) and 20 small ones: more than MAX_LISTED bars are cut to
    # the 15 lowest and 15 highest ranked, as the ranking table keeps its ends; small ones are not drawn
    n_big, n_small = 40, 20
    import pandas as pd

    tix = pd.DataFrame({
        "community": [f"社区{i:02d}" for i in range(n_big + n_small)],
        "followups": [50] * n_big + [5] * n_small,
        "contacted": [10 + i for i in range(n_big)] + [5] * n_small,   # T9 rises with i among the ranked
        "solved": [10 + i for i in range(n_big)] + [5] * n_small,
        "satisfied": [10 + i for i in range(n_big)] + [5] * n_small,
    })
    settings = pd.DataFrame({"key": ["score_weight_contacted", "score_weight_solved", "score_weight_satisfied"],
                             "value": [0.3, 0.4, 0.3]})
    fig = bulletin._score_figure(tix, settings)
    bars = list(fig.data[0].y)
    assert bars == [f"社区{i:02d}" for i in list(range(15)) + list(range(25, 40))]
    assert "参与排名的 40 个社区中最低与最高各 15 个" in fig.layout.title.text
    # a region of at most MAX_LISTED communities keeps every bar, small ones marked
    few = bulletin._score_figure(tix.iloc[list(range(20)) + [45]], settings)
    assert len(few.data[0].y) == 21 and "社区45（样本少）" in few.data[0].y
