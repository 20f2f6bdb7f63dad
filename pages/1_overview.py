"""总览: headline indicators of each family with their change; below them, as tabs, the communities table
and the practices."""

import streamlit as st

from governance import charts, db, derived, metrics, runtime, ui
from governance.indicators import INDICATORS
from governance.labels import fmt_count, fmt_num

ui.frame_guard()
sel = ui.selection()
prev = sel.period.previous()
ui.page_header("总览", sel, f"变化与上一等长期间（{prev.label()}）相比")

now_p, prev_p = sel.params(), sel.params(prev)
def per_community(name: str, period_params: dict):
    # every community's numerators and denominators: summed into the cards, so never cut at MAX_ROWS
    return runtime.query(name, period_params, max_rows=db.SUM_ROWS)


cov, cov_prev = per_community("coverage/coverage_by_community", now_p), per_community("coverage/coverage_by_community", prev_p)
org, org_prev = per_community("organizations/orgs_by_community", now_p), per_community("organizations/orgs_by_community", prev_p)
tix, tix_prev = per_community("tickets/rates_by_community", now_p), per_community("tickets/rates_by_community", prev_p)
weights = metrics.score_weights(runtime.query("settings/in_force", now_p))
weights_prev = metrics.score_weights(runtime.query("settings/in_force", prev_p))

C, Cp = metrics.coverage(cov), metrics.coverage(cov_prev)
S, Sp = metrics.organisations(org), metrics.organisations(org_prev)
T, Tp = metrics.tickets(tix, weights), metrics.tickets(tix_prev, weights_prev)

st.subheader("组织覆盖")
c1, c2, c3 = st.columns(3)
with c1:
    ui.metric_card("C1 小区党支部覆盖率", C["C1"], Cp["C1"], "rate", help=ui.indicator_help("C1"),
                   counts=f"{fmt_num(C['C1'].numerator)} / {fmt_num(C['C1'].denominator)} 个小区")
with c2:
    ui.metric_card("C2 楼栋党小组覆盖率", C["C2"], Cp["C2"], "rate", help=ui.indicator_help("C2"),
                   counts=f"{fmt_num(C['C2'].numerator)} / {fmt_num(C['C2'].denominator)} 栋楼")
with c3:
    ui.metric_card("C3 每百户党员中心户", C["C3"], Cp["C3"], "ratio", help=ui.indicator_help("C3"),
                   counts=f"{fmt_num(C['C3'].numerator)} 户中心户 / {fmt_num(C['C3'].denominator)} 户")

st.subheader("社区社会组织")
s1, s2, _ = st.columns(3)
with s1:
    ui.metric_card("S1 社会组织数", S["S1"], Sp["S1"], "count", help=ui.indicator_help("S1"),
                   counts=f"其中党建引领 {fmt_num(S['S5'].numerator)} 家")
with s2:
    ui.metric_card("S2 每千居民社会组织数", S["S2"], Sp["S2"], "ratio", help=ui.indicator_help("S2"),
                   counts=f"{fmt_num(S['S2'].numerator)} 家 / {fmt_num(S['S2'].denominator)} 居民")

st.subheader("诉求办理")
t1, t3, t4, t9 = st.columns(4)
with t1:
    ui.metric_card("T1 诉求量", T["T1"], Tp["T1"], "count", help=ui.indicator_help("T1"), neutral=True,
                   counts=f"每千居民 {fmt_num(T['T1k'].value, 1)} 件")
with t3:
    ui.metric_card("T3 解决率", T["T3"], Tp["T3"], "rate", help=ui.indicator_help("T3"),
                   counts=f"{fmt_num(T['T3'].numerator)} / {fmt_num(T['T3'].denominator)} 件有效回访",
                   sample=T["T3"].denominator)
with t4:
    ui.metric_card("T4 满意率", T["T4"], Tp["T4"], "rate", help=ui.indicator_help("T4"),
                   counts=f"加权满意 {fmt_count(T['T4'].numerator)} / {fmt_num(T['T4'].denominator)} 件有效回访",
                   sample=T["T4"].denominator)
