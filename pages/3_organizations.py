"""社会组织: how many community social organisations are active, how fast they grow, of which kinds,
how many are Party-led, whether each community meets its target, and how alliances and volunteer
teams grow (S1-S6)."""

import re

import pandas as pd
import streamlit as st

from governance import db, organizations as fam
from governance import derived, runtime, ui
from governance.labels import NA, SOURCE_LABELS, TYPE_LABELS, fmt_num, fmt_rate, md_escape
from governance.periods import fmt_month

SEARCH_MAX = 50

ui.frame_guard()
sel = ui.selection()
D = sel.period.end
year_ago = fam.year_before(D)
ui.page_header("社会组织", sel, "存量指标截至期末；新增、注销与服务时长为期间内合计")

p = sel.params()
orgs = runtime.query("organizations/orgs_by_community", p, max_rows=db.SUM_ROWS)
activity = runtime.query("organizations/activity_by_community", p, max_rows=db.SUM_ROWS)
if orgs.empty:
    ui.empty_state("所选范围内没有社区。请在左侧调整地区筛选。")
    st.stop()
S = fam.summary(orgs, activity)
ranked_q = (derived.q("organizations/orgs_by_community", p, db.SUM_ROWS),
            derived.q("organizations/activity_by_community", p, db.SUM_ROWS))
rank, table = derived.compute(fam.ranked_tables, *ranked_q)
settings = runtime.query("settings/in_force", p)
targets = settings[settings["key"].isin(["org_target_urban", "org_target_rural"])].set_index("key")
reporting = runtime.query("organizations/reporting_orgs", p, max_rows=fam.MAX_REPORTING_ORGS)
single = sel.community is not None and len(orgs) == 1


def _target_text() -> str:
    if targets.empty:
        return "尚未设置达标目标（设置项 org_target_urban / org_target_rural）"
    parts = [f"{TYPE_LABELS[t]} {targets.loc['org_target_' + t, 'value']:g} 家"
             f"（{targets.loc['org_target_' + t, 'effective_from']:%Y-%m-%d} 起生效）"
             for t in ("urban", "rural") if "org_target_" + t in targets.index]
    return "目标：" + "，".join(parts)


# ---- headline ------------------------------------------------------------------------------
c1, c2, c3, c4 = st.columns(4)
with c1:
    ui.metric_card("S1 社会组织数", S["S1"], kind="count", help=ui.indicator_help("S1"),
                   counts=f"截至 {D:%Y-%m-%d} 存续，{len(orgs)} 个社区")
with c2:
    ui.metric_card("S2 每千居民社会组织数", S["S2"], kind="ratio", help=ui.indicator_help("S2"),
                   counts=f"{fmt_num(S['S2'].numerator)} 家 / {fmt_num(S['S2'].denominator)} 居民")
with c3:
    s3 = S["S3"]
    if not s3.denominator:
        st.metric("S3 达标", NA, help=ui.indicator_help("S3"))
        st.caption(_target_text())
    elif single:
        row = rank.iloc[0]
        st.metric("S3 达标", "达标" if row["met"] else "未达标", help=ui.indicator_help("S3"))
        gap = "" if row["met"] else f"，差 {row['gap']:.0f} 家"
        st.caption(f"{int(row['S1'])} 家 / 目标 {row['target']:g} 家（{row['type_label']}）{gap}")
    else:
        st.metric("S3 达标社区", f"{int(s3.numerator)} / {int(s3.denominator)}", help=ui.indicator_help("S3"))
        below = int(s3.denominator - s3.numerator)
        st.caption(f"达标率 {fmt_rate(s3.value)}；{below} 个社区未达标，共差 {fmt_num(S['S3_gap'].value)} 家"
                   if below else f"全部达标（{_target_text()}）")
with c4:
    ui.metric_card("S5 党建引领率", S["S5"], kind="rate", help=ui.indicator_help("S5"),
                   counts=f"{fmt_num(S['S5'].numerator)} / {fmt_num(S['S5'].denominator)} 家由党组织或党员负责")

