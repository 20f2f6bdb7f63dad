"""The tickets family's queries and arithmetic on the hand-built fixture plus this module's own rows.

Rows added here (ids >= 1000; the base rows are described in tests/fixtures.py):

Communities  1000 戊社区 (南街道, 500 residents; compounds 1001 戊一小区, 1002 戊二小区)
             1001 己社区 (南街道, no tickets at all: rates not available, never 0%)
             1010..1019 庚1社区..庚10社区 (北街道, one 树木修剪 ticket each in 2023-07)

Tickets of 戊社区 (LAMP = 路灯不亮, NOISE = 装修噪声, GARB = 垃圾未及时清运)
  E01 LAMP 戊一 2023-04-01 10:00 closed 04-02           (before the period: only a look-back source)
  E02 LAMP 戊一 2023-06-30 09:00 closed 07-03 (3 d, due 07-07)  contacted, solved, 满意
      -> previous LAMP in 戊一 on 04-01: day 90 -> REPEAT (although less than 90 × 24 h)
  E03 LAMP 戊二 2023-04-01 08:00 closed 04-02           (before the period)
  E04 LAMP 戊二 2023-07-01 20:00 closed 07-11 (10 d, due 07-08: late)  contacted, not solved, 基本满意
      -> previous LAMP in 戊二 on 04-01: day 91 -> not a repeat (although more than 91 × 24 h)
  E10..E19 NOISE 戊一 2023-07-01..07-10 10:00, each closed 1 day later (due +7 d), contacted, solved, 非常满意
      -> ten tickets in one community: E11..E19 repeat (9), E10 does not
  E20 NOISE, no compound, 2023-07-05 12:00 closed 07-06 (1 d, due 07-12), no follow-up
      -> cannot repeat, but in the T8 denominator
  E31 GARB 戊二 2023-08-25 09:00 closed 2023-09-05 (after D, 11 d, due 08-28: late), no follow-up
      -> open at D, age 6 -> backlog <= 7
  E32 GARB, no compound, 2023-08-10 09:00, still open, no follow-up -> backlog 8-30 (age 21)
  E33 GARB 戊一 2023-03-01 09:00, still open (received before the period) -> backlog > 30 (age 183)

戊社区 in 2023-06-01 .. 2023-08-31 (D):
  tickets 15 (E02, E04, E10-E19, E20, E31, E32)
  follow-ups 12 (E02, E04, E10-E19), contacted 12, solved 11 (E02 + 10), satisfied 1 + 0.6 + 10 = 11.6
  closed 14 (all but E32; E31's closure after D is known), on time 12 (E04 and E31 late)
  T2 = 12/12, T3 = 11/12, T4 = 11.6/12; T9 (0.30/0.35/0.35) = 100 × (0.30 + 0.35 × 11/12 + 0.35 × 11.6/12)
     = 100 × (0.3 + 0.3208333 + 0.3383333) = 95.91667
  T6 days of the 14 closed: eleven × 1 (E10-E20), 3 (E02), 10 (E04), 11 (E31)
     median = 1.0; P90 = position 13 × 0.9 = 11.7 between 3 and 10 -> 3 + 0.7 × 7 = 7.9
  T7 at D: E31 (<= 7), E32 (8-30), E33 (> 30) -> 3
  T8 = (E02 + E11..E19) 10 / 15
Practice 1000 of 戊社区 (2023-08-01, related category 噪声扰民 = level 1): see test_before_after_months_counts_and_change.
"""

import datetime as dt

import numpy as np
import pytest

from governance import db, exports, metrics
from governance import tickets as tk
from tests import fixtures
from tests.fixtures import ALL, D, PERIOD, _community, _ticket
from governance.access import ALL_SCOPE

LAMP = ("市政设施", "路灯照明", "路灯不亮")
NOISE = ("噪声扰民", "生活噪声", "装修噪声")
GARB = ("市容环境", "垃圾清运", "垃圾未及时清运")
TREE = ("市容环境", "绿化养护", "树木修剪")
SEWER = ("物业管理", "设施维修", "下水道堵塞")


