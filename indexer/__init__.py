"""storesearch write side: catalog reading, text analysis, embedding and index builds.

`indexer` owns the index format (mappings, analysed fields, vector snapshots); `search_api`
imports it, never the other way round.
"""

__all__: list[str] = []
