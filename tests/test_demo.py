"""The demonstration database: published figures exact, deterministic, everything flagged."""

import datetime as dt
import hashlib

import pytest

from governance import db
from governance.demo import PUBLISHED_FACTS, STREETS, build_demo_database
from governance.schema import DATA_TABLES
from governance.access import ALL_SCOPE

D = dt.date(2023, 8, 31)
ALL = {"province": None, "city": None, "district": None, "street": None, "community": None}


def q(con, name, **params):
    return db.run_query(con, name, {**ALL, "as_of": D, "start": dt.date(2022, 9, 1), "end": D, **params}, scope=ALL_SCOPE)


def one(con, name, community):
    df = q(con, name, community=community)
    assert len(df) == 1
    return df.iloc[0]


def test_jiangxinyuan_chain_is_exact(demo_con):
    r = one(demo_con, "coverage/coverage_by_community", "江欣苑社区")
    assert (r["branches"], r["groups"], r["leads"]) == (8, 88, 177)
    assert (r["compounds"], r["compounds_with_branch"]) == (8, 8)      # one branch per compound


def test_kangcheng_size_is_exact(demo_con):
    r = one(demo_con, "coverage/coverage_by_community", "康城社区")
    assert r["buildings"] == 286
    c = demo_con.execute("SELECT residents, area_km2 FROM communities WHERE community = '康城社区'").fetchone()
    assert c == (39600, 1.0)


def test_xishan_organisations_and_alliance(demo_con):
    assert one(demo_con, "organizations/orgs_by_community", "西山社区")["active_orgs"] == 43
    units = demo_con.execute("""
        SELECT member_units FROM org_monthly JOIN social_orgs USING (org_id)
        WHERE org = '西山社区爱心联盟' ORDER BY month""").fetchall()
    assert units[0][0] == 14 and units[-1][0] == 152
    assert all(a[0] <= b[0] for a, b in zip(units, units[1:]))


def test_huangmenjie_council_and_practices(demo_con):
    assert demo_con.execute("""
        SELECT max(member_units) FROM org_monthly JOIN social_orgs USING (org_id)
        WHERE org = '黄门街社区区域化党建联席会'""").fetchone()[0] == 9 + 14
    p = q(demo_con, "practices/practices_in_selection")
    by = {(r.community, r.started_on) for r in p.itertuples()}
    assert ("裕园社区", dt.date(2023, 6, 1)) in by          # 信托制物业, 2023-06
    assert ("康城社区", dt.date(2023, 3, 1)) in by          # 美好社区合伙人, 2023-03
    wc = p[p["community"] == "文昌花园社区"]
    assert any("19 部" in t and "40 余场" in t and d.year == 2022 for t, d in zip(wc["practice"], wc["started_on"]))
    assert set(p["source"]) == {"published"}


def test_published_facts_are_listed_for_each_article_community():
    assert {f.community for f in PUBLISHED_FACTS} == {s[4] for s in STREETS}


def test_each_street_has_four_to_eight_communities(demo_con):
    counts = demo_con.execute("SELECT street, count(*) FROM communities GROUP BY street").fetchall()
    assert len(counts) == 6 and all(4 <= n <= 8 for _, n in counts)


def test_every_row_says_where_it_came_from(demo_con):
    for table in DATA_TABLES:
        bad = demo_con.execute(f"SELECT count(*) FROM {table} WHERE source NOT IN ('published', 'simulated')").fetchone()[0]
        assert bad == 0, table
        pub_without_note = demo_con.execute(
            f"SELECT count(*) FROM {table} WHERE source = 'published' AND source_note IS NULL").fetchone()[0]
        assert pub_without_note == 0, table
    # simulated communities are not dressed up as real ones
    assert demo_con.execute("SELECT count(*) FROM communities WHERE source = 'published'").fetchone()[0] == 6
    assert demo_con.execute("SELECT count(*) FROM tickets WHERE source <> 'simulated'").fetchone()[0] == 0


def test_tickets_are_plausible(demo_con):
    months, per_1000 = demo_con.execute("""
        SELECT count(DISTINCT date_trunc('month', received_at)),
               count(*) / count(DISTINCT date_trunc('month', received_at)) / (SELECT sum(residents) FROM communities) * 1000
        FROM tickets""").fetchone()
    assert months == 32                         # 2021-01 .. 2023-08
    assert 1 <= per_1000 <= 10                  # a few per 1,000 residents a month
    # the trust-based property management was followed by far fewer drain tickets in that compound
    before, after = demo_con.execute("""
        SELECT count(*) FILTER (WHERE received_at >= DATE '2022-12-01' AND received_at < DATE '2023-06-01') / 6,
               count(*) FILTER (WHERE received_at >= DATE '2023-06-01') / 3
        FROM tickets JOIN compounds USING (compound_id)
        WHERE compound = '东方新天地花园小区' AND category_l3 = '下水道堵塞'""").fetchone()
    assert after < before / 2


def _fingerprint(path):
    con = db.connect(path, read_only=True)
    try:
        out = {}
        for table in DATA_TABLES:
            rows = con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
            out[table] = hashlib.sha256(repr(rows).encode()).hexdigest()
        return out
    finally:
        con.close()


def test_generator_is_deterministic(tmp_path, demo_db_master):
    build_demo_database(tmp_path / "again.duckdb")
    assert _fingerprint(tmp_path / "again.duckdb") == _fingerprint(demo_db_master)


def test_cli_builds_demo(tmp_path):
    import subprocess
    import sys
    target = tmp_path / "cli.duckdb"
    r = subprocess.run([sys.executable, "-m", "governance", "demo", "--db", str(target)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "已生成演示数据库" in r.stdout and target.exists()
    again = subprocess.run([sys.executable, "-m", "governance", "demo", "--db", str(target)], capture_output=True, text=True)
    assert again.returncode == 1 and "--force" in again.stderr
    usage = subprocess.run([sys.executable, "-m", "governance", "nonsense"], capture_output=True, text=True)
    assert usage.returncode == 2
