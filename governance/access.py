"""Who may see and do what: roles, actions, scopes, and the one check every page and write asks.

Every thing a user can do is a named action (ACTIONS) with a Chinese description; a role is a set
of actions (ROLE_ACTIONS). `allowed(actor, action)` is the one check. Which communities an actor
sees is answered in SQL: the query runner sets the actor's scope on each query's cursor and the
schema's `selected_communities(...)` macro keeps only communities inside it (governance/schema.py),
so no query can read outside the scope by forgetting a filter.

A scope is `全部` or a region path (省/市/区/街道[/社区]); stored as five columns, NULL meaning any.
"""

from __future__ import annotations

import datetime as dt
import getpass
import ipaddress
import re
from dataclasses import dataclass

from governance.labels import ALL, LEVEL_LABELS, LEVELS

ACTIONS = {
    "view": "查看范围内社区的各页面和下载",
    "import": "导入范围内社区的数据文件",
    "undo": "撤销全部行都在范围内的导入批次",
    "remove_demo": "删除（替换）全部演示数据",
    "manage_users": "添加、修改、删除用户",
    "adopt_problem": "采纳、结束每月一题",
}
WRITE_ACTIONS = {"import", "undo", "remove_demo", "manage_users", "adopt_problem"}

ROLES = {"viewer": "查看者", "editor": "编辑者", "admin": "管理员"}
ROLE_ACTIONS = {
    "viewer": {"view"},
    "editor": {"view", "import", "undo", "adopt_problem"},
    "admin": set(ACTIONS),
}

MAX_EMAIL_LEN = 254
MAX_NAME_LEN = 60
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


class AccessError(Exception):
    """Refused input or a refused action; the message is in Chinese, for the user."""


@dataclass(frozen=True)
class Scope:
    """A region prefix: each level None means any value. All None is 全部."""
    province: str | None = None
    city: str | None = None
    district: str | None = None
    street: str | None = None
    community: str | None = None

    @property
    def is_all(self) -> bool:
        return all(getattr(self, k) is None for k in LEVELS)

    def parts(self) -> list[str]:
        return [getattr(self, k) for k in LEVELS if getattr(self, k) is not None]

    def label(self) -> str:
        return ALL if self.is_all else "/".join(self.parts())

    def values(self) -> list[str | None]:
        return [getattr(self, k) for k in LEVELS]

    def key(self) -> str:
        """Part of every cache key: results of one scope are never served to another."""
        return repr(tuple(self.values()))

    def contains(self, region: dict) -> bool:
        """Whether a community with this region path (dict with the five levels) is inside."""
        return all(v is None or region.get(k) == v for k, v in zip(LEVELS, self.values()))

    def within(self, other: "Scope") -> bool:
        """Whether every community of self is inside `other`."""
        return all(o is None or s == o for s, o in zip(self.values(), other.values()))


ALL_SCOPE = Scope()


@dataclass(frozen=True)
class Actor:
    """Who is asking: a registered user (登录模式) or the person at this computer (单机模式)."""
    email: str
    name: str
    role: str
    scope: Scope = ALL_SCOPE
    writes_disabled: str | None = None   # why writes are off for everyone on this server, if they are
    mode: str = "local"                  # "local" (单机模式), "login" (登录模式), "cli"

    @property
    def who(self) -> str:
        """What the audit records."""
        return self.email

    def describe(self) -> str:
        return f"{self.name}（{ROLES.get(self.role, self.role)}，范围：{self.scope.label()}）"


@dataclass
class Decision:
    ok: bool
    reason: str = ""


def allowed(actor: Actor | None, action: str) -> Decision:
    """The one check: may `actor` do `action` (a key of ACTIONS)? With the reason when not."""
    if action not in ACTIONS:
        raise KeyError(action)
    if actor is None:
        return Decision(False, "请先登录。")
    if action not in ROLE_ACTIONS.get(actor.role, set()):
        return Decision(False, f"您的角色是“{ROLES.get(actor.role, actor.role)}”，不能{ACTIONS[action]}。")
    if action in WRITE_ACTIONS and actor.writes_disabled:
        return Decision(False, actor.writes_disabled)
    return Decision(True)


