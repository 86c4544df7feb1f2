"""Query-time synonyms.

Owns the synonym rules (the Solr file format and brand-keyword aliases), the pure expansion of a
query into the alternatives its words have, and the live rule set each process keeps (reloaded
when the file or the live index version changes). May import `core`.
"""
