"""Streamlit pieces every page uses: the current selection, indicator cards with their counts
and change, downloads, empty states. Data is always shown as text (no unsafe HTML)."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from governance import exports
from governance.filters import Selection
from governance.indicators import INDICATORS, SMALL_SAMPLE
from governance.labels import NA, fmt_num, fmt_rate, md_escape, plot_safe
from governance.metrics import Value


def frame_guard() -> None:
    """First line of every page: make sure the page runs inside app.py's frame.

    With a pages/ folder, the first session after a server start (and every AppTest run) runs
    in Streamlit's old folder mode until app.py calls st.navigation: a deep link then runs the
    page file alone (file names in the sidebar, no filters). Here the page hands over to app.py
    within the same run (so a button click that started the run is not lost); app.py's
    st.navigation leaves folder mode and runs this page inside the frame; then this outer run stops.
    """
    import sys

    from streamlit.runtime.pages_manager import PagesManager

    from governance.navigation import ROOT

    # PagesManager.uses_pages_directory is one flag for the whole server: when many sessions open
    # at once after a start, another session's st.navigation can clear it after this run began in
    # folder mode (30-session load test: some saw "还没有可显示的数据"). So also ask this run's own
    # call stack whether app.py is running this page.
    app = str(ROOT / "app.py")
    frame, inside = sys._getframe(1), False
    while frame is not None and not inside:
        inside, frame = frame.f_code.co_filename == app, frame.f_back
    if PagesManager.uses_pages_directory or not inside:
        import runpy

        runpy.run_path(app, run_name="__main__")
        st.stop()


def selection() -> Selection:
    """The shared filters as set by app.py for this run."""
    sel = st.session_state.get("selection")
    if sel is None:
        st.info("还没有可显示的数据。")
        st.stop()
    return sel


def page_header(title: str, sel: Selection, note: str | None = None) -> None:
    st.title(title)
    st.caption(f"范围：{md_escape(sel.region_label())}　|　期间：{sel.period.label()}（截至 {sel.period.end:%Y-%m-%d}）"
               + (f"　|　{note}" if note else ""))


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def format_value(v: Value, kind: str, digits: int = 1) -> str:
    if _missing(v.value):
        return NA
    if kind == "rate":
        return fmt_rate(v.value, digits)
    if kind == "score":
        return f"{v.value:.1f} 分"
    return fmt_num(v.value, 0 if kind == "count" else 2)


def format_delta(now: Value, before: Value | None, kind: str) -> str | None:
    if before is None or _missing(now.value) or _missing(before.value):
        return None
    d = now.value - before.value
    if kind == "rate":
        text = f"{d * 100:+.1f} 个百分点"
    elif kind == "count":
        text = f"{d:+,.0f}"
    elif kind == "score":
        text = f"{d:+.1f} 分"
    else:
        text = f"{d:+.2f}"
    return text if any(ch in text for ch in "123456789") else FLAT   # "+0.0" is no change: 持平


FLAT = "持平"


def metric_card(label: str, now: Value, before: Value | None = None, kind: str = "rate",
                counts: str | None = None, help: str | None = None, sample: float | None = None,
                neutral: bool = False) -> None:
    """st.metric plus a caption with the counts behind the value (and a small-sample mark).

    `neutral` greys the change where neither direction is good in itself (e.g. ticket volume).
    """
    delta = format_delta(now, before, kind)
    flat = delta == FLAT
    st.metric(label, format_value(now, kind), None if flat else delta, help=help,
              delta_color="off" if neutral else "normal")
    bits = ["与上一期间持平"] if flat else []
    if counts:
        bits.append(counts)
    if sample is not None and 0 < sample < SMALL_SAMPLE:
        bits.append(f"样本少（{sample:.0f} 件 < {SMALL_SAMPLE}），比率不稳定")
    if bits:
        st.caption("；".join(bits))


def indicator_help(code: str) -> str:
    i = INDICATORS[code]
    return f"{i.label}：{i.formula}。{i.caveats}"


def download_csv(df: pd.DataFrame | None, label: str, file_name: str, key: str | None = None, data=None) -> None:
    """A CSV download that opens correctly in Excel and cannot carry spreadsheet formulas. `data`: its
    bytes when the caller has them cached, or a function making them; by default exports.csv_bytes(df)
    is made when the button is clicked (Streamlit's deferred download), not on every run: encoding
    5,000 rows cost each viewer half a second whether or not they downloaded anything."""
    if data is None:
        frame = df.copy()   # as shown now, whatever the page does to `df` afterwards
        data = lambda: exports.csv_bytes(frame)  # noqa: E731
    # on_click="ignore": no rerun on a click. A deferred download asks the server for its bytes while
    # the click's rerun replaces the button's file id, and the request could lose that race
    st.download_button(label, data, file_name=file_name, mime="text/csv", key=key, icon=":material/download:",
                       on_click="ignore")


def download_table(df: pd.DataFrame, file_name: str, key: str, column_config: dict | None = None,
                   label: str = "下载此表（CSV）") -> None:
    """The dashboard's own download of a shown table, headed as on screen (made on click). Streamlit's
    built-in table download is switched off (client.disableDataExport): it exported cells such as
    =HYPERLINK(...) unchanged, while this one neutralises formulas (exports.table_csv)."""
    frame = df.copy()
    download_csv(None, label, file_name, key=key, data=lambda: exports.table_csv(frame, column_config))


def plotly_chart(fig, **kwargs):
    """st.plotly_chart of a figure whose data text is escaped (labels.plot_safe): every page shows
    its charts through here, so a name like <a href=…> reads as typed in labels, hover and legends.
    A figure escaped already (derived's cached ones, runtime.derived's shared ones) is not walked again."""
    if not isinstance(fig, go.Figure):
        fig = go.Figure(fig)
    return st.plotly_chart(plot_safe(fig), **kwargs)


def empty_state(message: str) -> None:
    st.info(message, icon=":material/info:")


SHOWN_ROWS = 500   # rows of a table sent to the browser; a screen shows a few dozen


def table(df: pd.DataFrame, *, download: bool = True, **kwargs):
    """st.dataframe sending the browser at most SHOWN_ROWS rows, in the table's own order. A table of
    5,000 communities cost every viewer 1–2 MB and seconds to draw; the counts and cards above it and
    its download still use every row, and a caption says how many rows were left off."""
    if len(df) <= SHOWN_ROWS:
        return st.dataframe(df, **kwargs)
    shown = st.dataframe(df.head(SHOWN_ROWS), **kwargs)
    rest = f"下载的文件含全部 {len(df):,} 行" if download else "请缩小筛选范围以查看其余各行"
    st.caption(f"共 {len(df):,} 行，表中显示按上述顺序的前 {SHOWN_ROWS:,} 行（点击列名只对这些行排序）；{rest}。")
    return shown


def capped_note(df: pd.DataFrame) -> None:
    if df.attrs.get("capped"):
        st.caption(f"仅显示前 {len(df):,} 行；请缩小筛选范围以查看全部。")


def lazy_tabs(sections: dict, key: str) -> None:
    """One tab per section (label: function that draws it); only the chosen tab's function runs, so only
    its queries are read and only its elements are sent to the browser (the others are an empty tab until
    chosen: choosing one reruns the page). The first tab is chosen on a fresh visit; the choice stays
    while the filters change."""
    for draw, tab in zip(sections.values(), st.tabs(list(sections), key=key, on_change="rerun")):
        if tab.open:
            with tab:
                draw()
