"""Organisational coverage (C1-C6): where the chain 社区党委 → 小区党支部 → 楼栋党小组 → 党员中心户
stops, the 条例 checks on branches, coverage month by month, and the pictures of the chain.

The queries in queries/coverage/ return numerators and denominators; this module sums them,
labels them in Chinese and draws them. Rates are ratios of sums (governance.metrics), never
averages of rates, and a zero denominator gives None ("无数据"), never 0%.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from governance import charts
from governance.indicators import INDICATORS
from governance.labels import NA, OWN_MARKUP, fmt_count_rate, fmt_num
from governance.periods import month_end
from governance.stats import rate

# Where a building's chain stops, top to bottom; the first missing link names the status.
STATUS_ORDER = ["no_branch", "no_group", "no_lead", "complete"]
STATUS_LABELS = {
    "no_branch": "小区无党支部",
    "no_group": "无楼栋党小组",
    "no_lead": "无党员中心户",
    "complete": "链条完整",
}
STATUS_COLORS = {
    "no_branch": "#C0392B",
    "no_group": "#E67E22",
    "no_lead": "#F4D03F",
    "complete": "#28B463",
}
NO_BUILDINGS_COLOR = "#BDC3C7"
# Above this many buildings the picture shows each compound's buildings grouped by status.
MAX_TREE_BUILDINGS = 150
# Above this many communities the picture shows the ones with the lowest C4 only (with a note): a
# street's communities fit; a city's 50 worst drew about 1,000 tiles, 0.7 s of the browser's main thread
# on every load of the page, and could not be read anyway
MAX_TREE_COMMUNITIES = 20
# Practices marked on the coverage-over-time chart: the most recently started ones.
MAX_MARKED_PRACTICES = 12
# How many communities may be put side by side.
MAX_SIDE_BY_SIDE = 3


@dataclass(frozen=True)
class Rule:
    code: str
    text: str  # the rule the branch breaks, in the words of the regulations
    advice: str


# 《中国共产党支部工作条例（试行）》; the thresholds are bound into queries/coverage/branch_checks.sql.
MIN_MEMBERS = 3
COMMITTEE_FROM = 7
GENERAL_BRANCH_OVER = 50
PARTY_COMMITTEE_OVER = 100
RULES = {r.code: r for r in [
    Rule("too_few", f"正式党员不足 {MIN_MEMBERS} 人", f"有正式党员 {MIN_MEMBERS} 人以上的才成立党支部；可与相邻小区联合设立"),
    Rule("no_committee", f"正式党员 {COMMITTEE_FROM} 人及以上，未设支部委员会", "应设立支部委员会（支委会）"),
    Rule("over_50", f"党员超过 {GENERAL_BRANCH_OVER} 人", f"党支部党员一般不超过 {GENERAL_BRANCH_OVER} 人；"
         f"{GENERAL_BRANCH_OVER}–{PARTY_COMMITTEE_OVER} 人应设党总支"),
    Rule("over_100", f"党员超过 {PARTY_COMMITTEE_OVER} 人", "应设立党委"),
]}


def rule_params() -> dict:
    """The thresholds of RULES as the bound parameters of branch_checks.sql."""
    return {"min_members": MIN_MEMBERS, "committee_from": COMMITTEE_FROM,
            "general_over": GENERAL_BRANCH_OVER, "committee_over": PARTY_COMMITTEE_OVER}


# ---------------------------------------------------------------- reporting communities

def reporting_ids(org_data: pd.DataFrame) -> set[int]:
    """Communities that have any organisation record (branch, group or lead) at any date."""
    return set(org_data.loc[org_data["org_rows"] > 0, "community_id"].astype(int))


def silent_communities(org_data: pd.DataFrame) -> list[str]:
    """Names of the communities without any organisation record: shown as 未报送, never as 0%."""
    return org_data.loc[org_data["org_rows"] == 0, "community"].tolist()


def only_reporting(df: pd.DataFrame, ids: set[int]) -> pd.DataFrame:
    return df[df["community_id"].astype(int).isin(ids)]


# ---------------------------------------------------------------- tables

def _rate_cell(num, den, scale: float = 1.0) -> str:
    r = rate(num, den)
    if r is None:
        return f"{NA}（{fmt_num(num)}/{fmt_num(den)}）"
    if scale == 1.0:
        return fmt_count_rate(num, den, r)
    return f"{r * scale:.2f}（{fmt_num(num)}/{fmt_num(den)}）"


def community_table(cov: pd.DataFrame, org_data: pd.DataFrame, checks: pd.DataFrame) -> pd.DataFrame:
    """One row per community with C1-C5 as text with their counts and the C6 count, worst first.

    Communities that never reported organisation data come first, marked 未报送, with no rates.
    """
    t = cov.merge(org_data[["community_id", "org_rows"]], on="community_id", how="left")
    n_checks = checks.groupby("community_id")["branch_id"].nunique() if len(checks) else pd.Series(dtype=int)
    t["c6"] = t["community_id"].map(n_checks).fillna(0).astype(int)
    reporting = t["org_rows"].fillna(0) > 0
    t["_c4"] = (t["chain_complete_buildings"] / t["buildings"].where(t["buildings"] > 0)).where(reporting)
    t["_c1"] = (t["compounds_with_branch"] / t["compounds"].where(t["compounds"] > 0)).where(reporting)
    t["_reporting"] = reporting
    t = t.sort_values(["_reporting", "_c4", "_c1", "community"], na_position="first", kind="stable")

    def cells(r):
        if not r["_reporting"]:
            return dict(C1="未报送", C2="未报送", C3="未报送", C4="未报送", 支部="—", 党小组="—", 中心户="—",
                        党员="—", 条例问题="—")
        return dict(
            C1=_rate_cell(r["compounds_with_branch"], r["compounds"]),
            C2=_rate_cell(r["buildings_with_group"], r["buildings"]),
            C3=_rate_cell(r["leads"], r["households"], 100),
            C4=_rate_cell(r["chain_complete_buildings"], r["buildings"]),
            支部=fmt_num(r["branches"]), 党小组=fmt_num(r["groups"]), 中心户=fmt_num(r["leads"]),
            党员=fmt_num(r["members"]), 条例问题=fmt_num(r["c6"]),
        )

    body = pd.DataFrame([cells(r) for r in t.to_dict("records")], index=t.index)
    out = pd.concat([t[["street", "community", "compounds", "buildings", "households"]], body], axis=1)
    return out.rename(columns={"street": "街道", "community": "社区", "compounds": "小区",
                               "buildings": "楼栋", "households": "户数"}).reset_index(drop=True)


def community_table_for(cov: pd.DataFrame, org_data: pd.DataFrame, checks: pd.DataFrame) -> pd.DataFrame:
    """community_table with the C6 checks of reporting communities only, straight from the three
    queries (so that the page can cache it per selection: governance.derived)."""
    return community_table(cov, org_data, only_reporting(checks, reporting_ids(org_data)))


def gap_text(row) -> str:
    if row["kind"] == "compound":
        return STATUS_LABELS["no_branch"]
    parts = []
    if row["missing_group"]:
        parts.append(STATUS_LABELS["no_group"])
    if row["missing_lead"]:
        parts.append(STATUS_LABELS["no_lead"])
    text = "、".join(parts)
    if not row["compound_has_branch"]:
        text += "（所在小区无党支部）"
    return text


def gap_table(gaps: pd.DataFrame) -> pd.DataFrame:
    """The gap list in Chinese columns, for the page and the CSV download."""
    cols = ["街道", "社区", "小区", "楼栋", "缺口", "涉及楼栋", "涉及户数"]
    if gaps.empty:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame({
        "街道": gaps["street"],
        "社区": gaps["community"],
        "小区": gaps["compound"],
        "楼栋": gaps["building"].where(gaps["kind"] == "building", "（整个小区）"),
        "缺口": gaps.apply(gap_text, axis=1),
        "涉及楼栋": gaps["buildings"].astype(int),
        "涉及户数": gaps["households"].astype("Int64"),
    })
    return out[cols].reset_index(drop=True)


def gap_summary(gaps: pd.DataFrame) -> dict[str, int]:
    comp = gaps[gaps["kind"] == "compound"]
    bld = gaps[gaps["kind"] == "building"]
    return {
        "compounds_no_branch": len(comp),
        "buildings_in_them": int(comp["buildings"].sum()) if len(comp) else 0,
        "buildings_no_group": int(bld["missing_group"].fillna(False).astype(bool).sum()),
        "buildings_no_lead": int(bld["missing_lead"].fillna(False).astype(bool).sum()),
    }


def check_table(checks: pd.DataFrame) -> pd.DataFrame:
    """C6: each branch with the rule it breaks and what the regulations ask."""
    cols = ["街道", "社区", "小区", "支部", "党员数", "支委会", "违反的规定", "应当"]
    if checks.empty:
        return pd.DataFrame(columns=cols)
    committee = checks["has_committee"].map({True: "已设", False: "未设"}).fillna("未登记")
    return pd.DataFrame({
        "街道": checks["street"], "社区": checks["community"], "小区": checks["compound"].fillna("—"),
        "支部": checks["branch"], "党员数": checks["members"].astype(int), "支委会": committee,
        "违反的规定": checks["rule"].map(lambda c: RULES[c].text),
        "应当": checks["rule"].map(lambda c: RULES[c].advice),
    })[cols].reset_index(drop=True)


# ---------------------------------------------------------------- over time

def monthly_totals(monthly: pd.DataFrame) -> pd.DataFrame:
    """Sum per-community monthly rows (or coverage_monthly_totals rows) per month and add C1-C4 (fractions; C3 per 100 households; NaN = 无数据)."""
    sums = ["households", "compounds", "compounds_with_branch", "buildings", "buildings_with_group",
            "chain_complete_buildings", "branches", "groups", "leads", "members"]
    t = monthly.groupby("month", as_index=False)[sums].sum().sort_values("month")

    def ratio(num, den, scale=1.0):
        return [None if (r := rate(n, d)) is None else r * scale for n, d in zip(t[num], t[den])]

    t["C1"] = ratio("compounds_with_branch", "compounds")
    t["C2"] = ratio("buildings_with_group", "buildings")
    t["C3"] = ratio("leads", "households", 100)
    t["C4"] = ratio("chain_complete_buildings", "buildings")
    for c in ["C1", "C2", "C3", "C4"]:
        t[c] = pd.to_numeric(t[c], errors="coerce")
    return t.reset_index(drop=True)


def over_time_figure(totals: pd.DataFrame, practices: pd.DataFrame, first: dt.date, last: dt.date,
                     with_community: bool) -> go.Figure:
    """C1, C2, C4 (%) above, C3 (per 100 households) below, month ends; practices marked."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1, row_heights=[0.62, 0.38])
    x = pd.to_datetime(totals["month"])
    pairs = {"C1": ("compounds_with_branch", "compounds", "个小区"),
             "C2": ("buildings_with_group", "buildings", "栋楼"),
             "C4": ("chain_complete_buildings", "buildings", "栋楼")}
    colors = {"C1": charts.PALETTE[0], "C2": charts.PALETTE[1], "C4": charts.PALETTE[2], "C3": charts.PALETTE[4]}
    for code, (num, den, unit) in pairs.items():
        fig.add_trace(go.Scatter(
            x=x, y=totals[code] * 100, name=INDICATORS[code].label, mode="lines+markers",
            line=dict(color=colors[code], width=2), marker=dict(size=5),
            customdata=totals[[num, den]].to_numpy(),
            hovertemplate="%{x|%Y-%m} 月末<br>%{y:.1f}%（%{customdata[0]:,} / %{customdata[1]:,} " + unit
                          + "）<extra>" + INDICATORS[code].label + "</extra>",
        ), row=1, col=1)
    fig.add_trace(go.Scatter(
        x=x, y=totals["C3"], name=INDICATORS["C3"].label, mode="lines+markers",
        line=dict(color=colors["C3"], width=2), marker=dict(size=5),
        customdata=totals[["leads", "households"]].to_numpy(),
        hovertemplate="%{x|%Y-%m} 月末<br>%{y:.2f} 户/百户（%{customdata[0]:,} 户中心户 / %{customdata[1]:,} 户）"
                      "<extra>" + INDICATORS["C3"].label + "</extra>",
    ), row=2, col=1)
    charts.base_layout(fig, None, height=520)
    fig.update_layout(margin=dict(l=10, r=10, t=60, b=10), legend=dict(y=1.06))
    fig.update_yaxes(title="覆盖率（%）", rangemode="tozero", ticksuffix="%", row=1, col=1)
    fig.update_yaxes(title="户/百户", rangemode="tozero", row=2, col=1)
    charts.month_axis(fig, first, last)
    charts.mark_practices(fig, latest_practices(practices_in_window(practices, first, last)),
                          with_community=with_community)
    return fig


