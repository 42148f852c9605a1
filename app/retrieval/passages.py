"""The assistant's name for `indexing.search.passage_index`.

The retrieval core depends on the index alone, so it lives in `indexing` (which never imports
`app`: `python -m indexing query` runs without the assistant); the assistant reaches it through
`app.retrieval`, and through `RetrievalService` for everything the pages show.
"""

from indexing.search.passage_index import Coverage, PassageIndex

__all__ = ["Coverage", "PassageIndex"]
