"""社区对比: communities chosen from anywhere, side by side, ranked among all communities and among
their peer group (相似社区), with the charts a training class looks at.

The values come from the family queries (coverage_by_community, orgs_by_community,
rates_by_community) run over all communities, plus compare/durations_by_community for T6;
formulas are those of governance.metrics / governance.indicators.

Ranks: a better value gets a smaller rank; ties share the rank (method "min"); a community without
a value is ranked last (after every community with one) with a note, never dropped.
Percentile: the share of the *other* communities with a value that this community is strictly
better than (best alone = 100, worst alone = 0, ties get the same number).

Peer groups: the k nearest communities of the same type (城市/农村 is a hard match: the S3 target
differs by type, so an urban community is never another's rural peer). Distance is Euclidean over
households, residents, buildings and area, each log-transformed (sizes vary by orders of magnitude;
a community twice as big is as far away whether it is small or large) and then standardised over all
communities; a missing feature is left out of that pair's distance, which is rescaled to all features.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from governance import charts, metrics
from governance.indicators import INDICATORS, SMALL_SAMPLE
from governance.labels import NA, fmt_count, fmt_num, fmt_rate, md_escape

MAX_COMMUNITIES = 8
MIN_COMMUNITIES = 2
DEFAULT_K = 5
MAX_K = 15
PEER_FEATURES = ("households", "residents", "buildings", "area_km2")
FEATURE_LABELS = {"households": "户数", "residents": "居民数", "buildings": "楼栋数", "area_km2": "面积（平方公里）"}
SEPARATOR = "/"  # 街道/社区 for a community name shared by several streets
MISSING_NOTE = "无数据，排在最后"
NEUTRAL_NOTE = "按数量从多到少排名，不分好坏"

HIGHER, LOWER, NEUTRAL = "higher", "lower", "neutral"
OTHER = "其他"  # practices that speak to no single family


@dataclass(frozen=True)
class Row:
    """One line of the comparison: an indicator (or a part of one) and how to read it."""

    key: str  # column of the per-community table
    code: str  # indicator code in governance.indicators
    label: str
    kind: str  # rate | ratio | count | target | days | score
    direction: str  # higher | lower | neutral
    numerator: str | None = None  # column holding the count behind the value
    denominator: str | None = None
    unit: str = ""  # unit of the denominator, shown with the counts


def _name(code: str) -> str:
    return f"{code} {INDICATORS[code].name}"


ROWS = [
    Row("C1", "C1", _name("C1"), "rate", HIGHER, "compounds_with_branch", "compounds", "个小区"),
    Row("C2", "C2", _name("C2"), "rate", HIGHER, "buildings_with_group", "buildings", "栋"),
    Row("C3", "C3", _name("C3"), "ratio", HIGHER, "leads", "households", "户"),
    Row("C4", "C4", _name("C4"), "rate", HIGHER, "chain_complete_buildings", "buildings", "栋"),
    Row("S1", "S1", _name("S1"), "count", HIGHER),
    Row("S2", "S2", _name("S2"), "ratio", HIGHER, "active_orgs", "residents", "人"),
    Row("S3", "S3", _name("S3"), "target", HIGHER, "active_orgs", "target", "个"),
    Row("S5", "S5", _name("S5"), "rate", HIGHER, "party_led_orgs", "active_orgs", "家"),
    Row("T1", "T1", "T1 诉求量", "count", NEUTRAL),
    Row("T1k", "T1", "T1 每千居民诉求量", "ratio", NEUTRAL, "tickets", "residents", "人"),
    Row("T2", "T2", _name("T2"), "rate", HIGHER, "contacted", "followups", "件有效回访"),
    Row("T3", "T3", _name("T3"), "rate", HIGHER, "solved", "followups", "件有效回访"),
    Row("T4", "T4", _name("T4"), "rate", HIGHER, "satisfied", "followups", "件有效回访"),
    Row("T6", "T6", "T6 办理时长（中位数）", "days", LOWER, None, "closed", "件已办结"),
    Row("T6p90", "T6", "T6 办理时长（P90）", "days", LOWER, None, "closed", "件已办结"),
    Row("T9", "T9", _name("T9"), "score", HIGHER, None, "followups", "件有效回访"),
]
ROW_BY_KEY = {r.key: r for r in ROWS}
FOLLOWUP_RATES = {"T2", "T3", "T4", "T9"}


# ---------------------------------------------------------------- the communities= URL parameter

def display_names(communities: pd.DataFrame) -> pd.Series:
    """Each community's name as written in the URL: the name alone, or 街道/社区 when several
    streets have a community of that name. Indexed like `communities`."""
    counts = communities["community"].map(communities["community"].value_counts())
    return pd.Series([f"{s}{SEPARATOR}{c}" if n > 1 else c
                      for s, c, n in zip(communities["street"], communities["community"], counts)],
                     index=communities.index)


def parse_communities(raw: str | None, communities: pd.DataFrame,
                      scope_label: str | None = None) -> tuple[list[int], list[str]]:
    """community_ids named in `communities=` (comma-separated names, `街道/社区` where ambiguous),
    in the order given, without repeats, at most MAX_COMMUNITIES; plus notices in Chinese for what
    was left out. URL text is only compared with known names: those inside the user's scope
    (`scope_label` names it when the user does not see everything)."""
    ids: list[int] = []
    notices: list[str] = []
    if not raw:
        return ids, notices
    for token in str(raw).replace("，", ",").split(","):
        token = token.strip()
        if not token:
            continue
        short = md_escape(token[:40])   # shown in a notice, which is markdown
        if len(token) > 100:
            notices.append("链接中有一个社区名称过长，已忽略。")
            continue
        if SEPARATOR in token:
            street, _, name = token.partition(SEPARATOR)
            match = communities[(communities["street"] == street.strip()) & (communities["community"] == name.strip())]
        else:
            match = communities[communities["community"] == token]
        if match.empty:
            notices.append(f"链接中的社区“{short}”不存在，已忽略。" if scope_label is None else
                           f"链接中的社区“{short}”不在您的查看范围（{md_escape(scope_label)}）内，已忽略。")
            continue
        if len(match) > 1:
            streets = "、".join(md_escape(s) for s in sorted(match["street"].unique()))
            notices.append(f"多个街道都有“{short}”（{streets}），请写成“街道/社区”，如“{md_escape(match.iloc[0]['street'])}/{short}”。已忽略。")
            continue
        cid = int(match.iloc[0]["community_id"])
        if cid in ids:
            continue
        if len(ids) >= MAX_COMMUNITIES:
            notices.append(f"最多同时对比 {MAX_COMMUNITIES} 个社区，“{short}”及之后的社区未加入。")
            break
        ids.append(cid)
    return ids, notices


def url_value(ids: list[int], communities: pd.DataFrame) -> str:
    """The `communities=` value that reproduces `ids`."""
    names = dict(zip(communities["community_id"], display_names(communities)))
    return ",".join(names[i] for i in ids if i in names)


# ---------------------------------------------------------------- peer groups

def _scaled_features(features: pd.DataFrame) -> pd.DataFrame:
    """log1p then z-score over all communities; a feature without spread scales to 0."""
    out = pd.DataFrame(index=features["community_id"].to_numpy())
    for col in PEER_FEATURES:
        x = np.log1p(pd.to_numeric(features[col], errors="coerce").astype("float64").to_numpy())
        mu, sd = np.nanmean(x) if np.isfinite(x).any() else 0.0, np.nanstd(x) if np.isfinite(x).any() else 0.0
        out[col] = (x - mu) / sd if sd > 0 else np.where(np.isnan(x), np.nan, 0.0)
    return out


def distances(features: pd.DataFrame, community_id: int) -> pd.Series:
    """Distance from `community_id` to every other community of the same type (NaN when the two
    share no known feature), indexed by community_id."""
    z = _scaled_features(features)
    types = dict(zip(features["community_id"], features["type"]))
    me = z.loc[community_id]
    others = z.drop(index=community_id)
    others = others[[types[i] == types[community_id] for i in others.index]]
    diff = others - me
    known = diff.notna().sum(axis=1)
    sq = (diff ** 2).sum(axis=1, min_count=1)
    d = np.sqrt(sq * len(PEER_FEATURES) / known.where(known > 0))
    return d.astype("float64")


def peers(features: pd.DataFrame, community_id: int, k: int = DEFAULT_K) -> list[int]:
    """The k nearest communities of the same type, nearest first (ties by community_id)."""
    d = distances(features, community_id).dropna()
    # plain floats and ints (not a Series lookup per comparison): thousands of communities at province scale
    order = sorted(zip((round(float(x), 12) for x in d.to_numpy()), (int(i) for i in d.index)))
    return [i for _, i in order[:k]]


# ---------------------------------------------------------------- values, ranks, percentiles

def community_values(cov: pd.DataFrame, orgs: pd.DataFrame, tix: pd.DataFrame, durations: pd.DataFrame,
                     weights: dict | None) -> pd.DataFrame:
    """One row per community: the ROWS values (rates as fractions, NaN = not available) and the
    counts behind them, from the family queries run over all communities."""
    t = metrics.community_table(cov, orgs, tix, weights)
    # S3 is judged only where a target is set (as on the organisations page)
    met = (t["active_orgs"] >= t["target"]).astype("float64")
    t["S3"] = met.where(t["target"].notna())
    t["S5"] = t["party_led_orgs"].astype("float64") / t["active_orgs"].astype("float64").where(t["active_orgs"] > 0)
    d = durations.rename(columns={"median_days": "T6", "p90_days": "T6p90"})
    t = t.merge(d[["community_id", "closed", "T6", "T6p90"]], on="community_id", how="left")
    for col in ("T6", "T6p90"):
        t[col] = pd.to_numeric(t[col], errors="coerce").astype("float64")
    return t


def rank(values: pd.Series, direction: str) -> pd.DataFrame:
    """Rank, group size, percentile and note of each value (index kept).

    higher/neutral: larger is ranked first; lower: smaller first. Ties share the smallest rank.
    Missing values are ranked last (n_valid + 1) with MISSING_NOTE and no percentile.
    """
    v = pd.to_numeric(values, errors="coerce").astype("float64")
    if direction == LOWER:
        v = -v
    x = v.to_numpy()
    missing = np.isnan(x)
    ordered = np.sort(x[~missing])
    n_valid, n = len(ordered), len(x)
    # strictly better / strictly worse counts by binary search in the sorted valid values (one pass
    # for all communities instead of two comparisons with every other community per community)
    better = n_valid - np.searchsorted(ordered, x, side="right")
    worse = np.searchsorted(ordered, x, side="left")
    note = NEUTRAL_NOTE if direction == NEUTRAL else ""
    out = pd.DataFrame({
        "rank": pd.array(np.where(missing, n_valid + 1, better + 1).tolist(), dtype=object),
        "n": pd.array([n] * n, dtype=object),
        "percentile": pd.array([None if m or n_valid <= 1 else 100.0 * int(w) / (n_valid - 1)
                                for m, w in zip(missing, worse)], dtype=object),
        "note": pd.array([MISSING_NOTE if m else note for m in missing], dtype=object),
    }, index=v.index)
    return out


def _rank_in(ordered: np.ndarray, n: int, x: float, direction: str) -> tuple:
    """rank(), for one value `x` (already negated for LOWER) among a population of `n` whose valid
    values, sorted, are `ordered`: (rank, n, percentile, note), as rank() gives it."""
    n_valid = len(ordered)
    if math.isnan(x):
        return n_valid + 1, n, None, MISSING_NOTE
    better = n_valid - int(np.searchsorted(ordered, x, side="right"))
    worse = int(np.searchsorted(ordered, x, side="left"))
    pct = 100.0 * worse / (n_valid - 1) if n_valid > 1 else None
    return better + 1, n, pct, NEUTRAL_NOTE if direction == NEUTRAL else ""


def comparison(values: pd.DataFrame, chosen: list[int], peer_groups: dict[int, list[int]]) -> pd.DataFrame:
    """Long table, one row per (chosen community, indicator row): value, counts, rank and percentile
    among all communities and among its peer group (itself + its peers), notes, and whether it is the
    best of the chosen communities. Order: ROWS, then the chosen order."""
    v = values.set_index("community_id")
    pos = {cid: i for i, cid in enumerate(v.index)}
    groups = {cid: [cid] + [p for p in peer_groups.get(cid, []) if p in pos] for cid in chosen}
    out = []
    for row in ROWS:
        # one sorted array per indicator; each chosen community is ranked in it by binary search
        # (ranking all 5,000 communities one by one on every rerun took seconds at province scale)
        x = pd.to_numeric(v[row.key], errors="coerce").astype("float64").to_numpy()
        if row.direction == LOWER:
            x = -x
        ordered = np.sort(x[~np.isnan(x)])
        best_ids: set[int] = set()
        if row.direction != NEUTRAL:
            chosen_vals = pd.to_numeric(v.loc[chosen, row.key], errors="coerce").astype("float64").dropna()
            if len(chosen_vals):
                target = chosen_vals.max() if row.direction == HIGHER else chosen_vals.min()
                best_ids = {int(i) for i in chosen_vals.index[np.isclose(chosen_vals, target, rtol=0, atol=1e-12)]}
        for cid in chosen:
            mine_x = float(x[pos[cid]])
            gx = x[[pos[g] for g in groups[cid]]]
            rank_all, n_all, pct_all, note = _rank_in(ordered, len(x), mine_x, row.direction)
            rank_peer, n_peer, pct_peer, _ = _rank_in(np.sort(gx[~np.isnan(gx)]), len(gx), mine_x, row.direction)
            value = v.at[cid, row.key]
            value = None if pd.isna(value) else float(value)
            notes = [note] if note else []
            den = None if row.denominator is None else v.at[cid, row.denominator]
            den = None if den is None or pd.isna(den) else float(den)
            num = None if row.numerator is None else v.at[cid, row.numerator]
            num = None if num is None or pd.isna(num) else float(num)
            if row.key in FOLLOWUP_RATES and den is not None and 0 < den < SMALL_SAMPLE:
                notes.append(f"样本少（{den:.0f} 件 < {SMALL_SAMPLE}）")
            out.append(dict(
                community_id=cid, key=row.key, code=row.code, indicator=row.label, family=INDICATORS[row.code].family,
                value=value, numerator=num, denominator=den,
                rank_all=rank_all, n_all=n_all, pct_all=pct_all,
                rank_peer=rank_peer, n_peer=n_peer, pct_peer=pct_peer,
                best=cid in best_ids, note="；".join(notes),
            ))
    return pd.DataFrame(out)


# ---------------------------------------------------------------- words

def value_text(row: Row, value, num, den, units: bool = True) -> str:
    """The value with the counts behind it: '87.5%（77/88 栋）', '无数据（0 件有效回访）' (without
    `units`: '87.5%（77/88）', for the projector)."""
    value, num, den = (None if x is None or pd.isna(x) else float(x) for x in (value, num, den))
    counts = ""
    if row.denominator is not None and den is not None:
        if row.numerator is not None and num is not None:
            counts = f"（{fmt_count(num)}/{fmt_num(den)}" + (f" {row.unit}）" if units else "）")
        else:
            counts = f"（{fmt_num(den)}" + (f" {row.unit}）" if units else "）")
    if value is None:
        return NA + counts
    if row.kind == "rate":
        return fmt_rate(value) + counts
    if row.kind == "ratio":
        return fmt_num(value, 2) + counts
    if row.kind == "count":
        return fmt_num(value)
    if row.kind == "target":
        sign = "≥" if value >= 1 else "<"
        return ("达标" if value >= 1 else "未达标") + f"（{fmt_num(num)} {sign} {fmt_num(den)} 个）"
    if row.kind == "days":
        return f"{value:.1f} 天" + counts
    return f"{value:.1f} 分" + counts


def rank_text(rank_: int, n: int, pct, note: str = "", short: bool = False) -> str:
    """'3/33 · 优于 94%' (a count without a good direction: '多于'); a missing value: '33/33 · 无数据'."""
    if MISSING_NOTE in (note or ""):
        return f"{rank_}/{n} · 无数据"
    if short or pct is None or pd.isna(pct):
        return f"{rank_}/{n}"
    word = "多于" if NEUTRAL_NOTE in (note or "") else "优于"
    return f"{rank_}/{n} · {word} {pct:.0f}%"


def rank_column(name: str) -> str:
    return f"{name} 名次"


def side_by_side(comp: pd.DataFrame, names: dict[int, str], chosen: list[int],
                 practices: pd.DataFrame | None = None, compact: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The table shown: one line per indicator, per community its value (with counts) and its rank
    among all communities and in its peer group (a column of two lines with percentiles, or with
    `compact` a second line in the value's cell, for the projector); after each family a line with that family's practices.
    Returns (table, best) where `best` marks the cells to highlight."""
    ranks = not compact
    lines, marks = [], []
    fam_of = {r.key: INDICATORS[r.code].family for r in ROWS}
    families = list(dict.fromkeys(fam_of.values()))
    by_key = {(r.community_id, r.key): r for r in comp.itertuples(index=False)}
    for fam in families:
        for row in [r for r in ROWS if fam_of[r.key] == fam]:
            line, mark = {"指标": row.label}, {"指标": False}
            for cid in chosen:
                c = by_key[(cid, row.key)]
                name = names[cid]
                text = ("★ " if c.best else "") + value_text(row, c.value, c.numerator, c.denominator, not compact)
                if compact:
                    text += (f"｜全部 {rank_text(c.rank_all, c.n_all, None, c.note, short=True)}"
                             f" · 相似组 {rank_text(c.rank_peer, c.n_peer, None, c.note, short=True)}")
                line[name] = text
                mark[name] = bool(c.best)
                if ranks:
                    line[rank_column(name)] = (f"全部 {rank_text(c.rank_all, c.n_all, c.pct_all, c.note)}\n"
                                               f"相似组 {rank_text(c.rank_peer, c.n_peer, c.pct_peer, c.note)}")
                    mark[rank_column(name)] = False
            lines.append(line)
            marks.append(mark)
        if practices is not None:
            line, mark = {"指标": f"{fam} · 经验做法"}, {"指标": False}
            for cid in chosen:
                mine = practices[(practices["community_id"] == cid) & (practices["family"] == fam)]
                name = names[cid]
                line[name] = "；".join(f"{pd.Timestamp(p.started_on):%Y-%m} {p.practice}" for p in mine.itertuples()) or "—"
                mark[name] = False
                if ranks:
                    line[rank_column(name)], mark[rank_column(name)] = "", False
            lines.append(line)
            marks.append(mark)
    if practices is not None and (practices["family"] == OTHER).any():
        line, mark = {"指标": f"{OTHER} · 经验做法"}, {"指标": False}
        for cid in chosen:
            mine = practices[(practices["community_id"] == cid) & (practices["family"] == OTHER)]
            line[names[cid]] = "；".join(f"{pd.Timestamp(p.started_on):%Y-%m} {p.practice}" for p in mine.itertuples()) or "—"
            mark[names[cid]] = False
            if ranks:
                line[rank_column(names[cid])], mark[rank_column(names[cid])] = "", False
        lines.append(line)
        marks.append(mark)
    return pd.DataFrame(lines), pd.DataFrame(marks)