def latest_practices(practices: pd.DataFrame, n: int = MAX_MARKED_PRACTICES) -> pd.DataFrame:
    """The `n` most recently started practices, in their original order (the ones the chart marks)."""
    if len(practices) <= n:
        return practices
    keep = pd.to_datetime(practices["started_on"]).sort_values(kind="stable").index[-n:]
    return practices[practices.index.isin(keep)]


def practices_in_window(practices: pd.DataFrame, first: dt.date, last: dt.date) -> pd.DataFrame:
    if practices.empty:
        return practices
    started = pd.to_datetime(practices["started_on"])
    return practices[(started >= pd.Timestamp(first)) & (started <= pd.Timestamp(month_end(last)))]


# ---------------------------------------------------------------- the chain as a picture

def funnel_counts(by_compound: pd.DataFrame) -> list[tuple[str, int]]:
    """Buildings passing each link of the chain, top to bottom (the last stage is C4's numerator)."""
    n = by_compound.groupby("status")["buildings"].sum() if len(by_compound) else pd.Series(dtype=int)
    get = lambda s: int(n.get(s, 0))
    total = sum(get(s) for s in STATUS_ORDER)
    with_branch = total - get("no_branch")
    with_group = with_branch - get("no_group")
    return [("楼栋总数", total), ("所在小区有党支部", with_branch), ("且本楼有楼栋党小组", with_group),
            ("且有党员中心户（链条完整）", get("complete"))]


