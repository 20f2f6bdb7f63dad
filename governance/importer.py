"""The importer: the only code that writes users' data.

A street's own file (CSV in UTF-8 / UTF-8 with BOM / GBK / GB18030, or .xlsx) for one table is
read, every problem is found in one pass and reported as (Excel row, column, value, what is
wrong, what is expected) in Chinese, and only a file without problems is written, in one
transaction. Every written row carries source='import' and its batch_id; every batch is listed
in `import_batches` and can be undone: rows it added are deleted and rows it updated get back
their previous version from `undo_<table>`. Removing the demonstration data is a batch too.

Rows name their community (and compound, building, organisation) within their street; the
importer resolves the names to ids. SQL identifiers here come only from the table specs below.
"""

from __future__ import annotations

import csv
import datetime as dt
import getpass
import hashlib
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from governance.labels import TABLE_LABELS
from governance.rollups import refresh_rollups
from governance.schema import DATA_TABLES, bump_data_version

MAX_FILE_BYTES = 500 * 1024 * 1024  # command line; the page is limited by server.maxUploadSize
MAX_PROBLEMS_KEPT = 10_000  # all problems are counted; this many are listed
DEMO_REMOVAL = "demo_data"  # import_batches.table_name of the "remove the demonstration data" action
SATISFACTION = ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]


# ---------------------------------------------------------------------------------------------
# What each table accepts


@dataclass(frozen=True)
class Col:
    name: str  # canonical English name
    label: str  # Chinese header of the template
    kind: str  # text, int, float, date, month, datetime, bool, ctype, satisfaction
    required: bool
    help: str
    example: object
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Spec:
    table: str
    cols: tuple[Col, ...]
    key: tuple[str, ...]  # natural key: duplicates within the file or against stored rows
    id_col: str | None  # integer id the importer assigns; None when the key is the primary key
    refs: tuple[str, ...]  # which of community / compound / building / org the rows name

    @property
    def label(self) -> str:
        return TABLE_LABELS[self.table]

    def col(self, name: str) -> Col:
        return next(c for c in self.cols if c.name == name)


_STREET = Col("street", "街道", "text", True, "所在街道/镇的名称，与“社区”表中的写法一致", "江堤街道", ("街道/镇", "镇", "乡镇街道"))
_COMMUNITY = Col("community", "社区", "text", True, "社区名称，须已在“社区”表中（同一街道下）", "江欣苑社区", ("社区名称", "村/社区"))


def _compound(required: bool, help: str = "小区名称，须已在“小区”表中（同一社区下）") -> Col:
    return Col("compound", "小区", "text", required, help, "江欣苑一期", ("小区名称",))


def _building(required: bool, help: str = "楼栋或单元名称，须已在“楼栋”表中（同一小区下）") -> Col:
    return Col("building", "楼栋", "text", required, help, "1单元", ("楼栋（单元）", "楼栋/单元", "单元"))


def _on(name: str, label: str, required: bool, help: str, example, aliases=()) -> Col:
    return Col(name, label, "date", required, help, example, aliases)


