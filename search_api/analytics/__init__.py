"""What shoppers searched and clicked: the query log, its analytics, click judgments.

Layer: above `personal` (events are its clicks), below `retrieval` (the runtime owns the log's
writer). Imports `core`, `personal` and `indexer.index_format` only; works on plain answers
(dicts), never on retrieval types.
"""