c5, c6, c7, c8, c9 = st.columns(5)
with c5:
    ui.metric_card("S4 净增（期间）", S["net"], kind="count", help=ui.indicator_help("S4"),
                   counts=f"新增 {fmt_num(S['founded'].value)} 家，注销 {fmt_num(S['dissolved'].value)} 家")
with c6:
    yoy = S["yoy"]
    ui.metric_card("S4 同比", yoy, kind="rate", help=ui.indicator_help("S4"),
                   counts=f"上年同日（{year_ago:%Y-%m-%d}）{fmt_num(yoy.denominator)} 家 → {fmt_num(S['S1'].value)} 家"
                   + ("；上年同日为 0，同比无数据" if not yoy.denominator else ""))
with c7:
    vp = S["volunteers_per_100"]
    ui.metric_card("S6 每百居民志愿者", vp, kind="ratio", help=ui.indicator_help("S6"),
                   counts=f"志愿者 {fmt_num(vp.numerator)} 人 / 居民 {fmt_num(vp.denominator)} 人")
with c8:
    ui.metric_card("S6 服务时长（小时）", S["service_hours"], kind="count", help=ui.indicator_help("S6"),
                   counts=f"期间合计，{fmt_num(S['reporting_orgs'].value)} 个组织报送")
with c9:
    mu = S["member_units"]
    growth = reporting[reporting["first_member_units"].notna()].head(1)
    note = "联盟类组织最新一月合计"
    if len(growth):
        g = growth.iloc[0]
        note = (f"{g['org']}：{int(g['first_member_units'])} → {int(g['last_member_units'])} 家"
                f"（{fmt_month(g['first_month'])} 至 {fmt_month(g['last_month'])}）")
    ui.metric_card("S6 成员单位（家）", mu, kind="count", help=ui.indicator_help("S6"), counts=note)
st.caption(_target_text() + "。同比 = (S1 − 上年同日 S1) ÷ 上年同日 S1；志愿者按各组织期间内最近一次报送计（同一人参加多个组织会重复计）。")

def growth():
    """增长情况: organisations in existence month by month, founded and dissolved."""
    st.subheader("增长情况：存续数、新增与注销")
    monthly = runtime.query("organizations/monthly_by_type", p)
    if monthly.empty:
        ui.empty_state(f"所选范围内截至 {D:%Y-%m-%d} 没有登记社会组织（社会组织表中无记录），无法画出增长情况。"
                       "可在“数据管理”页导入 social_orgs 表。")
    else:
        ui.plotly_chart(derived.figure(fam.growth_figure, derived.q("organizations/monthly_by_type", p),
                                       derived.q("practices/practices_in_selection", p), args=(sel.period, not single)),
                        width="stretch")
        practices = runtime.query("practices/practices_in_selection", p)
        n_practices = len(fam.practices_in_period(practices, sel.period))
        st.caption("上图为每月月末存续的组织数；下图向上为当月新成立、向下（斜纹）为当月注销，按组织类型堆叠。"
                   "紫色虚线为经验做法的开始日期"
                   + (f"（期间内共 {n_practices} 项，图中只标出最近开始的 {fam.MAX_MARKED_PRACTICES} 项，全部见总览页）"
                      if n_practices > fam.MAX_MARKED_PRACTICES else "")
                   + "。要看更长的时间，请在左侧调整起始月份。")


