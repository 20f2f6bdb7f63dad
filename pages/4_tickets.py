"""诉求办理: how residents' issues are answered, solved and rated; how long they take; what piles up;
and 举一反三 — which problems are a class (recurring, spreading) and whether a dated practice helped."""

import pandas as pd
import streamlit as st

from governance import db, derived, metrics, problem_forms, problems, runtime, ui
from governance import tickets as tk
from governance.indicators import SMALL_SAMPLE
from governance.labels import NA, fmt_count, fmt_num, fmt_rate
from governance.periods import month_end

ui.frame_guard()
sel = ui.selection()
prev = sel.period.previous()
ui.page_header("诉求办理", sel, f"变化与上一等长期间（{prev.label()}）相比")

now_p, prev_p = sel.params(), sel.params(prev)
settings = runtime.query("settings/in_force", now_p)
weights = metrics.score_weights(settings)
weights_prev = metrics.score_weights(runtime.query("settings/in_force", prev_p))
tix = runtime.query("tickets/rates_by_community", now_p, max_rows=db.SUM_ROWS)
T = metrics.tickets(tix, weights)
Tp = metrics.tickets(runtime.query("tickets/rates_by_community", prev_p, max_rows=db.SUM_ROWS), weights_prev)
X = tk.summary(runtime.query("tickets/summary", now_p).iloc[0])

def followups(v) -> str:
    return f"{fmt_num(v.numerator)} / {fmt_num(v.denominator)} 件有效回访"


rate_text = tk.rate_text


def download_class(query: tuple, label: str, file_name: str, key: str) -> int:
    """The download button of a class's ticket list (as ui.download_csv makes it), its CSV encoded once
    per selection and data version rather than on every rerun; returns the number of tickets."""
    data, n = derived.compute(tk.class_csv_bytes, query)
    ui.download_csv(None, label.format(n=n), file_name, key=key, data=data)
    return n


def category_label(*levels) -> str:
    return " › ".join(x for x in levels if isinstance(x, str) and x)


# ------------------------------------------------------------------ headline
st.caption("本页所用权重（取所选期间末日 " + f"{sel.period.end:%Y-%m-%d} 生效的设置）：" + tk.weights_note(settings))

c1, c2, c3, c4, c5 = st.columns(5)
with c1:
    ui.metric_card("T1 诉求量", T["T1"], Tp["T1"], "count", help=ui.indicator_help("T1"), neutral=True,
                   counts=f"每千居民 {fmt_num(T['T1k'].value, 1)} 件（居民 {fmt_num(T['T1k'].denominator)} 人）")
for col, code in zip((c2, c3, c4), ("T2", "T3", "T4")):
    with col:
        ui.metric_card(f"{code} {tk.RATE_NAMES[code]}", T[code], Tp[code], "rate", help=ui.indicator_help(code),
                       counts=(followups(T[code]) if code != "T4" else
                               f"满意度等级权重未设置，不计算满意率（{fmt_num(T[code].denominator)} 件有效回访）"
                               if T[code].value is None and T[code].denominator else
                               f"加权满意 {fmt_count(T[code].numerator)} / {fmt_num(T[code].denominator)} 件有效回访"),
                       sample=T[code].denominator)
with c5:
    ui.metric_card("T9 综合得分", T["T9"], Tp["T9"], "score", help=ui.indicator_help("T9"),
                   counts=(f"响应 {weights['score_weight_contacted']:g} / 解决 {weights['score_weight_solved']:g}"
                           f" / 满意 {weights['score_weight_satisfied']:g}") if weights else "未设置权重")

d1, d2, d3, d4, d5 = st.columns(5)
with d1:
    ui.metric_card("T5 办结率（承办单位报告）", T["T5"], Tp["T5"], "rate", help=ui.indicator_help("T5"),
                   counts=f"{fmt_num(T['T5'].numerator)} / {fmt_num(T['T5'].denominator)} 件受理；"
                          f"居民说已解决（T3）{fmt_rate(T['T3'].value)}")
with d2:
    ui.metric_card("按时办结率", T["T5t"], Tp["T5t"], "rate", help=ui.indicator_help("T5"),
                   counts=f"{fmt_num(T['T5t'].numerator)} / {fmt_num(T['T5t'].denominator)} 件已办结")
