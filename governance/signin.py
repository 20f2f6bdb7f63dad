"""Sign-in for the running dashboard: which mode the server is in, who is asking, and the screens
shown before any data (登录, 未授权). app.py calls `gate()` at the start of every run.

- 单机模式: no `[auth]` in `.streamlit/secrets.toml`. The person at this computer is an admin of
  everything; when the server listens on more than this computer, writes are off for everyone.
- 登录模式: `[auth]` configured (OpenID Connect through `st.login`). Every page requires sign-in,
  and only registered users (the `users` table) get past it, with their role and scope.
"""

from __future__ import annotations

import os

import streamlit as st

from governance import access
from governance.labels import md_escape

ACTOR_KEY = "_actor"


def auth_section() -> dict | None:
    """The `[auth]` section of the secrets, or None in 单机模式."""
    try:
        if "auth" not in st.secrets:
            return None
        return dict(st.secrets["auth"])
    except (FileNotFoundError, KeyError, AttributeError):
        return None
    except Exception:  # a secrets file that does not parse: Streamlit reports it; run as unconfigured
        return None


def _provider(section: dict) -> str | None:
    """The provider name for st.login: None for settings directly in [auth], else the only sub-section."""
    if section.get("server_metadata_url"):
        return None
    named = [k for k, v in section.items() if hasattr(v, "keys")]
    return named[0] if named else None


def current_actor() -> access.Actor | None:
    """Who is asking in this run (set by gate())."""
    return st.session_state.get(ACTOR_KEY)


def gate(con) -> access.Actor:
    """Decide who is asking before anything reads data; show the sign-in screens and stop otherwise."""
    st.session_state.pop(ACTOR_KEY, None)
    section = auth_section()
    if section is None:
        # behind `serve`'s nginx every process listens on loopback: the address users reach is nginx's
        actor = access.local_actor(os.environ.get("GOVERNANCE_PUBLIC_ADDRESS") or st.get_option("server.address"))
        st.session_state[ACTOR_KEY] = actor
        return actor
    if not st.user.is_logged_in:
        _login_screen(section)
        st.stop()
    email = st.user.get("email")
    user = access.find_user(con, email) if email else None
    if user is None:
        _unauthorized_screen(email)
        st.stop()
    actor = access.actor_for(user, mode="login")
    st.session_state[ACTOR_KEY] = actor
    return actor


def _screen(render) -> None:
    """Show a sign-in screen at whatever address was asked for (a deep link stays a link, with no
    "page not found"), listing no pages; `render` draws it in place of every page."""
    from governance.navigation import PAGES

    urls = ["home"] + [url for _, _, url, _ in PAGES]
    st.navigation([st.Page(render, title="社区治理指标看板", url_path=url, default=(i == 0))
                   for i, url in enumerate(urls)], position="hidden").run()


def _login_screen(section: dict) -> None:
    _screen(lambda: _login_body(section))


def _login_body(section: dict) -> None:
    st.title("社区治理指标看板")
    st.markdown("本看板需要登录后使用。请点击下面的按钮，用本单位的统一身份认证账号登录。")
    if st.button("登录", type="primary", icon=":material/login:", key="signin_login"):
        provider = _provider(section)
        st.login(provider) if provider else st.login()


def _unauthorized_screen(email: str | None) -> None:
    _screen(lambda: _unauthorized_body(email))


def _unauthorized_body(email: str | None) -> None:
    st.title("未授权")
    st.error("您的账号已通过统一身份认证，但还没有登记为本看板的用户，不能查看数据。"
             "请把下面的账号告诉本看板的管理员，请其为您添加账号（角色和范围）。", icon=":material/block:")
    st.text(f"账号：{email or '（身份提供方没有提供邮箱）'}")   # as text, exactly as the provider gave it
    if st.button("退出登录", key="signin_logout_unauthorized", icon=":material/logout:"):
        st.logout()


def sidebar_account(actor: access.Actor) -> None:
    """Who is signed in, with role and scope, and 退出登录 (登录模式)."""
    box = st.sidebar.container(border=True)
    role = access.ROLES.get(actor.role, actor.role)
    if actor.mode == "login":
        box.markdown(f"**{md_escape(actor.name)}**")
        box.text(f"{actor.email}\n{role} · 范围：{actor.scope.label()}")   # as text: an email is no link
        if box.button("退出登录", key="signin_logout", icon=":material/logout:", width="stretch"):
            st.logout()
    else:
        box.caption(f"单机模式 · {md_escape(actor.name)}（{role}，范围：全部）")
        if actor.writes_disabled:
            box.caption("写入已停用：服务器对网络开放但未配置登录。")


def write_notice(actor: access.Actor, action: str) -> bool:
    """On a page that writes: show why `action` is not allowed (and return False), or return True."""
    decision = access.allowed(actor, action)
    if not decision.ok:
        st.warning(decision.reason, icon=":material/lock:")
    return decision.ok
