"""Deterministic demonstration data: the six communities of the People's Daily article with
their published figures exact, plus simulated neighbours, 2021-01 to 2023-08.

Same seed, same database, every time. Every row says whether it is published (with its
source) or simulated.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from governance.rollups import refresh_rollups
from governance.schema import DATA_TABLES, bump_data_version, create_schema

SEED = 20230820
FIRST_MONTH = dt.date(2021, 1, 1)
LAST_DAY = dt.date(2023, 8, 31)
ARTICLE = "人民日报 2023年8月《优势发挥出来 力量凝聚起来》（李林蔚），全国社区党组织书记和居委会主任视频培训班报道"
SIM_LETTERS = "甲乙丙丁戊己庚"


@dataclass(frozen=True)
class PublishedFact:
    community: str
    fact: str
    value: str
    check: str  # key the tests use to recompute the value from the database


# The figures the dashboard must reproduce exactly (published in the article).
PUBLISHED_FACTS = [
    PublishedFact("江欣苑社区", "小区党支部", "8 个", "branches"),
    PublishedFact("江欣苑社区", "楼栋党小组", "88 个", "groups"),
    PublishedFact("江欣苑社区", "挂牌党员中心户", "177 户", "leads"),
    PublishedFact("康城社区", "楼栋", "286 栋", "buildings"),
    PublishedFact("康城社区", "居民", "近 4 万人（演示数据取 39,600 人）", "residents"),
    PublishedFact("康城社区", "辖区面积", "约 1 平方公里", "area"),
    PublishedFact("西山社区", "社会组织", "43 家", "orgs"),
    PublishedFact("西山社区", "爱心联盟成员单位", "从 14 家增至 152 家", "alliance"),
    PublishedFact("黄门街社区", "区域化党建联席会成员", "9 个驻区单位 + 14 个“两新”党组织", "council"),
    PublishedFact("文昌花园社区", "文康苑小区加装电梯", "2022 年 40 余场协调会，一次性签约 19 部", "practice"),
    PublishedFact("裕园社区", "东方新天地花园小区信托制物业", "2023 年 6 月引入", "practice"),
    PublishedFact("康城社区", "美好社区合伙人招募", "2023 年 3 月初发起", "practice"),
]

# (province, city, district, street, real community, number of simulated neighbours, rural among them)
STREETS = [
    ("湖北省", "武汉市", "汉阳区", "江堤街道", "江欣苑社区", 5, 0),
    ("山东省", "济南市", "槐荫区", "中大槐树街道", "裕园社区", 4, 0),
    ("上海市", "上海市", "闵行区", "莘庄镇", "康城社区", 6, 2),
    ("江苏省", "扬州市", "广陵区", "曲江街道", "文昌花园社区", 4, 0),
    ("四川省", "成都市", "武侯区", "玉林街道", "黄门街社区", 5, 0),
    ("浙江省", "嘉兴市", "海宁市", "硖石街道", "西山社区", 3, 1),
]

# Real communities' structure. Figures marked published come from ARTICLE; the rest is simulated.
REAL = {
    "江欣苑社区": dict(compounds=["江欣苑一期", "江欣苑二期", "江欣苑三期", "江欣苑四期",
                                "江欣苑五期", "江欣苑六期", "江欣苑七期", "江欣苑八期"],
                     buildings=[11] * 8, hh_per_building=32, area=0.45,
                     note="党支部 8 个（每个小区一个）、楼栋党小组 88 个（每个单元一名组长）、挂牌党员中心户 177 户出自报道；户数、日期、党员数等为模拟"),
    "裕园社区": dict(compounds=["东方新天地花园小区", "裕园小区", "槐荫新居", "中大槐树北区"],
                   buildings=[14, 10, 8, 6], hh_per_building=48, area=0.6,
                   note="信托制物业（2023年6月，东方新天地花园小区）、联合巡查、联席会议、三方对话会出自报道；其余为模拟"),
    "康城社区": dict(compounds=[f"康城{n}" for n in ["一街坊", "二街坊", "三街坊", "四街坊", "五街坊", "六街坊",
                                                   "七街坊", "八街坊", "九街坊", "十街坊", "十一街坊", "十二街坊"]],
                   buildings=[24] * 10 + [23, 23], hh_per_building=50, area=1.0,
                   residents=39600,
                   note="286 栋楼、近 4 万名居民（取 39,600）、约 1 平方公里、上海最大的单体开放式社区出自报道；小区划分与其余为模拟"),
    "文昌花园社区": dict(compounds=["文康苑小区", "文昌苑小区", "文华苑小区", "文汇苑小区", "文德苑小区"],
                     buildings=[18, 15, 14, 12, 10], hh_per_building=36, area=0.8,
                     note="曾为扬州最大拆迁安置社区；社区治理委员会；2022 年文康苑小区 40 余场协调会、一次性签约加装电梯 19 部出自报道；其余为模拟"),
    "黄门街社区": dict(compounds=["黄门街小区", "玉林北苑", "芳草街小区", "商务楼宇片区"],
                    buildings=[9, 8, 7, 5], hh_per_building=40, area=0.5,
                    note="区域化党建联席会吸纳 9 个驻区单位、14 个“两新”党组织；社区服务产业公司盈利的 20% 投入社区公益基金出自报道；其余为模拟"),
    "西山社区": dict(compounds=["西山新村", "火车站小区", "皮革城生活区", "西山花园", "新居民公寓"],
                  buildings=[16, 12, 14, 10, 8], hh_per_building=42, area=1.2,
                  note="新居民多；爱心联盟成员单位由 14 家增至 152 家；43 家社会组织出自报道；其余为模拟"),
}

PRACTICES = [
    # community, practice, started_on, related_category, description, published?
    ("江欣苑社区", "“社区党委—小区党支部—楼栋党小组—党员中心户”组织链条", dt.date(2021, 7, 1), None,
     "每个小区成立党支部，每个单元选出楼栋党小组长，党员中心户挂牌亮身份；党支部 8 个、楼栋党小组 88 个、挂牌党员中心户 177 户。（开始日期为模拟）", True),
    ("裕园社区", "联合巡查、联席会议与“三方对话会”", dt.date(2022, 9, 1), "公共收益公开",
     "社区、物业服务企业、业主代表联合巡查和联席会议，三方重新回到“一张桌子”对话。（开始日期为模拟）", True),
    ("裕园社区", "东方新天地花园小区引入信托制物业", dt.date(2023, 6, 1), "下水道堵塞",
     "物业费、公共收益设立为信托基金，“双密码”账户管理，业主可随时查阅收支；新物业一个月内解决下水道堵塞，只花了估算费用的 1/5。", True),
    ("康城社区", "业委会换届：党员业主占一半以上", dt.date(2022, 11, 1), "物业费争议",
     "推荐党员骨干进入业委会，党员业主比例占一半以上，完善会议、信息公开、接待群众制度。（开始日期为模拟）", True),
    ("康城社区", "“美好社区合伙人”招募计划", dt.date(2023, 3, 1), None,
     "鼓励有专长的中青年业主围绕社区痛点难点出谋划策。", True),
    ("文昌花园社区", "社区治理委员会与议事平台", dt.date(2021, 5, 1), None,
     "党组织、居委会、业委会、驻社区单位、社会组织、居民代表多方参与；开放空间、圆桌会议、周末夜话。（开始日期为模拟）", True),
    ("文昌花园社区", "文康苑小区加装电梯：40 余场协调会，一次性签约 19 部", dt.date(2022, 6, 1), "老旧小区加装电梯",
     "2022 年社区党委先后召开 40 余场居民议事沟通协调会，最终一次性签约加装电梯 19 部。（月份为模拟）", True),
    ("黄门街社区", "区域化党建联席会：9 个驻区单位 + 14 个“两新”党组织", dt.date(2021, 9, 1), None,
     "建立区域化党建联席会制度，吸纳 9 个驻区单位、14 个“两新”党组织为成员，依托兼职委员制度设岗定责。（开始日期为模拟）", True),
    ("黄门街社区", "社区服务产业公司：盈利的 20% 投入社区公益基金", dt.date(2022, 4, 1), "居家养老",
     "为居民提供居家诊疗和健康管理服务，公司盈利的 20% 投入社区公益基金。（开始日期为模拟）", True),
    ("西山社区", "爱心联盟与海宁市新居民发展联合会", dt.date(2021, 3, 1), None,
     "社区党委书记兼任爱心联盟综合党委书记，成员单位从 14 家增加到 152 家；引导社会组织项目化开展志愿服务。（开始日期为模拟）", True),
]

# (l1, l2, l3, relative weight, days allowed)
CATEGORIES = [
    ("物业管理", "设施维修", "下水道堵塞", 6, 7),
    ("物业管理", "设施维修", "电梯故障", 5, 3),
    ("物业管理", "物业服务", "物业费争议", 4, 15),
    ("物业管理", "物业服务", "公共收益公开", 2, 15),
    ("市容环境", "垃圾清运", "垃圾未及时清运", 6, 3),
    ("市容环境", "绿化养护", "树木修剪", 3, 15),
    ("噪声扰民", "生活噪声", "装修噪声", 5, 7),
    ("噪声扰民", "商业噪声", "商铺噪声", 3, 7),
    ("市政设施", "加装电梯", "老旧小区加装电梯", 3, 30),
    ("市政设施", "道路设施", "路面破损", 3, 15),
    ("市政设施", "路灯照明", "路灯不亮", 3, 7),
    ("交通出行", "停车管理", "小区停车难", 5, 15),
    ("交通出行", "非机动车", "电动自行车充电", 2, 15),
    ("供水供电", "供水", "水压不稳", 2, 7),
    ("供水供电", "供电", "停电", 2, 3),
    ("社会保障", "养老服务", "居家养老", 2, 15),
    ("治安安全", "消防安全", "楼道堆物", 3, 7),
]
CAT_INDEX = {c[2]: i for i, c in enumerate(CATEGORIES)}
CHANNELS = ["12345热线", "网格员上报", "社区接待", "微信小程序"]
CHANNEL_P = [0.55, 0.2, 0.15, 0.1]
SATISFACTION = ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
ORG_TYPES = ["志愿服务", "公益慈善", "文体娱乐", "邻里互助", "专业服务", "党建联建"]

SETTINGS = [
    ("score_weight_contacted", dt.date(2021, 1, 1), 0.1, "综合得分权重（一种实施方案：0.1/0.5/0.4）"),
    ("score_weight_solved", dt.date(2021, 1, 1), 0.5, "综合得分权重（一种实施方案：0.1/0.5/0.4）"),
    ("score_weight_satisfied", dt.date(2021, 1, 1), 0.4, "综合得分权重（一种实施方案：0.1/0.5/0.4）"),
    ("score_weight_contacted", dt.date(2023, 1, 1), 0.30, "演示：2023年起改用另一口径 0.30/0.35/0.35"),
    ("score_weight_solved", dt.date(2023, 1, 1), 0.35, "演示：2023年起改用另一口径 0.30/0.35/0.35"),
    ("score_weight_satisfied", dt.date(2023, 1, 1), 0.35, "演示：2023年起改用另一口径 0.30/0.35/0.35"),
    ("satisfaction_weight_非常满意", dt.date(2021, 1, 1), 1.0, "满意率等级权重（默认）"),
    ("satisfaction_weight_满意", dt.date(2021, 1, 1), 1.0, "满意率等级权重（默认）"),
    ("satisfaction_weight_基本满意", dt.date(2021, 1, 1), 0.6, "满意率等级权重（默认）"),
    ("satisfaction_weight_不满意", dt.date(2021, 1, 1), 0.0, "满意率等级权重（默认）"),
    ("satisfaction_weight_非常不满意", dt.date(2021, 1, 1), 0.0, "满意率等级权重（默认）"),
    ("org_target_urban", dt.date(2017, 12, 27), 10, "民政部 2017 年意见：城市社区平均不少于 10 个社区社会组织"),
    ("org_target_rural", dt.date(2017, 12, 27), 5, "民政部 2017 年意见：农村社区平均不少于 5 个社区社会组织"),
]


def _months() -> list[dt.date]:
    out, d = [], FIRST_MONTH
    while d <= LAST_DAY:
        out.append(d)
        d = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return out


def _rand_date(rng, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=int(rng.integers(0, (end - start).days + 1)))


class _Builder:
    """Accumulates rows table by table, then writes them in one transaction."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.rows: dict[str, list[dict]] = {t: [] for t in DATA_TABLES}
        self.ids = {t: 0 for t in DATA_TABLES}

    def add(self, table: str, id_col: str | None = None, **row) -> int:
        if id_col:
            self.ids[table] += 1
            row[id_col] = self.ids[table]
        row.setdefault("source", "simulated")
        self.rows[table].append(row)
        return row.get(id_col, 0)


