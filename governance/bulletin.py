"""月度通报: the monthly bulletin of a street (or any region level) as data, built once.

`build(run, region, month)` runs the same queries the pages run (queries/tickets, coverage,
organizations, settings) plus queries/bulletin/*.sql, through `run(name, params, max_rows)` —
`runtime.query` on the page, `db.run_query` on a connection for the command line — and turns them
with the same definitions (governance.metrics, governance.tickets, governance.indicators) into a
`Bulletin`: sections of plain texts, tables of display strings, charts as Plotly dicts and links
back to the pages. The page, the Word file and the PDF all render that one object
(governance.bulletin_files), so they can never disagree with each other or with the pages.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlencode

import pandas as pd
import plotly.graph_objects as go

from governance import charts, db, metrics, problems
from governance.access import ALL_SCOPE, Scope
from governance import tickets as tk
from governance.coverage import only_reporting, reporting_ids
from governance.indicators import (BACKLOG_OLD_DAYS, BULLETIN_RULES, CLOSED_HIGH, INDICATORS, RANK_TOP,
                                   SMALL_SAMPLE, SOLVED_LOW, problem_verdict)
from governance.labels import LEVELS, NA, TABLE_LABELS, fmt_num, fmt_rate
from governance.periods import Period, add_months, fmt_month, month_end
from governance.stats import wilson
from governance.ui import format_delta, format_value

Run = Callable[..., pd.DataFrame]
CANDIDATES_RECURRING = 3   # 每月一题 候选: the classes recurring most …
CANDIDATES_SPREADING = 3   # … and spreading most this month
TREND_MONTHS = 6
CHANGES_SHOWN = 5          # 变化: the largest rises and the largest falls
MAX_LISTED = 30            # rows of a community list in the bulletin (a province has thousands); the page has all


@dataclass
class Table:
    title: str
    frame: pd.DataFrame                 # display strings, as every output shows them
    link: str | None = None             # the page and selection the numbers come from
    row_links: list[str] | None = None  # per row, e.g. the community on its page
    note: str = ""
    ends: bool = False                  # a ranking: when cut, keep its first and last rows


def _cut(t: Table) -> Table:
    """A list longer than MAX_LISTED rows keeps its first (a ranking: first and last) rows, and says so."""
    n = len(t.frame)
    if n <= MAX_LISTED:
        return t
    keep = (list(range(MAX_LISTED // 2)) + list(range(n - MAX_LISTED // 2, n))) if t.ends else list(range(MAX_LISTED))
    said = (f"共 {n} 行，仅列前 {MAX_LISTED // 2} 行和后 {MAX_LISTED // 2} 行" if t.ends
            else f"共 {n} 行，仅列前 {MAX_LISTED} 行") + "；全部见链接所指的页面。"
    return Table(t.title, t.frame.iloc[keep].reset_index(drop=True), t.link,
                 [t.row_links[i] for i in keep] if t.row_links else None, (t.note + " " if t.note else "") + said, t.ends)


@dataclass
class Chart:
    title: str
    figure: dict                        # Plotly figure as a dict (cacheable; kaleido renders it for files)


@dataclass
class Section:
    key: str
    title: str
    texts: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    sources: list[tuple[str, str]] = field(default_factory=list)  # (label, link)
    items: list[dict] = field(default_factory=list)  # what the page acts on: candidates, adopted problems


@dataclass
class Bulletin:
    scope: str                          # the lowest region level chosen, e.g. 江堤街道
    scope_path: str                     # 湖北省 › 武汉市 › 汉阳区 › 江堤街道
    region: dict
    month: dt.date
    generated: dt.date
    demo: str | None
    sections: list[Section]
    values: dict                        # the headline figures (metrics.Value) by month key, for tests

    @property
    def title(self) -> str:
        return f"{self.scope}社区治理月度通报（{self.month.year} 年 {self.month.month} 月）"

    @property
    def header(self) -> str:
        return f"范围：{self.scope_path}　月份：{fmt_month(self.month)}　生成日期：{self.generated:%Y-%m-%d}"


# ---------------------------------------------------------------- months and scope

def resolve_scope(name: str, communities: pd.DataFrame) -> tuple[dict | None, str | None]:
    """A region name at any level (省、市、区、街道或社区) → region parameters; or a Chinese message."""
    name = (name or "").strip()
    for level in LEVELS:
        rows = communities[communities[level] == name]
        if rows.empty:
            continue
        upper = LEVELS[: LEVELS.index(level)]
        paths = rows[upper].drop_duplicates()
        if len(paths) > 1:
            where = "、".join(" › ".join(r) for r in paths.itertuples(index=False, name=None))
            return None, f"有多个“{name}”（{where}），无法确定是哪一个。"
        region = {k: None for k in LEVELS}
        region.update({k: rows.iloc[0][k] for k in upper})
        region[level] = name
        return region, None
    return None, f"数据中没有名为“{name}”的省、市、区、街道或社区。"


def link(page: str, region: dict, first: dt.date, last: dt.date | None = None, **extra) -> str:
    """A dashboard link with the shared URL parameters (region levels, from, to)."""
    q = {k: v for k, v in region.items() if v}
    q.update({"from": fmt_month(first), "to": fmt_month(last or first)})
    q.update({k: v for k, v in extra.items() if v is not None})
    return f"{page}?{urlencode(q)}"


def demo_notice(lineage: pd.DataFrame) -> str | None:
    """The demo notice every page and file carries while simulated rows remain (common/lineage)."""
    simulated = lineage[lineage["source"] == "simulated"]
    if simulated.empty:
        return None
    tables = "、".join(TABLE_LABELS.get(t, t) for t in simulated["table_name"])
    return (f"演示数据：当前数据库含模拟数据（{tables}）。六个报道社区的公开数字取自《人民日报》2023 年 8 月报道，"
            "其余均为模拟，不代表任何真实社区。")


# ---------------------------------------------------------------- formatting

def _names(names, n: int = 10) -> str:
    """Names joined with 、, the first n and a count of the rest (a text never lists thousands)."""
    names = list(names)
    return "、".join(names[:n]) + (f"等 {len(names)} 个" if len(names) > n else "")


def _nan(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def rate_counts(v: metrics.Value, digits: int = 0) -> str:
    if not v.denominator:
        return "0 件有效回访"
    return f"{fmt_num(v.numerator, digits)} / {fmt_num(v.denominator)}"


def interval_text(lo, hi) -> str:
    return NA if _nan(lo) else f"{lo * 100:.1f}%–{hi * 100:.1f}%"


def significance(k1, n1, k2, n2) -> tuple[str, tuple | None, tuple | None]:
    """BULLETIN_RULES['significance']: 显著 only when the two months' 95% Wilson intervals do not overlap."""
    a = wilson(float(k1), float(n1)) if n1 else None
    b = wilson(float(k2), float(n2)) if n2 else None
    if a is None or b is None:
        return NA, a, b
    apart = b[0] > a[1] or b[1] < a[0]
    return ("显著" if apart else "可能为偶然波动"), a, b


