"""社区对比: 2 to 8 communities from anywhere side by side (one card per community on a phone),
ranked among all communities and among their peers, the same charts on the same axes, their
practices, 培训模式 as slides for the projector, and the files a class takes home (CSV, Excel, PDF,
PowerPoint).

URL: communities=名称,名称,街道/名称 (the selection), present=1 (培训模式), k=N (peer group size),
slide=N (the slide shown in 培训模式, from 1); the period comes from the shared filters (from, to).
培训模式 shows governance.slides' slides, one at a time, sized for a 1920×1080 projector."""

import datetime as dt
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from governance import compare as cmp
from governance import db, metrics, reports, runtime, slides, ui
from governance.labels import LEVELS, SOURCE_LABELS, TABLE_LABELS, TYPE_LABELS, fmt_num, md_escape

ui.frame_guard()
sel = ui.selection()
state = st.session_state
params = {**{k: None for k in LEVELS}, **sel.period.params()}  # all communities: not the street filter

communities = runtime.query("common/communities", max_rows=db.SUM_ROWS)   # inside the user's scope
scope = runtime.actor().scope
scope_label = None if scope.is_all else scope.label()
features = runtime.query("compare/peer_features", max_rows=db.SUM_ROWS)
ids_known = set(communities["community_id"].astype(int))
label_of = runtime.derived("compare/labels", (), lambda: dict(zip(
    communities["community_id"], communities["community"] + " · " + communities["street"])))
# the names as written in the URL; every rerun used to work them out again for all communities
short = runtime.derived("compare/short", (), lambda: dict(zip(communities["community_id"],
                                                           cmp.display_names(communities))))

# ------------------------------------------------------------------ URL ⇄ state
raw = st.query_params.get("communities")
if raw is not None and state.get("_cmp_url") != raw:
    state["cmp_ids"], state["_cmp_notices"] = cmp.parse_communities(raw, communities, scope_label)
    state["_cmp_url"] = raw
# widget state is dropped while a widget is hidden (培训模式): the chosen values live on in _cmp_*
state["cmp_ids"] = [i for i in state.get("cmp_ids", state.get("_cmp_chosen", [])) if i in ids_known]
if "cmp_present" not in state:
    state["cmp_present"] = st.query_params.get("present") == "1"
if "_cmp_k" not in state:
    k_raw = st.query_params.get("k")
    state["_cmp_k"] = int(k_raw) if k_raw and k_raw.isdigit() and 1 <= int(k_raw) <= cmp.MAX_K else cmp.DEFAULT_K
state["cmp_k"] = state.get("cmp_k", state["_cmp_k"])


def add_peers(cid: int, peer_ids: list[int]) -> None:
    """Button callback: the community's peers join the selection (up to the maximum)."""
    chosen = list(state["cmp_ids"])
    for p in peer_ids:
        if p not in chosen and len(chosen) < cmp.MAX_COMMUNITIES:
            chosen.append(p)
    state["cmp_ids"] = chosen


present = state["cmp_present"]
# static CSS only (no data): a value and its ranks on separate lines of one cell
# static CSS only (no data): a value and its ranks on separate lines of one cell; below 640 px one
# card per community instead of the wide table
st.markdown("<style>[data-testid='stTable'] td p {white-space: pre-line;}"
            "@media (max-width: 640px) {.st-key-cmp_table {display: none;}}"
            "@media (min-width: 641px) {.st-key-cmp_cards {display: none;}}</style>", unsafe_allow_html=True)