def _community_structure(b: _Builder, cid: int, name: str, spec: dict, real: bool, no_org: bool):
    """Compounds, buildings and the Party chain of one community; returns its compounds."""
    rng = b.rng
    src = "published" if real else "simulated"
    note = spec.get("note") if real else None
    compounds = []
    for ci, (cname, nb) in enumerate(zip(spec["compounds"], spec["buildings"])):
        hh = [int(max(8, rng.normal(spec["hh_per_building"], spec["hh_per_building"] * 0.15))) for _ in range(nb)]
        comp_id = b.add("compounds", "compound_id", community_id=cid, compound=cname, households=sum(hh),
                        source=src, source_note=note)
        blds = []
        for bi in range(nb):
            bname = f"{bi + 1}单元" if name == "江欣苑社区" else f"{bi + 1}号楼"
            bid = b.add("buildings", "building_id", compound_id=comp_id, community_id=cid, building=bname,
                        households=hh[bi], source=src, source_note=note)
            blds.append(bid)
        compounds.append((comp_id, cname, blds, hh))
    if no_org:
        return compounds

    if name == "江欣苑社区":
        _jiangxinyuan_chain(b, cid, compounds, note)
        return compounds

    # Simulated chain: coverage differs by community and grows over time.
    strength = rng.uniform(0.45, 0.95)
    for comp_id, cname, blds, hh in compounds:
        if rng.random() < strength + 0.1:
            est = _rand_date(rng, dt.date(2018, 1, 1), dt.date(2023, 6, 30))
            members = int(rng.choice([2, 5, 6, 9, 12, 18, 25, 34, 48, 56], p=[.04, .1, .1, .16, .18, .16, .12, .08, .04, .02]))
            b.add("branches", "branch_id", community_id=cid, compound_id=comp_id, branch=f"{cname}党支部",
                  members=members, has_committee=bool(members >= 7 and rng.random() < 0.85),
                  established_on=est, dissolved_on=None, source=src, source_note=note)
        for bid, nh in zip(blds, hh):
            if rng.random() < strength:
                est = _rand_date(rng, dt.date(2019, 1, 1), dt.date(2023, 7, 31))
                dis = None
                if rng.random() < 0.03:
                    dis = _rand_date(rng, est + dt.timedelta(days=30), dt.date(2023, 8, 31))
                b.add("building_groups", "group_id", community_id=cid, building_id=bid, leader=None,
                      established_on=est, dissolved_on=dis, source=src, source_note=note)
            n_leads = int(rng.poisson(strength * 1.6))
            for k in range(n_leads):
                est = _rand_date(rng, dt.date(2019, 6, 1), dt.date(2023, 8, 15))
                b.add("household_leads", "lead_id", community_id=cid, building_id=bid,
                      household=f"{int(rng.integers(1, 30)):02d}0{k + 1}室", established_on=est,
                      dissolved_on=None, source=src, source_note=note)
    return compounds


