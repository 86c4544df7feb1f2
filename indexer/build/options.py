"""What a build is asked to do: its sources, its strictness and its batching."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BuildOptions:
    """What to build and how strict to be."""

    products: tuple[Path, ...] = ()
    brand_keywords: tuple[Path, ...] = ()
    max_reject_ratio: float = 0.05
    allow_failures: int = 0
    reject_dir: Path | None = None
    # sentence-transformers sorts each call's texts by length, so larger calls pad less; on the
    # 10k sample 1024 gave 213 docs/s vs 197 at 256 (single runs on a noisy machine)
    batch_size: int = 1024
    progress: bool = True
    cache: bool = True
    """Reuse embeddings and analysed text of unchanged products (settings.cache_dir)."""
    reuse: bool = True
    """Start from a clone of the live version when its documents are of the same making (and
    `cache` is on); False writes every document again."""
