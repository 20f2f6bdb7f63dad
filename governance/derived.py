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
    key = _key(fn, "compute")
    return _compute(key, runtime.path_str(), runtime.data_version(), runtime.scope_key(), tuple(queries), tuple(args))


def _escaped_dict(fig) -> dict | None:
    from governance.labels import plot_safe

    return None if fig is None else plot_safe(fig if not isinstance(fig, dict) else _figure(fig, escaped=False)).to_dict()


def _figure(d: dict, escaped: bool = True):
    import plotly.graph_objects as go

    from governance.labels import mark_plot_safe

    fig = go.Figure(d, _validate=False)
    return mark_plot_safe(fig) if escaped else fig


def figure(fn: Callable, *queries: tuple, args: tuple = ()):
    """The Plotly figure fn(*frames, *args) returns, built once per selection and data version: the
    cache holds the validated figure with its data text escaped (labels.plot_safe) as a dict, and a
    rerun wraps it again without re-validating or re-escaping it (Plotly's validation of every
    property, and walking every trace to escape it, are most of the cost of showing a figure)."""
    key = _key(fn, "figure")
    _FUNCS["figure:" + key] = lambda *a: _escaped_dict(_FUNCS[key](*a))
    d = _compute("figure:" + key, runtime.path_str(), runtime.data_version(), runtime.scope_key(),
                 tuple(queries), tuple(args))
    return _figure(d)


def figures(fn: Callable, *queries: tuple, args: tuple = ()) -> list:
    """As figure(), for a function returning a list of figures (Plotly figures or their dicts)."""
    key = _key(fn, "figures")
    _FUNCS["figures:" + key] = lambda *a: [_escaped_dict(f) for f in _FUNCS[key](*a)]
    ds = _compute("figures:" + key, runtime.path_str(), runtime.data_version(), runtime.scope_key(),
                  tuple(queries), tuple(args))
    return [_figure(d) for d in ds]


def _key(fn: Callable, what: str) -> str:
    key = f"{fn.__module__}.{fn.__qualname__}"
    if "<" in key:
        raise ValueError(f"{what}() needs a named module-level function, not {key}")
    _FUNCS[key] = fn
    return key
