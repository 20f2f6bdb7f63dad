"""社区对比 logic on hand-built data: ranks and percentiles (ties, missing values last with a note),
peer groups, the communities= URL parameter, and the comparison of the fixture's communities."""

import math

import numpy as np
import pandas as pd
import pytest

from governance import compare as cmp
from governance import db, metrics
from governance.labels import md_escape
from tests.fixtures import ALL, PERIOD
from governance.access import ALL_SCOPE


# ---------------------------------------------------------------- ranks and percentiles

def test_rank_higher_is_better_ties_share_a_rank_and_missing_is_last_with_a_note():
    values = pd.Series([0.9, 0.8, 0.8, np.nan, 0.5], index=list("ABCDE"))
    r = cmp.rank(values, cmp.HIGHER)
    # 4 communities have a value: A best; B and C tie (one better) -> 2; E has 3 better -> 4; D missing -> 4 + 1
    assert r["rank"].tolist() == [1, 2, 2, 5, 4]
    assert set(r["n"]) == {5}
    # percentile = strictly worse others / (4 - 1): A 3/3, B and C 1/3 (only E), E 0/3
    assert r.loc["A", "percentile"] == 100
    assert r.loc["B", "percentile"] == pytest.approx(100 / 3) and r.loc["C", "percentile"] == pytest.approx(100 / 3)
    assert r.loc["E", "percentile"] == 0
    assert r.loc["D", "percentile"] is None and r.loc["D", "note"] == cmp.MISSING_NOTE
    assert r.loc["A", "note"] == ""


def test_rank_lower_is_better_for_handling_time():
    days = pd.Series([2.0, 5.0, 2.0, None], index=[1, 2, 3, 4])
    r = cmp.rank(days, cmp.LOWER)
    # 2 days ties first; 5 days has two better -> 3; missing -> 3 valid + 1 = 4
    assert r["rank"].tolist() == [1, 3, 1, 4]
    assert r.loc[1, "percentile"] == 50 and r.loc[2, "percentile"] == 0  # 1 of the 2 others is worse


def test_rank_of_a_lone_value_has_no_percentile_and_neutral_counts_say_so():
    r = cmp.rank(pd.Series([3.0, np.nan], index=["x", "y"]), cmp.NEUTRAL)
    assert r["rank"].tolist() == [1, 2]
    assert r.loc["x", "percentile"] is None and r.loc["x", "note"] == cmp.NEUTRAL_NOTE
    assert cmp.rank_text(1, 33, 75.0, cmp.NEUTRAL_NOTE) == "1/33 · 多于 75%"
    assert cmp.rank_text(3, 33, 93.75) == "3/33 · 优于 94%"
    assert cmp.rank_text(33, 33, None, cmp.MISSING_NOTE) == "33/33 · 无数据"


# ---------------------------------------------------------------- peer groups

def _features():
    # only households differ (log1p = 1, 2, 3, 5 for the urban ones, 2.1 for the rural one); the
    # other features are equal, so they scale to 0 and the distance is |Δ log1p(households)| / sd
    e = lambda x: math.exp(x) - 1
    rows = [(1, "urban", e(1)), (2, "urban", e(2)), (3, "urban", e(3)), (4, "urban", e(5)), (5, "rural", e(2.1)),
            (6, "urban", np.nan)]
    return pd.DataFrame([dict(community_id=i, type=t, households=h, residents=1000, buildings=10, area_km2=1.0)
                         for i, t, h in rows])


def test_peers_are_the_nearest_of_the_same_type():
    f = _features()
    f = f[f["community_id"] != 6]  # (6 has no households: see the next test)
    # from 1 (log 1): 2 is 1 away, 3 is 2 away, 4 is 4 away; 5 (rural, 1.1 away) is never a peer of an urban one
    assert cmp.peers(f, 1, k=2) == [2, 3]
    # from 3 (log 3): 2 is 1 away; 1 and 4 are both 2 away -> tie broken by id
    assert cmp.peers(f, 3, k=2) == [2, 1]
    assert cmp.peers(f, 3, k=3) == [2, 1, 4]
    # the rural community has no rural neighbour: an empty group, not an urban stand-in
    assert cmp.peers(f, 5, k=5) == []


def test_a_missing_feature_is_left_out_of_the_distance():
    f = _features()
    d = cmp.distances(f, 6)
    # 6 has no households; the other features are all equal -> distance 0 to every urban community
    assert d.loc[[1, 2, 3, 4]].tolist() == [0, 0, 0, 0]
    assert 5 not in d.index
    # and it is still somebody's peer (k large enough)
    assert 6 in cmp.peers(f, 1, k=5)


