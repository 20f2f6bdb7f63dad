"""A street's own data from an empty start (issue 16): `init`, then the street's files, one workbook
or the hotline's own export, and the 诉求办理 page shows the hand-worked rates with the documented
default weights.

The street (新河街道, invented) and its answers, worked out by hand:

  tickets, all received in 2023-06 (the default period is the last month of data):
    id   community compound  contacted solved satisfaction
    T01  新河社区  新河一期   是        是     非常满意   weight 1
    T02  新河社区  新河一期   是        是     满意       weight 1
    T03  新河社区  新河二期   是        是     基本满意   weight 0.6
    T04  新河社区  新河二期   是        否     不满意     weight 0
    T05  新河社区  —          否        否     —          (a valid follow-up: contacted is known)
    T06  柳岸社区  柳岸花园   是        是     非常满意   weight 1
    T07  柳岸社区  柳岸花园   是        是     满意       weight 1
    T08  柳岸社区  柳岸花园   是        否     非常不满意 weight 0
    T09  柳岸社区  柳岸花园   —         —      —          no follow-up: not in the denominators
    T10  新河社区  新河一期   —         —      —          no follow-up
  valid follow-ups: T01..T08 = 8
  T2 响应率 = contacted 7 (all but T05) / 8 = 87.5%
  T3 解决率 = solved 5 (T01 T02 T03 T06 T07) / 8 = 62.5%
  T4 满意率 = (1 + 1 + 0.6 + 0 + 1 + 1 + 0) / 8 = 4.6 / 8 = 57.5%   (default weights 1/1/0.6/0/0)
  T9 综合得分 = 100 × (0.1 × 0.875 + 0.5 × 0.625 + 0.4 × 0.575) = 8.75 + 31.25 + 23.0 = 63.0 分
  (before issue 16 such a database had no settings: T4 showed 0.0% and T9 无数据)
"""

from __future__ import annotations

import csv
import hashlib
import io
import subprocess
import sys
from pathlib import Path

import duckdb
import openpyxl
import pytest

from governance import db, importer
from governance.access import ALL_SCOPE

ROOT = Path(__file__).resolve().parent.parent
T2, T3, T4, T9 = "87.5%", "62.5%", "57.5%", "63.0 分"

