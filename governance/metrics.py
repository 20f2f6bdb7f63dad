"""Indicator values from the aggregates the queries return.

Queries return numerators and denominators per community; the value of a selection is the
ratio of the sums (never an average of rates). Formulas are those of governance.indicators.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from governance.stats import rate

SCORE_KEYS = ("score_weight_contacted", "score_weight_solved", "score_weight_satisfied")


@dataclass(frozen=True)
class Value:
    """An indicator value with the counts behind it (numerator/denominator may be None)."""

    value: float | None
    numerator: float | None = None
    denominator: float | None = None


def _sum(df: pd.DataFrame, col: str) -> float:
    return float(df[col].sum()) if len(df) else 0.0


def coverage(df: pd.DataFrame) -> dict[str, Value]:
    """C1-C5 of a selection from coverage/coverage_by_community rows."""
    s = {c: _sum(df, c) for c in ["compounds", "compounds_with_branch", "buildings", "buildings_with_group",
                                  "chain_complete_buildings", "households", "branches", "groups", "leads", "members"]}
    c3 = rate(s["leads"], s["households"])
    return {
        "C1": Value(rate(s["compounds_with_branch"], s["compounds"]), s["compounds_with_branch"], s["compounds"]),
        "C2": Value(rate(s["buildings_with_group"], s["buildings"]), s["buildings_with_group"], s["buildings"]),
        "C3": Value(None if c3 is None else c3 * 100, s["leads"], s["households"]),
        "C4": Value(rate(s["chain_complete_buildings"], s["buildings"]), s["chain_complete_buildings"], s["buildings"]),
        "branches": Value(s["branches"]), "groups": Value(s["groups"]),
        "leads": Value(s["leads"]), "members": Value(s["members"]),
    }


def organisations(df: pd.DataFrame) -> dict[str, Value]:
    """S1, S2, S3 (communities meeting target), S5 of a selection from orgs_by_community rows."""
    s1, residents = _sum(df, "active_orgs"), _sum(df, "residents")
    s2 = rate(s1, residents)
    # S3 is judged only where a target is set; a community without one is neither met nor missed
    with_target = df[df["target"].notna()] if len(df) else df
    met = int((with_target["active_orgs"] >= with_target["target"]).sum()) if len(with_target) else 0
    return {
        "S1": Value(s1),
        "S2": Value(None if s2 is None else s2 * 1000, s1, residents),
        "S3": Value(rate(met, len(with_target)), met, len(with_target)),
        "S5": Value(rate(_sum(df, "party_led_orgs"), s1), _sum(df, "party_led_orgs"), s1),
    }


def score_weights(settings: pd.DataFrame) -> dict[str, float] | None:
    """The three score weights from settings/in_force rows, or None if any is missing."""
    found = dict(zip(settings["key"], settings["value"])) if len(settings) else {}
    if not all(k in found for k in SCORE_KEYS):
        return None
    return {k: float(found[k]) for k in SCORE_KEYS}


def score(t2: float | None, t3: float | None, t4: float | None, weights: dict | None) -> float | None:
    """T9 = 100 × (w_contacted × T2 + w_solved × T3 + w_satisfied × T4); None if any part is missing."""
    if weights is None or t2 is None or t3 is None or t4 is None:
        return None
    w = [weights[k] for k in SCORE_KEYS]
    return 100 * (w[0] * t2 + w[1] * t3 + w[2] * t4)


def tickets(df: pd.DataFrame, weights: dict | None) -> dict[str, Value]:
    """T1-T5 and T9 of a selection from tickets/rates_by_community rows."""
    s = {c: _sum(df, c) for c in ["tickets", "followups", "contacted", "solved", "satisfied", "closed",
                                  "closed_on_time", "residents"]}
    per_1000 = rate(s["tickets"], s["residents"])
    t2 = rate(s["contacted"], s["followups"])
    t3 = rate(s["solved"], s["followups"])
    # a missing satisfaction level weight makes `satisfied` NULL: T4 (and T9) are then 无数据, never 0
    t4 = None if len(df) and df["satisfied"].isna().any() else rate(s["satisfied"], s["followups"])
    return {
        "T1": Value(s["tickets"]),
        "T1k": Value(None if per_1000 is None else per_1000 * 1000, s["tickets"], s["residents"]),
        "T2": Value(t2, s["contacted"], s["followups"]),
        "T3": Value(t3, s["solved"], s["followups"]),
        "T4": Value(t4, None if t4 is None and len(df) and df["satisfied"].isna().any() else s["satisfied"],
                    s["followups"]),
        "T5": Value(rate(s["closed"], s["tickets"]), s["closed"], s["tickets"]),
        "T5t": Value(rate(s["closed_on_time"], s["closed"]), s["closed_on_time"], s["closed"]),
        "T9": Value(score(t2, t3, t4, weights)),
    }


def _ratio(num: pd.Series, den: pd.Series, scale: float = 1.0) -> pd.Series:
    out = num.astype("float64") / den.astype("float64").where(den > 0)
    return out * scale


def community_table(cov: pd.DataFrame, orgs: pd.DataFrame, tix: pd.DataFrame, weights: dict | None) -> pd.DataFrame:
    """One row per community with the overview indicators (rates as fractions, NaN = not available)."""
    keys = ["community_id"]
    t = cov.merge(orgs[keys + ["residents", "active_orgs", "party_led_orgs", "target"]], on=keys, how="outer")
    t = t.merge(tix[keys + ["tickets", "followups", "contacted", "solved", "satisfied"]], on=keys, how="outer")
    t["C1"] = _ratio(t["compounds_with_branch"], t["compounds"])
    t["C2"] = _ratio(t["buildings_with_group"], t["buildings"])
    t["C3"] = _ratio(t["leads"], t["households"], 100)
    t["C4"] = _ratio(t["chain_complete_buildings"], t["buildings"])
    t["S1"] = t["active_orgs"]
    t["S2"] = _ratio(t["active_orgs"], t["residents"], 1000)
    t["S3"] = t["active_orgs"] >= t["target"]
    t["T1"] = t["tickets"]
    t["T1k"] = _ratio(t["tickets"], t["residents"], 1000)
    t["T2"] = _ratio(t["contacted"], t["followups"])
    t["T3"] = _ratio(t["solved"], t["followups"])
    t["T4"] = _ratio(t["satisfied"], t["followups"])
    if weights is None:
        t["T9"] = float("nan")
    else:
        w = [weights[k] for k in SCORE_KEYS]
        t["T9"] = 100 * (w[0] * t["T2"] + w[1] * t["T3"] + w[2] * t["T4"])
    return t


OVERVIEW_COLUMNS = ["community", "查看", "T9", "T3", "T4", "C4", "S1", "C1", "C2", "C3", "S2", "S3", "T1", "T1k",
                    "followups", "compounds", "buildings", "street", "类型", "来源"]


def overview_rows(cov: pd.DataFrame, orgs: pd.DataFrame, tix: pd.DataFrame, settings: pd.DataFrame,
                  date_from: str, date_to: str, linked: int) -> pd.DataFrame:
    """总览's table of communities, as shown: rates in percent, labels in Chinese, and a 查看 link for
    the first `linked` rows (those the page sends; the download drops the column). Module-level so
    that governance.derived caches it per selection and data version."""
    from urllib.parse import urlencode

    from governance.labels import SOURCE_LABELS, TYPE_LABELS

    table = community_table(cov, orgs, tix, score_weights(settings))
    if table.empty:
        return table
    head = table.head(linked)
    links = ["/overview?" + urlencode({"street": s, "community": c, "from": date_from, "to": date_to})
             for s, c in zip(head["street"], head["community"])]
    view = table.assign(
        查看=links + [None] * (len(table) - len(links)),
        类型=table["type"].map(TYPE_LABELS), 来源=table["source"].map(SOURCE_LABELS),
        C1=table["C1"] * 100, C2=table["C2"] * 100, C4=table["C4"] * 100,
        T2=table["T2"] * 100, T3=table["T3"] * 100, T4=table["T4"] * 100,
        S3=table["S3"].map({True: "达标", False: "未达标"}),
    )
    return view[OVERVIEW_COLUMNS]