def require(actor: Actor | None, action: str) -> None:
    decision = allowed(actor, action)
    if not decision.ok:
        raise AccessError(decision.reason)


# --- scopes ---------------------------------------------------------------------------------

def parse_scope(text: str, communities) -> Scope:
    """`全部`, a region path `省/市/区/街道[/社区]`, or a name alone that is unique at its level.

    `communities` is a frame with the five level columns (every community in the database).
    Raises AccessError with a Chinese message for an unknown or ambiguous scope.
    """
    text = (text or "").strip()
    if not text:
        raise AccessError("范围不能为空：请写“全部”或地区路径，例如 湖北省/武汉市/汉阳区/江堤街道。")
    if len(text) > 200:
        raise AccessError("范围过长（超过 200 个字符）。")
    if text == ALL:
        return ALL_SCOPE
    parts = [p.strip() for p in re.split(r"[/／]", text)]
    if any(not p for p in parts) or len(parts) > len(LEVELS):
        raise AccessError(f"范围“{text}”的格式不对：应为“全部”或 省/市/区/街道[/社区]，最多 {len(LEVELS)} 级。")
    if len(parts) > 1:
        rows = communities
        for level, value in zip(LEVELS, parts):
            rows = rows[rows[level] == value]
        if rows.empty:
            raise AccessError(f"范围“{text}”不存在：数据库中没有这一地区的社区。")
        return Scope(**dict(zip(LEVELS, parts)))
    name = parts[0]
    for i, level in enumerate(LEVELS):
        rows = communities[communities[level] == name]
        if rows.empty:
            continue
        paths = rows[LEVELS[: i + 1]].drop_duplicates()
        if len(paths) > 1:
            options = "；".join("/".join(r) for r in paths.itertuples(index=False))
            raise AccessError(f"“{name}”不唯一（{options}）：请写出完整的地区路径。")
        return Scope(**dict(zip(LEVELS[: i + 1], paths.iloc[0].tolist())))
    raise AccessError(f"范围“{name}”不存在：数据库中没有叫这个名字的省、市、区、街道或社区。")


def scope_from_row(row) -> Scope:
    """A Scope from a users row (scope_province … scope_community)."""
    return Scope(*[row[f"scope_{k}"] if row[f"scope_{k}"] == row[f"scope_{k}"] else None for k in LEVELS])


def set_scope(cur, scope: Scope) -> None:
    """Put `scope` on a cursor: `selected_communities(...)` then keeps only communities inside it.

    A cursor without it sees no community at all (the macro fails closed).
    """
    cur.execute("SET VARIABLE scope = {'province': ?::VARCHAR, 'city': ?::VARCHAR, 'district': ?::VARCHAR, "
                "'street': ?::VARCHAR, 'community': ?::VARCHAR}", scope.values())


# --- users ----------------------------------------------------------------------------------

def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    if len(email) > MAX_EMAIL_LEN or not _EMAIL.match(email):
        raise AccessError(f"“{email[:60]}”不是有效的邮箱地址。")
    return email


def find_user(con, email: str | None):
    """The registered user with this email (case-insensitive), as a dict, or None."""
    if not email:
        return None
    cur = con.cursor()
    try:
        row = cur.execute("SELECT * FROM users WHERE email = lower(trim(?))", [email]).fetchone()
        if row is None:
            return None
        return dict(zip([d[0] for d in cur.description], row))
    finally:
        cur.close()


def actor_for(user: dict, mode: str, writes_disabled: str | None = None) -> Actor:
    return Actor(email=user["email"], name=user["name"] or user["email"], role=user["role"],
                 scope=scope_from_row(user), writes_disabled=writes_disabled, mode=mode)


def _audit(cur, actor_who: str, action: str, target: str, detail: str = "") -> None:
    cur.execute("INSERT INTO audit_log (happened_at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
                [now(), actor_who, action, target, detail])


def now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def _communities(con):
    cur = con.cursor()
    try:
        return cur.execute("SELECT province, city, district, street, community FROM communities").df()
    finally:
        cur.close()


