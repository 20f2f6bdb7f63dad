"""每月一题: adopting a candidate and closing it (governance/problems.py), how the bulletin follows it,
and who sees the controls.

On the fixture (tests/fixtures.py) every ticket is 物业管理 › 设施维修 › 下水道堵塞; 甲社区 (东街道) has
  T5 2023-05-31; T1 06-05, T2 06-10; T3 07-01, T4 07-15; T6 08-31   → May 1, June 2, July 2, August 1
  丙社区 (西街道) has C1 2023-06-20 (June only). The first ticket month of the data is 2023-05.
The July bulletin's candidate is that class: T4 (compound 11, 07-15) repeats T1/T2 (compound 11, June)
within 90 days, so it recurs; in July it occurs in 甲社区 only (T3, T4), the default community.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil

import pandas as pd
import pytest

from governance import access, bulletin, db, importer, problems
from governance.access import Actor, Scope
from governance.labels import md_escape
from tests import fixtures
from tests.apptest import open_tab

JUL, AUG = dt.date(2023, 7, 1), dt.date(2023, 8, 1)
EAST = Scope("测试省", "测试市", "测试区", "东街道")
WEST = Scope("测试省", "测试市", "测试区", "西街道")
EAST_EDITOR = Actor("east@example.org", "东编辑", "editor", EAST, mode="login")
WEST_EDITOR = Actor("west@example.org", "西编辑", "editor", WEST, mode="login")
VIEWER = Actor("look@example.org", "查看者", "viewer", mode="login")
CATEGORY = ("物业管理", "设施维修", "下水道堵塞")


def section(b, key):
    return next(s for s in b.sections if s.key == key)


def table(s, title_part):
    return next(t.frame for t in s.tables if title_part in t.title)


def adopt(con, actor=fixtures.ADMIN, **kw):
    args = dict(title="下水道堵塞专项治理", category=CATEGORY, communities=[("东街道", "甲社区")],
                owner_unit="东街道城管科", started_on=AUG, target_on=dt.date(2023, 12, 31), notes="先查管网")
    return problems.adopt(con, actor, **{**args, **kw})


def snapshot(con) -> dict:
    tables = ["practices", "import_batches", "monthly_problems", "audit_log", "batch_communities", "meta"]
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}


def test_an_adoption_appears_on_the_next_months_bulletin_with_its_owner_and_verdict(fixture_con):
    july = bulletin.from_connection(fixture_con, fixtures.ALL, JUL)
    candidate = section(july, "candidates").items[0]
    assert candidate["category"] == CATEGORY and candidate["tickets"] == 2          # T3, T4
    where = db.run_query(fixture_con, "problems/category_communities",
                         {**fixtures.ALL, "start": JUL, "end": dt.date(2023, 7, 31), **dict(zip(
                             ["category_l1", "category_l2", "category_l3"], candidate["category"]))},
                         scope=access.ALL_SCOPE)
    assert list(zip(where["street"], where["community"], where["tickets"])) == [("东街道", "甲社区", 2)]
    pid = adopt(fixture_con, category=candidate["category"], communities=list(zip(where["street"], where["community"])))

    stored = fixture_con.execute("SELECT title, categories, owner_unit, started_on, target_on, notes, adopted_by "
                                 "FROM monthly_problems WHERE id = ?", [pid]).fetchone()
    assert stored == ("下水道堵塞专项治理", "物业管理 › 设施维修 › 下水道堵塞", "东街道城管科", AUG,
                      dt.date(2023, 12, 31), "先查管网", fixtures.ADMIN.who)
    # one practices row per community, with the class as its related category, in the problem's batch
    rows = fixture_con.execute("SELECT p.community_id, p.practice, p.started_on, p.related_category, p.source "
                               "FROM practices p JOIN monthly_problems m USING (batch_id) WHERE m.id = ?", [pid]).fetchall()
    assert rows == [(1, "下水道堵塞专项治理", AUG, "下水道堵塞", "import")]
    actions = [r[0] for r in fixture_con.execute("SELECT action FROM audit_log ORDER BY event_id").fetchall()]
    assert actions == ["import", "adopt_problem"]

    # the July bulletin (before its start) does not list it as adopted; the August one does
    assert "每月一题 进展" not in [t.title for t in section(bulletin.from_connection(fixture_con, fixtures.ALL, JUL),
                                                              "progress").tables]
    s = section(bulletin.from_connection(fixture_con, fixtures.ALL, AUG), "progress")
    row = table(s, "每月一题 进展").iloc[0]
    assert (row["题目"], row["牵头单位"], row["开始"], row["涉及社区"]) == ("下水道堵塞专项治理", "东街道城管科", "2023-08", "甲社区")
    # 甲社区: July 2 (T3, T4), August 1 (T6) → down month on month → 好转
    assert (row["上月（2023-07）"], row["本月（2023-08）"]) == ("2 件", "1 件")
    assert row["判定"] == "好转（2023-08 对比 2023-07）"
    # baseline: 2023-02..07, in the data only 05 (1), 06 (2), 07 (2): 5 / 3 = 1.67; 1 / 1.667 − 1 = −40%
    assert row["基线（前 6 个月月均）"] == "1.7 件（3 个月）" and row["较基线"] == "-40%"
    assert row["状态"] == "进行中（目标 2023-12-31）"
    assert "已采纳 1 项：好转 1 项、持平 0 项、反弹 0 项。" in s.texts
    # the practice 501 that was not adopted is followed apart, and the adopted one is not repeated there
    assert table(s, "其他登记了相关类别的做法")["做法"].tolist() == ["甲一小区管网改造"]
    assert section(bulletin.from_connection(fixture_con, fixtures.ALL, AUG), "progress").items == [
        {"id": pid, "title": "下水道堵塞专项治理", "started_on": AUG, "open": True}]


def test_an_editor_of_one_street_cannot_adopt_for_another_streets_community(fixture_con):
    before = snapshot(fixture_con)
    with pytest.raises(problems.ProblemRefused, match="甲社区（东街道）不在您的范围（测试省/测试市/测试区/西街道）内"):
        adopt(fixture_con, WEST_EDITOR)
    # one community inside and one outside: refused whole
    with pytest.raises(problems.ProblemRefused, match="甲社区（东街道）"):
        adopt(fixture_con, WEST_EDITOR, communities=[("西街道", "丙社区"), ("东街道", "甲社区")])
    with pytest.raises(access.AccessError, match="不能采纳、结束每月一题"):
        adopt(fixture_con, VIEWER)
    assert snapshot(fixture_con) == before
    # inside the scope the same editor may
    pid = adopt(fixture_con, WEST_EDITOR, communities=[("西街道", "丙社区")], owner_unit="西街道城管科")
    assert fixture_con.execute("SELECT adopted_by FROM monthly_problems WHERE id = ?", [pid]).fetchone()[0] == WEST_EDITOR.who
    assert fixture_con.execute("SELECT imported_by FROM import_batches").fetchall() == [(WEST_EDITOR.who,)]
    # the east editor does not see it in their listing (its only community is in 西街道)
    assert db.run_query(fixture_con, "problems/adopted", fixtures.ALL, scope=EAST).empty
    assert db.run_query(fixture_con, "problems/adopted", fixtures.ALL, scope=WEST)["id"].tolist() == [pid]


@pytest.mark.parametrize("change,message", [
    (dict(title="  "), "请填写“题目”"), (dict(owner_unit=""), "请填写“牵头单位”"),
    (dict(communities=[]), "至少选择一个"), (dict(title="题" * 61), "过长"),
    (dict(target_on=dt.date(2023, 7, 1)), "早于开始日期"), (dict(category=(None, None, None)), "请选择诉求类别"),
    (dict(communities=[("东街道", "不存在社区")]), "不存在社区（东街道）不在您的范围"),
])
def test_bad_adoptions_are_refused_in_chinese_and_change_nothing(fixture_con, change, message):
    before = snapshot(fixture_con)
    with pytest.raises(problems.ProblemRefused, match=message):
        adopt(fixture_con, **change)
    assert snapshot(fixture_con) == before


def test_the_same_problem_is_not_adopted_twice(fixture_con):
    adopt(fixture_con)
    before = snapshot(fixture_con)
    with pytest.raises(problems.ProblemRefused, match="已有同名、同一开始日期的每月一题"):
        adopt(fixture_con)
    assert snapshot(fixture_con) == before


def test_closing_records_date_outcome_and_who(fixture_con):
    pid = adopt(fixture_con, communities=[("东街道", "甲社区"), ("西街道", "丙社区")])
    before = snapshot(fixture_con)
    # the west editor's scope holds 丙社区 but not 甲社区: they may not close a problem of both streets
    with pytest.raises(problems.ProblemRefused, match="范围（测试省/测试市/测试区/西街道）以外的社区（甲社区）"):
        problems.close(fixture_con, WEST_EDITOR, pid, dt.date(2023, 8, 20), "完成")
    with pytest.raises(access.AccessError):
        problems.close(fixture_con, VIEWER, pid, dt.date(2023, 8, 20), "完成")
    with pytest.raises(problems.ProblemRefused, match="早于开始日期"):
        problems.close(fixture_con, fixtures.ADMIN, pid, dt.date(2023, 7, 20), "完成")
    with pytest.raises(problems.ProblemRefused, match="请填写“结果”"):
        problems.close(fixture_con, fixtures.ADMIN, pid, dt.date(2023, 8, 20), " ")
    assert snapshot(fixture_con) == before

    admin_east = Actor("boss@example.org", "区管理员", "admin", Scope("测试省", "测试市", "测试区"), mode="login")
    message = problems.close(fixture_con, admin_east, pid, dt.date(2023, 8, 20), "管网改造完成")
    assert message == f"已结束第 {pid} 号每月一题“下水道堵塞专项治理”（2023-08-20）。"
    assert fixture_con.execute("SELECT closed_on, outcome, closed_by FROM monthly_problems WHERE id = ?",
                               [pid]).fetchone() == (dt.date(2023, 8, 20), "管网改造完成", "boss@example.org")
    audit = fixture_con.execute("SELECT actor, action, target, detail FROM audit_log ORDER BY event_id DESC LIMIT 1").fetchone()
    assert audit == ("boss@example.org", "close_problem", str(pid), "下水道堵塞专项治理：2023-08-20 结束，管网改造完成")
    with pytest.raises(problems.ProblemRefused, match="已于 2023-08-20 结束"):
        problems.close(fixture_con, fixtures.ADMIN, pid, dt.date(2023, 8, 21), "再结束")
    row = table(section(bulletin.from_connection(fixture_con, fixtures.ALL, AUG), "progress"), "每月一题 进展").iloc[0]
    assert row["状态"] == "已结束（2023-08-20）：管网改造完成" and row["涉及社区"] == "甲社区、丙社区"
    # the bulletin's close control offers no closed problem
    assert section(bulletin.from_connection(fixture_con, fixtures.ALL, AUG), "progress").items[0]["open"] is False


def test_an_editor_of_one_street_closes_inside_it(fixture_con):
    pid = adopt(fixture_con, EAST_EDITOR)
    problems.close(fixture_con, EAST_EDITOR, pid, dt.date(2023, 8, 31), "已整改")
    assert fixture_con.execute("SELECT closed_by FROM monthly_problems").fetchone() == (EAST_EDITOR.who,)


def test_undoing_the_batch_takes_the_problem_off_every_list(fixture_con):
    pid = adopt(fixture_con)
    batch = fixture_con.execute("SELECT batch_id FROM monthly_problems WHERE id = ?", [pid]).fetchone()[0]
    importer.undo(fixture_con, batch, actor=fixtures.ADMIN)
    assert db.run_query(fixture_con, "problems/adopted", fixtures.ALL, scope=access.ALL_SCOPE).empty
    s = section(bulletin.from_connection(fixture_con, fixtures.ALL, AUG), "progress")
    assert [t.title for t in s.tables] == ["其他登记了相关类别的做法（按所属社区）"] and s.items == []
    with pytest.raises(problems.ProblemRefused, match="已撤销"):
        problems.close(fixture_con, fixtures.ADMIN, pid, dt.date(2023, 8, 20), "完成")


def test_an_older_file_gets_the_table_on_a_write_mode_open(fixture_db):
    con = db.connect(fixture_db)
    con.execute("DROP TABLE monthly_problems")
    con.execute("UPDATE meta SET value = '2' WHERE key = 'schema_revision'")
    con.close()
    con = db.connect(fixture_db)
    try:
        assert con.execute("SELECT count(*) FROM monthly_problems").fetchone()[0] == 0
    finally:
        con.close()


# ------------------------------------------------------------------ the pages

@pytest.fixture
def adopted_app(app, demo_db_master, tmp_path, monkeypatch):
    """conftest's AppTest factory on a demo copy holding one adopted problem of 江欣苑社区, as a
    user of 江堤街道 with the given role."""
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db_master, path)
    con = db.connect(path)
    try:
        adopt(con, title="江欣苑下水道专项", communities=[("江堤街道", "江欣苑社区")], started_on=JUL,
              target_on=None, owner_unit="江堤街道城市管理办公室")
    finally:
        con.close()
    monkeypatch.setenv("GOVERNANCE_DB", str(path))   # after `app` pointed it at the shared demo copy

    def make(page: str, role: str, **query_params):
        actor = Actor(f"{role}@example.org", role, role, Scope("湖北省", "武汉市", "汉阳区", "江堤街道"), mode="login")
        monkeypatch.setattr(access, "local_actor", lambda address: actor)
        at = app(page, **query_params)
        if page.endswith("4_tickets.py"):   # 每月一题 is on the page's 举一反三 tab
            at.session_state["tickets_tab"] = "举一反三"
            at.run()
        assert not at.exception, at.exception
        return at

    return make


def _controls(at) -> dict:
    return {"adopt": [b for b in at.button if b.label == "采纳"], "close": [b for b in at.button if b.label == "结束"],
            "inputs": [t for t in at.text_input if t.label in ("题目", "牵头单位", "结果")]}


def _every_tab(at) -> tuple[str, dict]:
    """The page's text (markdown and table cells) and its 每月一题 controls, over all of its tabs."""
    shown, controls = [], {"adopt": [], "close": [], "inputs": []}
    for label in [t.label for t in at.tabs]:
        view = open_tab(at, label)
        shown += [m.value for m in view.markdown]
        shown += [" ".join(map(str, d.value.astype(str).to_numpy().ravel())) for d in view.dataframe]
        for k, v in _controls(view).items():
            controls[k] += v
    return " ".join(shown), controls


