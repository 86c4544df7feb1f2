"""Benchmarks that print numbers; run them as scripts (see each module's docstring)."""
