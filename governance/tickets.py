"""诉求办理 family: per-community rates with Wilson intervals, funnel-plot control limits, the
before/after comparison of practices, the weights note, and this family's figures.

Everything here works on aggregated rows returned by `queries/tickets/*.sql` (one row per
community, category, month or practice-month), never on ticket rows.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from governance import charts, exports
from governance.indicators import INDICATORS, SMALL_SAMPLE
from governance.labels import NA, fmt_num, fmt_rate
from governance.metrics import SCORE_KEYS, Value, score, score_weights
from governance.stats import rate, wilson

# The three follow-up rates and the column holding each numerator; the denominator is `followups`.
RATES = {"T2": "contacted", "T3": "solved", "T4": "satisfied"}
RATE_NAMES = {code: INDICATORS[code].name for code in RATES}
# Practices marked on the trend chart: the most recent ones (a province has dozens in a year).
MAX_MARKED_PRACTICES = 12
Z95 = 1.959964
BEFORE_AFTER_MONTHS = 6
MIN_SPREAD_COMMUNITIES = 3  # a category "spreads" in a month when this many communities report it
SPREAD_TOP = 12
SAT_LEVELS = ("非常满意", "满意", "基本满意", "不满意", "非常不满意")
SCORE_LABELS = {"score_weight_contacted": "响应", "score_weight_solved": "解决", "score_weight_satisfied": "满意"}
SAT_PREFIX = "satisfaction_weight_"


# Column headings of the class downloads (ticket ids, categories, dates) for the team that fixes it.
CSV_COLUMNS = {"ticket_id": "诉求编号", "street": "街道", "community": "社区", "compound": "小区",
               "category_l1": "一级类别", "category_l2": "二级类别", "category_l3": "三级类别", "channel": "渠道",
               "received_at": "受理时间", "period": "做法前/后", "due_at": "办理时限", "closed_at": "办结时间",
               "status": "状态", "contacted": "回访已联系", "solved": "回访已解决", "satisfaction": "满意度"}


def class_csv(rows: pd.DataFrame) -> pd.DataFrame:
    """A class's ticket list (class_tickets / practice_tickets rows) with Chinese headings."""
    return rows.rename(columns=CSV_COLUMNS)


def class_csv_bytes(rows: pd.DataFrame) -> tuple[bytes, int]:
    """The CSV file of a class's ticket list (as ui.download_csv writes it) and its number of tickets;
    the page caches it per selection (governance.derived) instead of encoding it on every rerun."""
    return exports.csv_bytes(class_csv(rows)), len(rows)


def rate_text(num, den, r, digits: int = 0) -> str:
    """'79.4%（151.6/191）': the rate with its counts; 无数据 without follow-ups."""
    if not den:
        return f"{NA}（0 件回访）"
    if r is None or (isinstance(r, float) and math.isnan(r)):
        return f"{NA}（等级权重未设置）"
    return f"{fmt_rate(r)}（{fmt_num(num, digits)}/{fmt_num(den)}）"


