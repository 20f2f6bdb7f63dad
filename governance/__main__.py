"""Command line: `python -m governance demo [--db PATH]` and the other commands:

    python -m governance init [--db PATH]
    python -m governance import FILE --table TABLE [--db PATH] [--sheet NAME] [--update]
    python -m governance import BOOK.xlsx [--db PATH] [--update]          (one sheet per table)
    python -m governance import FILE --table tickets --map 源列名=字段 … | --mapping NAME
    python -m governance template TABLE [--format xlsx|csv] -o FILE
    python -m governance template --all -o FILE.xlsx
    python -m governance undo BATCH [--db PATH]

Exit codes: 0 success, 1 refused or bad input (the message says why), 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from governance import db


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # usage errors exit 2 with a Chinese hint
        self.print_usage(sys.stderr)
        print(f"用法错误：{message}", file=sys.stderr)
        sys.exit(2)


def _demo(args) -> int:
    from governance.demo import build_demo_database

    path = Path(args.db) if args.db else db.db_path()
    if path.exists() and not args.force:
        print(f"数据库 {path} 已存在；如要用演示数据覆盖，请加 --force。", file=sys.stderr)
        return 1
    if args.scale == "province":
        from governance.province import build_province_database

        result = build_province_database(path, progress=print)
        counts = "，".join(f"{k} {v:,}" for k, v in result["counts"].items())
        print(f"已生成省级规模演示数据库 {path}（{result['seconds']:.1f} 秒，峰值内存 {result['peak_rss_mb']:,.0f} MB，"
              f"文件 {result['size_mb']:,.0f} MB）：{counts}")
        return 0
    result = build_demo_database(path)
    counts = "，".join(f"{k} {v:,}" for k, v in result["counts"].items())
    print(f"已生成演示数据库 {path}（{result['seconds']:.1f} 秒）：{counts}")
    return 0


def _init(args) -> int:
    path = Path(args.db) if args.db else db.db_path()
    if path.exists():
        print(f"数据库 {path} 已存在，未做任何修改。", file=sys.stderr)
        return 1
    path.parent.mkdir(parents=True, exist_ok=True)
    con = db.connect(path)  # a new file: the schema and the documented default settings, no data
    try:
        n = con.execute("SELECT count(*) FROM settings").fetchone()[0]
        con.execute("CHECKPOINT")
    finally:
        con.close()
    print(f"已新建空数据库 {path}：表结构和 {n} 项默认指标设置（满意度等级权重 1/1/0.6/0/0、综合得分权重 0.1/0.5/0.4、"
          "社会组织目标 城市 10 / 农村 5），没有任何数据。下一步：python -m governance template --all -o 模板.xlsx")
    return 0


def _open_for_writing(args):
    """The database to import into; a path with no database gets an empty schema (no demo data)."""
    path = Path(args.db) if args.db else db.db_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return path, db.connect(path)


def _import(args) -> int:
    from governance import importer

    src = Path(args.file)
    if not src.is_file():
        print(f"找不到要导入的文件 {src}。", file=sys.stderr)
        return 1
    if src.stat().st_size > importer.MAX_FILE_BYTES:
        problems = [importer.Problem(None, "", "", f"文件大小为 {src.stat().st_size / 1024 / 1024:.1f} MB，"
                                     f"超过上限 {importer.MAX_FILE_BYTES / 1024 / 1024:.1f} MB",
                                     "更小的文件：可按年份或社区拆成几个文件分别导入")]
        _print_problems(src, problems, len(problems))
        return 1
    data = src.read_bytes()
    path, con = _open_for_writing(args)
    try:
        report, result = importer.import_file(con, args.table, data, src.name, sheet=args.sheet,
                                              update=args.update, who=importer.current_user())
    finally:
        con.close()
    for w in report.warnings:
        print(f"提示：{w}", file=sys.stderr)
    if result is None:
        _print_problems(src, report.problems, report.problem_count)
        return 1
    label = importer.SPECS[args.table].label
    print(f"已导入 {src.name} 到 {path}：第 {result.batch_id} 批，{label}表新增 {result.added:,} 行，"
          f"更新 {result.updated:,} 行。如需撤销：python -m governance undo {result.batch_id}")
    return 0


def _print_problems(src, problems, total) -> None:
    print(f"未导入 {src.name}：发现 {total:,} 处问题，数据库未做任何修改。", file=sys.stderr)
    print("行｜列｜值｜问题｜应为", file=sys.stderr)
    for p in problems:
        print(p.as_line(), file=sys.stderr)
    if total > len(problems):
        print(f"……另有 {total - len(problems):,} 处问题未列出。", file=sys.stderr)


def _template(args) -> int:
    from governance.templates import template_bytes

    out = Path(args.output)
    fmt = args.format or (out.suffix.lstrip(".").lower() if out.suffix.lower() in (".csv", ".xlsx") else "xlsx")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(template_bytes(args.table, fmt))
    print(f"已写出{fmt}模板 {out}")
    return 0


def _undo(args) -> int:
    from governance import importer

    path, con = _open_for_writing(args)
    try:
        print(importer.undo(con, args.batch))
    except importer.ImportRefused as exc:
        print(str(exc.problems[0].message) + (f"；{exc.problems[0].expected}" if exc.problems[0].expected else ""),
              file=sys.stderr)
        return 1
    finally:
        con.close()
    return 0


def _bench(args) -> int:
    from governance.bench import run_bench

    path = Path(args.db) if args.db else db.db_path()
    if not path.exists():
        print(f"找不到数据库 {path}；可先运行 python -m governance demo --scale province --db {path}", file=sys.stderr)
        return 1
    return run_bench(path, repeat=args.repeat, renders=args.renders)


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m governance", description="社区治理指标看板的命令行工具")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    demo = sub.add_parser("demo", help="生成演示数据库")
    demo.add_argument("--db", help="数据库路径（默认 $GOVERNANCE_DB 或 data/governance.duckdb）")
    demo.add_argument("--force", action="store_true", help="覆盖已存在的数据库")
    demo.add_argument("--scale", choices=["street", "province"], default="street",
                      help="street：六个报道社区及其街道（默认）；province：约 5,000 个社区、1,000 万件诉求")
    init = sub.add_parser("init", help="新建空数据库（表结构和默认指标设置，没有数据）")
    init.add_argument("--db", help="数据库路径（默认 $GOVERNANCE_DB 或 data/governance.duckdb）")
    from governance.importer import SPECS

    tables = list(SPECS)
    imp = sub.add_parser("import", help="导入本街道的 Excel/CSV 文件（一个文件对应一张表）")
    imp.add_argument("file", help="要导入的 .csv 或 .xlsx 文件")
    imp.add_argument("--table", required=True, choices=tables, help="导入到哪张表")
    imp.add_argument("--db", help="数据库路径（默认 $GOVERNANCE_DB 或 data/governance.duckdb；不存在时新建空库）")
    imp.add_argument("--sheet", help="Excel 工作表名称（默认第一个）")
    imp.add_argument("--update", action="store_true", help="数据库中已有的记录（如同一诉求编号）按文件内容更新")
    tpl = sub.add_parser("template", help="写出某张表的导入模板")
    tpl.add_argument("table", choices=tables)
    tpl.add_argument("--format", choices=["xlsx", "csv"], help="模板格式（默认按 -o 的扩展名，否则 xlsx）")
    tpl.add_argument("-o", "--output", required=True, help="输出文件")
    und = sub.add_parser("undo", help="撤销一个导入批次")
    und.add_argument("batch", type=int, help="批次号")
    und.add_argument("--db", help="数据库路径")
    bench = sub.add_parser("bench", help="省级规模性能基准（与 pandas 做法对比）")
    bench.add_argument("--db", help="数据库路径（默认 $GOVERNANCE_DB 或 data/governance.duckdb）")
    bench.add_argument("--repeat", type=int, default=20, help="每个查询重复次数（默认 20）")
    bench.add_argument("--renders", type=int, default=3, help="每页渲染重复次数（默认 3）")
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        commands = {"demo": _demo, "init": _init, "import": _import, "template": _template, "undo": _undo, "bench": _bench}
        return commands[args.command](args)
    except db.DatabaseError as exc:
        print(str(exc), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
