"""Frames and bytes derived from query results, cached like the queries themselves.

`runtime.query` caches what DuckDB returns; at province scale the Python that turns those rows into
tables, CSV bytes and summaries (thousands of rows) costs more than the cached query. `compute`
caches that work too, keyed on the function, the queries it reads (name, parameters, row cap), the
database and its data version, and any extra arguments, so a rerun with the same selection does
none of it again and new data (a new data version) recomputes it.
"""

from __future__ import annotations

from typing import Callable

import streamlit as st

from governance import db, runtime

# fn key → the function; the cached call receives only the key (functions are not hashed).
_FUNCS: dict[str, Callable] = {}


def _frozen(params: dict | None) -> tuple:
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in (params or {}).items()))


@st.cache_data(show_spinner=False, max_entries=1000)
def _compute(fn_key: str, path_str: str, version: str, scope_key: str, queries: tuple, args: tuple):
    # scope_key: the frames below are read in the asking user's scope, so it is part of the key
    frames = [runtime.query(name, dict(params), max_rows=max_rows) for name, params, max_rows in queries]
    return _FUNCS[fn_key](*frames, *args)


def q(name: str, params: dict | None = None, max_rows: int = db.MAX_ROWS) -> tuple:
    """One query a derivation reads, as runtime.query would run it."""
    return (name, _frozen(params), max_rows)


def compute(fn: Callable, *queries: tuple, args: tuple = ()):
    """fn(*frames of `queries`, *args), cached until the data changes. `fn` must be a named
    module-level function (its module and name are the key); `args` must be hashable by Streamlit."""
    key = f"{fn.__module__}.{fn.__qualname__}"
    if "<" in key:
        raise ValueError(f"compute() needs a named module-level function, not {key}")
    _FUNCS[key] = fn
    con = runtime.connection()
    return _compute(key, str(db.db_path().resolve()), db.data_version(con), runtime.scope_key(), tuple(queries), tuple(args))


def _safe_dict(key: str, *frames):
    from governance.labels import plot_safe

    return plot_safe(_FUNCS[key](*frames)).to_dict()


def figure(fn: Callable, *queries: tuple, args: tuple = ()):
    """The Plotly figure fn(*frames, *args) returns, built once per selection and data version: the
    cache holds the validated figure, its data text already escaped (labels.plot_safe), as a dict,
    and a rerun wraps it again without re-validating or re-escaping it (Plotly's validation of every
    property, and reading it back to escape it, were most of the cost of showing a figure)."""
    from governance.ui import SafeFigure

    key = f"{fn.__module__}.{fn.__qualname__}"
    if "<" in key:
        raise ValueError(f"figure() needs a named module-level function, not {key}")
    _FUNCS[key] = fn
    _FUNCS["figure:" + key] = lambda *a: _safe_dict(key, *a)
    con = runtime.connection()
    d = _compute("figure:" + key, str(db.db_path().resolve()), db.data_version(con), runtime.scope_key(),
                 tuple(queries), tuple(args))
    return SafeFigure(d, _validate=False)