# ---------------------------------------------------------------- the bulletin

def _month_params(region: dict, m: dt.date) -> dict:
    return {**region, **Period(m, m).params()}


def _tickets(run: Run, region: dict, m: dt.date):
    p = _month_params(region, m)
    settings = run("settings/in_force", p)
    tix = run("tickets/rates_by_community", p, max_rows=db.SUM_ROWS)
    return tix, settings, metrics.tickets(tix, metrics.score_weights(settings))


HEADLINE = [  # (key in metrics.tickets, label, kind)
    ("T1", "T1 诉求量（件）", "count"), ("T1k", "每千居民诉求量（件）", "ratio"),
    ("T2", "T2 响应率", "rate"), ("T3", "T3 解决率", "rate"), ("T4", "T4 满意率", "rate"),
    ("T5", "T5 办结率（承办单位报告）", "rate"), ("T5t", "按时办结率", "rate"), ("T9", "T9 综合得分", "score"),
]


def _counts_of(key: str, v: metrics.Value) -> str:
    if key in ("T2", "T3"):
        return f"{rate_counts(v)} 件有效回访"
    if key == "T4":
        return f"加权满意 {rate_counts(v, 1)} 件有效回访"
    if key == "T5":
        return f"{rate_counts(v)} 件受理"
    if key == "T5t":
        return f"{rate_counts(v)} 件已办结"
    if key == "T1k":
        return f"居民 {fmt_num(v.denominator)} 人"
    return ""


def _overview(run, region, month, T, Tp, Ty, settings, tix) -> Section:
    prev, year = add_months(month, -1), add_months(month, -12)
    rows = []
    for key, label, kind in HEADLINE:
        rows.append({
            "指标": label, "本月": format_value(T[key], kind, 2 if kind == "ratio" else 1),
            "计数": _counts_of(key, T[key]),
            f"上月（{fmt_month(prev)}）": format_value(Tp[key], kind, 2 if kind == "ratio" else 1),
            "环比": format_delta(T[key], Tp[key], kind) or NA,
            f"去年同月（{fmt_month(year)}）": format_value(Ty[key], kind, 2 if kind == "ratio" else 1),
            "同比": format_delta(T[key], Ty[key], kind) or NA,
        })
    s = Section("overview", "一、总体情况")
    w = metrics.score_weights(settings)
    s.texts.append(
        f"本月共受理诉求 {fmt_num(T['T1'].value)} 件（上月 {fmt_num(Tp['T1'].value)} 件，去年同月 {fmt_num(Ty['T1'].value)} 件），"
        f"涉及 {int((tix['tickets'] > 0).sum()) if len(tix) else 0} 个社区。回访 {fmt_num(T['T2'].denominator)} 件，"
        f"响应率 {fmt_rate(T['T2'].value)}、解决率 {fmt_rate(T['T3'].value)}、满意率 {fmt_rate(T['T4'].value)}；"
        f"承办单位报告办结率 {fmt_rate(T['T5'].value)}。"
        + (f"综合得分 {format_value(T['T9'], 'score')}（环比 {format_delta(T['T9'], Tp['T9'], 'score') or NA}）。" if w else ""))
    s.texts.append("权重：" + tk.weights_note(settings))
    small = T["T2"].denominator is not None and 0 < T["T2"].denominator < SMALL_SAMPLE
    if small:
        s.texts.append(f"本月有效回访少于 {SMALL_SAMPLE} 件，比率不稳定。")
    src = link("tickets", region, month)
    s.tables.append(Table("本月与上月、去年同月", pd.DataFrame(rows), src,
                          [src, *[src] * (len(rows) - 1)],
                          note="办结率是承办单位报告的“办结”，解决率、满意率来自回访中居民的说法：办结不等于解决。"))
    trend = run("tickets/monthly", {**region, **Period(year, month).params()})
    practices = run("practices/practices_in_selection", _month_params(region, month))
    fig = tk.trend_figure(trend, practices, year, month)
    s.charts.append(Chart("近 13 个月诉求量与三率", fig.to_dict()))
    s.sources = [("诉求办理 · 本月", src), ("诉求办理 · 上月", link("tickets", region, prev)),
                 ("诉求办理 · 去年同月", link("tickets", region, year)),
                 ("诉求办理 · 近 13 个月趋势", link("tickets", region, year, month))]
    return s


