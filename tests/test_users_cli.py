"""`python -m governance users …` and `import/undo --as EMAIL`: exit codes, Chinese messages, scope
refusals that leave the database byte for byte unchanged, and the audit of who did what."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parent.parent
TICKET_HEAD = "诉求编号,街道,社区,小区,楼栋,一级分类,受理时间,办结时间,回访联系上,满意度"


def gov(*args, db: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "governance", *args, "--db", str(db)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_users_add_list_remove(fixture_db):
    r = gov("users", "add", "Zhang@Example.org", "--role", "viewer", "--scope", "东街道", "--name", "张三", db=fixture_db)
    assert r.returncode == 0, r.stderr
    assert "已添加用户 zhang@example.org：查看者，范围 测试省/测试市/测试区/东街道" in r.stdout
    r = gov("users", "add", "zhang@example.org", "--role", "editor", "--scope", "测试省/测试市/测试区/西街道", db=fixture_db)
    assert r.returncode == 0 and "已更新用户" in r.stdout
    listed = gov("users", "list", db=fixture_db)
    assert listed.returncode == 0
    assert "zhang@example.org" in listed.stdout and "编辑者（editor）" in listed.stdout
    assert "范围：测试省/测试市/测试区/西街道" in listed.stdout
    assert gov("users", "remove", "zhang@example.org", db=fixture_db).returncode == 0
    assert "zhang@example.org" not in gov("users", "list", db=fixture_db).stdout
    con = duckdb.connect(str(fixture_db), read_only=True)
    actions = [r[0] for r in con.execute("SELECT action FROM audit_log ORDER BY event_id").fetchall()]
    actors = {r[0] for r in con.execute("SELECT actor FROM audit_log").fetchall()}
    con.close()
    assert actions == ["user_add", "user_update", "user_remove"]
    assert all(a.endswith("（命令行）") for a in actors)   # the operating-system user on the command line


@pytest.mark.parametrize("args,code,message", [
    (["users", "add", "a@b.org", "--role", "boss", "--scope", "全部"], 1, "角色“boss”不存在"),
    (["users", "add", "a@b.org", "--role", "viewer", "--scope", "北街道"], 1, "范围“北街道”不存在"),
    (["users", "add", "not-an-email", "--role", "viewer", "--scope", "全部"], 1, "不是有效的邮箱地址"),
    (["users", "remove", "nobody@b.org"], 1, "用户 nobody@b.org 不存在"),
    (["users", "add", "a@b.org", "--role", "viewer"], 2, "用法错误"),
    (["users", "frobnicate"], 2, "用法错误"),
])
def test_users_refusals_and_usage_errors(fixture_db, args, code, message):
    before = digest(fixture_db)
    r = gov(*args, db=fixture_db)
    assert r.returncode == code
    assert message in r.stderr
    if code == 1:
        assert gov("users", "list", db=fixture_db).stdout.startswith("还没有登记的用户")


def test_import_as_an_editor_stays_inside_the_scope(fixture_db, tmp_path):
    assert gov("users", "add", "east@example.org", "--role", "editor", "--scope", "东街道", db=fixture_db).returncode == 0
    assert gov("users", "add", "look@example.org", "--role", "viewer", "--scope", "全部", db=fixture_db).returncode == 0
    good = tmp_path / "东街道.csv"
    good.write_text("\n".join([TICKET_HEAD, "E1,东街道,甲社区,,,物业管理,2023-06-05,,是,满意",
                               "E2,东街道,乙村,,,市容环境,2023-06-06,,,"]) + "\n", encoding="utf-8")
    r = gov("import", str(good), "--table", "tickets", "--as", "east@example.org", db=fixture_db)
    assert r.returncode == 0, r.stderr

    mixed = tmp_path / "混合.csv"
    mixed.write_text("\n".join([TICKET_HEAD, "E3,东街道,甲社区,,,物业管理,2023-06-07,,,",
                                "W1,西街道,丙社区,,,物业管理,2023-06-07,,,"]) + "\n", encoding="utf-8")
    before = digest(fixture_db)
    r = gov("import", str(mixed), "--table", "tickets", "--as", "east@example.org", db=fixture_db)
    assert r.returncode == 1
    # row 3 (Excel numbering: header is row 1), column 社区, and the scope are named
    line = next(l for l in r.stderr.splitlines() if l.startswith("第 3 行｜"))
    assert "社区" in line and "丙社区" in line and "测试省/测试市/测试区/东街道" in line
    assert digest(fixture_db) == before

    # an update of a stored ticket of 西街道 (C1 is 丙社区's) under an in-scope row is refused too
    sneaky = tmp_path / "改写.csv"
    sneaky.write_text("\n".join([TICKET_HEAD, "C1,东街道,甲社区,,,物业管理,2023-06-20,,否,不满意"]) + "\n", encoding="utf-8")
    r = gov("import", str(sneaky), "--table", "tickets", "--update", "--as", "east@example.org", db=fixture_db)
    assert r.returncode == 1 and "范围以外的社区，不能更新" in r.stderr
    assert digest(fixture_db) == before

    r = gov("import", str(mixed), "--table", "tickets", "--as", "look@example.org", db=fixture_db)
    assert r.returncode == 1 and "不能导入" in r.stderr
    r = gov("import", str(mixed), "--table", "tickets", "--as", "stranger@example.org", db=fixture_db)
    assert r.returncode == 1 and "未登记" in r.stderr
    assert digest(fixture_db) == before

    # the batch names the editor; an admin (the command line) imports 西街道's row
    con = duckdb.connect(str(fixture_db), read_only=True)
    assert con.execute("SELECT imported_by FROM import_batches ORDER BY batch_id").fetchall() == [("east@example.org",)]
    con.close()
    west = tmp_path / "西街道.csv"
    west.write_text("\n".join([TICKET_HEAD, "W2,西街道,丙社区,,,物业管理,2023-06-08,,,"]) + "\n", encoding="utf-8")
    assert gov("import", str(west), "--table", "tickets", db=fixture_db).returncode == 0

    # the editor may undo their own batch (1) but not the admin's batch of 西街道 (2)
    r = gov("undo", "2", "--as", "east@example.org", db=fixture_db)
    assert r.returncode == 1 and "范围" in r.stderr
    r = gov("undo", "1", "--as", "east@example.org", db=fixture_db)
    assert r.returncode == 0, r.stderr
    con = duckdb.connect(str(fixture_db), read_only=True)
    audit = con.execute("SELECT actor, action, target FROM audit_log WHERE action IN ('import', 'undo') "
                        "ORDER BY event_id").fetchall()
    con.close()
    assert audit[0] == ("east@example.org", "import", "1")
    assert audit[1][1:] == ("import", "2") and audit[1][0].endswith("（命令行）")
    assert audit[2] == ("east@example.org", "undo", "1")
