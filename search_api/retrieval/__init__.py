"""Retrieval of one search.

Owns request params, the keyword and semantic legs, fusion, filtering, paging, hydration, the
vector replica and the per-process runtime. May import `core`, `personal`.
"""