if present:
    # static CSS only (no data): hide the sidebar and page chrome; a slide's type sized for a
    # 1920×1080 projector (body ≥ 28 px, big numbers 44 px)
    st.markdown("""<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
[data-testid="stHeader"], [data-testid="stToolbar"] {display: none !important;}
[data-testid="stMainBlockContainer"] {padding: 0.5rem 2rem 0 2rem; max-width: 100%;}
[data-testid="stMain"] [data-testid="stAlert"] {display: none;}
.st-key-slide p, .st-key-slide li {font-size: 28px; line-height: 1.25; margin-bottom: 0;}
.st-key-slide h2 {font-size: 44px; padding: 0;}
.st-key-slide_grid strong, .st-key-slide_grid_figures strong {font-size: 40px; line-height: 1.15;}
.st-key-slide_items strong {font-size: 34px;}
.st-key-slide_items, .st-key-slide_grid_figures {margin-bottom: 1.5rem;}
.st-key-slide_nav p, .st-key-slide_nav button {font-size: 22px;}
</style>""", unsafe_allow_html=True)

PRESENT_HELP = ("按幻灯片放映（每个指标族一页、每个社区的经验做法一页），用于投影；左右方向键翻页；"
                "链接中加 present=1 可直接进入，slide=N 打开第 N 页。")
if present:
    nav = st.container(key="slide_nav", horizontal=True, vertical_alignment="center", gap="medium")
    with nav:
        st.toggle("培训模式", key="cmp_present", help=PRESENT_HELP)
else:
    top, switch = st.columns([5, 1], vertical_alignment="bottom")
    with top:
        st.title("社区对比")
    with switch:
        st.toggle("培训模式", key="cmp_present", help=PRESENT_HELP)
    st.caption(f"期间：{sel.period.label()}（截至 {sel.period.end:%Y-%m-%d}，取自左侧期间筛选）　|　"
               "对比的社区可来自任何街道，不受左侧地区筛选限制。")
    for notice in state.get("_cmp_notices", ()):
        st.warning(notice, icon=":material/warning:")
    c1, c2 = st.columns([4, 1])
    options = runtime.derived("compare/options", (), lambda: sorted(ids_known, key=label_of.get))
    c1.multiselect(f"对比的社区（{cmp.MIN_COMMUNITIES}–{cmp.MAX_COMMUNITIES} 个）", options,
                   key="cmp_ids", max_selections=cmp.MAX_COMMUNITIES, format_func=label_of.get,
                   placeholder="输入社区名称搜索")
    c2.number_input("相似社区个数 k", min_value=1, max_value=cmp.MAX_K, step=1, key="cmp_k",
                    help="每个社区的相似社区组 = 它自己 + 同类型（城市/农村）中规模最接近的 k 个社区。")
    if state["cmp_ids"]:
        # on a phone the selector shows only the first chips: the whole choice in words
        c1.caption(f"已选 {len(state['cmp_ids'])} 个：" + "、".join(md_escape(label_of[i]) for i in state["cmp_ids"]))

chosen: list[int] = list(state["cmp_ids"])
k = int(state["cmp_k"])
state["_cmp_chosen"], state["_cmp_k"] = chosen, k

# keep the link in step: it reproduces the view
wanted = {"communities": ",".join(short[i] for i in chosen if i in short) or None, "present": "1" if present else None,
          "k": str(k) if k != cmp.DEFAULT_K else None}
if not present:
    wanted["slide"] = None
for key, value in wanted.items():
    if value is None:
        if key in st.query_params:
            del st.query_params[key]
    elif st.query_params.get(key) != value:
        st.query_params[key] = value
state["_cmp_url"] = wanted["communities"]

if len(chosen) < cmp.MIN_COMMUNITIES:
    ui.empty_state(f"请选择 {cmp.MIN_COMMUNITIES} 至 {cmp.MAX_COMMUNITIES} 个社区进行对比，"
                   "例如报道中的江欣苑社区、西山社区、裕园社区。也可在链接中写 communities=名称,名称。")
    st.stop()

# ------------------------------------------------------------------ data
settings = runtime.query("settings/in_force", params)
weights = metrics.score_weights(settings)
family_inputs = [runtime.query(q, params, max_rows=db.SUM_ROWS) for q in (
    "coverage/coverage_by_community", "organizations/orgs_by_community", "tickets/rates_by_community",
    "compare/durations_by_community")]