def _named(names: list[str]) -> tuple[list[str], list[str]]:
    """The first and last RANK_TOP of a ranked list, without naming anyone twice."""
    top = names[:RANK_TOP]
    bottom = names[max(len(top), len(names) - RANK_TOP):]
    return top, bottom


def _community_link(region, month, row) -> str:
    return link("tickets", {**region, "street": row["street"], "community": row["community"]}, month)


def _ranking(region, month, tix, settings) -> Section:
    s = Section("ranking", "二、排名")
    s.texts.append(BULLETIN_RULES["ranking"].text + "权重：" + tk.weights_note(settings))
    if tix.empty:
        s.texts.append("所选范围内没有社区。")
        return s
    big = tix[tix["followups"] >= SMALL_SAMPLE]
    small = tix[tix["followups"] < SMALL_SAMPLE]
    src = link("tickets", region, month)
    if not big.empty:
        table = None
        for code in ("T9", "T2", "T3", "T4"):
            name = "综合得分" if code == "T9" else tk.RATE_NAMES[code]
            ranked, _, _ = tk.ranking(big, settings, code)
            if code == "T9":
                value = [NA if _nan(x) else f"{x:.1f} 分" for x in ranked["T9"]]
            else:
                col = tk.RATES[code]
                value = [tk.rate_text(k, n, r, 1 if code == "T4" else 0)
                         for k, n, r in zip(ranked[col], ranked["followups"], ranked[code])]
            cells = pd.Series([v if _nan(p) else f"{v} · 第 {p:.0f} 名" for v, p in zip(value, ranked["名次"])],
                              index=ranked.index)
            if table is None:  # rows in the order of T9
                table = pd.DataFrame({"社区": ranked["community"], "有效回访": [fmt_num(x) for x in ranked["followups"]]},
                                     index=ranked.index)
                order = ranked
            table[f"{code} {name}"] = cells
            names = ranked.loc[ranked[code].notna(), "community"].tolist()
            top, bottom = _named(names)
            if len(names) == 1:
                s.texts.append(f"{code} {name}：参与排名的社区只有 {names[0]}（{value[0]}）。")
                continue
            text = f"{code} {name}：" + (f"前 {len(top)} 名 " + "、".join(top) if top else "无")
            if bottom:
                text += f"；后 {len(bottom)} 名 " + "、".join(bottom)
            s.texts.append(text + "。")
        if len(table) == 1:  # one community cannot be ranked against others: say it once
            s.texts[-4:] = [f"有效回访达到 {SMALL_SAMPLE} 件、参与排名的社区只有 {table.iloc[0]['社区']}"
                            f"（{table.iloc[0]['有效回访']} 件），本月不构成排名。"]
        s.tables.append(Table(f"有效回访达到 {SMALL_SAMPLE} 件的 {len(table)} 个社区：四项排名（按 T9 排序）",
                              table.reset_index(drop=True), src,
                              [_community_link(region, month, r) for _, r in order.iterrows()],
                              note="比率后括号内为“分子/有效回访数”；各社区的 95% Wilson 区间见“诉求办理”页。",
                              ends=True))
    if big.empty:
        s.texts.append(f"本月没有社区的有效回访达到 {SMALL_SAMPLE} 件，不排名；各社区数字见下表。")
    if not small.empty:
        sm = tk.with_rates(small, metrics.score_weights(settings)).sort_values(["followups", "community"],
                                                                             ascending=[False, True])
        frame = pd.DataFrame({
            "社区": sm["community"], "有效回访": [fmt_num(x) for x in sm["followups"]],
            "T9 综合得分": [NA if _nan(x) else f"{x:.1f} 分" for x in sm["T9"]],
            "T2 响应率": [tk.rate_text(k, n, r) for k, n, r in zip(sm["contacted"], sm["followups"], sm["T2"])],
            "T3 解决率": [tk.rate_text(k, n, r) for k, n, r in zip(sm["solved"], sm["followups"], sm["T3"])],
            "T4 满意率": [tk.rate_text(k, n, r, 1) for k, n, r in zip(sm["satisfied"], sm["followups"], sm["T4"])],
        })
        s.texts.append(f"有效回访少于 {SMALL_SAMPLE} 件的 {len(sm)} 个社区单列如下，不参与排名："
                       + _names(sm["community"]) + "。")
        s.tables.append(Table(f"样本少（有效回访 < {SMALL_SAMPLE} 件），不排名", frame, src,
                              [_community_link(region, month, r) for _, r in sm.iterrows()]))
    chart = _score_figure(tix, settings)
    if chart is not None:
        s.charts.append(Chart("各社区本月综合得分", chart.to_dict()))
    s.sources = [("诉求办理 · 各社区排名", src)]
    return s