def _extra():
    tickets = [
        _ticket("E01", 1000, "2023-04-01 10:00", "2023-04-08 10:00", "2023-04-02 10:00", compound=1001, cat=LAMP),
        _ticket("E02", 1000, "2023-06-30 09:00", "2023-07-07 09:00", "2023-07-03 09:00", True, True, "满意",
                compound=1001, cat=LAMP),
        _ticket("E03", 1000, "2023-04-01 08:00", "2023-04-08 08:00", "2023-04-02 08:00", compound=1002, cat=LAMP),
        _ticket("E04", 1000, "2023-07-01 20:00", "2023-07-08 20:00", "2023-07-11 20:00", True, False, "基本满意",
                compound=1002, cat=LAMP),
    ]
    for k in range(10):
        day = f"2023-07-{k + 1:02d}"
        tickets.append(_ticket(f"E1{k}", 1000, f"{day} 10:00", f"2023-07-{k + 8:02d} 10:00", f"2023-07-{k + 2:02d} 10:00",
                               True, True, "非常满意", compound=1001, cat=NOISE))
    tickets += [
        _ticket("E20", 1000, "2023-07-05 12:00", "2023-07-12 12:00", "2023-07-06 12:00", cat=NOISE),
        _ticket("E31", 1000, "2023-08-25 09:00", "2023-08-28 09:00", "2023-09-05 09:00", compound=1002, cat=GARB),
        _ticket("E32", 1000, "2023-08-10 09:00", "2023-08-13 09:00", None, cat=GARB),
        _ticket("E33", 1000, "2023-03-01 09:00", "2023-03-04 09:00", None, compound=1001, cat=GARB),
    ]
    # one 树木修剪 ticket in each of ten communities, all in July 2023
    tickets += [_ticket(f"G{k}", 1010 + k, f"2023-07-{k + 11:02d} 10:00", f"2023-07-{k + 18:02d} 10:00",
                        f"2023-07-{k + 12:02d} 10:00", True, True, "满意", cat=TREE) for k in range(10)]
    return {
        "communities": [_community(1000, "南街道", "戊社区", "urban", 200, 500),
                        _community(1001, "南街道", "己社区", "urban", 80, 200)]
                       + [_community(1010 + k, "北街道", f"庚{k + 1}社区", "urban", 10, 25) for k in range(10)],
        "compounds": [dict(compound_id=1001, community_id=1000, compound="戊一小区", households=100),
                      dict(compound_id=1002, community_id=1000, compound="戊二小区", households=100)],
        "tickets": tickets,
        "practices": [dict(practice_id=1000, community_id=1000, practice="戊社区装修管理公约",
                           started_on=dt.date(2023, 8, 1), related_category="噪声扰民", description="测试：按一级类别匹配")],
    }


@pytest.fixture
def con(tmp_path):
    c = db.connect(fixtures.build(tmp_path / "tickets.duckdb", extra=_extra()))
    yield c
    c.close()


def run(con, name, **params):
    return db.run_query(con, name, {**ALL, **PERIOD, **params}, scope=ALL_SCOPE)


def rates(con, community):
    return run(con, "tickets/rates_by_community", community=community)


# ------------------------------------------------------------------ headline (T1-T5, T9)

def test_rates_of_a_community_by_hand(con):
    r = rates(con, "戊社区").iloc[0]
    assert (r["tickets"], r["followups"], r["contacted"], r["solved"]) == (15, 12, 12, 11)
    assert r["satisfied"] == pytest.approx(11.6)
    assert (r["closed"], r["closed_on_time"]) == (14, 12)
    weights = metrics.score_weights(run(con, "settings/in_force"))
    t = metrics.tickets(rates(con, "戊社区"), weights)
    assert t["T3"].value == pytest.approx(11 / 12)
    assert t["T9"].value == pytest.approx(95.91667, abs=1e-4)


