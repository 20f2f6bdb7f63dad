"""The importer against bad (and awkward but good) files: each case names the exact Chinese
message a user sees, with the row as Excel numbers it and the column as the file names it.

Fixture facts used (tests/fixtures.py): 东街道 has 甲社区 (compounds 甲一小区 with 1号楼/2号楼,
甲二小区 with 1号楼, 甲三小区) and 乙村; 西街道 has 丙社区; tickets T1..T6 and C1 exist;
甲社区 has organisation 甲志愿服务队.
"""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest

from governance import db, importer, templates
from governance.access import ALL_SCOPE
from tests.fixtures import ADMIN

TICKET_HEAD = "诉求编号,街道,社区,小区,楼栋,一级分类,受理时间,办结时间"


def csv_bytes(*lines: str, encoding: str = "utf-8") -> bytes:
    return ("\n".join(lines) + "\n").encode(encoding)


def check(con, table: str, data: bytes, name: str = "f.csv", **kw):
    report = importer.validate(con, table, data, name, **kw, scope=ALL_SCOPE)
    return [(p.row, p.column, p.message) for p in report.problems], report


def table_counts(con) -> dict:
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in importer.SPECS}


# (case, table, file bytes, file name, expected problems as (row, column, message))
CASES = [
    ("empty", "tickets", b"", "f.csv", [(None, "", "文件是空的")]),
    ("only blank lines", "tickets", b"\r\n , \r\n\r\n", "f.csv", [(None, "", "文件是空的")]),
    ("binary renamed .csv", "tickets", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "photo.csv",
     [(None, "", "文件不是文本表格（看起来是二进制文件，可能只是改了扩展名）")]),
    ("legacy .xls", "tickets", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old.csv",
     [(None, "", "这是旧版 Excel（.xls）文件，无法直接读取")]),
    ("broken .xlsx", "tickets", b"PK\x03\x04garbage", "f.xlsx",
     [(None, "", "无法打开这个 Excel 文件（文件已损坏，或不是 .xlsx 格式）")]),
    ("no header at all", "tickets", csv_bytes("a,b,c", "1,2,3"), "f.csv",
     [(1, "", "找不到“诉求”表的表头（前 10 行中没有一个可识别的列名）")]),
    ("header only", "tickets", csv_bytes(TICKET_HEAD), "f.csv", [(None, "", "文件只有表头，没有数据行")]),
    ("missing required column", "tickets",
     csv_bytes("诉求编号,街道,社区,一级分类", "N1,东街道,甲社区,物业管理"), "f.csv",
     [(1, "受理时间", "缺少必填列")]),
    ("wrong type and negative count", "communities",
     csv_bytes("province,city,district,street,community,type,households,residents",
               "测试省,测试市,测试区,东街道,新社区,城市,很多,-5"), "f.csv",
     [(2, "households", "不是数字"), (2, "residents", "不能为负数")]),
    ("not an integer", "compounds", csv_bytes("街道,社区,小区,户数", "东街道,甲社区,甲四小区,12.5"), "f.csv",
     [(2, "户数", "应为整数")]),
    ("impossible dates", "tickets",
     csv_bytes(TICKET_HEAD, "N1,东街道,甲社区,,,物业管理,2023-02-30,", "N2,东街道,甲社区,,,物业管理,2023年13月1日,",
               "N3,东街道,甲社区,,,物业管理,昨天,", "N4,东街道,甲社区,,,物业管理,1023-01-01,"), "f.csv",
     [(2, "受理时间", "日期不存在（月份或日子超出范围）"), (3, "受理时间", "日期不存在（月份或日子超出范围）"),
      (4, "受理时间", "无法识别的日期时间"), (5, "受理时间", "年份不合理（应在 1900—2100 年之间）")]),
    ("closed before received", "tickets",
     csv_bytes(TICKET_HEAD, "N1,东街道,甲社区,,,物业管理,2023-06-05 09:00,2023-06-04 09:00"), "f.csv",
     [(2, "办结时间", "办结时间早于受理时间")]),
    ("required value blank", "tickets", csv_bytes(TICKET_HEAD, "N1,东街道,甲社区,,,,2023-06-05,"), "f.csv",
     [(2, "一级分类", "必填项为空")]),
    ("unknown community, compound and building", "tickets",
     csv_bytes(TICKET_HEAD, "N1,东街道,丙社区,,,物业管理,2023-06-05,",  # 丙社区 is in 西街道
               "N2,东街道,甲社区,甲九小区,,物业管理,2023-06-05,",
               "N3,东街道,甲社区,甲二小区,2号楼,物业管理,2023-06-05,",
               "N4,东街道,甲社区,,1号楼,物业管理,2023-06-05,"), "f.csv",
     [(2, "社区", "在“东街道”下找不到这个社区"), (3, "小区", "在该社区下找不到这个小区"),
      (4, "楼栋", "在该小区下找不到这个楼栋"), (5, "楼栋", "填写了楼栋但没有填写小区")]),
    ("unknown organisation", "org_monthly",
     csv_bytes("街道,社区,组织名称,月份,志愿者人数", "东街道,甲社区,不存在的队,2023-06,10"), "f.csv",
     [(2, "组织名称", "在该社区下找不到这个社会组织")]),
    ("duplicate within the file", "tickets",
     csv_bytes(TICKET_HEAD, "N1,东街道,甲社区,,,物业管理,2023-06-05,", "N2,东街道,甲社区,,,物业管理,2023-06-05,",
               "N1,东街道,甲社区,,,物业管理,2023-06-06,"), "f.csv",
     [(4, "诉求编号", "与第 2 行重复（诉求编号相同）")]),
    ("duplicate against stored rows", "tickets", csv_bytes(TICKET_HEAD, "T1,东街道,甲社区,,,物业管理,2023-06-05,"), "f.csv",
     [(2, "诉求编号", "数据库中已有这条记录（诉求编号相同）")]),
    ("bad yes/no, satisfaction and type", "tickets",
     csv_bytes("诉求编号,街道,社区,一级分类,受理时间,回访联系上,满意度", "N1,东街道,甲社区,物业管理,2023-06-05,也许,还行"), "f.csv",
     [(2, "回访联系上", "无法识别的是/否"), (2, "满意度", "无法识别的满意度")]),
    ("date without a day", "social_orgs",
     csv_bytes("街道,社区,组织名称,组织类型,是否党建引领,成立日期", "东街道,甲社区,新队,志愿服务,是,2023年6月"), "f.csv",
     [(2, "成立日期", "缺少日（只有年月）")]),
    ("dissolved before established", "branches",
     csv_bytes("街道,社区,党支部名称,党员人数,成立日期,撤销日期", "东街道,甲社区,新支部,5,2023-06-01,2023-05-01"), "f.csv",
     [(2, "撤销日期", "撤销日期早于成立日期")]),
    ("the same column twice", "tickets",
     csv_bytes("诉求编号,ticket_id,街道,社区,一级分类,受理时间", "N1,N1,东街道,甲社区,物业管理,2023-06-05"), "f.csv",
     [(1, "ticket_id", "列“ticket_id”与“诉求编号”是同一列，重复出现")]),
    ("the template's example row left in", "communities", templates.template_bytes("communities", "csv"), "t.csv",
     [(2, "", "这是模板里的示例行")]),
    # a row of GBK text with one bad date: the value comes back as the user wrote it
    ("GBK with an error", "tickets",
     csv_bytes(TICKET_HEAD, "N1,东街道,甲社区,甲一小区,1号楼,物业管理,二〇二三年六月,", encoding="gbk"), "gbk.csv",
     [(2, "受理时间", "无法识别的日期时间")]),
]


