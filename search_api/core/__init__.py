"""Foundation of the read side.

Owns the API error hierarchy, the read-side settings, key hashes and scopes, rate specs and the
translation of request-model validation errors into API errors. May import only `indexer.index_format`.
"""