with d3:
    med, p90 = X["median_days"].value, X["p90_days"].value
    st.metric("T6 办理时长（中位数）", NA if med is None else f"{med:.1f} 天", help=ui.indicator_help("T6"))
    st.caption(f"P90 {NA if p90 is None else f'{p90:.1f} 天'}；基于 {fmt_num(X['median_days'].denominator)} 件已办结")
with d4:
    st.metric(f"T7 积压（截至 {sel.period.end:%m-%d}）", f"{fmt_num(X['backlog'].value)} 件", help=ui.indicator_help("T7"))
    st.caption(f"≤7天 {fmt_num(X['le7'].value)}；8–30天 {fmt_num(X['d8_30'].value)}；>30天 {fmt_num(X['gt30'].value)}")
with d5:
    ui.metric_card("T8 重复诉求率", X["T8"], None, "rate", help=ui.indicator_help("T8"),
                   counts=f"{fmt_num(X['T8'].numerator)} / {fmt_num(X['T8'].denominator)} 件诉求")
st.caption("办结率是承办单位报告的“办结”，解决率、满意率来自回访中居民的说法：办结不等于解决。"
           f"有效回访少于 {SMALL_SAMPLE} 件的比率标注“样本少”。")

def trend():
    """月度趋势: tickets and the three rates month by month, with the practices' start dates."""
    st.subheader("月度趋势")
    monthly = runtime.query("tickets/monthly", now_p)
    if monthly["tickets"].sum() == 0:
        ui.empty_state("所选范围和期间内没有诉求。")
    else:
        ui.plotly_chart(derived.figure(tk.trend_figure, derived.q("tickets/monthly", now_p),
                                       derived.q("practices/practices_in_selection", now_p),
                                       args=(sel.period.first, sel.period.last)), width="stretch", key="trend")
        practices = runtime.query("practices/practices_in_selection", now_p)
        n_marked = len(tk.practices_in_window(practices, sel.period.first, sel.period.last)) if len(practices) else 0
        st.caption("紫色虚线为经验做法开始日期"
                   + (f"（期间内共 {n_marked} 项，图中只标出最近开始的 {tk.MAX_MARKED_PRACTICES} 项，全部见总览页）"
                      if n_marked > tk.MAX_MARKED_PRACTICES else "")
                   + "。各月满意率按该月末生效的等级权重计算，改权重不改写更早月份。")


def categories():
    """诉求类别: the category sunburst and the table of categories at the level chosen."""
    st.subheader("诉求类别")
    cats = runtime.query("tickets/by_category", now_p)
    if cats.empty:
        ui.empty_state("所选范围和期间内没有诉求。")
    else:
        ui.plotly_chart(derived.figure(tk.category_sunburst, derived.q("tickets/by_category", now_p)), width="stretch",
                        key="sunburst")
        level = st.radio("类别层级", ["一级", "二级", "三级"], index=2, horizontal=True, key="cat_level")
        keys = {"一级": ["category_l1"], "二级": ["category_l1", "category_l2"],
                "三级": ["category_l1", "category_l2", "category_l3"]}[level]
        g = (cats.fillna({"category_l2": tk.NO_SUB, "category_l3": tk.NO_SUB})
             .groupby(keys)[["tickets", "followups", "contacted", "solved", "satisfied", "closed"]].sum(min_count=1)
             .reset_index().sort_values("tickets", ascending=False))
        g["类别"] = [category_label(*r) for r in g[keys].itertuples(index=False, name=None)]
        g = tk.with_rates(g)
        view = pd.DataFrame({
            "类别": g["类别"], "诉求量": g["tickets"], "有效回访": g["followups"],
            "T2 响应率": [rate_text(k, n, r) for k, n, r in zip(g["contacted"], g["followups"], g["T2"])],
            "T3 解决率": [rate_text(k, n, r) for k, n, r in zip(g["solved"], g["followups"], g["T3"])],
            "T4 满意率": [rate_text(k, n, r, 1) for k, n, r in zip(g["satisfied"], g["followups"], g["T4"])],
            "办结率": [rate_text(k, n, r) for k, n, r in
                     zip(g["closed"], g["tickets"], g["closed"] / g["tickets"].where(g["tickets"] > 0))],
            "样本": ["样本少" if s else "" for s in g["small_sample"]],
        })
        ui.table(view, download=False, hide_index=True, width="stretch", height=min(420, 38 + 35 * len(view)))
        ui.capped_note(cats)