STREET = [  # (table, sheet, template header, rows)
    ("communities", "社区", ["省", "市", "区县", "街道", "社区", "类型", "户数", "居民人数"], [
        ["湖北省", "武汉市", "汉阳区", "新河街道", "新河社区", "城市", "800", "2000"],
        ["湖北省", "武汉市", "汉阳区", "新河街道", "柳岸社区", "城市", "400", "1000"]]),
    ("compounds", "小区", ["街道", "社区", "小区", "户数"], [
        ["新河街道", "新河社区", "新河一期", "300"], ["新河街道", "新河社区", "新河二期", "200"],
        ["新河街道", "柳岸社区", "柳岸花园", "400"]]),
    ("buildings", "楼栋", ["街道", "社区", "小区", "楼栋", "户数"], [
        ["新河街道", "新河社区", "新河一期", "1栋", "40"], ["新河街道", "新河社区", "新河一期", "2栋", "40"],
        ["新河街道", "新河社区", "新河二期", "1栋", "50"], ["新河街道", "柳岸社区", "柳岸花园", "A栋", "60"]]),
    ("branches", "小区党支部", ["街道", "社区", "小区", "党支部名称", "党员人数", "是否设支委会", "成立日期"], [
        ["新河街道", "新河社区", "新河一期", "新河一期党支部", "9", "是", "2020-03-01"],
        ["新河街道", "柳岸社区", "柳岸花园", "柳岸花园党支部", "5", "否", "2021-05-01"]]),
    ("building_groups", "楼栋党小组", ["街道", "社区", "小区", "楼栋", "党小组长", "成立日期"], [
        ["新河街道", "新河社区", "新河一期", "1栋", "张三", "2021-01-01"],
        ["新河街道", "柳岸社区", "柳岸花园", "A栋", "李四", "2021-06-01"]]),
    ("household_leads", "党员中心户", ["街道", "社区", "小区", "楼栋", "户（门牌）", "挂牌日期"], [
        ["新河街道", "新河社区", "新河一期", "1栋", "101室", "2021-03-01"],
        ["新河街道", "柳岸社区", "柳岸花园", "A栋", "201室", "2021-07-01"]]),
]
# id, community, compound, category path, received, due (a date), closed, contacted, solved, satisfaction
TICKETS = [
    ("T01", "新河社区", "新河一期", "物业管理/设施维修/下水道堵塞", "2023-06-01 09:00", "2023-06-08", "2023-06-03 16:00", "是", "是", "非常满意"),
    ("T02", "新河社区", "新河一期", "物业管理/设施维修/下水道堵塞", "2023-06-02 10:30", "2023-06-09", "2023-06-04 11:00", "是", "是", "满意"),
    ("T03", "新河社区", "新河二期", "市政管理/道路/路灯不亮", "2023-06-05 08:15", "2023-06-12", "2023-06-09 17:00", "是", "是", "基本满意"),
    ("T04", "新河社区", "新河二期", "市政管理/道路/路灯不亮", "2023-06-06 14:00", "2023-06-13", "2023-06-10 09:00", "是", "否", "不满意"),
    ("T05", "新河社区", "", "社区服务/养老/助餐", "2023-06-07 09:00", "2023-06-14", "2023-06-08 10:00", "否", "否", ""),
    ("T06", "柳岸社区", "柳岸花园", "物业管理/环境卫生/垃圾清运", "2023-06-10 09:00", "2023-06-17", "2023-06-12 15:00", "是", "是", "非常满意"),
    ("T07", "柳岸社区", "柳岸花园", "物业管理/环境卫生/垃圾清运", "2023-06-11 09:00", "2023-06-18", "2023-06-15 15:00", "是", "是", "满意"),
    ("T08", "柳岸社区", "柳岸花园", "物业管理/环境卫生/垃圾清运", "2023-06-12 09:00", "2023-06-19", "2023-06-20 15:00", "是", "否", "非常不满意"),
    ("T09", "柳岸社区", "柳岸花园", "治安/噪音/装修噪音", "2023-06-15 20:00", "2023-06-22", "", "", "", ""),
    ("T10", "新河社区", "新河一期", "物业管理/设施维修/下水道堵塞", "2023-06-20 09:00", "2023-06-27", "", "", "", ""),
]
TICKET_HEADER = ["诉求编号", "街道", "社区", "小区", "一级分类", "二级分类", "三级分类", "受理时间", "办理时限", "办结时间",
                 "回访联系上", "是否解决", "满意度"]
HOTLINE_HEADER = ["工单编号", "所属街道", "所属社区", "所属小区", "受理时间", "诉求分类", "办理时限", "办结时间",
                  "是否联系", "是否解决", "满意度"]
HOTLINE_MAP = ["所属街道=street", "所属社区=community", "所属小区=compound", "诉求分类=category",
               "满意度=satisfaction_stars"]
STARS = {"非常满意": "5", "满意": "4", "基本满意": "3", "不满意": "2", "非常不满意": "1", "": ""}


def ticket_rows() -> list[list[str]]:
    return [[tid, "新河街道", c, p, *path.split("/"), rec, due, closed, con, sol, sat]
            for tid, c, p, path, rec, due, closed, con, sol, sat in TICKETS]


def hotline_rows() -> list[list[str]]:
    """The same tickets as a hotline exports them: its own headers, the category as one path, dates
    as 2023/6/1 9:00 and 2023年6月8日, 已联系/未联系, 1/0 and 1-5 stars."""
    out = []
    for tid, c, p, path, rec, due, closed, con, sol, sat in TICKETS:
        d, t = rec.split()
        y, m, day = (int(x) for x in d.split("-"))
        h, mi = t.split(":")
        dy, dm, dd = (int(x) for x in due.split("-"))
        if closed:
            cd, ct = closed.split()
            cy, cm, cday = (int(x) for x in cd.split("-"))
            closed_text = f"{cy}/{cm}/{cday} {ct}"
        else:
            closed_text = ""
        out.append([tid, "新河街道", c, p, f"{y}/{m}/{day} {int(h)}:{mi}", path.replace("/", " > "), f"{dy}年{dm}月{dd}日",
                    closed_text, {"是": "已联系", "否": "未联系", "": ""}[con], {"是": "1", "否": "0", "": ""}[sol],
                    STARS[sat]])
    return out


