"""Entry point of the dashboard: page config and the router over pages/ (st.navigation)."""

import streamlit as st

st.set_page_config(page_title="Course Creator Assistant", page_icon="🎓", layout="wide")

navigation = st.navigation(
    [st.Page("pages/search.py", title="Search the codebase", icon="🔎", default=True)],
)
navigation.run()