@pytest.mark.parametrize("case,table,data,name,expected", CASES, ids=[c[0] for c in CASES])
def test_bad_file_is_reported_exactly_and_nothing_is_written(fixture_con, case, table, data, name, expected):
    before = table_counts(fixture_con)
    report, result = importer.import_file(fixture_con, table, data, name, actor=ADMIN)
    assert result is None
    assert [(p.row, p.column, p.message) for p in report.problems] == expected
    assert all(p.expected for p in report.problems if p.message != "这是模板里的示例行")
    assert table_counts(fixture_con) == before
    assert fixture_con.execute("SELECT count(*) FROM import_batches").fetchall()[0][0] == 0


def test_file_over_the_size_limit(fixture_con):
    data = csv_bytes(TICKET_HEAD, *[f"N{i},东街道,甲社区,,,物业管理,2023-06-05," for i in range(40_000)])
    assert len(data) > 1024 * 1024 * 1.5
    problems, _ = check(fixture_con, "tickets", data, max_bytes=1024 * 1024)
    assert problems == [(None, "", f"文件大小为 {len(data) / 1024 / 1024:.1f} MB，超过上限 1.0 MB")]


def test_gbk_file_with_chinese_headers_imports(fixture_con):
    data = csv_bytes(TICKET_HEAD + ",回访联系上,是否解决,满意度",
                     "G1,东街道,甲社区,甲一小区,1号楼,物业管理,2023/6/1 9:30,2023年6月2日,是,否,不满意", encoding="gbk")
    report, result = importer.import_file(fixture_con, "tickets", data, "gbk.csv", actor=ADMIN)
    assert report.problems == [] and result.added == 1
    row = fixture_con.execute("SELECT community_id, compound_id, building_id, received_at, closed_at, contacted, solved, "
                              "satisfaction, source, batch_id FROM tickets WHERE ticket_id = 'G1'").fetchall()[0]
    assert row == (1, 11, 111, dt.datetime(2023, 6, 1, 9, 30), dt.datetime(2023, 6, 2), True, False, "不满意", "import",
                   result.batch_id)


