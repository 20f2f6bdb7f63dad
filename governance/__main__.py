"""Command line: `python -m governance demo [--db PATH]` and the other commands:

    python -m governance init [--db PATH]
    python -m governance import FILE --table TABLE [--db PATH] [--sheet NAME] [--update]
    python -m governance import BOOK.xlsx [--db PATH] [--update]          (one sheet per table)
    python -m governance import FILE --table tickets --map 源列名=字段 … | --mapping NAME
    python -m governance template TABLE [--format xlsx|csv] -o FILE
    python -m governance template --all -o FILE.xlsx
    python -m governance undo BATCH [--db PATH] [--as EMAIL]
    python -m governance users add EMAIL --role viewer|editor|admin --scope SCOPE [--name 姓名] [--db PATH]
    python -m governance users list [--db PATH]
    python -m governance users remove EMAIL [--db PATH]
    python -m governance bulletin --scope 江堤街道 --month 2023-08 -o 通报.docx [--db PATH]   (or .pdf)

Without --as the command line acts as an admin of everything (it has the database file anyway);
with --as EMAIL it acts with that registered user's role and scope (e.g. a scheduled job that loads
one street's file). Every write is recorded with who did it: the email, or the operating-system user.

Exit codes: 0 success, 1 refused or bad input (the message says why), 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from governance import access, db


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
    book = args.table is None
    if book and (args.map or args.mapping or args.save_mapping or args.sheet):
        print("用法错误：--map、--mapping、--save-mapping、--sheet 用于单张表的导入，请同时用 --table 指定数据表。", file=sys.stderr)
        return 2
    if book and src.suffix.lower() not in (".xlsx", ".xlsm"):
        print("用法错误：不指定 --table 时导入的是整个工作簿（.xlsx，每个工作表一张表）；CSV 文件请用 --table 指定数据表。",
              file=sys.stderr)
        return 2
    if not src.is_file():
        print(f"找不到要导入的文件 {src}。", file=sys.stderr)
        return 1
    if src.stat().st_size > importer.MAX_FILE_BYTES:  # checked before the file is read
        problems = [importer.Problem(None, "", "", f"文件大小为 {src.stat().st_size / 1024 / 1024:.1f} MB，"
                                     f"超过上限 {importer.MAX_FILE_BYTES / 1024 / 1024:.1f} MB",
                                     "更小的文件：可按年份或社区拆成几个文件分别导入")]
        _print_problems(src, problems, len(problems))
        return 1
    # a CSV is read from the file in chunks (a million rows never held at once); a workbook whole
    data = src if src.suffix.lower() == ".csv" else src.read_bytes()
    head = data if isinstance(data, bytes) else importer.reading.file_head(src)  # for the headers
    path, con = _open_for_writing(args)
    try:
        actor = access.cli_actor(con, args.as_email)
        if book:
            return _import_book(importer, con, path, src, data, args)
        try:
            mapping = _mapping(importer, con, args, src, head)
        except importer.MappingError as exc:
            print(str(exc), file=sys.stderr)
            return 1
        report, result = importer.import_file(con, args.table, data, src.name, sheet=args.sheet, update=args.update,
                                              mapping=mapping, actor=actor)
        if result is not None and args.save_mapping:
            importer.save_mapping(con, args.save_mapping, args.table,
                                  importer.file_headers(head, src.name, importer.SPECS[args.table], args.sheet),
                                  mapping or {}, actor=actor)
            print(f"已保存列对应“{args.save_mapping}”：以后表头相同的文件自动按它读取（或用 --mapping {args.save_mapping}）。")
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


def _mapping(importer, con, args, src: Path, data: bytes) -> dict | None:
    """--mapping NAME, then --map 源列名=字段 on top; without either, a saved mapping whose headers
    are the file's (announced), else none."""
    mapping: dict = {}
    if args.mapping:
        found = importer.load_mapping(con, args.mapping)
        if found is None:
            raise importer.MappingError(f"数据库中没有名为“{args.mapping}”的列对应")
        if found[0] != args.table:
            raise importer.MappingError(f"列对应“{args.mapping}”用于“{importer.SPECS[found[0]].label}”表，"
                                        f"不是“{importer.SPECS[args.table].label}”表")
        mapping.update(found[1])
    if args.map:
        mapping.update(importer.parse_map_args(args.table, args.map))
    if mapping:
        return mapping
    try:
        headers = importer.file_headers(data, src.name, importer.SPECS[args.table], args.sheet)
    except importer.ImportRefused:
        return None
    found = importer.find_mapping(con, args.table, headers)
    if found is None:
        return None
    print(f"提示：文件的表头与保存的列对应“{found[0]}”相同，按它读取。", file=sys.stderr)
    return found[1]


