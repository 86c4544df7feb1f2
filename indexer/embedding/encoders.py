"""The embedder the settings ask for: one place that reads `STORESEARCH_ENCODER`.

`onnx` (the default) and `onnx-int8` run an ONNX export of the model (`indexer.embedding.onnx_embedder`);
`torch` runs sentence-transformers itself. `STORESEARCH_MODEL=use-multilingual-v3` is a model of its
own runtime (numpy, `indexer.embedding.use_embedder`): the encoder setting does not apply to it.
"""

from __future__ import annotations

from indexer.core.config import MULTILINGUAL_MODEL, Settings
from indexer.embedding.embedder import Embedder, SentenceTransformerEmbedder


def load_embedder(settings: Settings, *, threads: int | None = None) -> Embedder:
    """The configured model on the configured encoder.

    Args:
        settings: model, languages, batch size, encoder and (for ONNX) the cache directory.
        threads: intra-op threads instead of `settings.torch_threads` (the read side uses fewer).

    Raises:
        ConfigError: the model cannot be loaded (or exported) offline.

    """
    if settings.model == MULTILINGUAL_MODEL:
        from indexer.embedding.use_embedder import UseEmbedder

        return UseEmbedder.from_settings(settings, threads=threads)
    if settings.encoder == "torch":
        return SentenceTransformerEmbedder.from_settings(settings, torch_threads=threads)
    from indexer.embedding.onnx_embedder import OnnxEmbedder

    return OnnxEmbedder.from_settings(settings, threads=threads)
