"""每月一题 on the pages (月度通报 and 诉求办理): the list of adopted problems, and the controls to adopt
one from a candidate and to close one. The controls are shown only to who may `adopt_problem`
(editors and admins); the writes themselves are governance.problems."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import streamlit as st

from governance import access, problems, runtime
from governance.labels import LEVELS, md_escape

FLASH = "_problem_flash"


def flash() -> None:
    """The confirmation of the write that caused this rerun, shown once."""
    message = st.session_state.pop(FLASH, None)
    if message:
        st.success(md_escape(message), icon=":material/check_circle:")


def _may(actor) -> bool:
    decision = access.allowed(actor, "adopt_problem")
    if not decision.ok and actor.role != "viewer":   # an editor on a server with writes off: say why
        st.caption(md_escape(decision.reason))
    return decision.ok


def _in_region(frame: pd.DataFrame, region: dict) -> pd.DataFrame:
    for level in LEVELS:
        if region.get(level):
            frame = frame[frame[level] == region[level]]
    return frame


def adopted_table(adopted: pd.DataFrame) -> pd.DataFrame:
    """The adopted problems as 诉求办理 lists them (display strings)."""
    def day(x):
        return "" if x is None or pd.isna(x) else pd.Timestamp(x).strftime("%Y-%m-%d")

    return pd.DataFrame({
        "编号": adopted["id"], "题目": adopted["title"], "类别": adopted["categories"], "牵头单位": adopted["owner_unit"],
        "涉及社区": [f"{n} 个：{c}" for n, c in zip(adopted["n_communities"], adopted["communities"])],
        "开始": [day(x) for x in adopted["started_on"]], "目标": [day(x) for x in adopted["target_on"]],
        "状态": ["进行中" if day(c) == "" else f"已结束（{day(c)}）：{o}" for c, o in zip(adopted["closed_on"], adopted["outcome"])],
        "采纳": [f"{a}，{day(t)}" for a, t in zip(adopted["adopted_by"], adopted["adopted_at"])],
        "备注": adopted["notes"].fillna(""),
    })


def candidates_from(recurring: pd.DataFrame | None, spreading: pd.DataFrame | None) -> list[dict]:
    """诉求办理's 举一反三 classes as candidates: recurring ones (most repeats first), then spreading ones."""
    out: dict[tuple, dict] = {}
    keys = ["category_l1", "category_l2", "category_l3"]
    if recurring is not None and len(recurring):
        g = (recurring.fillna({"category_l2": "", "category_l3": ""}).groupby(keys)
             .agg(tickets=("tickets", "sum"), repeats=("repeats", "sum")).reset_index()
             .sort_values(["repeats", "tickets"], ascending=False))
        for r in g.itertuples(index=False):
            key = (r.category_l1, r.category_l2 or None, r.category_l3 or None)
            out[key] = {"category": key, "label": problems.category_text(*key) + "（反复出现）", "tickets": int(r.tickets)}
    if spreading is not None and len(spreading):
        for r in spreading.itertuples(index=False):
            key = (r.category_l1, r.category_l2, r.category_l3)
            if key in out:
                out[key]["label"] = out[key]["label"].replace("（反复出现）", "（反复出现、扩散）")
            else:
                out[key] = {"category": key, "label": problems.category_text(*key) + "（扩散）",
                            "tickets": int(r.spread_tickets)}
    return list(out.values())


