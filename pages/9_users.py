"""用户管理 (admins): who may sign in, with which role and scope, and the record of who did what."""

import streamlit as st

from governance import access, db, runtime, signin, ui
from governance.labels import LEVELS

MAX_AUDIT_SHOWN = 200
AUDIT_ACTIONS = {"import": "导入", "undo": "撤销", "remove_demo": "删除演示数据", "user_add": "添加用户",
                 "user_update": "修改用户", "user_remove": "删除用户", "adopt_problem": "采纳每月一题",
                 "close_problem": "结束每月一题"}

ui.frame_guard()
st.title("用户管理")
actor = runtime.actor()
con = runtime.connection()
if not signin.write_notice(actor, "manage_users"):
    st.stop()
st.caption("登录模式下，只有这里登记的邮箱才能查看看板；每位用户的角色决定能做什么，范围决定能看到哪些社区。"
           "命令行也可管理：python -m governance users add / list / remove。")

flash = st.session_state.pop("users_flash", None)
if flash:
    (st.success if flash[0] == "success" else st.error)(flash[1])

with st.expander("各角色能做什么"):
    st.table([{"角色": f"{label}（{role}）", "能做的事": "；".join(access.ACTIONS[a] for a in access.ACTIONS
                                                               if a in access.ROLE_ACTIONS[role])}
              for role, label in access.ROLES.items()])

st.header("已登记的用户")
users = db.run_query(con, "access/users", scope=actor.scope)   # uncached: changes show at once
if users.empty:
    st.info("还没有登记的用户。", icon=":material/info:")
else:
    st.dataframe(
        [{"邮箱": u["email"], "姓名": u["name"] or "", "角色": access.ROLES[u["role"]],
          "范围": access.scope_from_row(u).label(), "添加时间": f"{u['created_at']:%Y-%m-%d %H:%M}",
          "添加人": u["created_by"] or ""} for u in users.to_dict("records")],
        hide_index=True, width="stretch", key="users_table")

st.header("添加或修改用户")
communities = runtime.query("common/communities", max_rows=db.SUM_ROWS)
scopes = ["全部"] + sorted({"/".join(r[: i + 1]) for r in communities[LEVELS[:4]].itertuples(index=False)
                            for i in range(4)})
with st.form("users_add", clear_on_submit=False):
    email = st.text_input("邮箱（统一身份认证返回的 email）", max_chars=access.MAX_EMAIL_LEN, key="users_email")
    name = st.text_input("姓名（可不填）", max_chars=access.MAX_NAME_LEN, key="users_name")
    role = st.selectbox("角色", list(access.ROLES), format_func=lambda r: f"{access.ROLES[r]}（{r}）", key="users_role")
    scope = st.selectbox("范围", scopes, key="users_scope", help="用户只能看到（编辑者只能导入）这一地区内的社区。")
    if st.form_submit_button("保存", type="primary", icon=":material/person_add:"):
        try:
            st.session_state["users_flash"] = ("success", runtime.write("add_user", actor, email, role, scope, name))
        except access.AccessError as exc:
            st.session_state["users_flash"] = ("error", f"未保存：{exc}")
        st.rerun()

if not users.empty:
    st.header("删除用户")
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    gone = left.selectbox("用户", users["email"].tolist(), key="users_remove_email")
    if right.button("删除", key="users_remove", icon=":material/person_remove:"):
        try:
            st.session_state["users_flash"] = ("success", runtime.write("remove_user", actor, gone))
        except access.AccessError as exc:
            st.session_state["users_flash"] = ("error", f"未删除：{exc}")
        st.rerun()

st.header("操作记录")
audit = db.run_query(con, "access/audit_log", max_rows=MAX_AUDIT_SHOWN, scope=actor.scope)
if audit.empty:
    st.caption("还没有记录。")
else:
    st.dataframe([{"时间": f"{a['happened_at']:%Y-%m-%d %H:%M:%S}", "操作人": a["actor"],
                   "操作": AUDIT_ACTIONS.get(a["action"], a["action"]), "对象": a["target"] or "", "说明": a["detail"] or ""}
                  for a in audit.to_dict("records")], hide_index=True, width="stretch", key="users_audit")
    if audit.attrs.get("capped"):
        st.caption(f"仅显示最近 {MAX_AUDIT_SHOWN} 条。")
