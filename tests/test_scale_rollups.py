"""Rollups give the same answers as the raw tickets: on the hand-built fixture, on the demo and on
a generated province sample, for aligned and unaligned periods and every level of selection.

The references are the ticket queries as they were before the rollups (tests/raw_queries/), run
on the same database."""

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from governance import db
from governance.province import build_province_database
from governance.rollups import ensure_fresh, is_fresh, refresh_rollups
from tests import fixtures
from governance import access
from governance.access import ALL_SCOPE

RAW = Path(__file__).resolve().parent / "raw_queries"
QUERIES = ["rates_by_community", "by_category", "monthly", "summary", "spreading", "recurring_pairs"]
PERIODS = [
    (dt.date(2023, 6, 1), dt.date(2023, 8, 31)),    # the fixture's period, whole months
    (dt.date(2022, 9, 1), dt.date(2023, 8, 31)),    # the pages' default
    (dt.date(2023, 6, 10), dt.date(2023, 8, 20)),   # partial months at both edges
    (dt.date(2023, 6, 10), dt.date(2023, 6, 20)),   # inside one month
    (dt.date(2023, 6, 1), dt.date(2023, 7, 15)),    # partial last month only
    (dt.date(2021, 1, 1), dt.date(2023, 8, 31)),    # everything
]


def selections(con) -> list[dict]:
    none = dict(province=None, city=None, district=None, street=None, community=None)
    out = [none]
    for province, city, street, community in con.execute(
            "SELECT province, city, street, community FROM communities ORDER BY residents DESC NULLS LAST LIMIT 2").fetchall():
        out += [{**none, "province": province, "city": city},
                {**none, "province": province, "street": street},
                {**none, "province": province, "street": street, "community": community}]
    return out


def assert_same_answers(con):
    checked = 0
    for sel in selections(con):
        for start, end in PERIODS:
            p = {**sel, "start": start, "end": end, "as_of": end, "min_communities": 2, "top": 10}
            for q in QUERIES:
                raw_sql = (RAW / f"{q}.sql").read_text(encoding="utf-8")
                access.set_scope(con, ALL_SCOPE)   # the reference SQL reads the scoped selection too
                rel = con.execute(raw_sql, {k: p[k] for k in db.sql_params(raw_sql)})
                rows = rel.fetchall()  # built the way db.run_query builds its frames
                want = pd.DataFrame.from_records(rows, columns=[d[0] for d in rel.description])
                # through the runner, as pages see it: recurring_pairs reads details for the worst
                # max_rows + 1 pairs only, so the first MAX_ROWS rows and the cap flag must agree
                got = db.run_query(con, f"tickets/{q}", p, scope=ALL_SCOPE)
                assert got.attrs["capped"] == (len(want) > db.MAX_ROWS), q
                want = want.iloc[:db.MAX_ROWS]
                pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True),
                                              check_dtype=False, rtol=1e-12, obj=f"{q} {sel} {start}..{end}")
                checked += 1
            # the tickets page shows the worst few pairs only: the same first rows, and the cap flag
            few = db.run_query(con, "tickets/recurring_pairs", p, max_rows=3, scope=ALL_SCOPE)
            raw_sql = (RAW / "recurring_pairs.sql").read_text(encoding="utf-8")
            access.set_scope(con, ALL_SCOPE)
            ref = con.execute(raw_sql, {k: p[k] for k in db.sql_params(raw_sql)})
            ref_rows = ref.fetchall()
            want = pd.DataFrame.from_records(ref_rows[:3], columns=[d[0] for d in ref.description])
            assert few.attrs["capped"] == (len(ref_rows) > 3)
            pd.testing.assert_frame_equal(few.reset_index(drop=True), want, check_dtype=False, rtol=1e-12)
    return checked


def test_rollup_answers_equal_raw_answers_on_the_fixture(fixture_con):
    assert is_fresh(fixture_con)  # db.connect built them for the fixture, which never called refresh
    assert assert_same_answers(fixture_con) == len(QUERIES) * len(PERIODS) * len(selections(fixture_con))
    # fixture arithmetic (tests/fixtures.py): 甲社区 in 2023-06..08: 5 tickets, 4 follow-ups, satisfied
    # 1 + 0 + 0.6 = 1.6 counted as 1 × 非常满意 + 1 × 基本满意 (+ 1 × 不满意 at weight 0) in the rollup
    r = fixture_con.execute(
        "SELECT sum(tickets), sum(followups), sum(sat_1), sum(sat_3), sum(sat_4), sum(closed), sum(closed_on_time) "
        "FROM ticket_monthly WHERE community_id = 1 AND month BETWEEN '2023-06-01' AND '2023-08-01'").fetchone()
    assert tuple(int(x) for x in r) == (5, 4, 1, 1, 1, 4, 3)


def test_rollup_answers_equal_raw_answers_on_the_demo(demo_con):
    assert assert_same_answers(demo_con) > 0


@pytest.fixture(scope="module")
def province_sample(tmp_path_factory):
    path = tmp_path_factory.mktemp("province") / "sample.duckdb"
    build_province_database(path, n_communities=120, n_tickets=60_000)
    return path


def test_rollup_answers_equal_raw_answers_on_a_generated_sample(province_sample):
    con = db.connect(province_sample)
    try:
        assert assert_same_answers(con) > 0
    finally:
        con.close()


def test_a_write_without_refresh_is_repaired_on_open_and_refresh_counts_the_new_ticket(tmp_path):
    path = fixtures.build(tmp_path / "f.duckdb")
    con = db.connect(path)
    before = con.execute("SELECT sum(tickets) FROM ticket_monthly").fetchone()[0]
    con.execute("INSERT INTO tickets (ticket_id, community_id, category_l1, received_at) "
                "VALUES ('X1000', 3, '市容环境', '2023-07-02 10:00:00')")
    con.execute("UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) WHERE key = 'data_version'")
    assert not is_fresh(con)
    con.close()
    con = db.connect(path)  # a writer that forgot refresh_rollups: repaired when opened
    assert is_fresh(con)
    assert con.execute("SELECT sum(tickets) FROM ticket_monthly").fetchone()[0] == before + 1
    assert ensure_fresh(con) is False  # nothing to do now
    refresh_rollups(con)
    assert is_fresh(con)
    con.close()


def test_a_database_without_the_period_macro_gets_it_on_open_without_a_rebuild(tmp_path):
    # as written by the previous version: rollup tables current, ticket_period_counts missing
    path = fixtures.build(tmp_path / "f.duckdb")
    con = db.connect(path)
    con.execute("DROP MACRO TABLE ticket_period_counts")
    con.execute("DELETE FROM ticket_monthly WHERE community_id = 1")  # a marker a rebuild would undo
    marker = con.execute("SELECT count(*) FROM ticket_monthly").fetchone()[0]
    assert not is_fresh(con)
    con.close()
    con = db.connect(path)
    assert is_fresh(con)
    assert con.execute("SELECT count(*) FROM ticket_monthly").fetchone()[0] == marker  # tables not rebuilt
    assert len(db.run_query(con, "tickets/monthly", {**fixtures.ALL, **fixtures.PERIOD}, scope=ALL_SCOPE)) == 3
    con.close()
