"""The assistant's name for `indexing.search.types`.

The retrieval core depends on the index alone, so it lives in `indexing` (which never imports
`app`: `python -m indexing query` runs without the assistant); the assistant reaches it through
`app.retrieval`, and through `RetrievalService` for everything the pages show.
"""

from indexing.search.types import RetrievalResult, RetrievedChunk

__all__ = ["RetrievalResult", "RetrievedChunk"]