def export_frame(comp: pd.DataFrame, communities: pd.DataFrame, peer_groups: dict[int, list[int]]) -> pd.DataFrame:
    """The comparison as a flat table with Chinese headings (CSV and Excel)."""
    info = communities.set_index("community_id")
    names = dict(zip(communities["community_id"], communities["community"]))
    rows = []
    for r in comp.itertuples(index=False):
        spec = ROW_BY_KEY[r.key]
        rows.append({
            "街道": info.at[r.community_id, "street"], "社区": info.at[r.community_id, "community"],
            "指标族": r.family, "指标代码": r.code, "指标": r.indicator,
            "值": None if r.value is None else (round(r.value * 100, 2) if spec.kind == "rate" else round(r.value, 4)),
            "单位": "%" if spec.kind == "rate" else INDICATORS[r.code].unit,
            "显示": value_text(spec, r.value, r.numerator, r.denominator),
            "分子": r.numerator, "分母": r.denominator,
            "全部社区名次": r.rank_all, "全部社区数": r.n_all,
            "全部社区百分位": None if r.pct_all is None or pd.isna(r.pct_all) else round(float(r.pct_all), 1),
            "相似组名次": r.rank_peer, "相似组社区数": r.n_peer,
            "相似组百分位": None if r.pct_peer is None or pd.isna(r.pct_peer) else round(float(r.pct_peer), 1),
            "所选社区中最佳": "是" if r.best else "",
            "相似社区": "、".join(names[p] for p in peer_groups.get(r.community_id, [])),
            "说明": r.note,
        })
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- practices

