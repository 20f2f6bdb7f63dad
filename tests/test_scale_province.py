"""The province-scale generator: region tree, volumes, order, determinism, published figures kept."""

import datetime as dt

import pytest

from governance import db
from governance.__main__ import main
from governance.province import PROVINCE, build_province_database
from governance.access import ALL_SCOPE


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    path = tmp_path_factory.mktemp("province") / "p.duckdb"
    result = build_province_database(path, n_communities=150, n_tickets=50_000)
    return path, result


def test_sample_has_a_plausible_region_tree_and_volumes(sample):
    path, result = sample
    con = db.connect(path)
    try:
        assert result["counts"]["communities"] == 150
        # 50,000 requested; hotspots and spreading classes are subtracted beforehand, so within 10%
        assert 45_000 <= result["counts"]["tickets"] <= 55_000
        levels = con.execute(
            "SELECT count(DISTINCT city), count(DISTINCT district), count(DISTINCT street), count(*) "
            "FROM communities WHERE province = ?", [PROVINCE]).fetchone()
        assert levels[0] >= 1 and levels[1] > levels[0] - 1 and levels[2] > levels[1] and levels[3] > levels[2]
        # every community has compounds and buildings, and every ticket's compound is its community's
        assert con.execute("SELECT count(*) FROM communities c WHERE NOT EXISTS "
                           "(SELECT 1 FROM compounds p WHERE p.community_id = c.community_id)").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM tickets t JOIN compounds p USING (compound_id) "
                           "WHERE p.community_id <> t.community_id").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM tickets t JOIN buildings b USING (building_id) "
                           "WHERE b.compound_id <> t.compound_id").fetchone()[0] == 0
        # stored month by month: a period filter skips whole row groups
        months = con.execute("SELECT date_trunc('month', received_at) FROM tickets WHERE ticket_id LIKE 'P%' "
                             "ORDER BY rowid").fetchall()
        assert months == sorted(months)
        assert con.execute("SELECT min(received_at), max(received_at) FROM tickets").fetchone()[1] < dt.datetime(2023, 9, 1)
    finally:
        con.close()


def test_published_figures_survive_at_province_scale(sample):
    path, _ = sample
    con = db.connect(path)
    try:
        p = dict(province=None, city=None, district=None, street="江堤街道", community="江欣苑社区",
                 as_of=dt.date(2023, 8, 31))
        row = db.run_query(con, "coverage/coverage_by_community", p, scope=ALL_SCOPE).iloc[0]
        assert (row["branches"], row["groups"], row["leads"]) == (8, 88, 177)
    finally:
        con.close()


def test_same_seed_same_database(tmp_path, sample):
    _, first = sample
    again = build_province_database(tmp_path / "again.duckdb", n_communities=150, n_tickets=50_000)
    assert again["counts"] == first["counts"]


def test_cli_has_province_scale_and_bench(tmp_path, capsys):
    existing = tmp_path / "x.duckdb"
    existing.write_bytes(b"")
    assert main(["demo", "--scale", "province", "--db", str(existing)]) == 1  # refuses to overwrite
    assert "--force" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--scale", "planet"])
    assert exc.value.code == 2
    assert main(["bench", "--db", str(tmp_path / "missing.duckdb")]) == 1
    assert "demo --scale province" in capsys.readouterr().err
