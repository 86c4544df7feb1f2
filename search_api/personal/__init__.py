"""Personalisation.

Owns viewing events (values, validation, storage), profiles (pure and cached) and the pure
personal parts of retrieval (bent query vectors, gates, keyword boosts). May import `core`.
"""