def test_community_with_zero_tickets_has_no_rates_not_zero(con):
    df = rates(con, "己社区")
    assert df.iloc[0]["tickets"] == 0 and df.iloc[0]["followups"] == 0
    t = metrics.tickets(df, metrics.score_weights(run(con, "settings/in_force")))
    assert t["T2"].value is None and t["T3"].value is None and t["T4"].value is None and t["T9"].value is None
    ranked = tk.with_rates(df)
    assert np.isnan(ranked.iloc[0]["T3"]) and np.isnan(ranked.iloc[0]["T3_lo"])
    assert not ranked.iloc[0]["small_sample"]
    s = tk.summary(run(con, "tickets/summary", community="己社区").iloc[0])
    assert s["T8"].value is None and s["median_days"].value is None and s["backlog"].value == 0


# ------------------------------------------------------------------ T6, T7, T8

def test_summary_handling_time_backlog_and_repeats_by_hand(con):
    s = run(con, "tickets/summary", community="戊社区").iloc[0]
    assert (s["tickets"], s["closed"]) == (15, 14)
    assert s["median_days"] == pytest.approx(1.0)
    assert s["p90_days"] == pytest.approx(7.9)
    # E31 closed after D is still open at D; E33 received before the period still counts
    assert (s["backlog"], s["backlog_le7"], s["backlog_8_30"], s["backlog_gt30"]) == (3, 1, 1, 1)
    assert s["repeats"] == 10                     # E02 (day 90) and E11..E19; not E04 (day 91) nor E20
    assert tk.summary(s)["T8"].value == pytest.approx(10 / 15)


def test_summary_of_the_base_community(con):
    # 甲社区: closed in the period T1 3 d, T2 20 d, T4 1 d, T6 0.5 h -> median (1 + 3) / 2 = 2,
    # P90 at position 3 × 0.9 = 2.7 -> 3 + 0.7 × 17 = 14.9; T3 open at D (age 61); T6 closed ON D is not open
    s = run(con, "tickets/summary", community="甲社区").iloc[0]
    assert s["median_days"] == pytest.approx(2.0)
    assert s["p90_days"] == pytest.approx(14.9)
    assert (s["backlog"], s["backlog_le7"], s["backlog_8_30"], s["backlog_gt30"]) == (1, 0, 0, 1)
    # T1 (5 days after T5 received 05-31, before the period), T2, T4 repeat in 甲一小区; T3 first in 甲二; T6 no compound
    assert (s["tickets"], s["repeats"]) == (5, 3)


def test_backlog_depends_on_the_as_of_date(con):
    # at 2023-08-20: E31 not yet received; E32 age 10 -> 8-30; E33 > 30; 甲's T3 > 30
    s = run(con, "tickets/summary", street="南街道", end=dt.date(2023, 8, 20), as_of=dt.date(2023, 8, 20)).iloc[0]
    assert (s["backlog"], s["backlog_le7"], s["backlog_8_30"], s["backlog_gt30"]) == (2, 0, 1, 1)


def test_recurring_pairs_worst_first_with_dates(con):
    df = run(con, "tickets/recurring_pairs")
    got = [(r.compound, r.category_l3, r.tickets, r.repeats) for r in df.itertuples()]
    # 戊一 NOISE 10 tickets / 9 repeats; 甲一 sewer T1, T2, T4 all repeat; 戊一 LAMP E02 at day 90.
    # 戊二 LAMP (E04 at day 91) and 戊二 GARB (E31 alone) have no repeat and are not listed.
    assert got == [("戊一小区", "装修噪声", 10, 9), ("甲一小区", "下水道堵塞", 3, 3), ("戊一小区", "路灯不亮", 1, 1)]
    noise = df.iloc[0]
    assert (noise["first_received"], noise["last_received"]) == (dt.date(2023, 7, 1), dt.date(2023, 7, 10))
    assert noise["recent_dates"].split("、") == [f"2023-07-{d:02d}" for d in range(10, 2, -1)]   # newest 8
    assert df.iloc[1]["open_now"] == 0 and df.iloc[1]["community"] == "甲社区"


