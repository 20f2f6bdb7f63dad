"""Scope in SQL: every query reads communities through `selected_communities(...)`, which keeps only
those inside the scope set on the query's cursor; a cursor without a scope sees nothing.

On the fixture (tests/fixtures.py): 东街道 holds 甲社区 (1) and 乙村 (2), 西街道 holds 丙社区 (3).
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from governance import access, db
from governance.access import ALL_SCOPE, Scope
from tests.fixtures import QUERY_PARAMS

QUERIES = db.all_query_names()
EAST = Scope("测试省", "测试市", "测试区", "东街道")
WEST = Scope("测试省", "测试市", "测试区", "西街道")
EAST_IDS, WEST_IDS = {1, 2}, {3}
REGION = ["province", "city", "district", "street", "community"]

# Tables whose rows belong to a community (directly or through a parent).
DATA = r"\b(communities|compounds|buildings|branches|building_groups|household_leads|social_orgs|org_monthly|" \
       r"tickets|practices|ticket_monthly|ticket_repeats|monthly_problems)\b"
# Queries that read data tables without the selection macro, and why that reveals nothing of a community.
UNSCOPED = {
    "common/data_range": "only the first and last month of all data (the month pickers' bounds)",
    "bulletin/last_day": "only the latest ticket date of all data (which month is the last complete one)",
}


def _body(sql: str) -> str:
    return re.sub(r"--[^\n]*", "", sql)


@pytest.mark.parametrize("name", QUERIES)
def test_every_query_reads_communities_through_the_scoped_selection(name):
    body = _body(db.load_sql(name))
    if not re.search(DATA, body) or name in UNSCOPED:
        return
    assert "selected_communities(" in body or "ticket_period_counts(" in body, (
        f"{name} reads data tables without selected_communities(...): it would ignore the user's scope")


def test_the_selection_macro_fails_closed_without_a_scope(fixture_con):
    cur = fixture_con.cursor()
    try:
        assert cur.execute("SELECT count(*) FROM selected_communities(NULL, NULL, NULL, NULL, NULL)").fetchone()[0] == 0
        access.set_scope(cur, ALL_SCOPE)
        assert cur.execute("SELECT count(*) FROM selected_communities(NULL, NULL, NULL, NULL, NULL)").fetchone()[0] == 3
        access.set_scope(cur, EAST)
        ids = {r[0] for r in cur.execute("SELECT community_id FROM selected_communities(NULL, NULL, NULL, NULL, NULL)").fetchall()}
        assert ids == EAST_IDS
    finally:
        cur.close()


def _ids(df: pd.DataFrame) -> set[int]:
    return set(df["community_id"].dropna().astype(int)) if "community_id" in df else set()


@pytest.mark.parametrize("name", QUERIES)
@pytest.mark.parametrize("scope,inside,outside", [(EAST, EAST_IDS, WEST_IDS), (WEST, WEST_IDS, EAST_IDS)])
def test_every_query_returns_only_communities_inside_the_scope(name, scope, inside, outside, fixture_con):
    df = db.run_query(fixture_con, name, QUERY_PARAMS, max_rows=db.SUM_ROWS, scope=scope)
    assert not (_ids(df) & outside), f"{name} returned communities outside {scope.label()}"
    for level in ("street", "community"):
        if level in df:
            names = set(df[level].dropna())
            out_names = {"西街道", "丙社区"} if scope is EAST else {"东街道", "甲社区", "乙村"}
            assert not (names & out_names), f"{name} shows {names & out_names} outside {scope.label()}"


@pytest.mark.parametrize("name", [q for q in QUERIES if {"province", "street"} <= db.sql_params(db.load_sql(q))])
def test_a_scope_gives_what_the_same_region_filter_gives(name, fixture_con):
    """A viewer of 东街道 looking at everything sees exactly what an admin sees filtering on 东街道:
    rankings, totals and peer groups count only communities inside the scope."""
    scoped = db.run_query(fixture_con, name, QUERY_PARAMS, max_rows=db.SUM_ROWS, scope=EAST)
    filtered = db.run_query(fixture_con, name, {**QUERY_PARAMS, **dict(zip(REGION, EAST.values()))},
                            max_rows=db.SUM_ROWS, scope=ALL_SCOPE)
    pd.testing.assert_frame_equal(scoped.reset_index(drop=True), filtered.reset_index(drop=True), check_dtype=False)


@pytest.mark.parametrize("name", [q for q in QUERIES if {"province", "street"} <= db.sql_params(db.load_sql(q))])
def test_a_filter_outside_the_scope_returns_nothing_of_it(name, fixture_con):
    """?street=西街道 asked by a viewer of 东街道: none of 西街道's rows (the page also clamps and warns)."""
    df = db.run_query(fixture_con, name, {**QUERY_PARAMS, "street": "西街道"}, max_rows=db.SUM_ROWS, scope=EAST)
    assert not (_ids(df) & WEST_IDS)
    everything = db.run_query(fixture_con, name, {**QUERY_PARAMS, "street": "西街道"}, max_rows=db.SUM_ROWS,
                              scope=ALL_SCOPE)
    empty_like = db.run_query(fixture_con, name, {**QUERY_PARAMS, "street": "无此街道"}, max_rows=db.SUM_ROWS,
                              scope=ALL_SCOPE)
    # what a viewer of 东街道 gets for 西街道 is what anyone gets for a street with no communities
    pd.testing.assert_frame_equal(df.reset_index(drop=True), empty_like.reset_index(drop=True), check_dtype=False)
    assert len(everything.columns) == len(df.columns)


