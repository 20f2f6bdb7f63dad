"""AppTest helpers for pages whose sections are tabs (ui.lazy_tabs: only the chosen tab runs)."""

from __future__ import annotations


def tab_key(at) -> str | None:
    """The session-state key of the page's tabs (None if the page has none)."""
    labels = [t.label for t in at.tabs]
    return next((k for k in at.session_state.keys() if k.endswith("_tab") and at.session_state[k] in labels), None)


def open_tab(at, label: str):
    """Choose the tab `label`, as a click on it does, and run the page; returns `at`."""
    assert label in [t.label for t in at.tabs], (label, [t.label for t in at.tabs])
    at.session_state[tab_key(at)] = label
    at.run()
    assert not at.exception, at.exception
    return at


def each_tab(at):
    """The page as each of its tabs shows it, in turn: yields `at` once per tab (once for a page without)."""
    labels = [t.label for t in at.tabs]
    yield at
    for label in labels[1:]:
        yield open_tab(at, label)


def queries_run(monkeypatch) -> list[str]:
    """The names of the queries run from now on, in order (Streamlit's caches cleared, so pages really query)."""
    import streamlit as st

    from governance import db

    ran: list[str] = []
    real = db.run_query

    def spy(con, name, *a, **kw):
        ran.append(name)
        return real(con, name, *a, **kw)

    monkeypatch.setattr(db, "run_query", spy)
    st.cache_data.clear()
    return ran
