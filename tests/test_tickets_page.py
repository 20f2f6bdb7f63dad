"""AppTest of 诉求办理: what the page shows on the demo data and on the hand-built fixture."""

import json
from pathlib import Path

import pytest

from governance import db, metrics
from governance import tickets as tk
from governance.filters import Selection
from governance.labels import fmt_rate
from governance.periods import Period, parse_month
from tests import fixtures
from tests.apptest import open_tab, queries_run
from tests.test_tickets_queries import _extra
from governance.access import ALL_SCOPE

ROOT = Path(__file__).resolve().parent.parent
PAGE = "pages/4_tickets.py"


def metric(at, prefix):
    return next(m for m in at.metric if m.label.startswith(prefix))


def specs(at):
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def frame(at, column):
    return next(d.value for d in at.dataframe if column in d.value.columns)



def test_yuyuan_rates_weights_and_trust_property_before_after(app, demo_con):
    at = app(PAGE, community="裕园社区")
    assert not at.exception
    sel = Selection(province="山东省", city="济南市", district="槐荫区", street="中大槐树街道", community="裕园社区",
                    period=Period(parse_month("2022-09"), parse_month("2023-08")))
    p = sel.params()
    weights = metrics.score_weights(db.run_query(demo_con, "settings/in_force", p, scope=ALL_SCOPE))
    t = metrics.tickets(db.run_query(demo_con, "tickets/rates_by_community", p, scope=ALL_SCOPE), weights)
    for code in ("T2", "T3", "T4"):
        assert metric(at, code).value == fmt_rate(t[code].value)
    assert metric(at, "T9").value == f"{t['T9'].value:.1f} 分"
    captions = " ".join(c.value for c in at.caption)
    # the counts beside the rates, and which weights were used with their effective dates
    assert f"{t['T3'].numerator:,.0f} / {t['T3'].denominator:,.0f} 件有效回访" in captions
    assert "响应 0.3 / 解决 0.35 / 满意 0.35（2023-01-01 起生效）" in captions
    assert "基本满意 0.6" in captions
    # the trend marks the practice dated inside the period
    trend = next(s for s in specs(at) if s["layout"]["title"]["text"].startswith("月度趋势"))
    assert any("信托制物业" in a["text"] for a in trend["layout"]["annotations"])

    open_tab(at, "举一反三")
    ba = frame(at, "变化")
    row = ba[ba["做法"].str.contains("信托制物业")].iloc[0]
    # demo: 下水道堵塞 in 裕园社区, 2022-12..2023-05 = 7, 4, 10, 6, 5, 6 (38) vs 2023-06..08 = 0, 1, 5 (6)
    assert row["前 6 个月月均"].startswith("6.3 件（6 个月共 38 件）")
    assert row["开始后月均"].startswith("2.0 件（3 个月共 6 件）")
    assert row["变化"] == "-68%"
    # each before/after chart: the practice as its title, the category and change as its subtitle
    # (not markup in the title: escaped, "<br><sub>" showed as typed)
    ba_chart = next(s for s in specs(at) if "信托制物业" in s["layout"].get("title", {}).get("text", ""))
    assert ba_chart["layout"]["title"]["text"] == "裕园社区：东方新天地花园小区引入信托制物业"
    assert ba_chart["layout"]["title"]["subtitle"]["text"] == "下水道堵塞，变化 -68%"
    assert not any("&lt;" in s["layout"].get("title", {}).get("text", "") for s in specs(at))
    # one community cannot spread; the page says so instead of showing an empty chart
    assert any("至少 3 个社区" in i.value for i in at.info)
    # recurring: 东方新天地花园小区 下水道堵塞 is the worst pair
    rec = frame(at, "repeats")
    assert (rec.iloc[0]["compound"], rec.iloc[0]["类别"]) == ("东方新天地花园小区", "物业管理 › 设施维修 › 下水道堵塞")
    # one before/after chart, of the newest practice first; choosing another redraws it and its list
    pick = at.selectbox(key="ba_pick")
    assert [x.split("（")[0] for x in pick.options] == ["裕园社区：东方新天地花园小区引入信托制物业", "裕园社区：联合巡查、联席会议与“三方对话会”"]
    assert at.get("download_button")[-1].proto.label == "下载该做法前后的诉求清单（44 件，CSV）"
    pick.select_index(1).run()
    assert not at.exception
    titles = [s["layout"]["title"] for s in specs(at) if "subtitle" in s["layout"].get("title", {})]
    assert [t["text"] for t in titles] == ["裕园社区：联合巡查、联席会议与“三方对话会”"]
    assert titles[0]["subtitle"]["text"].startswith("公共收益公开，变化 ")
    assert {b.proto.label for b in at.get("download_button")} >= {"下载该类诉求清单（45 件，CSV）"}
    assert at.get("download_button")[-1].proto.label != "下载该做法前后的诉求清单（44 件，CSV）"


def test_street_ranking_funnel_and_spreading(app):
    at = app(PAGE, street="中大槐树街道")
    assert not at.exception
    open_tab(at, "社区排名")
    ranking = frame(at, "名次")
    assert len(ranking) == 5 and ranking.iloc[0]["名次"] == "1"
    assert ranking["T9 综合得分"].is_monotonic_decreasing
    funnel = next(s for s in specs(at) if "漏斗图" in s["layout"]["title"]["text"])
    assert "T3" in funnel["layout"]["title"]["text"]
    assert any(d.get("name") == "95% 控制限" for d in funnel["data"])
    at.radio(key="rank_by").set_value("T4").run()
    ranking = frame(at, "名次")
    rates = [float(x.split("%")[0]) for x in ranking["T4 满意率"]]
    assert rates == sorted(rates, reverse=True)
    funnel = next(s for s in specs(at) if "漏斗图" in s["layout"]["title"]["text"])
    assert funnel["layout"]["title"]["text"].startswith("T4")
    open_tab(at, "举一反三")
    heat = next(s for s in specs(at) if s["layout"]["title"]["text"].startswith("同月出现"))
    assert heat["data"][0]["type"] == "heatmap"