view_key = (tuple(sorted((k_, str(v)) for k_, v in params.items())), tuple(chosen), k, present)
figure_key = view_key[:2] + view_key[3:]   # the charts do not depend on k (percentiles among all communities)


def _comparison():
    values = runtime.derived("compare/values", view_key[0], lambda: cmp.community_values(*family_inputs, weights))
    # a community's k nearest are the first k of its MAX_K nearest: changing k recomputes no distance
    peer_groups = {cid: runtime.derived("compare/peers", (cid,), lambda: cmp.peers(features, cid, cmp.MAX_K))[:k]
                   for cid in chosen}
    return len(values), peer_groups, cmp.comparison(values, chosen, peer_groups)


# ranks among all communities: computed once per view (period, communities, k), not on every rerun
n_values, peer_groups, comp = runtime.derived("compare/comparison", view_key, _comparison)
info = runtime.derived("compare/info", (), lambda: communities.set_index("community_id"), shared=True)   # read only
names = {cid: short[cid] for cid in chosen}
practices_all = runtime.query("practices/practices_in_selection", params)
practices = cmp.with_family(practices_all[practices_all["community_id"].isin(chosen)])
lineage = runtime.query("common/lineage")
demo_notice = ("演示数据：当前数据库含模拟数据（"
               + "、".join(TABLE_LABELS.get(t, t) for t in lineage[lineage["source"] == "simulated"]["table_name"])
               + "）。六个报道社区的公开数字取自《人民日报》2023 年 8 月报道，其余均为模拟，不代表任何真实社区。"
               ) if (lineage["source"] == "simulated").any() else None


# ------------------------------------------------------------------ 培训模式: slides
if present:
    deck = slides.deck(comp, names, chosen, practices)
    raw_slide = st.query_params.get("slide")
    if raw_slide != state.get("_cmp_slide_url"):
        state["cmp_slide"], slide_notice = slides.slide_number(raw_slide, len(deck))
        state["_cmp_slide_url"] = raw_slide
        state["_cmp_slide_notice"] = slide_notice
    n = min(max(int(state.get("cmp_slide", 1)), 1), len(deck))

    def turn(step: int) -> None:
        state["cmp_slide"] = min(max(n + step, 1), len(deck))

    with nav:
        st.button("上一页", key="slide_prev", icon=":material/chevron_left:", on_click=turn, args=(-1,),
                  disabled=n <= 1, shortcut="Left", help="左方向键")
        st.markdown(f"第 {n} / {len(deck)} 页")
        st.button("下一页", key="slide_next", icon=":material/chevron_right:", icon_position="right",
                  on_click=turn, args=(1,), disabled=n >= len(deck), shortcut="Right", help="右方向键")

        @st.cache_data(show_spinner=False, max_entries=8)
        def pptx_file(key, _deck, meta):
            return slides.pptx_bytes(_deck, meta)

        pptx_key = (db.data_version(runtime.connection()), runtime.scope_key(), tuple(chosen), k, sel.period.label())
        pptx_meta = {"period": f"期间：{sel.period.label()}（截至 {sel.period.end:%Y-%m-%d}）",
                     "demo": "演示数据：除六个报道社区的公开数字外均为模拟，不代表真实社区。" if demo_notice else None}
        st.download_button("下载 PowerPoint", pptx_file(pptx_key, deck, pptx_meta), key="slide_pptx",
                           file_name="社区对比_" + "_".join(names[c].replace("/", "-") for c in chosen)[:60] + ".pptx",
                           mime="application/vnd.openxmlformats-officedocument.presentationml.presentation",
                           icon=":material/slideshow:")
    slide = deck[n - 1]
    with st.container(key="slide", gap="small"):
        st.markdown("## " + md_escape(slide.title))
        if state.get("_cmp_slide_notice"):
            st.markdown(":orange[" + state["_cmp_slide_notice"] + "]")
        if slide.kind == "family":
            st.markdown(":gray[" + slide.subtitle + "]")
            left, right = st.columns([7, 3], gap="medium")
            with left, st.container(key="slide_grid", gap="small"):
                widths = [1.25] + [1] * len(slide.headers)
                for col, text in zip(st.columns(widths, vertical_alignment="bottom"), ["社区", *slide.headers]):
                    col.markdown(":gray[" + text + "]")
                for name, cells in slide.rows:
                    cols = st.columns(widths, vertical_alignment="center")
                    cols[0].markdown(md_escape(name))
                    for col, c in zip(cols[1:], cells):
                        big = f"**{c.big}**"
                        col.markdown((f":green-background[{big}]" if c.best else big) + "  \n" + f":gray[{c.small}]")
            with right:
                ui.plotly_chart(slides.bar_figure(slide, height=min(760, 120 + 90 * len(slide.rows))),
                                config={"displayModeBar": False, "staticPlot": True}, key="slide_chart")
        else:
            with st.container(key="slide_items", gap="medium"):
                if not slide.items:
                    st.markdown("暂未登记经验做法。")
                for date, title, text, source in slide.items:
                    st.markdown(f"**{date}　{md_escape(title)}**  \n{md_escape(text)}  \n:gray[来源：{md_escape(source)}]")
            if slide.figures:
                st.markdown(":gray[" + f"{md_escape(slide.community)}的各指标族主要数字（数字下为名次：全部社区 · 组内）" + "]")
                with st.container(key="slide_grid_figures", gap="small"):
                    for col, (name, c) in zip(st.columns(len(slide.figures)), slide.figures):
                        col.markdown(f":gray[{name}]  \n**{c.big}**  \n:gray[{c.small}]")
        st.markdown(":gray[" + pptx_meta["period"] + ("　" + pptx_meta["demo"] if pptx_meta["demo"] else "") + "]")
    if st.query_params.get("slide") != str(n):
        st.query_params["slide"] = str(n)
    state["_cmp_slide_url"] = str(n)
    st.stop()