def test_recurring_pairs_limit_keeps_the_worst_and_flags_the_cap(con):
    # the page shows the worst max_rows pairs; the query reads one more so the runner knows it capped
    two = db.run_query(con, "tickets/recurring_pairs", {**ALL, **PERIOD}, max_rows=2, scope=ALL_SCOPE)
    assert [(r.compound, r.category_l3) for r in two.itertuples()] == [("戊一小区", "装修噪声"), ("甲一小区", "下水道堵塞")]
    assert two.attrs["capped"]
    three = db.run_query(con, "tickets/recurring_pairs", {**ALL, **PERIOD}, max_rows=3, scope=ALL_SCOPE)
    assert len(three) == 3 and not three.attrs["capped"]


def test_ninety_day_window_edges(con):
    lamp = run(con, "tickets/recurring_pairs", community="戊社区")
    lamp = lamp[lamp["category_l3"] == "路灯不亮"]
    assert lamp["compound"].tolist() == ["戊一小区"]   # day 90 counts; 戊二's day 91 does not


# ------------------------------------------------------------------ spreading

def test_one_ticket_in_ten_communities_spreads_ten_in_one_does_not(con):
    df = run(con, "tickets/spreading", min_communities=3, top=10)
    assert set(df["category_l3"]) == {"树木修剪"}          # 装修噪声: 11 tickets but one community
    assert df["month"].tolist() == [dt.date(2023, 6, 1), dt.date(2023, 7, 1), dt.date(2023, 8, 1)]
    assert df["communities"].tolist() == [0, 10, 0]
    r = df.iloc[1]
    assert (r["peak_month"], r["peak_communities"], r["peak_baseline"]) == (dt.date(2023, 7, 1), 10, 0)
    assert (r["spread_months"], r["spread_tickets"], r["categories_spreading"]) == (1, 10, 1)
    assert r["selected_communities"] == 15


def test_spreading_ranks_by_excess_over_baseline_and_cuts_to_top(con):
    # with 2 communities enough, 下水道堵塞 spreads in June (甲 and 丙): peak 2 over a baseline of
    # 1/6 (甲's T5 in May among Dec..May) -> excess 1.83, below 树木修剪's 10
    df = run(con, "tickets/spreading", min_communities=2, top=5)
    order = df.drop_duplicates("rank")[["rank", "category_l3"]].values.tolist()
    assert order == [[1, "树木修剪"], [2, "下水道堵塞"]]
    sewer = df[(df["category_l3"] == "下水道堵塞") & (df["month"] == dt.date(2023, 6, 1))].iloc[0]
    assert sewer["baseline"] == pytest.approx(1 / 6)
    top1 = run(con, "tickets/spreading", min_communities=2, top=1)
    assert set(top1["category_l3"]) == {"树木修剪"} and top1.iloc[0]["categories_spreading"] == 2


# ------------------------------------------------------------------ before / after