def test_lineage_counts_only_rows_inside_the_scope(fixture_con):
    east = db.run_query(fixture_con, "common/lineage", scope=EAST).set_index(["table_name", "source"])["rows"]
    west = db.run_query(fixture_con, "common/lineage", scope=WEST).set_index(["table_name", "source"])["rows"]
    every = db.run_query(fixture_con, "common/lineage", scope=ALL_SCOPE).set_index(["table_name", "source"])["rows"]
    assert east.get(("communities", "simulated"), 0) == 2 and west.get(("communities", "simulated"), 0) == 1
    assert (east.add(west, fill_value=0) == every.reindex(east.index.union(west.index)).fillna(0)).all()


@pytest.mark.parametrize("text,expected", [
    ("全部", ALL_SCOPE),
    ("东街道", EAST),
    ("测试省/测试市/测试区/西街道", WEST),
    ("丙社区", Scope("测试省", "测试市", "测试区", "西街道", "丙社区")),
    ("测试区", Scope("测试省", "测试市", "测试区")),
])
def test_scope_text_resolves_paths_and_unique_names(text, expected, fixture_con):
    communities = db.run_query(fixture_con, "common/communities", scope=ALL_SCOPE)
    assert access.parse_scope(text, communities) == expected


@pytest.mark.parametrize("text,message", [
    ("北街道", "不存在"),
    ("测试省/测试市/测试区/北街道", "不存在"),
    ("测试省//东街道", "格式不对"),
    ("", "不能为空"),
])
def test_unknown_scopes_are_refused_in_chinese(text, message, fixture_con):
    communities = db.run_query(fixture_con, "common/communities", scope=ALL_SCOPE)
    with pytest.raises(access.AccessError, match=message):
        access.parse_scope(text, communities)


def test_an_ambiguous_name_asks_for_the_path():
    communities = pd.DataFrame([["甲省", "甲市", "一区", "新华街道", "A"], ["乙省", "乙市", "二区", "新华街道", "B"]],
                               columns=REGION)
    with pytest.raises(access.AccessError, match="不唯一.*甲省/甲市/一区/新华街道"):
        access.parse_scope("新华街道", communities)


@pytest.mark.parametrize("role,action,ok", [
    ("viewer", "view", True), ("viewer", "import", False), ("viewer", "undo", False),
    ("editor", "import", True), ("editor", "undo", True), ("editor", "manage_users", False),
    ("editor", "remove_demo", False), ("admin", "manage_users", True), ("admin", "remove_demo", True),
    ("viewer", "adopt_problem", False), ("editor", "adopt_problem", True), ("admin", "adopt_problem", True),
])
def test_roles_allow_their_actions_only(role, action, ok):
    actor = access.Actor("x@example.org", "X", role)
    assert access.allowed(actor, action).ok is ok


def test_writes_are_off_on_a_network_address_without_sign_in():
    assert access.local_actor("127.0.0.1").writes_disabled is None
    assert access.local_actor("localhost").writes_disabled is None
    for address in ("0.0.0.0", "", None, "192.0.2.10", "::"):
        actor = access.local_actor(address)
        assert not access.allowed(actor, "import").ok and access.allowed(actor, "view").ok
        assert "写入操作已停用" in access.allowed(actor, "undo").reason