def funnel_figure(by_compound: pd.DataFrame, height: int = 340) -> go.Figure:
    """The buildings reached by each link of the chain, as bars from the top link down; each bar's
    words sit above it so that a narrow column keeps them whole."""
    stages = funnel_counts(by_compound)
    total = stages[0][1]
    names = [s for s, _ in stages]
    fig = go.Figure(go.Bar(
        y=names, x=[n for _, n in stages], orientation="h", width=0.34,
        marker=dict(color=["#5D6D7E", "#5499C7", "#7FB3D5", STATUS_COLORS["complete"]]),
        hovertemplate="%{y}：%{x:,} 栋<extra></extra>",
    ))
    for name, n in stages:
        r = rate(n, total)
        fig.add_annotation(x=0, y=name, xref="x", yref="y", xanchor="left", yanchor="bottom", yshift=15,
                           showarrow=False, font=dict(size=13, color="#2C3E50"),
                           text=f"{name}：{n:,} 栋（{NA if r is None else f'{r:.0%}'}）")
    charts.base_layout(fig, "组织链条逐级到达的楼栋", height=height)
    fig.update_layout(margin=dict(l=10, r=10, t=50, b=10), showlegend=False)
    fig.update_xaxes(visible=False, range=[0, max(total, 1) * 1.02])
    fig.update_yaxes(autorange="reversed", showticklabels=False, title=None)
    return fig