def ranking():
    """社区排名: every community ranked, with the funnel plot that says which gaps are chance."""
    st.subheader("各社区排名")
    if tix.empty:
        ui.empty_state("所选范围内没有社区。")
    elif len(tix) == 1:
        # a "名次 1" of one community would read as "ranked first"
        ui.empty_state("所选范围只有 1 个社区：排名和漏斗图需要多个社区，请在左侧选择街道或更大的范围；"
                       "也可在“社区对比”页把它与其他社区并排比较。")
    else:
        by = st.radio("排名依据", ["T9", "T2", "T3", "T4"], horizontal=True, key="rank_by",
                      format_func=lambda c: f"{c} {'综合得分' if c == 'T9' else tk.RATE_NAMES[c]}")
        ranked, view, funnel_code = derived.compute(
            tk.ranking, derived.q("tickets/rates_by_community", now_p, db.SUM_ROWS), derived.q("settings/in_force", now_p),
            args=(by,))
        ui.table(view, hide_index=True, width="stretch",
                     column_config={"T9 综合得分": st.column_config.NumberColumn(format="%.1f", help=ui.indicator_help("T9"))})
        ui.download_table(view, f"诉求办理社区排名_{sel.period.end:%Y%m%d}.csv", "tickets_rank_csv")
        ui.capped_note(tix)
        st.caption(f"比率后括号内为“分子/有效回访数”；“无数据”表示没有有效回访，不是 0%。95% 区间为 Wilson 区间；"
                   f"有效回访少于 {SMALL_SAMPLE} 件的社区不宜与大社区直接比名次，请看下方漏斗图。")
        ui.plotly_chart(derived.figure(tk.ranking_funnel, derived.q("tickets/rates_by_community", now_p, db.SUM_ROWS),
                                       derived.q("settings/in_force", now_p), args=(by,)), width="stretch", key="funnel")
        st.caption("漏斗图：横轴为有效回访数，虚线为围绕所选范围总体比率的 95% 控制限（总体 ± 1.96 × 标准误）。"
                   "控制限内的差异可能只是偶然；空心点为样本少的社区。")