SPECS: dict[str, Spec] = {s.table: s for s in [
    Spec("communities", (
        Col("province", "省", "text", True, "省、自治区、直辖市", "湖北省", ("省份",)),
        Col("city", "市", "text", True, "地级市（直辖市填同名）", "武汉市", ("城市", "地市")),
        Col("district", "区县", "text", True, "区、县或县级市", "汉阳区", ("区/县级市", "区", "县", "区/县")),
        _STREET,
        Col("community", "社区", "text", True, "社区（村）名称，同一街道内不能重名", "江欣苑社区", ("社区名称", "村/社区")),
        Col("type", "类型", "ctype", True, "城市社区或农村社区：填 城市/农村（或 urban/rural）", "城市", ("社区类型",)),
        Col("households", "户数", "int", False, "常住户数，非负整数", 2816, ("总户数",)),
        Col("residents", "居民人数", "int", False, "常住居民人数，非负整数", 7600, ("人口", "居民数", "常住人口")),
        Col("area_km2", "面积（平方公里）", "float", False, "辖区面积，单位平方公里", 0.45, ("面积", "面积(km2)")),
    ), ("street", "community"), "community_id", ()),
    Spec("compounds", (
        _STREET, _COMMUNITY,
        _compound(True, "小区名称，同一社区内不能重名"),
        Col("households", "户数", "int", False, "小区户数，非负整数", 352, ("总户数",)),
    ), ("street", "community", "compound"), "compound_id", ("community",)),
    Spec("buildings", (
        _STREET, _COMMUNITY, _compound(True),
        _building(True, "楼栋或单元名称，同一小区内不能重名"),
        Col("households", "户数", "int", False, "本楼栋（单元）户数，非负整数", 32, ("总户数",)),
    ), ("street", "community", "compound", "building"), "building_id", ("community", "compound")),
    Spec("branches", (
        _STREET, _COMMUNITY,
        _compound(False, "党支部所在小区（可空：不按小区设的支部）；填写时须已在“小区”表中"),
        Col("branch", "党支部名称", "text", True, "小区党支部名称", "江欣苑一期党支部", ("党支部", "支部名称")),
        Col("members", "党员人数", "int", True, "正式党员人数，非负整数", 12, ("党员数",)),
        Col("has_committee", "是否设支委会", "bool", False, "是/否（可空）", "是", ("支委会",)),
        _on("established_on", "成立日期", True, "如 2020-03-01、2020/3/1 或 2020年3月1日", "2020-03-01", ("成立时间",)),
        _on("dissolved_on", "撤销日期", False, "仍存在则留空", None, ("撤销时间",)),
    ), ("street", "community", "branch", "established_on"), "branch_id", ("community", "compound")),
    Spec("building_groups", (
        _STREET, _COMMUNITY, _compound(True), _building(True),
        Col("leader", "党小组长", "text", False, "楼栋党小组长姓名（可空）", "张三", ("组长", "小组长")),
        _on("established_on", "成立日期", True, "如 2021-01-01", "2021-01-01", ("成立时间",)),
        _on("dissolved_on", "撤销日期", False, "仍存在则留空", None, ("撤销时间",)),
    ), ("street", "community", "compound", "building", "established_on"), "group_id",
        ("community", "compound", "building")),
    Spec("household_leads", (
        _STREET, _COMMUNITY, _compound(True), _building(True),
        Col("household", "户（门牌）", "text", True, "党员中心户的门牌号", "101室", ("户", "门牌", "门牌号", "户号")),
        _on("established_on", "挂牌日期", True, "如 2021-03-01", "2021-03-01", ("成立日期", "挂牌时间")),
        _on("dissolved_on", "摘牌日期", False, "仍挂牌则留空", None, ("撤销日期", "摘牌时间")),
    ), ("street", "community", "compound", "building", "household", "established_on"), "lead_id",
        ("community", "compound", "building")),
    Spec("social_orgs", (
        _STREET, _COMMUNITY,
        Col("org", "组织名称", "text", True, "社区社会组织名称，同一社区内不能重名", "江欣苑志愿服务队", ("社会组织", "组织")),
        Col("type", "组织类型", "text", True, "如 志愿服务、公益慈善、文体娱乐、邻里互助、专业服务", "志愿服务", ("类型",)),
        Col("party_led", "是否党建引领", "bool", True, "有党组织或党员负责人：是/否", "是", ("党建引领",)),
        _on("founded_on", "成立日期", True, "如 2019-05-01", "2019-05-01", ("成立时间", "备案日期")),
        _on("dissolved_on", "注销日期", False, "仍活动则留空", None, ("撤销日期", "注销时间")),
    ), ("street", "community", "org"), "org_id", ("community",)),
    Spec("org_monthly", (
        _STREET, _COMMUNITY,
        Col("org", "组织名称", "text", True, "须已在“社会组织”表中（同一社区下）", "江欣苑志愿服务队", ("社会组织", "组织")),
        Col("month", "月份", "month", True, "如 2023-06、2023年6月", "2023-06", ("月",)),
        Col("member_units", "成员单位数", "int", False, "联盟类组织的成员单位数（可空）", None, ("成员单位",)),
        Col("volunteers", "志愿者人数", "int", False, "登记志愿者人数（可空）", 35, ("志愿者", "志愿者数")),
        Col("service_hours", "服务时长（小时）", "float", False, "当月志愿服务时长，单位小时（可空）", 96.5, ("服务时长",)),
    ), ("street", "community", "org", "month"), None, ("community", "org")),
    Spec("tickets", (
        Col("ticket_id", "诉求编号", "text", True, "诉求（工单）编号，唯一", "GD2023060100001", ("工单编号", "编号", "工单号")),
        _STREET, _COMMUNITY,
        _compound(False, "诉求所在小区（可空）；填写时须已在“小区”表中"),
        _building(False, "诉求所在楼栋（可空；填楼栋时须填小区）"),
        Col("category_l1", "一级分类", "text", True, "如 物业管理", "物业管理", ("诉求分类", "分类")),
        Col("category_l2", "二级分类", "text", False, "如 设施维修（可空）", "设施维修"),
        Col("category_l3", "三级分类", "text", False, "如 下水道堵塞（可空）", "下水道堵塞"),
        Col("channel", "渠道", "text", False, "如 12345热线、网格员上报（可空）", "12345热线", ("来源渠道", "受理渠道")),
        Col("received_at", "受理时间", "datetime", True, "如 2023-06-01 09:30 或 2023/6/1", "2023-06-01 09:30", ("受理日期",)),
        Col("due_at", "办理时限", "datetime", False, "应办结时间（可空）", "2023-06-08 09:30", ("应办结时间", "截止时间")),
        Col("closed_at", "办结时间", "datetime", False, "未办结则留空；不能早于受理时间", "2023-06-03 16:00", ("办结日期",)),
        Col("status", "办理状态", "text", False, "如 已办结、办理中（可空）", "已办结", ("状态",)),
        Col("contacted", "回访联系上", "bool", False, "回访是否联系上诉求人：是/否；未回访留空", "是", ("是否联系上", "响应")),
        Col("solved", "是否解决", "bool", False, "诉求人表示问题已解决：是/否；未回访留空", "是", ("解决",)),
        Col("satisfaction", "满意度", "satisfaction", False, "非常满意/满意/基本满意/不满意/非常不满意；未回访留空", "满意", ("满意程度",)),
    ), ("ticket_id",), None, ("community", "compound", "building")),
    Spec("practices", (
        _STREET, _COMMUNITY,
        Col("practice", "做法名称", "text", True, "经验做法的名称", "小区管网改造", ("经验做法", "做法")),
        _on("started_on", "开始日期", True, "如 2023-06-01 或 2023年6月（按当月1日）", "2023-06-01", ("开始时间",)),
        Col("related_category", "相关诉求分类", "text", False, "与之相关的诉求分类（可空），用于对比前后诉求量", "下水道堵塞", ("诉求分类",)),
        Col("description", "说明", "text", False, "简要说明（可空）", "更换小区主排水管", ("描述", "内容")),
        Col("source", "来源", "text", False, "信息来源（可空），如 街道工作简报", "街道工作简报", ("信息来源",)),
    ), ("street", "community", "practice", "started_on"), "practice_id", ("community",)),
]}

KIND_EXPECTED = {
    "text": "文字",
    "int": "非负整数，如 120",
    "float": "非负数字，如 0.45",
    "date": "日期，如 2023-06-01、2023/6/1 或 2023年6月1日",
    "month": "月份，如 2023-06 或 2023年6月",
    "datetime": "日期时间，如 2023-06-01 09:30 或 2023/6/1",
    "bool": "是/否（也可填 Y/N、1/0、true/false）",
    "ctype": "城市 或 农村（也可填 urban/rural）",
    "satisfaction": "非常满意、满意、基本满意、不满意、非常不满意之一",
}

# ---------------------------------------------------------------------------------------------
# Results


@dataclass
class Problem:
    row: int | None  # the row number Excel shows; None for the whole file
    column: str
    value: str
    message: str
    expected: str

    def as_line(self) -> str:
        where = f"第 {self.row} 行" if self.row else "整个文件"
        return f"{where}｜{self.column or '—'}｜{self.value or '（空）'}｜{self.message}｜应为：{self.expected or '—'}"


