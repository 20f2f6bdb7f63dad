"""Plotly figure builders: one look for every chart, Chinese fonts, practices marked on time axes.

Names from the data only ever go into text fields that Plotly renders as text (never HTML
templates built from data).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.graph_objects as go

try:  # Plotly's JSON encoder peeks at sys.modules for PIL.Image; two sessions drawing their first
    import PIL.Image  # noqa: F401  chart at once could see it half-imported and crash. Load it now.
except ImportError:  # pragma: no cover - Pillow comes with streamlit
    pass

from governance.labels import FONT_FAMILY

PALETTE = ["#C0392B", "#2E86C1", "#28B463", "#D68910", "#7D3C98", "#17A589", "#CA6F1E", "#566573"]


def base_layout(fig: go.Figure, title: str | None = None, height: int = 380) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left") if title else None,
        font=dict(family=FONT_FAMILY, size=14),
        height=height,
        margin=dict(l=10, r=10, t=50 if title else 20, b=10),
        template="plotly_white",
        colorway=PALETTE,
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1),
        hoverlabel=dict(font_family=FONT_FAMILY),
    )
    return fig


LEGEND_BELOW = dict(orientation="h", yanchor="top", y=-0.14, xanchor="left", x=0)


def legend_below(fig: go.Figure) -> go.Figure:
    """The legend under the plot: beside a title it ran into the title on a phone."""
    fig.update_layout(legend=LEGEND_BELOW)
    return fig


def mark_practices(fig: go.Figure, practices: pd.DataFrame, with_community: bool = True) -> go.Figure:
    """Dotted vertical lines at each practice's start, labelled, for time-axis charts."""
    for i, row in enumerate(practices.itertuples(index=False)):
        label = f"{row.community}：{row.practice}" if with_community else row.practice
        if len(label) > 22:
            label = label[:21] + "…"
        x = pd.Timestamp(row.started_on)
        fig.add_shape(type="line", x0=x, x1=x, y0=0, y1=1, xref="x", yref="paper",
                      line=dict(color="#7D3C98", width=1, dash="dot"))
        fig.add_annotation(x=x, y=1 - 0.07 * (i % 4), xref="x", yref="paper", text=label, showarrow=False,
                           xanchor="left", font=dict(size=11, color="#7D3C98"), bgcolor="rgba(255,255,255,0.7)")
    return fig


def practices_timeline(practices: pd.DataFrame) -> go.Figure:
    """Each dated practice as a point on a time line, one row per community (labels alternate
    above and below the point so neighbours do not overlap; the full text is in the hover)."""
    fig = go.Figure()
    colors = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(practices["community"].unique())}
    for community, rows in practices.groupby("community", sort=False):
        short = [p if len(p) <= 14 else p[:13] + "…" for p in rows["practice"]]
        fig.add_trace(go.Scatter(
            x=pd.to_datetime(rows["started_on"]), y=[community] * len(rows), mode="markers+text",
            text=short, textposition=["top center" if i % 2 == 0 else "bottom center" for i in range(len(rows))],
            textfont=dict(size=12), name=community, cliponaxis=False,
            marker=dict(size=13, color=colors[community], symbol="diamond"),
            customdata=rows[["practice", "related_category"]].fillna("—").to_numpy(),
            hovertemplate="%{y}<br>%{x|%Y-%m-%d}<br>%{customdata[0]}<br>相关诉求类别：%{customdata[1]}<extra></extra>",
        ))
    base_layout(fig, "经验做法时间线", height=max(300, 90 * practices["community"].nunique() + 120))
    fig.update_layout(showlegend=False, margin=dict(l=10, r=60, t=50, b=10))
    lo, hi = pd.to_datetime(practices["started_on"]).min(), pd.to_datetime(practices["started_on"]).max()
    fig.update_xaxes(title="开始日期", tickformat="%Y-%m",
                     range=[lo - pd.Timedelta(days=120), hi + pd.Timedelta(days=120)])
    fig.update_yaxes(title=None, autorange="reversed")
    return fig


def month_axis(fig: go.Figure, first: dt.date, last: dt.date) -> go.Figure:
    fig.update_xaxes(tickformat="%Y-%m", tickangle=0, nticks=5, range=[pd.Timestamp(first) - pd.Timedelta(days=15),
                                                pd.Timestamp(last) + pd.Timedelta(days=15)])
    return fig
