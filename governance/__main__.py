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
    result = build_demo_database(path)
    counts = "，".join(f"{k} {v:,}" for k, v in result["counts"].items())
    print(f"已生成演示数据库 {path}（{result['seconds']:.1f} 秒）：{counts}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m governance", description="社区治理指标看板的命令行工具")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    demo = sub.add_parser("demo", help="生成演示数据库")
    demo.add_argument("--db", help="数据库路径（默认 $GOVERNANCE_DB 或 data/governance.duckdb）")
    demo.add_argument("--force", action="store_true", help="覆盖已存在的数据库")
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return {"demo": _demo}[args.command](args)
    except db.DatabaseError as exc:
        print(str(exc), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
