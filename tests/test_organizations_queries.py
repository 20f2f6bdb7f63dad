"""Queries and family logic of the 社会组织 page (S1-S6) against the hand-built fixture.

Rows added here (ids >= 1000), on top of tests/fixtures.py. D = 2023-08-31, period 2023-06-01 .. 2023-08-31,
a year before D = 2022-08-31.

  1001 乙村  乙村互助队   邻里互助  founded 2023-07-10                 -> founded in period, no base a year ago
  1002 丙社区 丙合唱团     文体娱乐  2021-03-01, dissolved ON D 2023-08-31 -> dissolved in period, not active at D
  1003 丙社区 丙睦邻会     邻里互助  founded 2022-08-31 (= D minus a year)  -> active a year ago and at D
  1004 丙社区 丙书画社     文体娱乐  founded 2022-09-01                 -> not active a year ago, active at D
  1005 丙社区 丙志愿服务队 志愿服务  founded 2023-06-01 (first day), party-led -> founded in period
  community 1010 丁社区 (西街道, urban, 30 residents): no organisation, no report (empty states)
  setting org_target_urban = 15 from 2023-09-01 (after D: 10 still applies at D)

Per community at D (base rows in tests/fixtures.py):
  甲 (250 residents): S1 = 1 (401); founded 0; dissolved 1 (402 on 07-01); a year ago 1 (401) -> yoy 0/1 = 0
  乙 (0 residents):   S1 = 1 (1001); founded 1; dissolved 0; a year ago 0 -> yoy not available (zero base)
  丙 (120 residents): S1 = 11 + 1003 + 1004 + 1005 = 14; founded 1 (1005); dissolved 1 (1002);
                      a year ago 11 + 1002 + 1003 = 13 -> yoy (14 − 13) / 13 = 7.69%
  丁 (30 residents):  S1 = 0, a year ago 0
  Targets (in force at D): urban 10, rural 5 -> 甲 1 < 10 (gap 9), 乙 1 < 5 (gap 4), 丙 14 >= 10 met,
                      丁 0 < 10 (gap 10) => S3 = 1/4, total gap 9 + 4 + 0 + 10 = 23
  Party-led: 甲 401; 丙 410-414 + 1005 = 6 -> 7 of 16
Selection (all four): S1 = 1 + 1 + 14 + 0 = 16; residents 250 + 0 + 120 + 30 = 400;
  S2 = 16 / 400 × 1000 = 40.0; S5 = 7/16 = 43.75%; founded 2, dissolved 2, net 0;
  a year ago 1 + 0 + 13 + 0 = 14 -> yoy (16 − 14) / 14 = 14.29%

Monthly reports (org_monthly), base: 401 2023-06 (14 units, 20 volunteers, 40 h), 2023-08 (152, 25, 60 h)
  added: 401 2023-09 (160, 30, 70 h) after D -> ignored; 402 2023-06 (8 volunteers, 10 h), dissolved by D;
         1005 2023-07 (5 volunteers, 7.5 h), 2023-08 (volunteers not reported, 2.5 h);
         410 2023-05 (30 volunteers, 50 h) before the period.
  甲: reporting 2 (401, 402), hours 40 + 60 + 10 = 110, volunteers 25 (401's 08; 402 not active at D),
      member units 152
  丙: reporting 1 (1005; 410 reported only before the period), hours 7.5 + 2.5 = 10,
      volunteers 5 (1005's latest report holding a value, 07), member units none
  => reporting 3, hours 120, volunteers 30 -> per 100 residents 30 / 400 × 100 = 7.5, member units 152
"""

from __future__ import annotations

import datetime as dt

import pytest

from governance import db
from governance import organizations as fam
from tests import fixtures
from governance.access import ALL_SCOPE

D = fixtures.D
P = fixtures.PERIOD


def _org(oid, cid, name, typ, founded, dissolved=None, party=False):
    return dict(org_id=oid, community_id=cid, org=name, type=typ, party_led=party,
                founded_on=dt.date.fromisoformat(founded),
                dissolved_on=dt.date.fromisoformat(dissolved) if dissolved else None)


def _rep(oid, month, units=None, vols=None, hours=None):
    return dict(org_id=oid, month=dt.date.fromisoformat(month), member_units=units, volunteers=vols,
                service_hours=hours)


EXTRA = {
    "communities": [dict(community_id=1010, province="测试省", city="测试市", district="测试区", street="西街道",
                         community="丁社区", type="urban", households=10, residents=30, area_km2=0.1)],
    "social_orgs": [
        _org(1001, 2, "乙村互助队", "邻里互助", "2023-07-10"),
        _org(1002, 3, "丙合唱团", "文体娱乐", "2021-03-01", "2023-08-31"),
        _org(1003, 3, "丙睦邻会", "邻里互助", "2022-08-31"),
        _org(1004, 3, "丙书画社", "文体娱乐", "2022-09-01"),
        _org(1005, 3, "丙志愿服务队", "志愿服务", "2023-06-01", party=True),
    ],
    "org_monthly": [
        _rep(401, "2023-09-01", 160, 30, 70.0),
        _rep(402, "2023-06-01", None, 8, 10.0),
        _rep(1005, "2023-07-01", None, 5, 7.5),
        _rep(1005, "2023-08-01", None, None, 2.5),
        _rep(410, "2023-05-01", None, 30, 50.0),
    ],
    "settings": [("org_target_urban", "2023-09-01", 15)],
}


