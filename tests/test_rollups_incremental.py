"""An import that only adds tickets brings the rollups up to date for its new tickets alone
(rollups.add_tickets): every rollup table must then equal a rebuild from scratch, row for row,
including new tickets received before existing ones (whose T8 repeat flag they change), new
categories (which renumber cat_id), tickets at the very time of an existing one (order by
ticket_id), tickets without a compound, several batches in a row, and an update or an undo (which
rebuild whole)."""

from __future__ import annotations

import random

import pytest

from governance import importer, rollups
from governance.importer import writing
from governance.rollups import refresh_rollups
from tests.fixtures import ADMIN

HEAD = "诉求编号,街道,社区,小区,楼栋,一级分类,二级分类,三级分类,受理时间,办结时间"
TABLES = {"ticket_categories": "cat_id", "ticket_repeats": "ALL", "ticket_monthly": "ALL"}
# existing fixture tickets in 甲一小区 (compound 11), 物业管理/设施维修/下水道堵塞:
#   T5 2023-05-31 23:59 (first: not a repeat), T1 06-05, T2 06-10, T4 07-15; C1 in 丙一小区 06-20
PLACES = [("东街道", "甲社区", "甲一小区"), ("东街道", "甲社区", "甲二小区"), ("东街道", "甲社区", ""),
          ("西街道", "丙社区", "丙一小区")]
CATS = [("物业管理", "设施维修", "下水道堵塞"), ("交通出行", "停车管理", "小区停车难"), ("物业管理", "", ""),
        ("市容环境", "垃圾清运", "垃圾未及时清运")]


def rollup_rows(con) -> dict[str, list]:
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY {o}").fetchall() for t, o in TABLES.items()}


def from_scratch(con) -> dict[str, list]:
    """The rollups a full rebuild gives, read in a transaction that is rolled back."""
    cur = con.cursor()
    try:
        cur.execute("BEGIN")
        refresh_rollups(cur, transaction=False)
        rows = rollup_rows(cur)
        cur.execute("ROLLBACK")
    finally:
        cur.close()
    return rows


@pytest.fixture
def added(monkeypatch):
    """The batches whose rollups were brought up to date incrementally."""
    calls = []
    real = rollups.add_tickets

    def spy(con, batch):
        calls.append(batch)
        return real(con, batch)

    monkeypatch.setattr(writing.rollups, "add_tickets", spy)
    return calls


def import_tickets(con, lines, update=False):
    data = ("\n".join([HEAD, *lines]) + "\n").encode("utf-8")
    report, result = importer.import_file(con, "tickets", data, "t.csv", update=update, actor=ADMIN)
    assert result is not None, report.problems[:3]
    return result


def line(tid, place, cat, received, closed=""):
    street, community, compound = place
    return ",".join([tid, street, community, compound, "", *cat, received, closed])


def assert_as_rebuilt(con):
    assert rollups.is_fresh(con)
    got = rollup_rows(con)
    want = from_scratch(con)
    for t in TABLES:
        assert got[t] == want[t], t


def test_new_tickets_before_existing_ones_and_at_their_very_time(fixture_con, added):
    before = rollup_rows(fixture_con)["ticket_repeats"]
    assert sum(r[-1] for r in before) > 0
    import_tickets(fixture_con, [
        line("N1", PLACES[0], CATS[0], "2023-05-01 08:00", "2023-05-02 08:00"),   # 30 days before T5: T5 repeats now
        line("N2", PLACES[0], CATS[0], "2022-12-01 08:00"),                       # > 90 days before anything
        line("A5", PLACES[0], CATS[0], "2023-05-31 23:59", "2023-06-01 10:00"),   # T5's time, id before T5
        line("Z5", PLACES[0], CATS[0], "2023-05-31 23:59"),                       # T5's time, id after T5
        line("D1", PLACES[3], CATS[0], "2023-06-20 09:00", "2023-06-25 09:00"),   # C1's time, id after C1
        line("B1", PLACES[3], CATS[0], "2023-03-22 09:00"),                       # 90 days before C1: counts
        line("N3", PLACES[2], CATS[0], "2023-06-01 09:00"),                       # no compound
        line("N4", PLACES[1], CATS[1], "2023-07-02 09:00"),                       # a new category, sorting first
        line("N5", PLACES[1], CATS[1], "2023-07-02 09:00"),
        line("N6", PLACES[1], CATS[2], "2023-10-01 09:00"),                       # category without l2/l3, a new month
    ])
    assert len(added) == 1
    assert_as_rebuilt(fixture_con)
    # the repeat flags T8 gives, ticket by ticket of 甲一小区 / 丙一小区
    flags = fixture_con.execute(
        "SELECT r.compound_id, r.received_at::VARCHAR, r.closed_at::VARCHAR, r.repeat FROM ticket_repeats r "
        "JOIN ticket_categories k USING (cat_id) WHERE k.category_l2 = '设施维修' AND r.compound_id IN (11, 31) "
        "ORDER BY ALL").fetchall()
    assert [f for f in flags if f[1].startswith("2023-05-31")] == [
        (11, "2023-05-31 23:59:00", "2023-06-01 09:00:00", True),   # T5: N1 30 days before
        (11, "2023-05-31 23:59:00", "2023-06-01 10:00:00", True),   # A5: N1 too
        (11, "2023-05-31 23:59:00", None, True)]                    # Z5
    assert [f for f in flags if f[1].startswith("2023-06-20")] == [
        (31, "2023-06-20 09:00:00", "2023-06-21 09:00:00", True),   # C1: B1 90 days before
        (31, "2023-06-20 09:00:00", "2023-06-25 09:00:00", True)]   # D1: C1 at the same time, before it


