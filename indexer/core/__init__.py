"""Foundation of both sides.

Owns settings, the error hierarchy, the Elasticsearch client and its one error-translation
boundary, and how console scripts exit. Imports nothing else from `indexer`.
"""
