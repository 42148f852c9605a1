"""What the operator pages report: usage and cost, activity, actions, over a period and a scope.

Each function takes the store, a Scope (one organization, or all of them for a site admin) and a
Period, runs aggregate queries in the database, and returns pandas DataFrames or plain dicts that
the pages lay out and the charts draw. Nothing here imports Streamlit.
"""
