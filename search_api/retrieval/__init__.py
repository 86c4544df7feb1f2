"""Retrieval of one search.

Owns request params, the keyword and semantic legs (their results and statuses, and the schedule
that runs them), fusion, filtering, paging, hydration, the answer's JSON, the vector replica, the
query-vector cache and the per-process runtime. `hybrid` is the pipeline that strings these steps
together. May import `core`, `personal`, `synonyms`.
"""
