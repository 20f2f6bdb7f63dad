"""社区治理指标看板: the logic behind the Streamlit pages (database, queries, indicators, demo data, charts)."""
