"""Province-scale demonstration data: the six published communities of governance.demo plus a
simulated province of about 5,000 communities with their compounds, buildings, Party chain,
social organisations and 10 million tickets over the demo's 32 months.

Everything beyond the six published communities is simulated (source = 'simulated'), drawn with
the demo's categories, channels, organisation types and settings. Rows are drawn with numpy in
whole arrays, never one Python object per row, and tickets are written month by month
(`INSERT INTO tickets SELECT ... FROM <DataFrame>`), so memory stays bounded by one month of
tickets (~320k rows) however many months there are. Same seed, same database.

Tickets are stored month by month and, within a month, by community: a period filter then skips
whole row groups by their min/max, and a small selection reads few row groups of each month.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from governance import demo
from governance.rollups import refresh_rollups
from governance.schema import DATA_TABLES, bump_data_version, create_schema

SEED = 20230824
PROVINCE = "演示省"
N_COMMUNITIES = 5000
N_TICKETS = 10_000_000

# two-character stems for simulated place names (only ever combined, so no real place is meant)
_A = "东西南北上下新旧青白金银玉石松柏桂兰梅竹清明安宁永和长乐丰泰华瑞福康宏盛嘉祥云星月阳春秋"
_B = "山川河湖江溪塘桥岗坪园林田港湾洲岭峰城庄坝堤沙泉池浦口坊门"

CAT_W = np.array([c[3] for c in demo.CATEGORIES], dtype=float)
CAT_W /= CAT_W.sum()
ALLOWED_DAYS = np.array([c[4] for c in demo.CATEGORIES])
SAT_SOLVED = [.45, .35, .15, .04, .01]
SAT_UNSOLVED = [.05, .15, .3, .35, .15]
ORG_P = [.3, .15, .25, .15, .1, .05]
PRACTICE_NAMES = ["物业服务“红色议事会”", "楼道堆物专项整治", "加装电梯协调小组", "停车共享错时方案",
                  "电动自行车集中充电棚", "垃圾分类督导队"]
PRACTICE_CATEGORIES = ["物业费争议", "楼道堆物", "老旧小区加装电梯", "小区停车难", "电动自行车充电", "垃圾未及时清运"]


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _names(rng, n: int, suffix: str, used: set | None = None) -> list[str]:
    """n distinct two- or three-character names ending with `suffix`."""
    pool = [a + b for a in _A for b in _B]
    if n > len(pool):
        pool += [a + c + b for a in _A for b in _B for c in "中大小"]
    order = rng.permutation(len(pool))[:n]
    return [pool[i] + suffix for i in order]


def _dates(rng, lo: dt.date, hi: dt.date, n: int) -> np.ndarray:
    base = np.datetime64(lo, "D")
    return base + rng.integers(0, (hi - lo).days + 1, size=n).astype("timedelta64[D]")


def _region_tree(rng, n_communities: int) -> pd.DataFrame:
    """Cities → districts → streets → communities; about 8 communities per street."""
    n_streets = max(1, round(n_communities / 8))
    n_districts = max(1, round(n_streets / 8))
    n_cities = max(1, round(n_districts / 6))
    cities = _names(rng, n_cities, "市")
    districts = _names(rng, n_districts, "区")
    streets = _names(rng, n_streets, "街道")
    district_city = np.sort(rng.integers(0, n_cities, n_districts))
    district_city[:n_cities] = np.arange(min(n_cities, n_districts))  # every city has a district
    district_city.sort()
    street_district = np.sort(np.concatenate([np.arange(n_districts), rng.integers(0, n_districts, n_streets - n_districts)])) \
        if n_streets >= n_districts else np.arange(n_streets) % n_districts
    comm_street = np.sort(np.concatenate([np.arange(n_streets), rng.integers(0, n_streets, n_communities - n_streets)])) \
        if n_communities >= n_streets else np.arange(n_communities) % n_streets
    rural = rng.random(n_communities) < 0.15
    stems = _names(rng, n_communities, "")
    # names are unique within a street (stems are globally distinct)
    community = [s + ("村" if r else "社区") for s, r in zip(stems, rural)]
    d = street_district[comm_street]
    return pd.DataFrame({
        "province": PROVINCE,
        "city": np.array(cities, dtype=object)[district_city[d]],
        "district": np.array(districts, dtype=object)[d],
        "street": np.array(streets, dtype=object)[comm_street],
        "community": community,
        "type": np.where(rural, "rural", "urban"),
        "stem": stems,
    })


def _structure(rng, comm: pd.DataFrame, ids: dict) -> dict[str, pd.DataFrame]:
    """Compounds, buildings, branches, groups, household leads; ids continue from `ids`."""
    n = len(comm)
    rural = (comm["type"] == "rural").to_numpy()
    cid = comm["community_id"].to_numpy()
    n_comp = np.where(rural, rng.integers(2, 5, n), rng.integers(3, 10, n))
    hh_per_bld = rng.integers(20, 60, n)
    comp_comm = np.repeat(np.arange(n), n_comp)
    n_cp = len(comp_comm)
    comp_k = np.arange(n_cp) - np.repeat(np.cumsum(n_comp) - n_comp, n_comp)
    comp_id = ids["compounds"] + 1 + np.arange(n_cp)
    stems = comm["stem"].to_numpy()
    comp_name = [f"{stems[c]}{k + 1}{'组' if rural[c] else '小区'}" for c, k in zip(comp_comm, comp_k)]

    n_bld = rng.integers(4, 25, n_cp)
    bld_comp = np.repeat(np.arange(n_cp), n_bld)
    n_b = len(bld_comp)
    bld_k = np.arange(n_b) - np.repeat(np.cumsum(n_bld) - n_bld, n_bld)
    bld_hh = np.maximum(8, rng.normal(hh_per_bld[comp_comm[bld_comp]], hh_per_bld[comp_comm[bld_comp]] * 0.15)).astype(int)
    bld_id = ids["buildings"] + 1 + np.arange(n_b)
    comp_hh = np.bincount(bld_comp, weights=bld_hh, minlength=n_cp).astype(int)
    comm_hh = np.bincount(comp_comm, weights=comp_hh, minlength=n).astype(int)

    compounds = pd.DataFrame({"compound_id": comp_id, "community_id": cid[comp_comm], "compound": comp_name,
                              "households": comp_hh})
    buildings = pd.DataFrame({"building_id": bld_id, "compound_id": comp_id[bld_comp],
                              "community_id": cid[comp_comm[bld_comp]],
                              "building": [f"{k + 1}号楼" for k in bld_k], "households": bld_hh})

    # the Party chain: coverage differs by community
    strength = rng.uniform(0.45, 0.95, n)
    has_br = rng.random(n_cp) < strength[comp_comm] + 0.1
    members = rng.choice([2, 5, 6, 9, 12, 18, 25, 34, 48, 56], size=n_cp,
                         p=[.04, .1, .1, .16, .18, .16, .12, .08, .04, .02])
    committee = (members >= 7) & (rng.random(n_cp) < 0.85)
    br = np.flatnonzero(has_br)
    branches = pd.DataFrame({
        "branch_id": ids["branches"] + 1 + np.arange(len(br)), "community_id": cid[comp_comm[br]],
        "compound_id": comp_id[br], "branch": [comp_name[i] + "党支部" for i in br], "members": members[br],
        "has_committee": committee[br], "established_on": _dates(rng, dt.date(2018, 1, 1), dt.date(2023, 6, 30), len(br)),
        "dissolved_on": pd.NaT,
    })
    bs = strength[comp_comm[bld_comp]]
    gb = np.flatnonzero(rng.random(n_b) < bs)
    g_est = _dates(rng, dt.date(2019, 1, 1), dt.date(2023, 7, 31), len(gb))
    g_dis = np.full(len(gb), np.datetime64("NaT"), dtype="datetime64[D]")
    gone = rng.random(len(gb)) < 0.03
    span = (np.datetime64("2023-08-31") - (g_est[gone] + 30)).astype(int)
    g_dis[gone] = g_est[gone] + 30 + (rng.random(gone.sum()) * np.maximum(span, 0)).astype(int)
    g_dis[gone & (g_dis > np.datetime64("2023-08-31"))] = np.datetime64("NaT")
    groups = pd.DataFrame({"group_id": ids["building_groups"] + 1 + np.arange(len(gb)),
                           "community_id": buildings["community_id"].to_numpy()[gb], "building_id": bld_id[gb],
                           "leader": None, "established_on": g_est, "dissolved_on": g_dis})
    n_leads = rng.poisson(bs * 1.6)
    lb = np.repeat(np.arange(n_b), n_leads)
    lk = np.arange(len(lb)) - np.repeat(np.cumsum(n_leads) - n_leads, n_leads)
    rooms = rng.integers(1, 30, len(lb))
    leads = pd.DataFrame({"lead_id": ids["household_leads"] + 1 + np.arange(len(lb)),
                          "community_id": buildings["community_id"].to_numpy()[lb], "building_id": bld_id[lb],
                          "household": [f"{r:02d}0{k + 1}室" for r, k in zip(rooms, lk)],
                          "established_on": _dates(rng, dt.date(2019, 6, 1), dt.date(2023, 8, 15), len(lb)),
                          "dissolved_on": pd.NaT})
    frames = {"compounds": compounds, "buildings": buildings, "branches": branches, "building_groups": groups,
              "household_leads": leads}
    for f in frames.values():
        f["source"] = "simulated"
    return frames, comm_hh, n_comp, n_bld


def _orgs(rng, comm: pd.DataFrame, ids: dict, months: list[dt.date]) -> dict[str, pd.DataFrame]:
    n = len(comm)
    rural = (comm["type"] == "rural").to_numpy()
    residents = comm["residents"].to_numpy()
    k = np.where(rural, rng.integers(2, 8, n), np.clip(rng.normal(residents / 700 + 4, 4), 3, 40).astype(int))
    oc = np.repeat(np.arange(n), k)
    ok = np.arange(len(oc)) - np.repeat(np.cumsum(k) - k, k)
    typ = rng.choice(len(demo.ORG_TYPES), size=len(oc), p=ORG_P)
    founded = _dates(rng, dt.date(2014, 1, 1), dt.date(2023, 8, 20), len(oc))
    dissolved = np.full(len(oc), np.datetime64("NaT"), dtype="datetime64[D]")
    gone = rng.random(len(oc)) < 0.08
    lo = np.maximum(founded[gone], np.datetime64("2021-01-01")) + 60
    dissolved[gone] = lo + (rng.random(gone.sum()) * (np.datetime64("2023-12-31") - lo).astype(int)).astype(int)
    dissolved[dissolved > np.datetime64(demo.LAST_DAY)] = np.datetime64("NaT")
    stems = comm["stem"].to_numpy()
    types = np.array(demo.ORG_TYPES, dtype=object)
    org_id = ids["social_orgs"] + 1 + np.arange(len(oc))
    orgs = pd.DataFrame({
        "org_id": org_id, "community_id": comm["community_id"].to_numpy()[oc],
        "org": [f"{stems[c]}{types[t]}{'队' if t == 0 else '社'}{j + 1}" for c, t, j in zip(oc, typ, ok)],
        "type": types[typ], "party_led": rng.random(len(oc)) < 0.5, "founded_on": founded, "dissolved_on": dissolved,
        "source": "simulated"})
    # volunteer teams report monthly: volunteers as a random walk, hours from volunteers
    rep = np.flatnonzero((typ == 0) & (rng.random(len(oc)) < 0.7))
    m = np.array(months, dtype="datetime64[D]")
    f_month = founded[rep].astype("datetime64[M]").astype("datetime64[D]")
    ok_month = (m[None, :] >= f_month[:, None]) & ~(m[None, :] > dissolved[rep][:, None])
    r_idx, m_idx = np.nonzero(ok_month)
    steps = rng.integers(-1, 4, len(r_idx))
    start = rng.integers(10, 60, len(rep))
    csum = np.cumsum(steps)
    first = np.searchsorted(r_idx, np.arange(len(rep)))
    offs = np.where(first < len(r_idx), csum[np.minimum(first, len(csum) - 1)] - steps[np.minimum(first, len(steps) - 1)], 0)
    vol = np.maximum(start[r_idx] + csum - offs[r_idx], 1)
    org_monthly = pd.DataFrame({"org_id": org_id[rep][r_idx], "month": m[m_idx], "member_units": pd.NA,
                                "volunteers": vol, "service_hours": np.round(vol * rng.uniform(1.5, 4.0, len(vol)), 1),
                                "source": "simulated"})
    org_monthly["member_units"] = org_monthly["member_units"].astype("Int64")
    return {"social_orgs": orgs, "org_monthly": org_monthly}


class _TicketModel:
    """Per-community and per-compound arrays that every month's tickets are drawn from."""

    def __init__(self, rng, comm, compounds, buildings, n_comp, n_bld, n_tickets: int, n_months: int):
        n = len(comm)
        self.cid = comm["community_id"].to_numpy()
        residents = comm["residents"].to_numpy().astype(float)
        # volumes follow residents, scaled so the whole run has about n_tickets tickets once the
        # recurring hotspots (about 0.84 a month in 60% of communities) and the two spreading classes
        # (7 months in all, about residents / 4500 + 1 a month) are added
        extras = n * 0.6 * 1.4 * n_months + (residents / 4500 + 1).sum() * 7
        base = max(n_tickets - extras, n_tickets * 0.5, 0)
        self.lam = residents / residents.sum() * base / n_months * rng.uniform(0.7, 1.3, n)
        self.quality = rng.uniform(0.3, 1.0, n)
        self.residents = residents
        self.comp_start = np.cumsum(n_comp) - n_comp
        self.n_comp = n_comp
        self.comp_id = compounds["compound_id"].to_numpy()
        self.comp_cum = np.cumsum(compounds["households"].to_numpy().astype(float))
        self.comp_base = np.concatenate([[0.0], self.comp_cum])[self.comp_start]
        self.comm_hh = compounds.groupby(np.repeat(np.arange(n), n_comp))["households"].sum().to_numpy().astype(float)
        self.bld_start = np.cumsum(n_bld) - n_bld
        self.n_bld = n_bld
        self.bld_id = buildings["building_id"].to_numpy()
        # a recurring problem in one compound of 60% of communities
        hot = rng.random(n) < 0.6
        self.hot = np.flatnonzero(hot)
        self.hot_comp = self.comp_start[self.hot] + (rng.random(len(self.hot)) * n_comp[self.hot]).astype(int)
        self.hot_cat = rng.integers(0, len(demo.CATEGORIES), len(self.hot))
        self.hot_rate = rng.uniform(0.8, 2.0, len(self.hot))


