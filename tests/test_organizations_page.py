"""AppTest of the 社会组织 page: on the demo database (published figures of 西山社区) and on the
hand-built fixture (the edge cases of tests/test_organizations_queries.py)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest

from governance import organizations as fam
from tests import fixtures
from tests.apptest import each_tab, open_tab, queries_run
from tests.test_organizations_queries import EXTRA

ROOT = Path(__file__).resolve().parent.parent
PAGE = "pages/3_organizations.py"


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def captions(at) -> str:
    return "\n".join(c.value for c in at.caption)


def figures(at) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def values(v) -> list:
    """A trace's data array: plain JSON list, or Plotly's typed array {dtype, bdata}."""
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"])).tolist()
    return list(v)


def annotations(fig: dict) -> list[str]:
    return [a.get("text", "") for a in fig["layout"].get("annotations", [])]


@pytest.fixture
def fixture_app(tmp_path, monkeypatch):
    """AppTest on the fixture database with this module's rows, period 2023-06 .. 2023-08."""
    from streamlit.testing.v1 import AppTest

    path = fixtures.build(tmp_path / "orgs-page.duckdb", extra=EXTRA)
    monkeypatch.setenv("GOVERNANCE_DB", str(path))

    def make(**query_params):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        for k, v in {"from": "2023-06", "to": "2023-08", **query_params}.items():
            at.query_params[k] = v
        at.run()
        at.switch_page(PAGE).run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return make


def test_xishan_shows_43_organisations_and_alliance_14_to_152(app):
    at = app(PAGE, community="西山社区")
    assert not at.exception, [e.value for e in at.exception]
    m = metrics(at)
    assert m["S1 社会组织数"] == "43"
    assert m["S3 达标"] == "达标"
    assert m["S6 成员单位（家）"] == "152"
    assert "西山社区爱心联盟：14 → 152 家" in captions(at)
    assert "43 家 / 目标 10 家（城市社区）" in captions(at)  # target read from the settings table
    open_tab(at, "联盟与志愿队伍")
    # the S6 chart opens on the alliance, labelled with its first and latest member units
    alliance = next(f for f in figures(at) if f["layout"].get("title", {}).get("text") == "西山社区爱心联盟")
    assert {"14 家", "152 家"} <= set(annotations(alliance))
    units = next(t for t in alliance["data"] if t.get("name") == "成员单位（家）")
    assert values(units["y"])[0] == 14 and values(units["y"])[-1] == 152
    pick = at.selectbox(key="org_pick")
    assert pick.options[pick.index] == "西山社区爱心联盟（西山社区）：成员单位 14 → 152 家"  # the default pick


def test_growth_chart_is_a_step_line_over_bars_by_type(app):
    at = app(PAGE, community="西山社区")
    growth = figures(at)[0]
    step = growth["data"][0]
    assert step["line"]["shape"] == "hv"
    assert values(step["y"])[-1] == 43  # S1 at the period's end
    bar_types = {t["name"] for t in growth["data"] if t["type"] == "bar"}
    assert {"志愿服务", "文体娱乐"} <= bar_types
    assert growth["layout"]["barmode"] == "relative"


def test_street_ranking_marks_communities_below_target(app):
    at = app(PAGE, street="硖石街道")
    assert not at.exception
    assert metrics(at)["S3 达标社区"] == "3 / 4"
    open_tab(at, "各社区达标")
    ranking = next(f for f in figures(at) if any(t.get("name", "").startswith("达标线") for t in f["data"]))
    bars = ranking["data"][0]
    colour = dict(zip(values(bars["y"]), values(bars["marker"]["color"])))
    assert colour["硖石甲社区"] == fam.BELOW_COLOR
    assert colour["西山社区"] == fam.MET_COLOR
    assert values(bars["y"])[0] == "西山社区"  # highest S2 first


