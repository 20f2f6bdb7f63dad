"""`python -m governance import|template|undo`: exit 0 success, 1 bad input or refused, 2 usage."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import openpyxl

ROOT = Path(__file__).resolve().parent.parent


def run(*args):
    return subprocess.run([sys.executable, "-m", "governance", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_import_into_a_new_database_then_refuse_the_same_file_then_undo(tmp_path):
    f = tmp_path / "社区.csv"
    f.write_text("省,市,区县,街道,社区,类型,户数\n湖北省,武汉市,汉阳区,江堤街道,某社区,城市,100\n", encoding="utf-8-sig")
    path = tmp_path / "new.duckdb"
    ok = run("import", f, "--table", "communities", "--db", path)
    assert ok.returncode == 0, ok.stderr
    assert "第 1 批，社区表新增 1 行，更新 0 行" in ok.stdout
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT community, source, batch_id FROM communities").fetchall() == [("某社区", "import", 1)]
    assert con.execute("SELECT count(*) FROM tickets").fetchall() == [(0,)]  # no demonstration data
    con.close()
    again = run("import", f, "--table", "communities", "--db", path)
    assert again.returncode == 1
    assert "未导入 社区.csv：发现 2 处问题，数据库未做任何修改。" in again.stderr
    assert "（第 1 批，社区，文件 社区.csv），为避免重复，本次未导入" in again.stderr
    assert "第 2 行｜社区｜某社区｜数据库中已有这条记录（街道、社区相同）" in again.stderr
    undo = run("undo", 1, "--db", path)
    assert undo.returncode == 0 and "已撤销第 1 批" in undo.stdout
    assert run("undo", 1, "--db", path).returncode == 1


def test_bad_file_exit_1_with_row_column_value_message(tmp_path, fixture_db):
    f = tmp_path / "t.csv"
    f.write_bytes("诉求编号,街道,社区,一级分类,受理时间\nN1,东街道,甲社区,物业管理,2023-02-30\n".encode("gbk"))
    r = run("import", f, "--table", "tickets", "--db", fixture_db)
    assert r.returncode == 1
    assert "第 2 行｜受理时间｜2023-02-30｜日期不存在（月份或日子超出范围）｜应为：日期时间" in r.stderr
    assert run("import", tmp_path / "missing.csv", "--table", "tickets", "--db", fixture_db).returncode == 1


def test_usage_errors_exit_2(tmp_path):
    assert run("import", "x.csv").returncode == 2  # no --table
    assert run("import", "x.csv", "--table", "nope").returncode == 2
    assert run("template").returncode == 2
    assert run().returncode == 2


def test_locked_database_fails_clearly(tmp_path, fixture_db):
    f = tmp_path / "c.csv"
    f.write_text("街道,社区,小区\n东街道,甲社区,甲四小区\n", encoding="utf-8")
    holder = duckdb.connect(str(fixture_db))  # like a running dashboard
    try:
        r = run("import", f, "--table", "compounds", "--db", fixture_db)
    finally:
        holder.close()
    assert r.returncode == 1
    assert "正被另一个程序（例如正在运行的看板）占用" in r.stderr


def test_template_command(tmp_path):
    out = tmp_path / "tpl.xlsx"
    r = run("template", "tickets", "-o", out)
    assert r.returncode == 0
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["诉求", "填写说明"]
    assert [c.value for c in wb["诉求"][1]][:3] == ["诉求编号", "街道", "社区"]
    csv_out = tmp_path / "tpl.txt"
    assert run("template", "communities", "--format", "csv", "-o", csv_out).returncode == 0
    assert csv_out.read_bytes().startswith("\ufeff省,市,区县,街道,社区,类型".encode("utf-8"))
