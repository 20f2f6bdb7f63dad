"""Files users download: CSV that Excel opens correctly and that cannot carry formulas."""

from __future__ import annotations

import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Prefix a text cell that a spreadsheet would read as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.columns = [neutralise(str(c)) for c in out.columns]
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    return out


def csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 with BOM (so Excel detects the encoding), formula-safe.

    Rows end in CRLF, so a cell holding a carriage return is quoted (with "\n" endings the csv
    writer left a lone CR unquoted, and spreadsheets split the row there).
    """
    return safe_frame(df).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def table_csv(df: pd.DataFrame, column_config: dict | None = None) -> bytes:
    """csv_bytes of a shown table, its columns headed as on screen (the labels of `column_config`,
    st.dataframe's column configuration)."""
    names = {}
    for col, conf in (column_config or {}).items():
        name = conf if isinstance(conf, str) else (conf or {}).get("label") if isinstance(conf, dict) else None
        if name:
            names[col] = name
    return csv_bytes(df.rename(columns=names))


def xlsx_bytes(df: pd.DataFrame, sheet: str = "Sheet1") -> bytes:
    """An .xlsx of one sheet (header bold, frozen), formula-safe: text cells are written as text."""
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = sheet[:31]
    safe = safe_frame(df)
    ws.append(list(safe.columns))
    for row in safe.itertuples(index=False, name=None):
        ws.append([None if (isinstance(v, float) and v != v) or v is pd.NA else v for v in row])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