def csv_file(path: Path, header, rows, encoding="utf-8-sig") -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([header, *rows])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def workbook(path: Path, tamper=None) -> Path:
    """The street's seven tables as one workbook (a sheet per table, named by its label)."""
    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    wb.active.append(["新河街道的数据"])
    for table, sheet, header, rows in STREET + [("tickets", "诉求", TICKET_HEADER, ticket_rows())]:
        ws = wb.create_sheet(sheet)
        for row in [header, *rows]:
            ws.append(row)
        if tamper:
            tamper(sheet, ws)
    wb.save(path)
    return path


def run(*args):
    return subprocess.run([sys.executable, "-m", "governance", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def init(path: Path) -> Path:
    r = run("init", "--db", path)
    assert r.returncode == 0, r.stderr
    return path


def import_files(tmp: Path, db_path: Path, tickets: bool = True) -> None:
    for table, sheet, header, rows in STREET:
        r = run("import", csv_file(tmp / f"{table}.csv", header, rows), "--table", table, "--db", db_path)
        assert r.returncode == 0, r.stderr
    if tickets:
        r = run("import", csv_file(tmp / "tickets.csv", TICKET_HEADER, ticket_rows()), "--table", "tickets", "--db", db_path)
        assert r.returncode == 0, r.stderr


def snapshot(db_path: Path) -> dict:
    """Every table's rows in the import format (names, not ids)."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return {t: importer.export_frame(con, t).astype(str).values.tolist() for t in importer.SPECS}
    finally:
        con.close()


def street_rates(db_path: Path) -> tuple[str, str, str]:
    from governance import metrics
    from governance.labels import fmt_rate

    con = duckdb.connect(str(db_path), read_only=True)
    try:
        p = {"province": None, "city": None, "district": None, "street": "新河街道", "community": None,
             "start": "2023-06-01", "end": "2023-06-30"}
        t = metrics.tickets(db.run_query(con, "tickets/rates_by_community", p, scope=ALL_SCOPE), None)
    finally:
        con.close()
    return fmt_rate(t["T2"].value), fmt_rate(t["T3"].value), fmt_rate(t["T4"].value)


def test_init_creates_an_empty_database_with_the_documented_defaults(tmp_path):
    path = init(tmp_path / "new.duckdb")
    con = duckdb.connect(str(path), read_only=True)
    settings = dict(con.execute("SELECT key, value FROM settings WHERE source = 'default' "
                                "AND effective_from = DATE '1900-01-01'").fetchall())
    rows = sum(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in importer.SPECS)
    con.close()
    assert rows == 0
    assert settings == {"satisfaction_weight_非常满意": 1.0, "satisfaction_weight_满意": 1.0,
                        "satisfaction_weight_基本满意": 0.6, "satisfaction_weight_不满意": 0.0,
                        "satisfaction_weight_非常不满意": 0.0, "score_weight_contacted": 0.1,
                        "score_weight_solved": 0.5, "score_weight_satisfied": 0.4,
                        "org_target_urban": 10.0, "org_target_rural": 5.0}
    again = run("init", "--db", path)
    assert again.returncode == 1 and "已存在" in again.stderr


def test_an_old_database_without_settings_gets_the_defaults_and_keeps_its_own(tmp_path):
    """A file written before `settings.source` existed, with its own score weights only: opening it
    adds the column, keeps its weights and puts the default level weights in force."""
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    from governance.schema import create_schema
    create_schema(con)
    con.execute("ALTER TABLE settings DROP COLUMN source")
    con.execute("INSERT INTO settings VALUES ('score_weight_contacted', DATE '2023-01-01', 0.3, NULL), "
                "('score_weight_solved', DATE '2023-01-01', 0.35, NULL), ('score_weight_satisfied', DATE '2023-01-01', 0.35, NULL)")
    con.close()
    con = db.connect(path)
    rows = con.execute("SELECT key, value, source FROM settings ORDER BY key").fetchall()
    con.close()
    assert ("score_weight_contacted", 0.3, "configured") in rows
    assert ("satisfaction_weight_基本满意", 0.6, "default") in rows
    assert not any(k == "score_weight_contacted" and s == "default" for k, _, s in rows)


def tickets_page(monkeypatch, db_path: Path):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("GOVERNANCE_DB", str(db_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/4_tickets.py").run()
    assert not at.exception
    return at


def metric(at, prefix):
    return next(m for m in at.metric if m.label.startswith(prefix))


def test_street_files_into_an_init_database_give_the_hand_worked_rates_on_the_page(tmp_path, monkeypatch):
    path = init(tmp_path / "street.duckdb")
    import_files(tmp_path, path)
    at = tickets_page(monkeypatch, path)
    assert metric(at, "T2").value == T2
    assert metric(at, "T3").value == T3
    assert metric(at, "T4").value == T4  # with the default level weights, not 0.0%
    assert metric(at, "T9").value == T9
    captions = " ".join(c.value for c in at.caption)
    assert "加权满意 4.6 / 8 件有效回访" in captions
    assert "默认值" in captions  # the weights used are said to be the documented defaults


def test_missing_level_weight_shows_no_data_not_a_rate(tmp_path, monkeypatch):
    path = init(tmp_path / "street.duckdb")
    import_files(tmp_path, path)
    con = duckdb.connect(str(path))
    con.execute("DELETE FROM settings WHERE key = 'satisfaction_weight_基本满意'")
    con.execute("UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) WHERE key = 'data_version'")
    con.execute("INSERT INTO settings VALUES ('satisfaction_weight_基本满意', DATE '2024-01-01', 0.6, NULL, 'configured')")
    con.close()  # a weight of its own from 2024 only: none in force for 2023-06
    at = tickets_page(monkeypatch, path)
    assert metric(at, "T4").value == "无数据"
    assert metric(at, "T9").value == "无数据"
    assert metric(at, "T2").value == T2
    captions = " ".join(c.value for c in at.caption)
    assert "满意度等级权重未设置，不计算满意率（8 件有效回访）" in captions
    assert "基本满意 的等级权重未设置" in captions


def test_one_workbook_gives_the_same_as_the_seven_files_and_undo_restores_every_table(tmp_path):
    files = init(tmp_path / "files.duckdb")
    import_files(tmp_path, files)
    book = init(tmp_path / "book.duckdb")
    r = run("import", workbook(tmp_path / "新河街道.xlsx"), "--db", book)
    assert r.returncode == 0, r.stderr
    assert "第 1 批（一个批次）" in r.stdout and "诉求 10 行" in r.stdout
    assert "工作表“说明”不对应任何数据表，已忽略" in r.stderr
    assert snapshot(book) == snapshot(files)
    assert street_rates(book) == (T2, T3, T4)
    con = duckdb.connect(str(book), read_only=True)
    assert con.execute("SELECT table_name, rows_added FROM import_batches").fetchall() == [("workbook", 2 + 3 + 4 + 2 + 2 + 2 + 10)]
    con.close()
    u = run("undo", 1, "--db", book)
    assert u.returncode == 0, u.stderr
    assert "整个工作簿" in u.stdout and "删除新增的 25 行" in u.stdout
    assert all(rows == [] for rows in snapshot(book).values())


def test_a_bad_row_on_the_fourth_sheet_changes_nothing_and_names_sheet_row_and_column(tmp_path):
    path = init(tmp_path / "book.duckdb")
    before = hashlib.sha256(path.read_bytes()).hexdigest()

    def tamper(sheet, ws):
        if sheet == "小区党支部":
            ws["E3"] = "五人"  # 党员人数 of 柳岸花园党支部, Excel row 3

    r = run("import", workbook(tmp_path / "坏.xlsx", tamper), "--db", path)
    assert r.returncode == 1
    assert "工作表“小区党支部”｜第 3 行｜党员人数｜五人｜不是数字" in r.stderr
    assert "发现 1 处问题，数据库未做任何修改" in r.stderr  # later sheets were checked against the earlier ones
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert not Path(f"{path}.wal").exists()


def test_hotline_export_with_map_and_with_a_saved_mapping_gives_the_same_answers(tmp_path):
    template = init(tmp_path / "template.duckdb")
    import_files(tmp_path, template)
    path = init(tmp_path / "hotline.duckdb")
    import_files(tmp_path, path, tickets=False)
    f = csv_file(tmp_path / "12345导出.csv", HOTLINE_HEADER, hotline_rows(), encoding="gbk")

    refused = run("import", f, "--table", "tickets", "--db", path)
    assert refused.returncode == 1  # its headers alone: 街道/社区 not recognised
    assert "缺少必填列" in refused.stderr and "街道" in refused.stderr

    mapped = run("import", f, "--table", "tickets", "--db", path, *sum((["--map", m] for m in HOTLINE_MAP), []),
                 "--save-mapping", "12345热线")
    assert mapped.returncode == 0, mapped.stderr
    assert "已保存列对应“12345热线”" in mapped.stdout
    assert snapshot(path)["tickets"] == snapshot(template)["tickets"]
    assert street_rates(path) == (T2, T3, T4)

    assert run("undo", 7, "--db", path).returncode == 0
    by_name = run("import", f, "--table", "tickets", "--db", path, "--mapping", "12345热线")
    assert by_name.returncode == 0, by_name.stderr
    assert snapshot(path)["tickets"] == snapshot(template)["tickets"]

    assert run("undo", 8, "--db", path).returncode == 0
    auto = run("import", f, "--table", "tickets", "--db", path)  # same headers: the saved mapping is chosen
    assert auto.returncode == 0, auto.stderr
    assert "保存的列对应“12345热线”" in auto.stderr
    assert street_rates(path) == (T2, T3, T4)

    assert run("import", f, "--table", "tickets", "--db", path, "--mapping", "没有这个").returncode == 1
    bad = run("import", f, "--table", "tickets", "--db", path, "--map", "受理时间=received")
    assert bad.returncode == 1 and "不是“诉求”表的字段" in bad.stderr


def test_unrecognised_hotline_values_are_row_and_column_errors(fixture_con):
    header = "工单编号,街道,社区,受理时间,诉求分类,是否联系,满意度\n"
    rows = ("H1,东街道,甲社区,2023年6月1日,物业管理>设施维修>下水道堵塞,已联系,5\n"
            "H2,东街道,甲社区,45078,物业管理,未联系,\n"            # Excel serial 45078 = 2023-06-01
            "H3,东街道,甲社区,2023/6/31 9:00,物业管理/a/b/c,联系了,6\n")
    report = importer.validate(fixture_con, "tickets", (header + rows).encode("utf-8"), "h.csv",
                               mapping={"satisfaction_stars": "满意度"}, scope=ALL_SCOPE)
    got = {(p.row, p.column, p.value, p.message) for p in report.problems}
    assert got == {(4, "受理时间", "2023/6/31 9:00", "日期不存在（月份或日子超出范围）"),
                   (4, "诉求分类", "物业管理/a/b/c", "分类路径超过三级"),
                   (4, "是否联系", "联系了", "无法识别的是/否"),
                   (4, "满意度", "6", "无法识别的满意度")}
    ok = report.rows.iloc[:2]
    assert [str(t) for t in ok["received_at"]] == ["2023-06-01 00:00:00", "2023-06-01 00:00:00"]
    assert ok[["category_l1", "category_l2", "category_l3"]].values.tolist()[0] == ["物业管理", "设施维修", "下水道堵塞"]
    assert ok["contacted"].tolist() == [True, False]
    assert ok["satisfaction"].tolist()[0] == "非常满意"


def test_mapping_step_in_a_browser(tmp_path, browser):
    """The 数据管理 page: a hotline file's headers are not recognised, the mapping step offers the
    file's columns pre-filled, the preview reads the first rows, saving the mapping checks the file,
    the import gives the hand-worked rates; a second upload of that shape is mapped automatically."""
    from tests.browser import choose, click, open_page, running_server, wait_for_app

    path = init(tmp_path / "street.duckdb")
    import_files(tmp_path, path, tickets=False)
    f = csv_file(tmp_path / "12345导出.csv", HOTLINE_HEADER, hotline_rows())
    with running_server(path) as base:
        page = open_page(browser, f"{base}/data")
        choose(page, "数据表", "诉求（tickets）")
        page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(f))
        page.get_by_text("文件的表头与模板不同").wait_for(timeout=60_000)
        wait_for_app(page)
        # pre-filled from the common words: 所属街道 for 街道, 诉求分类 for the category path
        assert page.get_by_role("combobox", name="街道（必填）").input_value() == "所属街道"
        assert page.get_by_role("combobox", name="诉求分类（路径）").input_value() == "诉求分类"
        click(page, page.get_by_text("满意度一列是 1—5 星"))
        page.get_by_text("按上面的对应读取文件的前 5 行").wait_for(timeout=30_000)
        page.locator("[data-testid='stDataFrame']:visible").first.wait_for(timeout=30_000)
        page.get_by_role("button", name="保存并按此对应检查").click()
        page.get_by_text("检查通过：共 10 行，将新增 10 行、更新 0 行").wait_for(timeout=60_000)
        wait_for_app(page)
        page.get_by_role("button", name="导入").click()
        page.get_by_text("已导入 12345导出.csv：第 7 批，诉求表新增 10 行").wait_for(timeout=60_000)
        page.context.close()

        again = open_page(browser, f"{base}/data")
        choose(again, "数据表", "诉求（tickets）")
        g = csv_file(tmp_path / "12345导出_7月.csv", HOTLINE_HEADER,
                     [[f"J{r[0]}", *r[1:]] for r in hotline_rows()])
        again.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(g))
        again.get_by_text("按列对应“诉求-12345导出”读取这个文件").wait_for(timeout=60_000)
        again.get_by_text("检查通过：共 10 行").wait_for(timeout=60_000)
        again.context.close()
    assert street_rates(path) == (T2, T3, T4)


def test_whole_workbook_on_the_page_in_a_browser(tmp_path, browser):
    """整个工作簿 on the 数据管理 page: a bad fourth sheet is listed with its sheet, row and column (and
    the list downloads as .xlsx); the corrected workbook imports as one batch of every table."""
    from tests.browser import choose, open_page, running_server, wait_for_app

    path = init(tmp_path / "street.duckdb")

    def tamper(sheet, ws):
        if sheet == "小区党支部":
            ws["E3"] = "五人"

    bad = workbook(tmp_path / "新河街道_有错.xlsx", tamper)
    good = workbook(tmp_path / "新河街道.xlsx")
    with running_server(path) as base:
        page = open_page(browser, f"{base}/data")
        choose(page, "数据表", "整个工作簿（每个工作表一张表）")
        uploader = page.locator("[data-testid='stFileUploader'] input[type='file']")
        uploader.set_input_files(str(bad))
        page.get_by_text("发现 1 处问题，没有导入任何数据").wait_for(timeout=60_000)
        wait_for_app(page)
        with page.expect_download() as dl:
            page.get_by_role("button", name="下载问题清单（Excel）").click()
        assert dl.value.suggested_filename == "问题清单_新河街道_有错.xlsx"
        sheet = openpyxl.load_workbook(io.BytesIO(Path(dl.value.path()).read_bytes())).active
        assert [c.value for c in sheet[1]] == ["工作表", "行", "列", "值", "问题", "应为"]
        assert [c.value for c in sheet[2]][:5] == ["小区党支部", 3, "党员人数", "五人", "不是数字"]
        page.context.close()

        page = open_page(browser, f"{base}/data")
        choose(page, "数据表", "整个工作簿（每个工作表一张表）")
        page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(good))
        page.get_by_text("检查通过：7 个工作表共 25 行，将作为一个批次一次导入").wait_for(timeout=60_000)
        wait_for_app(page)
        page.get_by_role("button", name="导入").click()
        page.get_by_text("已导入工作簿 新河街道.xlsx：第 1 批").wait_for(timeout=60_000)
        page.get_by_text("第 1 批 · 整个工作簿 · 新河街道.xlsx · 新增 25 行，更新 0 行").wait_for(timeout=30_000)
        page.context.close()
    assert street_rates(path) == (T2, T3, T4)