def _import_book(importer, con, path, src: Path, data: bytes, args) -> int:
    book, result = importer.import_workbook(con, data, src.name, update=args.update,
                                            actor=access.cli_actor(con, args.as_email))
    for w in book.warnings:
        print(f"提示：{w}", file=sys.stderr)
    if result is None:
        _print_problems(src, book.problems, book.problem_count)
        return 1
    parts = "，".join(f"{importer.SPECS[r.table].label} {r.n_new:,} 行" + (f"（更新 {r.n_update:,} 行）" if r.n_update else "")
                     for r in book.reports)
    print(f"已导入工作簿 {src.name} 到 {path}：第 {result.batch_id} 批（一个批次），新增 {parts}。"
          f"如需撤销整个工作簿：python -m governance undo {result.batch_id}")
    return 0


def _print_problems(src, problems, total) -> None:
    print(f"未导入 {src.name}：发现 {total:,} 处问题，数据库未做任何修改。", file=sys.stderr)
    print("行｜列｜值｜问题｜应为", file=sys.stderr)
    for p in problems:
        print(p.as_line(), file=sys.stderr)
    if total > len(problems):
        print(f"……另有 {total - len(problems):,} 处问题未列出。", file=sys.stderr)


def _template(args) -> int:
    from governance.templates import template_bytes, workbook_template_bytes

    out = Path(args.output)
    if args.all == (args.table is not None):
        print("用法错误：请指定一张表，或用 --all 写出整个工作簿的模板（二选一）。", file=sys.stderr)
        return 2
    if args.all:
        if args.format == "csv" or out.suffix.lower() == ".csv":
            print("用法错误：整个工作簿的模板只有 .xlsx 格式。", file=sys.stderr)
            return 2
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(workbook_template_bytes())
        print(f"已写出整个工作簿的模板 {out}：每张表一个工作表，填好后 python -m governance import {out.name}")
        return 0
    fmt = args.format or (out.suffix.lstrip(".").lower() if out.suffix.lower() in (".csv", ".xlsx") else "xlsx")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(template_bytes(args.table, fmt))
    print(f"已写出{fmt}模板 {out}")
    return 0


def _undo(args) -> int:
    from governance import importer

    path, con = _open_for_writing(args)
    try:
        print(importer.undo(con, args.batch, actor=access.cli_actor(con, args.as_email)))
    except importer.ImportRefused as exc:
        print(str(exc.problems[0].message) + (f"；{exc.problems[0].expected}" if exc.problems[0].expected else ""),
              file=sys.stderr)
        return 1
    finally:
        con.close()
    return 0


def _users(args) -> int:
    path, con = _open_for_writing(args)
    try:
        actor = access.cli_actor(con)
        if args.users_command == "add":
            print(access.add_user(con, actor, args.email, args.role, args.scope, args.name))
        elif args.users_command == "remove":
            print(access.remove_user(con, actor, args.email))
        else:
            users = access.list_users(con)
            if users.empty:
                print("还没有登记的用户。添加：python -m governance users add 邮箱 --role viewer|editor|admin --scope 范围")
            for u in users.to_dict("records"):
                print(f"{u['email']}\t{u['name'] or ''}\t{access.ROLES[u['role']]}（{u['role']}）\t"
                      f"范围：{access.scope_from_row(u).label()}\t添加于 {u['created_at']:%Y-%m-%d %H:%M}，由 {u['created_by'] or ''}")
    finally:
        con.close()
    return 0


def _as_writer(command, args) -> int:
    """A write from the command line is a writer like any other: it waits for the writer lock (a
    write on the dashboard may be running) and, while `serve` runs dashboard processes on snapshots,
    publishes a snapshot so they show the new data at their next run."""
    from governance import writer

    path = Path(args.db) if args.db else db.db_path()
    with writer.exclusive(path, on_wait=lambda: print("另一个写入（导入、撤销等）正在进行，等待它结束……", file=sys.stderr)):
        rc = command(args)
        if rc == 0 and writer.is_served(path):
            snap = writer.checkpoint_and_publish(db.connect(path), path)
            print(f"已发布只读快照 {snap.name}：正在运行的看板在下一次刷新页面时显示新数据。")
    return rc