def classes():
    """举一反三: recurring and spreading classes, 每月一题, and whether a dated practice helped."""
    st.header("举一反三：从一个问题到一类问题")
    st.caption("从解剖一个问题，到解决一类问题：同一小区反复出现的同类诉求、多个社区同月出现的同类诉求，"
               "以及有日期的做法之后该类诉求是否减少。每一类都可下载其诉求清单（CSV），交给负责整改的团队。")

    st.subheader("反复出现：同一小区、同一类别 90 天内再次出现")
    recurring = runtime.query("tickets/recurring_pairs", now_p, max_rows=200)   # reads details for these 200 only
    if recurring.empty:
        ui.empty_state("所选范围和期间内没有 90 天内重复出现的同类诉求。")
    else:
        recurring["类别"] = [category_label(*r) for r in
                            recurring[["category_l1", "category_l2", "category_l3"]].itertuples(index=False, name=None)]
        st.dataframe(
            recurring[["community", "compound", "类别", "tickets", "repeats", "first_received", "last_received",
                       "recent_dates", "open_now"]],
            hide_index=True, width="stretch", height=min(420, 38 + 35 * len(recurring)),
            column_config={
                "community": "社区", "compound": "小区",
                "tickets": st.column_config.NumberColumn("期间诉求", help="期间内该小区该类别的诉求数"),
                "repeats": st.column_config.NumberColumn("其中重复", help=ui.indicator_help("T8")),
                "first_received": st.column_config.DateColumn("期间首次", format="YYYY-MM-DD"),
                "last_received": st.column_config.DateColumn("最近一次", format="YYYY-MM-DD"),
                "recent_dates": "最近日期（新→旧，最多 8 个）",
                "open_now": st.column_config.NumberColumn("期末未办结"),
            },
        )
        ui.capped_note(recurring)
        options = list(range(len(recurring)))
        labels = [f"{c} · {k} · {t}（{n} 次重复）" for c, k, t, n in
                  zip(recurring["community"], recurring["compound"], recurring["类别"], recurring["repeats"])]
        pick = st.selectbox("下载哪一类的诉求清单", options, key="recurring_pick", format_func=labels.__getitem__)
        r = recurring.iloc[pick]
        download_class(derived.q("tickets/class_tickets", {
            **now_p, "category_l1": r["category_l1"], "category_l2": r["category_l2"], "category_l3": r["category_l3"],
            "community_id": int(r["community_id"]), "compound_id": int(r["compound_id"]),
            "from_day": sel.period.start, "to_day": sel.period.end}), "下载该类诉求清单（{n} 件，CSV）",
            tk.file_name("反复诉求", r["compound"], r["category_l3"] or r["category_l1"]), key="recurring_csv")

    st.subheader("扩散：多个社区同月出现的同类诉求")
    top = None
    n_communities = len(tix)
    if n_communities < tk.MIN_SPREAD_COMMUNITIES:
        ui.empty_state(f"所选范围只有 {n_communities} 个社区；判断是否“多个社区同月出现”需要至少 "
                       f"{tk.MIN_SPREAD_COMMUNITIES} 个社区，请在左侧选择街道或更大范围。")
    else:
        spread_p = {**now_p, "min_communities": tk.MIN_SPREAD_COMMUNITIES, "top": tk.SPREAD_TOP}
        spread = runtime.query("tickets/spreading", spread_p)
        if spread.empty:
            ui.empty_state(f"期间内没有同月出现在 {tk.MIN_SPREAD_COMMUNITIES} 个及以上社区的诉求类别。")
        else:
            ui.plotly_chart(derived.figure(tk.spreading_heatmap, derived.q("tickets/spreading", spread_p)), width="stretch",
                            key="spread_heat")
            top = spread.drop_duplicates("rank").reset_index(drop=True)
            top["类别"] = [category_label(*r) for r in
                         top[["category_l1", "category_l2", "category_l3"]].itertuples(index=False, name=None)]
            top["峰值月"] = pd.to_datetime(top["peak_month"]).dt.strftime("%Y-%m")
            top["峰值社区数"] = [f"{p} / {n}" for p, n in zip(top["peak_communities"], top["selected_communities"])]
            top["此前 6 个月平均"] = top["peak_baseline"].round(1)
            st.dataframe(top[["rank", "类别", "峰值月", "峰值社区数", "此前 6 个月平均", "spread_months", "spread_tickets"]],
                         hide_index=True, width="stretch",
                         column_config={"rank": "排序", "spread_months": st.column_config.NumberColumn(
                             "扩散月数", help=f"同月出现在 {tk.MIN_SPREAD_COMMUNITIES} 个及以上社区的月份数"),
                             "spread_tickets": st.column_config.NumberColumn("扩散月份诉求量")})
            total = int(top["categories_spreading"].iloc[0])
            if total > len(top):
                st.caption(f"共 {total} 个类别在期间内至少一个月出现在 {tk.MIN_SPREAD_COMMUNITIES} 个及以上社区，"
                           f"仅显示“峰值比此前 6 个月平均多出社区数”最多的前 {len(top)} 个。")
            else:
                st.caption("按峰值月社区数比此前 6 个月平均多出的个数排序：越靠前，越可能是新近蔓延的一类问题。")
            pick = st.selectbox("下载哪一类的诉求清单", range(len(top)), key="spread_pick",
                                format_func=lambda i: f"{top.iloc[i]['类别']}（峰值 {top.iloc[i]['峰值月']}，"
                                                      f"{top.iloc[i]['峰值社区数']} 个社区）")
            s = top.iloc[pick]
            n = download_class(derived.q("tickets/class_tickets", {
                **now_p, "category_l1": s["category_l1"], "category_l2": s["category_l2"], "category_l3": s["category_l3"],
                "community_id": None, "compound_id": None,
                "from_day": s["first_spread_month"], "to_day": month_end(s["last_spread_month"])}),
                "下载该类诉求清单（{n} 件，CSV）", tk.file_name("扩散诉求", s["category_l3"] or s["category_l1"]),
                key="spread_csv")
            if n >= db.MAX_ROWS:
                ui.capped_note(runtime.query("tickets/class_tickets", {
                    **now_p, "category_l1": s["category_l1"], "category_l2": s["category_l2"],
                    "category_l3": s["category_l3"], "community_id": None, "compound_id": None,
                    "from_day": s["first_spread_month"], "to_day": month_end(s["last_spread_month"])}))

    st.subheader("每月一题：采纳、跟踪与结束")
    adopted = runtime.query("problems/adopted", sel.region_params())
    if adopted.empty:
        ui.empty_state("所选范围尚无采纳的每月一题。编辑者可从上面反复出现或扩散的类别中采纳一题。")
    else:
        st.dataframe(problem_forms.adopted_table(adopted), hide_index=True, width="stretch")
        st.caption("每一题按涉及社区登记为带相关类别的经验做法，下方“做法前后”逐社区跟踪；月度通报“每月一题 进展”按题汇总。")
    problem_forms.flash()
    problem_forms.adopt_form(problem_forms.candidates_from(None if recurring.empty else recurring, top),
                             sel.region_params(), sel.period.start, sel.period.end, key="tickets")
    problem_forms.close_form(problems.items_of(adopted), key="tickets")

    st.subheader("做法前后：该类诉求是否减少")
    ba = runtime.query("tickets/before_after", now_p)
    if ba.empty:
        ui.empty_state("所选社区没有登记“相关诉求类别”的经验做法或整改措施。可在“数据管理”页导入 practices 表并填写 related_category。")
    else:
        summary = derived.compute(tk.before_after_summary, derived.q("tickets/before_after", now_p))
        st.dataframe(
            pd.DataFrame({
                "社区": summary["community"], "做法": summary["practice"],
                "开始日期": pd.to_datetime(summary["started_on"]).dt.strftime("%Y-%m-%d"),
                "相关诉求类别": summary["related_category"],
                "前 6 个月月均": [f"{a:.1f} 件（{m} 个月共 {t:.0f} 件）" if m else NA
                              for a, m, t in zip(summary["before_avg"], summary["before_months"], summary["before_tickets"])],
                "开始后月均": [f"{a:.1f} 件（{m} 个月共 {t:.0f} 件）" if m else NA
                            for a, m, t in zip(summary["after_avg"], summary["after_months"], summary["after_tickets"])],
                "变化": summary["change"].map(tk.fmt_change),
            }),
            hide_index=True, width="stretch")
        st.caption("该社区中一级、二级或三级类别等于“相关诉求类别”的诉求，按受理月份计数；开始当月计入“开始后”。"
                   "数据截止之后的月份不计（不按 0 计）。前后变化只说明时间上的先后，不能单独证明因果。")
        # one chart, of the practice chosen (the newest first): six charts at once cost a browser about a
        # second to draw, and the table above already compares every practice
        newest = summary.sort_values(["started_on", "practice_id"], ascending=[False, True])
        ids = [int(i) for i in newest["practice_id"]]
        labels = [f"{r.community}：{r.practice}（{pd.Timestamp(r.started_on):%Y-%m} 起）" for r in newest.itertuples(index=False)]
        labels = [f"{x}（编号 {i}）" if labels.count(x) > 1 else x for x, i in zip(labels, ids)]
        chosen = ids[labels.index(st.selectbox("月度图显示哪项做法（最近开始的在前）", labels, key="ba_pick"))]
        p = next(r for r in summary.itertuples(index=False) if int(r.practice_id) == chosen)
        title = tk.plain(f"{p.community}：{p.practice}", 26)
        ui.plotly_chart(derived.figure(
            tk.practice_figure, derived.q("tickets/before_after", now_p),
            args=(chosen, title, f"{tk.plain(p.related_category, 20)}，变化 {tk.fmt_change(p.change)}")),
            width="stretch", key="ba_chart")
        download_class(derived.q("tickets/practice_tickets", {**now_p, "practice_id": chosen}),
                       "下载该做法前后的诉求清单（{n} 件，CSV）",
                       tk.file_name("做法前后", p.community, p.related_category), key="ba_csv")


# Only the chosen tab runs and is sent: all at once, the page was 9 charts and 6 tables, and a fresh
# browser spent seconds drawing what sat below the fold.
ui.lazy_tabs({"月度趋势": trend, "诉求类别": categories, "社区排名": ranking, "举一反三": classes}, key="tickets_tab")
