"""AppTest of the 总览 page and the frame around every page (filters, banner, notices)."""

import json

from tests.apptest import open_tab, queries_run

OVERVIEW = "pages/1_overview.py"


def metrics_by_label(at):
    return {m.label: m for m in at.metric}


def captions(at):
    return "\n".join(c.value for c in at.caption)


def test_overview_shows_a_card_per_family_indicator(app):
    at = app(OVERVIEW)
    assert not at.exception
    labels = set(metrics_by_label(at))
    for code in ["C1", "C2", "C3", "S1", "S2", "T1", "T3", "T4", "T9"]:
        assert any(label.startswith(code + " ") for label in labels), code
    assert all(m.value != "无数据" for m in at.metric)
    # change against the previous period of equal length is shown, and counts beside rates
    assert metrics_by_label(at)["T3 解决率"].delta
    assert "件有效回访" in captions(at)
    assert "2021-09 至 2022-08" in captions(at)


def test_overview_for_jiangxinyuan_shows_the_published_chain(app):
    at = app(OVERVIEW, community="江欣苑社区")
    assert not at.exception
    m = metrics_by_label(at)
    assert m["C1 小区党支部覆盖率"].value == "100.0%"
    assert m["C2 楼栋党小组覆盖率"].value == "100.0%"
    text = captions(at)
    assert "8 / 8 个小区" in text and "88 / 88 栋楼" in text and "177 户中心户" in text
    # the frame filled in the region from the community name and put it in the URL
    assert at.query_params["street"] == "江堤街道" and at.query_params["community"] == "江欣苑社区"
    assert at.query_params["from"] == "2022-09" and at.query_params["to"] == "2023-08"


def test_overview_table_lists_the_street_and_links_each_community(app):
    at = app(OVERVIEW, street="江堤街道")
    table = at.dataframe[0].value
    assert len(table) == 6 and "江欣苑社区" in set(table["community"])
    link = table.set_index("community").loc["江欣苑社区", "查看"]
    assert link.startswith("/overview?") and "community=" in link and "from=2022-09" in link


def test_practices_timeline_is_drawn_with_chinese_text(app):
    at = open_tab(app(OVERVIEW), "经验做法")
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    names = {t["name"] for t in spec["data"]}
    assert {"裕园社区", "文昌花园社区", "江欣苑社区"} <= names
    assert spec["layout"]["title"]["text"] == "经验做法时间线"


def test_only_the_chosen_tab_runs_its_queries_and_sends_its_elements(app, monkeypatch):
    ran = queries_run(monkeypatch)
    at = app(OVERVIEW, street="江堤街道")
    assert [t.label for t in at.tabs] == ["各社区指标", "经验做法"]
    assert len(at.dataframe) == 1 and not at.get("plotly_chart")            # the communities table only
    assert "practices/practices_in_selection" not in ran
    cards = {m.label: m.value for m in at.metric}
    open_tab(at, "经验做法")
    assert "practices/practices_in_selection" in ran
    assert len(at.get("plotly_chart")) == 1 and len(at.dataframe) == 1       # the timeline and the list
    assert "查看" not in at.dataframe[0].value.columns
    assert {m.label: m.value for m in at.metric} == cards                    # the headline stays


def test_period_filter_changes_numbers_and_url(app):
    at = app(OVERVIEW, community="裕园社区")
    year = metrics_by_label(at)["T1 诉求量"].value
    at.selectbox(key="f_from").set_value(at.selectbox(key="f_to").value).run()
    assert not at.exception
    month = metrics_by_label(at)["T1 诉求量"].value
    assert int(month.replace(",", "")) < int(year.replace(",", ""))
    assert at.query_params["from"] == at.query_params["to"] == "2023-08"


def test_demo_banner_and_bad_url_notice(app):
    at = app(None, community="不存在的社区", **{"from": "2023年6月"})   # lands on "/" like a pasted link
    assert not at.exception
    assert [m.label for m in at.metric][0].startswith("C1")      # "/" shows 总览
    warnings = "\n".join(w.value for w in at.warning)
    assert "演示数据" in warnings
    assert "不存在" in warnings and "格式不对" in warnings
    assert "community" not in at.query_params


def test_a_region_list_too_long_to_scroll_asks_for_the_level_above(app, demo_con, monkeypatch):
    from governance import filters

    n, streets, in_street = demo_con.execute(
        "SELECT count(*), count(DISTINCT street), count(*) FILTER (WHERE street = '江堤街道') FROM communities").fetchone()
    monkeypatch.setattr(filters, "MAX_OPTIONS", streets)   # the streets are listed, the communities are too many
    assert in_street <= streets < n
    at = app(OVERVIEW)
    box = at.selectbox(key="f_community")
    assert box.options == ["全部"] and f"共 {n} 个社区" in box.help
    assert len(at.selectbox(key="f_street").options) == streets + 1 and not at.selectbox(key="f_street").help
    at.selectbox(key="f_street").set_value("江堤街道").run()
    assert "江欣苑社区" in at.selectbox(key="f_community").options and not at.selectbox(key="f_community").help
    assert len(at.selectbox(key="f_community").options) == in_street + 1
    # a community chosen stays chosen when the street is set back to 全部 and its list is too long again
    at.selectbox(key="f_community").set_value("江欣苑社区").run()
    at.selectbox(key="f_street").set_value("全部").run()
    box = at.selectbox(key="f_community")
    assert box.options == ["全部", "江欣苑社区"] and box.value == "江欣苑社区" and "列表太长" in box.help
    assert at.session_state["selection"].community == "江欣苑社区" and at.query_params["community"] == "江欣苑社区"
