"""The foundation's queries and indicator arithmetic on the hand-built fixture (answers in tests/fixtures.py)."""

import datetime as dt

import pytest

from governance import db, metrics
from tests.fixtures import ALL, D, PERIOD
from governance.access import ALL_SCOPE


def run(con, name, **params):
    return db.run_query(con, name, {**ALL, **PERIOD, **params}, scope=ALL_SCOPE)


def by_name(df):
    return {r["community"]: r for r in df.to_dict("records")}


def test_coverage_counts_respect_established_and_dissolved_dates(fixture_con):
    rows = by_name(run(fixture_con, "coverage/coverage_by_community"))
    a = rows["甲社区"]
    # 3 compounds, only 甲一小区's branch is in force at D (102 starts after D, 103 dissolved before)
    assert (a["compounds"], a["compounds_with_branch"]) == (3, 1)
    # group 202 dissolved on D itself is no longer in force
    assert (a["buildings"], a["buildings_with_group"]) == (3, 2)
    # only building 111 has branch + group + lead; 121 has group and lead but its compound has no branch
    assert a["chain_complete_buildings"] == 1
    assert (a["branches"], a["groups"], a["leads"], a["members"]) == (1, 2, 3, 5)
    assert rows["乙村"]["compounds"] == 0 and rows["乙村"]["buildings"] == 0


def test_coverage_indicators_and_not_available(fixture_con):
    df = run(fixture_con, "coverage/coverage_by_community", street="东街道")
    c = metrics.coverage(df)
    assert c["C1"].value == pytest.approx(1 / 3)
    assert c["C2"].value == pytest.approx(2 / 3)
    assert c["C3"].value == pytest.approx(3.0)          # 3 leads / 100 households × 100
    assert c["C4"].value == pytest.approx(1 / 3)
    only_b = metrics.coverage(run(fixture_con, "coverage/coverage_by_community", community="乙村"))
    assert only_b["C1"].value is None and only_b["C3"].value is None   # no compounds, 0 households


def test_coverage_before_an_entity_existed(fixture_con):
    # at 2021-12-31 no branch of 甲社区 is in force except 103 (2021-01-01 .. 2023-03-01) on 甲三小区
    a = by_name(run(fixture_con, "coverage/coverage_by_community", as_of=dt.date(2021, 12, 31)))["甲社区"]
    assert (a["compounds_with_branch"], a["branches"], a["groups"], a["leads"]) == (1, 1, 0, 0)


def test_organisations_active_at_as_of_and_targets(fixture_con):
    rows = by_name(run(fixture_con, "organizations/orgs_by_community"))
    assert (rows["甲社区"]["active_orgs"], rows["甲社区"]["party_led_orgs"], rows["甲社区"]["target"]) == (1, 1, 10)
    assert (rows["乙村"]["active_orgs"], rows["乙村"]["target"]) == (0, 5)
    assert (rows["丙社区"]["active_orgs"], rows["丙社区"]["party_led_orgs"]) == (11, 5)
    s = metrics.organisations(run(fixture_con, "organizations/orgs_by_community", community="丙社区"))
    assert s["S2"].value == pytest.approx(11 / 120 * 1000)
    assert s["S3"].value == 1.0
    # 402 was active mid-period (2023-05-01 .. 2023-07-01)
    june = by_name(run(fixture_con, "organizations/orgs_by_community", as_of=dt.date(2023, 6, 15)))
    assert june["甲社区"]["active_orgs"] == 2


