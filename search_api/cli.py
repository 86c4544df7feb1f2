"""`search-api serve`: run the HTTP service.

Exit codes: 0 normal stop, 2 bad configuration.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from indexer.config import Settings
from indexer.errors import ConfigError, IndexerError


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `search-api` console script."""
    parser = argparse.ArgumentParser(prog="search-api", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve /search, /healthz, /readyz")
    serve.add_argument("--host", default=None, help="bind address (default STORESEARCH_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default STORESEARCH_PORT or 8000)")
    serve.add_argument("--threads", type=int, default=8, help="request threads (default 8)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("elastic_transport", "faiss.loader", "sentence_transformers"):  # a line per request
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"search-api: error: {exc}", file=sys.stderr)
        return 2
    from waitress import serve as waitress_serve

    from search_api.app import create_app
    from search_api.runtime import Runtime

    rt = Runtime(settings)
    try:
        rt.embedder.embed_query("warm up")  # the first query should not pay for loading the model
        live = rt.replica.current()
        logging.info("live index: %s", live.index if live else "none yet (run `indexer build`)")
    except IndexerError as exc:
        logging.warning("starting without a live index: %s", exc)
    app = create_app(settings, runtime=rt)
    host, port = args.host or settings.api_host, args.port or settings.api_port
    logging.info("serving on http://%s:%d", host, port)
    waitress_serve(app, host=host, port=port, threads=args.threads, ident="storesearch")
    return 0


if __name__ == "__main__":
    sys.exit(main())
