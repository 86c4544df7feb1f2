"""Popular past queries as a suggestion source (kind `query`), from the query log."""

from __future__ import annotations

from search_api.analytics.popular import PopularQueries
from search_api.suggest.sources import Candidate, Kind

SCORE_PER_SEARCH = 1000.0
"""A past query's score per time it was searched, on the catalog's popularity scale (summed
`(sales + 1) × rating / 5` of a phrase's products): a query a hundred shoppers typed competes with
the catalog's strong phrases, one typed once does not."""
MIN_SEARCHES = 2
"""A query searched once is one shopper's, not a suggestion for everyone."""


class QueryLogSource:
    """Completes a prefix with queries shoppers searched (and found something for)."""

    def __init__(self, popular: PopularQueries) -> None:
        """Wrap the process's popular-query list."""
        self.popular = popular

    def suggest(self, prefix: str, *, size: int) -> list[Candidate]:
        """Exact-prefix past queries only (a typo'd past query is not worth suggesting)."""
        return [Candidate(text=q, norm=q, kind=Kind.QUERY, score=count * SCORE_PER_SEARCH)
                for q, count in self.popular.complete(prefix, size=size) if count >= MIN_SEARCHES]
