"""Everything that writes product documents.

Owns full and clone-based builds (`pipeline` orchestrates `start`, `product_load`,
`brand_keywords`, `verify`), the writer threads, live upserts/deletes (`changes`), the
product-document step both builds and upserts use (`documents_step`) and the analysis cache. May
import every lower layer (`core` … `store`).
"""