class ImportRefused(Exception):
    """Nothing was written; `problems` says why (in Chinese)."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(p.as_line() for p in problems))


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

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def problems_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"行": p.row, "列": p.column, "值": p.value, "问题": p.message, "应为": p.expected}
                             for p in self.problems], columns=["行", "列", "值", "问题", "应为"])

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


# ---------------------------------------------------------------------------------------------
# Reading a file into raw cells


@dataclass
class RawTable:
    frame: pd.DataFrame  # raw cells (str for CSV; Python values for xlsx), columns = header texts
    excel_rows: np.ndarray
    header_row: int
    problems: list[Problem]


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def _file_problem(message: str, expected: str = "") -> ImportRefused:
    return ImportRefused([Problem(None, "", "", message, expected)])


def _norm_header(text) -> str:
    if text is None:
        return ""
    s = unicodedata.normalize("NFKC", str(text)).strip().lower()
    return re.sub(r"[\s*＊]", "", s)


def header_map(spec: Spec) -> dict[str, str]:
    """Normalised header text -> canonical column name."""
    out = {}
    for c in spec.cols:
        for h in (c.name, c.label, *c.aliases):
            out[_norm_header(h)] = c.name
    return out


def _decode(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise _file_problem("文件不是文本表格（看起来是二进制文件，可能只是改了扩展名）",
                            "逗号分隔的 CSV 文本文件，或 Excel 的 .xlsx 文件")
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise _file_problem("无法识别文件的文字编码", "UTF-8 或 GBK 编码的 CSV（Excel“另存为 CSV”即可）")


def _read_csv(data: bytes) -> pd.DataFrame | list[list]:
    """A frame of stripped strings (pandas' C parser), or rows of cells for a ragged file."""
    text = _decode(data)
    if any(ch in text[:4096] for ch in "\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x10\x11\x12\x13\x14\x15\x16"):
        raise _file_problem("文件不是文本表格（含有大量控制字符，可能只是改了扩展名）",
                            "逗号分隔的 CSV 文本文件，或 Excel 的 .xlsx 文件")
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    try:
        frame = pd.read_csv(io.StringIO(text), header=None, dtype=str, keep_default_na=False, na_filter=False,
                            sep=delimiter, skip_blank_lines=False, engine="c")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    return frame.apply(lambda c: c.str.strip())


def _xlsx_merged(data: bytes, sheet_path: str) -> list[tuple[int, int, int, int]]:
    """Merged ranges (min_row, min_col, max_row, max_col) read from the sheet's XML (the
    read-only reader openpyxl offers for large files does not expose them)."""
    from openpyxl.utils.cell import range_boundaries

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        try:
            xml = z.read(sheet_path).decode("utf-8", "replace")
        except KeyError:
            return []
    out = []
    for ref in re.findall(r'<mergeCell[^>]*\bref="([A-Z]+\d+:[A-Z]+\d+)"', xml):
        c1, r1, c2, r2 = range_boundaries(ref)
        out.append((r1, c1, r2, c2))
    return out


def sheet_names(data: bytes) -> list[str]:
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def _read_xlsx(data: bytes, sheet: str | None) -> tuple[list[list], list[Problem]]:
    import openpyxl
    from openpyxl.utils import get_column_letter

    try:
        values = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        formulas = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:
        raise _file_problem("无法打开这个 Excel 文件（文件已损坏，或不是 .xlsx 格式）",
                            "用 Excel 另存为 .xlsx 或 CSV 后重试") from None
    try:
        if sheet is not None and sheet not in values.sheetnames:
            raise _file_problem(f"文件中没有名为“{sheet}”的工作表（现有：{'、'.join(values.sheetnames)}）", "已有的工作表名称")
        name = sheet or values.sheetnames[0]
        ws_v, ws_f = values[name], formulas[name]
        rows = [list(r) for r in ws_v.iter_rows(values_only=True)]
        problems = []
        for r_i, (rv, rf) in enumerate(zip(rows, ws_f.iter_rows(values_only=True)), start=1):
            for c_i, f in enumerate(rf):
                if isinstance(f, str) and f.startswith("=") and c_i < len(rv) and rv[c_i] is None:
                    problems.append(Problem(r_i, get_column_letter(c_i + 1), f,
                                            "单元格是公式，但文件里没有保存计算结果，无法读取它的值",
                                            "在 Excel 中打开并保存一次，或把公式改成数值"))
        for r1, c1, r2, c2 in _xlsx_merged(data, ws_v._worksheet_path):
            top = rows[r1 - 1][c1 - 1] if r1 - 1 < len(rows) and c1 - 1 < len(rows[r1 - 1]) else None
            for r in range(r1, min(r2, len(rows)) + 1):
                row = rows[r - 1]
                if len(row) < c2:
                    row.extend([None] * (c2 - len(row)))
                for c in range(c1, c2 + 1):
                    row[c - 1] = top
        return rows, problems
    finally:
        values.close()
        formulas.close()


def _blank(v) -> bool:
    return v is None or (isinstance(v, str) and v.strip() == "") or (isinstance(v, float) and np.isnan(v))


def read_raw(data: bytes, file_name: str, spec: Spec, sheet: str | None = None,
             max_bytes: int = MAX_FILE_BYTES) -> RawTable:
    """Cells of the file under its header row; raises ImportRefused for an unusable file."""
    if len(data) > max_bytes:
        raise _file_problem(f"文件大小为 {_mb(len(data))}，超过上限 {_mb(max_bytes)}",
                            "更小的文件：可按年份或社区拆成几个文件分别导入")
    if not data.strip():
        raise _file_problem("文件是空的", "第一行为表头、其下每行一条记录的表格")
    problems: list[Problem] = []
    if data[:4] == b"PK\x03\x04":
        rows, problems = _read_xlsx(data, sheet)
    elif data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise _file_problem("这是旧版 Excel（.xls）文件，无法直接读取", "在 Excel 中另存为 .xlsx 或 CSV 后重试")
    elif file_name.lower().endswith((".xlsx", ".xlsm")):
        raise _file_problem("无法打开这个 Excel 文件（文件已损坏，或不是 .xlsx 格式）", "用 Excel 另存为 .xlsx 或 CSV 后重试")
    else:
        rows = _read_csv(data)
    if isinstance(rows, pd.DataFrame):
        fast = rows
        filled = (fast != "").any(axis=1).to_numpy()
        last = np.flatnonzero(filled)
        if not len(last):
            raise _file_problem("文件是空的", "第一行为表头、其下每行一条记录的表格")
        fast = fast.iloc[:last[-1] + 1]
        rows = fast.head(10).values.tolist()
    else:
        fast = None
        # blank trailing rows (and trailing empty cells) are ignored
        while rows and all(_blank(v) for v in rows[-1]):
            rows.pop()
        if not rows:
            raise _file_problem("文件是空的", "第一行为表头、其下每行一条记录的表格")
    # the header is the row among the first ten naming the most known columns (titles above it,
    # and the upper row of a two-row merged header, are skipped)
    known = header_map(spec)
    best, best_hits = 0, 0
    for i, row in enumerate(rows[:10]):
        hits = len({known[_norm_header(v)] for v in row if _norm_header(v) in known})
        if hits > best_hits:
            best, best_hits = i, hits
    if best_hits == 0:
        shown = "、".join(str(v) for v in rows[0][:6] if not _blank(v))
        raise ImportRefused([Problem(1, "", shown[:60], f"找不到“{spec.label}”表的表头（前 10 行中没有一个可识别的列名）",
                                     "第一行为列名，如 " + "、".join(c.label for c in spec.cols[:4]))])
    header = rows[best]
    if fast is not None:
        width = fast.shape[1]
        frame = fast.iloc[best + 1:].reset_index(drop=True)
        frame.columns = range(width)
        blank = (frame == "").all(axis=1).to_numpy()
    else:
        width = max(len(r) for r in rows[best:])
        body = [list(r) + [None] * (width - len(r)) for r in rows[best + 1:]]
        frame = pd.DataFrame(body, columns=range(width), dtype=object) if body else pd.DataFrame(columns=range(width), dtype=object)
        blank = frame.map(_blank).all(axis=1).to_numpy() if len(frame) else np.zeros(0, bool)
    header = list(header) + [None] * (width - len(header))
    names = [("" if _blank(h) else str(h).strip()) for h in header]
    excel_rows = np.arange(best + 2, best + 2 + len(frame))
    # drop fully blank rows in the middle too (Excel users leave gaps); they are not records
    if blank.any():
        frame, excel_rows = frame[~blank].reset_index(drop=True), excel_rows[~blank]
    frame.columns = names
    return RawTable(frame, excel_rows, best + 1, problems)


# ---------------------------------------------------------------------------------------------
# Parsing cells, column by column (vectorised)

_DATE_RE = re.compile(
    r"^(?P<y>\d{4})\s*(?:-|/|\.|年)\s*(?P<m>\d{1,2})\s*月?\s*(?:(?:-|/|\.)?\s*(?P<d>\d{1,2})\s*日?)?"
    r"(?:\s*(?:T|\s)\s*(?P<H>\d{1,2})\s*[:：]\s*(?P<M>\d{2})(?:\s*[:：]\s*(?P<S>\d{2})(?:\.\d+)?)?)?$"
)
_BOOL = {"是": True, "否": False, "y": True, "n": False, "yes": True, "no": False, "1": True, "0": False,
         "true": True, "false": False, "1.0": True, "0.0": False}
_CTYPE = {"urban": "urban", "rural": "rural", "城市": "urban", "农村": "rural", "城市社区": "urban",
          "农村社区": "rural", "城镇": "urban", "村": "rural"}


def _cell_text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v.strip()
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if np.isnan(v):
            return ""
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S") if (v.hour or v.minute or v.second) else v.strftime("%Y-%m-%d")
    if isinstance(v, dt.date):
        return v.strftime("%Y-%m-%d")
    return str(v).strip()


def _is_text(raw: pd.Series) -> bool:
    """True for a column of strings only (a CSV column)."""
    return raw.dtype != object or raw.map(type).eq(str).all()


def _texts(raw: pd.Series) -> pd.Series:
    if _is_text(raw):
        return raw.astype(str).str.strip()
    return raw.map(_cell_text).astype(str)


def _nfkc(s: pd.Series) -> pd.Series:
    """Full-width digits and punctuation to ASCII (only non-ASCII cells need the work)."""
    s = s.astype(str)
    wide = ~s.str.isascii()
    if not wide.any():
        return s
    s = s.copy()
    uniq = pd.unique(s[wide])
    s[wide] = s[wide].map({u: unicodedata.normalize("NFKC", u).strip() for u in uniq})
    return s


class _Collector:
    def __init__(self, excel_rows: np.ndarray):
        self.excel_rows = excel_rows
        self.problems: list[Problem] = []
        self.count = 0
        self.bad = np.zeros(len(excel_rows), dtype=bool)

    def add(self, mask, column: str, values: pd.Series | None, message, expected: str):
        """Record a problem for every row where mask is True; message may be a Series."""
        mask = np.asarray(mask, dtype=bool)
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        self.bad[idx] = True
        self.count += len(idx)
        room = MAX_PROBLEMS_KEPT - len(self.problems)
        for i in idx[:max(room, 0)]:
            value = "" if values is None else _cell_text(values.iat[i])
            msg = message if isinstance(message, str) else message.iat[i]
            self.problems.append(Problem(int(self.excel_rows[i]), column, value, msg, expected))

    def file(self, problem: Problem):
        self.count += 1
        if len(self.problems) < MAX_PROBLEMS_KEPT:
            self.problems.append(problem)


def _parse_dates(text: pd.Series, raw: pd.Series, kind: str, out: _Collector, colname: str) -> pd.Series:
    """Dates from text (several Chinese and ISO forms) or Excel date cells; NaT when blank/bad."""
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    native = np.zeros(len(raw), bool) if _is_text(raw) else raw.map(lambda v: isinstance(v, (dt.date, dt.datetime))).to_numpy()
    if native.any():
        result[native] = pd.to_datetime(raw[native].map(lambda v: v if isinstance(v, dt.datetime) else dt.datetime(v.year, v.month, v.day)))
    todo = (text != "") & ~native
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        if not todo.any():
            break
        quick = pd.to_datetime(text[todo], format=fmt, errors="coerce")
        quick = quick[quick.notna() & (quick.dt.year >= 1900) & (quick.dt.year <= 2100)]
        if kind == "date":
            quick = quick[quick == quick.dt.normalize()]
        result[quick.index] = quick.astype("datetime64[us]")
        todo[quick.index] = False
    if todo.any():
        t = _nfkc(text[todo])
        parts = t.str.extract(_DATE_RE)
        unmatched = parts["y"].isna()
        expected = KIND_EXPECTED[kind]
        out.add(todo.to_numpy() & _expand(unmatched, todo), colname, text, "无法识别的日期" if kind != "datetime" else "无法识别的日期时间", expected)
        ok = ~unmatched
        if kind == "date":
            no_day = ok & parts["d"].isna()
            out.add(_expand(no_day, todo), colname, text, "缺少日（只有年月）", expected)
            ok &= ~no_day
        p = parts[ok].astype("float")
        if kind == "month":
            p["d"] = 1
        p = p.fillna({"d": 1, "H": 0, "M": 0, "S": 0})
        year_bad = (p["y"] < 1900) | (p["y"] > 2100)
        stamp = pd.to_datetime(dict(year=p["y"], month=p["m"], day=p["d"]), errors="coerce")
        time_bad = (p["H"] > 23) | (p["M"] > 59) | (p["S"] > 59)
        impossible = stamp.isna() | time_bad
        out.add(_expand(impossible.reindex(parts.index, fill_value=False) & ok, todo), colname, text,
                "日期不存在（月份或日子超出范围）", expected)
        out.add(_expand((year_bad & ~impossible).reindex(parts.index, fill_value=False), todo), colname, text,
                "年份不合理（应在 1900—2100 年之间）", expected)
        good = ~impossible & ~year_bad
        stamp = stamp[good] + pd.to_timedelta(p.loc[good, "H"] * 3600 + p.loc[good, "M"] * 60 + p.loc[good, "S"], unit="s")
        result[stamp.index] = stamp.astype("datetime64[us]")
    if kind == "month":
        result = result.dt.to_period("M").dt.to_timestamp().astype("datetime64[us]")
    elif kind == "date":
        result = result.dt.normalize()
    return result


def _expand(sub_mask: pd.Series, todo: pd.Series) -> np.ndarray:
    """A mask on a subset (indexed like the subset) as a mask on the whole column."""
    full = np.zeros(len(todo), dtype=bool)
    pos = np.flatnonzero(todo.to_numpy())
    full[pos] = sub_mask.reindex(todo.index[pos], fill_value=False).to_numpy(dtype=bool)
    return full


def _parse_column(col: Col, raw: pd.Series, out: _Collector, colname: str) -> pd.Series:
    text = _texts(raw)
    blank = (text == "").to_numpy()
    if col.required:
        out.add(blank, colname, None, "必填项为空", KIND_EXPECTED[col.kind] if col.kind != "text" else col.help)
    expected = KIND_EXPECTED[col.kind]
    if col.kind == "text":
        return text.where(~blank, None).astype(object)
    if col.kind in ("int", "float"):
        t = _nfkc(text).str.replace(",", "", regex=False)
        num = pd.to_numeric(t.where(~blank, None), errors="coerce")
        bad = ~blank & num.isna().to_numpy()
        out.add(bad, colname, text, "不是数字", expected)
        neg = (num < 0).fillna(False).to_numpy()
        out.add(neg, colname, text, "不能为负数", expected)
        if col.kind == "int":
            frac = (num.notna() & ((num % 1) != 0)).fillna(False).to_numpy() & ~neg
            out.add(frac, colname, text, "应为整数", expected)
            num = num.where(~frac & ~neg)
            return num.round().astype("Int64")
        return num.where(~neg).astype("Float64")
    if col.kind in ("date", "month", "datetime"):
        return _parse_dates(text, raw, col.kind, out, colname)
    lowered = _nfkc(text).str.lower()
    table = {"bool": _BOOL, "ctype": _CTYPE, "satisfaction": {s: s for s in SATISFACTION}}[col.kind]
    mapped = lowered.map(table)
    bad = ~blank & mapped.isna().to_numpy()
    out.add(bad, colname, text, {"bool": "无法识别的是/否", "ctype": "无法识别的社区类型",
                                 "satisfaction": "无法识别的满意度"}[col.kind], expected)
    return mapped.astype("boolean") if col.kind == "bool" else mapped.astype(object)


# ---------------------------------------------------------------------------------------------
# Validation: every problem in one pass


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _lookup(con, frame: pd.DataFrame, sql: str) -> pd.Series:
    """Run `sql` joining the registered frame `_imp` (columns _i plus names); returns v by _i."""
    con.register("_imp", frame)
    try:
        res = con.execute(sql).df()
    finally:
        con.unregister("_imp")
    return pd.Series(res["v"].to_numpy(), index=res["_i"].to_numpy()) if len(res) else pd.Series(dtype=object)


def _applied_batch_with_hash(con, sha: str):
    rows = con.execute(
        "SELECT batch_id, table_name, file_name, imported_at FROM import_batches "
        "WHERE sha256 = ? AND undone_at IS NULL ORDER BY batch_id LIMIT 1", [sha]).fetchall()
    return rows[0] if rows else None


def _same_file_problem(row) -> Problem:
    bid, table, fname, at = row
    return Problem(None, "", fname, f"同一文件已于 {at:%Y-%m-%d %H:%M} 导入（第 {bid} 批，{TABLE_LABELS.get(table, table)}，"
                   f"文件 {fname}），为避免重复，本次未导入", "如需重新导入，先在导入记录中撤销第 %d 批" % bid)


def validate(con, table: str, data: bytes, file_name: str, sheet: str | None = None, update: bool = False,
             max_bytes: int = MAX_FILE_BYTES) -> Report:
    """Read and check a file for `table` against the stored rows; nothing is written."""
    if table not in SPECS:
        raise ValueError(f"unknown table {table}")
    spec = SPECS[table]
    report = Report(table, file_name, _sha256(data))
    try:
        raw = read_raw(data, file_name, spec, sheet, max_bytes)
    except ImportRefused as exc:
        report.problems, report.problem_count = exc.problems, len(exc.problems)
        return report
    out = _Collector(raw.excel_rows)
    for p in raw.problems:
        out.file(p)
    same = _applied_batch_with_hash(con, report.sha256)
    if same:
        out.file(_same_file_problem(same))

    # columns: map headers, report extras, duplicates and missing required ones
    known = header_map(spec)
    use: dict[str, int] = {}
    shown: dict[str, str] = {}
    for pos, h in enumerate(raw.frame.columns):
        name = known.get(_norm_header(h))
        if name is None:
            if h:
                report.warnings.append(f"列“{h}”不是“{spec.label}”表的列，已忽略")
            continue
        if name in use:
            out.file(Problem(raw.header_row, h, h, f"列“{h}”与“{shown[name]}”是同一列，重复出现", "每列只出现一次"))
            continue
        use[name], shown[name] = pos, h
    for c in spec.cols:
        if c.required and c.name not in use:
            out.file(Problem(raw.header_row, c.label, "", "缺少必填列", f"表头中有“{c.label}”（或 {c.name}）一列"))
    if not len(raw.frame):
        out.file(Problem(None, "", "", "文件只有表头，没有数据行", "表头下每行一条记录"))

    n = len(raw.frame)
    df = pd.DataFrame(index=range(n))
    for c in spec.cols:
        if c.name in use:
            df[c.name] = _parse_column(c, raw.frame.iloc[:, use[c.name]].reset_index(drop=True), out, shown[c.name])
        else:
            df[c.name] = pd.Series([None] * n, dtype={"int": "Int64", "float": "Float64", "bool": "boolean"}.get(
                c.kind, "datetime64[us]" if c.kind in ("date", "month", "datetime") else object))
    df["_i"] = np.arange(n)
    df["_excel_row"] = raw.excel_rows
    col_label = lambda name: shown.get(name, spec.col(name).label)  # noqa: E731
    raw_of = lambda name: raw.frame.iloc[:, use[name]].reset_index(drop=True) if name in use else pd.Series([None] * n)  # noqa: E731

    # a row left as the template's example
    if n and all(c.name in use for c in spec.cols if c.example is not None):
        first = [_cell_text(raw.frame.iat[0, use[c.name]]) for c in spec.cols if c.example is not None]
        if first == [_cell_text(c.example) for c in spec.cols if c.example is not None]:
            out.file(Problem(int(raw.excel_rows[0]), "", "", "这是模板里的示例行", "删除示例行，或改成本街道的数据"))

    # rules across columns
    for start, end, msg in [("established_on", "dissolved_on", "撤销日期早于成立日期"),
                            ("founded_on", "dissolved_on", "注销日期早于成立日期"),
                            ("received_at", "closed_at", "办结时间早于受理时间"),
                            ("received_at", "due_at", "办理时限早于受理时间")]:
        if start in df and end in df:
            bad = (df[end] < df[start]).fillna(False).to_numpy()
            out.add(bad, col_label(end), raw_of(end), msg, f"不早于{spec.col(start).label}")
    if table == "tickets":
        bad = (df["building"].notna() & df["compound"].isna()).to_numpy()
        out.add(bad, col_label("building"), raw_of("building"), "填写了楼栋但没有填写小区", "同时填写所在小区")

    # references by name within the street
    if "community" in spec.refs or table == "communities":
        df["community_id"] = pd.Series(pd.NA, index=df.index, dtype="Int64")
    names = df[["_i"] + [c for c in ("street", "community", "compound", "building", "org") if c in df]]
    if "community" in spec.refs:
        found = _lookup(con, names, "SELECT f._i, c.community_id AS v FROM _imp f JOIN communities c "
                                    "ON c.street = f.street AND c.community = f.community")
        df.loc[found.index, "community_id"] = found.astype("int64")
        miss = (df["community_id"].isna() & df["street"].notna() & df["community"].notna()).to_numpy()
        msg = "在“" + df["street"].fillna("") + "”下找不到这个社区"
        out.add(miss, col_label("community"), df["community"], msg, "已在“社区”表中的社区名称（先导入社区）")
    # (reference, its id column, the id it hangs under, lookup SQL, what is wrong, what is expected)
    lookups = [
        ("compound", "compound_id", "community_id",
         "SELECT f._i, c.compound_id AS v FROM _imp f JOIN compounds c "
         "ON c.community_id = f.community_id AND c.compound = f.compound",
         "在该社区下找不到这个小区", "已在“小区”表中的小区名称（先导入小区）"),
        ("building", "building_id", "compound_id",
         "SELECT f._i, b.building_id AS v FROM _imp f JOIN buildings b "
         "ON b.compound_id = f.compound_id AND b.building = f.building",
         "在该小区下找不到这个楼栋", "已在“楼栋”表中的楼栋名称（先导入楼栋）"),
        ("org", "org_id", "community_id",
         "SELECT f._i, o.org_id AS v FROM _imp f JOIN social_orgs o "
         "ON o.community_id = f.community_id AND o.org = f.org",
         "在该社区下找不到这个社会组织", "已在“社会组织”表中的组织名称（先导入社会组织）"),
    ]
    for ref, id_col, parent, sql, message, expected in lookups:
        if ref not in spec.refs:
            continue
        df[id_col] = pd.Series(pd.NA, index=df.index, dtype="Int64")
        found = _lookup(con, df[["_i", parent, ref]].astype({parent: "Int64"}), sql)
        df.loc[found.index, id_col] = found.astype("int64")
        miss = (df[id_col].isna() & df[parent].notna() & df[ref].notna()).to_numpy()
        out.add(miss, col_label(ref), df[ref], message, expected)

    # duplicates within the file
    key = list(spec.key)
    complete = df[key].notna().all(axis=1)
    dup = df[key].duplicated(keep="first") & complete
    if dup.any():
        first_row = df[complete].groupby(key, dropna=False, sort=False)["_excel_row"].transform("first")
        msg = "与第 " + first_row.reindex(df.index).astype("Int64").astype(str) + " 行重复（" + "、".join(
            spec.col(k).label for k in key) + "相同）"
        out.add(dup.to_numpy(), col_label(key[-1]), raw_of(key[-1]).astype(object), msg, "每条记录只出现一次")

    # against stored rows: an update only when asked
    df["_existing"] = _existing_ids(con, spec, df)
    df["_update"] = df["_existing"].notna()
    if not update:
        ident = spec.key[0] if table == "tickets" else key[-1]
        out.add(df["_update"].to_numpy() & ~dup.to_numpy(), col_label(ident), raw_of(ident).astype(object),
                "数据库中已有这条记录（" + "、".join(spec.col(k).label for k in key) + "相同）",
                "新的记录；如要用文件内容更新已有记录，请勾选“更新已有记录”（命令行加 --update）")

    # by row as the user reads the file (whole-file problems first); within a row, in check order
    report.problems = sorted(out.problems, key=lambda p: p.row or 0)
    report.problem_count = out.count
    report.rows = df
    report.n_update = int(df["_update"].sum())
    report.n_new = n - report.n_update
    return report


# How a stored row is found by its natural key (names resolved to ids first).
_KEY_SQL = {
    "communities": ("t.community_id", "t.street = f.street AND t.community = f.community"),
    "compounds": ("t.compound_id", "t.community_id = f.community_id AND t.compound = f.compound"),
    "buildings": ("t.building_id", "t.compound_id = f.compound_id AND t.building = f.building"),
    "branches": ("t.branch_id", "t.community_id = f.community_id AND t.branch = f.branch AND t.established_on = f.established_on"),
    "building_groups": ("t.group_id", "t.building_id = f.building_id AND t.established_on = f.established_on"),
    "household_leads": ("t.lead_id", "t.building_id = f.building_id AND t.household = f.household AND t.established_on = f.established_on"),
    "social_orgs": ("t.org_id", "t.community_id = f.community_id AND t.org = f.org"),
    "org_monthly": ("(t.org_id::VARCHAR || '|' || t.month::VARCHAR)", "t.org_id = f.org_id AND t.month = f.month"),
    "tickets": ("t.ticket_id", "t.ticket_id = f.ticket_id"),
    "practices": ("t.practice_id", "t.community_id = f.community_id AND t.practice = f.practice AND t.started_on = f.started_on"),
}


def _existing_ids(con, spec: Spec, df: pd.DataFrame) -> pd.Series:
    ident, on = _KEY_SQL[spec.table]
    cols = ["_i"] + [c for c in ("community_id", "compound_id", "building_id", "org_id") if c in df] + \
           [c.name for c in spec.cols if c.name in on]
    cols = list(dict.fromkeys(cols))
    frame = df[cols].copy()
    for c in ("established_on", "founded_on", "started_on", "month"):
        if c in frame:
            frame[c] = frame[c].dt.date
    found = _lookup(con, frame, f"SELECT f._i, {ident} AS v FROM _imp f JOIN {spec.table} t ON {on}")
    return pd.Series(found, index=df.index, dtype=object).reindex(df.index) if len(found) else pd.Series(None, index=df.index, dtype=object)


# ---------------------------------------------------------------------------------------------
# Writing


# Columns written per table (besides lineage): the schema's columns the spec fills.
_WRITE_COLS = {
    "communities": ["province", "city", "district", "street", "community", "type", "households", "residents", "area_km2"],
    "compounds": ["community_id", "compound", "households"],
    "buildings": ["compound_id", "community_id", "building", "households"],
    "branches": ["community_id", "compound_id", "branch", "members", "has_committee", "established_on", "dissolved_on"],
    "building_groups": ["community_id", "building_id", "leader", "established_on", "dissolved_on"],
    "household_leads": ["community_id", "building_id", "household", "established_on", "dissolved_on"],
    "social_orgs": ["community_id", "org", "type", "party_led", "founded_on", "dissolved_on"],
    "org_monthly": ["org_id", "month", "member_units", "volunteers", "service_hours"],
    "tickets": ["ticket_id", "community_id", "compound_id", "building_id", "category_l1", "category_l2",
                "category_l3", "channel", "received_at", "due_at", "closed_at", "status", "contacted", "solved",
                "satisfaction"],
    "practices": ["community_id", "practice", "started_on", "related_category", "description"],
}
_PK = {"communities": ["community_id"], "compounds": ["compound_id"], "buildings": ["building_id"],
       "branches": ["branch_id"], "building_groups": ["group_id"], "household_leads": ["lead_id"],
       "social_orgs": ["org_id"], "org_monthly": ["org_id", "month"], "tickets": ["ticket_id"],
       "practices": ["practice_id"]}


def _write_frame(spec: Spec, rows: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({c: rows[c] for c in _WRITE_COLS[spec.table]})
    out["source_note"] = rows["source"] if spec.table == "practices" else pd.Series(None, index=rows.index, dtype=object)
    return out


def _columns(con, table: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
        [table]).fetchall()]


def _next_batch_id(con) -> int:
    return con.execute("SELECT coalesce(max(batch_id), 0) + 1 FROM import_batches").fetchall()[0][0]


def import_file(con, table: str, data: bytes, file_name: str, sheet: str | None = None, update: bool = False,
                who: str | None = None, max_bytes: int = MAX_FILE_BYTES) -> tuple[Report, BatchResult | None]:
    """Validate and, when there is no problem, write the file as one batch in one transaction.

    Validation runs inside the transaction, so it sees exactly the rows the write builds on.
    Returns the report and the batch (None when anything was wrong: then nothing was written).
    """
    cur = con.cursor()
    try:
        cur.execute("BEGIN")
        try:
            report = validate(cur, table, data, file_name, sheet, update, max_bytes)
            if not report.ok:
                cur.execute("ROLLBACK")
                return report, None
            result = _write(cur, report, who)
            cur.execute("COMMIT")
            return report, result
        except BaseException:
            cur.execute("ROLLBACK")
            raise
    finally:
        cur.close()


def _write(con, report: Report, who: str | None) -> BatchResult:
    spec = SPECS[report.table]
    table = spec.table
    batch = _next_batch_id(con)
    rows = report.rows
    frame = _write_frame(spec, rows)
    frame["source"] = "import"
    frame["batch_id"] = batch
    upd = rows["_update"].to_numpy()
    new = frame[~upd].copy()
    if spec.id_col:
        start = con.execute(
            f"SELECT greatest((SELECT coalesce(max({spec.id_col}), 0) FROM {table}), "
            f"(SELECT coalesce(max({spec.id_col}), 0) FROM undo_{table})) + 1").fetchall()[0][0]
        new.insert(0, spec.id_col, np.arange(start, start + len(new), dtype="int64"))
    if upd.any():
        changed = frame[upd].copy()
        pk = _PK[table]
        if spec.id_col:
            changed.insert(0, spec.id_col, rows.loc[upd, "_existing"].astype("int64").to_numpy())
        con.register("_upd", changed)
        try:
            on = " AND ".join(f"t.{k} = u.{k}" for k in pk)
            con.execute(f"INSERT INTO undo_{table} SELECT {batch}, t.* FROM {table} t "
                        f"WHERE EXISTS (SELECT 1 FROM _upd u WHERE {on})")
            sets = ", ".join(f"{c} = u.{c}" for c in changed.columns if c not in pk)
            con.execute(f"UPDATE {table} t SET {sets} FROM _upd u WHERE {on}")
        finally:
            con.unregister("_upd")
    if len(new):
        con.register("_new", new)
        try:
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _new")
        finally:
            con.unregister("_new")
    con.execute("INSERT INTO import_batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                [batch, table, report.file_name, report.sha256, len(new), int(upd.sum()),
                 dt.datetime.now().replace(microsecond=0), who])
    bump_data_version(con)
    refresh_rollups(con, transaction=False, tickets_changed=table == "tickets")
    return BatchResult(batch, table, len(new), int(upd.sum()))