def _legend(fig: go.Figure) -> None:
    """The four statuses as one line of text above the treemap (a single annotation: it wraps as
    text instead of four pieces running into each other on a narrow screen)."""
    keys = [f"<span style='color:{STATUS_COLORS[code]}'>■</span> {STATUS_LABELS[code]}" for code in STATUS_ORDER]
    text = "　".join(keys[:2]) + "<br>" + "　".join(keys[2:])
    fig.add_annotation(x=0, y=1.0, xref="paper", yref="paper", xanchor="left", yanchor="bottom",
                       showarrow=False, text=text, font=dict(size=12), align="left", name=OWN_MARKUP)


def worst_communities(by_compound: pd.DataFrame, n: int) -> pd.DataFrame:
    """The chain_by_compound rows of the `n` communities with the lowest C4 (chain-complete share of
    buildings; communities without buildings first, then by name), for pictures of large selections."""
    per = (by_compound.assign(complete=by_compound["buildings"].where(by_compound["status"] == "complete", 0))
           .groupby(["community_id", "community"], as_index=False, sort=False)[["buildings", "complete"]].sum())
    per["_c4"] = per["complete"] / per["buildings"].where(per["buildings"] > 0)
    keep = per.sort_values(["_c4", "community"], na_position="first", kind="stable").head(n)["community_id"]
    return by_compound[by_compound["community_id"].isin(keep)]