def test_category_level_drilldown(app):
    at = open_tab(app(PAGE, community="文昌花园社区"), "诉求类别")
    level3 = frame(at, "类别")
    at.radio(key="cat_level").set_value("一级").run()
    level1 = frame(at, "类别")
    assert len(level1) < len(level3)
    assert level1["诉求量"].sum() == level3["诉求量"].sum()
    assert all("›" not in x for x in level1["类别"])
    # the elevator practice of 2022-06 is compared even when the period is later
    open_tab(at, "举一反三")
    ba = frame(at, "变化")
    assert ba["做法"].str.contains("加装电梯").any()


@pytest.fixture
def fixture_app(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    path = fixtures.build(tmp_path / "page.duckdb", extra=_extra())
    monkeypatch.setenv("GOVERNANCE_DB", str(path))

    def make(**query_params):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        for k, v in query_params.items():
            at.query_params[k] = v
        at.run()
        at.switch_page(PAGE).run()
        return at

    return make


def test_zero_tickets_show_not_available(fixture_app):
    at = fixture_app(community="己社区", **{"from": "2023-06", "to": "2023-08"})
    assert not at.exception
    for code in ("T2", "T3", "T4", "T9", "T8"):
        assert metric(at, code).value == "无数据"
    assert metric(at, "T1").value == "0"
    # one community: no "名次 1" and no one-dot funnel, but a word that ranking needs several
    open_tab(at, "社区排名")
    assert not any("名次" in d.value.columns for d in at.dataframe)
    assert any("排名和漏斗图需要多个社区" in i.value for i in at.info)
    assert not any(json.loads(c.proto.spec)["data"][0].get("name") == "95% 控制限" for c in at.get("plotly_chart")
                   if json.loads(c.proto.spec)["data"])


def test_fixture_figures_on_the_page(fixture_app):
    at = fixture_app(community="戊社区", **{"from": "2023-06", "to": "2023-08"})
    assert not at.exception
    assert metric(at, "T3").value == "91.7%"                     # 11 / 12
    assert metric(at, "T6").value == "1.0 天"
    assert metric(at, "T7").value == "3 件"
    assert metric(at, "T8").value == "66.7%"                     # 10 / 15
    captions = " ".join(c.value for c in at.caption)
    assert "P90 7.9 天" in captions and "≤7天 1；8–30天 1；>30天 1" in captions
    assert "样本少（12 件 < 30）" in captions
    open_tab(at, "举一反三")
    rec = frame(at, "repeats")
    assert rec["compound"].tolist() == ["戊一小区", "戊一小区"] and rec["repeats"].tolist() == [9, 1]
    ba = frame(at, "变化")
    assert ba.iloc[0]["变化"] == "-100%"
    assert tk.MIN_SPREAD_COMMUNITIES == 3 and any("只有 1 个社区" in i.value for i in at.info)


def test_spreading_on_the_fixture(fixture_app):
    at = fixture_app(**{"from": "2023-06", "to": "2023-08"})
    assert not at.exception
    open_tab(at, "举一反三")
    spread = frame(at, "峰值社区数")
    assert spread["类别"].tolist() == ["市容环境 › 绿化养护 › 树木修剪"]
    assert spread.iloc[0]["峰值社区数"] == "10 / 15" and spread.iloc[0]["峰值月"] == "2023-07"


def test_only_the_chosen_tab_runs_its_queries_and_sends_its_elements(app, monkeypatch):
    ran = queries_run(monkeypatch)
    at = app(PAGE, street="中大槐树街道")
    assert not at.exception
    assert [t.label for t in at.tabs] == ["月度趋势", "诉求类别", "社区排名", "举一反三"]
    titles = [s["layout"]["title"]["text"] for s in specs(at)]
    assert len(titles) == 1 and titles[0].startswith("月度趋势") and not at.dataframe and not at.radio
    assert not {"tickets/by_category", "tickets/recurring_pairs", "tickets/spreading", "tickets/before_after"} & set(ran)
    cards = {m.label: m.value for m in at.metric}

    open_tab(at, "诉求类别")
    assert "tickets/by_category" in ran and at.radio(key="cat_level").value == "三级"
    assert [s["data"][0]["type"] for s in specs(at)] == ["sunburst"] and len(at.dataframe) == 1
    assert {m.label: m.value for m in at.metric} == cards

    open_tab(at, "举一反三")
    assert {"tickets/recurring_pairs", "tickets/spreading", "tickets/before_after"} <= set(ran)
    assert {m.label: m.value for m in at.metric} == cards          # the headline stays above the tabs
    titles = [s["layout"]["title"]["text"] for s in specs(at)]
    assert not any(t.startswith("月度趋势") for t in titles) and any(t.startswith("同月出现") for t in titles)
    # the chosen tab stays while a filter changes: another community of the street
    at.selectbox(key="f_community").set_value("裕园社区").run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric} != cards
    assert frame(at, "变化")["做法"].str.contains("信托制物业").any()
    assert not any(s["layout"]["title"]["text"].startswith("月度趋势") for s in specs(at))