# Which family a practice speaks to: a practice with a related ticket category belongs with the
# ticket rates; otherwise words of its title decide (a heuristic, shown as such on the page).
_C_WORDS = ("党支部", "党小组", "中心户", "党委", "组织链", "党建")
_S_WORDS = ("社会组织", "联盟", "志愿", "合伙人", "公益")


def practice_family(practice: str, related_category) -> str:
    if isinstance(related_category, str) and related_category:
        return INDICATORS["T3"].family
    text = str(practice)
    if any(w in text for w in _C_WORDS):
        return INDICATORS["C1"].family
    if any(w in text for w in _S_WORDS):
        return INDICATORS["S1"].family
    return OTHER


def with_family(practices: pd.DataFrame) -> pd.DataFrame:
    out = practices.copy()
    out["family"] = [practice_family(p, c) for p, c in zip(out["practice"], out["related_category"])]
    return out


# ---------------------------------------------------------------- charts

RADAR_KEYS = [r.key for r in ROWS if r.direction != NEUTRAL and r.key != "T6p90"]


def radar_figure(comp: pd.DataFrame, names: dict[int, str], chosen: list[int], height: int = 480) -> go.Figure:
    """Each community's percentile among all communities on every ranked indicator (0 = worst,
    100 = best, whatever the indicator's direction), on one radar: the same axes for everyone."""
    fig = go.Figure()
    # short lines (a name of 8 characters on two lines of 4): on a phone long labels were cut at both sides
    names_ = [ROW_BY_KEY[k].label.split(" ", 1)[1].replace("（中位数）", "") for k in RADAR_KEYS]
    axis = [n if len(n) <= 5 else n[:len(n) // 2 + len(n) % 2] + "<br>" + n[len(n) // 2 + len(n) % 2:] for n in names_]
    for i, cid in enumerate(chosen):
        mine = comp[comp["community_id"] == cid].set_index("key")
        r = [None if pd.isna(mine.at[k, "pct_all"]) else float(mine.at[k, "pct_all"]) for k in RADAR_KEYS]
        fig.add_trace(go.Scatterpolar(
            r=r + r[:1], theta=axis + axis[:1], name=names[cid], mode="lines+markers",
            line=dict(color=charts.PALETTE[i % len(charts.PALETTE)], width=2), connectgaps=False,
            hovertemplate="%{theta}：优于 %{r:.0f}% 的社区<extra>%{fullData.name}</extra>",
        ))
    charts.base_layout(fig, "各指标在全部社区中的百分位（越靠外越好）", height=height)
    fig.update_layout(polar=dict(radialaxis=dict(range=[0, 100], tickvals=[0, 25, 50, 75, 100], ticksuffix="%",
                                                 angle=90, tickfont=dict(size=10))),
                      legend=dict(orientation="h", yanchor="top", y=-0.05, xanchor="center", x=0.5),
                      margin=dict(l=70, r=70, t=60, b=40))
    fig.update_polars(angularaxis=dict(tickfont=dict(size=12)))
    return fig


TREND_CODES = ("T2", "T3", "T4")


def trends_figure(monthly: dict[int, pd.DataFrame], names: dict[int, str], chosen: list[int],
                  practices: pd.DataFrame, first, last, height: int = 640) -> go.Figure:
    """Small multiples: monthly T2, T3, T4 (one panel each, the same 0-100% axis), one line per
    community, with each community's dated practices marked across the panels."""
    from governance.tickets import RATES

    fig = make_subplots(rows=len(TREND_CODES), cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=[_name(c) for c in TREND_CODES])
    for i, cid in enumerate(chosen):
        m = monthly.get(cid)
        if m is None or m.empty:
            continue
        x = pd.to_datetime(m["month"])
        n = m["followups"].astype("float64")
        color = charts.PALETTE[i % len(charts.PALETTE)]
        for j, code in enumerate(TREND_CODES):
            k = m[RATES[code]].astype("float64")
            fig.add_trace(go.Scatter(
                x=x, y=k / n.where(n > 0) * 100, mode="lines+markers", name=names[cid], legendgroup=str(cid),
                showlegend=j == 0, line=dict(color=color, width=2), marker=dict(size=5), connectgaps=False,
                customdata=np.stack([k, n], axis=1),
                hovertemplate="%{x|%Y-%m}：%{y:.1f}%（%{customdata[0]:.1f} / %{customdata[1]:.0f} 件有效回访）"
                              f"<extra>{code}</extra>",
            ), row=j + 1, col=1)
    charts.base_layout(fig, None, height=height)
    for j in range(len(TREND_CODES)):
        fig.update_yaxes(range=[0, 105], ticksuffix="%", row=j + 1, col=1)
    charts.month_axis(fig, first, last)
    fig.update_layout(margin=dict(l=10, r=10, t=40, b=10))
    if practices is not None and not practices.empty:
        p = practices[(pd.to_datetime(practices["started_on"]) >= pd.Timestamp(first))
                      & (pd.to_datetime(practices["started_on"]) <= pd.Timestamp(last) + pd.offsets.MonthEnd(0))]
        charts.mark_practices(fig, p, with_community=True)
        # a label near the right edge reads leftwards from its line instead of running off the chart
        middle = pd.Timestamp(first) + (pd.Timestamp(last) - pd.Timestamp(first)) / 2
        for note in fig.layout.annotations:
            if note.xref == "x" and pd.Timestamp(note.x) > middle:
                note.xanchor = "right"
    return fig