def _serve(args) -> int:
    from governance import serve

    return serve.serve(args.replicas, args.port, Path(args.db) if args.db else db.db_path(), address=args.address)


def _write_call(args) -> int:
    from governance import writer

    return writer.write_call_main(Path(args.db) if args.db else db.db_path())


def _bench(args) -> int:
    from governance.bench import run_bench

    path = Path(args.db) if args.db else db.db_path()
    if not path.exists():
        print(f"找不到数据库 {path}；可先运行 python -m governance demo --scale province --db {path}", file=sys.stderr)
        return 1
    pages = [p.strip() for p in args.pages.split(",")] if args.pages else None
    return run_bench(path, repeat=args.repeat, renders=args.renders, pages=pages, browser_warm=args.browser_warm,
                     only=args.only)


def _bulletin(args) -> int:
    from governance import bulletin, bulletin_files, filters
    from governance.periods import parse_month

    out = Path(args.output)
    path = Path(args.db) if args.db else db.db_path()
    if not path.exists():
        print(f"找不到数据库 {path}；可先运行 python -m governance demo --db {path}", file=sys.stderr)
        return 1
    con = db.connect(path, read_only=True)
    try:
        communities = db.run_query(con, "common/communities", max_rows=db.SUM_ROWS, scope=access.ALL_SCOPE)
        region, problem = bulletin.resolve_scope(args.scope, communities)
        if region is None:
            print(f"无法生成通报：{problem}", file=sys.stderr)
            return 1
        data_range = db.run_query(con, "common/data_range", scope=access.ALL_SCOPE).iloc[0]
        first, last = data_range["first_month"], data_range["last_month"]
        month = parse_month(args.month.strip())
        if month is None:
            print(f"无法生成通报：月份“{args.month[:20]}”格式不对，应为 YYYY-MM（如 2023-08）。", file=sys.stderr)
            return 1
        if first is None or first != first or not (first <= month <= last):
            span = "数据库中没有数据" if first is None or first != first else f"数据只覆盖 {first:%Y-%m} 至 {last:%Y-%m}"
            print(f"无法生成通报：{span}，没有 {args.month} 的数据。", file=sys.stderr)
            return 1
        b = bulletin.from_connection(con, region, month)
    finally:
        con.close()
    pictures = bulletin_files.chart_pictures(b)
    data = bulletin_files.docx_bytes(b, pictures) if out.suffix.lower() == ".docx" else bulletin_files.pdf_bytes(b, pictures)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    print(f"已写出 {b.title}：{out}（{len(data) / 1024:,.0f} KB）")
    return 0


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
    imp = sub.add_parser("import", help="导入本街道的 Excel/CSV 文件（一个文件一张表，或整个工作簿）")
    imp.add_argument("file", help="要导入的 .csv 或 .xlsx 文件")
    imp.add_argument("--table", choices=tables,
                     help="导入到哪张表；不指定时导入整个工作簿（.xlsx，工作表名为表名，一次检查、一个批次）")
    imp.add_argument("--db", help="数据库路径（默认 $GOVERNANCE_DB 或 data/governance.duckdb；不存在时新建空库）")
    imp.add_argument("--sheet", help="Excel 工作表名称（默认第一个）")
    imp.add_argument("--update", action="store_true", help="数据库中已有的记录（如同一诉求编号）按文件内容更新")
    imp.add_argument("--as", dest="as_email", metavar="EMAIL", help="以这位已登记用户的角色和范围导入（如定时任务）")
    imp.add_argument("--map", action="append", metavar="源列名=字段",
                     help="文件中的列对应哪个字段（可重复），如 --map 受理时间=received_at --map 诉求分类=category；"
                          "字段为模板的英文列名，另有 category（一列写全分类路径）、satisfaction_stars（1—5 星）")
    imp.add_argument("--mapping", metavar="名称", help="按保存过的列对应读取")
    imp.add_argument("--save-mapping", metavar="名称", help="导入成功后把本次的列对应保存为这个名称")
    tpl = sub.add_parser("template", help="写出导入模板（某张表，或 --all 整个工作簿）")
    tpl.add_argument("table", nargs="?", choices=tables)
    tpl.add_argument("--all", action="store_true", help="整个工作簿：每张表一个工作表，另有各列的填写说明")
    tpl.add_argument("--format", choices=["xlsx", "csv"], help="模板格式（默认按 -o 的扩展名，否则 xlsx）")
    tpl.add_argument("-o", "--output", required=True, help="输出文件")
    und = sub.add_parser("undo", help="撤销一个导入批次")
    und.add_argument("batch", type=int, help="批次号")
    und.add_argument("--db", help="数据库路径")
    und.add_argument("--as", dest="as_email", metavar="EMAIL", help="以这位已登记用户的角色和范围撤销")
    usr = sub.add_parser("users", help="管理可登录的用户（角色和范围）")
    usr_sub = usr.add_subparsers(dest="users_command", parser_class=_Parser, required=True)
    u_add = usr_sub.add_parser("add", help="添加用户，或修改已有用户的角色、范围、姓名")
    u_add.add_argument("email", help="登录用的邮箱（统一身份认证返回的 email）")
    u_add.add_argument("--role", required=True, help="viewer（查看者）、editor（编辑者）或 admin（管理员）")
    u_add.add_argument("--scope", required=True, help="全部，或地区路径如 湖北省/武汉市/汉阳区/江堤街道（唯一的名称也可，如 江堤街道）")
    u_add.add_argument("--name", help="姓名")
    u_add.add_argument("--db", help="数据库路径")
    u_list = usr_sub.add_parser("list", help="列出用户")
    u_list.add_argument("--db", help="数据库路径")
    u_rm = usr_sub.add_parser("remove", help="删除用户")
    u_rm.add_argument("email")
    u_rm.add_argument("--db", help="数据库路径")
    bench = sub.add_parser("bench", help="省级规模性能基准（与 pandas 做法对比）")
    bench.add_argument("--db", help="数据库路径（默认 $GOVERNANCE_DB 或 data/governance.duckdb）")
    bench.add_argument("--repeat", type=int, default=20, help="每个查询重复次数（默认 20）")
    bench.add_argument("--renders", type=int, default=3, help="每页渲染重复次数（默认 3）")
    bench.add_argument("--browser-warm", type=int, default=2, help="浏览器部分每个链接的热加载次数（默认 2）")
    bench.add_argument("--only", choices=["browser", "server"], help="只运行浏览器部分，或只运行服务器部分")
    bench.add_argument("--pages", help="只测这些页面（url_path，逗号分隔），如 compare,overview")
    bul = sub.add_parser("bulletin", help="写出月度通报（Word 或 PDF）")
    bul.add_argument("--scope", required=True, help="省、市、区、街道或社区的名称，如 江堤街道")
    bul.add_argument("--month", required=True, help="通报月份 YYYY-MM，如 2023-08")
    bul.add_argument("-o", "--output", required=True, help="输出文件：.docx 或 .pdf")
    bul.add_argument("--db", help="数据库路径（默认 $GOVERNANCE_DB 或 data/governance.duckdb）")
    srv = sub.add_parser("serve", help="多进程启动看板：nginx + 多个看板进程 + 一个写入进程（全班同时打开一个链接时用）")
    srv.add_argument("--replicas", type=int, default=2, help="看板进程数（默认 2；1 即 streamlit run app.py）")
    srv.add_argument("--port", type=int, default=8501, help="对外端口（默认 8501）")
    srv.add_argument("--address", default="127.0.0.1",
                     help="对外地址（默认 127.0.0.1 只供本机；全班使用请配置登录后用 0.0.0.0）")
    srv.add_argument("--db", help="数据库路径（默认 $GOVERNANCE_DB 或 data/governance.duckdb）")
    wc = sub.add_parser("write-call", help=argparse.SUPPRESS)   # the writer subprocess of `serve` (governance/writer.py)
    wc.add_argument("--db", required=True)
    args = parser.parse_args(argv)
    if args.command == "bulletin" and Path(args.output).suffix.lower() not in (".docx", ".pdf"):
        bul.error(f"输出文件 {args.output} 的扩展名应为 .docx 或 .pdf")
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        commands = {"demo": _demo, "init": _init, "import": _import, "template": _template, "undo": _undo, "bench": _bench,
                    "users": _users, "bulletin": _bulletin, "serve": _serve, "write-call": _write_call}
        if args.command in ("import", "undo") or (args.command == "users" and args.users_command in ("add", "remove")):
            return _as_writer(commands[args.command], args)
        return commands[args.command](args)
    except (db.DatabaseError, access.AccessError) as exc:
        print(str(exc), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