def test_a_new_ticket_at_the_time_of_the_first_one_keeps_the_first_by_ticket_id(fixture_con, added):
    import_tickets(fixture_con, [line("D1", PLACES[3], CATS[0], "2023-06-20 09:00", "2023-06-25 09:00"),
                                 line("A1", PLACES[3], CATS[0], "2023-06-20 09:00", "2023-06-26 09:00")])
    assert added and len(added) == 1
    assert_as_rebuilt(fixture_con)
    flags = fixture_con.execute("SELECT closed_at::VARCHAR, repeat FROM ticket_repeats WHERE compound_id = 31 "
                                "ORDER BY ALL").fetchall()
    # A1 < C1 < D1: A1 is the first (no predecessor), the other two follow it at 0 days
    assert flags == [("2023-06-21 09:00:00", True), ("2023-06-25 09:00:00", True), ("2023-06-26 09:00:00", False)]


@pytest.mark.parametrize("seed", range(6))
def test_random_batches_equal_a_rebuild(fixture_con, added, seed):
    rng = random.Random(seed)
    n = 0
    times = ["2023-05-31 23:59", "2023-06-05 09:00", "2023-06-20 09:00", "2023-07-15 09:00"]  # existing tickets' times
    for batch in range(3):
        lines = []
        for _ in range(rng.randint(1, 40)):
            n += 1
            when = rng.choice(times) if rng.random() < 0.2 else (
                f"2023-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:{rng.choice(['00', '30'])}")
            tid = f"{rng.choice('ACNTZ')}{n:03d}"
            lines.append(line(tid, rng.choice(PLACES), rng.choice(CATS), when))
            if rng.random() < 0.3:
                times.append(when)
        import_tickets(fixture_con, lines)
        assert len(added) == batch + 1
        assert_as_rebuilt(fixture_con)


def test_update_and_undo_rebuild_whole_and_stay_equal(fixture_con, added):
    first = import_tickets(fixture_con, [line("N1", PLACES[0], CATS[1], "2023-05-01 08:00")])
    assert len(added) == 1
    # an update (N1 moves) is rebuilt whole
    import_tickets(fixture_con, [line("N1", PLACES[3], CATS[1], "2023-06-01 08:00"),
                                 line("N2", PLACES[3], CATS[1], "2023-06-02 08:00")], update=True)
    assert len(added) == 1
    assert_as_rebuilt(fixture_con)
    second = fixture_con.execute("SELECT max(batch_id) FROM import_batches").fetchone()[0]
    importer.undo(fixture_con, second, actor=ADMIN)
    assert_as_rebuilt(fixture_con)
    importer.undo(fixture_con, first.batch_id, actor=ADMIN)
    assert_as_rebuilt(fixture_con)
    # then the next import is incremental again
    import_tickets(fixture_con, [line("N3", PLACES[0], CATS[0], "2023-05-01 08:00")])
    assert len(added) == 2
    assert_as_rebuilt(fixture_con)


def test_rollups_not_current_before_the_import_are_rebuilt_whole(fixture_con, added):
    fixture_con.execute("UPDATE meta SET value = 'stale' WHERE key = 'rollup_version'")
    import_tickets(fixture_con, [line("N1", PLACES[0], CATS[0], "2023-05-01 08:00")])
    assert not added
    assert_as_rebuilt(fixture_con)