@pytest.mark.parametrize("page", ["pages/8_bulletin.py", "pages/4_tickets.py"])
def test_a_viewer_sees_the_list_but_no_adopt_or_close_controls(adopted_app, page):
    params = {"street": "江堤街道", "month": "2023-08"} if "bulletin" in page else {"street": "江堤街道", "from": "2023-06", "to": "2023-08"}
    shown, controls = _every_tab(adopted_app(page, "viewer", **params))
    assert "江欣苑下水道专项" in shown and "江堤街道城市管理办公室" in shown
    assert controls == {"adopt": [], "close": [], "inputs": []}
    _, c = _every_tab(adopted_app(page, "editor", **params))   # the same page for an editor of the street has both
    assert len(c["adopt"]) == 1 and len(c["close"]) == 1 and len(c["inputs"]) == 3


def test_an_editor_adopts_on_the_tickets_page(adopted_app):
    at = adopted_app("pages/4_tickets.py", "editor", street="江堤街道", **{"from": "2023-06", "to": "2023-08"})
    pick = at.selectbox(key="tickets_adopt_pick")
    assert pick.options, "a street of the demo data has recurring or spreading classes"
    title = "**急** <b>下水道</b> [看](http://example.org)"   # shown as text, never as Markdown or HTML
    next(t for t in at.text_input if t.label == "题目").input(title)
    at.text_input(key="tickets_adopt_owner").input("江堤街道物业办")
    next(b for b in at.button if b.label == "采纳").click().run()
    assert not at.exception
    n = len(at.multiselect(key="tickets_adopt_communities_0").value)
    said = f"已采纳第 2 号每月一题“{title}”：{n} 个社区，2023-09-01 起；自 2023-09 的月度通报起列入“每月一题 进展”。"
    assert [s.value for s in at.success if "已采纳第" in s.value] == [md_escape(said)], [e.value for e in at.error]
    assert md_escape(title) != title
    con = db.connect(os.environ["GOVERNANCE_DB"])   # the same file the page wrote to
    try:
        rows = con.execute("SELECT owner_unit, adopted_by FROM monthly_problems ORDER BY id").fetchall()
    finally:
        con.close()
    assert rows[-1] == ("江堤街道物业办", "editor@example.org") and len(rows) == 2
    # the new problem is listed on the page, its title as a table cell
    assert any(title in d.value.astype(str).to_numpy().ravel() for d in at.dataframe)