def test_peers_scale_each_feature():
    # residents differ 10x as much as households in raw numbers, but after log + standardising a
    # community twice as big in households is as far as one twice as big in residents
    f = pd.DataFrame([dict(community_id=1, type="urban", households=100, residents=1000, buildings=10, area_km2=1),
                      dict(community_id=2, type="urban", households=200, residents=1000, buildings=10, area_km2=1),
                      dict(community_id=3, type="urban", households=100, residents=2000, buildings=10, area_km2=1)])
    d = cmp.distances(f, 1)
    assert d.loc[2] > 0 and d.loc[3] > 0


# ---------------------------------------------------------------- the communities= parameter

COMMUNITIES = pd.DataFrame([
    dict(community_id=1, street="东街道", community="甲社区"),
    dict(community_id=2, street="东街道", community="乙村"),
    dict(community_id=3, street="西街道", community="丙社区"),
    dict(community_id=4, street="西街道", community="甲社区"),
])


def test_parse_names_ambiguous_names_and_street_prefix():
    ids, notices = cmp.parse_communities("丙社区,乙村,丙社区", COMMUNITIES)
    assert ids == [3, 2] and notices == []
    ids, notices = cmp.parse_communities("甲社区,丙社区", COMMUNITIES)
    assert ids == [3] and "东街道、西街道" in notices[0] and "街道/社区" in notices[0]
    ids, notices = cmp.parse_communities("西街道/甲社区，无此社区", COMMUNITIES)
    assert ids == [4] and "无此社区" in notices[0]
    assert cmp.url_value([4, 2, 1], COMMUNITIES) == "西街道/甲社区,乙村,东街道/甲社区"
    assert cmp.parse_communities(cmp.url_value([4, 2, 1], COMMUNITIES), COMMUNITIES)[0] == [4, 2, 1]


def test_parse_keeps_at_most_eight():
    many = pd.DataFrame([dict(community_id=i, street="街", community=f"社区{i}") for i in range(10)])
    ids, notices = cmp.parse_communities(",".join(f"社区{i}" for i in range(10)), many)
    assert ids == list(range(8)) and "最多" in notices[0]


# ---------------------------------------------------------------- the fixture's communities compared

@pytest.fixture
def fixture_values(fixture_con):
    p = {**ALL, **PERIOD}
    q = lambda name: db.run_query(fixture_con, name, p, scope=ALL_SCOPE)
    weights = metrics.score_weights(q("settings/in_force"))
    return cmp.community_values(q("coverage/coverage_by_community"), q("organizations/orgs_by_community"),
                                q("tickets/rates_by_community"), q("compare/durations_by_community"), weights)


def test_comparison_of_the_fixture_ranks_missing_last_and_marks_best(fixture_values):
    comp = cmp.comparison(fixture_values, [1, 2], {1: [3], 2: []})
    at = comp.set_index(["community_id", "key"])
    # C1: 甲 1/3, 丙 1/1, 乙 no compounds (无数据) -> 丙 1st, 甲 2nd, 乙 last (2 with a value + 1)
    assert at.loc[(1, "C1"), "value"] == pytest.approx(1 / 3)
    assert (at.loc[(1, "C1"), "numerator"], at.loc[(1, "C1"), "denominator"]) == (1, 3)
    assert (at.loc[(1, "C1"), "rank_all"], at.loc[(1, "C1"), "n_all"]) == (2, 3)
    assert at.loc[(2, "C1"), "rank_all"] == 3 and pd.isna(at.loc[(2, "C1"), "value"])
    assert cmp.MISSING_NOTE in at.loc[(2, "C1"), "note"]
    # the best of the chosen is 甲 (乙 has no value); peer group of 甲 = 甲 + 丙 -> 2nd of 2
    assert at.loc[(1, "C1"), "best"] and not at.loc[(2, "C1"), "best"]
    assert (at.loc[(1, "C1"), "rank_peer"], at.loc[(1, "C1"), "n_peer"]) == (2, 2)
    # 乙's peer group is itself alone: no value among 0 valued -> rank 0 + 1 of 1, still with the note
    assert (at.loc[(2, "C1"), "rank_peer"], at.loc[(2, "C1"), "n_peer"]) == (1, 1)
    # T2: 甲 3/4 = 75% on 4 follow-ups (small sample), 丙 1/1 = 100% -> 甲 2nd, better than none of the other 1
    assert at.loc[(1, "T2"), "value"] == pytest.approx(0.75)
    assert (at.loc[(1, "T2"), "rank_all"], at.loc[(1, "T2"), "pct_all"]) == (2, 0)
    assert "样本少（4 件 < 30）" in at.loc[(1, "T2"), "note"]
    # T6: 甲's closed tickets took 3, 20, 1 and 0.5/24 days -> median (1 + 3) / 2 = 2.0; 丙 1.0 -> 丙 first
    assert at.loc[(1, "T6"), "value"] == pytest.approx(2.0)
    assert at.loc[(1, "T6"), "rank_all"] == 2 and at.loc[(1, "T6"), "best"]
    # S3: 甲 1 < 10 and 乙 0 < 5 both miss (a tie, rank 2), 丙 11 ≥ 10 meets (rank 1)
    assert at.loc[(1, "S3"), "rank_all"] == 2 and at.loc[(2, "S3"), "rank_all"] == 2
    assert at.loc[(1, "S3"), "best"] and at.loc[(2, "S3"), "best"]
    # T9 = 100 × (0.30 × 0.75 + 0.35 × 0.50 + 0.35 × 0.40) = 54.0 (fixture docstring)
    assert at.loc[(1, "T9"), "value"] == pytest.approx(54.0)
    # T1 has no good direction: never highlighted
    assert not at.loc[(1, "T1"), "best"] and not at.loc[(2, "T1"), "best"]


