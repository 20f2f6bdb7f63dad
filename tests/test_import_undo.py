"""All or nothing, undo, lineage and the round trip of the demonstration data."""

from __future__ import annotations

import random

import pytest

from governance import db, exports, importer
from governance.schema import DATA_TABLES
from tests import fixtures
from governance.access import ALL_SCOPE
from tests.fixtures import ADMIN

TICKET_HEAD = "诉求编号,街道,社区,小区,楼栋,一级分类,受理时间,办结时间,回访联系上,满意度"
PARAMS = fixtures.QUERY_PARAMS


def snapshot(con, batches: bool = True) -> bytes:
    """Every data table (ordered by key) and every query result, as bytes."""
    out = []
    for t in DATA_TABLES + (["import_batches"] if batches else []):
        out.append(con.execute(f"SELECT * FROM {t} ORDER BY ALL").df().to_csv(index=False))
    for name in db.all_query_names():
        if name == "data/batches" or name.startswith("access/"):   # the logs of who did what
            continue
        out.append(name + db.run_query(con, name, PARAMS, scope=ALL_SCOPE).to_csv(index=False))
    return "\n".join(out).encode()


def data_snapshot(con) -> bytes:
    return "\n".join(con.execute(f"SELECT * FROM {t} ORDER BY ALL").df().to_csv(index=False)
                     for t in DATA_TABLES).encode()


def csv_bytes(*lines) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


GOOD = [
    "N{i},东街道,甲社区,甲一小区,1号楼,物业管理,2023-06-0{d} 09:00,2023-06-0{d} 18:00,是,满意",
    "N{i},东街道,甲社区,,,市容环境,2023/7/{d},,,",
    "N{i},西街道,丙社区,丙一小区,1号楼,噪声扰民,2023年8月{d}日,,否,",
]
# each bad line and the problem it must cause
BAD = [
    ("N{i},东街道,甲社区,,,物业管理,2023-02-30,,,", "日期不存在（月份或日子超出范围）"),
    ("N{i},东街道,无名社区,,,物业管理,2023-06-01,,,", "在“东街道”下找不到这个社区"),
    ("N{i},东街道,甲社区,,,物业管理,2023-06-05,2023-06-01,,", "办结时间早于受理时间"),
    ("N{i},东街道,甲社区,甲九小区,,物业管理,2023-06-05,,,", "在该社区下找不到这个小区"),
    ("N{i},东街道,甲社区,,,物业管理,2023-06-05,,也许,", "无法识别的是/否"),
    ("T1,东街道,甲社区,,,物业管理,2023-06-05,,,", "数据库中已有这条记录（诉求编号相同）"),
    ("N{i},东街道,甲社区,,,物业管理,2023-06-05,,,很好", "无法识别的满意度"),
]


@pytest.mark.parametrize("seed", range(12))
def test_any_mix_of_good_and_bad_rows_writes_nothing(fixture_con, seed):
    rng = random.Random(seed)
    before = snapshot(fixture_con)
    lines, bad_rows = [], {}
    for k in range(rng.randint(1, 40)):
        if rng.random() < 0.8 or bad_rows:
            lines.append(rng.choice(GOOD).format(i=k, d=rng.randint(1, 9)))
        if rng.random() < 0.2 or (k == 0 and not bad_rows):
            line, message = rng.choice(BAD)
            if line.startswith("T1") and any(x.startswith("T1") for x in lines):
                continue  # a second T1 is a duplicate within the file: another message
            lines.append(line.format(i=f"B{k}"))
            bad_rows[len(lines) + 1] = message  # +1: the header is Excel row 1
    report, result = importer.import_file(fixture_con, "tickets", csv_bytes(TICKET_HEAD, *lines), f"mix{seed}.csv", actor=ADMIN)
    assert result is None
    assert {p.row: p.message for p in report.problems} == bad_rows
    assert snapshot(fixture_con) == before


