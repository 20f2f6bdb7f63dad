"""Meta-test: no page or governance module hands data to the browser as HTML.

`unsafe_allow_html=True`, `st.html` and `components.html` are allowed only for static CSS blocks
listed here explicitly (file, exact literal).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (file relative to the repository, the exact string literal passed) — static <style> blocks only.
ALLOWED: set[tuple[str, str]] = {
    # 社区对比: cells keep line breaks, one card per community below 640 px; 培训模式 hides the sidebar and
    # sizes a slide's type; app.py hides Plotly's mode bar on touch screens (no data in any)
    ('app.py', '<style>@media (pointer: coarse), (max-width: 640px) {.modebar-container {display: none !important;}}</style>'),
    ('pages/5_compare.py', "<style>[data-testid='stTable'] td p {white-space: pre-line;}@media (max-width: 640px) {.st-key-cmp_table {display: none;}}@media (min-width: 641px) {.st-key-cmp_cards {display: none;}}</style>"),
    ('pages/5_compare.py', '<style>\n[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],\n[data-testid="stHeader"], [data-testid="stToolbar"] {display: none !important;}\n[data-testid="stMainBlockContainer"] {padding: 0.5rem 2rem 0 2rem; max-width: 100%;}\n[data-testid="stMain"] [data-testid="stAlert"] {display: none;}\n.st-key-slide p, .st-key-slide li {font-size: 28px; line-height: 1.25; margin-bottom: 0;}\n.st-key-slide h2 {font-size: 44px; padding: 0;}\n.st-key-slide_grid strong, .st-key-slide_grid_figures strong {font-size: 40px; line-height: 1.15;}\n.st-key-slide_items strong {font-size: 34px;}\n.st-key-slide_items, .st-key-slide_grid_figures {margin-bottom: 1.5rem;}\n.st-key-slide_nav p, .st-key-slide_nav button {font-size: 22px;}\n</style>'),
}

HTML_CALLS = {"html"}  # st.html(...), components.html(...), components.v1.html(...)


def sources() -> list[Path]:
    return sorted([ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "governance").glob("*.py")])


def html_uses(path: Path) -> list[tuple[int, str, object]]:
    """(line, what, the first argument's literal or None) for every call that renders raw HTML."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        unsafe = any(k.arg == "unsafe_allow_html" and not (isinstance(k.value, ast.Constant) and k.value.value is False)
                     for k in node.keywords)
        raw = isinstance(node.func, ast.Attribute) and node.func.attr in HTML_CALLS
        if unsafe or raw:
            arg = node.args[0] if node.args else None
            literal = arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else None
            found.append((node.lineno, "unsafe_allow_html" if unsafe else node.func.attr, literal))
    return found


def violations(path: Path) -> list[str]:
    rel = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name
    bad = []
    for line, what, literal in html_uses(path):
        static_css = literal is not None and literal.lstrip().startswith("<style>") and "{" in literal
        if not (static_css and (rel, literal) in ALLOWED):
            bad.append(f"{rel}:{line}: {what} with {'a non-literal (data?)' if literal is None else 'an unlisted'} argument")
    return bad


def test_no_page_or_module_renders_data_as_html():
    bad = [v for p in sources() for v in violations(p)]
    assert not bad, "\n".join(bad)


def test_the_scan_sees_every_page_and_module():
    names = {p.name for p in sources()}
    assert {"app.py", "1_overview.py", "4_tickets.py", "6_data.py", "ui.py", "charts.py"} <= names


def test_the_scan_catches_data_passed_as_html(tmp_path):
    sample = tmp_path / "bad_page.py"
    sample.write_text(
        "import streamlit as st\n"
        "from streamlit import components\n"
        "name = '<script>alert(1)</script>'\n"
        "st.markdown(f'<b>{name}</b>', unsafe_allow_html=True)\n"
        "st.caption(name, unsafe_allow_html=True)\n"
        "st.html(name)\n"
        "components.v1.html('<p>x</p>')\n"
        "st.markdown('<style>.x {color: red}</style>', unsafe_allow_html=True)\n"  # static, but not listed
        "st.markdown('**ok**', unsafe_allow_html=False)\n",
        encoding="utf-8")
    assert [v.split(": ", 1)[0] for v in violations(sample)] == [
        "bad_page.py:4", "bad_page.py:5", "bad_page.py:6", "bad_page.py:7", "bad_page.py:8"]
