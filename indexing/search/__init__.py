"""Retrieval over a built index: hybrid ranking (BM25, dense cards, dense passages, fused per
file), the index reader and the passage vectors as the retriever reads them.

It depends on the index only (never on `app`), so `python -m indexing query` and `eval` run the
same retriever the assistant does; `app.retrieval` wraps it with settings, the chat-turn mode and
the service the pages read.
"""