def test_search_filters_the_organisation_list(app):
    at = app(PAGE, community="西山社区")
    open_tab(at, "组织名单")
    table = at.dataframe[-1].value
    assert len(table) == 43
    at.text_input(key="org_search").input("联盟").run()
    table = at.dataframe[-1].value
    assert table["org"].tolist() == ["西山社区爱心联盟"]
    assert "共 1 个组织（名称含搜索词）" in captions(at)
    at.text_input(key="org_search").input("没有这个名字").run()
    assert any("没有符合搜索条件的组织" in i.value for i in at.info)


def test_fixture_community_with_zero_base_shows_no_data(fixture_app):
    at = fixture_app(community="乙村")
    m = metrics(at)
    assert m["S1 社会组织数"] == "1"
    assert m["S4 同比"] == "无数据"  # a year ago 0 organisations: not infinity
    assert m["S2 每千居民社会组织数"] == "无数据"  # 0 residents
    assert m["S3 达标"] == "未达标"
    assert "1 家 / 目标 5 家（农村社区），差 4 家" in captions(at)
    assert "上年同日为 0，同比无数据" in captions(at)


def test_fixture_selection_totals_match_hand_arithmetic(fixture_app):
    at = fixture_app()
    m = metrics(at)
    assert m["S1 社会组织数"] == "16"
    assert m["S2 每千居民社会组织数"] == "40.00"
    assert m["S3 达标社区"] == "1 / 4"
    assert m["S5 党建引领率"] == "43.8%"
    assert m["S4 净增（期间）"] == "0"
    assert m["S4 同比"] == "14.3%"
    assert m["S6 每百居民志愿者"] == "7.50"
    assert m["S6 服务时长（小时）"] == "120"   # hours as a whole count, no ".00"
    assert "3 个社区未达标，共差 23 家" in captions(at)


def test_fixture_practice_marked_on_growth_chart(fixture_app):
    at = fixture_app(community="甲社区")
    growth = figures(at)[0]
    assert "甲一小区管网改造" in annotations(growth)
    assert any(s.get("line", {}).get("dash") == "dot" for s in growth["layout"].get("shapes", []))


def test_fixture_empty_states_say_what_is_missing(fixture_app):
    at = fixture_app(community="丁社区")
    assert metrics(at)["S1 社会组织数"] == "0"
    infos, charts = [], []
    for view in each_tab(at):
        infos += [i.value for i in view.info]
        charts += figures(view)
    assert any("没有登记社会组织" in i for i in infos)
    assert any("没有组织报送月度数据" in i for i in infos)
    # no growth or S6 chart; only the ranking of the one community (0 organisations, red)
    (only,) = charts
    assert only["data"][1]["name"].startswith("达标线")
    assert values(only["data"][0]["marker"]["color"]) == [fam.BELOW_COLOR]


def test_picking_a_volunteer_team_redraws_the_s6_chart(app):
    at = app(PAGE, street="硖石街道")
    open_tab(at, "联盟与志愿队伍")
    pick = at.selectbox(key="org_pick")
    assert pick.options[0].startswith("西山社区爱心联盟")  # largest member-unit growth first
    team = next(o for o in pick.options if "志愿者" in o)
    pick.set_value(team).run()
    assert not at.exception
    title = team.split("（")[0]
    chart = next(f for f in figures(at) if f["layout"].get("title", {}).get("text") == title)
    names = {t.get("name") for t in chart["data"]}
    assert "志愿者（人）" in names and "成员单位（家）" not in names  # a team reports no member units


def test_only_the_chosen_tab_runs_its_queries_and_sends_its_elements(app, monkeypatch):
    ran = queries_run(monkeypatch)
    at = app(PAGE, street="硖石街道")
    assert [t.label for t in at.tabs] == ["增长情况", "联盟与志愿队伍", "各社区达标", "组织名单"]
    assert len(figures(at)) == 1 and not at.dataframe
    assert not {"organizations/org_list", "organizations/org_series"} & set(ran)
    cards = metrics(at)
    open_tab(at, "组织名单")
    assert "organizations/org_list" in ran and "organizations/org_series" not in ran
    assert metrics(at) == cards and not figures(at) and len(at.dataframe) == 1   # the headline stays
