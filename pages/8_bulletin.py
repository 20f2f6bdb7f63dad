"""月度通报: the monthly bulletin of the chosen region for one month, as a street office sends it —
总体情况, 排名, 变化, 需关注, 每月一题 候选 and 进展, 组织与社会组织 — and the same bulletin as Word and PDF.
Everything comes from one governance.bulletin.Bulletin built from the pages' own queries; on the page each
section is a tab, the files hold them all in order."""

import streamlit as st

from governance import bulletin as bl
from governance import bulletin_files, db, derived, filters, problem_forms, runtime, ui
from governance.labels import md_escape
from governance.periods import fmt_month, month_end

ui.frame_guard()
sel = ui.selection()
data_range = runtime.query("common/data_range").iloc[0]
last_day = runtime.query("bulletin/last_day").iloc[0]["last_day"]
month = filters.month_picker(data_range["first_month"], data_range["last_month"],
                             None if last_day is None or last_day != last_day else last_day)
b = derived.compute(bl.from_runtime, args=(tuple(sel.region_params().items()), month))

st.title(b.title)
st.caption(md_escape(b.header) + "　|　本页只按“通报月份”统计，左侧的起止月份不影响本页；"
           "各章节在下方标签页中，Word 和 PDF 文件为完整通报；表中“查看”链接打开数字所在的页面和筛选。")


def files() -> None:
    """Word and PDF of this bulletin: prepared on request (the charts take seconds to draw), then downloaded."""
    key = f"bulletin_files:{tuple(sel.region_params().items())}:{fmt_month(month)}:{db.data_version(runtime.connection())}"
    left, mid, right = st.columns([1.2, 1, 1])
    if left.button("准备 Word 和 PDF 文件", key="prepare_files", icon=":material/description:"):
        with st.spinner("正在生成文件（图表转为图片，约需几秒）……"):
            st.session_state[key] = derived.compute(bulletin_files.from_runtime, args=(
                tuple(sel.region_params().items()), month))
    made = st.session_state.get(key)
    if made is None:
        st.caption("Word 与 PDF 的内容与本页相同：同样的章节、表格（Word/PDF 表格）和图表（图片），每页页眉注明范围、月份、生成日期和演示数据说明。")
        return
    name = f"{b.scope}_月度通报_{fmt_month(month)}"
    mid.download_button("下载 Word（.docx）", made[0], file_name=f"{name}.docx", key="docx",
                        mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                        icon=":material/download:")
    right.download_button("下载 PDF", made[1], file_name=f"{name}.pdf", mime="application/pdf", key="pdf",
                          icon=":material/download:")


files()

def section_view(i: int):
    """One section of the bulletin: its paragraphs, tables (each row linked to its page), charts and sources."""
    section = b.sections[i]
    first_chart = sum(len(x.charts) for x in b.sections[:i])

    def draw() -> None:
        for text in section.texts:
            st.markdown(md_escape(text))
        for t in section.tables:
            st.markdown(f"**{md_escape(t.title)}**")
            frame = t.frame.copy()
            config = {}
            if t.row_links:
                frame.insert(0, "查看", t.row_links)
                config["查看"] = st.column_config.LinkColumn("查看", display_text="打开", help="打开该数字所在的页面和筛选")
            st.dataframe(frame, hide_index=True, width="stretch", column_config=config,
                         height=min(460, 38 + 35 * len(frame)))
            if t.note:
                st.caption(md_escape(t.note))
        if section.charts:
            figures = derived.figures(bl.page_figures, args=(tuple(sel.region_params().items()), month))
            for j in range(len(section.charts)):
                ui.plotly_chart(figures[first_chart + j], width="stretch", key=f"c_{i}_{j}")
        if section.sources:
            st.caption("数据来源：" + "；".join(f"[{md_escape(label)}]({url})" for label, url in section.sources))
        if section.key == "candidates":   # editors adopt a candidate here and close an adopted problem under 进展
            problem_forms.flash()         # the confirmation shows in the tab where the form was sent
            problem_forms.adopt_form(section.items, b.region, month, month_end(month), key="bulletin")
        elif section.key == "progress":
            problem_forms.flash()
            problem_forms.close_form(section.items, key="bulletin")
    return draw


# one tab per section (ui.lazy_tabs: only the chosen section is drawn and sent); the files hold them all
ui.lazy_tabs({section.title: section_view(i) for i, section in enumerate(b.sections)}, key="bulletin_tab")
