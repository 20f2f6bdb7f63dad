"""The filters every page shares: region (province → community) and months, in the sidebar,
kept in URL query parameters so that a copied link reproduces the view.

URL parameters: province, city, district, street, community, from, to (YYYY-MM); the 月度通报 page
also reads `month` (YYYY-MM, one month: `month_picker`).
Text from the URL is only ever compared with known values; it never reaches SQL as text.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from governance.access import ALL_SCOPE, Scope
from governance.labels import ALL, LEVEL_LABELS, LEVELS, md_escape
from governance.periods import Period, add_months, fmt_month, month_end, parse_month

MAX_PARAM_LEN = 100
# a region list longer than this is not sent to the browser (a province's 5,000 communities in one list
# cost every page load about 0.25 s in the browser, and nobody scrolls them): the level above narrows it
MAX_OPTIONS = 300
PARAM_KEYS = LEVELS + ["from", "to"]


@dataclass(frozen=True)
class Selection:
    province: str | None = None
    city: str | None = None
    district: str | None = None
    street: str | None = None
    community: str | None = None
    period: Period | None = None
    notices: tuple[str, ...] = field(default_factory=tuple)
    within: str | None = None   # the user's scope when it is not 全部 (the selection never leaves it)

    def region_params(self) -> dict:
        return {k: getattr(self, k) for k in LEVELS}

    def params(self, period: Period | None = None) -> dict:
        """Bound parameters for queries: region filters (None = all) and period bounds."""
        return {**self.region_params(), **(period or self.period).params()}

    def region_label(self) -> str:
        parts = [getattr(self, k) for k in LEVELS if getattr(self, k)]
        if parts:
            return " › ".join(parts)
        return f"{self.within.replace('/', ' › ')}（您的范围）的全部社区" if self.within else "全部社区"

    def query_string(self) -> dict:
        """The URL parameters that reproduce this selection (defaults left out)."""
        out = {k: getattr(self, k) for k in LEVELS if getattr(self, k)}
        out["from"] = fmt_month(self.period.first)
        out["to"] = fmt_month(self.period.last)
        return out


def _clean(value) -> str | None:
    """A URL value as text: repeated parameters take the first, over-long ones are refused."""
    if isinstance(value, (list, tuple)):
        value = next((v for v in value if str(v).strip()), None)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def resolve(raw: dict, communities: pd.DataFrame, first_month: dt.date, last_month: dt.date,
            scope: Scope = ALL_SCOPE) -> Selection:
    """Validate URL parameters against the known communities and months.

    `communities` are those inside the user's `scope` (the query reads them through the scope), so
    a value outside the scope is unknown here and falls back to the scope's communities, with a
    notice that names the scope. Unknown or malformed values fall back to defaults with a Chinese
    notice; a community name alone fills in its province, city, district and street when it is
    unambiguous.
    """
    notices: list[str] = []
    for key in PARAM_KEYS:
        given = raw.get(key)
        if isinstance(given, (list, tuple)) and len([v for v in given if str(v).strip()]) > 1:
            name = LEVEL_LABELS.get(key) or {"from": "起始月份", "to": "截止月份"}[key]
            notices.append(f"链接中的{name}参数出现了 {len(given)} 次，只使用第一个。")
    values: dict[str, str | None] = {}
    rows = communities
    for level in LEVELS:
        v = _clean(raw.get(level))
        if v is None:
            values[level] = None
            continue
        if len(v) > MAX_PARAM_LEN:
            notices.append(f"链接中的{LEVEL_LABELS[level]}参数过长，已忽略。")
            values[level] = None
            continue
        matched = rows[rows[level] == v]
        if matched.empty:
            if scope.is_all:
                notices.append(f"链接中的{LEVEL_LABELS[level]}“{md_escape(v[:40])}”在所选范围内不存在，已显示{ALL}。")
            else:
                notices.append(f"链接中的{LEVEL_LABELS[level]}“{md_escape(v[:40])}”不在您的查看范围"
                               f"（{md_escape(scope.label())}）内，只显示范围内的社区。")
            values[level] = None
            continue
        values[level] = v
        rows = matched
    if values["community"] is not None:
        if len(rows) > 1:
            streets = "、".join(md_escape(s) for s in sorted(rows["street"].unique()))
            notices.append(f"多个街道都有“{md_escape(values['community'])}”（{streets}），请在链接中同时指定 street。已显示{ALL}。")
            values["community"] = None
        else:
            for level in LEVELS[:-1]:
                values[level] = rows.iloc[0][level]

    default_last = last_month
    default_first = max(first_month, add_months(last_month, -11))
    f_raw, t_raw = _clean(raw.get("from")), _clean(raw.get("to"))
    f, t = parse_month(f_raw), parse_month(t_raw)
    if f_raw and f is None:
        notices.append(f"链接中的起始月份“{md_escape(f_raw[:20])}”格式不对（应为 YYYY-MM，如 2023-06），已用默认值。")
    if t_raw and t is None:
        notices.append(f"链接中的截止月份“{md_escape(t_raw[:20])}”格式不对（应为 YYYY-MM，如 2023-08），已用默认值。")
    t = t or default_last
    f = f or (max(first_month, add_months(t, -11)) if t_raw else default_first)
    if f < first_month or t > last_month or f > last_month or t < first_month:
        if f_raw or t_raw:
            notices.append(f"数据只覆盖 {fmt_month(first_month)} 至 {fmt_month(last_month)}，月份已调整到该范围内。")
        f = min(max(f, first_month), last_month)
        t = min(max(t, first_month), last_month)
    if t < f:
        notices.append("截止月份早于起始月份，已将两者对调。")
        f, t = t, f
    return Selection(**values, period=Period(f, t), notices=tuple(notices))


def options_for(communities: pd.DataFrame, level: str, chosen: dict) -> list[str]:
    """Values of `level` among communities matching the levels chosen above it."""
    rows = communities
    for upper in LEVELS[: LEVELS.index(level)]:
        if chosen.get(upper):
            rows = rows[rows[upper] == chosen[upper]]
    return sorted(rows[level].dropna().unique().tolist())


def sidebar(communities: pd.DataFrame, first_month: dt.date, last_month: dt.date,
            scope: Scope = ALL_SCOPE) -> Selection:
    """Draw the shared filters in the sidebar and keep the URL in step with them."""
    import streamlit as st

    state = st.session_state
    if "_filters_ready" not in state:
        raw = {k: st.query_params.get_all(k) for k in PARAM_KEYS if k in st.query_params}
        initial = resolve(raw, communities, first_month, last_month, scope=scope)
        for level in LEVELS:
            state[f"f_{level}"] = getattr(initial, level) or ALL
        state["f_from"], state["f_to"] = initial.period.first, initial.period.last
        state["_filters_ready"] = True
        state["_filter_notices"] = initial.notices

    st.sidebar.markdown("**筛选**")
    chosen: dict[str, str | None] = {}
    for level in LEVELS:
        opts = [ALL] + options_for(communities, level, chosen)
        key = f"f_{level}"
        if state.get(key) not in opts:
            state[key] = ALL
        too_long = None
        if len(opts) - 1 > MAX_OPTIONS:   # the value chosen, if any, stays (a street set back to 全部)
            too_long = f"共 {len(opts) - 1:,} 个{LEVEL_LABELS[level]}，列表太长：请先在上面选择更小的范围。"
            opts = [ALL] + ([state[key]] if state[key] != ALL else [])
        value = st.sidebar.selectbox(LEVEL_LABELS[level], opts, key=key, help=too_long)
        chosen[level] = None if value == ALL else value

    months = []
    d = first_month
    while d <= last_month:
        months.append(d)
        d = add_months(d, 1)
    for key, fallback in (("f_from", max(months[0], add_months(months[-1], -11))), ("f_to", months[-1])):
        if state.get(key) not in months:
            state[key] = fallback
    left, right = st.sidebar.columns(2)
    first = left.selectbox("起始月份", months, key="f_from", format_func=fmt_month)
    last = right.selectbox("截止月份", months, key="f_to", format_func=fmt_month)
    if last < first:
        st.sidebar.caption("截止月份早于起始月份，已按对调后的期间显示。")
        first, last = last, first
    sel = Selection(**chosen, period=Period(first, last), notices=tuple(state.get("_filter_notices", ())),
                    within=None if scope.is_all else scope.label())

    wanted = sel.query_string()
    for key in PARAM_KEYS:
        current = st.query_params.get(key)
        if key in wanted:
            if current != wanted[key] or len(st.query_params.get_all(key)) > 1:
                st.query_params[key] = wanted[key]
        elif key in st.query_params:
            del st.query_params[key]
    return sel


# ---------------------------------------------------------------- one month (月度通报: `month`)

def default_month(first_month: dt.date, last_month: dt.date, last_day: dt.date | None) -> dt.date:
    """The latest complete month: the last month of the data if the data reach its last day, else the one before."""
    if last_day is not None and last_day >= month_end(last_month):
        return last_month
    return max(first_month, add_months(last_month, -1))


def resolve_month(text: str | None, first_month: dt.date, last_month: dt.date,
                  default: dt.date) -> tuple[dt.date, str | None]:
    """The bulletin month from a URL or command-line value, or the default with a Chinese notice."""
    if text is None or not str(text).strip():
        return default, None
    text = str(text).strip()
    m = parse_month(text)
    if m is None:
        return default, (f"链接中的通报月份“{md_escape(text[:20])}”格式不对（应为 YYYY-MM，如 2023-08），"
                         f"已显示 {fmt_month(default)}。")
    if m < first_month or m > last_month:
        return default, (f"数据只覆盖 {fmt_month(first_month)} 至 {fmt_month(last_month)}，没有 {fmt_month(m)} 的通报，"
                         f"已显示 {fmt_month(default)}。")
    return m, None


def month_picker(first_month: dt.date, last_month: dt.date, last_day: dt.date | None) -> dt.date:
    """The page's one month, from the URL parameter `month` on arrival (a bad value gets a Chinese
    notice and the default: the latest complete month), then from its selectbox, kept in the URL."""
    import streamlit as st

    state = st.session_state
    default = default_month(first_month, last_month, last_day)
    months = list(reversed([add_months(first_month, i) for i in range(
        (last_month.year - first_month.year) * 12 + last_month.month - first_month.month + 1)]))
    given = _clean(st.query_params.get_all("month")) if "month" in st.query_params else None
    if "_month_ready" not in state or (given and parse_month(given) != state.get("f_month")
                                       and given != state.get("_month_given")):
        chosen, notice = resolve_month(given[:MAX_PARAM_LEN] if given else None, first_month, last_month, default)
        state["f_month"], state["_month_ready"], state["_month_given"] = chosen, True, given
        if notice:
            st.warning(notice, icon=":material/warning:")
    if state.get("f_month") not in months:
        state["f_month"] = default
    month = st.sidebar.selectbox("通报月份", months, key="f_month", format_func=fmt_month,
                         help=f"默认为数据中最近一个完整月份（{fmt_month(default)}）")
    if st.query_params.get("month") != fmt_month(month) or len(st.query_params.get_all("month")) > 1:
        st.query_params["month"] = fmt_month(month)
    return month
