"""Limits of an imported file, checked BEFORE the file is read into memory: a CSV is scanned in
blocks (lines, the longest cell, columns); a .xlsx (a zip) has each part's uncompressed size read
from the zip directory before anything is decompressed, then every worksheet (and the shared
strings) streamed in blocks to count rows, columns and the longest cell. The scan stops at the
first limit passed, so a refused file costs a few MB and well under a second; its message names
the limit and the file's figure. The values are in importer.specs (environment overrides)."""

from __future__ import annotations

import codecs
import hashlib
import io
import re
import zipfile
from pathlib import Path

from governance.importer import specs
from governance.importer.problems import _file_problem

BLOCK = 1 << 22
_CONT = bytes(range(0x80, 0xC0))  # UTF-8 continuation bytes: characters = bytes minus these
_COL = re.compile(rb'<c\s[^>]*?\br="([A-Z]{1,3})\d')
_SPLIT_HINT = "更小的文件：可按年份或社区拆成几个文件分别导入"
_passed: dict[tuple, bool] = {}  # files already checked (the page reads one upload several times)


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _refuse(what: str, figure: str, limit: str):
    """figure: the file's figure ("至少 …" when the scan stopped at the limit)."""
    return _file_problem(f"{what}{'' if figure.startswith('至少') else '为 '}{figure}，超过上限 {limit}", _SPLIT_HINT)


def _key(data: bytes | Path) -> tuple:
    if isinstance(data, Path):
        st = data.stat()
        return ("path", str(data.resolve()), st.st_size, st.st_mtime_ns)
    return ("bytes", len(data), hashlib.blake2b(data, digest_size=16).digest())


def check_file(data: bytes | Path, file_name: str) -> None:
    """Raise ImportRefused (a Chinese message naming the limit and the file's figure) when the file
    passes a limit; read nothing more than a block at a time."""
    key = _key(data)
    if key in _passed:
        return
    if isinstance(data, Path):
        with data.open("rb") as f:
            head = f.read(8)
    else:
        head = data[:8]
    if head[:4] == b"PK\x03\x04":
        _check_xlsx(data)
    elif head != b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" and not file_name.lower().endswith((".xlsx", ".xlsm")):
        _check_csv(data)
    if len(_passed) > 64:
        _passed.clear()
    _passed[key] = True


# ------------------------------------------------------------------ CSV


def _blocks(data: bytes | Path):
    if isinstance(data, Path):
        with data.open("rb") as f:
            while block := f.read(BLOCK):
                yield block
    else:
        view = memoryview(data)
        for i in range(0, len(data), BLOCK):
            yield bytes(view[i:i + BLOCK])


def _chars(piece: bytes, utf8: bool) -> int:
    if utf8:
        return len(piece.translate(None, _CONT))
    return len(piece.decode("gb18030", errors="ignore"))


def _check_csv(data: bytes | Path) -> None:
    first = next(_blocks(data), b"")
    line = first.split(b"\n", 1)[0]
    delim = b"\t" if line.count(b"\t") > line.count(b",") else b","
    try:
        codecs.getincrementaldecoder("utf-8")().decode(first, final=False)   # a character cut at the block's end is fine
        utf8 = True
    except UnicodeDecodeError:
        utf8 = False
    lines = 0
    long_line = re.compile(rb"(?m)^[^\n]{%d,}" % (specs.MAX_CELL_CHARS + 1))   # anchored: linear time
    carry = b""   # the unfinished last line of the previous block (its last 4 x MAX_CELL_CHARS bytes)
    for block in _blocks(data):
        n = block.count(b"\n")
        lines += n
        if lines > specs.MAX_CSV_ROWS:
            raise _refuse("文件行数", f"至少 {lines:,} 行", f"{specs.MAX_CSV_ROWS:,} 行")
        cut = block.find(b"\n")
        first, rest = (carry + block, b"") if cut < 0 else (carry + block[:cut], block[cut + 1:])
        if len(first) > specs.MAX_CELL_CHARS or first.count(delim) >= specs.MAX_COLUMNS:
            _check_line(first, delim, utf8)
        # found by the regex engine, no object per line: only lines long enough to hold a long cell
        for m in long_line.finditer(rest):
            _check_line(m.group(0), delim, utf8)
        if rest.count(delim) >= specs.MAX_COLUMNS * (rest.count(b"\n") + 1) // 2:  # a line may have too many columns
            for line in rest.split(b"\n"):
                if line.count(delim) >= specs.MAX_COLUMNS:
                    _check_line(line, delim, utf8)
        last = first if cut < 0 else block[block.rfind(b"\n") + 1:]
        carry = last[-specs.MAX_CELL_CHARS * 4:]


