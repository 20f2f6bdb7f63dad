"""Chinese words shown to users: labels, units and number formats."""

from __future__ import annotations

import math
import re

ALL = "全部"
NA = "无数据"

SOURCE_LABELS = {"published": "公开报道", "simulated": "模拟", "import": "导入"}
TYPE_LABELS = {"urban": "城市社区", "rural": "农村社区"}
LEVELS = ["province", "city", "district", "street", "community"]
LEVEL_LABELS = {"province": "省", "city": "市", "district": "区/县级市", "street": "街道/镇", "community": "社区"}

TABLE_LABELS = {
    "communities": "社区", "compounds": "小区", "buildings": "楼栋", "branches": "小区党支部",
    "building_groups": "楼栋党小组", "household_leads": "党员中心户", "social_orgs": "社会组织",
    "org_monthly": "社会组织月度数据", "tickets": "诉求", "practices": "经验做法",
}

SETTING_LABELS = {
    "score_weight_contacted": "综合得分权重：响应率（T2）", "score_weight_solved": "综合得分权重：解决率（T3）",
    "score_weight_satisfied": "综合得分权重：满意率（T4）",
    "org_target_urban": "社会组织目标数：城市社区（S3）", "org_target_rural": "社会组织目标数：农村社区（S3）",
}


def setting_label(key: str) -> str:
    """A setting's Chinese name: '满意率等级权重：不满意（T4）' for satisfaction_weight_不满意."""
    if key in SETTING_LABELS:
        return SETTING_LABELS[key]
    if key.startswith("satisfaction_weight_"):
        return f"满意率等级权重：{key[len('satisfaction_weight_'):]}（T4）"
    return key


FONT_FAMILY = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, sans-serif"


_MD_INLINE = str.maketrans({c: "\\" + c for c in "\\`*_[]<>#|~$:"})
_MD_LINE_START = re.compile(r"^([ \t]*)([-+=]|\d{1,9}[.)](?=\s|$))", re.M)


# Bidirectional controls (U+202A-202E, U+2066-2069, marks U+200E/200F/061C) reorder what follows them:
# a name could show as another text. Removed wherever data is shown as text (Markdown, Plotly).
_BIDI = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"))


# GFM turns a bare address (http://…, www.…, name@host) into a live link whatever the escapes: an
# invisible word joiner (U+2060) inside "://", after "www" and after "@" keeps it plain text.
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=\bwww)(?=\.)|(?<=@)(?=\w)", re.I)


def md_escape(text) -> str:
    """Text from the data or a URL, safe inside Streamlit markdown (captions, notices, labels,
    st.table cells): it shows as typed, with no bold, links, colours, formulas or HTML. Characters
    that act anywhere in a line are backslash-escaped; so is what starts a list or a heading
    underline at the start of a line ("- ", "+ ", "1. ", "---", "==="). Other punctuation stays as
    it is, so "100.0%" reads unchanged; line breaks stay (the comparison table shows two lines).
    Bidirectional controls are removed; a bare address gets a word joiner so it is not linked."""
    s = str(text).replace("\r\n", "\n").replace("\r", "\n").translate(_BIDI)
    s = _AUTOLINK.sub("\u2060", s).translate(_MD_INLINE)
    return _MD_LINE_START.sub(lambda m: m.group(1) + m.group(2)[:-1] + "\\" + m.group(2)[-1], s)


_PLOT = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", **_BIDI}


def plot_text(text):
    """Text from the data, safe inside a Plotly figure (names, categories, hover text, legends, tick
    labels, titles): Plotly renders pseudo-HTML (<a href>, <b>, <br>) in every text and in
    hovertemplate substitutions, and shows entities as their characters, so < > & become entities
    and the text reads as typed. Bidirectional controls are removed. Non-strings pass unchanged."""
    return text.translate(_PLOT) if isinstance(text, str) else text


