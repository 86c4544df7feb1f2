"""How both console scripts end on an error: one line on stderr and a meaningful exit code.

2: the command or configuration is wrong (fix the call); 1: the work failed (Elasticsearch, data,
a lock held, verification); 130: interrupted. No traceback: the message names what to fix.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from indexer.core.errors import ConfigError, IndexerError

USAGE, FAILED, INTERRUPTED = 2, 1, 130


def quiet_logging() -> None:
    """Warnings only, and no client tracebacks.

    The client logs every retry of an unreachable cluster with a full traceback, while the
    command ends with one line saying so.
    """
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("elastic_transport").setLevel(logging.CRITICAL)


def run_command(prog: str, command: Callable[[], int], *, interrupted: str = "interrupted") -> int:
    """Run `command`, turning storesearch errors and Ctrl-C into a reason and an exit code."""
    try:
        return command()
    except ConfigError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return USAGE
    except IndexerError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return FAILED
    except KeyboardInterrupt:
        print(f"{prog}: {interrupted}", file=sys.stderr)
        return INTERRUPTED
