"""One workbook, every table: sheets named by table (its Chinese label, the table name or a common
short name), taken in dependency order, checked and written together as one batch in one
transaction (governance.importer.writing.import_sources), or nothing."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from governance.importer.problems import BatchResult, ImportRefused, Problem, Report, problems_frame
from governance.importer.reading import _check_size, sheet_names
from governance.importer.specs import MAX_FILE_BYTES, SPECS, _norm_header
from governance.importer.validation import _sha256
from governance.access import Actor
from governance.importer.writing import Source, import_sources
from governance.schema import DATA_TABLES

from governance.importer.undo import WORKBOOK  # import_batches.table_name of a whole workbook
WORKBOOK_LABEL = "整个工作簿"

# Sheet names besides each table's label and name (what a street calls its sheets).
SHEET_ALIASES = {
    "communities": ("社区表", "社区名单"), "compounds": ("小区表",), "buildings": ("楼栋表", "单元"),
    "branches": ("党支部", "支部"), "building_groups": ("党小组", "楼栋党小组表"),
    "household_leads": ("中心户", "党员中心户表"), "social_orgs": ("社区社会组织",),
    "org_monthly": ("社会组织月度", "月度数据"), "tickets": ("诉求台账", "工单", "诉求表", "12345"),
    "practices": ("做法", "经验做法表"),
}


def sheet_table(name: str) -> str | None:
    """The table a sheet is named for, or None."""
    key = _norm_header(name)
    for table, spec in SPECS.items():
        if key in {_norm_header(x) for x in (table, spec.label, *SHEET_ALIASES.get(table, ()))}:
            return table
    return None


@dataclass
class BookReport:
    file_name: str
    sha256: str
    reports: list[Report] = field(default_factory=list)  # one per sheet taken, in dependency order
    problems_book: list[Problem] = field(default_factory=list)  # about the workbook as a whole
    warnings: list[str] = field(default_factory=list)

    @property
    def problem_count(self) -> int:
        return len(self.problems_book) + sum(r.problem_count for r in self.reports)

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def problems(self) -> list[Problem]:
        return self.problems_book + [p for r in self.reports for p in r.problems]

    def problems_frame(self) -> pd.DataFrame:
        return problems_frame(self.problems)

    def summary(self) -> pd.DataFrame:
        """Per sheet: its table and the rows it adds and updates."""
        return pd.DataFrame([{"工作表": r.sheet, "数据表": SPECS[r.table].label, "新增": r.n_new, "更新": r.n_update,
                              "问题": r.problem_count} for r in self.reports],
                            columns=["工作表", "数据表", "新增", "更新", "问题"])


def workbook_sources(data: bytes, file_name: str, max_bytes: int = MAX_FILE_BYTES) -> tuple[list[Source], BookReport]:
    """The sheets of a workbook that name a table, in dependency order, and the report so far."""
    book = BookReport(file_name, _sha256(data))
    try:
        _check_size(data, max_bytes)
        if data[:4] != b"PK\x03\x04":
            raise ImportRefused([Problem(None, "", file_name, "整个工作簿导入只接受 Excel 的 .xlsx 文件",
                                         "每个工作表一张表的 .xlsx；CSV 请选择对应的数据表分别导入")])
        try:
            names = sheet_names(data)
        except ImportRefused:
            raise
        except Exception:
            raise ImportRefused([Problem(None, "", "", "无法打开这个 Excel 文件（文件已损坏，或不是 .xlsx 格式）",
                                         "用 Excel 另存为 .xlsx 后重试")]) from None
    except ImportRefused as exc:
        book.problems_book = exc.problems
        return [], book
    by_table: dict[str, str] = {}
    for name in names:
        table = sheet_table(name)
        if table is None:
            book.warnings.append(f"工作表“{name}”不对应任何数据表，已忽略")
        elif table in by_table:
            book.problems_book.append(Problem(None, "", name, f"工作表“{name}”与“{by_table[table]}”都对应“{SPECS[table].label}”表",
                                              "每张表只用一个工作表", sheet=name))
        else:
            by_table[table] = name
    if not by_table:
        book.problems_book.append(Problem(None, "", "、".join(names)[:80], "没有一个工作表以数据表命名",
                                          "工作表名为数据表的中文名或英文名，如 社区、小区、楼栋、小区党支部、诉求"
                                          "（可下载“整个工作簿”模板）"))
    sources = [Source(t, data, file_name, by_table[t]) for t in DATA_TABLES if t in by_table]
    return sources, book


def import_workbook(con, data: bytes, file_name: str, update: bool = False,
                    max_bytes: int = MAX_FILE_BYTES, dry_run: bool = False, *, actor: Actor) -> tuple[BookReport, BatchResult | None]:
    """Check every sheet (each against the rows of the sheets before it) and write them all as one
    batch in one transaction, as `actor` (inside their scope), or nothing. `dry_run` checks only
    (the page's 检查)."""
    sources, book = workbook_sources(data, file_name, max_bytes)
    if not sources or book.problems_book:
        return book, None
    reports, result = import_sources(con, sources, update=update, actor=actor, max_bytes=max_bytes,
                                     dry_run=dry_run or bool(book.problems_book), batch_table=WORKBOOK,
                                     batch_file=file_name, batch_sha=book.sha256)
    book.reports = reports
    book.warnings += [f"工作表“{r.sheet}”：{w}" for r in reports for w in r.warnings]
    return book, result