def test_ticket_rates_by_hand(fixture_con):
    a = by_name(run(fixture_con, "tickets/rates_by_community"))["甲社区"]
    assert (a["tickets"], a["followups"], a["contacted"], a["solved"]) == (5, 4, 3, 2)
    assert a["satisfied"] == pytest.approx(1.6)       # 1 + 0 + 0.6
    assert (a["closed"], a["closed_on_time"]) == (4, 3)
    weights = metrics.score_weights(run(fixture_con, "settings/in_force"))
    assert weights == {"score_weight_contacted": 0.30, "score_weight_solved": 0.35, "score_weight_satisfied": 0.35}
    t = metrics.tickets(run(fixture_con, "tickets/rates_by_community", community="甲社区"), weights)
    assert t["T2"].value == pytest.approx(0.75)
    assert t["T3"].value == pytest.approx(0.50)
    assert t["T4"].value == pytest.approx(0.40)
    assert t["T5"].value == pytest.approx(0.80)
    assert t["T5t"].value == pytest.approx(0.75)
    assert t["T9"].value == pytest.approx(54.0)
    assert t["T1k"].value == pytest.approx(5 / 250 * 1000)


def test_ticket_rates_not_available_without_followups(fixture_con):
    t = metrics.tickets(run(fixture_con, "tickets/rates_by_community", community="乙村"), None)
    assert t["T1"].value == 0
    assert t["T2"].value is None and t["T3"].value is None and t["T4"].value is None and t["T9"].value is None


def test_weights_in_force_follow_effective_dates(fixture_con):
    # a period ending 2023-06-30 uses the 2021 weights: history is not rewritten by the 2023-07 change
    settings = run(fixture_con, "settings/in_force", as_of=dt.date(2023, 6, 30))
    w = metrics.score_weights(settings)
    assert w == {"score_weight_contacted": 0.1, "score_weight_solved": 0.5, "score_weight_satisfied": 0.4}
    t = metrics.tickets(run(fixture_con, "tickets/rates_by_community", community="丙社区",
                            end=dt.date(2023, 6, 30)), w)
    assert t["T9"].value == pytest.approx(100.0)
    # the 基本满意 weight 0.5 from 2023-09-01 applies only to periods ending after it
    later = by_name(run(fixture_con, "tickets/rates_by_community", end=dt.date(2023, 9, 30)))["甲社区"]
    assert later["satisfied"] == pytest.approx(1.5)


def test_filters_select_by_region(fixture_con):
    assert set(run(fixture_con, "coverage/coverage_by_community", street="西街道")["community"]) == {"丙社区"}
    assert len(run(fixture_con, "coverage/coverage_by_community", province="测试省")) == 3
    # text from a URL is only ever a bound value
    assert run(fixture_con, "coverage/coverage_by_community", community="' OR 1=1 --").empty


def test_practices_data_range_and_lineage(fixture_con):
    p = run(fixture_con, "practices/practices_in_selection")
    assert list(p["practice"]) == ["甲一小区管网改造"]
    r = run(fixture_con, "common/data_range").iloc[0]
    assert (r["first_month"], r["last_month"]) == (dt.date(2023, 5, 1), dt.date(2023, 9, 1))
    lineage = run(fixture_con, "common/lineage")
    assert int(lineage.query("table_name == 'tickets'")["rows"].sum()) == 7
    assert set(lineage["source"]) == {"simulated"}


def test_community_table_matches_selection_metrics(fixture_con):
    cov = run(fixture_con, "coverage/coverage_by_community")
    org = run(fixture_con, "organizations/orgs_by_community")
    tix = run(fixture_con, "tickets/rates_by_community")
    w = metrics.score_weights(run(fixture_con, "settings/in_force"))
    t = metrics.community_table(cov, org, tix, w).set_index("community")
    assert t.loc["甲社区", "C1"] == pytest.approx(1 / 3)
    assert t.loc["甲社区", "T9"] == pytest.approx(54.0)
    assert t.loc["乙村", "C1"] != t.loc["乙村", "C1"]     # NaN: not available, not 0
    assert bool(t.loc["丙社区", "S3"]) is True and bool(t.loc["甲社区", "S3"]) is False


def test_row_cap(fixture_con):
    df = db.run_query(fixture_con, "common/communities", {}, max_rows=2, scope=ALL_SCOPE)
    assert len(df) == 2 and df.attrs["capped"] is True
    assert db.run_query(fixture_con, "common/communities", {}, scope=ALL_SCOPE).attrs["capped"] is False
