"""社区治理指标看板: the router and frame. Page config, navigation, shared filters, demo banner."""

import streamlit as st

from governance import db, filters, runtime, signin
from governance.navigation import NEEDS_NO_DATA, existing_pages, page_open_to
from governance.labels import TABLE_LABELS, md_escape

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

lineage = runtime.query("common/lineage")
simulated = lineage[lineage["source"] == "simulated"]
if not simulated.empty:
    tables = "、".join(TABLE_LABELS.get(t, t) for t in simulated["table_name"])
    st.warning(
        f"**演示数据**：当前数据库含模拟数据（{tables}）。六个报道社区的公开数字取自《人民日报》2023 年 8 月报道，"
        "其余均为模拟，不代表任何真实社区。哪些数字是公开的、哪些是模拟的，见“指标说明”页。",
        icon=":material/science:",
    )

page.run()
# URL notices are shown on the run that rendered a page, then dropped.
st.session_state["_filter_notices"] = ()
