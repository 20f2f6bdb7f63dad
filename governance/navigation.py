"""The pages of the dashboard: file, Chinese title, URL path (part of users' links), icon.

A page appears once its file exists. File stems differ from url_paths (`1_overview.py` serves
`overview`). Streamlit's first session after a server start runs in the old pages/-folder mode,
which knows a file by its name without the number prefix; it runs the page file directly, and
the page's `ui.frame_guard()` reruns it inside app.py's frame (see governance/ui.py).
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PAGES = [
    ("pages/1_overview.py", "总览", "overview", ":material/dashboard:"),
    ("pages/2_coverage.py", "组织覆盖", "coverage", ":material/account_tree:"),
    ("pages/3_organizations.py", "社会组织", "organizations", ":material/diversity_3:"),
    ("pages/4_tickets.py", "诉求办理", "tickets", ":material/support_agent:"),
    ("pages/5_compare.py", "社区对比", "compare", ":material/compare_arrows:"),
    ("pages/8_bulletin.py", "月度通报", "bulletin", ":material/campaign:"),
    ("pages/6_data.py", "数据管理", "data", ":material/upload_file:"),
    ("pages/7_glossary.py", "指标说明", "glossary", ":material/menu_book:"),
    ("pages/9_users.py", "用户管理", "users", ":material/manage_accounts:"),
]

# Pages that make sense on an empty database.
NEEDS_NO_DATA = {"data", "glossary", "users"}

# Pages listed only for roles that may do one of these actions (governance/access.py).
PAGE_ACTIONS = {"data": ("import", "undo", "remove_demo"), "users": ("manage_users",)}


def page_open_to(url_path: str, role: str) -> bool:
    from governance.access import ROLE_ACTIONS

    needs = PAGE_ACTIONS.get(url_path)
    return needs is None or any(a in ROLE_ACTIONS.get(role, set()) for a in needs)


def existing_pages() -> list[tuple[str, str, str, str]]:
    return [p for p in PAGES if (ROOT / p[0]).exists()]
