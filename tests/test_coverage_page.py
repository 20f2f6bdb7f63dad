"""AppTest of the 组织覆盖 page on the demo database, with a community or a street filter."""

from __future__ import annotations

import base64
import json

import numpy as np

from tests.apptest import open_tab, queries_run

PAGE = "pages/2_coverage.py"


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def values(arr) -> list:
    """A Plotly array from the spec: plain list, or the typed-array form {'dtype', 'bdata'}."""
    if isinstance(arr, dict) and "bdata" in arr:
        return np.frombuffer(base64.b64decode(arr["bdata"]), dtype=arr["dtype"]).tolist()
    return list(arr)


def charts(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]



def test_jiangxinyuan_shows_the_published_chain(app):
    at = app(PAGE, community="江欣苑社区", to="2023-08")
    assert not at.exception
    m = metrics(at)
    # the article's figures, exactly
    assert m["小区党支部（个）"] == "8" and m["楼栋党小组（个）"] == "88" and m["党员中心户（户）"] == "177"
    assert m["C1 小区党支部覆盖率"] == "100.0%" and m["C4 组织链完整率"] == "100.0%"
    captions = " ".join(c.value for c in at.caption)
    assert "8 / 8 个小区有党支部" in captions and "88 / 88 栋楼有党小组" in captions
    assert "177 户中心户" in captions
    open_tab(at, "各社区与断点")
    # no gaps and no 条例 problems: said in words, not as an empty table
    infos = " ".join(i.value for i in at.info)
    assert "每个小区都有党支部" in infos and "没有发现不符合条例" in infos


def test_jiangxinyuan_chain_picture_and_months_with_practice(app):
    at = app(PAGE, community="江欣苑社区", **{"from": "2021-01", "to": "2023-08"})
    specs = charts(at)
    tree = next(s for s in specs if s["data"][0]["type"] == "treemap")["data"][0]
    # 88 units, one tile each, all complete
    tiles = [i for i in tree["ids"] if i.startswith("b")]
    assert len(tiles) == 88
    open_tab(at, "逐月变化")
    over_time = next(s for s in charts(at) if len(s["data"]) == 4)
    names = [t["name"] for t in over_time["data"]]
    assert names[0].startswith("C1") and names[3].startswith("C3")
    c2 = values(over_time["data"][1]["y"])
    # groups grew through 2021-2022 from a few to all 88 units (values in %)
    assert len(c2) == 32 and c2[0] < 10 and c2[-1] == 100
    # the chain practice (2021-07) is marked on the time axis
    texts = [a["text"] for a in over_time["layout"]["annotations"]]
    assert any("社区党委—小区党支部" in t for t in texts)
    assert any(sh["x0"].startswith("2021-07-01") for sh in over_time["layout"]["shapes"])


def test_kangcheng_picture_stays_legible(app):
    at = app(PAGE, community="康城社区")
    assert not at.exception
    tree = next(s for s in charts(at) if s["data"][0]["type"] == "treemap")["data"][0]
    # 286 buildings are grouped by status inside their 12 compounds, not 286 tiles
    assert not any(i.startswith("b") for i in tree["ids"])
    compounds = [i for i in tree["ids"] if i.startswith("p")]
    leaves = [i for i in tree["ids"] if i.startswith("s")]
    assert len(compounds) == 12 and len(leaves) <= 48
    assert sum(v for i, v in zip(tree["ids"], values(tree["values"])) if i.startswith("s")) == 286


def test_a_large_selection_draws_the_worst_communities_and_says_so(app):
    from governance import coverage

    at = app(PAGE)   # the whole demo: 32 reporting communities, 2,521 buildings
    tree = next(s for s in charts(at) if s["data"][0]["type"] == "treemap")["data"][0]
    drawn = [i for i in tree["ids"] if i.startswith("c")]
    assert len(drawn) == coverage.MAX_TREE_COMMUNITIES == 20
    said = " ".join(c.value for c in at.caption)
    assert "图中只画 C4 组织链完整率最低的 20 个" in said and "社区较多（32 个）" in said


