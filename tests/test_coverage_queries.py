"""Coverage queries (queries/coverage/) and governance.coverage on the hand-built fixture.

BASE (tests/fixtures.py docstring) gives 甲社区, 乙村 and 丙社区. This module adds 丁社区 (ids ≥ 1000):

  community 1000 丁社区 (北街道, urban, 0 households, 0 residents: C3 not available)
  compounds 1001 丁一小区, 1002 丁二小区 (0 households each)
  buildings 1011 "1号楼" in 1001, 1021 "-1号楼" in 1002 (a name a spreadsheet would read as a formula)
  branches (all established 2023-01-01 unless said otherwise)
    1101 on 1001: 60 members, no committee      -> no_committee AND over_50
    1102 on 1002: 120 members, committee         -> over_100 (only the strictest size rule)
    1103 on 1002: 9 members, committee unknown   -> not judged on the committee rule
    1104 on 1002: 7 members, no committee, established 2023-09-01 (after D) -> not in force
    1105 on 1002: 1 member, dissolved 2023-08-31 (ON D) -> too_few at 2023-07-31, gone at D
    1106 on 1002: 50 members, committee          -> none (50 is not over 50)
    1107 on 1002: 100 members, committee         -> over_50 (100 is not over 100)
    1108 on 1002: 3 members, no committee        -> none (3 is enough, < 7 needs no committee)
    1109 on 1002: 7 members, no committee        -> no_committee
  group 1201 on building 1011 established 2023-07-10; lead 1301 on 1011 established 2023-06-15.

丁社区 at D = 2023-08-31:
  branches in force: 1101, 1102, 1103, 1106, 1107, 1108, 1109 = 7;
  members 60 + 120 + 9 + 50 + 100 + 3 + 7 = 349
  C1 = 2/2 (both compounds have a branch), C2 = 1/2 (1011), C3 = 1 lead / 0 households -> not available,
  C4 = 1/2 (1011 has branch compound + group + lead; 1021 has neither group nor lead).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from governance import coverage, db, exports
from tests import fixtures
from tests.fixtures import ALL, PERIOD
from governance.access import ALL_SCOPE

D = fixtures.D


def _d(s):
    return dt.date.fromisoformat(s)


def _branch(bid, comp, members, committee, est="2023-01-01", dis=None):
    return dict(branch_id=bid, community_id=1000, compound_id=comp, branch=f"丁支部{bid}", members=members,
                has_committee=committee, established_on=_d(est), dissolved_on=_d(dis) if dis else None)


EXTRA = {
    "communities": [dict(community_id=1000, province="测试省", city="测试市", district="测试区", street="北街道",
                         community="丁社区", type="urban", households=0, residents=0, area_km2=0.5)],
    "compounds": [dict(compound_id=1001, community_id=1000, compound="丁一小区", households=0),
                  dict(compound_id=1002, community_id=1000, compound="丁二小区", households=0)],
    "buildings": [dict(building_id=1011, compound_id=1001, community_id=1000, building="1号楼", households=0),
                  dict(building_id=1021, compound_id=1002, community_id=1000, building="-1号楼", households=0)],
    "branches": [
        _branch(1101, 1001, 60, False), _branch(1102, 1002, 120, True), _branch(1103, 1002, 9, None),
        _branch(1104, 1002, 7, False, est="2023-09-01"), _branch(1105, 1002, 1, False, dis="2023-08-31"),
        _branch(1106, 1002, 50, True), _branch(1107, 1002, 100, True), _branch(1108, 1002, 3, False),
        _branch(1109, 1002, 7, False),
    ],
    "building_groups": [dict(group_id=1201, community_id=1000, building_id=1011, leader="赵六",
                             established_on=_d("2023-07-10"), dissolved_on=None)],
    "household_leads": [dict(lead_id=1301, community_id=1000, building_id=1011, household="101室",
                             established_on=_d("2023-06-15"), dissolved_on=None)],
}


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    path = fixtures.build(tmp_path_factory.mktemp("coverage") / "fixture.duckdb", extra=EXTRA)
    c = db.connect(path)
    yield c
    c.close()


def q(con, name, **params):
    return db.run_query(con, f"coverage/{name}", {**ALL, **PERIOD, **coverage.rule_params(), **params}, scope=ALL_SCOPE)


def by_name(df):
    return df.set_index("community")


# ---------------------------------------------------------------- coverage_by_community (as of D)

def test_coverage_by_community_edge_cases(con):
    c = by_name(q(con, "coverage_by_community"))
    jia = c.loc["甲社区"]
    # 102 established after D and 103 dissolved before D do not count: only 甲一小区 has a branch.
    assert (jia.compounds, jia.compounds_with_branch) == (3, 1)
    # 甲三小区 has no buildings: it counts as a compound (C1) but adds no building.
    assert jia.buildings == 3
    # 112's group was dissolved on D: groups on 111 and 121 remain.
    assert (jia.buildings_with_group, jia.groups) == (2, 2)
    # 121 has a group and a lead but its compound has no branch: against C4. Only 111 is complete.
    assert jia.chain_complete_buildings == 1
    assert (jia.branches, jia.leads, jia.members, jia.households) == (1, 3, 5, 100)
    ding = c.loc["丁社区"]
    assert (ding.compounds_with_branch, ding.buildings_with_group, ding.chain_complete_buildings) == (2, 1, 1)
    assert (ding.branches, ding.members, ding.leads, ding.households) == (7, 349, 1, 0)


def test_zero_households_and_no_compounds_give_no_rate(con):
    from governance import metrics
    c = q(con, "coverage_by_community")
    ding = metrics.coverage(c[c.community == "丁社区"])
    assert ding["C3"].value is None and ding["C3"].numerator == 1 and ding["C3"].denominator == 0
    assert ding["C1"].value == 1.0 and ding["C4"].value == 0.5
    yi = metrics.coverage(c[c.community == "乙村"])  # no compounds, no buildings, 0 households
    assert yi["C1"].value is None and yi["C2"].value is None and yi["C3"].value is None and yi["C4"].value is None


# ---------------------------------------------------------------- reporting status

def test_org_data_marks_the_community_that_never_reported(con):
    o = by_name(q(con, "org_data_by_community"))
    # 甲: branches 101-103, groups 201-203, leads 301-303, whatever their dates.
    assert (o.loc["甲社区", "branch_rows"], o.loc["甲社区", "group_rows"], o.loc["甲社区", "lead_rows"]) == (3, 3, 3)
    assert o.loc["甲社区", "org_rows"] == 9
    assert o.loc["乙村", "org_rows"] == 0 and pd.isna(o.loc["乙村", "first_established"])
    assert o.loc["丁社区", "org_rows"] == 9 + 1 + 1
    assert (o.loc["丁社区", "compounds"], o.loc["丁社区", "buildings"]) == (2, 2)
    df = q(con, "org_data_by_community")
    assert coverage.silent_communities(df) == ["乙村"]
    assert coverage.reporting_ids(df) == {1, 3, 1000}


# ---------------------------------------------------------------- the chain per building / compound

def test_chain_buildings_status(con):
    b = q(con, "chain_buildings").set_index("building_id")
    assert b.loc[111, "status"] == "complete" and b.loc[111, "leads"] == 2
    assert b.loc[112, "status"] == "no_group"      # group dissolved on D
    assert b.loc[121, "status"] == "no_branch"     # group and lead, but 甲二小区's branch starts after D
    assert b.loc[311, "status"] == "no_group"
    assert b.loc[1011, "status"] == "complete"
    assert b.loc[1021, "status"] == "no_group"
    assert len(b) == 6


def test_chain_by_compound_and_funnel(con):
    c = q(con, "chain_by_compound", community="甲社区")
    rows = {(r.compound, None if pd.isna(r.status) else r.status): r.buildings for r in c.itertuples()}
    assert rows == {("甲一小区", "no_group"): 1, ("甲一小区", "complete"): 1, ("甲二小区", "no_branch"): 1,
                    ("甲三小区", None): 0}
    # 3 buildings; 2 in a compound with a branch (111, 112); 1 also with a group (111); 1 complete.
    assert coverage.funnel_counts(c) == [("楼栋总数", 3), ("所在小区有党支部", 2), ("且本楼有楼栋党小组", 1),
                                         ("且有党员中心户（链条完整）", 1)]


def test_tree_figure_building_tiles_and_grouped_tiles(con):
    comp = q(con, "chain_by_compound", community="甲社区")
    blds = q(con, "chain_buildings", community="甲社区")
    fig = coverage.tree_figure("甲社区", comp, blds)
    t = fig.data[0]
    leaves = {i: c for i, c in zip(t.ids, t.marker.colors) if i.startswith("b")}
    assert leaves == {"b111": coverage.STATUS_COLORS["complete"], "b112": coverage.STATUS_COLORS["no_group"],
                      "b121": coverage.STATUS_COLORS["no_branch"]}
    # the compound without a branch stands out; the compound without buildings still gets a tile
    colors = dict(zip(t.ids, t.marker.colors))
    values = dict(zip(t.ids, t.values))
    assert colors["p12"] != colors["p11"] and values["p13"] == 1
    grouped = coverage.tree_figure("甲社区", comp, None).data[0]
    assert not any(i.startswith("b") for i in grouped.ids)
    assert dict(zip(grouped.ids, grouped.values))["s11:complete"] == 1


# ---------------------------------------------------------------- gaps

def test_gaps_list_compounds_then_buildings(con):
    g = q(con, "gaps")
    comp = g[g.kind == "compound"]
    # 甲二小区 (branch after D; 1 building, 40 households) and 甲三小区 (branch dissolved; no buildings)
    assert list(zip(comp.compound, comp.buildings, comp.households)) == [("甲二小区", 1, 40), ("甲三小区", 0, 0)]
    bld = g[g.kind == "building"]
    # 112 lost its group and has no lead; 311 and 1021 have neither. 121 is covered by its compound's row.
    assert list(bld.building_id.astype(int)) == [112, 1021, 311]
    assert bld.missing_group.all() and bld.missing_lead.all() and bld.compound_has_branch.all()
    assert list(g.kind) == ["compound", "compound", "building", "building", "building"]


def test_gap_csv_is_excel_ready_and_formula_safe(con):
    table = coverage.gap_table(q(con, "gaps"))
    assert list(table.columns) == ["街道", "社区", "小区", "楼栋", "缺口", "涉及楼栋", "涉及户数"]
    assert table.loc[0, "楼栋"] == "（整个小区）" and table.loc[0, "缺口"] == "小区无党支部"
    assert table.loc[2, "缺口"] == "无楼栋党小组、无党员中心户"
    data = exports.csv_bytes(table)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "'-1号楼" in text and ",-1号楼" not in text


def test_gap_text_names_the_missing_branch_of_a_building():
    row = dict(kind="building", missing_group=False, missing_lead=True, compound_has_branch=False)
    assert coverage.gap_text(row) == "无党员中心户（所在小区无党支部）"


# ---------------------------------------------------------------- C6 checks

def test_branch_checks_at_d(con):
    c = q(con, "branch_checks")
    got = sorted(zip(c.branch_id, c.rule))
    # 104 (丙, 2 members) too few; 1101 (60, no committee) two rules; 1102 (120) 党委; 1107 (100) 党总支;
    # 1109 (7, no committee). Not: 1103 (committee unknown), 1104 (after D), 1105 (dissolved on D),
    # 1106 (exactly 50), 1108 (exactly 3).
    assert got == sorted([(104, "too_few"), (1101, "no_committee"), (1101, "over_50"), (1102, "over_100"),
                          (1107, "over_50"), (1109, "no_committee")])
    assert c.branch_id.nunique() == 5
    shown = coverage.check_table(c)
    row = shown[shown["支部"] == "丁支部1102"].iloc[0]
    assert row["违反的规定"] == "党员超过 100 人" and row["应当"] == "应设立党委"


def test_branch_checks_follow_the_as_of_date(con):
    c = q(con, "branch_checks", as_of=_d("2023-07-31"), community="丁社区")
    assert (1105, "too_few") in set(zip(c.branch_id, c.rule))  # in force until it was dissolved on D


# ---------------------------------------------------------------- monthly coverage

def monthly(con, **params):
    return q(con, "coverage_monthly_totals", **params).set_index("month")


def test_monthly_follows_established_and_dissolved_dates(con):
    jia = monthly(con, community="甲社区")
    assert [str(x) for x in jia.index] == ["2023-06-01", "2023-07-01", "2023-08-01"]
    # 202 on 112 counts at June and July month ends, not at D (dissolved on D)
    assert list(jia.buildings_with_group) == [3, 3, 2] and list(jia.groups) == [3, 3, 2]
    assert list(jia.compounds_with_branch) == [1, 1, 1] and list(jia.chain_complete_buildings) == [1, 1, 1]
    ding = monthly(con, community="丁社区")
    # group 1201 from 2023-07-10; lead 1301 from 2023-06-15; branch 1105 until D
    assert list(ding.buildings_with_group) == [0, 1, 1]
    assert list(ding.leads) == [1, 1, 1]
    assert list(ding.chain_complete_buildings) == [0, 1, 1]
    assert list(ding.branches) == [8, 8, 7]


def test_monthly_last_month_equals_coverage_as_of_d(con):
    cols = ["compounds", "compounds_with_branch", "buildings", "buildings_with_group", "chain_complete_buildings",
            "branches", "groups", "leads", "members", "households"]
    reporting = coverage.reporting_ids(q(con, "org_data_by_community"))
    c = q(con, "coverage_by_community").set_index("community_id")
    for cid in reporting:
        name = c.loc[cid, "community"]
        last = monthly(con, community=name).iloc[-1]
        assert [int(last[k]) for k in cols] == [int(c.loc[cid, k]) for k in cols], name


def test_monthly_totals_leave_out_communities_without_organisation_data(con):
    # 乙村 has no organisation record at any date: the street's totals are 甲社区's alone
    street = monthly(con, street="东街道")
    jia = monthly(con, community="甲社区")
    pd.testing.assert_frame_equal(street, jia)


def test_monthly_totals_are_ratios_of_sums(con):
    t = coverage.monthly_totals(q(con, "coverage_monthly_totals", street="东街道")).set_index("month")
    aug = t.loc[_d("2023-08-01")]
    # 甲: compounds 3, buildings 3, households 100
    assert aug.C1 == pytest.approx(1 / 3) and aug.C2 == pytest.approx(2 / 3)
    assert aug.C3 == pytest.approx(3 / 100 * 100) and aug.C4 == pytest.approx(1 / 3)
    ding = coverage.monthly_totals(q(con, "coverage_monthly_totals", community="丁社区"))
    assert ding.C3.isna().all()  # 0 households: not available, never a division by zero
    assert list(ding.C2) == [0.0, 0.5, 0.5]


def test_community_table_worst_first_with_silent_first(con):
    cov = q(con, "coverage_by_community")
    t = coverage.community_table(cov, q(con, "org_data_by_community"), q(con, "branch_checks"))
    # 乙村 never reported; then by C4: 丙 0/1, 甲 1/3, 丁 1/2
    assert list(t["社区"]) == ["乙村", "丙社区", "甲社区", "丁社区"]
    assert t.loc[0, "C1"] == "未报送"
    assert t.loc[2, "C4"] == "33.3%（1/3）" and t.loc[2, "C3"] == "3.00（3/100）"
    assert t.loc[3, "C3"] == "无数据（1/0）"
    assert t.loc[3, "条例问题"] == "4" and t.loc[1, "条例问题"] == "1"  # 丁: 1101, 1102, 1107, 1109; 丙: 104
