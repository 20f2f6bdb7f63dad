"""Missing, damaged, foreign and outdated database files: a clear Chinese message, never a
traceback, never a silent misread, and the file is never changed."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from governance import db
from governance.schema import SCHEMA_VERSION
from tests.fixtures import QUERY_PARAMS as SAMPLE  # sample values for every $parameter
from governance.access import ALL_SCOPE

ROOT = Path(__file__).resolve().parent.parent


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_app(monkeypatch, path: Path | None) -> AppTest:
    if path is None:
        monkeypatch.delenv("GOVERNANCE_DB", raising=False)
    else:
        monkeypatch.setenv("GOVERNANCE_DB", str(path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    return at


def errors(at) -> str:
    return " ".join(e.value for e in at.error)


def cli_import(db_path: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    src = tmp_path / "社区.csv"
    src.write_text("省,市,区县,街道,社区,类型\n湖北省,武汉市,汉阳区,江堤街道,新社区,城市\n", encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "governance", "import", str(src), "--table", "communities",
                           "--db", str(db_path)], cwd=ROOT, capture_output=True, text=True, timeout=120)


# ------------------------------------------------------------------ missing file


def test_missing_file_at_the_default_path_is_rebuilt_from_demo_data(monkeypatch, tmp_path):
    default = tmp_path / "data" / "governance.duckdb"
    monkeypatch.setattr(db, "DEFAULT_DB", default)
    at = run_app(monkeypatch, None)
    assert not at.exception and not at.error
    assert default.exists()
    assert any("演示数据" in w.value for w in at.warning)       # the demo banner: it says what it is
    assert any(m.label == "T1 诉求量" for m in at.metric)


def test_missing_file_elsewhere_is_a_message_and_nothing_is_created(monkeypatch, tmp_path):
    path = tmp_path / "street" / "mine.duckdb"
    at = run_app(monkeypatch, path)
    assert not at.exception
    assert "找不到数据库文件" in errors(at) and str(path) in errors(at)
    assert not path.exists() and not path.parent.exists()


# ------------------------------------------------------------------ damaged or foreign files


def _random(path: Path) -> Path:
    path.write_bytes(os.urandom(300_000))
    return path


def _text(path: Path) -> Path:
    path.write_text("社区,户数\n江欣苑社区,2816\n", encoding="utf-8")
    return path


def _empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def _truncated(path: Path, demo: Path) -> Path:
    data = demo.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _checksum(path: Path, demo: Path) -> Path:
    data = bytearray(demo.read_bytes())
    for off in range(300_000, len(data), 262_144):      # scribble over every data block
        data[off:off + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    return path


def _ticket_block(path: Path, demo: Path) -> Path:
    """Only one data block of the tickets table is damaged: the file opens, ticket queries fail."""
    import duckdb

    con = duckdb.connect(str(demo), read_only=True)
    block = con.execute("SELECT block_id FROM pragma_storage_info('tickets') "
                        "WHERE column_name = 'received_at' AND block_id >= 0 LIMIT 1").fetchone()[0]
    block_size = con.execute("PRAGMA database_size").fetchone()[2]
    con.close()
    data = bytearray(demo.read_bytes())
    offset = 3 * 4096 + block * block_size + 100          # three 4 KiB headers, then the blocks
    data[offset:offset + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    return path


def _foreign(path: Path) -> Path:
    import duckdb

    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE sales (id INTEGER, amount DOUBLE)")
    con.execute("INSERT INTO sales VALUES (1, 9.5)")
    con.close()
    return path


DAMAGED = {
    "random bytes": (_random, "不是 DuckDB 数据库或已损坏"),
    "empty file": (_empty, "不是 DuckDB 数据库或已损坏"),
    "a CSV named .duckdb": (_text, "不是 DuckDB 数据库或已损坏"),
    "truncated": (_truncated, "不完整（只有"),
    "bad checksums": (_checksum, "损坏或不完整"),
    "one damaged ticket block": (_ticket_block, "读取数据库时出错：数据库文件可能已损坏或不完整"),
    "another program's DuckDB": (_foreign, "不是本看板的数据库"),
}


def _make(kind: str, path: Path, demo: Path) -> Path:
    make = DAMAGED[kind][0]
    return make(path, demo) if make in (_truncated, _checksum, _ticket_block) else make(path)


@pytest.mark.parametrize("kind", list(DAMAGED))
def test_damaged_or_foreign_file_is_a_message_and_never_changed(kind, monkeypatch, tmp_path, demo_db_master):
    path = _make(kind, tmp_path / "governance.duckdb", demo_db_master)
    before = sha(path)
    at = run_app(monkeypatch, path)
    assert not at.exception, at.exception
    assert DAMAGED[kind][1] in errors(at), errors(at)
    assert sha(path) == before
    assert not Path(str(path) + ".wal").exists()


@pytest.mark.parametrize("kind", ["random bytes", "empty file", "truncated", "another program's DuckDB"])
def test_command_line_import_refuses_a_damaged_file_without_touching_it(kind, tmp_path, demo_db_master):
    path = _make(kind, tmp_path / "governance.duckdb", demo_db_master)
    before = sha(path)
    done = cli_import(path, tmp_path)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "数据库" in done.stderr
    assert sha(path) == before


def test_damaged_default_file_is_not_replaced_by_demo_data(monkeypatch, tmp_path):
    (tmp_path / "data").mkdir()
    default = _random(tmp_path / "data" / "governance.duckdb")
    monkeypatch.setattr(db, "DEFAULT_DB", default)
    before = sha(default)
    at = run_app(monkeypatch, None)
    assert "不是 DuckDB 数据库或已损坏" in errors(at)
    assert sha(default) == before


# ------------------------------------------------------------------ older schema


def _older(path: Path, demo: Path) -> Path:
    shutil.copy(demo, path)
    import duckdb

    con = duckdb.connect(str(path))
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION - 1)])
    con.close()
    return path


def test_older_schema_version_is_refused_with_a_message(monkeypatch, tmp_path, demo_db_master):
    path = _older(tmp_path / "old.duckdb", demo_db_master)
    before = sha(path)
    at = run_app(monkeypatch, path)
    assert not at.exception
    message = errors(at)
    assert f"结构版本为 {SCHEMA_VERSION - 1}" in message and f"需要版本 {SCHEMA_VERSION}" in message
    assert not at.metric                                   # nothing was read from it
    assert sha(path) == before
    done = cli_import(path, tmp_path)
    assert done.returncode == 1 and "结构版本" in done.stderr
    assert sha(path) == before


def test_damage_found_by_a_query_is_a_database_error(tmp_path, demo_db_master):
    """The file opens (its first blocks are intact); the ticket queries find the damage."""
    path = _ticket_block(tmp_path / "t.duckdb", demo_db_master)
    con = db.connect(path)
    try:
        assert len(db.run_query(con, "common/communities", scope=ALL_SCOPE)) == 33
        with pytest.raises(db.DatabaseError, match="损坏或不完整"):
            db.run_query(con, "tickets/monthly", SAMPLE, scope=ALL_SCOPE)
    finally:
        con.close()


def test_duckdb_memory_is_bounded_and_the_setting_is_checked(tmp_path, monkeypatch):
    from tests import fixtures

    path = fixtures.build(tmp_path / "m.duckdb")
    con = db.connect(path)
    assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "488.2 MiB"   # 512 MB default
    con.close()
    monkeypatch.setenv("GOVERNANCE_DUCKDB_MEMORY", "1GB")
    con = db.connect(path, read_only=True)
    assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "953.6 MiB"
    con.close()
    monkeypatch.setenv("GOVERNANCE_DUCKDB_MEMORY", "1GB'; DROP TABLE tickets; --")   # not a size: the default
    con = db.connect(path)
    assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "488.2 MiB"
    assert con.execute("SELECT count(*) FROM tickets").fetchone()[0] > 0
    con.close()
