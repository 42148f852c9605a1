"""Render functions: a domain object in, Streamlit UI out. Pages compose them."""
