"""Entry point of the dashboard: page config, who is signed in, and the router over pages/.

Every page has a url_path unlike its file's name: Streamlit still knows the legacy pages/ folder
pages by their file names, and a path equal to one makes AppTest run that file alone, without
this script (no sign-in check, no sidebar).
"""

import streamlit as st

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
    navigation = st.navigation(
        {
            "Assistant": [
                st.Page(
                    "pages/chat.py", title="Chat", icon=":material/forum:", url_path="assistant", default=True
                )
            ],
            "Engineering": [
                st.Page(
                    "pages/search.py",
                    title="Search the codebase",
                    icon=":material/search:",
                    url_path="code-search",
                )
            ],
        }
    )
navigation.run()