# ------------------------------------------------------------------ the side-by-side table (not 培训模式: it stopped above)
table, best = runtime.derived("compare/side_by_side", view_key,
                              lambda: cmp.side_by_side(comp, names, chosen, practices))
styles = best.set_index(table["指标"]).drop(columns="指标").map(
    lambda b: "background-color: #D5F5E3; font-weight: 600" if b else "")
# st.table renders cells as Markdown: data text is escaped to show as typed
shown = table.map(md_escape).set_index("指标").rename(columns=md_escape)
with st.container(key="cmp_table"):
    st.table(shown.style.apply(lambda _: styles.set_axis(shown.index).set_axis(shown.columns, axis=1), axis=None))
# on a phone the side-by-side table is replaced (static CSS below) by one card per community
with st.container(key="cmp_cards"):
    for cid in chosen:
        name = names[cid]
        with st.container(border=True):
            st.markdown(f"**{md_escape(name)}**")
            ranks = table[cmp.rank_column(name)]
            # escaped first, then Markdown hard line breaks: the value, then each rank on its own line
            card = pd.DataFrame({"值与名次": ["  \n".join(md_escape(x) for x in [v, *r.split("\n")] if x)
                                          for v, r in zip(table[name], ranks)]})
            st.table(card.set_axis(table["指标"].map(md_escape)))
table_note = (f"★ 与绿色底色：所选社区中该指标的最佳值（诉求量不分好坏，不标注）。名次“3/33”为在全部 {n_values} 个社区"
              f"（或相似社区组）中的名次，并列同名次；“优于 94%”为严格优于的其他有数据社区所占比例。无数据的社区排在最后。"
              f"比率后括号内为分子/分母；有效回访少于 30 件的比率不稳定。相似社区组 = 本社区 + 同类型中规模最接近的 {k} 个社区。"
              f"T9 权重取 {sel.period.end:%Y-%m-%d} 生效的设置。")
st.caption(table_note)
notes = comp[comp["note"].str.contains("样本少|无数据", regex=True)]
if len(notes):
    st.caption("说明：" + "；".join(f"{md_escape(names[r.community_id])} {r.indicator}：{r.note}" for r in notes.itertuples()))

