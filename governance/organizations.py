"""Community social organisations (S1-S6): the family's values from the query rows, and its figures.

Queries return counts per community (`organizations/orgs_by_community`, `.../activity_by_community`);
a selection's value is computed from the sums, never by averaging rates. Names and formulas are
those of governance.indicators.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from governance import charts, exports
from governance.labels import SOURCE_LABELS, TYPE_LABELS
from governance.metrics import Value, organisations
from governance.periods import Period, add_months
from governance.stats import rate

MET_COLOR, BELOW_COLOR, UNKNOWN_COLOR = "#2E86C1", "#C0392B", "#AAB7B8"


def _sum(df: pd.DataFrame, col: str) -> float | None:
    """Sum of a column, or None when no row holds a value (unreported is not zero)."""
    if df.empty or col not in df or df[col].notna().sum() == 0:
        return None
    return float(df[col].sum())


def _num(x) -> float | None:
    if x is None:
        return None
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def year_before(d: dt.date) -> dt.date:
    """The same day a year earlier (29 February -> 28 February), as `$as_of - INTERVAL 1 YEAR` in SQL."""
    try:
        return d.replace(year=d.year - 1)
    except ValueError:
        return d.replace(year=d.year - 1, day=28)


def summary(orgs: pd.DataFrame, activity: pd.DataFrame) -> dict[str, Value]:
    """S1-S6 of a selection.

    `orgs` are organizations/orgs_by_community rows, `activity` organizations/activity_by_community
    rows of the same selection and period. S3 counts only communities with a target in force;
    `S3_gap` is the sum of shortfalls (target − S1) of the communities below target.
    """
    base = organisations(orgs)
    s1 = base["S1"].value or 0.0
    judged = orgs[orgs["target"].notna()] if len(orgs) else orgs
    met = int((judged["active_orgs"] >= judged["target"]).sum()) if len(judged) else 0
    gap = float((judged["target"] - judged["active_orgs"]).clip(lower=0).sum()) if len(judged) else 0.0
    founded = _sum(activity, "founded") or 0.0
    dissolved = _sum(activity, "dissolved") or 0.0
    year_ago = _sum(activity, "active_year_ago") or 0.0
    residents = _sum(orgs, "residents")
    volunteers = _sum(activity, "volunteers")
    per_100 = rate(volunteers, residents)
    return {
        "S1": base["S1"],
        "S2": base["S2"],
        "S3": Value(rate(met, len(judged)), met, len(judged)),
        "S3_gap": Value(gap),
        "S5": base["S5"],
        "founded": Value(founded),
        "dissolved": Value(dissolved),
        "net": Value(founded - dissolved),
        # (S1 at D − S1 a year before D) ÷ S1 a year before D; no base -> not available
        "yoy": Value(rate(s1 - year_ago, year_ago), s1 - year_ago, year_ago),
        "volunteers": Value(volunteers),
        "volunteers_per_100": Value(None if per_100 is None else per_100 * 100, volunteers, residents),
        "member_units": Value(_sum(activity, "member_units")),
        "service_hours": Value(_sum(activity, "service_hours")),
        "reporting_orgs": Value(_sum(activity, "reporting_orgs") or 0.0),
    }


def ranking(orgs: pd.DataFrame, activity: pd.DataFrame) -> pd.DataFrame:
    """One row per community, ranked by S2 (highest first; not available last).

    Columns: community_id, street, community, type, type_label, residents, S1, target, met (True /
    False / None without a target), gap, S2, target_per_1000 (the target in S2 terms), party_led,
    S5, founded, dissolved, net, active_year_ago, yoy, volunteers, member_units, service_hours.
    """
    t = orgs.merge(activity.drop(columns=["street", "community"], errors="ignore"), on="community_id", how="left")
    out = pd.DataFrame({
        "community_id": t["community_id"], "street": t["street"], "community": t["community"],
        "type": t["type"], "type_label": t["type"].map(TYPE_LABELS).fillna(t["type"]),
        "residents": t["residents"], "S1": t["active_orgs"], "target": t["target"],
    })
    has_target = out["target"].notna()
    out["met"] = pd.Series([bool(a >= b) if h else None for a, b, h in zip(out["S1"], out["target"], has_target)],
                           dtype=object, index=out.index)
    out["gap"] = (out["target"] - out["S1"]).clip(lower=0).where(has_target)
    residents = t["residents"].astype("float64")
    per = residents.where(residents > 0)
    out["S2"] = t["active_orgs"].astype("float64") / per * 1000
    out["target_per_1000"] = t["target"].astype("float64") / per * 1000
    out["party_led"] = t["party_led_orgs"]
    out["S5"] = t["party_led_orgs"].astype("float64") / t["active_orgs"].astype("float64").where(t["active_orgs"] > 0)
    for col in ["founded", "dissolved", "active_year_ago"]:
        out[col] = t[col].fillna(0).astype("int64") if col in t else 0
    out["net"] = out["founded"] - out["dissolved"]
    base = out["active_year_ago"].astype("float64")
    out["yoy"] = (out["S1"] - out["active_year_ago"]) / base.where(base > 0)
    for col in ["volunteers", "member_units", "service_hours"]:
        out[col] = t[col] if col in t else float("nan")
    return out.sort_values(["S2", "street", "community"], ascending=[False, True, True],
                           na_position="last", kind="stable").reset_index(drop=True)


def ranking_table(rank: pd.DataFrame) -> pd.DataFrame:
    """社会组织's table of every community against its target, from ranking()."""
    return rank.assign(
        达标=[("达标" if m else f"未达标（差 {g:.0f}）") if m is not None else "未设置目标"
            for m, g in zip(rank["met"], rank["gap"])],
        S5=rank["S5"] * 100, yoy=rank["yoy"] * 100,
    )[["street", "community", "type_label", "residents", "S1", "target", "达标", "S2", "party_led", "S5",
       "founded", "dissolved", "net", "active_year_ago", "yoy"]]