def _jiangxinyuan_chain(b: _Builder, cid: int, compounds, note: str):
    """8 branches, 88 building groups, 177 household leads, all in force by 2023-08 (published)."""
    rng = b.rng
    for i, (comp_id, cname, blds, hh) in enumerate(compounds):
        members = int(rng.integers(9, 30))
        b.add("branches", "branch_id", community_id=cid, compound_id=comp_id, branch=f"{cname}党支部",
              members=members, has_committee=True, established_on=dt.date(2020, 3 + i, 1), dissolved_on=None,
              source="published", source_note=note)
    all_blds = [bid for _, _, blds, _ in compounds for bid in blds]
    # groups grew through 2021-2022 as every 单元 chose a leader
    for k, bid in enumerate(all_blds):
        est = dt.date(2021, 1, 1) + dt.timedelta(days=int(k * 600 / len(all_blds)))
        b.add("building_groups", "group_id", community_id=cid, building_id=bid, leader=None,
              established_on=est, dissolved_on=None, source="published", source_note=note)
    leads_per_building = [2] * len(all_blds)
    leads_per_building[0] += 177 - 2 * len(all_blds)  # 88 × 2 + 1 = 177
    for bid, n in zip(all_blds, leads_per_building):
        for k in range(n):
            est = _rand_date(rng, dt.date(2021, 3, 1), dt.date(2023, 6, 30))
            b.add("household_leads", "lead_id", community_id=cid, building_id=bid,
                  household=f"{int(rng.integers(1, 12))}0{k + 1}室", established_on=est, dissolved_on=None,
                  source="published", source_note=note)


