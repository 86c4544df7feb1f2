"""Text analysis shared by index and query time.

Owns normalisation, language detection, jieba words, English stems and CJK unigrams.
May import `core`.
"""
