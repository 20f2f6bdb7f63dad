"""AppTest of 社区对比: the three communities of the link, their published figures, ranks with
counts, peers added to the selection, 培训模式, the prepared files, and names shared by two streets."""

import json
from pathlib import Path

import pytest

from governance import db
from tests import fixtures
from tests.apptest import open_tab, queries_run

ROOT = Path(__file__).resolve().parent.parent
PAGE = "pages/5_compare.py"
LINK = "江欣苑社区,西山社区,裕园社区"


def table(at):
    return at.table[0].value


@pytest.fixture
def three(app):
    at = app(PAGE, communities=LINK)
    assert not at.exception
    return at


def test_three_communities_side_by_side_with_published_figures(three):
    t = table(three)
    assert {"江欣苑社区", "西山社区", "裕园社区"} <= set(t.columns)
    assert "江欣苑社区 名次" in t.columns and "西山社区 名次" in t.columns
    # published: 88 building groups on 88 buildings in 江欣苑 (C2 100%, the best: starred), 43 organisations in 西山
    assert t.loc["C2 楼栋党小组覆盖率", "江欣苑社区"] == "★ 100.0%（88/88 栋）"
    assert t.loc["S1 社会组织数", "西山社区"] == "★ 43"
    # the 8 branches on 8 compounds; ranks among the 33 demo communities and in a group of 1 + 5 peers
    assert t.loc["C1 小区党支部覆盖率", "江欣苑社区"].endswith("（8/8 个小区）")
    assert t.loc["C2 楼栋党小组覆盖率", "江欣苑社区 名次"] == "全部 1/33 · 优于 100%\n相似组 1/6 · 优于 100%"
    # every rate carries its counts; every family has its practices row
    for code in ("T2 响应率", "T3 解决率", "T4 满意率"):
        assert all("件有效回访）" in t.loc[code, c] for c in ("江欣苑社区", "西山社区", "裕园社区"))
    assert "信托制物业" in t.loc["诉求办理 · 经验做法", "裕园社区"]
    assert "爱心联盟" in t.loc["社区社会组织 · 经验做法", "西山社区"]
    assert t.loc["组织覆盖 · 经验做法", "江欣苑社区"].startswith("2021-07 ")
    assert dict(three.query_params)["communities"] == LINK


def test_charts_share_axes_and_mark_practices(three):
    open_tab(three, "指标画像与月度三率")
    specs = [json.loads(c.proto.spec) for c in three.get("plotly_chart")]
    radar = next(s for s in specs if s["data"][0]["type"] == "scatterpolar")
    assert [d["name"] for d in radar["data"]] == ["江欣苑社区", "西山社区", "裕园社区"]
    assert radar["layout"]["polar"]["radialaxis"]["range"] == [0, 100]
    trends = next(s for s in specs if s["data"][0]["type"] == "scatter")
    assert all(trends["layout"][f"yaxis{i}"]["range"] == [0, 105] for i in ("", "2", "3"))
    texts = [a["text"] for a in trends["layout"]["annotations"]]
    assert any("裕园社区：东方新天地花园小区引入信托制物业"[:21] in t for t in texts)


def test_adding_peers_updates_the_link(three):
    three.button(key="peers_1").click().run()
    chosen = three.multiselect(key="cmp_ids").value
    assert chosen[:3] == [1, 30, 7] and len(chosen) == 8  # 3 + 5 peers of 江欣苑, capped at 8
    assert dict(three.query_params)["communities"].startswith(LINK + ",")
    assert len(table(three).columns) == 8 * 2


def slide_texts(at):
    return "\n".join(m.value for m in at.markdown)


def test_presentation_mode_shows_slides_and_keeps_the_selection(three):
    three.toggle(key="cmp_present").set_value(True).run()
    assert not three.exception
    assert dict(three.query_params)["present"] == "1" and dict(three.query_params)["slide"] == "1"
    assert len(three.multiselect) == 0 and len(three.table) == 0
    assert [d.label for d in three.get("download_button")] == ["下载 PowerPoint"]
    text = slide_texts(three)
    # slide 1 is 组织覆盖: 江欣苑's C2 100% (the best, 1st of 33 and of its group of 6), big with ranks beneath
    assert "## 组织覆盖" in text and "第 1 / 6 页" in text   # 3 families + 3 communities' practices
    assert ":green-background[**★ 100.0%**]  \n:gray[1/33 · 组内 1/6]" in text
    chart = json.loads(three.get("plotly_chart")[0].proto.spec)
    assert chart["data"][0]["type"] == "bar" and chart["data"][0]["y"] == ["江欣苑社区", "西山社区", "裕园社区"]
    assert chart["layout"]["yaxis"]["tickfont"]["size"] >= 18
    three.button(key="slide_next").click().run()
    assert dict(three.query_params)["slide"] == "2" and "## 社区社会组织" in slide_texts(three)
    assert "**★ 43**" in slide_texts(three)
    three.toggle(key="cmp_present").set_value(False).run()
    assert three.multiselect(key="cmp_ids").value == [1, 30, 7]
    assert "present" not in dict(three.query_params) and "slide" not in dict(three.query_params)


