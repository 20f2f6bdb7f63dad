"""组织覆盖: how far the chain 社区党委 → 小区党支部 → 楼栋党小组 → 党员中心户 reaches, where it stops,
how that changed month by month, the gaps to close and the 条例 checks on branches."""

import datetime as dt

import streamlit as st

from governance import coverage, db, derived, metrics, runtime, ui
from governance.indicators import INDICATORS
from governance.labels import fmt_num, md_escape

ui.frame_guard()
sel = ui.selection()
before_day = sel.period.start - dt.timedelta(days=1)
ui.page_header("组织覆盖", sel, f"变化与期初（{before_day:%Y-%m-%d}）相比")

params = sel.params()
org_data = runtime.query("coverage/org_data_by_community", params, max_rows=db.SUM_ROWS)
if org_data.empty:
    ui.empty_state("所选范围内没有社区。")
    st.stop()
reporting = coverage.reporting_ids(org_data)
silent = coverage.silent_communities(org_data)
if not reporting:
    names = "、".join(silent[:10]) + ("等" if len(silent) > 10 else "")
    ui.empty_state(
        f"{md_escape(names)}还没有报送组织数据：没有任何小区党支部、楼栋党小组或党员中心户的记录，"
        "所以这里不显示覆盖率（显示 0% 会被误读为“没有组织”）。"
        + (f"该社区已登记 {int(org_data['compounds'].sum()):,} 个小区、{int(org_data['buildings'].sum()):,} 栋楼。"
           if len(org_data) == 1 else "")
        + "请在“数据管理”页导入 branches（小区党支部）、building_groups（楼栋党小组）、household_leads（党员中心户）表。"
    )
    st.stop()
if silent:
    st.warning(f"{md_escape('、'.join(silent))}还没有报送组织数据，未计入本页的指标、图表和清单；"
               "在“各社区与断点”中的各社区表里标为“未报送”。", icon=":material/report:")

cov = coverage.only_reporting(runtime.query("coverage/coverage_by_community", params, max_rows=db.SUM_ROWS), reporting)
cov_before = coverage.only_reporting(
    runtime.query("coverage/coverage_by_community", {**params, "as_of": before_day}, max_rows=db.SUM_ROWS), reporting)
C, Cb = metrics.coverage(cov), metrics.coverage(cov_before)

# ------------------------------------------------------------------ headline
st.subheader(f"截至 {sel.period.end:%Y-%m-%d}")
parts = dict(INDICATORS["C5"].parts)
units = {"branches": "个", "groups": "个", "leads": "户", "members": "人"}
for col, key in zip(st.columns(4), ["branches", "groups", "leads", "members"]):
    with col:
        ui.metric_card(f"{parts[key]}（{units[key]}）", C[key], Cb[key], "count", help=ui.indicator_help("C5"),
                       neutral=key == "members")
cards = [
    ("C1", "rate", f"{fmt_num(C['C1'].numerator)} / {fmt_num(C['C1'].denominator)} 个小区有党支部"),
    ("C2", "rate", f"{fmt_num(C['C2'].numerator)} / {fmt_num(C['C2'].denominator)} 栋楼有党小组"),
    ("C3", "ratio", f"{fmt_num(C['C3'].numerator)} 户中心户 / {fmt_num(C['C3'].denominator)} 户"),
    ("C4", "rate", f"{fmt_num(C['C4'].numerator)} / {fmt_num(C['C4'].denominator)} 栋楼链条完整"),
]
for col, (code, kind, counts) in zip(st.columns(4), cards):
    with col:
        ui.metric_card(INDICATORS[code].label, C[code], Cb[code], kind, counts=counts, help=ui.indicator_help(code))

as_of_params = {**params, "as_of": sel.period.end}
org_q = derived.q("coverage/org_data_by_community", params, db.SUM_ROWS)
chain_q = derived.q("coverage/chain_by_compound", as_of_params, db.SUM_ROWS)


