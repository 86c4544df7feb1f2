"""Retrieval of one search.

Owns request params, the keyword and semantic legs, fusion, filtering, paging, hydration, the
vector replica, the query-vector cache and the per-process runtime. May import `core`, `personal`.
"""
