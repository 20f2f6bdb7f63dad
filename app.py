"""社区治理指标看板: the router and frame. Page config, navigation, shared filters, demo banner."""

import streamlit as st

from governance import db, filters, runtime, signin
from governance.navigation import NEEDS_NO_DATA, existing_pages, page_open_to
from governance.labels import md_escape

st.set_page_config(page_title="社区治理指标看板", page_icon="🏘️", layout="wide")

def _home():
    """The root URL opens 总览 at its own address, so `/overview?...` links and `/` agree."""
    st.switch_page(pages["overview"], query_params=st.query_params.to_dict())


try:
    con = runtime.begin_run()
except db.DatabaseError as exc:
    st.error(str(exc))
    st.stop()
# Who is asking, before anything reads data: the 登录 / 未授权 screens stop the run here, with no
# page list; every query below runs inside actor's scope.
actor = signin.gate(con)

# Pages whose controls the actor's role has no use for (数据管理 for a viewer, 用户管理 for a
# non-admin) are not in the navigation at all.
pages = {url: st.Page(file, title=title, url_path=url, icon=icon) for file, title, url, icon in existing_pages()
         if page_open_to(url, actor.role)}
page = st.navigation([st.Page(_home, title="总览", url_path="home", default=True, visibility="hidden"),
                      *pages.values()])

st.sidebar.markdown("### 社区治理指标看板")
signin.sidebar_account(actor)
communities = runtime.query("common/communities", max_rows=db.SUM_ROWS)
data_range = runtime.query("common/data_range")
first, last = data_range.iloc[0]["first_month"], data_range.iloc[0]["last_month"]
if communities.empty or first is None or first != first:
    st.session_state["selection"] = None
    if page.url_path not in NEEDS_NO_DATA:
        if actor.scope.is_all:
            st.info("数据库中还没有社区数据。请到“数据管理”页面导入本街道的数据，或用 `python -m governance demo` 生成演示数据。")
        else:
            st.info(f"您的范围（{md_escape(actor.scope.label())}）内还没有社区数据。")
        st.stop()
else:
    selection = filters.sidebar(communities, first, last, scope=actor.scope)
    st.session_state["selection"] = selection
    for notice in selection.notices:
        st.warning(notice, icon=":material/warning:")

# static CSS only (no data): on a touch screen or a narrow window Plotly's mode bar would sit on
# chart titles and legends; there it is hidden (a chart's picture can be saved on a desktop)
st.markdown("<style>@media (pointer: coarse), (max-width: 640px) {.modebar-container {display: none !important;}}</style>",
            unsafe_allow_html=True)

lineage = runtime.query("common/lineage")
simulated = lineage[lineage["source"] == "simulated"]
if not simulated.empty:
    # two lines on a phone; which tables are simulated and which figures are published: 指标说明
    st.warning("**演示数据**：除报道的公开数字外均为模拟，详见“指标说明”。",
               icon=":material/science:")

page.run()
# URL notices are shown on the run that rendered a page, then dropped.
st.session_state["_filter_notices"] = ()