def adopt_form(candidates: list[dict], region: dict, first: dt.date, end: dt.date, key: str) -> None:
    """Adopt one of `candidates` ({category: (l1, l2, l3), label, tickets}) found in [first, end] of `region`."""
    actor = runtime.actor()
    opened = _form(actor, "采纳为每月一题", "候选类别", candidates, f"{key}_adopt_pick",
                   lambda c: f"{c['label']}（{c['tickets']} 件）")
    if opened is None:
        return
    box, i = opened
    c = candidates[i]
    l1, l2, l3 = c["category"]
    inside = _in_region(runtime.query("common/communities", max_rows=problems.MAX_COMMUNITIES * 20), region)
    options = list(zip(inside["street"].tolist(), inside["community"].tolist()))   # tolist: iterating Arrow strings one by one cost 0.3 s at province scale
    where = runtime.query("problems/category_communities", {**region, "start": first, "end": end,
                                                          "category_l1": l1, "category_l2": l2, "category_l3": l3})
    allowed = set(options)   # built once: a province has thousands of options and of communities in `where`
    default = [o for o in zip(where["street"].tolist(), where["community"].tolist()) if o in allowed][: problems.MAX_COMMUNITIES]
    left, right = box.columns(2)
    title = left.text_input("题目", value=f"{l3 or l2 or l1}专项治理", max_chars=problems.MAX_TITLE,
                            key=f"{key}_adopt_title_{i}")
    owner = right.text_input("牵头单位", max_chars=problems.MAX_OWNER, key=f"{key}_adopt_owner",
                             placeholder="如 街道城管科")
    chosen = box.multiselect("涉及社区（默认：本期出现该类诉求的社区）", options, default=default,
                             format_func=lambda o: f"{o[1]}（{o[0]}）", key=f"{key}_adopt_communities_{i}")
    d1, d2 = box.columns(2)
    started = d1.date_input("开始日期", value=end + dt.timedelta(days=1), key=f"{key}_adopt_start_{end:%Y%m%d}")   # a new period: a new default
    target = d2.date_input("目标日期（可空）", value=None, key=f"{key}_adopt_target")
    notes = box.text_area("备注（可空）", max_chars=problems.MAX_NOTES, key=f"{key}_adopt_notes", height=68)
    box.caption(f"类别：{md_escape(c['label'])}。采纳后为每个涉及社区登记一项带相关类别的经验做法（一个导入批次，"
                "可在“数据管理”页撤销），月度通报“每月一题 进展”和本页“做法前后”随之跟踪。")
    if box.button("采纳", type="primary", key=f"{key}_adopt_go", icon=":material/flag:"):
        def write() -> str:
            pid = runtime.write("adopt", actor, title=title, category=(l1, l2, l3), communities=chosen,
                                 owner_unit=owner, started_on=started, target_on=target, notes=notes)
            return (f"已采纳第 {pid} 号每月一题“{title.strip()}”：{len(chosen)} 个社区，{started:%Y-%m-%d} 起；"
                    f"自 {started:%Y-%m} 的月度通报起列入“每月一题 进展”。")

        _write(box, write)


def _form(actor, title: str, label: str, choices: list[dict], key: str, describe):
    """A bordered form headed `title` with a selectbox of `choices`, for who may adopt_problem; else None."""
    if not choices or not _may(actor):
        return None
    box = st.container(border=True)
    box.markdown(f"**{title}**")
    return box, box.selectbox(label, range(len(choices)), key=key, format_func=lambda j: describe(choices[j]))


def _write(box, write) -> None:
    """Run a write; on success show its confirmation after the rerun that shows the new data."""
    try:
        message = write()
    except (problems.ProblemRefused, access.AccessError) as exc:
        box.error(md_escape(str(exc)), icon=":material/error:")
        return
    except duckdb.Error as exc:   # e.g. the file is busy: the write rolled back
        box.error(md_escape(f"数据库写入失败，未做任何修改：{exc}"), icon=":material/error:")
        return
    st.session_state[FLASH] = message
    st.rerun()


def close_form(items: list[dict], key: str) -> None:
    """Close one of the open problems among `items` ({id, title, started_on, open})."""
    open_items = [x for x in items if x["open"]]
    actor = runtime.actor()
    opened = _form(actor, "结束每月一题", "结束哪一题", open_items, f"{key}_close_pick",
                   lambda x: f"第 {x['id']} 号：{x['title']}")
    if opened is None:
        return
    box, i = opened
    p = open_items[i]
    left, right = box.columns([1, 2])
    closed = left.date_input("结束日期", value=dt.date.today(), key=f"{key}_close_date")
    outcome = right.text_input("结果", max_chars=problems.MAX_OUTCOME, key=f"{key}_close_outcome",
                               placeholder="如 管网改造完成，诉求量连续三个月下降")
    if box.button("结束", key=f"{key}_close_go", icon=":material/task_alt:"):
        _write(box, lambda: runtime.write("close", actor, p["id"], closed, outcome))
