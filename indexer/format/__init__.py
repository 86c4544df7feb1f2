"""The index format.

Owns the Elasticsearch documents of products and brand keywords, the mappings and the FAISS
vector snapshots. May import `core`, `text`, `catalog`, `embedding`.
"""
