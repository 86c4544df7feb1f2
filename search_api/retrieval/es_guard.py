"""The search API's Elasticsearch client: fails fast while Elasticsearch cannot be reached.

An outage used to be slow for four reasons, each handled here:

- the client retried a timed-out request 3 more times (`retry_on_timeout`), so a hung node cost
  4 × the request timeout (2 min at 30 s): the read side does not retry timeouts;
- it also asked again, at once and 3 times, on a 429/502/503/504: a restarting node answers
  "all shards failed" (503) for a while, and each search paid 4 slow round trips for it (up to
  1.4 s measured); an overloaded one only gets more load. The read side takes the first answer
  (bulk items refused with 429 are still retried with backoff by `bulk_append`);
- a connection attempt to a host that drops packets waited the whole request timeout: the
  connect phase has its own short timeout (`es_connect_timeout_ms`), the read phase keeps the
  request's, so slow queries are untouched;
- every call kept trying the dead node: a circuit breaker (`core.breaker`) opens after
  `es_breaker_failures` calls in a row could not connect (or were told 502/503/504: a node
  that is starting, has no master or no started shard, answers 503, slowly, for tens of
  seconds), then every call fails at once with `CircuitOpen` (an
  `elastic_transport.ConnectionError`, so `engine_errors` reports "Elasticsearch unreachable")
  until a probe, one per `es_breaker_reset_s`, gets an answer.

Any other answer (even a 4xx, or 429 "too busy") closes the breaker, and a read timeout (a slow
query, or a hung node) leaves it as it is: slow queries cannot open the circuit.
"""

from __future__ import annotations

from typing import Any, cast

import urllib3
from elastic_transport import ConnectionError, ConnectionTimeout, NodeConfig, Transport, Urllib3HttpNode
from elastic_transport._node import NodeApiResponse
from elastic_transport._transport import TransportApiResponse
from elastic_transport.client_utils import DEFAULT, DefaultType
from elasticsearch import Elasticsearch

from indexer.index_format import make_client
from search_api.core.breaker import Breaker
from search_api.core.settings import ApiSettings

UNAVAILABLE_STATUSES = frozenset({502, 503, 504})
"""Answers that say Elasticsearch cannot serve right now (as good as no connection)."""


class CircuitOpen(ConnectionError):
    """Refused without a network call: Elasticsearch was unreachable a moment ago."""


def could_not_connect(exc: ConnectionTimeout) -> bool:
    """Whether a timeout happened while connecting (not while waiting for an answer)."""
    cause = exc.__cause__
    return isinstance(cause, urllib3.exceptions.ConnectTimeoutError) and not isinstance(
        cause, urllib3.exceptions.ReadTimeoutError)


class GuardedTransport(Transport):
    """A transport that asks its breaker before each request and tells it how the request went."""

    breaker: Breaker | None = None
    """Set by `search_client` after the client built the transport (None: no breaker)."""

    def perform_request(self, method: str, target: str, **kwargs: Any) -> TransportApiResponse:  # type: ignore[override]
        """The request through the breaker (the transport's own retries happen inside one call)."""
        breaker = self.breaker
        if breaker is None:
            return super().perform_request(method, target, **kwargs)
        if not breaker.allow():
            raise CircuitOpen(f"circuit open ({breaker.failures} calls in a row unreachable or unavailable); "
                              f"next probe in {breaker.retry_in():.1f} s")
        try:
            response = super().perform_request(method, target, **kwargs)
        except ConnectionTimeout as exc:
            (breaker.failed if could_not_connect(exc) else breaker.inconclusive)()
            raise
        except ConnectionError:
            breaker.failed()
            raise
        except BaseException:
            breaker.inconclusive()
            raise
        (breaker.failed if response.meta.status in UNAVAILABLE_STATUSES else breaker.succeeded)()
        return response


def quick_connect_node(connect_s: float) -> type[Urllib3HttpNode]:
    """A urllib3 node class whose connect phase times out after `connect_s` (reads keep theirs)."""

    def timeout(request_s: float | None) -> urllib3.Timeout:
        if request_s is None:
            return urllib3.Timeout(connect=connect_s, read=None)
        return urllib3.Timeout(connect=min(connect_s, request_s), read=request_s)

    class QuickConnectNode(Urllib3HttpNode):
        """`Urllib3HttpNode` with a short connect timeout (see the module docstring)."""

        def __init__(self, config: NodeConfig) -> None:
            super().__init__(config)
            total = config.request_timeout
            self.pool.timeout = urllib3.Timeout(connect=connect_s if total is None else min(connect_s, total),
                                                total=total)

        def perform_request(self, method: str, target: str, body: bytes | None = None, headers: Any = None,
                            request_timeout: float | None | DefaultType = DEFAULT) -> NodeApiResponse:
            if not isinstance(request_timeout, DefaultType):
                request_timeout = cast(float, timeout(request_timeout))  # urllib3 takes a Timeout too
            return super().perform_request(method, target, body=body, headers=headers,
                                           request_timeout=request_timeout)

    return QuickConnectNode


PROBE_TIMEOUT_S = 5.0
"""How long the breaker's background probe waits for its answer (no search waits for it)."""


def search_client(settings: ApiSettings, breaker: Breaker, *, probe_in_background: bool = False) -> Elasticsearch:
    """The read side's client: shared settings, no timeout or status retries, quick connects, the breaker.

    `probe_in_background`: the breaker's half-open probe is a search of the products and brand-keyword
    aliases run by the breaker's own thread (`ready_to_search`), so no search waits for a returning node.
    """
    client = make_client(settings, transport_class=GuardedTransport, retry_on_timeout=False, retry_on_status=(),
                         node_class=quick_connect_node(settings.es_connect_timeout_ms / 1000))
    transport = cast(GuardedTransport, client.transport)
    transport.breaker = breaker
    if probe_in_background:
        searched = f"{settings.products_alias},{settings.brand_keywords_alias}"
        breaker.probe = lambda: ready_to_search(transport, searched)
    return client


def ready_to_search(transport: Transport, indices: str) -> bool:
    """Whether Elasticsearch can search `indices` now, asked past the breaker.

    A search of size 0 that some shards answered and none failed: a restarting node opens its port
    before its indices recover, and a probe that only reached it would let searches through to slow
    503s; before its cluster state is recovered it even answers a search of no shards at all. A
    missing brand-keyword index is not a failure (`ignore_unavailable`), but a missing products
    alias keeps the circuit open: with no live index there is nothing to search anyway.
    """
    try:
        response = Transport.perform_request(
            transport, "GET", f"/{indices}/_search?size=0&track_total_hits=false&ignore_unavailable=true",
            request_timeout=PROBE_TIMEOUT_S, headers={"accept": "application/json"})
    except Exception:  # noqa: BLE001 - unreachable, timed out, or any transport failure: not back
        return False
    body = response.body if isinstance(response.body, dict) else {}
    shards = body.get("_shards", {})
    return response.meta.status == 200 and shards.get("total", 0) > 0 and not shards.get("failed", 1)
