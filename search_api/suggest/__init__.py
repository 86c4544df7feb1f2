"""Search-box suggestions (`GET /suggest`): request model, sources, ranking, the service.

May import `search_api.retrieval` (the runtime's Elasticsearch client), `search_api.personal`
(shopper profiles), `search_api.core`, and the write side only through `indexer.index_format`.
"""
