"""Cells to typed values, column by column (vectorised), every bad cell recorded with its row."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import numpy as np
import pandas as pd

from governance.importer.problems import Problem
from governance.importer.specs import KIND_EXPECTED, MAX_PROBLEMS_KEPT, SATISFACTION, Col


_DATE_RE = re.compile(
    r"^(?P<y>\d{4})\s*(?:-|/|\.|年)\s*(?P<m>\d{1,2})\s*月?\s*(?:(?:-|/|\.)?\s*(?P<d>\d{1,2})\s*日?)?"
    r"(?:\s*(?:T|\s)\s*(?P<H>\d{1,2})\s*[:：]\s*(?P<M>\d{2})(?:\s*[:：]\s*(?P<S>\d{2})(?:\.\d+)?)?)?$"
)
_BOOL = {"是": True, "否": False, "y": True, "n": False, "yes": True, "no": False, "1": True, "0": False,
         "true": True, "false": False, "1.0": True, "0.0": False,
         # the forms hotline (12345) exports write in their follow-up columns
         "已联系": True, "未联系": False, "联系上": True, "未联系上": False, "已联系上": True,
         "已解决": True, "未解决": False, "解决": True, "对": True, "错": False, "有": True, "无": False}
# Satisfaction as 1-5 stars (a mapping's `satisfaction_stars`): 5 is the best level.
_STARS = {"5": "非常满意", "4": "满意", "3": "基本满意", "2": "不满意", "1": "非常不满意",
          "5.0": "非常满意", "4.0": "满意", "3.0": "基本满意", "2.0": "不满意", "1.0": "非常不满意",
          "★★★★★": "非常满意", "★★★★": "满意", "★★★": "基本满意", "★★": "不满意", "★": "非常不满意",
          "5星": "非常满意", "4星": "满意", "3星": "基本满意", "2星": "不满意", "1星": "非常不满意"}
# A category path in one cell (a mapping's `category`): 物业管理/设施维修/下水道堵塞, 物业管理 > 设施维修, …
_CATEGORY_SEP = r"\s*(?:/|>|›|»|-|／|＞|－|—|〉|》|→)\s*"
# Excel serial day numbers of 1927-05-18 .. 2100-12-31 (a date cell exported as its number)
_SERIAL_MIN, _SERIAL_MAX = 10000, 73415
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

    def start(self, excel_rows: np.ndarray):
        """The next chunk of rows: problems and counts carry on, `bad` is the chunk's."""
        self.excel_rows = excel_rows
        self.bad = np.zeros(len(excel_rows), dtype=bool)

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
    serial = _serial_dates(text[todo], raw[todo], kind)
    if len(serial):
        result[serial.index] = serial
        todo[serial.index] = False
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
        if kind in ("date", "datetime"):  # 2023年6月 is a month, not a day (a month column takes it)
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


def _serial_dates(text: pd.Series, raw: pd.Series, kind: str) -> pd.Series:
    """Cells holding an Excel serial date (a number such as 44931 or 44931.375, as a date cell
    exported as text shows it), as timestamps; other cells are left for the text forms."""
    if not len(text):
        return pd.Series(dtype="datetime64[us]")
    looks = text.str.fullmatch(r"\d{5}(?:\.\d+)?")  # five digits: 1927-2173 (a bare year stays an error)
    if not looks.any():
        return pd.Series(dtype="datetime64[us]")
    num = pd.to_numeric(text[looks], errors="coerce")
    num = num[(num >= _SERIAL_MIN) & (num <= _SERIAL_MAX)]
    if kind == "date":
        num = num[num == num.round()]
    stamp = pd.Timestamp("1899-12-30") + pd.to_timedelta((num * 86400).round(), unit="s")
    return stamp.astype("datetime64[us]")


def category_parts(raw: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series, np.ndarray]:
    """One column of category paths split into the three levels; also a mask of paths with more
    than three levels (a problem for the caller to report)."""
    text = _texts(raw)
    parts = text.str.split(_CATEGORY_SEP, regex=True, expand=True)
    parts = parts.reindex(columns=range(max(3, parts.shape[1])))
    parts = parts.where(parts.notna() & (parts != ""), None)
    too_deep = parts.iloc[:, 3:].notna().any(axis=1).to_numpy() if parts.shape[1] > 3 else np.zeros(len(text), bool)
    level = lambda i: parts[i].fillna("").astype(str)  # noqa: E731
    return level(0), level(1), level(2), too_deep


def _expand(sub_mask: pd.Series, todo: pd.Series) -> np.ndarray:
    """A mask on a subset (indexed like the subset) as a mask on the whole column."""
    full = np.zeros(len(todo), dtype=bool)
    pos = np.flatnonzero(todo.to_numpy())
    full[pos] = sub_mask.reindex(todo.index[pos], fill_value=False).to_numpy(dtype=bool)
    return full


def _parse_column(col: Col, raw: pd.Series, out: _Collector, colname: str, stars: bool = False) -> pd.Series:
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
    if col.kind == "satisfaction" and stars:
        table = {**table, **_STARS}
        expected = "1—5 星（5 星为非常满意、1 星为非常不满意），或 " + expected
    mapped = lowered.map(table)
    bad = ~blank & mapped.isna().to_numpy()
    out.add(bad, colname, text, {"bool": "无法识别的是/否", "ctype": "无法识别的社区类型",
                                 "satisfaction": "无法识别的满意度"}[col.kind], expected)
    return mapped.astype("boolean") if col.kind == "bool" else mapped.astype(object)