def _check_line(line: bytes, delim: bytes, utf8: bool) -> None:
    cells = line.split(delim)
    if len(cells) > specs.MAX_COLUMNS:
        raise _refuse("一行的列数", f"{len(cells):,} 列", f"{specs.MAX_COLUMNS:,} 列")
    longest = max(cells, key=len)
    n = _chars(longest, utf8)
    if n > specs.MAX_CELL_CHARS:
        raise _refuse("一个单元格的长度", f"至少 {n:,} 个字符", f"{specs.MAX_CELL_CHARS:,} 个字符")


# ------------------------------------------------------------------ .xlsx


def _sheet_names(z: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet part -> sheet name, from the (size-checked) workbook.xml and its relationships."""
    try:
        book = z.read("xl/workbook.xml").decode("utf-8", "replace")
        rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    except KeyError:
        return {}
    target = {m.group(1): m.group(2) for m in re.finditer(r'<Relationship\b[^>]*?\bId="([^"]+)"[^>]*?\bTarget="([^"]+)"', rels)}
    target.update({m.group(2): m.group(1) for m in re.finditer(r'<Relationship\b[^>]*?\bTarget="([^"]+)"[^>]*?\bId="([^"]+)"', rels)})
    out = {}
    for m in re.finditer(r'<sheet\b([^>]*)/?>', book):
        name = re.search(r'\bname="([^"]*)"', m.group(1))
        rid = re.search(r'\br:id="([^"]*)"', m.group(1))
        if name and rid and rid.group(1) in target:
            t = target[rid.group(1)].lstrip("/")
            out[t if t.startswith("xl/") else "xl/" + t] = name.group(1)
    return out


def _check_xlsx(data: bytes | Path) -> None:
    try:
        z = zipfile.ZipFile(data if isinstance(data, Path) else io.BytesIO(data))
    except (zipfile.BadZipFile, OSError):
        return  # the reader reports a damaged file
    with z:
        infos = z.infolist()
        if len(infos) > 10_000:
            raise _refuse("压缩包内的文件数", f"{len(infos):,} 个", "10,000 个")
        total = 0
        for info in infos:
            if info.file_size > specs.MAX_PART_BYTES:
                raise _refuse(f"Excel 文件中“{info.filename}”解压后的大小", _mb(info.file_size), _mb(specs.MAX_PART_BYTES))
            total += info.file_size
        if total > specs.MAX_UNZIPPED_BYTES:
            raise _refuse("Excel 文件解压后的总大小", _mb(total), _mb(specs.MAX_UNZIPPED_BYTES))
        names = _sheet_names(z)
        for info in infos:
            part = info.filename
            if part == "xl/sharedStrings.xml":
                _scan_part(z, info, "", rows=False)
            elif part.startswith("xl/worksheets/") and part.endswith(".xml"):
                _scan_part(z, info, f"工作表“{names.get(part, part)}”", rows=True)


def _scan_part(z: zipfile.ZipFile, info: zipfile.ZipInfo, where: str, rows: bool) -> None:
    """Rows, the widest column and the longest text of one part, decompressed a block at a time;
    stops at the first limit passed. Text cannot hold '<' (it is written &lt;), so the longest run
    between two '<' bounds the longest cell."""
    n_rows = max_col = 0
    run = 0        # characters of the text run still open at the end of the previous block
    tail = b""
    try:
        f = z.open(info)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError):
        return
    with f:
        while True:
            try:
                block = f.read(BLOCK)
            except (zipfile.BadZipFile, OSError, EOFError):
                return  # the reader reports a damaged file
            if not block:
                break
            joined = tail + block
            if rows:
                n_rows += joined.count(b"<row ") + joined.count(b"<row>") - tail.count(b"<row ") - tail.count(b"<row>")
                if n_rows > specs.MAX_SHEET_ROWS:
                    raise _refuse(f"{where}的行数", f"至少 {n_rows:,} 行", f"{specs.MAX_SHEET_ROWS:,} 行")
                cols = set(_COL.findall(joined))
                if cols:
                    max_col = max(max_col, max(_col_number(c) for c in cols))
                    if max_col > specs.MAX_COLUMNS:
                        raise _refuse(f"{where}的列数", f"{max_col:,} 列", f"{specs.MAX_COLUMNS:,} 列")
            pieces = block.split(b"<")
            if len(pieces) == 1:
                run += _chars(block, True)
            else:
                run += _chars(pieces[0], True)
                longest = max(pieces[1:], key=len)
                if len(longest) > specs.MAX_CELL_CHARS:
                    run = max(run, _chars(longest, True))
                if run > specs.MAX_CELL_CHARS:
                    break
                run = _chars(pieces[-1], True)
            if run > specs.MAX_CELL_CHARS:
                break
            tail = block[-16:]
    if run > specs.MAX_CELL_CHARS:
        raise _refuse(f"{where or 'Excel 文件中'}一个单元格的长度", f"至少 {run:,} 个字符", f"{specs.MAX_CELL_CHARS:,} 个字符")