def test_awkward_but_valid_values(fixture_con):
    """UTF-8 with BOM, full-width digits, yes/no spellings, 城市/农村, a title row, blank rows."""
    data = ("\ufeff东街道社区台账（2023年）,,,,,,,\n"
            "省,市,区县,街道,社区,类型,户数,居民人数\n"
            "测试省,测试市,测试区,东街道,新一社区,城市,１２０,３００\n"
            "\n"
            "测试省,测试市,测试区,东街道,新二村,农村,\"1,200\",\n"
            ",,,,,,,\n\n").encode("utf-8")
    report, result = importer.import_file(fixture_con, "communities", data, "c.csv", actor=ADMIN)
    assert report.problems == [] and result.added == 2
    rows = fixture_con.execute("SELECT community, type, households, residents FROM communities WHERE batch_id = ? "
                               "ORDER BY community_id", [result.batch_id]).fetchall()
    assert rows == [("新一社区", "urban", 120, 300), ("新二村", "rural", 1200, None)]


@pytest.mark.parametrize("text,expected", [
    ("2023-06-01", dt.date(2023, 6, 1)), ("2023/6/1", dt.date(2023, 6, 1)), ("2023年6月1日", dt.date(2023, 6, 1)),
    ("２０２３年６月１日", dt.date(2023, 6, 1)), ("2023.6.1", dt.date(2023, 6, 1)),
])
def test_date_forms(fixture_con, text, expected):
    data = csv_bytes("街道,社区,做法名称,开始日期", f"东街道,甲社区,新做法,{text}")
    report, result = importer.import_file(fixture_con, "practices", data, "p.csv", actor=ADMIN)
    assert report.problems == []
    assert fixture_con.execute("SELECT started_on FROM practices WHERE batch_id = ?", [result.batch_id]).fetchall() == [(expected,)]


@pytest.mark.parametrize("word,value", [("是", True), ("否", False), ("Y", True), ("n", False), ("1", True),
                                        ("0", False), ("TRUE", True), ("false", False)])
def test_yes_no_forms(fixture_con, word, value):
    data = csv_bytes("街道,社区,组织名称,组织类型,是否党建引领,成立日期", f"东街道,甲社区,新队,志愿服务,{word},2023-01-01")
    report, result = importer.import_file(fixture_con, "social_orgs", data, "o.csv", actor=ADMIN)
    assert report.problems == []
    assert fixture_con.execute("SELECT party_led FROM social_orgs WHERE org = '新队'").fetchall() == [(value,)]


def test_months_as_chinese_text(fixture_con):
    data = csv_bytes("街道,社区,组织名称,月份,志愿者人数", "东街道,甲社区,甲志愿服务队,2023年7月,30")
    report, result = importer.import_file(fixture_con, "org_monthly", data, "m.csv", actor=ADMIN)
    assert report.problems == []
    assert fixture_con.execute("SELECT org_id, month, volunteers FROM org_monthly WHERE batch_id = ?",
                               [result.batch_id]).fetchall() == [(401, dt.date(2023, 7, 1), 30)]


