"""Index settings and mappings, kept as JSON under `mappings/`, one file per index family."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from indexer.core.config import Settings
from indexer.core.errors import ConfigError

FAMILIES = ("products", "brand_keywords", "suggestions", "events", "queries", "rules")


def load(directory: Path, family: str, *, dims: int | None = None) -> dict[str, Any]:
    """The create-index body for a family, with the vector size set when the family has vectors.

    Raises:
        ConfigError: the file is missing or not valid JSON.

    """
    if family not in FAMILIES:
        raise ConfigError(f"unknown index family {family!r}; known: {', '.join(FAMILIES)}")
    path = Path(directory) / f"{family}.json"
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"mapping file {path} not found") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"mapping file {path} is not valid JSON: {exc}") from exc
    body = {k: v for k, v in body.items() if not k.startswith("_comment")}
    body = copy.deepcopy(body)
    vector = body.get("mappings", {}).get("properties", {}).get("embedding")
    if vector is not None and dims is not None:
        vector["dims"] = dims
    return body


def products(settings: Settings, *, dims: int) -> dict[str, Any]:
    """The products create-index body for the configured vector backend.

    With `vector_backend=elasticsearch` the vector is HNSW-indexed for `knn`; `cosine` (not
    `dot_product`) because Elasticsearch normalises cosine vectors at index time and then
    scores them as a dot product: as fast, and a vector off unit length by rounding is never
    refused. With FAISS it stays doc values only (no graph to build for nothing).
    """
    body = load(settings.mappings_dir, "products", dims=dims)
    if settings.vector_backend == "elasticsearch":
        body["mappings"]["properties"]["embedding"].update(
            index=True, similarity="cosine", index_options={"type": settings.knn_index})
    return body