def test_silent_community_shows_an_empty_state(app):
    at = app(PAGE, community="玉林戊社区")
    assert not at.exception
    assert not at.metric and not at.get("plotly_chart")
    assert "还没有报送组织数据" in at.info[0].value


def test_street_leaves_the_silent_community_out_and_lists_it(app):
    at = app(PAGE, street="玉林街道")
    assert not at.exception
    assert any("玉林戊社区还没有报送组织数据" in w.value for w in at.warning)
    open_tab(at, "各社区与断点")
    table = at.dataframe[0].value
    assert table.iloc[0]["社区"] == "玉林戊社区" and table.iloc[0]["C1"] == "未报送"
    assert len(table) == 6
    # the others are sorted by C4, lowest first
    c4 = [float(v.split("%")[0]) for v in table["C4"].iloc[1:]]
    assert c4 == sorted(c4)
    # the headline sums the reporting communities only: 111 + 90 + 116 + 29 + 85 buildings
    assert "/ 431 栋楼链条完整" in " ".join(c.value for c in at.caption)


def test_c6_checks_name_the_rule(app):
    at = app(PAGE)  # all communities: the demo has branches of 2 members, 56 members, 7+ without committee
    open_tab(at, "各社区与断点")
    frames = [d.value for d in at.dataframe]
    checks = next(f for f in frames if "违反的规定" in f.columns)
    rules = set(checks["违反的规定"])
    assert {"正式党员不足 3 人", "正式党员 7 人及以上，未设支部委员会", "党员超过 50 人"} <= rules
    assert (checks[checks["违反的规定"] == "党员超过 50 人"]["党员数"] > 50).all()
    gaps = next(f for f in frames if "缺口" in f.columns)
    assert gaps.iloc[0]["楼栋"] == "（整个小区）"  # whole compounds without a branch come first


def test_two_communities_side_by_side(app):
    at = app(PAGE, community="江欣苑社区", to="2023-08")
    open_tab(at, "并排对比")
    picker = at.multiselect(key="side_by_side")
    assert picker.value == ["江堤街道 › 江欣苑社区"]
    picker.set_value(["江堤街道 › 江欣苑社区", "莘庄镇 › 康城社区"]).run()
    assert not at.exception
    trees = [s["data"][0] for s in charts(at) if s["data"][0]["type"] == "treemap"]
    # one picture per chosen community (the page's own is on the first tab)
    assert [t["labels"][0] for t in trees] == ["江欣苑社区", "康城社区"]
    captions = " ".join(c.value for c in at.caption)
    assert "C4 100.0%（88/88）" in captions and "（35/286）" in captions


def test_only_the_chosen_tab_runs_its_queries_and_sends_its_elements(app, monkeypatch):
    ran = queries_run(monkeypatch)
    at = app(PAGE, street="江堤街道")
    assert not at.exception
    assert [t.label for t in at.tabs] == ["组织链条", "逐月变化", "各社区与断点", "并排对比"]
    assert sorted(s["data"][0]["type"] for s in charts(at)) == ["bar", "treemap"]   # the funnel and the tree
    assert not at.dataframe and not at.multiselect
    assert not {"coverage/gaps", "coverage/branch_checks", "coverage/coverage_monthly_totals"} & set(ran)
    cards = metrics(at)

    open_tab(at, "逐月变化")
    assert "coverage/coverage_monthly_totals" in ran
    assert [s["data"][0]["type"] for s in charts(at)] == ["scatter"] and metrics(at) == cards

    open_tab(at, "各社区与断点")
    assert {"coverage/gaps", "coverage/branch_checks"} <= set(ran)
    assert cards.items() <= metrics(at).items() and not at.get("plotly_chart")   # the headline stays
    assert any("违反的规定" in d.value.columns for d in at.dataframe)
    assert any("C4" in d.value.columns and len(d.value) > 1 for d in at.dataframe)   # every community