def alliances_and_volunteers():
    """联盟与志愿队伍: member units, volunteers and service hours (S6), one organisation at a time."""
    st.subheader("联盟与志愿队伍：成员单位、志愿者与服务时长（S6）")
    if reporting.empty:
        ui.empty_state("所选范围内没有组织报送月度数据（成员单位、志愿者、服务时长），无法显示 S6。"
                       "可在“数据管理”页导入 org_monthly 表。")
    else:
        def _growth(r) -> str:
            if pd.notna(r.first_member_units):
                return f"：成员单位 {int(r.first_member_units)} → {int(r.last_member_units)} 家"
            if pd.notna(r.first_volunteers):
                return f"：志愿者 {int(r.first_volunteers)} → {int(r.last_volunteers)} 人"
            return ""

        by_label: dict[str, int] = {}
        for r in reporting.itertuples():
            label = f"{r.org}（{r.community}）{_growth(r)}"
            by_label[label if label not in by_label else f"{label}（{r.street}）"] = r.org_id
        chosen = by_label[st.selectbox("选择组织（按成员单位增长排序）", list(by_label), key="org_pick")]
        series = runtime.query("organizations/org_series", {**p, "org_id": int(chosen)})
        if series.empty:
            ui.empty_state("该组织在所选期末之前没有月度数据。")
        else:
            org_row = reporting[reporting["org_id"] == chosen].iloc[0]
            ui.plotly_chart(derived.figure(fam.chosen_org_figure, derived.q("organizations/org_series", {**p, "org_id": int(chosen)}),
                                           derived.q("organizations/reporting_orgs", p, fam.MAX_REPORTING_ORGS),
                                           derived.q("practices/practices_in_selection", p), args=(int(chosen), sel.period)),
                            width="stretch")
            src = SOURCE_LABELS.get(org_row["source"], org_row["source"])
            st.caption(f"显示该组织截至 {D:%Y-%m-%d} 的全部月度报送（{int(org_row['months_reported'])} 个月），黄色底色为所选期间。"
                       f"数据来源：{src}" + (f"（{org_row['source_note']}）" if isinstance(org_row["source_note"], str) else "")
                       + "。未报送的月份不画点，不按 0 计。")
        ui.table(
            reporting[["community", "org", "type", "first_month", "last_month", "first_member_units", "last_member_units",
                       "member_units_series", "first_volunteers", "last_volunteers", "volunteers_series",
                       "period_service_hours"]],
            download=False, hide_index=True, width="stretch", placeholder="—",
            column_config={
                "community": "社区", "org": "组织", "type": "类型",
                "first_month": st.column_config.DateColumn("首次报送", format="YYYY-MM"),
                "last_month": st.column_config.DateColumn("最近报送", format="YYYY-MM"),
                "first_member_units": st.column_config.NumberColumn("成员单位（首次）"),
                "last_member_units": st.column_config.NumberColumn("成员单位（最近）"),
                "member_units_series": st.column_config.LineChartColumn("成员单位走势", y_min=0),
                "first_volunteers": st.column_config.NumberColumn("志愿者（首次）"),
                "last_volunteers": st.column_config.NumberColumn("志愿者（最近）"),
                "volunteers_series": st.column_config.LineChartColumn("志愿者走势", y_min=0),
                "period_service_hours": st.column_config.NumberColumn("期间服务时长（小时）", format="%.1f"),
            },
        )
        ui.capped_note(reporting)


