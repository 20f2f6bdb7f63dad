"""培训模式's slides and their PowerPoint file on the hand-built fixture: one slide per family with
the comparison's numbers and ranks, one per community's practices, slide=N, colours apart in grey,
and a .pptx whose Chinese text is text in a font that carries Chinese."""

import io

import pandas as pd
import pytest
from pptx import Presentation
from pptx.oxml.ns import qn

from governance import compare as cmp
from governance import db, metrics
from governance import slides as sl
from governance.access import ALL_SCOPE
from tests.fixtures import ALL, PERIOD

NAMES = {1: "甲社区", 3: "丙社区"}


@pytest.fixture
def deck(fixture_con):
    p = {**ALL, **PERIOD}
    q = lambda name: db.run_query(fixture_con, name, p, scope=ALL_SCOPE)
    values = cmp.community_values(q("coverage/coverage_by_community"), q("organizations/orgs_by_community"),
                                  q("tickets/rates_by_community"), q("compare/durations_by_community"),
                                  metrics.score_weights(q("settings/in_force")))
    comp = cmp.comparison(values, [1, 3], {1: [3], 3: [1]})
    practices = cmp.with_family(pd.DataFrame([dict(
        community_id=1, practice="甲一小区管网改造", started_on="2023-06-01", related_category="下水道堵塞",
        description="管网改造后下水道堵塞减少。", source="simulated", source_note=None)]))
    return sl.deck(comp, NAMES, [1, 3], practices)


def test_one_slide_per_family_then_each_communitys_practices(deck):
    assert [s.title for s in deck] == [*sl.FAMILY_TITLES, "甲社区 · 经验做法", "丙社区 · 经验做法"]
    cover = deck[0]
    assert cover.headers[0] == "小区党支部覆盖率（C1）"   # named, code after the name
    # 甲 C1 = 1/3 (fixture docstring): 2nd of the 3 communities, 2nd in its group of 2; 丙 1/1 is the best
    assert [n for n, _ in cover.rows] == ["甲社区", "丙社区"]
    first, second = cover.rows[0][1][0], cover.rows[1][1][0]
    assert (first.big, first.small, first.best) == ("33.3%", "2/3 · 组内 2/2", False)
    assert (second.big, second.best) == ("★ 100.0%", True)
    assert deck[3].items[0][:2] == ("2023-06", "甲一小区管网改造") and deck[4].items == []
    assert [name for name, _ in deck[3].figures] == [sl.header(k) for k in sl.PRACTICE_FIGURES]


def test_slide_number_from_the_link():
    assert sl.slide_number(None, 5) == (1, None)
    assert sl.slide_number("3", 5) == (3, None)
    for bad in ("0", "6", "x", "-1", "2.5"):
        n, notice = sl.slide_number(bad, 5)
        assert n == 1 and "1 至 5" in notice


def test_colours_stay_apart_in_grey_and_each_bar_has_its_own_pattern():
    grey = sorted(0.299 * int(c[1:3], 16) + 0.587 * int(c[3:5], 16) + 0.114 * int(c[5:7], 16) for c in sl.COLORS)
    assert len(sl.COLORS) == 8 and min(b - a for a, b in zip(grey, grey[1:])) >= 12
    assert len(set(sl.PATTERNS)) == 8


def test_bar_chart_ticks_are_large_enough_for_a_room(deck):
    fig = sl.bar_figure(deck[2])
    assert fig.layout.yaxis.tickfont.size >= 18 and fig.layout.xaxis.tickfont.size >= 18
    assert list(fig.data[0].y) == ["甲社区", "丙社区"]


def test_pptx_text_is_text_with_a_chinese_font(deck):
    data = sl.pptx_bytes(deck, {"period": "期间：2023-06 至 2023-08", "demo": "演示数据：模拟"})
    prs = Presentation(io.BytesIO(data))
    assert len(prs.slides) == len(deck) and prs.slide_width > prs.slide_height
    texts = sl.slide_text(data)
    assert texts[0].startswith("组织覆盖") and "33.3%" in texts[0] and "2/3 · 组内 2/2" in texts[0]
    assert "甲一小区管网改造" in texts[3] and "演示数据：模拟" in texts[0]
    runs = [r for s in prs.slides for sh in s.shapes if sh.has_text_frame
            for p in sh.text_frame.paragraphs for r in p.runs]
    assert runs and all(r._r.get_or_add_rPr().find(qn("a:ea")).get("typeface") == sl.PPT_FONT for r in runs)


def test_pptx_shapes_stay_on_the_slide(deck):
    prs = Presentation(io.BytesIO(sl.pptx_bytes(deck * 2, {"period": "期间"})))
    for s in prs.slides:
        for sh in s.shapes:
            assert sh.left >= 0 and sh.top >= 0
            assert sh.left + sh.width <= prs.slide_width and sh.top + sh.height <= prs.slide_height, sh.name
