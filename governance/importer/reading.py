"""Bytes to raw cells: CSV in UTF-8 / UTF-8 with BOM / GBK / GB18030 decoded in Python, .xlsx read
with openpyxl (formulas without a saved value, merged cells), the header row found among the first ten."""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from governance.importer.limits import _blocks, check_file
from governance.importer.problems import ImportRefused, Problem, _file_problem
from governance.importer.specs import MAX_FILE_BYTES, Spec, _norm_header, header_map


@dataclass
class RawTable:
    frame: pd.DataFrame  # raw cells (str for CSV; Python values for xlsx), columns = header texts
    excel_rows: np.ndarray
    header_row: int
    problems: list[Problem]


# Rows checked and written at a time: a million-row file is never held as one frame of cells.
CHUNK_ROWS = 50_000
# A CSV at least this large is read in chunks straight from its bytes (smaller ones in one go).
STREAM_MIN_BYTES = 4 * 1024 * 1024
_CONTROL = "\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x10\x11\x12\x13\x14\x15\x16"


@dataclass
class RawChunks:
    """A file under its header row, as chunks of raw cells (columns by position) with Excel rows."""
    names: list[str]
    header_row: int
    problems: list[Problem]
    chunks: Iterator[tuple[pd.DataFrame, np.ndarray]]


class _Ragged(Exception):
    """A CSV whose rows have different numbers of cells: read in one go instead of in chunks."""


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


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


def _encoding(data: bytes | Path) -> str:
    """The encoding `_decode` would pick, found without holding the decoded text (for large files)."""
    head = file_head(data, 8192)
    if b"\x00" in head:
        _decode(head)  # raises the binary-file problem
    for enc in ("utf-8-sig", "gb18030"):
        dec = codecs.getincrementaldecoder(enc)()
        try:
            for block in _blocks(data):
                dec.decode(block, final=False)
            dec.decode(b"", final=True)
            return enc
        except UnicodeDecodeError:
            continue
    raise _file_problem("无法识别文件的文字编码", "UTF-8 或 GBK 编码的 CSV（Excel“另存为 CSV”即可）")


def _read_csv(data: bytes) -> pd.DataFrame | list[list]:
    """A frame of stripped strings (pandas' C parser), or rows of cells for a ragged file."""
    text = _decode(data)
    if any(ch in text[:4096] for ch in _CONTROL):
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

    check_file(data, "workbook.xlsx")
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