def test_before_after_months_counts_and_change(con):
    df = run(con, "tickets/before_after")
    # data months run from 2023-03 (E33) to 2023-08: months outside are NULL, not 0
    base = df[df["practice_id"] == 501]
    assert base["rel_month"].tolist() == list(range(-6, 6))
    assert [None if np.isnan(x) else int(x) for x in base["tickets"]] == [None, None, None, 0, 0, 1, 2, 2, 1, None, None, None]
    # practice 1000 names the level-1 category 噪声扰民: E10..E19 and E20 in July, none in August
    mine = df[df["practice_id"] == 1000]
    assert mine["month"].iloc[0] == dt.date(2023, 2, 1)
    assert [None if np.isnan(x) else int(x) for x in mine["tickets"]] == [None, 0, 0, 0, 0, 11, 0, None, None, None, None, None]
    s = tk.before_after_summary(df).set_index("practice_id")
    # 501: before 1 ticket over 3 months with data, after 5 over 3 -> 1/3 to 5/3 = +400%
    assert (s.loc[501, "before_months"], s.loc[501, "after_months"]) == (3, 3)
    assert s.loc[501, "change"] == pytest.approx(4.0)
    # 1000: 11 over 5 months before, 0 over 1 month after -> -100%
    assert s.loc[1000, "before_avg"] == pytest.approx(2.2) and s.loc[1000, "change"] == pytest.approx(-1.0)
    assert tk.fmt_change(s.loc[1000, "change"]) == "-100%"


def test_before_after_is_empty_without_related_practices(con):
    assert run(con, "tickets/before_after", community="丙社区").empty


def test_class_downloads_list_ids_categories_and_dates(con):
    rows = run(con, "tickets/class_tickets", category_l1=NOISE[0], category_l2=NOISE[1], category_l3=NOISE[2],
               community_id=None, compound_id=1001, from_day=PERIOD["start"], to_day=D)
    assert rows["ticket_id"].tolist() == [f"E1{k}" for k in range(10)]
    whole = run(con, "tickets/class_tickets", category_l1=NOISE[0], category_l2=NOISE[1], category_l3=NOISE[2],
                community_id=1000, compound_id=None, from_day=PERIOD["start"], to_day=D)
    assert len(whole) == 11 and "E20" in whole["ticket_id"].tolist()
    practice = run(con, "tickets/practice_tickets", practice_id=501)
    assert practice["ticket_id"].tolist() == ["T5", "T1", "T2", "T3", "T4", "T6"]
    assert practice["period"].tolist() == ["前", "后", "后", "后", "后", "后"]
    data = exports.csv_bytes(tk.class_csv(practice))
    assert data.startswith(b"\xef\xbb\xbf")
    header = data.decode("utf-8-sig").splitlines()[0].split(",")
    assert header[:7] == ["诉求编号", "街道", "社区", "小区", "一级类别", "二级类别", "三级类别"] and "受理时间" in header


def test_practice_tickets_outside_the_selection_are_not_returned(con):
    assert run(con, "tickets/practice_tickets", practice_id=501, community="丙社区").empty


# ------------------------------------------------------------------ trend and categories

def test_monthly_trend_by_hand(con):
    df = run(con, "tickets/monthly").set_index("month")
    june, july, aug = (df.loc[dt.date(2023, m, 1)] for m in (6, 7, 8))
    # June: T1, T2, C1, E02 (all with follow-ups; T2 not solved, 不满意 0)
    assert (june["tickets"], june["followups"], june["contacted"], june["solved"]) == (4, 4, 4, 3)
    assert june["satisfied"] == pytest.approx(3.0)
    # July: T3, T4, E04, E10-E19, E20, ten G tickets; T3 and E20 have no follow-up, T4 was not contacted
    assert (july["tickets"], july["followups"], july["contacted"], july["solved"]) == (24, 22, 21, 20)
    assert july["satisfied"] == pytest.approx(0.6 + 10 + 10)
    assert (aug["tickets"], aug["followups"], aug["closed"]) == (3, 1, 2)


def test_monthly_weights_do_not_rewrite_earlier_months(tmp_path):
    # 基本满意 weighs 0.8 from 2023-08-01: T6 (August) takes 0.8, E04 (July) keeps 0.6
    extra = _extra()
    extra["settings"] = [("satisfaction_weight_基本满意", "2023-08-01", 0.8)]
    c = db.connect(fixtures.build(tmp_path / "w.duckdb", extra=extra))
    try:
        df = db.run_query(c, "tickets/monthly", {**ALL, **PERIOD}, scope=ALL_SCOPE).set_index("month")
        assert df.loc[dt.date(2023, 7, 1), "satisfied"] == pytest.approx(20.6)
        assert df.loc[dt.date(2023, 8, 1), "satisfied"] == pytest.approx(0.8)
        settings = db.run_query(c, "settings/in_force", {"as_of": D}, scope=ALL_SCOPE)
        assert "基本满意 0.8" in tk.weights_note(settings) and "2023-08-01" in tk.weights_note(settings)
    finally:
        c.close()


