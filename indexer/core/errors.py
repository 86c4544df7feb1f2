"""Errors raised by the indexer.

    IndexerError                 every error this package raises on purpose
    ├── ConfigError              a setting or argument is unusable
    ├── CatalogError             a catalog file cannot be read at all (per-row problems are rejects)
    ├── EngineError              Elasticsearch failed or is unreachable (translated in `es.py`)
    ├── BuildError               a build could not finish; the live alias was not touched
    │   └── VerificationError    a finished build did not verify; the live alias was not touched
    ├── SnapshotError            a FAISS snapshot is missing, corrupt or of another model
    └── LockedError              another build or writer holds the lock this job needs

The CLI maps each to a one-line message and a non-zero exit code; the API maps them to JSON.
"""

from __future__ import annotations


class IndexerError(Exception):
    """Base of every deliberate indexer error."""


class ConfigError(IndexerError):
    """A setting or argument is unusable."""


class CatalogError(IndexerError):
    """A catalog source cannot be read at all."""


class EngineError(IndexerError):
    """Elasticsearch failed or could not be reached."""


class BuildError(IndexerError):
    """A build stopped before the alias swap."""


class VerificationError(BuildError):
    """A built version failed verification, so it was not made live."""


class SnapshotError(IndexerError):
    """A vector snapshot is missing, corrupt or incompatible."""


class LockedError(IndexerError):
    """Another process holds the build or write lock."""