def chain():
    """组织链条: where the chain stops, as a funnel and as a tree down to the buildings."""
    st.subheader("组织链条到哪一级断开")
    by_compound = coverage.only_reporting(runtime.query("coverage/chain_by_compound", as_of_params, max_rows=db.SUM_ROWS), reporting)
    n_buildings = int(by_compound["buildings"].sum())
    buildings = None
    if n_buildings <= coverage.MAX_TREE_BUILDINGS:
        buildings = coverage.only_reporting(runtime.query("coverage/chain_buildings", as_of_params), reporting)
    left, right = st.columns([1, 2])
    with left:
        ui.plotly_chart(derived.figure(coverage.chain_funnel, chain_q, org_q), width="stretch", key="funnel")
        st.caption("每栋楼从上往下检查：所在小区有没有党支部、本楼有没有楼栋党小组、有没有党员中心户；"
                   "最后一级即 C4 的分子。两级之间的落差就是链条断开的地方。")
    with right:
        root = sel.community or sel.region_label()
        n_communities = by_compound["community_id"].nunique()
        tree = (coverage.tree_figure(root, by_compound, buildings) if buildings is not None
                else derived.figure(coverage.chain_tree, chain_q, org_q, args=(root,)))
        ui.plotly_chart(tree, width="stretch", key="tree")
        st.caption(("每块为一栋楼，颜色表示链条停在哪一级；" if buildings is not None else
                    f"楼栋较多（{n_buildings:,} 栋），每个小区内按断开位置合并显示，块的大小为楼栋数；")
                   + "红色标题的小区没有党支部。点击小区可放大，具体楼栋见“各社区与断点”中的断点清单。"
                   + (f"社区较多（{n_communities:,} 个），图中只画 C4 组织链完整率最低的 "
                      f"{coverage.MAX_TREE_COMMUNITIES} 个；左侧漏斗和“各社区与断点”中的各社区表包括全部社区。"
                      if n_communities > coverage.MAX_TREE_COMMUNITIES else ""))


def months():
    """逐月变化: C1–C4 at each month's end, with the practices' start dates."""
    st.subheader("覆盖率逐月变化")
    practices = runtime.query("practices/practices_in_selection", params)
    practices = practices[practices["community_id"].isin(reporting)]
    ui.plotly_chart(derived.figure(coverage.over_time_chart, derived.q("coverage/coverage_monthly_totals", params),
                                   org_q, derived.q("practices/practices_in_selection", params),
                                   args=(sel.period.first, sel.period.last, sel.community is None)),
                    width="stretch", key="over_time")
    shown = coverage.practices_in_window(practices, sel.period.first, sel.period.last)
    st.caption("每月末的值，按各组织的成立、撤销日期推算（成立日 ≤ 月末且月末前未撤销）。"
               + ((f"虚线为本期间内的经验做法（{len(shown)} 项）。" if len(shown) <= coverage.MAX_MARKED_PRACTICES else
                   f"虚线为本期间内最近开始的 {coverage.MAX_MARKED_PRACTICES} 项经验做法（共 {len(shown)} 项，全部见总览页）。")
                  if len(shown) else "本期间内没有登记的经验做法。")
               + "在侧边栏调整起止月份可看更长时段。")