def _orgs(b: _Builder, cid: int, name: str, residents: int, rural: bool, months: list[dt.date]):
    rng = b.rng
    real = name in REAL
    note = REAL[name]["note"] if real else None
    if name == "西山社区":
        _xishan_orgs(b, cid, months, note)
        return
    n_target = int(rng.integers(2, 8)) if rural else int(np.clip(rng.normal(residents / 700 + 4, 4), 3, 40))
    for k in range(n_target):
        typ = ORG_TYPES[int(rng.choice(len(ORG_TYPES), p=[.3, .15, .25, .15, .1, .05]))]
        founded = _rand_date(rng, dt.date(2014, 1, 1), dt.date(2023, 8, 20))
        dissolved = None
        if rng.random() < 0.08:
            dissolved = _rand_date(rng, max(founded, dt.date(2021, 1, 1)) + dt.timedelta(days=60), dt.date(2023, 12, 31))
            if dissolved > LAST_DAY:
                dissolved = None
        oid = b.add("social_orgs", "org_id", community_id=cid, org=f"{name[:-2]}{typ}{k + 1}队" if typ == "志愿服务" else f"{name[:-2]}{typ}社{k + 1}",
                    type=typ, party_led=bool(rng.random() < 0.5), founded_on=founded, dissolved_on=dissolved,
                    source="simulated")
        if typ == "志愿服务" and rng.random() < 0.7:
            vol = int(rng.integers(10, 60))
            for m in months:
                if m < founded.replace(day=1) or (dissolved and m > dissolved):
                    continue
                vol = int(vol + rng.integers(-1, 4))
                b.add("org_monthly", org_id=oid, month=m, member_units=None, volunteers=max(vol, 1),
                      service_hours=round(float(vol * rng.uniform(1.5, 4.0)), 1), source="simulated")
    if name == "黄门街社区":
        oid = b.add("social_orgs", "org_id", community_id=cid, org="黄门街社区区域化党建联席会", type="党建联建",
                    party_led=True, founded_on=dt.date(2021, 9, 1), dissolved_on=None, source="published",
                    source_note="9 个驻区单位、14 个“两新”党组织为成员出自报道（共 23 家）；成立日期为模拟")
        for m in months:
            if m >= dt.date(2021, 9, 1):
                b.add("org_monthly", org_id=oid, month=m, member_units=23, volunteers=None, service_hours=None,
                      source="published", source_note="9 + 14 = 23 家成员单位出自报道")


