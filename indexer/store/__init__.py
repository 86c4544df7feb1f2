"""Elasticsearch bookkeeping.

Owns compare-and-set state, locks, the change sequence, build records, versions and alias swaps,
the change log, bulk writes and the version lifecycle. May import `core` … `format`.
"""
