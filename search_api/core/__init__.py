"""Foundation of the read side.

Owns the API error hierarchy and the read-side settings. May import only
`indexer.index_format`.
"""