def communities_against_target():
    """各社区达标: every community ranked by organisations per 1,000 residents (S2) against its target."""
    st.subheader("各社区达标情况：按每千居民社会组织数（S2）排名")
    shown = rank[rank["S2"].notna()]
    if shown.empty:
        ui.empty_state("所选社区都没有居民数，无法计算每千居民社会组织数（S2）。")
    else:
        drawn = fam.chart_rows(rank)
        ui.plotly_chart(derived.figure(fam.ranking_chart, *ranked_q), width="stretch")
        below = rank[rank["met"] == False]  # noqa: E712 (object column: True / False / None)
        st.caption("红色为未达标（存续组织数低于目标）的社区，蓝色为达标。黑色竖线为达标线：该社区目标家数 ÷ 居民数 × 1000，"
                   "即按其居民数折算的每千居民组织数。" + (f"未达标社区 {len(below)} 个。" if len(below) else "")
                   + (f"参与排名的社区较多（{len(shown):,} 个），图中只画 S2 最低的 {len(drawn)} 个；全部社区见下表。"
                      if len(drawn) < len(shown) else ""))
    no_residents = rank[rank["S2"].isna()]
    if len(no_residents):
        st.caption("没有居民数、未参与排名的社区：" + "、".join(no_residents["community"].map(md_escape)))
    rank_config = {
            "street": "街道", "community": "社区", "type_label": "类型", "residents": st.column_config.NumberColumn("居民数", format="localized"),
            "S1": st.column_config.NumberColumn("S1 社会组织", help=ui.indicator_help("S1")),
            "target": st.column_config.NumberColumn("目标", format="%d"),
            "达标": st.column_config.TextColumn("S3 达标", help=ui.indicator_help("S3")),
            "S2": st.column_config.NumberColumn("S2 每千人", format="%.2f", help=ui.indicator_help("S2")),
            "party_led": st.column_config.NumberColumn("党建引领"),
            "S5": st.column_config.NumberColumn("S5 党建引领率", format="%.1f%%", help=ui.indicator_help("S5")),
            "founded": "新增", "dissolved": "注销", "net": "净增",
            "active_year_ago": st.column_config.NumberColumn("上年同日 S1", help=f"{year_ago:%Y-%m-%d} 存续的组织数，同比的分母"),
            "yoy": st.column_config.NumberColumn("S4 同比", format="%.1f%%", help=ui.indicator_help("S4")),
    }
    ui.table(table, hide_index=True, width="stretch", placeholder=NA, column_config=rank_config)
    ui.download_table(table, f"社会组织排名_{D:%Y%m%d}.csv", "org_rank_csv", rank_config)
    st.caption("“无数据”：居民数为 0（S2）、没有存续组织（S5）、上年同日为 0 家（同比）或未设置目标，不按 0% 计。")


def organisation_list():
    """组织名单: every organisation, searchable, with its CSV."""
    st.subheader("组织名单")
    f1, f2 = st.columns([3, 1])
    search = f1.text_input("搜索组织名称", key="org_search", max_chars=SEARCH_MAX, placeholder="输入名称中的字，如“联盟”")
    active_only = f2.checkbox(f"仅显示截至 {D:%Y-%m-%d} 存续的组织", value=True, key="org_active_only")
    search = (search or "").strip()[:SEARCH_MAX] or None
    org_list = runtime.query("organizations/org_list", {**p, "search": search, "active_only": active_only})
    if org_list.empty:
        ui.empty_state("没有符合搜索条件的组织。" if search else "所选范围内没有登记社会组织。")
    else:
        view = fam.org_list_view(org_list)
        st.caption(f"共 {len(view):,} 个组织" + ("（名称含搜索词）" if search else ""))
        ui.table(
            view, hide_index=True, width="stretch", placeholder="—",
            column_config={
                "street": "街道", "community": "社区", "org": "组织名称", "type": "类型",
                "founded_on": st.column_config.DateColumn("成立日期", format="YYYY-MM-DD"),
                "latest_month": st.column_config.DateColumn("最近报送月份", format="YYYY-MM"),
                "member_units": st.column_config.NumberColumn("成员单位（最近）"),
                "volunteers": st.column_config.NumberColumn("志愿者（最近）"),
            },
        )
        ui.capped_note(org_list)
        place = sel.community or sel.street or sel.district or sel.city or sel.province or "全部社区"
        name = re.sub(r'[\\/:*?"<>|\s]+', "_", f"社会组织名单_{place}_{D:%Y%m%d}.csv")
        # the CSV is encoded once per selection and data version (as ui.download_csv would encode it)
        data = derived.compute(fam.org_list_csv, derived.q("organizations/org_list",
                                                           {**p, "search": search, "active_only": active_only}))
        ui.download_csv(None, "下载组织名单（CSV）", name, key="org_download", data=data)


# Only the chosen tab runs and is sent: all at once, the page was 3 charts and 3 tables, and a fresh
# browser spent seconds drawing what sat below the fold.
ui.lazy_tabs({"增长情况": growth, "联盟与志愿队伍": alliances_and_volunteers, "各社区达标": communities_against_target,
              "组织名单": organisation_list}, key="organizations_tab")
