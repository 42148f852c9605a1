"""Entry point of the dashboard: page config, who is signed in, and the router over pages/.

Every page has a url_path unlike its file's name: Streamlit still knows the legacy pages/ folder
pages by their file names, and a path equal to one makes AppTest run that file alone, without
this script (no sign-in check, no sidebar).
"""

import streamlit as st

from app.analytics.scope import can_see_reports
from components.session import current_user, flush_cookie, load_services, setup_state
from components.sidebar import render_identity

st.set_page_config(page_title="Course Creator Assistant", page_icon="🎓", layout="wide")
setup_state()
svc = load_services()
user = current_user(svc)
flush_cookie()

if user is None:
    pages = [
        st.Page("pages/sign_in.py", title="Sign in", icon=":material/login:", url_path="signin", default=True)
    ]
    navigation = st.navigation(pages, position="hidden")
else:
    render_identity(svc, user)
    sections = {
        "Assistant": [
            st.Page(
                "pages/chat.py", title="Chat", icon=":material/forum:", url_path="assistant", default=True
            )
        ],
    }
    if can_see_reports(user):  # organization and site admins; students and instructors chat only
        sections["Operations"] = [
            st.Page(
                "pages/actions.py", title="Actions and audit", icon=":material/fact_check:", url_path="audit"
            ),
            st.Page("pages/usage.py", title="Usage and cost", icon=":material/payments:", url_path="cost"),
            st.Page(
                "pages/analytics.py", title="Analytics", icon=":material/monitoring:", url_path="insights"
            ),
        ]
        sections["Engineering"] = [
            st.Page(
                "pages/retrieval_lab.py", title="Retrieval lab", icon=":material/science:", url_path="lab"
            ),
            st.Page("pages/index.py", title="Index", icon=":material/database:", url_path="search-index"),
        ]
    navigation = st.navigation(sections)
navigation.run()
