"""Meta-tests: every query file runs and documents itself; every indicator is on the glossary page."""

import re

import pytest

from governance import db
from governance.demo import SETTINGS
from governance.indicators import BULLETIN_RULES, INDICATORS
from tests.fixtures import QUERY_PARAMS
from governance.access import ALL_SCOPE

QUERIES = db.all_query_names()


def header(sql: str) -> str:
    lines = []
    for line in sql.splitlines():
        if not line.startswith("--"):
            break
        lines.append(line)
    return "\n".join(lines)


@pytest.mark.parametrize("name", QUERIES)
def test_every_query_runs_and_documents_its_parameters_and_columns(name, fixture_con):
    sql = db.load_sql(name)
    head = header(sql)
    assert "Parameters:" in head and "Columns:" in head, f"{name}: header must list Parameters and Columns"
    for p in db.sql_params(sql):
        assert f"${p}" in head, f"{name}: parameter ${p} not documented in its header"
    params = QUERY_PARAMS
    missing = db.sql_params(sql) - params.keys() - {"max_rows"}   # $max_rows: bound by the runner
    assert not missing, f"{name}: add a sample value for {missing} to QUERY_PARAMS in tests/fixtures.py"
    df = db.run_query(fixture_con, name, params, scope=ALL_SCOPE)
    for col in df.columns:
        assert re.search(rf"\b{re.escape(col)}\b", head), f"{name}: output column {col} not documented"


def test_there_are_queries_for_each_family():
    areas = {q.split("/")[0] for q in QUERIES}
    assert {"common", "coverage", "organizations", "tickets", "practices", "settings"} <= areas


def test_every_indicator_is_on_the_glossary_page(app):
    at = app("pages/7_glossary.py")
    assert not at.exception
    shown = "\n".join(m.value for m in at.markdown)
    for code, ind in INDICATORS.items():
        assert f"{code} {ind.name}" in shown, code
        assert ind.formula in shown, code


def test_every_bulletin_rule_is_on_the_glossary_page(app):
    at = app("pages/7_glossary.py")
    shown = "\n".join(m.value for m in at.markdown)
    for rule in BULLETIN_RULES.values():
        assert f"**{rule.name}**：{rule.text}" in shown, rule.key


def test_every_setting_is_documented():
    # each setting key the demo ships is explained where a user reads it
    for key, _, _, note in SETTINGS:
        assert note, key
    glossary_text = " ".join(i.formula + i.caveats for i in INDICATORS.values())
    assert "权重" in glossary_text and "目标" in glossary_text