def _score_figure(tix, settings) -> go.Figure | None:
    r = tk.with_rates(tix, metrics.score_weights(settings))
    r = r[r["T9"].notna()].sort_values("T9")
    if r.empty:
        return None
    title = "本月 T9 综合得分（灰色：有效回访少于 30 件，不排名）"
    if len(r) > MAX_LISTED:
        # as the ranking table (Table.ends): a province's thousands of bars cannot be read on a page or
        # in the Word/PDF picture, and took the browser tens of seconds to lay out; the lowest and
        # highest of the ranked communities are drawn, the page 诉求办理 has them all
        ranked = r[r["followups"] >= SMALL_SAMPLE]
        pool = ranked if len(ranked) else r
        half = MAX_LISTED // 2
        r = pool if len(pool) <= MAX_LISTED else pd.concat([pool.iloc[:half], pool.iloc[-half:]])
        title = (f"本月 T9 综合得分：{'参与排名的 ' + str(len(pool)) if len(ranked) else '共 ' + str(len(pool))} 个社区中"
                 f"{'全部' if len(pool) <= MAX_LISTED else f'最低与最高各 {half} 个'}（全部见“诉求办理”页）")
    small = r["followups"] < SMALL_SAMPLE
    fig = go.Figure(go.Bar(
        x=r["T9"], y=[f"{c}（样本少）" if s else c for c, s in zip(r["community"], small)], orientation="h",
        marker_color=["#BDC3C7" if s else "#2E86C1" for s in small],
        text=[f"{x:.1f}" for x in r["T9"]], textposition="outside", cliponaxis=False,
        hovertemplate="%{y}：%{x:.1f} 分<extra></extra>"))
    charts.base_layout(fig, title, height=max(260, 34 * len(r) + 110))
    fig.update_xaxes(title="综合得分（分）", range=[0, 105])
    fig.update_yaxes(title=None, type="category")
    return fig


def _changes(region, month, tix, tix_prev, settings, settings_prev, T, Tp) -> Section:
    s = Section("changes", "三、变化")
    s.texts.append(BULLETIN_RULES["significance"].text)
    prev = add_months(month, -1)
    whole = []
    for code in tk.RATES:
        a, b = Tp[code], T[code]
        if a.denominator and b.denominator:
            verdict = significance(a.numerator, a.denominator, b.numerator, b.denominator)[0]
            whole.append(f"{code} {tk.RATE_NAMES[code]} {fmt_rate(a.value)} → {fmt_rate(b.value)}"
                         f"（{format_delta(b, a, 'rate')}，{verdict}）")
    if whole:
        s.texts.append("全范围：" + "；".join(whole) + "。")
    now = tk.with_rates(tix, metrics.score_weights(settings))
    before = tk.with_rates(tix_prev, metrics.score_weights(settings_prev))
    both = now.merge(before, on="community_id", suffixes=("", "_a"))
    both = both[(both["followups"] > 0) & (both["followups_a"] > 0)]
    parts = []
    for code, col in tk.RATES.items():
        parts.append(pd.DataFrame({
            "street": both["street"], "community": both["community"], "code": code,
            "k_a": both[f"{col}_a"], "n_a": both["followups_a"], "r_a": both[f"{code}_a"],
            "k_b": both[col], "n_b": both["followups"], "r_b": both[code], "change": both[code] - both[f"{code}_a"]}))
    ch = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    src = link("tickets", region, prev, month)
    if ch.empty:
        s.texts.append("本月或上月没有有效回访，无法比较。")
        return s
    order = ["change", "community", "code"]
    rises = ch[ch["change"] > 0].sort_values(order, ascending=[False, True, True]).head(CHANGES_SHOWN)
    falls = ch[ch["change"] < 0].sort_values(order, ascending=[True, True, True]).head(CHANGES_SHOWN)
    for title, part in (("升幅最大", rises), ("降幅最大", falls)):
        if part.empty:
            s.texts.append(f"{title}：无。")
            continue
        part = part.copy()
        tests = [significance(r.k_a, r.n_a, r.k_b, r.n_b) for r in part.itertuples()]
        part["verdict"] = [t[0] for t in tests]
        part["before_ci"] = [interval_text(*t[1]) for t in tests]
        part["now_ci"] = [interval_text(*t[2]) for t in tests]
        part["before_text"] = [tk.rate_text(r.k_a, r.n_a, r.r_a, 1 if r.code == "T4" else 0) for r in part.itertuples()]
        part["now_text"] = [tk.rate_text(r.k_b, r.n_b, r.r_b, 1 if r.code == "T4" else 0) for r in part.itertuples()]
        frame = pd.DataFrame({
            "社区": part["community"], "指标": [f"{c} {tk.RATE_NAMES[c]}" for c in part["code"]],
            f"上月（{fmt_month(prev)}）": part["before_text"], f"本月（{fmt_month(month)}）": part["now_text"],
            "变化": [f"{x * 100:+.1f} 个百分点" for x in part["change"]],
            "上月 95% 区间": part["before_ci"], "本月 95% 区间": part["now_ci"], "判断": part["verdict"],
        })
        sig = part[part["verdict"] == "显著"]
        s.texts.append(f"{title}：" + "；".join(
            f"{r.community} {r.code} {r.change * 100:+.1f} 个百分点（{r.verdict}）" for r in part.itertuples()) + "。"
            + ("" if len(sig) else "均在两月区间重叠范围内，可能为偶然波动。"))
        s.tables.append(Table(f"{title}的变化（本月比上月）", frame, src,
                              [link("tickets", {**region, "street": r.street, "community": r.community}, prev, month)
                               for r in part.itertuples()]))
    s.sources = [("诉求办理 · 上月至本月", src)]
    return s