def test_side_by_side_shows_counts_ranks_and_practices_beside_their_family(fixture_values):
    comp = cmp.comparison(fixture_values, [1, 3], {1: [3], 3: [1]})
    practices = cmp.with_family(pd.DataFrame([dict(community_id=1, practice="甲一小区管网改造",
                                                   started_on="2023-06-01", related_category="下水道堵塞")]))
    table, best = cmp.side_by_side(comp, {1: "甲社区", 3: "丙社区"}, [1, 3], practices)
    rows = table.set_index("指标")
    assert rows.loc["C1 小区党支部覆盖率", "甲社区"] == "33.3%（1/3 个小区）"
    assert rows.loc["C1 小区党支部覆盖率", "丙社区"] == "★ 100.0%（1/1 个小区）"
    # 甲 among all 3: 丙 better, 乙 no value -> 2/3, better than 0 of the 1 other with a value;
    # in its peer group (甲 + 丙) 2/2
    assert rows.loc["C1 小区党支部覆盖率", "甲社区 名次"] == "全部 2/3 · 优于 0%\n相似组 2/2 · 优于 0%"
    assert rows.loc["T4 满意率", "甲社区"] == "40.0%（1.6/4 件有效回访）"
    assert rows.loc["S3 社会组织数达标", "甲社区"] == "未达标（1 < 10 个）"
    assert rows.loc["诉求办理 · 经验做法", "甲社区"] == "2023-06 甲一小区管网改造"
    assert rows.loc["诉求办理 · 经验做法", "丙社区"] == "—"
    marks = best.set_index(table["指标"])
    assert marks.loc["C1 小区党支部覆盖率", "丙社区"] and not marks.loc["C1 小区党支部覆盖率", "甲社区"]
    compact, _ = cmp.side_by_side(comp, {1: "甲社区", 3: "丙社区"}, [1, 3], practices, compact=True)
    assert list(compact.columns) == ["指标", "甲社区", "丙社区"]
    assert compact.iloc[0]["甲社区"] == "33.3%（1/3）｜全部 2/3 · 相似组 2/2"


def test_markdown_in_names_is_escaped_for_the_table():
    assert md_escape("[点此](x) :red[甲] $x$ <b>") == "\\[点此\\](x) \\:red\\[甲\\] \\$x\\$ \\<b\\>"
    assert md_escape("**粗** 1. - #") == "\\*\\*粗\\*\\* 1. - \\#"      # mid-line "1." and "-" are plain
    assert [md_escape(s) for s in ("1. 甲", "- 乙", "+ 丙", "2) 丁")] == ["1\\. 甲", "\\- 乙", "\\+ 丙", "2\\) 丁"]
    assert md_escape("甲\n---\r\n2. 乙") == "甲\n\\---\n2\\. 乙"                   # no heading, no list
    assert md_escape("★ 100.0%（8/8 个小区）") == "★ 100.0%（8/8 个小区）"   # what the table shows, untouched


def test_practice_family():
    assert cmp.practice_family("东方新天地花园小区引入信托制物业", "下水道堵塞") == "诉求办理"
    assert cmp.practice_family("“社区党委—小区党支部—楼栋党小组—党员中心户”组织链条", None) == "组织覆盖"
    assert cmp.practice_family("爱心联盟与海宁市新居民发展联合会", None) == "社区社会组织"
    assert cmp.practice_family("社区治理委员会与议事平台", None) == cmp.OTHER