@pytest.fixture
def con(tmp_path):
    path = fixtures.build(tmp_path / "orgs.duckdb", extra=EXTRA)
    c = db.connect(path)
    yield c
    c.close()


def q(con, name, community=None, **kw):
    params = {**fixtures.ALL, **P, "community": community, "search": None, "active_only": True, "org_id": 0, **kw}
    return db.run_query(con, f"organizations/{name}", params, scope=ALL_SCOPE)


def by_name(df):
    return df.set_index("community")


def test_orgs_by_community_counts_and_targets(con):
    df = by_name(q(con, "orgs_by_community"))
    assert df.loc["甲社区", "active_orgs"] == 1  # 402 dissolved 07-01 is gone, 403 founded after D
    assert df.loc["丙社区", "active_orgs"] == 14  # 1002 dissolved on D is no longer active
    assert df.loc["丙社区", "party_led_orgs"] == 6
    assert df.loc["乙村", "target"] == 5 and df.loc["甲社区", "target"] == 10  # rural 5, urban 10


def test_target_in_force_follows_the_setting_date(con):
    sept = dict(start=dt.date(2023, 9, 1), end=dt.date(2023, 9, 30), as_of=dt.date(2023, 9, 30))
    df = by_name(q(con, "orgs_by_community", **sept))
    assert df.loc["丙社区", "target"] == 15 and df.loc["乙村", "target"] == 5
    s = fam.summary(q(con, "orgs_by_community", **sept), q(con, "activity_by_community", **sept))
    # at 09-30 丙 has 14 < 15: no community meets its target; gaps 甲 15 − 1 = 14 (403 founded 09-15 makes 2:
    # 15 − 2 = 13), 乙 5 − 1 = 4, 丙 1, 丁 15 -> 13 + 4 + 1 + 15 = 33
    assert s["S3"].numerator == 0 and s["S3"].denominator == 4
    assert s["S3_gap"].value == 33


def test_activity_flows_year_ago_and_s6(con):
    df = by_name(q(con, "activity_by_community"))
    assert df.loc["甲社区", ["founded", "dissolved", "active_year_ago"]].tolist() == [0, 1, 1]
    assert df.loc["乙村", ["founded", "dissolved", "active_year_ago"]].tolist() == [1, 0, 0]
    assert df.loc["丙社区", ["founded", "dissolved", "active_year_ago"]].tolist() == [1, 1, 13]
    assert df.loc["甲社区", "reporting_orgs"] == 2
    assert df.loc["甲社区", "service_hours"] == pytest.approx(110.0)
    assert df.loc["甲社区", "volunteers"] == 25 and df.loc["甲社区", "member_units"] == 152
    assert df.loc["丙社区", "reporting_orgs"] == 1
    assert df.loc["丙社区", "service_hours"] == pytest.approx(10.0)
    assert df.loc["丙社区", "volunteers"] == 5
    # unreported is not zero
    assert df["member_units"].isna().loc[["乙村", "丙社区", "丁社区"]].all()
    assert df["volunteers"].isna().loc[["乙村", "丁社区"]].all()


def test_summary_of_the_selection(con):
    s = fam.summary(q(con, "orgs_by_community"), q(con, "activity_by_community"))
    assert s["S1"].value == 16
    assert s["S2"].value == pytest.approx(40.0)
    assert (s["S3"].numerator, s["S3"].denominator, s["S3_gap"].value) == (1, 4, 23)
    assert s["S5"].value == pytest.approx(7 / 16)
    assert (s["founded"].value, s["dissolved"].value, s["net"].value) == (2, 2, 0)
    assert s["yoy"].value == pytest.approx(2 / 14) and s["yoy"].denominator == 14
    assert s["volunteers"].value == 30
    assert s["volunteers_per_100"].value == pytest.approx(7.5)
    assert s["member_units"].value == 152
    assert s["service_hours"].value == pytest.approx(120.0)
    assert s["reporting_orgs"].value == 3


def test_year_on_year_with_zero_base_is_not_available(con):
    s = fam.summary(q(con, "orgs_by_community", community="乙村"), q(con, "activity_by_community", community="乙村"))
    assert s["S1"].value == 1 and s["yoy"].denominator == 0
    assert s["yoy"].value is None  # not infinity
    assert s["S2"].value is None  # 0 residents
    assert s["volunteers_per_100"].value is None