def _attention(run, region, month, tix) -> Section:
    s = Section("attention", "四、需关注")
    end = month_end(month)
    prev = add_months(month, -1)
    # (1) old backlog by community
    backlog = run("bulletin/backlog_by_community", {**region, "as_of": end}, max_rows=db.SUM_ROWS)
    old = backlog[backlog["old"] > 0]
    src = link("tickets", region, month)
    if old.empty:
        s.texts.append(f"（一）超期积压：月末没有受理超过 {BACKLOG_OLD_DAYS} 天仍未办结的诉求。")
    else:
        s.texts.append(f"（一）超期积压：月末受理超过 {BACKLOG_OLD_DAYS} 天仍未办结的诉求共 {fmt_num(old['old'].sum())} 件，分布在 {len(old)} 个社区，"
                       f"最多的是 {old.iloc[0]['community']}（{fmt_num(old.iloc[0]['old'])} 件）。")
        s.tables.append(Table(f"（一）超过 {BACKLOG_OLD_DAYS} 天未办结（截至 {end:%Y-%m-%d}）", pd.DataFrame({
            "社区": old["community"], f">{BACKLOG_OLD_DAYS} 天": [fmt_num(x) for x in old["old"]],
            "积压合计": [fmt_num(x) for x in old["backlog"]],
            "最早受理": pd.to_datetime(old["oldest_received"]).dt.strftime("%Y-%m-%d"),
        }), src, [_community_link(region, month, r) for _, r in old.iterrows()]))
    # (2) 办结不等于解决
    r = tk.with_rates(tix)
    r["T5"] = r["closed"] / r["tickets"].where(r["tickets"] > 0)
    flagged = r[(r["T5"] >= CLOSED_HIGH) & (r["T3"] < SOLVED_LOW)].sort_values("T3")
    if flagged.empty:
        s.texts.append(f"（二）办结不等于解决：本月没有办结率 ≥ {CLOSED_HIGH * 100:.0f}% 而解决率 < {SOLVED_LOW * 100:.0f}% 的社区。")
    else:
        s.texts.append(f"（二）办结不等于解决：办结率 ≥ {CLOSED_HIGH * 100:.0f}% 而解决率 < {SOLVED_LOW * 100:.0f}% 的社区有 "
                       + _names(flagged["community"]) + "。")
        s.tables.append(Table("（二）办结率高而解决率低", pd.DataFrame({
            "社区": flagged["community"],
            "T5 办结率": [tk.rate_text(k, n, x) for k, n, x in zip(flagged["closed"], flagged["tickets"], flagged["T5"])],
            "T3 解决率": [tk.rate_text(k, n, x) for k, n, x in zip(flagged["solved"], flagged["followups"], flagged["T3"])],
            "样本": ["样本少" if x else "" for x in flagged["small_sample"]],
        }), src, [_community_link(region, month, x) for _, x in flagged.iterrows()]))
    # (3) C4 or S3 that fell this month
    org_data = run("coverage/org_data_by_community", {**region}, max_rows=db.SUM_ROWS)
    ids = reporting_ids(org_data)
    cov = only_reporting(run("coverage/coverage_by_community", {**region, "as_of": end}, max_rows=db.SUM_ROWS), ids)
    cov_b = only_reporting(run("coverage/coverage_by_community", {**region, "as_of": month_end(prev)},
                               max_rows=db.SUM_ROWS), ids)
    orgs = run("organizations/orgs_by_community", {**region, "as_of": end}, max_rows=db.SUM_ROWS)
    orgs_b = run("organizations/orgs_by_community", {**region, "as_of": month_end(prev)}, max_rows=db.SUM_ROWS)
    fell = []
    c = cov.merge(cov_b, on="community_id", suffixes=("", "_a"))
    c4 = c["chain_complete_buildings"] / c["buildings"].where(c["buildings"] > 0)
    c4_a = c["chain_complete_buildings_a"] / c["buildings_a"].where(c["buildings_a"] > 0)
    for r, now, was in zip(c[c4 < c4_a - 1e-12].itertuples(), c4[c4 < c4_a - 1e-12], c4_a[c4 < c4_a - 1e-12]):
        fell.append(dict(street=r.street, community=r.community, what="C4 组织链完整率",
                         was=f"{fmt_rate(was)}（{fmt_num(r.chain_complete_buildings_a)}/{fmt_num(r.buildings_a)} 栋）",
                         now=f"{fmt_rate(now)}（{fmt_num(r.chain_complete_buildings)}/{fmt_num(r.buildings)} 栋）",
                         page="coverage"))
    o = orgs.merge(orgs_b, on="community_id", suffixes=("", "_a"))
    lost = o[o["target"].notna() & o["target_a"].notna() & (o["active_orgs_a"] >= o["target_a"])
             & (o["active_orgs"] < o["target"])]
    for r in lost.itertuples():
        fell.append(dict(street=r.street, community=r.community, what="S3 社会组织数达标",
                         was=f"达标（{r.active_orgs_a:.0f} / 目标 {r.target_a:g}）",
                         now=f"未达标（{r.active_orgs:.0f} / 目标 {r.target:g}）", page="organizations"))
    if not fell:
        s.texts.append("（三）组织链与达标：本月没有 C4 组织链完整率下降或不再达标（S3）的社区。")
    else:
        f = pd.DataFrame(fell)
        s.texts.append("（三）组织链与达标：本月下降的有 " + _names([f"{r.community} {r.what}" for r in f.itertuples()]) + "。")
        s.tables.append(Table("（三）本月组织链或达标下降", pd.DataFrame({
            "社区": f["community"], "指标": f["what"], f"上月末（{month_end(prev):%m-%d}）": f["was"],
            f"本月末（{end:%m-%d}）": f["now"]}), None,
            [link(r.page, {**region, "street": r.street, "community": r.community}, month) for r in f.itertuples()]))
    s.texts.append("口径：" + "".join(BULLETIN_RULES[k].text for k in ("old_backlog", "closed_not_solved", "structure_fell")))
    s.sources = [("诉求办理 · 积压与办结", src), ("组织覆盖 · 本月", link("coverage", region, month)),
                 ("社会组织 · 本月", link("organizations", region, month))]
    return s


