"""每月一题: adopting a class problem from a candidate, and closing it.

An adopted problem is stored as what the dashboard already follows: one dated practice per
community concerned, with the class as its related category (so 诉求办理's before/after and the
bulletin's 进展 follow it), written through the importer as one batch — inside the adopter's scope,
audited, and undoable on 数据管理 like any import — plus one `monthly_problems` row naming the
batch, with its owner unit (牵头单位), dates, notes and who adopted it. Closing records a date, an
outcome and who closed it. Both writes need the action `adopt_problem` (editors and admins), and
every community of the problem must lie inside the actor's scope.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from governance import db, importer
from governance.access import Actor, require
from governance.schema import bump_data_version

MAX_TITLE = 60
MAX_OWNER = 60
MAX_NOTES = 500
MAX_OUTCOME = 500
MAX_COMMUNITIES = 500
SOURCE = "每月一题"


class ProblemRefused(Exception):
    """Nothing was written; the message says why, in Chinese."""


def category_text(l1, l2=None, l3=None) -> str:
    return " › ".join(x for x in (l1, l2, l3) if isinstance(x, str) and x)


def related_category(l1, l2=None, l3=None) -> str:
    """The practice's related category: the most specific level (tickets match it at any level)."""
    return next(x for x in (l3, l2, l1) if isinstance(x, str) and x)


def items_of(adopted) -> list[dict]:
    """The adopted problems (problems/adopted rows) as the close control lists them."""
    import pandas as pd

    return [{"id": int(r["id"]), "title": r["title"], "started_on": pd.Timestamp(r["started_on"]).date(),
             "open": r["closed_on"] is None or pd.isna(r["closed_on"])} for _, r in adopted.iterrows()]


def _text(value, label: str, limit: int, required: bool) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ProblemRefused(f"“{label}”应为文字。")
    if value is not None and len(value) > limit * 4:   # checked before it is stripped or read further
        raise ProblemRefused(f"“{label}”过长（超过 {limit} 个字）。")
    value = (value or "").strip()
    if len(value) > limit:
        raise ProblemRefused(f"“{label}”过长（{len(value)} 个字，最多 {limit} 个字）。")
    if required and not value:
        raise ProblemRefused(f"请填写“{label}”。")
    return value or None


def _date(value, label: str, required: bool) -> dt.date | None:
    if value is None:
        if required:
            raise ProblemRefused(f"请填写“{label}”。")
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if not isinstance(value, dt.date):
        raise ProblemRefused(f"“{label}”应为日期，如 2023-09-01。")
    return value


def _practices_csv(title: str, related: str, communities: list[tuple[str, str]], started_on: dt.date,
                   owner: str, notes: str | None) -> bytes:
    """The practices rows of an adoption as an import file, headed by the importer's own column labels."""
    spec = importer.SPECS["practices"]
    names = ["street", "community", "practice", "started_on", "related_category", "description", "source"]
    description = f"每月一题，牵头单位：{owner}" + (f"；{notes}" if notes else "")
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow([spec.col(n).label for n in names])
    for street, community in communities:
        w.writerow([street, community, title, started_on.isoformat(), related, description, SOURCE])
    return out.getvalue().encode("utf-8")


def _audit(cur, who: str, action: str, target: str, detail: str) -> None:
    cur.execute("INSERT INTO audit_log (happened_at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
                [dt.datetime.now().replace(microsecond=0), who, action, target, detail])


