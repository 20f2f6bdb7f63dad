"""The hand-built fixture database: few rows, every expected answer worked out by hand.

`build(path, extra)` creates the schema and inserts BASE plus any rows a test module adds
(each module adds its own edge cases under new ids, so modules never edit each other's rows).

The as-of date used by the tests is D = 2023-08-31 and the period is 2023-06-01 .. 2023-08-31.

Communities
  1 甲社区 (测试省/测试市/测试区/东街道, urban, 100 households, 250 residents)
  2 乙村   (same street, rural, 0 households, 0 residents, no compounds: rates not available)
  3 丙社区 (西街道, urban, 50 households, 120 residents)

Organisation chain of 甲社区 at D
  compounds 11 甲一小区 (2 buildings), 12 甲二小区 (1 building), 13 甲三小区 (no buildings)
  branches  101 on 11 (est 2022-01-01, 5 members)                 -> counts
            102 on 12 (est 2023-09-01, after D)                     -> not counted
            103 on 13 (est 2021-01-01, dissolved 2023-03-01)        -> not counted
  groups    201 on building 111, 202 on 112 (dissolved ON D: no longer in force), 203 on 121
  leads     301, 302 on building 111; 303 on building 121 (compound 12 has no branch at D)
  => C1 = 1/3 (only 甲一小区), C2 = 2/3 (111, 121), C3 = 3 / 100 × 100 = 3.0,
     C4 = 1/3 (only 111 has branch + group + lead; 112 lost its group; 121's compound has no branch),
     C5 = 1 branch, 2 groups, 3 leads, 5 members.
  丙社区: compound 31 with building 311; branch 104 (est 2020-01-01, 2 members); no group, no lead
  => C1 = 1/1, C2 = 0/1, C3 = 0/50, C4 = 0/1.

Social organisations at D
  甲社区: 401 founded 2020-01-01 party-led (active); 402 founded 2023-05-01 dissolved 2023-07-01
          (dissolved mid-period: not active at D); 403 founded 2023-09-15 (after D)
          => S1 = 1, S5 = 1/1, S2 = 1 / 250 × 1000 = 4.0, target 10 (urban) -> not met
  乙村:   none => S1 = 0, target 5 (rural) -> not met, S2 not available (0 residents)
  丙社区: 11 organisations 410-420 founded 2022-01-01, 5 of them party-led
          => S1 = 11 ≥ 10 -> met, S2 = 11 / 120 × 1000 = 91.67

Tickets received in 2023-06-01 .. 2023-08-31 (甲社区)
  T1 06-05 closed 06-08 (due 06-12)  contacted, solved, 非常满意 (weight 1)
  T2 06-10 closed 06-30 (due 06-17, late) contacted, not solved, 不满意 (weight 0)
  T3 07-01 still open, no follow-up (not in T2-T4 denominators)
  T4 07-15 closed 07-16 (due 07-22)  not contacted (a valid follow-up that failed)
  T6 08-31 23:00 closed 08-31 23:30 (due 09-07) contacted, solved, 基本满意 (weight 0.6)
  T5 05-31 is before the period and must not count.
  => tickets 5, follow-ups 4 (T1, T2, T4, T6), contacted 3, solved 2, satisfied 1 + 0 + 0.6 = 1.6,
     closed 4, closed on time 3 (T1, T4, T6)
     T2 = 3/4 = 75%, T3 = 2/4 = 50%, T4 = 1.6/4 = 40%, 办结率 4/5 = 80%, 按时 3/4 = 75%
     weights in force at 2023-08-31: 0.30 / 0.35 / 0.35 (effective 2023-07-01)
     T9 = 100 × (0.30 × 0.75 + 0.35 × 0.50 + 0.35 × 0.40) = 100 × (0.225 + 0.175 + 0.14) = 54.0
  (基本满意's weight changes to 0.5 only from 2023-09-01, after the period: 0.6 applies.)
  丙社区: C1 06-20 closed 06-21, contacted, solved, 满意 => 1 follow-up, all rates 100%.
  乙村: no tickets => T2-T4 not available.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from governance.schema import DATA_TABLES, create_schema

D = dt.date(2023, 8, 31)
PERIOD = {"start": dt.date(2023, 6, 1), "end": D, "as_of": D}
ALL = {"province": None, "city": None, "district": None, "street": None, "community": None}
# A value for every $parameter any query in queries/ uses, so meta-tests can run them all.
QUERY_PARAMS = {
    **ALL, **PERIOD, "search": "", "months": 6, "k": 5, "category": None, "window_days": 90,
    "min_communities": 2, "compound_id": None, "community_id": 1, "active_only": False, "org_id": 401,
    "min_members": 3, "committee_from": 7, "general_over": 50, "committee_over": 100,
    "category_l1": "物业管理", "category_l2": "设施维修", "category_l3": "下水道堵塞",
    "from_day": PERIOD["start"], "to_day": PERIOD["end"], "practice_id": 501, "top": 10,
}


def _d(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


def _t(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s)


def _community(cid, street, name, typ, hh, res):
    return dict(community_id=cid, province="测试省", city="测试市", district="测试区", street=street,
                community=name, type=typ, households=hh, residents=res, area_km2=1.0)


def _ticket(tid, cid, received, due=None, closed=None, contacted=None, solved=None, sat=None,
            compound=None, building=None, cat=("物业管理", "设施维修", "下水道堵塞")):
    return dict(ticket_id=tid, community_id=cid, compound_id=compound, building_id=building,
                category_l1=cat[0], category_l2=cat[1], category_l3=cat[2], channel="12345热线",
                received_at=_t(received), due_at=_t(due) if due else None, closed_at=_t(closed) if closed else None,
                status="已办结" if closed else "办理中", contacted=contacted, solved=solved, satisfaction=sat)


BASE: dict[str, list[dict]] = {
    "communities": [
        _community(1, "东街道", "甲社区", "urban", 100, 250),
        _community(2, "东街道", "乙村", "rural", 0, 0),
        _community(3, "西街道", "丙社区", "urban", 50, 120),
    ],
    "compounds": [
        dict(compound_id=11, community_id=1, compound="甲一小区", households=60),
        dict(compound_id=12, community_id=1, compound="甲二小区", households=40),
        dict(compound_id=13, community_id=1, compound="甲三小区", households=0),
        dict(compound_id=31, community_id=3, compound="丙一小区", households=50),
    ],
    "buildings": [
        dict(building_id=111, compound_id=11, community_id=1, building="1号楼", households=30),
        dict(building_id=112, compound_id=11, community_id=1, building="2号楼", households=30),
        dict(building_id=121, compound_id=12, community_id=1, building="1号楼", households=40),
        dict(building_id=311, compound_id=31, community_id=3, building="1号楼", households=50),
    ],
    "branches": [
        dict(branch_id=101, community_id=1, compound_id=11, branch="甲一小区党支部", members=5,
             has_committee=False, established_on=_d("2022-01-01"), dissolved_on=None),
        dict(branch_id=102, community_id=1, compound_id=12, branch="甲二小区党支部", members=8,
             has_committee=True, established_on=_d("2023-09-01"), dissolved_on=None),
        dict(branch_id=103, community_id=1, compound_id=13, branch="甲三小区党支部", members=4,
             has_committee=False, established_on=_d("2021-01-01"), dissolved_on=_d("2023-03-01")),
        dict(branch_id=104, community_id=3, compound_id=31, branch="丙一小区党支部", members=2,
             has_committee=False, established_on=_d("2020-01-01"), dissolved_on=None),
    ],
    "building_groups": [
        dict(group_id=201, community_id=1, building_id=111, leader="张三", established_on=_d("2022-01-01"), dissolved_on=None),
        dict(group_id=202, community_id=1, building_id=112, leader="李四", established_on=_d("2022-01-01"), dissolved_on=D),
        dict(group_id=203, community_id=1, building_id=121, leader="王五", established_on=_d("2022-06-01"), dissolved_on=None),
    ],
    "household_leads": [
        dict(lead_id=301, community_id=1, building_id=111, household="101室", established_on=_d("2022-02-01"), dissolved_on=None),
        dict(lead_id=302, community_id=1, building_id=111, household="201室", established_on=_d("2022-02-01"), dissolved_on=None),
        dict(lead_id=303, community_id=1, building_id=121, household="301室", established_on=_d("2022-07-01"), dissolved_on=None),
    ],
    "social_orgs": [
        dict(org_id=401, community_id=1, org="甲志愿服务队", type="志愿服务", party_led=True,
             founded_on=_d("2020-01-01"), dissolved_on=None),
        dict(org_id=402, community_id=1, org="甲舞蹈队", type="文体娱乐", party_led=False,
             founded_on=_d("2023-05-01"), dissolved_on=_d("2023-07-01")),
        dict(org_id=403, community_id=1, org="甲读书会", type="文体娱乐", party_led=False,
             founded_on=_d("2023-09-15"), dissolved_on=None),
    ] + [
        dict(org_id=410 + k, community_id=3, org=f"丙组织{k + 1}", type="邻里互助", party_led=k < 5,
             founded_on=_d("2022-01-01"), dissolved_on=None)
        for k in range(11)
    ],
    "org_monthly": [
        dict(org_id=401, month=_d("2023-06-01"), member_units=14, volunteers=20, service_hours=40.0),
        dict(org_id=401, month=_d("2023-08-01"), member_units=152, volunteers=25, service_hours=60.0),
    ],
    "tickets": [
        _ticket("T1", 1, "2023-06-05 09:00", "2023-06-12 09:00", "2023-06-08 09:00", True, True, "非常满意", 11, 111),
        _ticket("T2", 1, "2023-06-10 09:00", "2023-06-17 09:00", "2023-06-30 09:00", True, False, "不满意", 11, 111),
        _ticket("T3", 1, "2023-07-01 09:00", "2023-07-08 09:00", None, None, None, None, 12, 121),
        _ticket("T4", 1, "2023-07-15 09:00", "2023-07-22 09:00", "2023-07-16 09:00", False, False, None, 11, None),
        _ticket("T5", 1, "2023-05-31 23:59", "2023-06-07 09:00", "2023-06-01 09:00", True, True, "满意", 11, 111),
        _ticket("T6", 1, "2023-08-31 23:00", "2023-09-07 23:00", "2023-08-31 23:30", True, True, "基本满意", None, None),
        _ticket("C1", 3, "2023-06-20 09:00", "2023-06-27 09:00", "2023-06-21 09:00", True, True, "满意", 31, 311),
    ],
    "practices": [
        dict(practice_id=501, community_id=1, practice="甲一小区管网改造", started_on=_d("2023-06-01"),
             related_category="下水道堵塞", description="测试用做法"),
    ],
}

SETTINGS = [
    ("score_weight_contacted", "2021-01-01", 0.1), ("score_weight_solved", "2021-01-01", 0.5),
    ("score_weight_satisfied", "2021-01-01", 0.4),
    ("score_weight_contacted", "2023-07-01", 0.30), ("score_weight_solved", "2023-07-01", 0.35),
    ("score_weight_satisfied", "2023-07-01", 0.35),
    ("satisfaction_weight_非常满意", "2021-01-01", 1.0), ("satisfaction_weight_满意", "2021-01-01", 1.0),
    ("satisfaction_weight_基本满意", "2021-01-01", 0.6), ("satisfaction_weight_不满意", "2021-01-01", 0.0),
    ("satisfaction_weight_非常不满意", "2021-01-01", 0.0),
    ("satisfaction_weight_基本满意", "2023-09-01", 0.5),
    ("org_target_urban", "2017-12-27", 10), ("org_target_rural", "2017-12-27", 5),
]


def build(path: Path | str, extra: dict[str, list[dict]] | None = None) -> Path:
    """Create the fixture database at `path` (BASE rows plus `extra`), closed on return."""
    path = Path(path)
    con = duckdb.connect(str(path))
    try:
        create_schema(con)
        for table in DATA_TABLES:
            rows = BASE.get(table, []) + (extra or {}).get(table, [])
            for row in rows:
                row = {"source": "simulated", **row}
                cols = ", ".join(row)
                marks = ", ".join("?" for _ in row)
                con.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", list(row.values()))
        con.executemany("INSERT INTO settings (key, effective_from, value) VALUES (?, ?, ?)",
                        [(k, _d(e), v) for k, e, v in SETTINGS + (extra or {}).get("settings", [])])
    finally:
        con.close()
    return path


# Who the importer tests act as: an admin of everything (the command line without --as).
from governance.access import Actor as _Actor  # noqa: E402

ADMIN = _Actor(email="test-admin@example.org", name="测试管理员", role="admin", mode="cli")