def _category(l1, l2, l3) -> str:
    return " › ".join(x for x in (l1, l2, l3) if isinstance(x, str) and x)


def _candidates(run, region, month, n_communities: int) -> Section:
    s = Section("candidates", "五、每月一题 候选")
    s.texts.append("沿用“诉求办理”页举一反三的口径：同一小区同类诉求 90 天内再次出现（反复出现），"
                   f"或同月出现在 {tk.MIN_SPREAD_COMMUNITIES} 个及以上社区（扩散）。每类列出本月诉求量、涉及社区和近 "
                   f"{TREND_MONTHS} 个月的走势，供确定本月“每月一题”。")
    p = _month_params(region, month)
    keys = ["category_l1", "category_l2", "category_l3"]
    picks: list[dict] = []
    recurring = run("tickets/recurring_pairs", p, max_rows=200)
    if not recurring.empty:
        g = (recurring.fillna({"category_l2": "", "category_l3": ""})
             .groupby(keys).agg(repeats=("repeats", "sum"), compounds=("compound_id", "nunique"),
                                names=("community", lambda x: sorted(set(x)))).reset_index()
             .sort_values(["repeats", "compounds", "category_l1", "category_l2", "category_l3"],
                          ascending=[False, False, True, True, True]).head(CANDIDATES_RECURRING))
        for r in g.itertuples(index=False):
            picks.append(dict(key=(r.category_l1, r.category_l2 or None, r.category_l3 or None), basis="反复出现",
                              detail=f"{r.compounds} 个小区 90 天内重复 {r.repeats} 次", names=r.names))
    if n_communities >= tk.MIN_SPREAD_COMMUNITIES:
        spread = run("tickets/spreading", {**p, "min_communities": tk.MIN_SPREAD_COMMUNITIES, "top": CANDIDATES_SPREADING})
        for r in spread.drop_duplicates("rank").itertuples(index=False):
            key = (r.category_l1, r.category_l2, r.category_l3)
            detail = f"本月 {r.communities} 个社区（此前 6 个月平均 {r.baseline:.1f} 个）"
            same = next((x for x in picks if x["key"] == key), None)
            if same:
                same["basis"] += "、扩散"
                same["detail"] += "；" + detail
            else:
                picks.append(dict(key=key, basis="扩散", detail=detail, names=None))
    if not picks:
        s.texts.append("本月没有反复出现或扩散的诉求类别。")
        return s
    first = add_months(month, -(TREND_MONTHS - 1))
    months = [add_months(first, i) for i in range(TREND_MONTHS)]
    cm = run("bulletin/category_months", {**region, **Period(first, month).params()}, max_rows=db.SUM_ROWS)
    cm["month"] = pd.to_datetime(cm["month"]).dt.date
    rows, fig = [], go.Figure()
    for i, c in enumerate(picks):
        l1, l2, l3 = c["key"]
        part = cm[(cm["category_l1"] == l1) & (cm["category_l2"].fillna("") == (l2 or ""))
                  & (cm["category_l3"].fillna("") == (l3 or ""))].set_index("month")
        series = [int(part["tickets"].get(m, 0)) for m in months]
        this = part.loc[month] if month in part.index else None
        names = c["names"]
        n_comm = int(this["communities"]) if this is not None else 0
        rows.append({
            "类别": _category(l1, l2, l3), "依据": f"{c['basis']}：{c['detail']}",
            "本月诉求量": fmt_num(series[-1]), "涉及社区": f"{n_comm} 个" + (f"（反复：{'、'.join(names)}）" if names else ""),
            f"近 {TREND_MONTHS} 个月（{fmt_month(first)} 起）": " → ".join(str(x) for x in series),
        })
        s.items.append({"category": (l1, l2, l3), "label": _category(l1, l2, l3), "tickets": series[-1]})
        fig.add_trace(go.Scatter(x=[fmt_month(m) for m in months], y=series, mode="lines+markers",
                                 name=tk.plain(l3 or l2 or l1, 16), line=dict(color=charts.PALETTE[i % len(charts.PALETTE)])))
    charts.base_layout(fig, f"候选类别近 {TREND_MONTHS} 个月诉求量", height=380)
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.12, xanchor="left", x=0), margin=dict(b=10))
    fig.update_xaxes(type="category", title=None)
    fig.update_yaxes(title="诉求量（件）", rangemode="tozero")
    s.texts.append("候选：" + "；".join(f"{r['类别']}（本月 {r['本月诉求量']} 件）" for r in rows) + "。")
    src = link("tickets", region, month)
    s.tables.append(Table("每月一题 候选类别", pd.DataFrame(rows), src, [src] * len(rows)))
    s.charts.append(Chart(f"候选类别近 {TREND_MONTHS} 个月诉求量", fig.to_dict()))
    s.sources = [("诉求办理 · 举一反三（本月）", src), ("诉求办理 · 近 6 个月", link("tickets", region, first, month))]
    return s


