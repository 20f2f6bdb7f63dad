"""The chunked import (issue 16): a large CSV is streamed and checked and written a few rows at a
time inside one transaction. Here the chunks are 3 rows and every CSV is streamed (the thresholds
lowered), so a small hand-made file crosses chunk boundaries; the answers are those of reading the
file whole."""

from __future__ import annotations

import pytest

from governance import importer
from governance.importer import reading
from governance.access import ALL_SCOPE
from tests.fixtures import ADMIN

HEAD = "诉求编号,街道,社区,一级分类,受理时间,回访联系上,满意度\n"


def rows(*ids, start=1):
    return "".join(f"{i},东街道,甲社区,物业管理,2023-06-{(n % 28) + 1:02d} 09:00,是,满意\n"
                   for n, i in enumerate(ids, start=start))


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(reading, "CHUNK_ROWS", 3)
    monkeypatch.setattr(reading, "STREAM_MIN_BYTES", 0)


def count(con, like="Z%"):
    return con.execute("SELECT count(*) FROM tickets WHERE ticket_id LIKE ?", [like]).fetchone()[0]


def test_streamed_in_chunks_all_rows_written_as_one_batch(fixture_con, small_chunks):
    # 8 rows = chunks of 3, 3, 2; a blank line inside the second chunk is not a record
    data = (HEAD + rows("Z1", "Z2", "Z3", "Z4") + ",,,,,,\n" + rows("Z5", "Z6", "Z7", "Z8", start=5)).encode("utf-8")
    report, batch = importer.import_file(fixture_con, "tickets", data, "c.csv", actor=ADMIN)
    assert report.ok and batch is not None
    assert (batch.added, batch.updated) == (8, 0)
    assert count(fixture_con) == 8
    assert fixture_con.execute("SELECT DISTINCT batch_id FROM tickets WHERE ticket_id LIKE 'Z%'").fetchall() == [(batch.batch_id,)]


def test_a_repeat_in_a_later_chunk_names_the_first_row_and_nothing_is_written(fixture_con, small_chunks):
    # Excel rows: header 1, Z1 2, Z2 3 | Z3 4, Z4 5, Z5 6 | Z2 7, Z6 8: Z2 again on row 7, in the third chunk
    data = (HEAD + rows("Z1", "Z2", "Z3", "Z4", "Z5", "Z2", "Z6")).encode("utf-8")
    report, batch = importer.import_file(fixture_con, "tickets", data, "c.csv", actor=ADMIN)
    assert batch is None
    assert [(p.row, p.column, p.value, p.message) for p in report.problems] == [
        (7, "诉求编号", "Z2", "与第 3 行重复（诉求编号相同）")]
    assert count(fixture_con) == 0  # the rows of the first chunk, written in the transaction, are gone


def test_a_bad_value_in_the_last_chunk_rolls_back_the_earlier_chunks(fixture_con, small_chunks):
    data = (HEAD + rows("Z1", "Z2", "Z3", "Z4", "Z5", "Z6") + "Z7,东街道,甲社区,物业管理,2023年6月,是,满意\n").encode("gbk")
    report, batch = importer.import_file(fixture_con, "tickets", data, "c.csv", actor=ADMIN)
    assert batch is None
    assert [(p.row, p.column, p.message) for p in report.problems] == [(8, "受理时间", "缺少日（只有年月）")]
    assert count(fixture_con) == 0


def test_stored_rows_found_in_any_chunk_and_updated_when_asked(fixture_con, small_chunks):
    first, _ = importer.import_file(fixture_con, "tickets", (HEAD + rows("Z1", "Z2")).encode(), "a.csv", actor=ADMIN)
    assert first.ok
    data = (HEAD + rows("Z3", "Z4", "Z5", "Z1", "Z6")).encode()  # Z1 is stored: row 5, in the second chunk
    report, batch = importer.import_file(fixture_con, "tickets", data, "b.csv", actor=ADMIN)
    assert batch is None
    assert [(p.row, p.value) for p in report.problems] == [(5, "Z1")]
    assert report.problems[0].message == "数据库中已有这条记录（诉求编号相同）"
    report, batch = importer.import_file(fixture_con, "tickets", data, "b.csv", update=True, actor=ADMIN)
    assert report.ok and (batch.added, batch.updated) == (4, 1)
    assert count(fixture_con) == 6


def test_a_ragged_file_found_while_streaming_is_read_again_whole(fixture_con, small_chunks):
    # the fifth record has an extra cell: pandas' chunked reader stops there; the import starts
    # over reading the file whole and reports the file as it always did
    data = (HEAD + rows("Z1", "Z2", "Z3", "Z4") + "Z5,东街道,甲社区,物业管理,2023-06-09 09:00,是,满意,多余\n").encode()
    whole = importer.validate(fixture_con, "tickets", data, "c.csv", scope=ALL_SCOPE)  # read whole, nothing written
    report, batch = importer.import_file(fixture_con, "tickets", data, "c.csv", actor=ADMIN)
    assert [(p.row, p.message) for p in report.problems] == [(p.row, p.message) for p in whole.problems]
    assert whole.ok and batch is not None and batch.added == 5  # the extra cell has no header: ignored
    assert count(fixture_con) == 5


def test_a_path_is_streamed_from_the_file(fixture_con, small_chunks, tmp_path):
    f = tmp_path / "c.csv"
    f.write_bytes((HEAD + rows("Z1", "Z2", "Z3", "Z4", "Z5")).encode("gbk"))
    report, batch = importer.import_file(fixture_con, "tickets", f, "c.csv", actor=ADMIN)
    assert report.ok and batch.added == 5
    again, none = importer.import_file(fixture_con, "tickets", f, "c.csv", actor=ADMIN)  # the same file: refused by its SHA-256
    assert none is None and "同一文件已于" in again.problems[0].message