def add_user(con, actor: Actor, email: str, role: str, scope_text: str, name: str | None = None) -> str:
    """Add or change a user (one transaction, audited); returns a Chinese confirmation."""
    require(actor, "manage_users")
    email = normalise_email(email)
    if role not in ROLES:
        raise AccessError(f"角色“{role}”不存在：应为 viewer（查看者）、editor（编辑者）或 admin（管理员）。")
    name = (name or "").strip() or None
    if name and len(name) > MAX_NAME_LEN:
        raise AccessError(f"姓名过长（超过 {MAX_NAME_LEN} 个字符）。")
    scope = parse_scope(scope_text, _communities(con))
    from governance.db import transaction   # db imports this module

    with transaction(con) as cur:
        existed = cur.execute("SELECT count(*) FROM users WHERE email = ?", [email]).fetchone()[0] > 0
        cur.execute("""
            INSERT INTO users (email, name, role, scope_province, scope_city, scope_district, scope_street,
                               scope_community, created_at, created_by)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (email) DO UPDATE SET name = excluded.name, role = excluded.role,
                scope_province = excluded.scope_province, scope_city = excluded.scope_city,
                scope_district = excluded.scope_district, scope_street = excluded.scope_street,
                scope_community = excluded.scope_community
        """, [email, name, role, *scope.values(), now(), actor.who])
        _audit(cur, actor.who, "user_update" if existed else "user_add", email,
               f"角色 {ROLES[role]}，范围 {scope.label()}" + (f"，姓名 {name}" if name else ""))
    verb = "已更新" if existed else "已添加"
    return f"{verb}用户 {email}：{ROLES[role]}，范围 {scope.label()}。"


def remove_user(con, actor: Actor, email: str) -> str:
    require(actor, "manage_users")
    email = normalise_email(email)
    if email == actor.email:
        raise AccessError("不能删除自己：请让另一位管理员操作。")
    from governance.db import transaction   # db imports this module

    with transaction(con) as cur:
        if cur.execute("SELECT count(*) FROM users WHERE email = ?", [email]).fetchone()[0] == 0:
            raise AccessError(f"用户 {email} 不存在。")
        cur.execute("DELETE FROM users WHERE email = ?", [email])
        _audit(cur, actor.who, "user_remove", email)
    return f"已删除用户 {email}。"


def list_users(con):
    cur = con.cursor()
    try:
        return cur.execute("SELECT * FROM users ORDER BY email").df()
    finally:
        cur.close()


def scope_label_of(row) -> str:
    return scope_from_row(row).label()


# --- modes ----------------------------------------------------------------------------------

def is_loopback(address: str | None) -> bool:
    """Whether a server address listens on this computer only (unset means every interface)."""
    if not address:
        return False
    if address.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip().strip("[]")).is_loopback
    except ValueError:
        return False


NETWORK_WRITES_OFF = ("本看板未配置登录（单机模式），但服务器监听的地址不只是本机，网络上的任何人都能打开它："
                      "为安全起见，导入、撤销、删除演示数据等所有写入操作已停用，各页面仍可查看。"
                      "如需多人使用，请在 .streamlit/secrets.toml 中配置 [auth] 登录（见 README“登录与权限”一节）；"
                      "如只在本机使用，请用默认地址 127.0.0.1 启动。")


def local_actor(address: str | None) -> Actor:
    """单机模式: the person at this computer, an admin of everything; writes off on a network address."""
    user = os_user() or "本机用户"
    return Actor(email=f"{user}（单机模式）", name=user, role="admin", scope=ALL_SCOPE,
                 writes_disabled=None if is_loopback(address) else NETWORK_WRITES_OFF, mode="local")


def os_user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:
        return None


def cli_actor(con, as_email: str | None = None) -> Actor:
    """The command line: an admin (it has the database file anyway), or the user named by --as."""
    if as_email is None:
        who = os_user() or "命令行"
        return Actor(email=f"{who}（命令行）", name=who, role="admin", mode="cli")
    user = find_user(con, normalise_email(as_email))
    if user is None:
        raise AccessError(f"用户 {as_email} 未登记：请先用 python -m governance users add 添加。")
    return actor_for(user, mode="cli")


