"""coverage/coverage_monthly_totals (month masks per building, summed in SQL, province scale) gives
exactly the straightforward answer: the per-community query that crossed every building with every
month (tests/raw_queries/coverage_monthly.sql) summed over the communities that reported organisation
data, on the fixture, the demo and a generated province sample, including periods longer than one
62-month chunk and periods that start or end mid-month."""

import datetime as dt
from pathlib import Path

import pandas as pd

from governance import coverage, db
from governance.province import build_province_database
from governance import access
from governance.access import ALL_SCOPE

RAW = (Path(__file__).resolve().parent / "raw_queries" / "coverage_monthly.sql").read_text(encoding="utf-8")
PERIODS = [
    (dt.date(2023, 6, 1), dt.date(2023, 8, 31)),
    (dt.date(2022, 9, 1), dt.date(2023, 8, 31)),
    (dt.date(2023, 6, 10), dt.date(2023, 7, 20)),
    (dt.date(2014, 2, 15), dt.date(2023, 8, 31)),   # 115 months: two chunks of month bits
    (dt.date(2030, 1, 1), dt.date(2030, 3, 31)),    # after everything
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


def assert_same(con) -> int:
    checked = 0
    for sel in selections(con):
        for start, end in PERIODS:
            p = {**sel, "start": start, "end": end}
            access.set_scope(con, ALL_SCOPE)   # the reference SQL reads the scoped selection too
            rel = con.execute(RAW, {k: p[k] for k in db.sql_params(RAW)})
            want = pd.DataFrame.from_records(rel.fetchall(), columns=[d[0] for d in rel.description])
            # the page's totals query = the straightforward per-community rows summed over reporting communities
            org = db.run_query(con, "coverage/org_data_by_community", p, max_rows=db.SUM_ROWS, scope=ALL_SCOPE)
            totals = coverage.monthly_totals(db.run_query(con, "coverage/coverage_monthly_totals", p, scope=ALL_SCOPE))
            summed = coverage.monthly_totals(coverage.only_reporting(want, coverage.reporting_ids(org)))
            pd.testing.assert_frame_equal(totals, summed, check_dtype=False, obj=f"totals {sel} {start}..{end}")
            checked += len(want)
    return checked


def test_equal_to_the_straightforward_query_on_the_fixture(fixture_con):
    assert assert_same(fixture_con) > 0


def test_equal_to_the_straightforward_query_on_the_demo(demo_con):
    assert assert_same(demo_con) > 0


def test_equal_to_the_straightforward_query_on_a_generated_sample(tmp_path):
    path = tmp_path / "sample.duckdb"
    build_province_database(path, n_communities=80, n_tickets=5_000)
    con = db.connect(path)
    try:
        # the sample dissolves some organisations, so masks with holes are exercised
        assert con.execute("SELECT count(*) FROM building_groups WHERE dissolved_on IS NOT NULL").fetchone()[0] > 0
        assert assert_same(con) > 0
    finally:
        con.close()