def ranking(tix: pd.DataFrame, settings: pd.DataFrame, by: str) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Communities ranked by `by` (T9, T2, T3 or T4): the ranked rows (with rates, Wilson bounds and
    their place against the funnel's control limits), the table shown, and the funnel's rate code."""
    ranked = with_rates(tix, score_weights(settings))
    funnel_code = "T3" if by == "T9" else by
    _, position = funnel_position(ranked, funnel_code)
    ranked = ranked.assign(position=position).sort_values([by, "followups"], ascending=[False, False],
                                                          na_position="last")
    ranked["名次"] = ranked[by].rank(ascending=False, method="min")
    view = pd.DataFrame({
        "名次": ranked["名次"].map(lambda x: "—" if pd.isna(x) else f"{x:.0f}"),
        "街道": ranked["street"], "社区": ranked["community"],
        "诉求量": ranked["tickets"], "有效回访": ranked["followups"],
        "T9 综合得分": ranked["T9"].round(1),
        "T2 响应率": [rate_text(k, n, r) for k, n, r in zip(ranked["contacted"], ranked["followups"], ranked["T2"])],
        "T3 解决率": [rate_text(k, n, r) for k, n, r in zip(ranked["solved"], ranked["followups"], ranked["T3"])],
        "T4 满意率": [rate_text(k, n, r, 1) for k, n, r in zip(ranked["satisfied"], ranked["followups"], ranked["T4"])],
        f"{funnel_code} 95% 区间": [NA if pd.isna(lo) else f"{lo * 100:.1f}%–{hi * 100:.1f}%"
                                   for lo, hi in zip(ranked[f"{funnel_code}_lo"], ranked[f"{funnel_code}_hi"])],
        f"{funnel_code} 与总体比": ranked["position"],
        "可靠性": [f"样本少（<{SMALL_SAMPLE}）" if s else ("无回访" if n == 0 else "")
                for s, n in zip(ranked["small_sample"], ranked["followups"])],
    })
    if ranked["street"].nunique() == 1:
        view = view.drop(columns="街道")
    return ranked, view, funnel_code


# ---------------------------------------------------------------- weights in force

def weights_note(settings: pd.DataFrame) -> str:
    """Which score weights and satisfaction level weights apply, with their effective dates."""
    if settings.empty:
        return "数据库中没有指标设置：满意率（T4）和综合得分（T9）显示为无数据，不按 0 计。"
    rows = {r.key: r for r in settings.itertuples(index=False)}
    parts = []
    if all(k in rows for k in SCORE_KEYS):
        parts.append("综合得分权重 " + " / ".join(f"{SCORE_LABELS[k]} {rows[k].value:g}" for k in SCORE_KEYS)
                     + _since(rows, SCORE_KEYS))
    else:
        parts.append("综合得分权重未设置，T9 无法计算")
    levels = [lv for lv in SAT_LEVELS if SAT_PREFIX + lv in rows]
    if levels:
        parts.append("满意度等级权重 " + "、".join(f"{lv} {rows[SAT_PREFIX + lv].value:g}" for lv in levels)
                     + _since(rows, [SAT_PREFIX + lv for lv in levels]))
    else:
        parts.append("满意度等级权重未设置，满意率（T4）显示为无数据")
    missing = [lv for lv in SAT_LEVELS if SAT_PREFIX + lv not in rows]
    if levels and missing:
        parts.append("、".join(missing) + " 的等级权重未设置，满意率（T4）显示为无数据")
    return "；".join(parts) + "。"


def _since(rows: dict, keys) -> str:
    """'（2023-01-01 起生效）', or '（默认值）' for the documented defaults a database has no own value for."""
    if all(getattr(rows[k], "source", None) == "default" for k in keys):
        return "（默认值：数据库中没有自己的设置）"
    return f"（{_dates(sorted({rows[k].effective_from for k in keys}))} 起生效）"


def _dates(dates) -> str:
    return "、".join(pd.Timestamp(d).strftime("%Y-%m-%d") for d in dates)


# ---------------------------------------------------------------- headline extras (T6-T8)

def summary(row: pd.Series | dict) -> dict[str, Value]:
    """T6, T7 and T8 of the selection from the one row of tickets/summary."""
    g = (lambda k: row[k]) if isinstance(row, dict) else row.get
    tickets = float(g("tickets") or 0)
    repeats = float(g("repeats") or 0)
    med, p90 = g("median_days"), g("p90_days")
    clean = lambda x: None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)
    return {
        "median_days": Value(clean(med), None, float(g("closed") or 0)),
        "p90_days": Value(clean(p90), None, float(g("closed") or 0)),
        "backlog": Value(float(g("backlog") or 0)),
        "le7": Value(float(g("backlog_le7") or 0)),
        "d8_30": Value(float(g("backlog_8_30") or 0)),
        "gt30": Value(float(g("backlog_gt30") or 0)),
        "T8": Value(rate(repeats, tickets), repeats, tickets),
    }


# ---------------------------------------------------------------- rates per row, Wilson, funnel

def with_rates(df: pd.DataFrame, weights: dict | None = None) -> pd.DataFrame:
    """Add T2-T4 (fractions, NaN when there is no follow-up), their 95% Wilson bounds, a small-sample
    flag and, with weights, T9 to aggregated rows carrying followups/contacted/solved/satisfied."""
    out = df.copy()
    n = out["followups"].astype("float64")
    for code, col in RATES.items():
        k = out[col].astype("float64")
        out[code] = (k / n.where(n > 0)).astype("float64")
        bounds = [wilson(float(a), float(b)) if b > 0 and not math.isnan(a) else None for a, b in zip(k, n)]
        out[f"{code}_lo"] = [b[0] if b else np.nan for b in bounds]
        out[f"{code}_hi"] = [b[1] if b else np.nan for b in bounds]
    out["small_sample"] = (n > 0) & (n < SMALL_SAMPLE)
    if weights is not None:
        out["T9"] = [_nan(score(_none(a), _none(b), _none(c), weights))
                     for a, b, c in zip(out["T2"], out["T3"], out["T4"])]
    else:
        out["T9"] = np.nan
    return out


def _none(x):
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _nan(x):
    return np.nan if x is None else x


def funnel_limits(p0: float, n, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Control limits p0 ± z·sqrt(p0(1−p0)/n) for a rate on n follow-ups, clipped to [0, 1]."""
    n = np.asarray(n, dtype="float64")
    half = z * np.sqrt(p0 * (1 - p0) / np.where(n > 0, n, np.nan))
    return np.clip(p0 - half, 0, 1), np.clip(p0 + half, 0, 1)


def funnel_position(df: pd.DataFrame, code: str) -> tuple[float | None, pd.Series]:
    """The selection's overall rate (ratio of sums) and, per row, where its rate falls against the
    95% control limits: '高于控制限', '低于控制限', '控制限内', or '无数据' without follow-ups."""
    col = RATES[code]
    p0 = rate(df[col].sum(), df["followups"].sum()) if len(df) else None
    if p0 is None:
        return None, pd.Series(["无数据"] * len(df), index=df.index)
    lo, hi = funnel_limits(p0, df["followups"])
    r = df[col].astype("float64") / df["followups"].where(df["followups"] > 0)
    where = np.where(df["followups"] <= 0, "无数据",
                     np.where(r > hi + 1e-12, "高于控制限", np.where(r < lo - 1e-12, "低于控制限", "控制限内")))
    return p0, pd.Series(where, index=df.index)


def funnel_figure(df: pd.DataFrame, code: str) -> go.Figure:
    """Rate against number of follow-ups per community, with 95% control limits around the
    selection's overall rate; communities under SMALL_SAMPLE follow-ups drawn hollow."""
    col = RATES[code]
    rows = df[df["followups"] > 0]
    p0, where = funnel_position(rows, code)
    fig = go.Figure()
    if p0 is None or rows.empty:
        return charts.base_layout(fig, f"{code} {RATE_NAMES[code]}：漏斗图（无有效回访）")
    n_max = max(float(rows["followups"].max()), SMALL_SAMPLE) * 1.08
    grid = np.unique(np.concatenate([np.linspace(1, n_max, 200), np.arange(1, 31)]))
    lo, hi = funnel_limits(p0, grid)
    fig.add_trace(go.Scatter(x=grid, y=hi * 100, mode="lines", name="95% 控制限",
                             line=dict(color="#7F8C8D", dash="dash", width=1), hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=grid, y=lo * 100, mode="lines", name="95% 控制限", showlegend=False,
                             line=dict(color="#7F8C8D", dash="dash", width=1), hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=[grid[0], grid[-1]], y=[p0 * 100, p0 * 100], mode="lines",
                             name=f"所选范围总体 {p0 * 100:.1f}%", line=dict(color="#2E86C1", width=1.5),
                             hoverinfo="skip"))
    colors = {"高于控制限": "#28B463", "低于控制限": "#C0392B", "控制限内": "#566573"}
    for label, color in colors.items():
        for small in (False, True):
            part = rows[(where == label).to_numpy() & ((rows["followups"] < SMALL_SAMPLE).to_numpy() == small)]
            if part.empty:
                continue
            r = part[col].astype("float64") / part["followups"]
            fig.add_trace(go.Scatter(
                x=part["followups"], y=r * 100, mode="markers",
                name=label + ("（样本少）" if small else ""),
                marker=dict(size=10, color="white" if small else color, line=dict(color=color, width=2),
                            symbol="circle-open" if small else "circle"),
                text=part["community"],
                customdata=np.stack([part[col].astype("float64"), part["followups"]], axis=1),
                hovertemplate="%{text}<br>" + f"{code} " + "%{y:.1f}%<br>%{customdata[0]:.1f} / %{customdata[1]:.0f} 件有效回访<extra></extra>",
            ))
    charts.base_layout(fig, f"{code} {RATE_NAMES[code]}：漏斗图（比率 vs 有效回访数）", height=420)
    fig.update_xaxes(title="有效回访数（件）", rangemode="tozero")
    fig.update_yaxes(title=f"{RATE_NAMES[code]}（%）", range=[max(0, min(lo.min(), (rows[col] / rows['followups']).min()) * 100 - 5), 102])
    return fig


# ---------------------------------------------------------------- figures

def trend_figure(monthly: pd.DataFrame, practices: pd.DataFrame, first, last) -> go.Figure:
    """Monthly volume (bars, right axis) and T2-T4 (lines), with dated practices marked."""
    m = monthly.copy()
    m["month"] = pd.to_datetime(m["month"])
    fig = go.Figure()
    fig.add_trace(go.Bar(x=m["month"], y=m["tickets"], name="诉求量（右轴）", yaxis="y2",
                         marker_color="rgba(127,140,141,0.35)", hovertemplate="%{x|%Y-%m}：%{y} 件<extra></extra>"))
    n = m["followups"].astype("float64")
    for i, (code, col) in enumerate(RATES.items()):
        r = m[col].astype("float64") / n.where(n > 0) * 100
        fig.add_trace(go.Scatter(
            x=m["month"], y=r, mode="lines+markers", name=f"{code} {RATE_NAMES[code]}",
            line=dict(color=charts.PALETTE[i], width=2), connectgaps=False,
            customdata=np.stack([m[col].astype("float64"), n], axis=1),
            hovertemplate="%{x|%Y-%m}：%{y:.1f}%（%{customdata[0]:.1f} / %{customdata[1]:.0f}）<extra>" + code + "</extra>",
        ))
    charts.base_layout(fig, "月度趋势：三率与诉求量", height=420)
    fig.update_layout(yaxis=dict(title="比率（%）", range=[0, 118], tickvals=[0, 20, 40, 60, 80, 100]),
                      yaxis2=dict(title="诉求量（件）", overlaying="y", side="right", rangemode="tozero", showgrid=False,
                                  tickmode="auto", tickformat=",d"),
                      margin=dict(t=60, b=10))
    charts.legend_below(fig)
    charts.month_axis(fig, first, last)
    if not practices.empty:
        p = practices_in_window(practices, first, last)
        charts.mark_practices(fig, latest(p), with_community=p["community"].nunique() > 1)
    return fig


def practices_in_window(practices: pd.DataFrame, first, last) -> pd.DataFrame:
    """Practices started from the first day of month `first` to the end of month `last`."""
    started = pd.to_datetime(practices["started_on"])
    return practices[(started >= pd.Timestamp(first)) & (started <= pd.Timestamp(last) + pd.offsets.MonthEnd(0))]


def latest(practices: pd.DataFrame, n: int = MAX_MARKED_PRACTICES) -> pd.DataFrame:
    """The `n` most recently started practices, in their original order (the ones a chart marks)."""
    if len(practices) <= n:
        return practices
    keep = pd.to_datetime(practices["started_on"]).sort_values(kind="stable").index[-n:]
    return practices[practices.index.isin(keep)]


NO_SUB = "（未细分）"


def category_sunburst(cats: pd.DataFrame) -> go.Figure:
    """Ticket volume by category level 1 > 2 > 3, coloured by T3 解决率 (grey without follow-ups)."""
    c = cats.copy()
    c["l2"] = c["category_l2"].fillna(NO_SUB)
    c["l3"] = c["category_l3"].fillna(NO_SUB)
    nodes = []
    sums = ["tickets", "followups", "solved"]
    for keys, parent_keys in ((["category_l1"], None), (["category_l1", "l2"], ["category_l1"]),
                              (["category_l1", "l2", "l3"], ["category_l1", "l2"])):
        g = c.groupby(keys, dropna=False)[sums].sum().reset_index()
        for r in g.itertuples(index=False):
            d = r._asdict()
            path = [d[k] for k in keys]
            nodes.append(dict(id="›".join(path), parent="›".join(path[:-1]) if parent_keys else "",
                              label=path[-1], tickets=d["tickets"], followups=d["followups"], solved=d["solved"]))
    n = pd.DataFrame(nodes)
    t3 = (n["solved"] / n["followups"].where(n["followups"] > 0) * 100)
    fig = go.Figure(go.Sunburst(
        ids=n["id"], parents=n["parent"], labels=n["label"], values=n["tickets"], branchvalues="total",
        marker=dict(colors=t3.fillna(-1), colorscale=[[0, "#DDDDDD"], [0.0001, "#C0392B"], [0.6, "#F4D03F"], [1, "#28B463"]],
                    cmin=-1, cmax=100, colorbar=dict(title="T3 解决率 %", tickvals=[0, 50, 100], orientation="h", thickness=12,
                                  len=0.8, y=-0.02, yanchor="top")),
        customdata=np.stack([n["followups"], t3.round(1).astype(object).where(t3.notna(), "无数据")], axis=1),
        hovertemplate="%{label}<br>%{value} 件；有效回访 %{customdata[0]} 件；解决率 %{customdata[1]}%<extra></extra>",
        maxdepth=2, insidetextorientation="radial",
    ))
    charts.base_layout(fig, "诉求类别（点击可逐级展开：一级 › 二级 › 三级）", height=460)
    return fig


def spreading_heatmap(spread: pd.DataFrame) -> go.Figure:
    """Communities reporting each spreading category, month by month."""
    s = spread.copy()
    s["label"] = s["category_l3"].fillna(s["category_l2"]).fillna(s["category_l1"])
    s["month"] = pd.to_datetime(s["month"]).dt.strftime("%Y-%m")
    order = s.drop_duplicates("rank").sort_values("rank")["label"].tolist()
    z = s.pivot_table(index="label", columns="month", values="communities", aggfunc="sum").reindex(order)
    fig = go.Figure(go.Heatmap(
        z=z.to_numpy(), x=z.columns.tolist(), y=z.index.tolist(), colorscale="OrRd",
        colorbar=dict(title="社区数"), hovertemplate="%{y}<br>%{x}：%{z} 个社区<extra></extra>",
        texttemplate="%{z}", zmin=0,
    ))
    charts.base_layout(fig, "同月出现该类诉求的社区数", height=max(280, 32 * len(order) + 120))
    fig.update_yaxes(autorange="reversed", title=None)
    fig.update_xaxes(title=None, type="category")
    return fig


# ---------------------------------------------------------------- before / after

def before_after_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per practice from tickets/before_after rows: months with data and the average
    monthly tickets before (rel_month < 0) and from the start month on, and the relative change
    (None when there is no month on either side or the before average is 0)."""
    cols = ["practice_id", "community", "practice", "started_on", "related_category",
            "before_months", "before_tickets", "before_avg", "after_months", "after_tickets", "after_avg", "change"]
    if rows.empty:
        return pd.DataFrame(columns=cols)
    first = rows.drop_duplicates("practice_id").set_index("practice_id")   # each practice's first row
    known = rows[rows["tickets"].notna()]
    after = known["rel_month"] >= 0
    sides = {}
    for side, part in (("before", known[~after]), ("after", known[after])):
        g = part.groupby("practice_id", sort=False)["tickets"]
        sides[side] = (g.size().reindex(first.index, fill_value=0), g.sum().reindex(first.index, fill_value=0),
                       g.mean().reindex(first.index))
    out = []
    for pid, r in zip(first.index, first.itertuples(index=False)):
        (bm, bt, ba), (am, at_, aa) = ((int(n[pid]), float(t[pid]), m[pid]) for n, t, m in (sides["before"], sides["after"]))
        b_avg = None if bm == 0 else ba
        a_avg = None if am == 0 else aa
        change = None
        if b_avg is not None and a_avg is not None and b_avg > 0:
            change = a_avg / b_avg - 1
        out.append(dict(practice_id=pid, community=r.community, practice=r.practice, started_on=r.started_on,
                        related_category=r.related_category, before_months=bm, before_tickets=bt, before_avg=b_avg,
                        after_months=am, after_tickets=at_, after_avg=a_avg, change=change))
    return pd.DataFrame(out, columns=cols)


def before_after_figure(rows: pd.DataFrame, title: str, subtitle: str | None = None) -> go.Figure:
    """Monthly tickets of the related category, before (grey) and from the start month (colour),
    with each side's average as a dashed line; `subtitle` (plain text) goes under the title."""
    r = rows.copy()
    r["month"] = pd.to_datetime(r["month"])
    known = r[r["tickets"].notna()]
    before, after = known[known["rel_month"] < 0], known[known["rel_month"] >= 0]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=before["month"], y=before["tickets"], name="开始前 6 个月", marker_color="#95A5A6",
                         hovertemplate="%{x|%Y-%m}：%{y} 件<extra></extra>"))
    fig.add_trace(go.Bar(x=after["month"], y=after["tickets"], name="开始后（含开始当月）", marker_color="#2E86C1",
                         hovertemplate="%{x|%Y-%m}：%{y} 件<extra></extra>"))
    for part, color in ((before, "#566573"), (after, "#1B4F72")):
        if len(part):
            avg = part["tickets"].mean()
            fig.add_trace(go.Scatter(
                x=[part["month"].min() - pd.Timedelta(days=14), part["month"].max() + pd.Timedelta(days=14)],
                y=[avg, avg], mode="lines", line=dict(color=color, dash="dash", width=1.5),
                name=f"月均 {avg:.1f} 件", hoverinfo="skip"))
    start = pd.Timestamp(r["started_on"].iloc[0])
    fig.add_shape(type="line", x0=start - pd.Timedelta(days=15), x1=start - pd.Timedelta(days=15), y0=0, y1=1,
                  xref="x", yref="paper", line=dict(color="#7D3C98", width=1, dash="dot"))
    charts.base_layout(fig, title, height=360)
    if subtitle:
        fig.update_layout(title_subtitle_text=subtitle)
    # the axis ends at the last month with data: empty months after it would read as zero tickets
    shown = known["month"] if len(known) else r["month"]
    fig.update_xaxes(tickformat="%Y-%m", dtick="M3", tickangle=0,
                     range=[shown.min() - pd.Timedelta(days=20), shown.max() + pd.Timedelta(days=20)])
    fig.update_yaxes(title="诉求量（件/月）", rangemode="tozero")
    fig.update_layout(margin=dict(t=70, b=10), legend=dict(orientation="h", yanchor="top", y=-0.15, xanchor="left", x=0))
    return fig


def practice_figure(rows: pd.DataFrame, practice_id: int, title: str, subtitle: str | None = None) -> go.Figure:
    """before_after_figure of one practice from all tickets/before_after rows (cacheable per selection)."""
    return before_after_figure(rows[rows["practice_id"] == practice_id], title, subtitle)


def ranking_funnel(tix: pd.DataFrame, settings: pd.DataFrame, by: str) -> go.Figure:
    """funnel_figure of the ranking by `by` (cacheable per selection)."""
    ranked, _, funnel_code = ranking(tix, settings, by)
    return funnel_figure(ranked, funnel_code)


def plain(text, limit: int) -> str:
    """Data text for a Plotly title, which reads a few HTML-like tags: angle brackets neutralised."""
    text = str(text).replace("<", "‹").replace(">", "›")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def file_name(*parts) -> str:
    """A download file name from data parts, without path separators or control characters."""
    text = "_".join(str(p) for p in parts if p is not None and str(p))
    text = "".join("_" if ch in '/\\:*?"<>|' or ord(ch) < 32 else ch for ch in text)
    return text[:80] + ".csv"


def fmt_change(x) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "无数据"
    return f"{x * 100:+.0f}%"