# ---------------------------------------------------------------------------------------------
# Undo and the removal of the demonstration data

# Which rows refer to rows of a table (child table, column), for safe deletes.
CHILDREN = {
    "communities": [("compounds", "community_id"), ("buildings", "community_id"), ("branches", "community_id"),
                    ("building_groups", "community_id"), ("household_leads", "community_id"),
                    ("social_orgs", "community_id"), ("tickets", "community_id"), ("practices", "community_id")],
    "compounds": [("buildings", "compound_id"), ("branches", "compound_id"), ("tickets", "compound_id")],
    "buildings": [("building_groups", "building_id"), ("household_leads", "building_id"), ("tickets", "building_id")],
    "social_orgs": [("org_monthly", "org_id")],
}


def _refuse(message: str, expected: str = "") -> ImportRefused:
    return ImportRefused([Problem(None, "", "", message, expected)])


def _in_transaction(con, work):
    cur = con.cursor()
    try:
        cur.execute("BEGIN")
        try:
            result = work(cur)
            bump_data_version(cur)
            refresh_rollups(cur, transaction=False)
            cur.execute("COMMIT")
            return result
        except BaseException:
            cur.execute("ROLLBACK")
            raise
    finally:
        cur.close()


def undo(con, batch_id: int) -> str:
    """Undo one batch: delete the rows it added, give the rows it changed their previous version."""

    def work(cur):
        rows = cur.execute("SELECT table_name, undone_at FROM import_batches WHERE batch_id = ?", [batch_id]).fetchall()
        if not rows:
            raise _refuse(f"没有第 {batch_id} 批导入记录")
        table, undone_at = rows[0]
        if undone_at is not None:
            raise _refuse(f"第 {batch_id} 批已于 {undone_at:%Y-%m-%d %H:%M} 撤销过")
        if table == DEMO_REMOVAL:
            return _restore_demo(cur, batch_id)
        pk = _PK[table]
        keycols = ", ".join(pk)
        # a later batch that changed this batch's rows must be undone first
        later = cur.execute(f"SELECT min(undo_batch) FROM undo_{table} WHERE batch_id = ? AND undo_batch > ?",
                            [batch_id, batch_id]).fetchall()[0][0]
        if later is not None:
            raise _refuse(f"第 {later} 批更新过第 {batch_id} 批导入的记录", f"先撤销第 {later} 批，再撤销第 {batch_id} 批")
        added = f"(SELECT {keycols} FROM {table} WHERE batch_id = {int(batch_id)} AND ({keycols}) NOT IN " \
                f"(SELECT ({keycols}) FROM undo_{table} WHERE undo_batch = {int(batch_id)}))"
        id_col = pk[0]
        for child, col in CHILDREN.get(table, []):
            n = cur.execute(f"SELECT count(*) FROM {child} WHERE {col} IN (SELECT {id_col} FROM {added})").fetchall()[0][0]
            if n:
                raise _refuse(f"第 {batch_id} 批导入的{TABLE_LABELS[table]}仍被 {n:,} 行{TABLE_LABELS[child]}数据引用，不能撤销",
                              f"先撤销导入这些{TABLE_LABELS[child]}的批次")
        n_deleted = cur.execute(f"DELETE FROM {table} WHERE ({keycols}) IN {added}").fetchall()[0][0]
        cols = [c for c in _columns(cur, table) if c not in pk]
        on = " AND ".join(f"t.{k} = u.{k}" for k in pk)
        sets = ", ".join(f"{c} = u.{c}" for c in cols)
        n_restored = cur.execute(f"UPDATE {table} t SET {sets} FROM undo_{table} u "
                                 f"WHERE u.undo_batch = {int(batch_id)} AND {on}").fetchall()[0][0]
        cur.execute(f"DELETE FROM undo_{table} WHERE undo_batch = ?", [batch_id])
        cur.execute("UPDATE import_batches SET undone_at = ? WHERE batch_id = ?",
                    [dt.datetime.now().replace(microsecond=0), batch_id])
        return f"已撤销第 {batch_id} 批（{TABLE_LABELS[table]}）：删除新增的 {n_deleted:,} 行，恢复被更新的 {n_restored:,} 行。"

    return _in_transaction(con, work)


