"""queries/compare/*.sql against the hand-built fixture (tests/fixtures.py), answers worked by hand."""

import datetime as dt

import pandas as pd
import pytest

from governance import db
from tests import fixtures
from tests.fixtures import PERIOD
from governance.access import ALL_SCOPE


def test_durations_by_community(fixture_con):
    d = db.run_query(fixture_con, "compare/durations_by_community", PERIOD, scope=ALL_SCOPE).set_index("community_id")
    # 甲社区, received in the period and closed: T1 3 days, T2 20 days, T4 1 day, T6 30 min = 1/48 day
    # (T3 open, T5 received before the period) -> sorted 0.0208, 1, 3, 20
    # median = (1 + 3) / 2 = 2.0; P90 (continuous) at position 0.9 × 3 = 2.7 -> 3 + 0.7 × (20 − 3) = 14.9
    assert d.loc[1, "closed"] == 4
    assert d.loc[1, "median_days"] == pytest.approx(2.0)
    assert d.loc[1, "p90_days"] == pytest.approx(14.9)
    # 丙社区: one ticket closed after exactly 1 day
    assert (d.loc[3, "closed"], d.loc[3, "median_days"], d.loc[3, "p90_days"]) == (1, 1.0, 1.0)
    # 乙村: nothing closed -> 0 and NULL, not 0 days
    assert d.loc[2, "closed"] == 0 and pd.isna(d.loc[2, "median_days"]) and pd.isna(d.loc[2, "p90_days"])


def test_durations_match_the_tickets_page_summary(fixture_con):
    # the same rule as tickets/summary, which gives the selection-wide row
    one = db.run_query(fixture_con, "tickets/summary", {**fixtures.ALL, "community": "甲社区", **PERIOD}, scope=ALL_SCOPE).iloc[0]
    d = db.run_query(fixture_con, "compare/durations_by_community", PERIOD, scope=ALL_SCOPE).set_index("community_id")
    assert d.loc[1, "median_days"] == pytest.approx(one["median_days"])
    assert d.loc[1, "p90_days"] == pytest.approx(one["p90_days"])


def test_peer_features_cover_every_community(tmp_path):
    path = fixtures.build(tmp_path / "f.duckdb", extra={"communities": [
        # a community of another street with no buildings registered and no area
        dict(community_id=1001, province="测试省", city="测试市", district="测试区", street="南街道",
             community="丁社区", type="urban", households=80, residents=200, area_km2=None),
    ]})
    con = db.connect(path)
    try:
        f = db.run_query(con, "compare/peer_features", scope=ALL_SCOPE).set_index("community_id")
    finally:
        con.close()
    assert sorted(f.index) == [1, 2, 3, 1001]
    # buildings: 甲 111, 112, 121 -> 3; 丙 311 -> 1; 乙 and 丁 none -> NULL (unknown, not 0)
    assert f.loc[1, "buildings"] == 3 and f.loc[3, "buildings"] == 1
    assert f[["buildings"]].loc[[2, 1001]].isna().all().all()
    assert (f.loc[1, "households"], f.loc[1, "residents"], f.loc[1, "area_km2"]) == (100, 250, 1.0)
    assert f.loc[2, "type"] == "rural"