def _xishan_orgs(b: _Builder, cid: int, months: list[dt.date], note: str):
    """43 organisations active at 2023-08-31; the 爱心联盟 grows from 14 to 152 member units."""
    rng = b.rng
    alliance = b.add("social_orgs", "org_id", community_id=cid, org="西山社区爱心联盟", type="公益慈善",
                     party_led=True, founded_on=dt.date(2020, 12, 1), dissolved_on=None, source="published",
                     source_note="社区规模最大的公益性社会组织，成员单位由 14 家增至 152 家，出自报道；月度过程为模拟")
    b.add("social_orgs", "org_id", community_id=cid, org="海宁市新居民发展联合会（西山）", type="邻里互助",
          party_led=True, founded_on=dt.date(2019, 5, 1), dissolved_on=None, source="published", source_note=note)
    # member units: 14 in the first month, 152 in the last, growing smoothly in between
    n = len(months)
    units = [int(round(14 + (152 - 14) * (i / (n - 1)) ** 1.3)) for i in range(n)]
    vol = 60
    for m, u in zip(months, units):
        vol += int(rng.integers(2, 9))
        b.add("org_monthly", org_id=alliance, month=m, member_units=u, volunteers=vol,
              service_hours=round(vol * float(rng.uniform(2.0, 3.5)), 1), source="published",
              source_note="首末两月 14、152 家出自报道；中间月份与志愿者、时长为模拟")
    # 41 more active at the end + 4 dissolved during the window = 43 active in all
    for k in range(45):
        typ = ORG_TYPES[int(rng.choice(5, p=[.35, .15, .25, .15, .1]))]
        founded = _rand_date(rng, dt.date(2012, 1, 1), dt.date(2023, 7, 31))
        dissolved = None
        if k >= 41:
            dissolved = _rand_date(rng, dt.date(2021, 6, 1), dt.date(2023, 7, 31))
            founded = min(founded, dt.date(2020, 6, 1))
        b.add("social_orgs", "org_id", community_id=cid, org=f"西山{typ}{'队' if typ == '志愿服务' else '社'}{k + 1}",
              type=typ, party_led=bool(rng.random() < 0.55), founded_on=founded, dissolved_on=dissolved,
              source="simulated")