def _series(g: pd.DataFrame, month: dt.date) -> dict:
    """Baseline, last month, this month and the verdict of one monthly series (month → tickets, rel_month)."""
    prev = add_months(month, -1)
    before = g[(g["rel_month"] < 0) & g["tickets"].notna()]["tickets"]
    base = float(before.mean()) if len(before) else None
    cur, was = g["tickets"].get(month), g["tickets"].get(prev)
    cur = None if cur is None or pd.isna(cur) else float(cur)
    was = None if was is None or pd.isna(was) else float(was)
    verdict = problem_verdict(was, cur)
    return {
        "基线（前 6 个月月均）": NA if base is None else f"{base:.1f} 件（{len(before)} 个月）",
        f"上月（{fmt_month(prev)}）": NA if was is None else f"{was:.0f} 件",
        f"本月（{fmt_month(month)}）": NA if cur is None else f"{cur:.0f} 件",
        "较基线": NA if base in (None, 0) or cur is None else f"{(cur / base - 1) * 100:+.0f}%",
        "判定": NA if verdict is None else f"{verdict}（{fmt_month(month)} 对比 {fmt_month(prev)}）",
    }


def _status(p, end: dt.date) -> str:
    closed = p["closed_on"]
    if closed is not None and not pd.isna(closed) and pd.Timestamp(closed).date() <= end:
        return f"已结束（{pd.Timestamp(closed):%Y-%m-%d}）：{p['outcome']}"
    target = p["target_on"]
    return "进行中" + ("" if target is None or pd.isna(target) else f"（目标 {pd.Timestamp(target):%Y-%m-%d}）")


def _progress(run, region, month) -> Section:
    s = Section("progress", "六、每月一题 进展")
    s.texts.append("已采纳的每月一题逐项跟踪：诉求量为其涉及社区（本范围内）中一级、二级或三级类别等于该类别的诉求，"
                   "按受理月份计。" + BULLETIN_RULES["problem_verdict"].text)
    end = month_end(month)
    adopted = run("problems/adopted", region, max_rows=db.SUM_ROWS)
    adopted = adopted[pd.to_datetime(adopted["started_on"]).dt.date <= end] if len(adopted) else adopted
    rows = run("bulletin/problem_months", {**region, "end": end}, max_rows=db.SUM_ROWS)
    rows["month"] = pd.to_datetime(rows["month"]).dt.date
    src = link("tickets", region, add_months(month, -11), month)
    if len(adopted):
        out = []
        for _, p in adopted.iterrows():
            g = (rows[rows["batch_id"] == p["batch_id"]].groupby("month")
                 .agg(tickets=("tickets", lambda x: x.sum(min_count=1)), rel_month=("rel_month", "first")))
            out.append({"题目": p["title"], "类别": p["categories"], "牵头单位": p["owner_unit"],
                        "涉及社区": _names(str(p["communities"]).split("、"), 5),
                        "开始": pd.Timestamp(p["started_on"]).strftime("%Y-%m"), **_series(g, month),
                        "状态": _status(p, end)})
        s.items = problems.items_of(adopted)
        t = pd.DataFrame(out)
        counts = t["判定"].str.extract(r"^(好转|持平|反弹)")[0].value_counts()
        s.texts.append(f"已采纳 {len(t)} 项：" + "、".join(f"{k} {counts.get(k, 0)} 项" for k in ("好转", "持平", "反弹"))
                       + "。")
        s.tables.append(Table("每月一题 进展", t, src, [src] * len(t),
                              note="诉求量为各涉及社区之和；“判定”注明所比较的两个月；基线为开始月之前 6 个月中有数据的月份的月均。"))
    others = rows[~rows["batch_id"].isin(adopted["batch_id"] if len(adopted) else [])]
    if len(others):
        out, links = [], []
        for _, g in others.groupby("practice_id", sort=False):
            first = g.iloc[0]
            out.append({"做法": first["practice"], "相关类别": first["related_category"], "社区": first["community"],
                        "开始": pd.Timestamp(first["started_on"]).strftime("%Y-%m"), **_series(g.set_index("month"), month)})
            links.append(link("tickets", {**region, "street": first["street"], "community": first["community"]},
                              add_months(month, -11), month))
        s.texts.append(f"另有 {len(out)} 项登记了相关诉求类别的经验做法（未作为每月一题采纳），按其社区同样跟踪。")
        s.tables.append(Table("其他登记了相关类别的做法（按所属社区）", pd.DataFrame(out), src, links))
    if not s.tables:
        s.texts.append("本范围尚无已确定的每月一题。编辑者可在上方“每月一题 候选”或“诉求办理”页的举一反三部分采纳一题"
                       "（题目、类别、涉及社区、牵头单位、开始日期），此后每月在此跟踪。")
    s.sources = [("诉求办理 · 做法前后与每月一题", src)]
    return s


