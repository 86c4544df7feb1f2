"""storesearch read side: retrieval legs, fusion, HTTP routes.

Imports the index format from `indexer` (analysis, embedder, vector snapshots).
"""

__all__: list[str] = []