practice_view = pd.DataFrame({
    "社区": practices["community_id"].map(names),
    "开始日期": pd.to_datetime(practices["started_on"]).dt.strftime("%Y-%m-%d"),
    "做法": practices["practice"],
    "相关指标": practices["family"],
    "相关诉求类别": practices["related_category"].fillna("—"),
    "说明": practices["description"].fillna(""),
    "来源": [f"{SOURCE_LABELS.get(s, s)}：{n}" if isinstance(n, str) and n else SOURCE_LABELS.get(s, s)
           for s, n in zip(practices["source"], practices["source_note"])],
})


def figures():
    """The radar and the monthly rates of the chosen communities (drawn on one tab, put in the PDF on another)."""
    monthly = {cid: runtime.query("tickets/monthly", {**params, "street": info.loc[cid, "street"],
                                                      "community": info.loc[cid, "community"]}) for cid in chosen}
    # the figures are built once per view and every rerun is handed the same (unchanged) objects:
    # building them, Plotly validating every trace, was most of a warm rerun's time
    radar = runtime.derived("compare/radar", figure_key, lambda: cmp.radar_figure(
        comp, names, chosen, height=480), shared=True)
    trends = runtime.derived("compare/trends", figure_key, lambda: cmp.trends_figure(
        monthly, names, chosen, practices.assign(community=practices["community_id"].map(names)),
        sel.period.first, sel.period.last, height=640), shared=True)
    return radar, trends


def similar_communities():
    """相似社区: each chosen community's peer group, with a button that adds it to the comparison."""
    st.subheader("相似社区")
    st.caption(f"按户数、居民数、楼栋数、面积（先取对数再标准化）找最接近的 {k} 个社区；城市社区只与城市社区比、"
               "农村社区只与农村社区比（类型严格匹配，社会组织达标线不同）。")
    for cid in chosen:
        group = peer_groups[cid]
        row = info.loc[cid]
        col_a, col_b = st.columns([5, 1], vertical_alignment="center")
        with col_a:
            f = features.set_index("community_id").loc[cid]
            st.markdown(f"**{md_escape(names[cid])}**（{TYPE_LABELS.get(row['type'], row['type'])}，{fmt_num(f['households'])} 户、"
                        f"{fmt_num(f['residents'])} 人、{fmt_num(f['buildings'])} 栋、{f['area_km2']:.2f} 平方公里）")
            st.caption("相似社区：" + ("、".join(f"{md_escape(short[p])}（{md_escape(info.loc[p, 'street'])}）" for p in group)
                                    if group else "没有同类型的社区"))
        with col_b:
            missing = [p for p in group if p not in chosen]
            st.button("加入对比", key=f"peers_{cid}", on_click=add_peers, args=(cid, group),
                      disabled=not missing or len(chosen) >= cmp.MAX_COMMUNITIES,
                      help=f"把 {md_escape(names[cid])} 的相似社区加入对比（最多 {cmp.MAX_COMMUNITIES} 个社区）")


def portrait_and_months():
    """指标画像与月度三率: percentiles on a radar, and the three rates month by month."""
    radar, trends = figures()
    st.subheader("指标画像")
    ui.plotly_chart(radar, width="stretch", key="radar")
    st.caption("每条轴是一个指标在全部社区中的百分位：越靠外越好（办理时长越短越靠外）；缺数据的轴留空。")
    st.subheader("月度三率")
    ui.plotly_chart(trends, width="stretch", key="trends")
    st.caption("同一纵轴（0–100%）；紫色虚线为各社区经验做法的开始日期。月度比率样本小，波动大。")


def practices_tab():
    """经验做法: the chosen communities' dated practices, with the indicator family each belongs to."""
    st.subheader("经验做法")
    if practice_view.empty:
        ui.empty_state("所选社区还没有登记经验做法。可在“数据管理”页导入 practices 表。")
    else:
        st.dataframe(practice_view, hide_index=True, width="stretch")
        st.caption("“相关指标”：登记了相关诉求类别的做法归入诉求办理；其余按做法名称中的词归类（如“党支部”“联盟”），"
                   "对比表中也列在对应指标族之后。")