def communities_and_gaps():
    """各社区与断点: every community worst first, the gap list and the 条例 checks on branches."""
    st.subheader("各社区组织覆盖（最差在前）")
    checks_params = {**as_of_params, **coverage.rule_params()}
    checks = coverage.only_reporting(runtime.query("coverage/branch_checks", checks_params), reporting)
    table = derived.compute(coverage.community_table_for,
                            derived.q("coverage/coverage_by_community", params, db.SUM_ROWS),
                            derived.q("coverage/org_data_by_community", params, db.SUM_ROWS),
                            derived.q("coverage/branch_checks", checks_params))
    coverage_config = {
        code: st.column_config.TextColumn(INDICATORS[code].header, help=ui.indicator_help(code))
        for code in ["C1", "C2", "C3", "C4"]
    } | {"条例问题": st.column_config.TextColumn("条例问题支部（C6）", help=ui.indicator_help("C6")),
         "户数": st.column_config.NumberColumn("户数", format="localized"),
         "楼栋": st.column_config.NumberColumn("楼栋", format="localized"),
         "小区": st.column_config.NumberColumn("小区", format="localized")}
    ui.table(table, hide_index=True, width="stretch", column_config=coverage_config)
    ui.download_table(table, f"组织覆盖_{sel.period.end:%Y%m%d}.csv", "coverage_csv", coverage_config)
    st.caption("按 C4 组织链完整率从低到高排列，未报送组织数据的社区排在最前；括号内为分子/分母，分母为 0 时显示“无数据”。")

    # ---- gaps
    st.subheader("断点清单")
    gaps = coverage.only_reporting(runtime.query("coverage/gaps", as_of_params), reporting)
    summary = coverage.gap_summary(gaps)
    at_least = "至少 " if gaps.attrs.get("capped") else ""   # the list is capped: its counts are lower bounds
    g1, g2, g3 = st.columns(3)
    g1.metric("无党支部的小区", f"{at_least}{summary['compounds_no_branch']:,} 个",
              help=f"其中共有 {summary['buildings_in_them']:,} 栋楼")
    g2.metric("无楼栋党小组的楼栋", f"{at_least}{summary['buildings_no_group']:,} 栋")
    g3.metric("无党员中心户的楼栋", f"{at_least}{summary['buildings_no_lead']:,} 栋")
    if gaps.empty:
        ui.empty_state("截至期末，所选范围内每个小区都有党支部，每栋楼都有楼栋党小组和党员中心户。")
    else:
        gap_view = coverage.gap_table(gaps)
        ui.table(gap_view, hide_index=True, width="stretch", height=320)
        ui.capped_note(gaps)
        ui.download_csv(gap_view, "下载断点清单（CSV）", f"组织断点清单_{sel.period.end:%Y%m%d}.csv", key="gaps_csv")
        st.caption("小区行指整个小区没有党支部（涉及户数为该小区户数）；楼栋行列出缺少党小组或党员中心户的楼栋。"
                   "CSV 为 UTF-8（带 BOM），可直接用 Excel 打开。")

    # ---- C6
    st.subheader(f"{INDICATORS['C6'].label}")
    n_bad = checks["branch_id"].nunique() if len(checks) else 0
    st.caption(f"截至期末存续的 {fmt_num(C['branches'].value)} 个支部中，{n_bad} 个不符合"
               f"《中国共产党支部工作条例（试行）》的设置要求。{INDICATORS['C6'].caveats}")
    if checks.empty:
        ui.empty_state("没有发现不符合条例设置要求的支部。")
    else:
        ui.table(coverage.check_table(checks), download=False, hide_index=True, width="stretch")
        ui.capped_note(checks)


def side_by_side():
    """并排对比: the chains of up to 3 communities next to each other."""
    st.subheader("并排对比组织链")
    communities = runtime.query("common/communities", max_rows=db.SUM_ROWS)
    options = [f"{r.street} › {r.community}" for r in communities.itertuples()]
    default = [f"{sel.street} › {sel.community}"] if sel.community else []
    chosen = st.multiselect("选择最多 3 个社区并排查看（可跨街道，例如培训班上对比不同社区的做法）", options,
                            default=[d for d in default if d in options], max_selections=coverage.MAX_SIDE_BY_SIDE,
                            key="side_by_side")
    if chosen:
        for col, label in zip(st.columns(len(chosen)), chosen):
            row = communities.iloc[options.index(label)]
            one = {**{k: None for k in ("province", "city", "district")}, "street": row["street"],
                   "community": row["community"], "as_of": sel.period.end}
            with col:
                st.markdown(f"**{md_escape(row['community'])}**")
                info = runtime.query("coverage/org_data_by_community", one, max_rows=db.SUM_ROWS)
                if info.empty or int(info.iloc[0]["org_rows"]) == 0:
                    ui.empty_state("该社区还没有报送组织数据。")
                    continue
                st.caption(coverage.side_by_side_caption(runtime.query("coverage/coverage_by_community", one, max_rows=db.SUM_ROWS).iloc[0]))
                comp = runtime.query("coverage/chain_by_compound", one, max_rows=db.SUM_ROWS)
                blds = None
                if int(comp["buildings"].sum()) <= coverage.MAX_TREE_BUILDINGS:
                    blds = runtime.query("coverage/chain_buildings", one)
                ui.plotly_chart(coverage.tree_figure(row["community"], comp, blds, height=440), width="stretch",
                                key=f"side_{row['community_id']}")
    else:
        st.caption("选择社区后，各社区截至期末的组织链并排显示。")


# Only the chosen tab runs and is sent: all at once, the page was 3 charts, 3 tables and a 5,000-name
# picker, and a fresh browser spent seconds drawing what sat below the fold.
ui.lazy_tabs({"组织链条": chain, "逐月变化": months, "各社区与断点": communities_and_gaps, "并排对比": side_by_side},
             key="coverage_tab")
