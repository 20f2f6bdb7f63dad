"""The pages of the dashboard: file, Chinese title, URL path (part of users' links), icon.

A page appears once its file exists. File stems differ from url_paths on purpose: a fresh
session deep-linking to a url_path equal to its file stem shows file stems in the sidebar.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PAGES = [
    ("pages/overview_page.py", "总览", "overview", ":material/dashboard:"),
    ("pages/coverage_page.py", "组织覆盖", "coverage", ":material/account_tree:"),
    ("pages/organizations_page.py", "社会组织", "organizations", ":material/diversity_3:"),
    ("pages/tickets_page.py", "诉求办理", "tickets", ":material/support_agent:"),
    ("pages/compare_page.py", "社区对比", "compare", ":material/compare_arrows:"),
    ("pages/data_page.py", "数据管理", "data", ":material/upload_file:"),
    ("pages/glossary_page.py", "指标说明", "glossary", ":material/menu_book:"),
]

# Pages that make sense on an empty database.
NEEDS_NO_DATA = {"data", "glossary"}


def existing_pages() -> list[tuple[str, str, str, str]]:
    return [p for p in PAGES if (ROOT / p[0]).exists()]