def demo_row_count(con) -> int:
    cur = con.cursor()
    try:
        return sum(cur.execute(f"SELECT count(*) FROM {t} WHERE source IN ('simulated', 'published')").fetchall()[0][0]
                   for t in DATA_TABLES)
    finally:
        cur.close()


def remove_demo_data(con, who: str | None = None) -> str:
    """Delete every simulated or published row, as one batch that can be undone.

    DuckDB refuses to delete parent rows in the transaction that deleted their children
    (its foreign-key limitation), so each table is one transaction, children first, every
    step saving its rows in undo_<table> under the batch first recorded. If the process dies
    between steps, the batch holds exactly what was removed so far: undoing it restores that,
    running the removal again finishes the rest.
    """
    demo = "source IN ('simulated', 'published')"

    def start(cur):
        for parent, children in CHILDREN.items():
            pid = _PK[parent][0]
            for child, col in children:
                n = cur.execute(f"SELECT count(*) FROM {child} WHERE NOT ({demo}) AND {col} IN "
                                f"(SELECT {pid} FROM {parent} WHERE {demo})").fetchall()[0][0]
                if n:
                    raise _refuse(f"有 {n:,} 行导入的{TABLE_LABELS[child]}数据属于演示数据中的{TABLE_LABELS[parent]}，"
                                  "只删除演示数据会使它们失去归属", "先撤销这些导入批次，再删除演示数据")
        total = sum(cur.execute(f"SELECT count(*) FROM {t} WHERE {demo}").fetchall()[0][0] for t in DATA_TABLES)
        if not total:
            raise _refuse("数据库中没有演示数据")
        batch = _next_batch_id(cur)
        cur.execute("INSERT INTO import_batches VALUES (?, ?, ?, '', 0, 0, ?, ?, NULL)",
                    [batch, DEMO_REMOVAL, f"删除演示数据 {total:,} 行", dt.datetime.now().replace(microsecond=0), who])
        return batch, total

    batch, total = _in_transaction(con, start)
    for t in reversed(DATA_TABLES):  # children first
        def step(cur, t=t):
            cur.execute(f"INSERT INTO undo_{t} SELECT {batch}, * FROM {t} WHERE {demo}")
            cur.execute(f"DELETE FROM {t} WHERE {demo}")
        _in_transaction(con, step)
    return f"已删除演示数据 {total:,} 行（第 {batch} 批；如需恢复，可在导入记录中撤销这一批）。"


