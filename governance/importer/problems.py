"""What an import reports: problems by row and column (in Chinese), the refusal that carries them,
the check's report and the written batch."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from governance.importer.specs import SPECS


@dataclass
class Problem:
    row: int | None  # the row number Excel shows; None for the whole file
    column: str
    value: str
    message: str
    expected: str
    sheet: str = ""  # the workbook sheet, when a workbook was imported

    def as_line(self) -> str:
        where = f"第 {self.row} 行" if self.row else ("整个工作表" if self.sheet else "整个文件")
        if self.sheet:
            where = f"工作表“{self.sheet}”｜{where}"
        return f"{where}｜{self.column or '—'}｜{self.value or '（空）'}｜{self.message}｜应为：{self.expected or '—'}"


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    """The problem list as the page shows and downloads it (a 工作表 column when any has a sheet)."""
    cols = (["工作表"] if any(p.sheet for p in problems) else []) + ["行", "列", "值", "问题", "应为"]
    rows = [{"工作表": p.sheet, "行": p.row, "列": p.column, "值": p.value, "问题": p.message, "应为": p.expected}
            for p in problems]
    return pd.DataFrame(rows, columns=["工作表", "行", "列", "值", "问题", "应为"])[cols]


class ImportRefused(Exception):
    """Nothing was written; `problems` says why (in Chinese)."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(p.as_line() for p in problems))

    def __reduce__(self):   # handed back from the writer process (governance/writer.py) as it is
        return (type(self), (self.problems,))


@dataclass
class Report:
    table: str
    file_name: str
    sha256: str
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    warnings: list[str] = field(default_factory=list)
    rows: pd.DataFrame | None = None  # parsed rows (canonical columns, ids resolved)
    n_new: int = 0
    n_update: int = 0
    sheet: str | None = None  # the workbook sheet it came from

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def problems_frame(self) -> pd.DataFrame:
        return problems_frame(self.problems)

    def preview(self, n: int = 20) -> pd.DataFrame:
        spec = SPECS[self.table]
        if self.rows is None:
            return pd.DataFrame()
        head = self.rows.head(n)
        out = pd.DataFrame({"行": head["_excel_row"], "操作": np.where(head["_update"], "更新", "新增")})
        for c in spec.cols:
            out[c.label] = head[c.name]
        return out


@dataclass
class BatchResult:
    batch_id: int
    table: str
    added: int
    updated: int


def _file_problem(message: str, expected: str = "") -> ImportRefused:
    return ImportRefused([Problem(None, "", "", message, expected)])


def _refuse(message: str, expected: str = "") -> ImportRefused:
    return ImportRefused([Problem(None, "", "", message, expected)])