def test_a_problem_of_two_communities_sums_them_as_the_tickets_page_counts_them(fixture_con):
    # 甲社区 and 丙社区 from 2023-07-01: July 甲 2 + 丙 0 = 2, August 甲 1 + 丙 0 = 1 → 好转;
    # baseline 2023-01..06, in the data 05 (甲 1) and 06 (甲 2 + 丙 1 = 3): (1 + 3) / 2 = 2.0; 1 / 2 − 1 = −50%
    adopt(fixture_con, communities=[("东街道", "甲社区"), ("西街道", "丙社区")], started_on=JUL)
    row = table(section(bulletin.from_connection(fixture_con, fixtures.ALL, AUG), "progress"), "每月一题 进展").iloc[0]
    assert (row["上月（2023-07）"], row["本月（2023-08）"], row["判定"]) == ("2 件", "1 件", "好转（2023-08 对比 2023-07）")
    assert (row["基线（前 6 个月月均）"], row["较基线"], row["涉及社区"]) == ("2.0 件（2 个月）", "-50%", "甲社区、丙社区")
    # the same months on 诉求办理's 做法前后 (tickets/before_after), community by community
    ba = db.run_query(fixture_con, "tickets/before_after", fixtures.ALL, scope=access.ALL_SCOPE)
    ba = ba[ba["practice"] == "下水道堵塞专项治理"]
    by_month = ba.groupby(pd.to_datetime(ba["month"]).dt.date)["tickets"].sum()
    assert (by_month[JUL], by_month[AUG]) == (2, 1)
    assert ba[ba["rel_month"] < 0]["tickets"].dropna().sum() == 1 + 3
