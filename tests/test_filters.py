"""URL parameters → the shared selection: validated against known values, with Chinese notices."""

import datetime as dt

import pandas as pd

from governance.filters import options_for, resolve
from governance.periods import Period, parse_month

COMMUNITIES = pd.DataFrame([
    dict(province="湖北省", city="武汉市", district="汉阳区", street="江堤街道", community="江欣苑社区"),
    dict(province="湖北省", city="武汉市", district="汉阳区", street="江堤街道", community="新华社区"),
    dict(province="浙江省", city="嘉兴市", district="海宁市", street="硖石街道", community="西山社区"),
    dict(province="浙江省", city="嘉兴市", district="海宁市", street="海昌街道", community="新华社区"),
])
FIRST, LAST = dt.date(2021, 1, 1), dt.date(2023, 8, 1)


def res(**raw):
    return resolve(raw, COMMUNITIES, FIRST, LAST)


def test_defaults_are_everything_and_the_last_twelve_months():
    s = res()
    assert s.region_params() == dict(province=None, city=None, district=None, street=None, community=None)
    assert s.period == Period(dt.date(2022, 9, 1), dt.date(2023, 8, 1))
    assert s.notices == ()


def test_community_alone_fills_its_region():
    s = res(community="江欣苑社区")
    assert (s.province, s.city, s.district, s.street, s.community) == ("湖北省", "武汉市", "汉阳区", "江堤街道", "江欣苑社区")


def test_ambiguous_community_needs_its_street():
    s = res(community="新华社区")
    assert s.community is None and "请在链接中同时指定 street" in s.notices[0]
    s = res(community="新华社区", street="海昌街道")
    assert (s.community, s.province) == ("新华社区", "浙江省")


def test_unknown_and_hostile_values_fall_back_with_a_notice():
    s = res(community="' OR 1=1 --")
    assert s.community is None and "不存在" in s.notices[0]
    s = res(street="x" * 10_000)
    assert s.street is None and "过长" in s.notices[0]
    s = res(community=["西山社区", "江欣苑社区"])          # repeated parameter: the first one counts
    assert s.community == "西山社区"


def test_months_malformed_out_of_range_and_reversed():
    assert res(**{"from": "2023年6月"}).notices[0].startswith("链接中的起始月份")
    s = res(**{"from": "2023-06", "to": "2023-02"})
    assert s.period == Period(dt.date(2023, 2, 1), dt.date(2023, 6, 1)) and "对调" in s.notices[-1]
    s = res(**{"from": "2019-01", "to": "2030-12"})
    assert s.period == Period(FIRST, LAST) and "调整" in s.notices[0]
    assert res(to="2022-05").period == Period(dt.date(2021, 6, 1), dt.date(2022, 5, 1))
    assert parse_month("2023-13") is None and parse_month("2023-1") is None


def test_previous_period_has_equal_length():
    p = Period(dt.date(2022, 9, 1), dt.date(2023, 8, 1))
    assert p.previous() == Period(dt.date(2021, 9, 1), dt.date(2022, 8, 1))
    assert p.end == dt.date(2023, 8, 31) and p.n_months == 12


def test_options_cascade():
    assert options_for(COMMUNITIES, "community", {"street": "江堤街道"}) == ["新华社区", "江欣苑社区"]
    assert options_for(COMMUNITIES, "city", {"province": "浙江省"}) == ["嘉兴市"]