def adopt(con, actor: Actor, *, title: str, category: tuple, communities: list[tuple[str, str]], owner_unit: str,
          started_on: dt.date, target_on: dt.date | None = None, notes: str | None = None) -> int:
    """Adopt a class problem; returns its id. Raises AccessError (role) or ProblemRefused (anything
    else: then nothing was written)."""
    require(actor, "adopt_problem")
    title = _text(title, "题目", MAX_TITLE, True)
    owner = _text(owner_unit, "牵头单位", MAX_OWNER, True)
    notes = _text(notes, "备注", MAX_NOTES, False)
    started_on = _date(started_on, "开始日期", True)
    target_on = _date(target_on, "目标日期", False)
    if target_on is not None and target_on < started_on:
        raise ProblemRefused(f"目标日期 {target_on:%Y-%m-%d} 早于开始日期 {started_on:%Y-%m-%d}。")
    levels = tuple(category or ()) + (None, None, None)
    l1, l2, l3 = (x if isinstance(x, str) and x.strip() else None for x in levels[:3])
    if l1 is None:
        raise ProblemRefused("请选择诉求类别（至少一级类别）。")
    if len(communities or []) > MAX_COMMUNITIES:
        raise ProblemRefused(f"涉及社区过多（{len(communities)} 个，最多 {MAX_COMMUNITIES} 个）。")
    chosen = list(dict.fromkeys((str(s), str(c)) for s, c in communities or []))
    if not chosen:
        raise ProblemRefused("请至少选择一个涉及的社区。")
    # the communities the actor may write for: their scope, answered by the selection macro
    inside = db.run_query(con, "common/communities", scope=actor.scope, max_rows=db.SUM_ROWS)
    have = set(zip(inside["street"], inside["community"]))
    outside = [f"{c}（{s}）" for s, c in chosen if (s, c) not in have]
    if outside:
        raise ProblemRefused(f"社区 {'、'.join(outside[:10])}{'等' if len(outside) > 10 else ''}不在您的范围"
                             f"（{actor.scope.label()}）内或不存在：不能为其采纳每月一题，未做任何修改。")
    cur = con.cursor()
    try:
        same = cur.execute("""SELECT m.id FROM monthly_problems m JOIN import_batches b USING (batch_id)
                              WHERE b.undone_at IS NULL AND m.title = ? AND m.started_on = ?""",
                           [title, started_on]).fetchone()
    finally:
        cur.close()
    if same:
        raise ProblemRefused(f"已有同名、同一开始日期的每月一题（第 {same[0]} 号）：“{title}”，{started_on:%Y-%m-%d}。")

    related = related_category(l1, l2, l3)
    data = _practices_csv(title, related, chosen, started_on, owner, notes)
    report, batch = importer.import_file(con, "practices", data, f"每月一题：{title}.csv", actor=actor)
    if batch is None:
        lines = "；".join(p.as_line() for p in report.problems[:5])
        raise ProblemRefused(f"未能登记为经验做法，未做任何修改：{lines}")
    cur = con.cursor()
    try:
        cur.execute("BEGIN")
        try:
            pid = cur.execute("""
                INSERT INTO monthly_problems (batch_id, title, categories, owner_unit, started_on, target_on, notes,
                                              adopted_by, adopted_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
                [batch.batch_id, title, category_text(l1, l2, l3), owner, started_on, target_on, notes, actor.who,
                 dt.datetime.now().replace(microsecond=0)]).fetchone()[0]
            _audit(cur, actor.who, "adopt_problem", str(pid),
                   f"{title}：{category_text(l1, l2, l3)}，牵头单位 {owner}，{len(chosen)} 个社区，"
                   f"{started_on:%Y-%m-%d} 起，导入第 {batch.batch_id} 批")
            bump_data_version(cur)
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            importer.undo(con, batch.batch_id, actor=actor)   # the practices go with it: nothing half-written
            raise
    finally:
        cur.close()
    return pid


def close(con, actor: Actor, problem_id: int, closed_on: dt.date, outcome: str) -> str:
    """Close an adopted problem with a date and an outcome; returns a Chinese confirmation."""
    require(actor, "adopt_problem")
    outcome = _text(outcome, "结果", MAX_OUTCOME, True)
    closed_on = _date(closed_on, "结束日期", True)
    if closed_on > dt.date.today():
        raise ProblemRefused(f"结束日期 {closed_on:%Y-%m-%d} 晚于今天。")
    with db.transaction(con) as cur:
        row = cur.execute("""SELECT m.title, m.started_on, m.closed_on, m.batch_id, b.undone_at
                             FROM monthly_problems m JOIN import_batches b USING (batch_id) WHERE m.id = ?""",
                          [int(problem_id)]).fetchone()
        if row is None or row[4] is not None:
            raise ProblemRefused(f"没有第 {problem_id} 号每月一题（或其导入批次已撤销）。")
        title, started_on, already, batch_id, _ = row
        if already is not None:
            raise ProblemRefused(f"第 {problem_id} 号每月一题“{title}”已于 {already:%Y-%m-%d} 结束。")
        if closed_on < started_on:
            raise ProblemRefused(f"结束日期 {closed_on:%Y-%m-%d} 早于开始日期 {started_on:%Y-%m-%d}。")
        regions = cur.execute("""SELECT c.province, c.city, c.district, c.street, c.community
                                 FROM practices p JOIN communities c USING (community_id)
                                 WHERE p.batch_id = ?""", [batch_id]).fetchall()
        keys = ("province", "city", "district", "street", "community")
        outside = [r[4] for r in regions if not actor.scope.contains(dict(zip(keys, r)))]
        if outside or not regions:
            raise ProblemRefused(f"第 {problem_id} 号每月一题涉及您范围（{actor.scope.label()}）以外的社区"
                                 f"（{'、'.join(outside[:10])}）：不能结束，请联系管理员。")
        cur.execute("UPDATE monthly_problems SET closed_on = ?, outcome = ?, closed_by = ? WHERE id = ?",
                    [closed_on, outcome, actor.who, int(problem_id)])
        _audit(cur, actor.who, "close_problem", str(problem_id), f"{title}：{closed_on:%Y-%m-%d} 结束，{outcome}")
        bump_data_version(cur)
    return f"已结束第 {problem_id} 号每月一题“{title}”（{closed_on:%Y-%m-%d}）。"