def xlsx(build) -> bytes:
    wb = openpyxl.Workbook()
    build(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_xlsx_merged_headers_excel_dates_and_named_sheet(fixture_con):
    """Row 1 a merged title, rows 2-3 a two-level header (回访 merged over three columns,
    诉求编号 merged down two rows); data from row 4 with Excel date cells; on the second sheet."""

    def build(wb):
        wb.active.title = "说明"
        ws = wb.create_sheet("诉求台账")
        ws.append(["东街道诉求台账"])
        ws.merge_cells("A1:H1")
        ws.append(["诉求编号", "街道", "社区", "一级分类", "受理时间", "回访", None, None])
        ws.append([None, None, None, None, None, "回访联系上", "是否解决", "满意度"])
        for col in "ABCDE":
            ws.merge_cells(f"{col}2:{col}3")
        ws.merge_cells("F2:H2")
        ws.append(["X1", "东街道", "甲社区", "物业管理", dt.datetime(2023, 6, 1, 8, 0), "Y", "N", "基本满意"])
        ws.append(["X2", "东街道", "甲社区", "物业管理", dt.date(2023, 6, 30), 1, 0, None])
        ws.append([None] * 8)

    data = xlsx(build)
    assert importer.sheet_names(data) == ["说明", "诉求台账"]
    report, result = importer.import_file(fixture_con, "tickets", data, "台账.xlsx", sheet="诉求台账", actor=ADMIN)
    assert report.problems == [] and result.added == 2
    rows = fixture_con.execute("SELECT ticket_id, received_at, contacted, solved, satisfaction FROM tickets "
                               "WHERE batch_id = ? ORDER BY ticket_id", [result.batch_id]).fetchall()
    assert rows == [("X1", dt.datetime(2023, 6, 1, 8), True, False, "基本满意"),
                    ("X2", dt.datetime(2023, 6, 30), True, False, None)]


def test_xlsx_errors_use_excel_row_numbers(fixture_con):
    def build(wb):
        ws = wb.active
        ws.append(["标题"])
        ws.append(["诉求编号", "街道", "社区", "一级分类", "受理时间"])
        ws.append(["X1", "东街道", "甲社区", "物业管理", "2023-06-01"])
        ws.append(["X2", "东街道", "无名社区", "物业管理", "2023-06-01"])

    problems, _ = check(fixture_con, "tickets", xlsx(build), "f.xlsx")
    assert problems == [(4, "社区", "在“东街道”下找不到这个社区")]


def test_xlsx_formula_without_a_saved_value(fixture_con):
    def build(wb):
        ws = wb.active
        ws.append(["街道", "社区", "小区", "户数"])
        ws.append(["东街道", "甲社区", "甲四小区", "=20*3"])

    problems, report = check(fixture_con, "compounds", xlsx(build), "f.xlsx")
    assert problems == [(2, "D", "单元格是公式，但文件里没有保存计算结果，无法读取它的值")]
    assert report.problems[0].value == "=20*3"


def test_unknown_sheet(fixture_con):
    problems, _ = check(fixture_con, "tickets", xlsx(lambda wb: None), "f.xlsx", sheet="诉求")
    assert problems == [(None, "", "文件中没有名为“诉求”的工作表（现有：Sheet）")]


def test_extra_columns_are_reported_and_ignored(fixture_con):
    data = csv_bytes("街道,社区,小区,户数,负责人", "东街道,甲社区,甲四小区,10,老王")
    report, result = importer.import_file(fixture_con, "compounds", data, "c.csv", actor=ADMIN)
    assert report.warnings == ["列“负责人”不是“小区”表的列，已忽略"]
    assert result.added == 1


def test_every_problem_in_one_pass(fixture_con):
    """Three bad rows, four problems: all reported, none hides another."""
    data = csv_bytes(TICKET_HEAD, "N1,东街道,甲社区,,,物业管理,2023-02-30,", "N2,东街道,无名社区,,,物业管理,2023-06-01,",
                     "N3,东街道,甲社区,,,,2023-06-05,2023-06-01", "N4,东街道,甲社区,,,物业管理,2023-06-05,")
    problems, report = check(fixture_con, "tickets", data)
    assert problems == [(2, "受理时间", "日期不存在（月份或日子超出范围）"), (3, "社区", "在“东街道”下找不到这个社区"),
                        (4, "一级分类", "必填项为空"), (4, "办结时间", "办结时间早于受理时间")]
    assert report.problem_count == 4


def test_templates_match_the_importer(fixture_con):
    for table in importer.SPECS:
        wb = openpyxl.load_workbook(io.BytesIO(templates.template_bytes(table, "xlsx")))
        assert len(wb.sheetnames) == 2 and wb.sheetnames[1] == "填写说明"
        header = [c.value for c in wb.worksheets[0][1]]
        assert header == [c.label for c in importer.SPECS[table].cols]
        assert wb.worksheets[0].max_row == 2  # header and one example row
        explained = [r[0] for r in wb["填写说明"].iter_rows(min_row=6, values_only=True)]
        assert explained == header


def test_new_database_gets_an_empty_schema(tmp_path):
    con = db.connect(tmp_path / "new.duckdb")
    assert table_counts(con) == {t: 0 for t in importer.SPECS}
    data = csv_bytes("省,市,区县,街道,社区,类型", "湖北省,武汉市,汉阳区,江堤街道,某社区,城市")
    report, result = importer.import_file(con, "communities", data, "c.csv", actor=ADMIN)
    assert result.added == 1 and result.batch_id == 1