def test_undo_restores_byte_identical_results(fixture_con):
    snapshot_before = snapshot(fixture_con, batches=False)
    # updates T1 (stored) and adds N1; then adds a compound
    data = csv_bytes(TICKET_HEAD, "T1,东街道,甲社区,甲二小区,1号楼,市容环境,2023-06-05 09:00,,否,",
                     "N1,西街道,丙社区,,,物业管理,2023-07-01,2023-07-02,是,非常满意")
    report, first = importer.import_file(fixture_con, "tickets", data, "t.csv", update=True, actor=ADMIN)
    assert (first.added, first.updated) == (1, 1)
    after_first = data_snapshot(fixture_con)
    assert snapshot(fixture_con, batches=False) != snapshot_before
    t1 = fixture_con.execute("SELECT category_l1, compound_id, source, batch_id FROM tickets WHERE ticket_id = 'T1'").fetchall()
    assert t1 == [("市容环境", 12, "import", first.batch_id)]
    _, second = importer.import_file(fixture_con, "compounds", csv_bytes("街道,社区,小区,户数", "东街道,甲社区,甲四小区,20"), "c.csv", actor=ADMIN)

    assert "第 2 批" in importer.undo(fixture_con, second.batch_id, actor=ADMIN)
    batches_after = fixture_con.execute("SELECT batch_id, undone_at IS NOT NULL FROM import_batches ORDER BY 1").fetchall()
    assert batches_after == [(1, False), (2, True)]
    assert data_snapshot(fixture_con) == after_first
    importer.undo(fixture_con, first.batch_id, actor=ADMIN)
    # every table and every query as before; only the batch log remembers (both undone)
    assert snapshot(fixture_con, batches=False) == snapshot_before
    assert fixture_con.execute("SELECT count(*) FROM undo_tickets").fetchall() == [(0,)]


def test_same_file_twice_is_refused_naming_the_batch(fixture_con):
    data = csv_bytes("街道,社区,小区,户数", "东街道,甲社区,甲四小区,20")
    _, first = importer.import_file(fixture_con, "compounds", data, "c.csv", actor=ADMIN)
    report, again = importer.import_file(fixture_con, "compounds", data, "再次.csv", update=True, actor=ADMIN)
    assert again is None
    assert report.problems[0].message.startswith("同一文件已于 ")
    assert f"（第 {first.batch_id} 批，小区，文件 c.csv），为避免重复，本次未导入" in report.problems[0].message
    # once undone, the same file may come in again
    importer.undo(fixture_con, first.batch_id, actor=ADMIN)
    _, third = importer.import_file(fixture_con, "compounds", data, "c.csv", actor=ADMIN)
    assert third.added == 1


def test_undo_is_refused_while_later_data_depends_on_it(fixture_con):
    _, comp = importer.import_file(fixture_con, "compounds", csv_bytes("街道,社区,小区", "东街道,甲社区,甲四小区"), "c.csv", actor=ADMIN)
    _, bld = importer.import_file(fixture_con, "buildings", csv_bytes("街道,社区,小区,楼栋", "东街道,甲社区,甲四小区,1号楼"), "b.csv", actor=ADMIN)
    with pytest.raises(importer.ImportRefused) as exc:
        importer.undo(fixture_con, comp.batch_id, actor=ADMIN)
    assert exc.value.problems[0].message == f"第 {comp.batch_id} 批导入的小区仍被 1 行楼栋数据引用，不能撤销"
    _, upd = importer.import_file(fixture_con, "buildings", csv_bytes("街道,社区,小区,楼栋,户数", "东街道,甲社区,甲四小区,1号楼,9"),
                                  "b2.csv", update=True, actor=ADMIN)
    with pytest.raises(importer.ImportRefused) as exc:
        importer.undo(fixture_con, bld.batch_id, actor=ADMIN)
    assert exc.value.problems[0].message == f"第 {upd.batch_id} 批更新过第 {bld.batch_id} 批导入的记录"
    for b in (upd, bld, comp):
        importer.undo(fixture_con, b.batch_id, actor=ADMIN)
    assert fixture_con.execute("SELECT count(*) FROM compounds WHERE compound = '甲四小区'").fetchall() == [(0,)]