def _restore_demo(cur, batch_id: int) -> str:
    total = 0
    try:
        for t in DATA_TABLES:  # parents first
            cols = ", ".join(_columns(cur, t))
            total += cur.execute(f"INSERT INTO {t} ({cols}) SELECT {cols} FROM undo_{t} WHERE undo_batch = ?",
                                 [batch_id]).fetchall()[0][0]
            cur.execute(f"DELETE FROM undo_{t} WHERE undo_batch = ?", [batch_id])
    except Exception as exc:  # duckdb.ConstraintException: own data now uses the same names or ids
        if "constraint" not in str(exc).lower():
            raise
        raise _refuse("无法恢复演示数据：之后导入的数据与演示数据的名称或编号重复",
                      "先撤销之后的导入批次，再恢复演示数据") from None
    cur.execute("UPDATE import_batches SET undone_at = ? WHERE batch_id = ?",
                [dt.datetime.now().replace(microsecond=0), batch_id])
    return f"已撤销第 {batch_id} 批：恢复演示数据 {total:,} 行。"


# ---------------------------------------------------------------------------------------------
# Reading stored rows back in the import format (round trip, editing and re-importing)

_EXPORT_FROM = {
    "communities": "communities t",
    "compounds": "compounds t JOIN communities c USING (community_id)",
    "buildings": "buildings t JOIN compounds p USING (compound_id) JOIN communities c ON c.community_id = t.community_id",
    "branches": "branches t JOIN communities c USING (community_id) LEFT JOIN compounds p ON p.compound_id = t.compound_id",
    "building_groups": "building_groups t JOIN buildings b USING (building_id) JOIN compounds p ON p.compound_id = b.compound_id "
                       "JOIN communities c ON c.community_id = t.community_id",
    "household_leads": "household_leads t JOIN buildings b USING (building_id) JOIN compounds p ON p.compound_id = b.compound_id "
                       "JOIN communities c ON c.community_id = t.community_id",
    "social_orgs": "social_orgs t JOIN communities c USING (community_id)",
    "org_monthly": "org_monthly t JOIN social_orgs o USING (org_id) JOIN communities c ON c.community_id = o.community_id",
    "tickets": "tickets t JOIN communities c USING (community_id) LEFT JOIN compounds p ON p.compound_id = t.compound_id "
               "LEFT JOIN buildings b ON b.building_id = t.building_id",
    "practices": "practices t JOIN communities c USING (community_id)",
}
_EXPORT_EXPR = {"street": "c.street", "community": "c.community", "compound": "p.compound", "building": "b.building",
                "org": "o.org", "source": "t.source_note"}