def test_present_link_opens_in_training_mode(app):
    at = app(PAGE, communities=LINK, present="1", slide="5")
    assert not at.exception and at.toggle(key="cmp_present").value
    assert len(at.multiselect) == 0
    assert any("display: none" in m.value for m in at.markdown)
    assert "## 西山社区 · 经验做法" in slide_texts(at) and "爱心联盟" in slide_texts(at)
    at = app(PAGE, communities=LINK, present="1", slide="99")
    assert "第 1 / 6 页" in slide_texts(at) and "slide 应为 1 至 6" in slide_texts(at)


def test_files_are_prepared_on_request(three):
    open_tab(three, "导出")
    assert [d.label for d in three.get("download_button")] == ["下载 CSV"]
    three.button(key="cmp_make_xlsx").click().run()
    three.button(key="cmp_make_pdf").click().run()
    assert not three.exception
    assert [d.label for d in three.get("download_button")] == ["下载 CSV", "下载 Excel（.xlsx）", "下载 PDF（A4 横向）"]


def test_fewer_than_two_asks_for_a_choice(app):
    at = app(PAGE, communities="江欣苑社区")
    assert not at.exception and len(at.table) == 0
    assert any("请选择 2 至 8 个社区" in i.value for i in at.info)


def test_a_name_shared_by_two_streets_needs_its_street(tmp_path, monkeypatch):
    # 1001 甲社区 on 西街道 shares its name with fixture community 1 甲社区 on 东街道
    path = fixtures.build(tmp_path / "f.duckdb", extra={"communities": [
        dict(community_id=1001, province="测试省", city="测试市", district="测试区", street="西街道",
             community="甲社区", type="urban", households=60, residents=150, area_km2=0.5)]})
    monkeypatch.setenv("GOVERNANCE_DB", str(path))
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["communities"] = "甲社区,丙社区,乙村"
    at.query_params["from"], at.query_params["to"] = "2023-06", "2023-08"  # D = 2023-08-31 as in the docstring
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert any("多个街道都有“甲社区”" in w.value for w in at.warning)
    assert list(table(at).columns)[:1] == ["丙社区"]
    at.query_params["communities"] = "东街道/甲社区,丙社区"
    at.run()
    t = table(at)
    assert "东街道/甲社区" in t.columns
    # 甲社区 C1 = 1/3 at D (fixture docstring)
    assert t.loc["C1 小区党支部覆盖率", "东街道/甲社区"] == "33.3%（1/3 个小区）"
    assert dict(at.query_params)["communities"] == "东街道/甲社区,丙社区"


def test_a_second_rerun_with_three_communities_is_answered_from_the_cache(three, monkeypatch):
    """Issue 13: every rerun of 社区对比 used to take seconds; a rerun of the same view runs no
    query at all (every result comes from the cache) and shows the same table."""
    before = table(three)
    calls = []
    real = db.run_query

    def counting(con, name, *a, **kw):
        calls.append(name)
        return real(con, name, *a, **kw)

    monkeypatch.setattr(db, "run_query", counting)
    three.run()
    assert not three.exception
    assert calls == []
    assert table(three).equals(before)
    # changing one widget (the peer group size) queries nothing new either: only the ranks change
    three.number_input(key="cmp_k").set_value(3).run()
    assert not three.exception and calls == []
    assert table(three).loc["C2 楼栋党小组覆盖率", "江欣苑社区 名次"].endswith("相似组 1/4 · 优于 100%")


def test_the_first_view_is_the_table_and_the_peers_and_only_the_chosen_tab_runs(app, monkeypatch):
    """What a class sees first: the side-by-side table and the peer groups, without a chart or a data
    grid to load; the charts' monthly queries run only when their tab is chosen, and the table stays."""
    ran = queries_run(monkeypatch)
    at = app(PAGE, communities=LINK)
    assert not at.exception
    assert [t.label for t in at.tabs] == ["相似社区", "指标画像与月度三率", "经验做法", "导出"]
    assert not at.get("plotly_chart") and not at.dataframe and not at.get("download_button")
    assert at.button(key="peers_1").label == "加入对比" and "tickets/monthly" not in ran
    before = table(at)
    open_tab(at, "指标画像与月度三率")
    assert ran.count("tickets/monthly") == 3 and len(at.get("plotly_chart")) == 2
    assert table(at).equals(before) and not any(b.label == "加入对比" for b in at.button)
    open_tab(at, "经验做法")
    assert not at.get("plotly_chart") and "信托制物业" in " ".join(at.dataframe[0].value["做法"])
