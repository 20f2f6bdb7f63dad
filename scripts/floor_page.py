"""The floor of the benchmark's browser section: a Streamlit page holding one small Plotly chart
and nothing else, served by `python -m governance bench` beside the dashboard in the same run.
No page of the dashboard can load faster than this one on the same machine and browser."""

import plotly.graph_objects as go
import streamlit as st

st.set_page_config(page_title="floor", layout="wide")
st.title("基准页")
fig = go.Figure(go.Bar(x=["一月", "二月", "三月"], y=[3, 1, 2]))
fig.update_layout(height=300, margin=dict(l=20, r=20, t=20, b=20))
st.plotly_chart(fig, key="floor")