_EXPORT_OWN = {"communities": ("street", "community"), "compounds": ("compound",), "buildings": ("building",),
               "social_orgs": ("org",)}


def export_frame(con, table: str) -> pd.DataFrame:
    """Stored rows of `table` with the template's canonical columns (names, not ids)."""
    spec = SPECS[table]
    exprs = []
    for c in spec.cols:
        own = c.name in _EXPORT_OWN.get(table, ())
        e = f"t.{c.name}" if own else _EXPORT_EXPR.get(c.name, f"t.{c.name}")
        if c.kind == "month":
            e = f"strftime({e}, '%Y-%m')"
        elif c.kind == "date":
            e = f"strftime({e}, '%Y-%m-%d')"
        elif c.kind == "datetime":
            e = f"strftime({e}, '%Y-%m-%d %H:%M:%S')"
        elif c.kind == "bool":
            e = f"CASE WHEN {e} THEN '是' WHEN NOT {e} THEN '否' END"
        exprs.append(f"{e} AS {c.name}")
    order = ", ".join(f"t.{k}" for k in _PK[table])
    cur = con.cursor()
    try:
        return cur.execute(f"SELECT {', '.join(exprs)} FROM {_EXPORT_FROM[table]} ORDER BY {order}").df()
    finally:
        cur.close()


def current_user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:
        return None