def ranked_tables(orgs: pd.DataFrame, activity: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(ranking(), ranking_table()) for derived.compute: built once per selection, not per rerun."""
    rank = ranking(orgs, activity)
    return rank, ranking_table(rank)


def _month_range(period: Period) -> list[pd.Timestamp]:
    return [pd.Timestamp(period.first) - pd.Timedelta(days=3), pd.Timestamp(add_months(period.last, 1)) + pd.Timedelta(days=3)]


# Province scale: how much of a large selection the page draws or lists (the tables keep the rest).
MAX_CHART_COMMUNITIES = 50     # bars in the S2 ranking chart: the lowest S2 when there are more
MAX_REPORTING_ORGS = 300       # organisations with monthly reports listed for S6 (largest growth first)
MAX_MARKED_PRACTICES = 12      # practices marked on the growth chart: the most recently started


def _in_range(practices: pd.DataFrame, first: dt.date, last_day: dt.date) -> pd.DataFrame:
    if practices.empty:
        return practices
    d = pd.to_datetime(practices["started_on"])
    return practices[(d >= pd.Timestamp(first)) & (d <= pd.Timestamp(last_day))]


def practices_in_period(practices: pd.DataFrame, period: Period) -> pd.DataFrame:
    """The practices the growth chart could mark (started within the period)."""
    return _in_range(practices, period.first, period.end)


def _latest(practices: pd.DataFrame, n: int = MAX_MARKED_PRACTICES) -> pd.DataFrame:
    """The `n` most recently started practices, in their original order."""
    if len(practices) <= n:
        return practices
    keep = pd.to_datetime(practices["started_on"]).sort_values(kind="stable").index[-n:]
    return practices[practices.index.isin(keep)]


def chart_rows(rank: pd.DataFrame, n: int = MAX_CHART_COMMUNITIES) -> pd.DataFrame:
    """The rows of `rank` (ranking(), S2 highest first) the S2 chart draws: all with S2 when there
    are at most `n`, else the `n` with the lowest S2 (the ones furthest behind), in rank order."""
    shown = rank[rank["S2"].notna()]
    return shown if len(shown) <= n else shown.tail(n)


def ranking_chart(orgs: pd.DataFrame, activity: pd.DataFrame) -> go.Figure:
    """ranking_figure of the communities chart_rows keeps, straight from the two queries (cacheable)."""
    return ranking_figure(chart_rows(ranking(orgs, activity)))


def org_list_view(org_list: pd.DataFrame) -> pd.DataFrame:
    """The organisation list as shown: status, Party-led and source in words."""
    return org_list.assign(
        状态=["存续" if a else f"已注销（{d:%Y-%m-%d}）" for a, d in zip(org_list["active"], org_list["dissolved_on"])],
        党建引领=org_list["party_led"].map({True: "是", False: "否"}),
        来源=org_list["source"].map(SOURCE_LABELS).fillna(org_list["source"]),
    )[["street", "community", "org", "type", "founded_on", "状态", "党建引领", "latest_month", "member_units",
       "volunteers", "来源"]]


def org_list_csv(org_list: pd.DataFrame) -> bytes:
    """The CSV download of the organisation list (Chinese headings, UTF-8 with BOM, formula-safe)."""
    return exports.csv_bytes(org_list_view(org_list).rename(columns={
        "street": "街道", "community": "社区", "org": "组织名称", "type": "类型", "founded_on": "成立日期",
        "latest_month": "最近报送月份", "member_units": "成员单位（最近）", "volunteers": "志愿者（最近）",
    }))


def growth_figure(monthly: pd.DataFrame, practices: pd.DataFrame, period: Period,
                  with_community: bool = True) -> go.Figure:
    """S1 month by month (step line, at each month's end) above founded (+) and dissolved (−)
    per month, stacked by type; dated practices of the period marked."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.58, 0.42], vertical_spacing=0.08,
                        subplot_titles=("存续社会组织数（家，月末，S1）", "每月新增（向上）与注销（向下，斜纹），家"))
    totals = monthly.drop_duplicates("month")[["month", "active_total"]].sort_values("month")
    x = list(pd.to_datetime(totals["month"]))
    y = list(totals["active_total"].astype(int))
    # one more point at the period's end so the last month has its own step
    x_step, y_step = x + [pd.Timestamp(period.end) + pd.Timedelta(days=1)], y + y[-1:]
    fig.add_trace(go.Scatter(
        x=x_step, y=y_step, mode="lines", line=dict(shape="hv", width=3, color="#C0392B"), name="存续组织数",
        hoverinfo="skip", showlegend=False), row=1, col=1)
    fig.add_trace(go.Scatter(
        x=x, y=y, mode="markers", marker=dict(size=7, color="#C0392B"), name="存续组织数", showlegend=False,
        hovertemplate="%{x|%Y-%m} 月末：%{y} 家<extra></extra>", xperiod="M1", xperiodalignment="middle"),
        row=1, col=1)
    types = list(dict.fromkeys(monthly["type"]))
    for i, typ in enumerate(types):
        rows = monthly[monthly["type"] == typ].sort_values("month")
        color = charts.PALETTE[(i + 1) % len(charts.PALETTE)]
        months = pd.to_datetime(rows["month"])
        fig.add_trace(go.Bar(
            x=months, y=rows["founded"].where(rows["founded"] > 0), name=typ, legendgroup=typ, marker_color=color,
            xperiod="M1", xperiodalignment="middle",
            hovertemplate="%{x|%Y-%m} " + "新增：%{y} 家<extra>%{fullData.name}</extra>"), row=2, col=1)
        fig.add_trace(go.Bar(
            x=months, y=-rows["dissolved"].where(rows["dissolved"] > 0), name=typ, legendgroup=typ, showlegend=False,
            marker=dict(color=color, opacity=0.55, pattern=dict(shape="/")),
            customdata=rows["dissolved"], xperiod="M1", xperiodalignment="middle",
            hovertemplate="%{x|%Y-%m} " + "注销：%{customdata} 家<extra>%{fullData.name}</extra>"), row=2, col=1)
    charts.base_layout(fig, height=560)
    fig.update_layout(barmode="relative", bargap=0.25, margin=dict(t=60),
                      legend=dict(title=dict(text="类型 "), orientation="h", yanchor="top", y=-0.08, xanchor="left", x=0))
    fig.update_xaxes(tickformat="%Y-%m", range=_month_range(period), dtick="M3" if period.n_months <= 18 else None,
                     tickangle=0)
    lo = max(0, min(y) - 3) if y else 0
    fig.update_yaxes(rangemode="tozero" if lo == 0 else "normal", row=1, col=1,
                     range=None if lo == 0 else [lo, max(y) + 2])
    per_month = monthly.groupby("month")[["founded", "dissolved"]].sum()
    fig.update_yaxes(zeroline=True, zerolinecolor="#566573", row=2, col=1,
                     dtick=1 if per_month.to_numpy().max(initial=0) <= 6 else None)
    charts.mark_practices(fig, _latest(practices_in_period(practices, period)), with_community=with_community)
    return fig


def ranking_figure(rank: pd.DataFrame) -> go.Figure:
    """Communities ranked by S2 (bars), each community's target in S2 terms as a tick; below target in red."""
    r = rank[rank["S2"].notna()].copy()
    several_streets = r["street"].nunique() > 1
    r["label"] = [f"{c}（{s}）" if several_streets else c for c, s in zip(r["community"], r["street"])]
    colors = [MET_COLOR if m is True else BELOW_COLOR if m is False else UNKNOWN_COLOR for m in r["met"]]
    status = ["达标" if m is True else f"未达标，差 {g:.0f} 家" if m is False else "未设置目标"
              for m, g in zip(r["met"], r["gap"])]
    target_txt = ["—" if pd.isna(t) else f"{t:.0f}" for t in r["target"]]
    fig = go.Figure()
    fig.add_trace(go.Bar(
        x=r["S2"], y=r["label"], orientation="h", marker_color=colors, name="S2 每千居民社会组织数",
        text=[f"{v:.2f}（{int(s)} 家）" for v, s in zip(r["S2"], r["S1"])], textposition="outside", cliponaxis=False,
        customdata=list(zip(r["S1"].astype(int), target_txt, r["residents"], status, r["type_label"])),
        hovertemplate=("%{y}<br>S2 %{x:.2f} 个/千人<br>S1 %{customdata[0]} 家，目标 %{customdata[1]} 家"
                       "（%{customdata[4]}）<br>居民 %{customdata[2]:,} 人<br>%{customdata[3]}<extra></extra>"),
        showlegend=False,
    ))
    fig.add_trace(go.Scatter(
        x=r["target_per_1000"], y=r["label"], mode="markers", name="达标线：目标家数 ÷ 居民数 × 1000",
        marker=dict(symbol="line-ns", size=22, line=dict(width=3, color="#17202A")),
        hovertemplate="%{y}<br>达标需 %{x:.2f} 个/千人<extra></extra>",
    ))
    # legend entries for the bar colours
    for name, color in (("达标", MET_COLOR), ("未达标", BELOW_COLOR)):
        fig.add_trace(go.Bar(x=[None], y=[None], orientation="h", marker_color=color, name=name, hoverinfo="skip"))
    charts.base_layout(fig, height=max(260, 34 * len(r) + 130))
    xmax = max([0.0] + [v for v in list(r["S2"]) + list(r["target_per_1000"]) if pd.notna(v)])
    fig.update_xaxes(title="S2 每千居民社会组织数（个/千人）", range=[0, xmax * 1.25 + 0.1])
    fig.update_yaxes(title=None, autorange="reversed", categoryorder="array", categoryarray=list(r["label"]))
    fig.update_layout(barmode="overlay", bargap=0.35)
    return fig


def chosen_org_figure(series: pd.DataFrame, reporting: pd.DataFrame, practices: pd.DataFrame, org_id: int,
                      period: Period) -> go.Figure:
    """社会组织's chart of the organisation picked from `reporting` (queries/organizations/reporting_orgs),
    with only its own community's practices on it."""
    org_row = reporting[reporting["org_id"] == org_id].iloc[0]
    own = practices[(practices["street"] == org_row["street"]) & (practices["community"] == org_row["community"])]
    return org_series_figure(series, str(org_row["org"]), own, period, with_community=False)


def org_series_figure(series: pd.DataFrame, org: str, practices: pd.DataFrame, period: Period,
                      with_community: bool = True) -> go.Figure:
    """One organisation's member units and volunteers (lines) and service hours (bars, right axis),
    month by month up to the period's end; the selected period shaded; first and latest member
    units labelled so the growth reads at a glance."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    x = pd.to_datetime(series["month"])
    hours = series["service_hours"]
    if hours.notna().any():
        fig.add_trace(go.Bar(x=x, y=hours, name="服务时长（小时，右轴）", marker_color="#A9CCE3", opacity=0.7,
                             xperiod="M1", xperiodalignment="middle",
                             hovertemplate="%{x|%Y-%m}：%{y:,.1f} 小时<extra></extra>"), secondary_y=True)
    units = series[series["member_units"].notna()]
    if not units.empty:
        fig.add_trace(go.Scatter(x=pd.to_datetime(units["month"]), y=units["member_units"], mode="lines+markers",
                                 name="成员单位（家）", line=dict(color="#C0392B", width=3), marker=dict(size=5),
                                 xperiod="M1", xperiodalignment="middle",
                                 hovertemplate="%{x|%Y-%m}：%{y} 家成员单位<extra></extra>"), secondary_y=False)
        first, last = units.iloc[0], units.iloc[-1]
        for row, anchor in ((first, "left"), (last, "right")):
            fig.add_annotation(x=pd.Timestamp(row["month"]) + pd.Timedelta(days=15), y=row["member_units"],
                               text=f"{int(row['member_units'])} 家", showarrow=True, arrowhead=0, ax=0, ay=-28,
                               font=dict(size=15, color="#C0392B"), xanchor=anchor)
    vols = series[series["volunteers"].notna()]
    if not vols.empty:
        fig.add_trace(go.Scatter(x=pd.to_datetime(vols["month"]), y=vols["volunteers"], mode="lines+markers",
                                 name="志愿者（人）", line=dict(color="#28B463", width=2, dash="dash"),
                                 marker=dict(size=4), xperiod="M1", xperiodalignment="middle",
                                 hovertemplate="%{x|%Y-%m}：%{y} 名志愿者<extra></extra>"), secondary_y=False)
    fig.add_vrect(x0=pd.Timestamp(period.first), x1=pd.Timestamp(period.end) + pd.Timedelta(days=1),
                  fillcolor="#F4D03F", opacity=0.12, line_width=0, layer="below",
                  annotation_text="所选期间", annotation_position="top left",
                  annotation_font=dict(size=11, color="#7D6608"))
    charts.base_layout(fig, title=org, height=440)
    charts.legend_below(fig)
    first_month = x.min() if len(x) else pd.Timestamp(period.first)
    fig.update_xaxes(tickformat="%Y-%m", tickangle=0, nticks=5, range=[first_month - pd.Timedelta(days=20),
                                                pd.Timestamp(period.end) + pd.Timedelta(days=20)])
    fig.update_yaxes(title="成员单位（家） / 志愿者（人）", rangemode="tozero", secondary_y=False)
    fig.update_yaxes(title="服务时长（小时）", rangemode="tozero", showgrid=False, secondary_y=True)
    shown = _in_range(practices, first_month.date(), period.end)
    charts.mark_practices(fig, shown, with_community=with_community)
    return fig