def _month_tickets(rng, model: _TicketModel, month: dt.date, mi: int, n_months: int, first_seq: int) -> pd.DataFrame:
    """All tickets of one month, as one DataFrame sorted by community then received time."""
    n = len(model.cid)
    progress = mi / max(n_months - 1, 1)
    counts = rng.poisson(model.lam * rng.uniform(0.8, 1.2, n))
    comm = np.repeat(np.arange(n), counts)
    cat = rng.choice(len(demo.CATEGORIES), size=len(comm), p=CAT_W)
    comp = model.comp_start[comm] + np.searchsorted(
        model.comp_cum, model.comp_base[comm] + rng.random(len(comm)) * model.comm_hh[comm], side="right") \
        - model.comp_start[comm]
    comp = np.minimum(comp, model.comp_start[comm] + model.n_comp[comm] - 1)
    extra = [(comm, cat, comp)]
    k = rng.poisson(model.hot_rate)
    extra.append((np.repeat(model.hot, k), np.repeat(model.hot_cat, k), np.repeat(model.hot_comp, k)))
    # classes spreading over many communities at once, as in the demo
    for cat_name, lo, hi, per in (("电动自行车充电", dt.date(2023, 5, 1), dt.date(2100, 1, 1), 4000),
                                  ("水压不稳", dt.date(2022, 6, 1), dt.date(2022, 8, 1), 5000)):
        if lo <= month <= hi:
            k = rng.poisson(model.residents / per + 1)
            c = np.repeat(np.arange(n), k)
            extra.append((c, np.full(len(c), demo.CAT_INDEX[cat_name]),
                          model.comp_start[c] + (rng.random(len(c)) * model.n_comp[c]).astype(int)))
    comm = np.concatenate([e[0] for e in extra])
    cat = np.concatenate([e[1] for e in extra])
    comp = np.concatenate([e[2] for e in extra])
    m = len(comm)
    days = ((month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - month).days
    received = np.datetime64(month, "s") + rng.integers(0, days * 86400, m).astype("timedelta64[s]")
    allowed = ALLOWED_DAYS[cat]
    due = received + (allowed * 86400).astype("timedelta64[s]")
    q = model.quality[comm]
    dur_days = rng.lognormal(np.log(allowed * (0.9 - 0.3 * q * progress)), 0.7)
    closed = received + (np.maximum(2.0, dur_days * 24) * 3600).astype("timedelta64[s]")
    last = np.datetime64(demo.LAST_DAY + dt.timedelta(days=1), "s")
    is_closed = (rng.random(m) < 0.97) & (closed < last)
    closed = np.where(is_closed, closed, np.datetime64("NaT"))
    has_fu = is_closed & (rng.random(m) < 0.88)
    contacted = rng.random(m) < 0.85 + 0.12 * q * (0.4 + 0.6 * progress)
    solved = contacted & (rng.random(m) < 0.55 + 0.4 * q * (0.3 + 0.7 * progress))
    u = rng.random(m)
    sat = np.where(solved, np.searchsorted(np.cumsum(SAT_SOLVED), u * 0.999999),
                   np.searchsorted(np.cumsum(SAT_UNSOLVED), u * 0.999999))
    with_comp = rng.random(m) < 0.93
    with_bld = with_comp & (rng.random(m) < 0.8)
    bld = model.bld_start[comp] + (rng.random(m) * model.n_bld[comp]).astype(int)
    channel = np.searchsorted(np.cumsum(demo.CHANNEL_P), rng.random(m) * 0.999999)

    order = np.lexsort((received, comm))
    cats = np.array([c[:3] for c in demo.CATEGORIES], dtype=object)
    df = pd.DataFrame({
        "seq": first_seq + np.arange(m),
        "community_id": model.cid[comm][order],
        "compound_id": pd.array(np.where(with_comp, model.comp_id[comp], 0)[order], dtype="Int64"),
        "building_id": pd.array(np.where(with_bld, model.bld_id[np.minimum(bld, len(model.bld_id) - 1)], 0)[order],
                                dtype="Int64"),
        "cat": cat[order].astype(np.int8),
        "channel": channel[order].astype(np.int8),
        "received_at": received[order], "due_at": due[order], "closed_at": closed[order],
        "has_fu": has_fu[order], "contacted": contacted[order], "solved": solved[order],
        "sat": sat[order].astype(np.int8),
    })
    df.loc[~with_comp[order], "compound_id"] = pd.NA
    df.loc[~with_bld[order], "building_id"] = pd.NA
    del cats
    return df


# category / channel / satisfaction codes → text, done inside DuckDB (cheaper than 10M Python strings)
_LOOKUPS = f"""
CREATE OR REPLACE TEMP TABLE _cat AS SELECT * FROM (VALUES {", ".join(
    f"({i}, '{c[0]}', '{c[1]}', '{c[2]}')" for i, c in enumerate(demo.CATEGORIES))}) v(code, l1, l2, l3);
CREATE OR REPLACE TEMP TABLE _chan AS SELECT * FROM (VALUES {", ".join(
    f"({i}, '{c}')" for i, c in enumerate(demo.CHANNELS))}) v(code, channel);
CREATE OR REPLACE TEMP TABLE _sat AS SELECT * FROM (VALUES {", ".join(
    f"({i}, '{s}')" for i, s in enumerate(demo.SATISFACTION))}) v(code, level);
"""

_INSERT_MONTH = """
INSERT INTO tickets (ticket_id, community_id, compound_id, building_id, category_l1, category_l2, category_l3,
                     channel, received_at, due_at, closed_at, status, contacted, solved, satisfaction, source)
SELECT 'P' || lpad(CAST(m.seq AS VARCHAR), 9, '0'), m.community_id, m.compound_id, m.building_id,
       c.l1, c.l2, c.l3, ch.channel, m.received_at, m.due_at, m.closed_at,
       CASE WHEN m.closed_at IS NULL THEN '办理中' ELSE '已办结' END,
       CASE WHEN m.has_fu THEN m.contacted END,
       CASE WHEN m.has_fu THEN m.solved END,
       CASE WHEN m.has_fu THEN s.level END,
       'simulated'
FROM _month m
JOIN _cat c ON c.code = m.cat
JOIN _chan ch ON ch.code = m.channel
JOIN _sat s ON s.code = m.sat
ORDER BY m.community_id, m.received_at
"""


def _insert(con, table: str, df: pd.DataFrame) -> None:
    cols = [c for c in df.columns if c != "stem"]
    con.register("_frame", df[cols])
    con.execute(f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(cols)} FROM _frame")
    con.unregister("_frame")


def generate_into(con, n_communities: int = N_COMMUNITIES, n_tickets: int = N_TICKETS, seed: int = SEED,
                  progress=None) -> None:
    """Write the demo's published communities and a simulated province into an empty schema."""
    say = progress or (lambda msg: None)
    rng = np.random.default_rng(seed)
    months = demo._months()
    frames = demo.generate()
    demo.load(con, frames)  # the six published communities, their neighbours, settings, demo flag
    ids = {t: int(con.execute(f"SELECT coalesce(max({c}), 0) FROM {t}").fetchone()[0])
           for t, c in [("communities", "community_id"), ("compounds", "compound_id"), ("buildings", "building_id"),
                        ("branches", "branch_id"), ("building_groups", "group_id"), ("household_leads", "lead_id"),
                        ("social_orgs", "org_id"), ("practices", "practice_id")]}
    n_sim = max(1, n_communities - len(frames["communities"]))
    comm = _region_tree(rng, n_sim)
    comm.insert(0, "community_id", ids["communities"] + 1 + np.arange(n_sim))
    structure, comm_hh, n_comp, n_bld = _structure(rng, comm, ids)
    comm["households"] = comm_hh
    comm["residents"] = (comm_hh * rng.uniform(2.5, 2.9, n_sim)).astype(int)
    comm["area_km2"] = np.round(rng.uniform(0.3, 2.5, n_sim), 2)
    comm["source"] = "simulated"
    orgs = _orgs(rng, comm, ids, months)
    pr = np.flatnonzero(rng.random(n_sim) < 0.02)
    which = rng.integers(0, len(PRACTICE_NAMES), len(pr))
    practices = pd.DataFrame({
        "practice_id": ids["practices"] + 1 + np.arange(len(pr)), "community_id": comm["community_id"].to_numpy()[pr],
        "practice": np.array(PRACTICE_NAMES, dtype=object)[which],
        "started_on": _dates(rng, dt.date(2021, 9, 1), dt.date(2023, 6, 1), len(pr)),
        "related_category": np.array(PRACTICE_CATEGORIES, dtype=object)[which],
        "description": "演示数据：模拟的整改做法。", "source": "simulated"})

    con.execute("BEGIN")
    try:
        _insert(con, "communities", comm)
        for table in ("compounds", "buildings", "branches", "building_groups", "household_leads"):
            _insert(con, table, structure[table])
        _insert(con, "social_orgs", orgs["social_orgs"])
        _insert(con, "org_monthly", orgs["org_monthly"])
        _insert(con, "practices", practices)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    say(f"结构：{n_sim:,} 个模拟社区、{len(structure['compounds']):,} 个小区、{len(structure['buildings']):,} 栋楼；"
        f"峰值内存 {peak_rss_mb():,.0f} MB")

    model = _TicketModel(rng, comm, structure["compounds"], structure["buildings"], n_comp, n_bld,
                         max(n_tickets - len(frames["tickets"]), 0), len(months))
    del structure, orgs
    con.execute(_LOOKUPS)
    seq = 1
    for mi, month in enumerate(months):
        month_df = _month_tickets(rng, model, month, mi, len(months), seq)
        seq += len(month_df)
        con.register("_month", month_df)
        con.execute(_INSERT_MONTH)  # one transaction per month: a crash leaves the temp file, never the target
        con.unregister("_month")
        del month_df
        if mi % 4 == 3 or mi == len(months) - 1:
            say(f"诉求：已写入 {month:%Y-%m}，累计 {seq - 1:,} 件；峰值内存 {peak_rss_mb():,.0f} MB")
    bump_data_version(con)
    refresh_rollups(con)


def build_province_database(path: Path | str, n_communities: int = N_COMMUNITIES, n_tickets: int = N_TICKETS,
                            seed: int = SEED, progress=None) -> dict:
    """Build the province-scale database at `path` atomically (temp file, then rename)."""
    import duckdb

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    fd, tmp = tempfile.mkstemp(prefix=".province-", suffix=".duckdb", dir=path.parent)
    os.close(fd)
    os.unlink(tmp)
    try:
        con = duckdb.connect(tmp)
        con.execute("SET preserve_insertion_order = true")
        create_schema(con)
        generate_into(con, n_communities, n_tickets, seed, progress)
        con.execute("CHECKPOINT")
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in DATA_TABLES}
        con.close()
        os.replace(tmp, path)
    finally:
        for leftover in (tmp, tmp + ".wal"):
            if os.path.exists(leftover):
                os.unlink(leftover)
    return {"seconds": time.perf_counter() - t0, "counts": counts, "peak_rss_mb": peak_rss_mb(),
            "size_mb": path.stat().st_size / 2**20}
