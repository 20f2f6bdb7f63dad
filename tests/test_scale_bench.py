"""A small-scale run of the benchmark, so it keeps working (the province-scale run is not a test)."""

from governance.bench import SECTIONS, run_bench
from governance.province import build_province_database


def test_bench_prints_every_section_for_every_page_and_selection(tmp_path, capsys):
    path = tmp_path / "small.duckdb"
    build_province_database(path, n_communities=80, n_tickets=60_000)
    run_bench(path, repeat=2, renders=1, import_rows=5_000)
    out = capsys.readouterr().out
    for title in SECTIONS:
        assert f"== {title} ==" in out, title
    for page in ("总览", "组织覆盖", "社会组织", "诉求办理"):
        assert f"\n{page} | 全省（演示省） |" in out, page
    for selection in ("全省", "一个市", "一个街道", "一个社区"):
        assert f"| {selection}（" in out
    assert "tickets/rates_by_community" in out and "pandas 中位" in out
    # the pandas way computed the same answers as the SQL
    pandas_rows = out.split("== pandas 对比 ==")[1].split("==")[0]
    assert "| 否" not in pandas_rows and "| 是" in pandas_rows
    assert "页面无异常：0 个异常" in out
    # the import went through the importer: every row written, rollups current, nothing refused
    assert "写入 5,000 件，汇总表与诉求表一致" in out and "导入被拒" not in out
    assert "首次冷渲染中 SQL 占 s" in out
    targets = out.split("== 目标 ==")[1]
    assert targets.count("✓") + targets.count("✗") == 8