def test_ranking_by_s2_with_target_in_s2_terms(con):
    r = fam.ranking(q(con, "orgs_by_community"), q(con, "activity_by_community"))
    # 丙 14 / 120 × 1000 = 116.67; 甲 1 / 250 × 1000 = 4.0; 丁 0 / 30 × 1000 = 0; 乙 not available (last)
    assert r["community"].tolist() == ["丙社区", "甲社区", "丁社区", "乙村"]
    row = r.set_index("community")
    assert row.loc["丙社区", "S2"] == pytest.approx(116.667, abs=1e-3)
    assert row.loc["丙社区", "target_per_1000"] == pytest.approx(10 / 120 * 1000)
    assert row.loc["甲社区", "target_per_1000"] == pytest.approx(40.0)
    assert row.loc["丙社区", "met"] is True and row.loc["甲社区", "met"] is False
    assert row.loc["甲社区", "gap"] == 9 and row.loc["乙村", "gap"] == 4
    assert row.loc["丙社区", "yoy"] == pytest.approx(1 / 13)
    assert row["yoy"].isna().loc["乙村"]
    fig = fam.ranking_figure(r)
    bars = fig.data[0]
    # 乙村 has no S2: not drawn; two streets, so each name carries its street
    assert list(bars.y) == ["丙社区（西街道）", "甲社区（东街道）", "丁社区（西街道）"]
    assert bars.marker.color[0] == fam.MET_COLOR and bars.marker.color[1] == fam.BELOW_COLOR


def test_monthly_by_type_for_one_community(con):
    m = q(con, "monthly_by_type", community="丙社区")
    assert len(m) == 9  # 3 months × 3 types
    cell = {(r.month.month, r.type): (r.founded, r.dissolved, r.active) for r in m.itertuples()}
    assert cell[(6, "志愿服务")] == (1, 0, 1)
    assert cell[(8, "文体娱乐")] == (0, 1, 1)  # 1002 dissolved on 08-31: no longer active at the month's end
    assert cell[(7, "邻里互助")] == (0, 0, 12)
    totals = m.drop_duplicates("month").set_index(m.drop_duplicates("month")["month"].map(lambda d: d.month))
    assert totals["active_total"].to_dict() == {6: 15, 7: 15, 8: 14}  # 14 = S1 of 丙 at D
    assert m["founded"].sum() == 1 and m["dissolved"].sum() == 1  # = activity_by_community's flows


def test_monthly_dissolved_mid_period(con):
    m = q(con, "monthly_by_type", community="甲社区")
    dance = m[m["type"] == "文体娱乐"].set_index(m[m["type"] == "文体娱乐"]["month"].map(lambda d: d.month))
    assert dance["active"].to_dict() == {6: 1, 7: 0, 8: 0}
    assert dance["dissolved"].to_dict() == {6: 0, 7: 1, 8: 0}
    assert set(m["type"]) == {"志愿服务", "文体娱乐"}  # 403 (读书会) founded after D brings no row
    assert q(con, "monthly_by_type", community="丁社区").empty


def test_reporting_orgs_series_and_order(con):
    r = q(con, "reporting_orgs")
    assert r["org_id"].tolist() == [401, 410, 402, 1005]  # member-unit growth first, then latest volunteers
    top = r.iloc[0]
    assert (top["first_member_units"], top["last_member_units"]) == (14, 152)  # the 09 report is after D
    assert list(top["member_units_series"]) == [14, 152]
    assert top["months_reported"] == 2 and top["period_service_hours"] == pytest.approx(100.0)
    ten = r.set_index("org_id").loc[1005]
    assert list(ten["volunteers_series"]) == [5] and list(ten["service_hours_series"]) == [7.5, 2.5]
    assert r.set_index("org_id")["period_service_hours"].isna().loc[410]  # reported only before the period


def test_org_series_stays_inside_the_selection(con):
    s = q(con, "org_series", org_id=401)
    assert [d.month for d in s["month"]] == [6, 8] and s["member_units"].tolist() == [14, 152]
    assert q(con, "org_series", community="丙社区", org_id=401).empty


def test_org_list_status_search_and_latest_report(con):
    active = q(con, "org_list")
    assert len(active) == 16 and active["active"].all()
    everything = q(con, "org_list", active_only=False)
    assert len(everything) == 18  # + 402 and 1002 (dissolved); 403 founded after D never listed
    assert set(everything.loc[~everything["active"], "org_id"]) == {402, 1002}
    found = q(con, "org_list", search="志愿").set_index("org_id")
    assert sorted(found.index) == [401, 1005]
    assert (found.loc[401, "member_units"], found.loc[401, "volunteers"]) == (152, 25)
    assert found.loc[1005, "volunteers"] == 5 and found.loc[1005, "latest_month"] == dt.date(2023, 8, 1)
    assert len(q(con, "org_list", search="")) == 16
    assert q(con, "org_list", search="'; DROP TABLE social_orgs; --").empty
    assert con.execute("SELECT count(*) FROM social_orgs").fetchone()[0] == 19


def test_every_organizations_query_runs_on_the_empty_selection(con):
    for name in ["orgs_by_community", "activity_by_community", "monthly_by_type", "reporting_orgs",
                 "org_series", "org_list"]:
        assert q(con, name, community="不存在的社区").empty, name