def test_a_crash_during_the_write_leaves_the_database_as_it_was(fixture_con, monkeypatch):
    before = snapshot(fixture_con)
    from governance.importer import writing

    real = writing.bump_data_version

    def crash(con):
        real(con)
        raise KeyboardInterrupt("killed mid-import")

    monkeypatch.setattr(writing, "bump_data_version", crash)
    with pytest.raises(KeyboardInterrupt):
        importer.import_file(fixture_con, "tickets", csv_bytes(TICKET_HEAD, "N1,东街道,甲社区,,,物业管理,2023-06-05,,,"), "t.csv", actor=ADMIN)
    assert snapshot(fixture_con) == before


def test_demo_round_trip_removal_and_undo(demo_db_master, tmp_path):
    """Export every demo table in the import format, import into a new database: the same
    rows come back. Then remove the demo data from a copy and undo that."""
    import shutil

    src_path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db_master, src_path)
    src = db.connect(src_path)
    dst = db.connect(tmp_path / "new.duckdb")
    for table in importer.SPECS:
        frame = importer.export_frame(src, table)
        report, result = importer.import_file(dst, table, exports.csv_bytes(frame), f"{table}.csv", actor=ADMIN)
        assert report.problems == [], table
        assert result.added == len(frame)
        assert importer.export_frame(dst, table).astype(str).equals(frame.astype(str)), table
    dst.close()

    before = data_snapshot(src)
    demo_rows = importer.demo_row_count(src)
    message = importer.remove_demo_data(src, actor=ADMIN)
    assert message == f"已删除演示数据 {demo_rows:,} 行（第 1 批；如需恢复，可在导入记录中撤销这一批）。"
    assert db.run_query(src, "common/lineage", scope=ALL_SCOPE).empty  # no simulated rows: the banner goes
    assert importer.undo(src, 1, actor=ADMIN) == f"已撤销第 1 批：恢复演示数据 {demo_rows:,} 行。"
    assert data_snapshot(src) == before
    src.close()


def test_demo_removal_refused_when_imported_rows_belong_to_demo_communities(fixture_con):
    importer.import_file(fixture_con, "tickets", csv_bytes(TICKET_HEAD, "N1,东街道,甲社区,,,物业管理,2023-06-05,,,"), "t.csv", actor=ADMIN)
    with pytest.raises(importer.ImportRefused) as exc:
        importer.remove_demo_data(fixture_con, actor=ADMIN)
    assert exc.value.problems[0].message == "有 1 行导入的诉求数据属于演示数据中的社区，只删除演示数据会使它们失去归属"


@pytest.mark.parametrize("table,column", [("communities", "households"), ("compounds", "households"),
                                          ("buildings", "households"), ("social_orgs", "type")])
def test_updating_rows_that_have_children_updates_them_in_place_and_undoes(fixture_con, table, column):
    """按文件内容更新 of a community with compounds (and every table with children) crashed with a
    DuckDB foreign-key error: an update is now an UPDATE of the row's own columns."""
    con = fixture_con
    children = {child: con.execute(f"SELECT count(*) FROM {child}").fetchall()[0][0]
                for child, _ in importer.CHILDREN[table]}
    assert any(children.values()), f"the fixture has rows referring to {table}"
    before = data_snapshot(con)
    frame = importer.export_frame(con, table)
    if column == "households":
        frame[column] = frame[column].astype("Int64") + 7
    else:
        frame[column] = "自定义类型"
    report, result = importer.import_file(con, table, exports.csv_bytes(frame), f"{table}.csv", update=True,
                                          actor=ADMIN)
    assert report.problems == [], [p.message for p in report.problems]
    assert (result.added, result.updated) == (0, len(frame))
    assert importer.export_frame(con, table)[column].astype(str).tolist() == frame[column].astype(str).tolist()
    assert {c: con.execute(f"SELECT count(*) FROM {c}").fetchall()[0][0] for c in children} == children
    assert "恢复被更新的" in importer.undo(con, result.batch_id, actor=ADMIN)
    assert data_snapshot(con) == before
