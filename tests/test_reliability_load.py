"""Many viewers and an import at once: a page never mixes data from before and after an import,
every session sees the new data without a restart, and a small version of the load drill
(governance/load.py; the full one is `python scripts/load_test.py`) runs with no errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from governance import db, importer, load, runtime
from governance.access import ALL_SCOPE
from tests.fixtures import ADMIN

ROOT = Path(__file__).resolve().parent.parent
N = 40  # tickets imported in the middle of a page run


def t1_card_and_bars(at) -> tuple[int, int]:
    """T1 on the headline card (tickets/rates_by_community) and the sum of the monthly bars
    (tickets/monthly): two queries of the same run."""
    card = next(int(m.value.replace(",", "")) for m in at.metric if m.label == "T1 诉求量")
    for chart in at.get("plotly_chart"):
        for trace in json.loads(chart.proto.spec)["data"]:
            if trace.get("type") == "bar" and trace.get("name", "").startswith("诉求量"):
                return card, int(round(sum(load._array(trace["y"]))))
    raise AssertionError("no monthly bars")


@pytest.fixture
def own_db(demo_db_master, tmp_path, monkeypatch):
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db_master, path)
    monkeypatch.setenv("GOVERNANCE_DB", str(path))
    csv_path = load.write_ticket_csv(path, tmp_path / "诉求.csv", N, prefix="MID")
    runtime._cached.clear()
    yield path, csv_path.read_bytes()
    runtime._cached.clear()


def test_an_import_committing_mid_run_never_shows_a_mix(own_db, monkeypatch):
    """The import commits after the headline card was computed and before the monthly chart is:
    the run starts again and the whole page shows the new data."""
    path, data = own_db
    real = db.run_query
    state = {"imported": False, "runs_of_monthly": 0}

    def import_between_queries(con, name, params=None, *a, **kw):
        if name == "tickets/monthly":
            state["runs_of_monthly"] += 1
            if not state["imported"]:
                state["imported"] = True
                _, batch = importer.import_file(con, "tickets", data, "诉求.csv", actor=ADMIN)
                assert batch is not None and batch.added == N
        return real(con, name, params, *a, **kw)

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/4_tickets.py").run()
    before_card, before_bars = t1_card_and_bars(at)
    assert before_card == before_bars

    runtime._cached.clear()                              # make the next run query the database again
    monkeypatch.setattr(db, "run_query", import_between_queries)
    at.run()
    assert not at.exception
    card, bars = t1_card_and_bars(at)
    assert card == bars == before_card + N                       # one page, one version of the data
    assert state["imported"] and state["runs_of_monthly"] >= 2   # the interrupted run was started again


def test_a_result_is_never_filed_under_another_data_version(own_db):
    path, data = own_db
    con = db.connect(path)
    try:
        version = db.data_version(con)
        importer.import_file(con, "tickets", data, "诉求.csv", actor=ADMIN)
        with pytest.raises(db.DataChanged):
            db.run_query(con, "tickets/monthly", {**load_params(), }, version=version, scope=ALL_SCOPE)
        assert not db.run_query(con, "tickets/monthly", load_params(), version=db.data_version(con), scope=ALL_SCOPE).empty
    finally:
        con.close()


def test_readers_see_the_data_before_until_the_import_commits(own_db):
    path, data = own_db
    con = db.connect(path)
    try:
        count = lambda: int(db.run_query(con, "tickets/monthly", load_params(), scope=ALL_SCOPE)["tickets"].sum())  # noqa: E731
        before = count()
        writer = con.cursor()
        writer.execute("BEGIN")
        report = importer.validate(writer, "tickets", data, "诉求.csv", scope=ALL_SCOPE)
        importer._write(writer, report, "test")
        assert count() == before                         # uncommitted rows are invisible to readers
        writer.execute("COMMIT")
        writer.close()
        assert count() == before + N
    finally:
        con.close()


def load_params() -> dict:
    import datetime as dt

    return {"province": None, "city": None, "district": None, "street": None, "community": None,
            "start": dt.date(2022, 9, 1), "end": dt.date(2023, 8, 31), "as_of": dt.date(2023, 8, 31)}


@pytest.mark.browser
def test_small_load_run_with_an_import(demo_db_master):
    """6 sessions × 1 round through every page while 3,000 tickets are imported on the data page."""
    f = load.run(sessions=6, rounds=1, import_rows=3000, db_source=demo_db_master, think=0.1)
    print(load.report(f))
    assert f["errors"] == []
    assert f["renders"] == 6 * len(f["pages"])
    assert f["mixed_or_wrong_reads"] == []
    assert f["sessions_seeing_new_data"] == 6 and f["stale_sessions"] == []
    assert f["reads_checked"] >= 12
    assert f["peak_rss_mb"] > 0


@pytest.mark.browser
def test_many_first_visits_right_after_a_server_start_all_get_the_page(demo_db_master, tmp_path):
    """30 sessions open the tickets page at once on a fresh server. Before ui.frame_guard looked at
    its own call stack, some of them (2 of 3 trials) got "还没有可显示的数据" instead of the page."""
    import asyncio

    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db_master, path)
    proc, base = load.start_server(path, tmp_path / "server.log")

    async def visit():
        viewers = [load.Viewer(base, "") for _ in range(30)]
        for v in viewers:
            await v.open()
        renders = await asyncio.gather(*(v.render("tickets") for v in viewers))
        for v in viewers:
            await v.close()
        return renders

    try:
        renders = load._run_async(visit())
    finally:
        load.stop_server(proc)
    empty = [r.alerts for r in renders if "T1 诉求量" not in r.metrics]
    assert empty == [] and [r.errors for r in renders if r.errors] == []
