"""Command line: `python -m governance demo [--db PATH]` and the other commands.

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
    bench = sub.add_parser("bench", help="省级规模性能基准（与 pandas 做法对比）")
    bench.add_argument("--db", help="数据库路径（默认 $GOVERNANCE_DB 或 data/governance.duckdb）")
    bench.add_argument("--repeat", type=int, default=20, help="每个查询重复次数（默认 20）")
    bench.add_argument("--renders", type=int, default=3, help="每页渲染重复次数（默认 3）")
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return {"demo": _demo, "bench": _bench}[args.command](args)
    except db.DatabaseError as exc:
        print(str(exc), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