with t9:
    ui.metric_card("T9 综合得分", T["T9"], Tp["T9"], "score", help=ui.indicator_help("T9"),
                   counts=(f"权重 响应 {weights['score_weight_contacted']:g} / 解决 {weights['score_weight_solved']:g}"
                           f" / 满意 {weights['score_weight_satisfied']:g}（{sel.period.end:%Y-%m-%d} 生效）")
                   if weights else "未设置权重")
    if weights and weights_prev and weights != weights_prev:
        st.caption("注意：上一期间使用的权重不同，得分变化部分来自权重调整。")


def communities_table():
    """Every community of the selection with its indicators, linked to its own 总览."""
    q = sel.query_string()
    view = derived.compute(
        metrics.overview_rows, *(derived.q(name, now_p, db.SUM_ROWS) for name in (
            "coverage/coverage_by_community", "organizations/orgs_by_community", "tickets/rates_by_community")),
        derived.q("settings/in_force", now_p), args=(q["from"], q["to"], ui.SHOWN_ROWS))
    if view.empty:
        ui.empty_state("所选范围内没有社区。")
    else:
        named = lambda code: INDICATORS[code].header
        pct = lambda code: st.column_config.NumberColumn(named(code), format="%.1f%%", help=ui.indicator_help(code))
        overview_config = {
            "community": st.column_config.TextColumn("社区", pinned=True),
            "street": "街道", "compounds": st.column_config.NumberColumn("小区数", format="localized"),
            "buildings": st.column_config.NumberColumn("楼栋数", format="localized"),
            "C1": pct("C1"), "C2": pct("C2"), "C4": pct("C4"), "T3": pct("T3"), "T4": pct("T4"),
            "C3": st.column_config.NumberColumn(named("C3"), format="%.2f", help=ui.indicator_help("C3")),
            "S1": st.column_config.NumberColumn(named("S1"), format="localized", help=ui.indicator_help("S1")),
            "S2": st.column_config.NumberColumn(named("S2"), format="%.2f", help=ui.indicator_help("S2")),
            "S3": st.column_config.TextColumn(named("S3"), help=ui.indicator_help("S3")),
            "T1": st.column_config.NumberColumn("诉求量（T1）", format="localized", help=ui.indicator_help("T1")),
            "T1k": st.column_config.NumberColumn("每千居民诉求", format="%.1f"),
            "followups": st.column_config.NumberColumn("有效回访", format="localized", help="T2–T4 的分母"),
            "T9": st.column_config.NumberColumn(named("T9"), format="%.1f", help=ui.indicator_help("T9")),
            "查看": st.column_config.LinkColumn("查看", display_text="查看该社区"),
        }
        ui.table(view, hide_index=True, width="stretch", column_config=overview_config)
        ui.download_table(view.drop(columns=["查看"], errors="ignore"), f"社区总览_{sel.period.end:%Y%m%d}.csv",
                          "overview_csv", overview_config)
        st.caption("点击列名排序；比率列为百分比，“无数据”表示分母为 0。T3、T4 的有效回访少于 30 件时比率不稳定。")


def practices_section():
    """The practices registered in the selection: their timeline and list."""
    practices = runtime.query("practices/practices_in_selection", now_p)
    if practices.empty:
        ui.empty_state("所选社区还没有登记经验做法。可在“数据管理”页导入 practices 表。")
    else:
        ui.plotly_chart(derived.figure(charts.practices_timeline, derived.q("practices/practices_in_selection", now_p)),
                        width="stretch")
        st.dataframe(
            practices[["started_on", "street", "community", "practice", "related_category", "description", "source_note"]]
            .fillna({"related_category": "—"}),
            hide_index=True, width="stretch",
            column_config={"started_on": st.column_config.DateColumn("开始日期", format="YYYY-MM-DD"),
                           "street": "街道", "community": "社区", "practice": "做法", "related_category": "相关诉求类别",
                           "description": "说明", "source_note": "来源"},
        )


# the cards above stay; the two sections below them are tabs (ui.lazy_tabs: only the chosen one runs)
ui.lazy_tabs({"各社区指标": communities_table, "经验做法": practices_section}, key="overview_tab")