def _check_size(data: bytes, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise _file_problem(f"文件大小为 {_mb(len(data))}，超过上限 {_mb(max_bytes)}",
                            "更小的文件：可按年份或社区拆成几个文件分别导入")
    if not data.strip():
        raise _file_problem("文件是空的", "第一行为表头、其下每行一条记录的表格")


def _find_header(rows: list[list], spec: Spec, known: dict[str, str], fallback: bool) -> int:
    """The header is the row among the first ten naming the most known columns (titles above it,
    and the upper row of a two-row merged header, are skipped). With `fallback`, a file naming none
    (e.g. a hotline export before its columns are mapped) has its first filled row as the header."""
    best, best_hits = 0, 0
    for i, row in enumerate(rows[:10]):
        hits = len({known[_norm_header(v)] for v in row if _norm_header(v) in known})
        if hits > best_hits:
            best, best_hits = i, hits
    if best_hits == 0:
        if fallback:
            return next((i for i, row in enumerate(rows[:10]) if any(not _blank(v) for v in row)), 0)
        shown = "、".join(str(v) for v in rows[0][:6] if not _blank(v))
        raise ImportRefused([Problem(1, "", shown[:60], f"找不到“{spec.label}”表的表头（前 10 行中没有一个可识别的列名）",
                                     "第一行为列名，如 " + "、".join(c.label for c in spec.cols[:4]))])
    return best


def read_raw(data: bytes, file_name: str, spec: Spec, sheet: str | None = None,
             max_bytes: int = MAX_FILE_BYTES, known: dict[str, str] | None = None,
             fallback: bool = False) -> RawTable:
    """Cells of the file under its header row; raises ImportRefused for an unusable file.
    `known` (normalised header -> column) defaults to the spec's headers and aliases."""
    _check_size(data, max_bytes)
    check_file(data, file_name)  # rows, columns, cell length, a workbook's unzipped size: before reading
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
    best = _find_header(rows, spec, known or header_map(spec), fallback)
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


def _names(header: list, width: int) -> list[str]:
    header = list(header) + [None] * (width - len(header))
    return [("" if _blank(h) else str(h).strip()) for h in header]


def file_size(data: bytes | Path) -> int:
    return data.stat().st_size if isinstance(data, Path) else len(data)


def file_head(data: bytes | Path, n: int = 1 << 20) -> bytes:
    if isinstance(data, Path):
        with data.open("rb") as f:
            return f.read(n)
    return data[:n]


def read_chunks(data: bytes | Path, file_name: str, spec: Spec, sheet: str | None = None,
                max_bytes: int = MAX_FILE_BYTES, known: dict[str, str] | None = None,
                chunk_rows: int | None = None, stream: bool = True) -> RawChunks:
    """The file as chunks of at most `chunk_rows` rows. A large plain CSV is parsed chunk by chunk
    from its bytes, or straight from the file when given a Path (pandas decodes as it goes), so a
    million rows never sit in memory as cells at once; anything else is read whole (read_raw) and
    then handed out in chunks. A CSV found ragged while streaming raises _Ragged: the caller starts
    again with stream=False. The size limit is checked before anything is read."""
    chunk_rows = chunk_rows or CHUNK_ROWS
    size = file_size(data)
    if size > max_bytes:
        raise _file_problem(f"文件大小为 {_mb(size)}，超过上限 {_mb(max_bytes)}",
                            "更小的文件：可按年份或社区拆成几个文件分别导入")
    check_file(data, file_name)  # rows, columns, cell length, a workbook's unzipped size: before reading
    head = file_head(data, 65536)
    plain_csv = (head[:4] != b"PK\x03\x04" and head[:8] != b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
                 and not file_name.lower().endswith((".xlsx", ".xlsm")))
    if not (stream and plain_csv and size >= STREAM_MIN_BYTES):
        if isinstance(data, Path):
            data = data.read_bytes()
        raw = read_raw(data, file_name, spec, sheet, max_bytes, known)
        frame = raw.frame.set_axis(range(raw.frame.shape[1]), axis=1)

        def slices():
            for i in range(0, len(frame), chunk_rows):
                yield frame.iloc[i:i + chunk_rows].reset_index(drop=True), raw.excel_rows[i:i + chunk_rows]
        return RawChunks(list(raw.frame.columns), raw.header_row, raw.problems, slices())

    enc = _encoding(data)
    head = head.decode(enc, errors="ignore")
    if any(ch in head[:4096] for ch in _CONTROL):
        raise _file_problem("文件不是文本表格（含有大量控制字符，可能只是改了扩展名）",
                            "逗号分隔的 CSV 文本文件，或 Excel 的 .xlsx 文件")
    first_line = head.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    reader = pd.read_csv(data if isinstance(data, Path) else io.BytesIO(data), header=None, dtype=str, keep_default_na=False, na_filter=False,
                         sep=delimiter, skip_blank_lines=False, engine="c", encoding=enc, chunksize=chunk_rows)

    def parsed():
        try:
            for chunk in reader:
                yield chunk.apply(lambda c: c.str.strip())
        except (pd.errors.ParserError, ValueError) as exc:
            raise _Ragged() from exc

    it = parsed()
    first = next(it, None)
    if first is None or not (first != "").any(axis=None):
        raise _file_problem("文件是空的", "第一行为表头、其下每行一条记录的表格")
    best = _find_header(first.head(10).values.tolist(), spec, known or header_map(spec), False)
    width = first.shape[1]
    names = _names(first.iloc[best].tolist(), width)

    def chunks():
        offset = best + 2  # the Excel row of the first row under the header
        current = first.iloc[best + 1:]
        while current is not None:
            frame = current.reset_index(drop=True)
            frame.columns = range(frame.shape[1])
            rows = np.arange(offset, offset + len(frame))
            offset += len(frame)
            blank = (frame == "").all(axis=1).to_numpy()
            if blank.any():  # blank rows (Excel users leave gaps) are not records
                frame, rows = frame[~blank].reset_index(drop=True), rows[~blank]
            if len(frame):
                yield frame, rows
            current = next(it, None)
    return RawChunks(names, best + 1, [], chunks())


def file_headers(data: bytes, file_name: str, spec: Spec, sheet: str | None = None,
                 max_bytes: int = MAX_FILE_BYTES) -> list[str]:
    """The header texts of a file (its header row, or its first filled row when no header is
    recognised), for the mapping step. Only the first rows of a CSV are read."""
    if data[:4] != b"PK\x03\x04":
        cut = 0
        for _ in range(12):
            nxt = data.find(b"\n", cut)
            if nxt < 0:
                cut = len(data)
                break
            cut = nxt + 1
        data = data[:cut]
    raw = read_raw(data, file_name, spec, sheet, max_bytes, fallback=True)
    return [h for h in raw.frame.columns]