def _tickets(b: _Builder, cid: int, name: str, residents: int, compounds, months, quality: float,
             hotspots: dict, practices: list):
    """Tickets of one community; volumes, outcomes and recurrences are simulated."""
    rng = b.rng
    cat_w = np.array([c[3] for c in CATEGORIES], dtype=float)
    cat_w /= cat_w.sum()
    comp_w = np.array([sum(hh) for _, _, _, hh in compounds], dtype=float) if compounds else None
    rows = []
    last = pd.Timestamp(LAST_DAY) + pd.Timedelta(days=1)
    for mi, m in enumerate(months):
        progress = mi / (len(months) - 1)
        days_in_month = ((m.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - m).days
        lam = residents / 1000 * rng.uniform(2.5, 4.5)
        n = int(rng.poisson(lam))
        cats = list(rng.choice(len(CATEGORIES), size=n, p=cat_w))
        comps = list(rng.choice(len(compounds), size=n, p=comp_w / comp_w.sum())) if compounds else [None] * n
        # recurring problems: a category that keeps coming back in one compound
        for (ci, cat), per_month in hotspots.items():
            k = int(rng.poisson(per_month))
            cats += [cat] * k
            comps += [ci] * k
        # a class spreading over many communities at once (summer 2023: e-bike charging; summer 2022: water pressure)
        if m >= dt.date(2023, 5, 1):
            k = int(rng.poisson(residents / 4000 + 1))
            cats += [CAT_INDEX["电动自行车充电"]] * k
            comps += list(rng.choice(len(compounds), size=k)) if compounds else [None] * k
        if dt.date(2022, 6, 1) <= m <= dt.date(2022, 8, 1):
            k = int(rng.poisson(residents / 5000 + 1))
            cats += [CAT_INDEX["水压不稳"]] * k
            comps += list(rng.choice(len(compounds), size=k)) if compounds else [None] * k
        for cat, ci in zip(cats, comps):
            l1, l2, l3, _, allowed = CATEGORIES[cat]
            # a practice that names this category was followed by fewer tickets of it
            dropped = False
            for p_start, p_cat, p_comp in practices:
                if p_cat in (l1, l2, l3) and m >= p_start and (p_comp is None or p_comp == ci):
                    if rng.random() < 0.85:
                        dropped = True
            if dropped:
                continue
            received = pd.Timestamp(m) + pd.Timedelta(seconds=int(rng.integers(0, days_in_month * 86400)))
            due = received + pd.Timedelta(days=allowed)
            p_close = 0.97
            closed = None
            if rng.random() < p_close:
                days = float(rng.lognormal(np.log(allowed * (0.9 - 0.3 * quality * progress)), 0.7))
                closed = received + pd.Timedelta(hours=max(2.0, days * 24))
                if closed >= last:
                    closed = None
            contacted = solved = satisfaction = None
            if closed is not None and rng.random() < 0.88:
                contacted = bool(rng.random() < 0.85 + 0.12 * quality * (0.4 + 0.6 * progress))
                p_solved = 0.55 + 0.4 * quality * (0.3 + 0.7 * progress)
                solved = bool(contacted and rng.random() < p_solved)
                if solved:
                    satisfaction = SATISFACTION[int(rng.choice(5, p=[.45, .35, .15, .04, .01]))]
                else:
                    satisfaction = SATISFACTION[int(rng.choice(5, p=[.05, .15, .3, .35, .15]))]
            comp_id = building_id = None
            if ci is not None and rng.random() < 0.93:
                comp_id, _, blds, _ = compounds[ci]
                building_id = int(blds[int(rng.integers(0, len(blds)))]) if rng.random() < 0.8 else None
            rows.append(dict(
                community_id=cid, compound_id=comp_id, building_id=building_id,
                category_l1=l1, category_l2=l2, category_l3=l3,
                channel=CHANNELS[int(rng.choice(4, p=CHANNEL_P))],
                received_at=received, due_at=due, closed_at=closed,
                status="已办结" if closed is not None else "办理中",
                contacted=contacted, solved=solved, satisfaction=satisfaction, source="simulated"))
    return rows


def generate(seed: int = SEED) -> dict[str, pd.DataFrame]:
    """All demonstration rows, table by table."""
    b = _Builder(seed)
    rng = b.rng
    months = _months()
    ticket_rows = []
    cat_index = CAT_INDEX
    for province, city, district, street, real_name, n_sim, n_rural in STREETS:
        names = [real_name] + [f"{street[:2]}{SIM_LETTERS[i]}{'村' if i >= n_sim - n_rural else '社区'}"
                               for i in range(n_sim)]
        for idx, name in enumerate(names):
            real = name == real_name
            rural = name.endswith("村")
            if real:
                spec = REAL[name]
            else:
                nc = int(rng.integers(2, 5)) if rural else int(rng.integers(3, 10))
                spec = dict(compounds=[f"{name[:-2] if not rural else name[:-1]}{k + 1}{'组' if rural else '小区'}" for k in range(nc)],
                            buildings=[int(rng.integers(4, 25)) for _ in range(nc)],
                            hh_per_building=int(rng.integers(20, 60)), area=round(float(rng.uniform(0.3, 2.5)), 2))
            # one simulated community in 玉林街道 has not reported its organisations (empty states)
            no_org = street == "玉林街道" and idx == n_sim
            cid = b.ids["communities"] + 1
            compounds = _community_structure(b, cid, name, spec, real, no_org)
            households = sum(sum(hh) for _, _, _, hh in compounds)
            residents = spec.get("residents") or int(households * rng.uniform(2.5, 2.9))
            b.add("communities", "community_id", province=province, city=city, district=district, street=street,
                  community=name, type="rural" if rural else "urban", households=households, residents=residents,
                  area_km2=spec["area"], source="published" if real else "simulated",
                  source_note=(ARTICLE + "；" + spec["note"]) if real else None)
            _orgs(b, cid, name, residents, rural, months)

            comp_index = {cname: i for i, (_, cname, _, _) in enumerate(compounds)}
            hotspots, practices = {}, []
            for p in PRACTICES:
                if p[0] != name:
                    continue
                pid = b.add("practices", "practice_id", community_id=cid, practice=p[1], started_on=p[2],
                            related_category=p[3], description=p[4], source="published", source_note=ARTICLE)
                del pid
            if name == "裕园社区":
                ci = comp_index["东方新天地花园小区"]
                hotspots[(ci, cat_index["下水道堵塞"])] = 4.0
                hotspots[(ci, cat_index["公共收益公开"])] = 1.0
                practices += [(dt.date(2023, 6, 1), "下水道堵塞", ci), (dt.date(2022, 9, 1), "公共收益公开", None)]
            elif name == "文昌花园社区":
                ci = comp_index["文康苑小区"]
                hotspots[(ci, cat_index["老旧小区加装电梯"])] = 3.0
                practices.append((dt.date(2022, 6, 1), "老旧小区加装电梯", ci))
            elif name == "康城社区":
                hotspots[(comp_index["康城三街坊"], cat_index["小区停车难"])] = 3.0
                hotspots[(comp_index["康城七街坊"], cat_index["物业费争议"])] = 1.5
                practices.append((dt.date(2022, 11, 1), "物业费争议", None))
            elif compounds and rng.random() < 0.6:
                hotspots[(int(rng.integers(0, len(compounds))), int(rng.integers(0, len(CATEGORIES))))] = float(rng.uniform(0.8, 2.0))
            quality = 0.9 if real else float(rng.uniform(0.3, 1.0))
            ticket_rows += _tickets(b, cid, name, residents, compounds, months, quality, hotspots, practices)

    frames = {t: pd.DataFrame(rows) for t, rows in b.rows.items()}
    tickets = pd.DataFrame(ticket_rows).sort_values(["received_at", "community_id"], kind="stable")
    tickets.insert(0, "ticket_id", [f"D{y}{i:07d}" for i, y in enumerate(tickets["received_at"].dt.year, start=1)])
    frames["tickets"] = tickets.reset_index(drop=True)
    return frames


def load(con, frames: dict[str, pd.DataFrame]) -> None:
    """Write generated rows and default settings into an empty schema, in one transaction."""
    con.execute("BEGIN")
    try:
        for table in DATA_TABLES:
            df = frames.get(table)
            if df is None or df.empty:
                continue
            con.register("_frame", df)
            cols = ", ".join(df.columns)
            con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _frame")
            con.unregister("_frame")
        con.executemany("INSERT INTO settings (key, effective_from, value, note) VALUES (?, ?, ?, ?)", SETTINGS)
        con.execute("INSERT INTO meta VALUES ('demo', '1') ON CONFLICT (key) DO UPDATE SET value = '1'")
        bump_data_version(con)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def build_demo_database(path: Path | str) -> dict:
    """Build the demonstration database at `path` atomically (temp file, then rename)."""
    import duckdb

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    fd, tmp = tempfile.mkstemp(prefix=".demo-", suffix=".duckdb", dir=path.parent)
    os.close(fd)
    os.unlink(tmp)
    try:
        con = duckdb.connect(tmp)
        create_schema(con)
        frames = generate()
        load(con, frames)
        refresh_rollups(con)
        con.execute("CHECKPOINT")
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in DATA_TABLES}
        con.close()
        os.replace(tmp, path)
    finally:
        for leftover in (tmp, tmp + ".wal"):
            if os.path.exists(leftover):
                os.unlink(leftover)
    return {"seconds": time.perf_counter() - t0, "counts": counts}