def _structure(run, region, month) -> Section:
    s = Section("structure", "七、组织与社会组织")
    end, prev_end = month_end(month), month_end(add_months(month, -1))
    org_data = run("coverage/org_data_by_community", {**region}, max_rows=db.SUM_ROWS)
    ids = reporting_ids(org_data)
    C = metrics.coverage(only_reporting(run("coverage/coverage_by_community", {**region, "as_of": end},
                                            max_rows=db.SUM_ROWS), ids))
    Cb = metrics.coverage(only_reporting(run("coverage/coverage_by_community", {**region, "as_of": prev_end},
                                             max_rows=db.SUM_ROWS), ids))
    O = metrics.organisations(run("organizations/orgs_by_community", {**region, "as_of": end}, max_rows=db.SUM_ROWS))
    Ob = metrics.organisations(run("organizations/orgs_by_community", {**region, "as_of": prev_end},
                                   max_rows=db.SUM_ROWS))
    units = {"C1": "个小区", "C2": "栋", "C3": "户", "C4": "栋", "S3": "个社区"}
    rows = []
    for code, now, was, kind in [("C1", C["C1"], Cb["C1"], "rate"), ("C2", C["C2"], Cb["C2"], "rate"),
                                 ("C3", C["C3"], Cb["C3"], "ratio"), ("C4", C["C4"], Cb["C4"], "rate"),
                                 ("S1", O["S1"], Ob["S1"], "count"), ("S3", O["S3"], Ob["S3"], "rate")]:
        if code == "C3":
            counts = f"{fmt_num(now.numerator)} 户中心户 / {fmt_num(now.denominator)} 户"
        elif code == "S1":
            counts = "存续社会组织"
        else:
            counts = f"{fmt_num(now.numerator)} / {fmt_num(now.denominator)} {units[code]}"
        rows.append({"指标": INDICATORS[code].label, f"本月末（{end:%Y-%m-%d}）": format_value(now, kind, 2 if kind == "ratio" else 1),
                     "计数": counts, f"上月末（{prev_end:%Y-%m-%d}）": format_value(was, kind, 2 if kind == "ratio" else 1),
                     "变化": format_delta(now, was, kind) or NA})
    if not ids:
        s.texts.append("所选范围的社区还没有报送组织数据（小区党支部、楼栋党小组、党员中心户），C1–C4 无数据。")
    s.texts.append(
        f"月末小区党支部覆盖率 {fmt_rate(C['C1'].value)}、楼栋党小组覆盖率 {fmt_rate(C['C2'].value)}、"
        f"组织链完整率 {fmt_rate(C['C4'].value)}（上月末 {fmt_rate(Cb['C4'].value)}）；社会组织 {fmt_num(O['S1'].value)} 家"
        f"（上月末 {fmt_num(Ob['S1'].value)} 家），达标社区 {fmt_num(O['S3'].numerator)} / {fmt_num(O['S3'].denominator)} 个。")
    cov_src, org_src = link("coverage", region, month), link("organizations", region, month)
    s.tables.append(Table("组织覆盖与社会组织（月末存量）", pd.DataFrame(rows), None,
                          [cov_src] * 4 + [org_src] * 2,
                          note="组织覆盖只计已报送组织数据的社区；存量按月末日期计（成立日 ≤ 月末且未撤销）。"))
    s.sources = [("组织覆盖 · 本月", cov_src), ("社会组织 · 本月", org_src)]
    return s


def build(run: Run, region: dict, month: dt.date, generated: dt.date | None = None) -> Bulletin:
    """The bulletin of `region` (region parameters, None = all) for `month` (its first day)."""
    region = {k: region.get(k) for k in LEVELS}
    prev, year = add_months(month, -1), add_months(month, -12)
    tix, settings, T = _tickets(run, region, month)
    tix_p, settings_p, Tp = _tickets(run, region, prev)
    _, _, Ty = _tickets(run, region, year)
    chosen = [region[k] for k in LEVELS if region[k]]
    sections = [
        _overview(run, region, month, T, Tp, Ty, settings, tix),
        _ranking(region, month, tix, settings),
        _changes(region, month, tix, tix_p, settings, settings_p, T, Tp),
        _attention(run, region, month, tix),
        _candidates(run, region, month, len(tix)),
        _progress(run, region, month),
        _structure(run, region, month),
    ]
    for section in sections:
        section.tables = [_cut(t) for t in section.tables]
    return Bulletin(scope=chosen[-1] if chosen else "全部社区", scope_path=" › ".join(chosen) or "全部社区",
                    region=region, month=month, generated=generated or dt.date.today(),
                    demo=demo_notice(run("common/lineage")), sections=sections,
                    values={"month": T, "previous": Tp, "year_ago": Ty})


def from_connection(con, region: dict, month: dt.date, scope: Scope = ALL_SCOPE) -> Bulletin:
    """The bulletin from a database connection (the command line: an admin of everything)."""
    return build(lambda name, params=None, max_rows=db.MAX_ROWS: db.run_query(con, name, params, max_rows=max_rows,
                                                                             scope=scope),
                 region, month)


def from_runtime(region_items: tuple, month: dt.date) -> Bulletin:
    """The bulletin inside the dashboard, through its cached query runner (for derived.compute)."""
    from governance import runtime

    return build(runtime.query, dict(region_items), month)


def page_figures(region_items: tuple, month: dt.date) -> list[dict]:
    """Every chart of the dashboard's bulletin, in section and chart order, for derived.figures
    (which keeps them escaped and ready to show, so the page does not escape them on every rerun)."""
    from governance import derived

    b = derived.compute(from_runtime, args=(region_items, month))
    return [c.figure for s in b.sections for c in s.charts]
