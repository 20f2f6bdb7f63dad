"""ui.table: a table sends the browser at most SHOWN_ROWS rows in its own order and says how many
were left off; a short table is sent whole, with no caption."""

from streamlit.testing.v1 import AppTest

from governance import ui


def _table_app(rows: int, download: bool):
    import pandas as pd
    import streamlit as st

    from governance import ui

    ui.table(pd.DataFrame({"社区": [f"社区{i}" for i in range(rows)], "n": range(rows)}), download=download,
             hide_index=True)
    st.caption("end")


def _run(rows: int, download: bool = True):
    at = AppTest.from_function(_table_app, args=(rows, download), default_timeout=60).run()
    assert not at.exception
    return at


def test_a_long_table_is_cut_to_the_rows_a_screen_shows_and_says_so():
    at = _run(ui.SHOWN_ROWS * 3 + 7)
    shown = at.dataframe[0].value
    assert len(shown) == ui.SHOWN_ROWS
    assert list(shown["n"]) == list(range(ui.SHOWN_ROWS))            # the first rows, in the table's order
    captions = [c.value for c in at.caption]
    assert captions[0] == (f"共 1,507 行，表中显示按上述顺序的前 500 行（点击列名只对这些行排序）；"
                           f"下载的文件含全部 1,507 行。")


def test_without_a_download_the_caption_says_to_narrow_the_selection():
    at = _run(ui.SHOWN_ROWS + 1, download=False)
    assert len(at.dataframe[0].value) == ui.SHOWN_ROWS
    assert at.caption[0].value.endswith("请缩小筛选范围以查看其余各行。")


def test_a_short_table_is_sent_whole_without_a_caption():
    at = _run(ui.SHOWN_ROWS)
    assert len(at.dataframe[0].value) == ui.SHOWN_ROWS
    assert [c.value for c in at.caption] == ["end"]
