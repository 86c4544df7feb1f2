"""Merchandising rules: pin, hide, boost and bury products for the queries a rule matches.

Owns the rule model (`PUT /rules/<id>` bodies), the store (`<prefix>-rules`), each process's
refreshed copy of the set (`book`), matching by lookup (`index`) and what matched rules do to a
ranking (`actions`, pure). `retrieval.merchandise` is the search step that applies them. May
import `core`, `personal`.
"""
