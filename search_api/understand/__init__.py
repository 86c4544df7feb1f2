"""Query understanding: brands, colours, sizes, gender/age, materials and prices recognised in a query.

Recognised parts become soft boosts on the keyword leg (never filters): `lexicon` (the maintained
words), `catalog` (brands and colour values of the live version), `price` (price expressions),
`recognise` (pure: text → `Understanding`), `boosts` (→ Elasticsearch clauses), `store` (one
vocabulary per live version, per process). May import `core` (and `indexer.index_format` for
analysis and the Elasticsearch boundary); `retrieval` imports it.
"""