def tree_figure(root_label: str, by_compound: pd.DataFrame, buildings: pd.DataFrame | None = None,
                height: int = 560) -> go.Figure:
    """Treemap community → compound → building (or buildings grouped by status when there are
    too many to read), each building coloured by where its chain stops.

    `buildings` (chain_buildings rows) gives one tile per building; None groups them by status.
    Communities become a level of their own when the selection holds several. Built column-wise
    (no loop over rows), so thousands of compounds take milliseconds; callers cap what they pass.
    """
    communities = by_compound[["community_id", "community"]].drop_duplicates()
    multi = len(communities) > 1
    # _a, _b, _c: the order of the nodes (community, compound within it, tile within that; -1 = none)
    frames = [pd.DataFrame(dict(ids=["root"], labels=[root_label], parents=[""], values=[0], colors=["#EAECEE"],
                                hover=[""], _a=[-1], _b=[-1], _c=[-1]))]
    if multi:
        frames.append(pd.DataFrame(dict(
            ids="c" + communities["community_id"].astype(str), labels=communities["community"].astype(str),
            parents="root", values=0, colors="#EAECEE", hover="", _a=range(len(communities)), _b=-1, _c=-1)))
    # compounds, in order of first appearance within each community
    comp = by_compound.groupby(["community_id", "compound_id"], sort=False).agg(
        compound=("compound", "first"), has_branch=("compound_has_branch", "first"), n_bld=("buildings", "sum"))
    comp = comp.reset_index()
    order = {cid: i for i, cid in enumerate(communities["community_id"])}
    comp = comp.assign(_o=comp["community_id"].map(order)).sort_values("_o", kind="stable")
    comp["_n"] = range(len(comp))
    comp_no = dict(zip(comp["compound_id"], comp["_n"]))
    n_bld = comp["n_bld"].astype(int)
    has_branch = comp["has_branch"].astype(bool)
    frames.append(pd.DataFrame(dict(
        ids="p" + comp["compound_id"].astype(str), labels=comp["compound"].astype(str),
        parents=("c" + comp["community_id"].astype(str)) if multi else "root",
        values=(n_bld == 0).astype(int), colors=has_branch.map({True: "#D5D8DC", False: "#F5B7B1"}),
        hover=has_branch.map({True: "有党支部", False: "无党支部"}) + "，" + n_bld.astype(str) + " 栋楼",
        _a=comp["_o"], _b=comp["_n"], _c=-1)))
    if buildings is None:
        r = by_compound.assign(_o=by_compound["community_id"].map(order))
        r = r[r["buildings"].fillna(0) > 0].sort_values("_o", kind="stable")
        r = r[r["compound_id"].isin(comp.loc[n_bld > 0, "compound_id"])]
        nb = r["buildings"].astype(int)
        frames.append(pd.DataFrame(dict(
            ids="s" + r["compound_id"].astype(str) + ":" + r["status"], labels=nb.astype(str) + " 栋",
            parents="p" + r["compound_id"].astype(str), values=nb, colors=r["status"].map(STATUS_COLORS),
            hover=r["status"].map(STATUS_LABELS) + "；" + r["households"].map(lambda h: f"{int(h):,}") + " 户",
            _a=r["_o"], _b=r["compound_id"].map(comp_no), _c=range(len(r)))))
    else:
        b = buildings
        frames.append(pd.DataFrame(dict(
            ids="b" + b["building_id"].astype(str), labels=b["building"].astype(str),
            parents="p" + b["compound_id"].astype(str), values=1, colors=b["status"].map(STATUS_COLORS),
            hover=b["status"].map(STATUS_LABELS) + "；" + b["households"].map(fmt_num) + " 户，党员中心户 "
                  + b["leads"].astype(int).astype(str) + " 户",
            _a=len(communities), _b=-1, _c=range(len(b)))))   # after every compound, in their order
    t = pd.concat(frames, ignore_index=True).sort_values(["_a", "_b", "_c"], kind="stable")
    fig = go.Figure(go.Treemap(
        ids=t["ids"].tolist(), labels=t["labels"].tolist(), parents=t["parents"].tolist(),
        values=[int(v) for v in t["values"]], branchvalues="remainder",
        marker=dict(colors=t["colors"].tolist(), line=dict(color="white", width=1)),
        customdata=t["hover"].tolist(), hovertemplate="%{currentPath}%{label}<br>%{customdata}<extra></extra>",
        textinfo="label", tiling=dict(pad=2), pathbar=dict(visible=True),
        root=dict(color="#EAECEE"),
    ))
    charts.base_layout(fig, None, height=height)
    fig.update_layout(margin=dict(l=4, r=4, t=52, b=4), uniformtext=dict(minsize=10, mode="hide"))
    _legend(fig)
    return fig


