"""Everything that writes product documents.

Owns full and clone-based builds, the writer threads, verification, live upserts/deletes and the
analysis cache. May import every lower layer (`core` … `store`).
"""