def exports_tab():
    """导出: CSV at once; Excel and the PDF report (with the two charts) prepared on request."""
    st.subheader("导出")
    flat = runtime.derived("compare/export", view_key, lambda: cmp.export_frame(comp, communities, peer_groups))
    meta = {
        "title": "社区对比：" + "、".join(names[c] for c in chosen),
        "period": f"{sel.period.label()}（截至 {sel.period.end:%Y-%m-%d}）；对比不受地区筛选限制",
        "communities": "、".join(f"{names[c]}（{info.loc[c, 'province']}{info.loc[c, 'city']}{info.loc[c, 'district']}"
                                f"{info.loc[c, 'street']}）" for c in chosen),
        "peers": f"本社区 + 同类型中规模最接近的 {k} 个社区",
        "generated": dt.date.today().strftime("%Y-%m-%d"),
        "link": "compare?" + urlencode({k_: v for k_, v in {**sel.query_string(), **wanted}.items()
                                        if v is not None and k_ not in LEVELS}),
        "demo": demo_notice,
        "table_note": table_note,
    }
    base = "社区对比_" + "_".join(names[c].replace("/", "-") for c in chosen)[:60]
    inputs = (db.data_version(runtime.connection()), runtime.scope_key(), tuple(chosen), k, sel.period.label())

    @st.cache_data(show_spinner=False, max_entries=8)
    def excel_file(key, flat, practice_view, meta):
        return reports.excel_bytes(flat, practice_view, meta)

    @st.cache_data(show_spinner=False, max_entries=8)
    def pdf_file(key, table, best, practice_view, meta, figures):
        return reports.pdf_bytes(table, best, practice_view, meta, figures)

    e1, e2, e3 = st.columns(3)
    with e1:
        ui.download_csv(flat, "下载 CSV", f"{base}.csv", key="cmp_csv")
    with e2:
        st.button("准备 Excel 文件", key="cmp_make_xlsx", icon=":material/table_view:",
                  on_click=state.__setitem__, args=("cmp_xlsx_for", inputs))
        if state.get("cmp_xlsx_for") == inputs:
            st.download_button("下载 Excel（.xlsx）", excel_file(inputs, flat, practice_view, meta),
                               file_name=f"{base}.xlsx", key="cmp_xlsx", icon=":material/download:",
                               mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    with e3:
        st.button("准备 PDF 报告", key="cmp_make_pdf", icon=":material/picture_as_pdf:",
                  on_click=state.__setitem__, args=("cmp_pdf_for", inputs))
        if state.get("cmp_pdf_for") == inputs:
            with st.spinner("正在生成 PDF（含图表）……"):
                radar, trends = figures()
                pdf_table, pdf_best = cmp.side_by_side(comp, names, chosen, practices, compact=True)
                data = pdf_file(inputs, pdf_table, pdf_best, practice_view, meta,
                                (("各指标在全部社区中的百分位", radar.to_json()), ("月度三率（T2 响应率、T3 解决率、T4 满意率）", trends.to_json())))
            st.download_button("下载 PDF（A4 横向）", data, file_name=f"{base}.pdf", mime="application/pdf",
                               key="cmp_pdf", icon=":material/download:")
    st.caption("CSV 为 UTF-8（带 BOM），Excel 可直接打开；Excel 每个指标族一个工作表，另有经验做法和指标定义；"
               "PDF 为 A4 横向，印有期间、社区、生成时间" + ("和演示数据说明" if demo_notice else "") + "。")


# Only the chosen tab runs and is sent: the table above is the comparison; all at once, the page also
# drew 2 charts and a table, and a fresh browser spent seconds on what sat below the fold.
ui.lazy_tabs({"相似社区": similar_communities, "指标画像与月度三率": portrait_and_months, "经验做法": practices_tab,
              "导出": exports_tab}, key="compare_tab")