# ---------------------------------------------------------------- cacheable per selection
# Figures straight from query results (governance.derived.figure caches them per selection and
# data version); each keeps to the communities that reported organisation data, as the page does.

def chain_funnel(by_compound: pd.DataFrame, org_data: pd.DataFrame) -> go.Figure:
    return funnel_figure(only_reporting(by_compound, reporting_ids(org_data)))


def chain_tree(by_compound: pd.DataFrame, org_data: pd.DataFrame, root_label: str) -> go.Figure:
    """The grouped treemap (no building tiles) of a large selection: the MAX_TREE_COMMUNITIES
    communities with the lowest C4 when there are more."""
    bc = only_reporting(by_compound, reporting_ids(org_data))
    if bc["community_id"].nunique() > MAX_TREE_COMMUNITIES:
        bc = worst_communities(bc, MAX_TREE_COMMUNITIES)
    return tree_figure(root_label, bc, None)


def over_time_chart(totals: pd.DataFrame, org_data: pd.DataFrame, practices: pd.DataFrame, first: dt.date,
                    last: dt.date, with_community: bool) -> go.Figure:
    """over_time_figure from coverage_monthly_totals (already summed over the reporting communities)."""
    reporting = reporting_ids(org_data)
    return over_time_figure(monthly_totals(totals), practices[practices["community_id"].isin(reporting)],
                            first, last, with_community)


def side_by_side_caption(cov_row: pd.Series) -> str:
    """One line with C1-C4 and their counts for a community shown beside others."""
    return "；".join([
        f"C1 {_rate_cell(cov_row['compounds_with_branch'], cov_row['compounds'])}",
        f"C2 {_rate_cell(cov_row['buildings_with_group'], cov_row['buildings'])}",
        f"C3 {_rate_cell(cov_row['leads'], cov_row['households'], 100)}",
        f"C4 {_rate_cell(cov_row['chain_complete_buildings'], cov_row['buildings'])}",
    ])
