"""Foundation of the read side.

Owns the API error hierarchy, the read-side settings, key hashes and scopes, rate specs, the
translation of request-model validation errors into API errors, and the Prometheus metrics every
layer records into (and their scrape). May import only `indexer.index_format`.
"""
