"""Brand keywords.

Owns the brand zone beside organic results, the live answer, ranking audits, their store and
reports. May import `core`, `personal`, `retrieval`.
"""