def test_months_without_tickets_are_zero_rows(con):
    df = run(con, "tickets/monthly", community="己社区")
    assert len(df) == 3 and df["tickets"].sum() == 0 and df["followups"].sum() == 0


def test_by_category_by_hand(con):
    df = run(con, "tickets/by_category")
    assert df.iloc[0]["category_l3"] == "装修噪声" and df.iloc[0]["tickets"] == 11
    sewer = df[df["category_l3"] == "下水道堵塞"].iloc[0]
    # T1, T2, T3, T4, T6, C1; follow-ups all but T3; contacted T1, T2, T6, C1; solved T1, T6, C1
    assert (sewer["tickets"], sewer["followups"], sewer["contacted"], sewer["solved"], sewer["closed"]) == (6, 5, 4, 3, 5)
    assert sewer["satisfied"] == pytest.approx(1 + 0 + 0.6 + 1)
    assert int(df["tickets"].sum()) == 6 + 11 + 10 + 2 + 2


def test_weights_note_names_weights_and_dates(con):
    note = tk.weights_note(run(con, "settings/in_force"))
    assert "响应 0.3 / 解决 0.35 / 满意 0.35（2023-07-01 起生效）" in note
    assert "基本满意 0.6" in note and "2021-01-01" in note
    early = tk.weights_note(run(con, "settings/in_force", as_of=dt.date(2023, 6, 30)))
    assert "响应 0.1 / 解决 0.5 / 满意 0.4（2021-01-01 起生效）" in early


# ------------------------------------------------------------------ Wilson and funnel

def test_wilson_interval_and_small_sample_mark(con):
    r = tk.with_rates(rates(con, "戊社区"), metrics.score_weights(run(con, "settings/in_force"))).iloc[0]
    # 11 of 12: centre (0.91667 + 0.16006) / 1.32012 = 0.81563, half 1.96 × 0.11417 / 1.32012 = 0.16951
    assert (r["T3_lo"], r["T3_hi"]) == (pytest.approx(0.6461, abs=1e-3), pytest.approx(0.9851, abs=1e-3))
    assert r["small_sample"]                      # 12 follow-ups < 30
    assert r["T9"] == pytest.approx(95.91667, abs=1e-4)


def test_funnel_limits_and_positions():
    import pandas as pd

    lo, hi = tk.funnel_limits(0.8, [100])
    assert (lo[0], hi[0]) == (pytest.approx(0.8 - 1.959964 * 0.04), pytest.approx(0.8 + 1.959964 * 0.04))
    df = pd.DataFrame({"community": ["大甲", "大乙", "小丙", "空丁"], "followups": [100, 100, 2, 0],
                       "solved": [72, 90, 1, 0], "contacted": [0, 0, 0, 0], "satisfied": [0, 0, 0, 0]})
    # p0 = 163 / 202 = 0.80693; at n = 100 the limits are 0.7296 .. 0.8843
    p0, where = tk.funnel_position(df, "T3")
    assert p0 == pytest.approx(163 / 202)
    # the small community's 50% on 2 follow-ups is within its (wide) limits: not ranked like a large one
    assert where.tolist() == ["低于控制限", "高于控制限", "控制限内", "无数据"]
    fig = tk.funnel_figure(df, "T3")
    names = [t.name for t in fig.data]
    assert "控制限内（样本少）" in names and "低于控制限" in names and "高于控制限" in names