def _plot_values(v):
    if isinstance(v, str):
        return plot_text(v)
    if isinstance(v, (list, tuple)):
        return [_plot_values(x) for x in v]
    if hasattr(v, "dtype") and hasattr(v, "tolist"):   # numpy arrays (Plotly stores columns so)
        return _plot_values(v.tolist()) if v.dtype.kind in "OUS" else v
    return v


# Trace properties that can carry data text. Not hovertemplate/texttemplate (the dashboard's own
# markup; the values they substitute are escaped here) and not a radar's theta (indicator names).
_PLOT_TRACE_FIELDS = ("x", "y", "z", "text", "hovertext", "customdata", "labels", "ids", "parents", "name",
                      "legendgrouptitle")
# layout annotations named OWN_MARKUP keep their markup (the dashboard's own legend text)
OWN_MARKUP = "own-markup"


_ESCAPED = "_plot_safe_done"


def mark_plot_safe(fig):
    """Mark `fig` as escaped already (e.g. rebuilt from the dict of a figure plot_safe escaped), so
    plot_safe leaves it as it is: escaping twice would show "&amp;" for "&". Returns `fig`."""
    setattr(fig, _ESCAPED, True)
    return fig


def plot_safe(fig):
    """The figure with every data string escaped by plot_text: trace values, names, hover text,
    custom data, axis category orders and tick labels, titles, subtitles and annotations. Applied wherever a
    figure is shown or drawn as a picture (ui.plotly_chart, reports.chart_png). Returns `fig`,
    marked (mark_plot_safe): a figure escaped once, e.g. one cached and shown on every rerun, is
    not escaped again."""
    if getattr(fig, _ESCAPED, False):
        return fig

    def fix(obj, field):
        try:
            v = obj[field]
        except (KeyError, ValueError):
            return
        if v is None:
            return
        if field == "legendgrouptitle":
            if v.text:
                v.text = plot_text(v.text)
            return
        new = _plot_values(v)
        if new is not v and new != (v.tolist() if hasattr(v, "tolist") else list(v) if isinstance(v, tuple) else v):
            obj[field] = new
    for trace in fig.data:
        for field in _PLOT_TRACE_FIELDS:
            fix(trace, field)
    layout = fig.layout
    if layout.title and layout.title.text:
        layout.title.text = plot_text(layout.title.text)
    if layout.title and layout.title.subtitle and layout.title.subtitle.text:
        layout.title.subtitle.text = plot_text(layout.title.subtitle.text)
    for axis in [k for k in layout if k.startswith(("xaxis", "yaxis"))]:
        ax = layout[axis]
        for field in ("ticktext", "categoryarray"):
            fix(ax, field)
        if ax.title and ax.title.text:
            ax.title.text = plot_text(ax.title.text)
    if layout.legend and layout.legend.title and layout.legend.title.text:
        layout.legend.title.text = plot_text(layout.legend.title.text)
    for ann in layout.annotations or ():
        if ann.name != OWN_MARKUP and ann.text:
            ann.text = plot_text(ann.text)
    return mark_plot_safe(fig)


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def fmt_rate(x, digits: int = 1) -> str:
    return NA if _missing(x) else f"{x * 100:.{digits}f}%"


def fmt_num(x, digits: int = 0) -> str:
    if _missing(x):
        return NA
    return f"{x:,.{digits}f}"


def fmt_count(x) -> str:
    """A count that may be weighted (满意率's level weights): '43', '7,145', but '1.6' where the
    weights leave a fraction (rounding it would change the rate it explains)."""
    if _missing(x):
        return NA
    return fmt_num(x, 0 if abs(x - round(x)) < 1e-9 else 1)


def fmt_count_rate(num, den, r) -> str:
    """A rate with the counts behind it, e.g. '92.3%（120/130）'."""
    if _missing(r):
        return f"{NA}（{fmt_num(num)}/{fmt_num(den)}）" if den is not None else NA
    return f"{fmt_rate(r)}（{fmt_num(num)}/{fmt_num(den)}）"
