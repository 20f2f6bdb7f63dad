"""A small-scale run of the benchmark, so it keeps working (the province-scale run is not a test)."""

from governance.bench import SECTIONS, run_bench
from governance.province import build_province_database


def test_bench_prints_every_section_for_every_page_and_selection(tmp_path, capsys):
    path = tmp_path / "small.duckdb"
    build_province_database(path, n_communities=80, n_tickets=60_000)
    run_bench(path, repeat=2, renders=1, import_rows=5_000, browser_warm=1, browser_pages=["compare"])
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
    # the browser section: 社区对比 at every selection, with 3 and 8 communities, in 培训模式 too; every
    # load finished (charts drawn) in a real Chromium beside the floor page, with the bytes it received
    browser = out.split("== 浏览器 ==")[1].split("== 目标 ==")[0]
    lines = [line for line in browser.splitlines() if line.startswith("社区对比") and line.count("|") >= 9]
    assert len(lines) == 4 + 4, browser
    for line in lines:
        cells = [c.strip() for c in line.split("|")]
        cold, warm, floor = (float(c) for c in cells[2:5])
        assert 0 < floor and 0 < warm and 0 < cold
        assert cells[7].endswith("KB）") and int(cells[7].split("（")[1].split(" ")[0].replace(",", "")) > 0
        assert cells[8] == "0"   # no exception on the page
    assert any("| 8个社区 |" in line for line in lines) and any("（培训模式） | 3个社区 |" in line for line in lines)
    # each of 社区对比's other tabs chosen in turn after its load (培训模式 has no tabs), click to drawn
    tabs = browser.split("切换标签")[1].split("基准页")[0]
    timed = {}
    for line in tabs.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) == 5 and cells[0] == "社区对比":
            timed[(cells[1], cells[2])] = (float(cells[3]), float(cells[4]))
    assert set(timed) == {(n, t) for n in ("3个社区", "8个社区") for t in ("指标画像与月度三率", "经验做法", "导出")}, tabs
    assert all(cold > 0 and warm > 0 for cold, warm in timed.values())
    targets = out.split("== 目标 ==")[1]
    assert targets.count("✓") + targets.count("✗") == 11   # the snapshot publish's target included
    assert "发布一次只读快照" in targets
