"""The configured sentence-transformers model run by ONNX Runtime instead of torch.

A short query is mostly per-operator overhead in torch; ONNX Runtime runs the same graph with
less of it, and its int8 variant multiplies quantised weights (`bench/encoders.py` measures both).
The float32 graph returns sentence-transformers' vectors (tokenisation, mean pooling and L2
normalisation are the same; tests/unit/test_onnx_encoder.py compares them), so it shares the torch
encoder's fingerprint and embedding cache. The int8 one encodes slightly differently and has a
fingerprint of its own.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from indexer.core.config import DEFAULT_MODEL, Settings
from indexer.core.errors import ConfigError
from indexer.embedding.embedder import MAX_TOKENS, BatchEncoder, model_fingerprint, resolve_model
from indexer.embedding.onnx_export import Exporter, onnx_file

INT8_SUFFIX = "+int8"
"""Appended to the model fingerprint of int8 vectors (they are not the float32 ones)."""


class OnnxEmbedder(BatchEncoder):
    """An `Embedder` on ONNX Runtime: the exported model, its tokenizer, capped intra-op threads."""

    def __init__(self, model: str, *, cache_root: Path, int8: bool = False, languages: Sequence[str] = ("en",),
                 threads: int = 2, batch_size: int = 64, max_tokens: int = MAX_TOKENS,
                 export: Exporter | None = None) -> None:
        """Load the cached ONNX file, exporting it first on the first start (~20 s for MiniLM).

        Args:
            model: as for `SentenceTransformerEmbedder`.
            cache_root: `settings.cache_dir`; files go to `<cache_root>/onnx/<fingerprint>/`.
            int8: run the int8-quantised graph instead of the float32 one.
            languages: language codes the model reads ('*' for all).
            threads: ONNX Runtime intra-op threads; the machine's cores are shared with ES.
            batch_size: documents per forward pass.
            max_tokens: sequence cap for documents and queries.
            export: replaces the exporter (tests).

        Raises:
            ConfigError: the model cannot be loaded or exported offline, or onnxruntime is missing.

        """
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never download at run time
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        path = resolve_model(model)
        try:
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(path)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot load embedding model {model!r} offline: {exc}") from exc
        config = _sentence_config(path)
        self._max_tokens = min(max_tokens, int(config.get("max_seq_length") or self._model_limit(path)))
        self._lower = bool(config.get("do_lower_case"))
        fingerprint = model_fingerprint(path, self._max_tokens)
        self.file = onnx_file(path, fingerprint, cache_root, int8=int8, export=export)
        self._session = _session(self.file, threads)
        self._inputs = [i.name for i in self._session.get_inputs()]
        self._batch_size = batch_size
        self._lock = threading.Lock()  # one forward pass at a time: threads would only contend
        self.languages: tuple[str, ...] = tuple(languages)
        self.model_id: str = model if model == DEFAULT_MODEL else Path(model).name or model
        self.fingerprint: str = fingerprint + (INT8_SUFFIX if int8 else "")
        self.dims: int = int(self._run(["dimension probe"]).shape[1])

    @classmethod
    def from_settings(cls, settings: Settings, *, threads: int | None = None) -> OnnxEmbedder:
        """The configured model and encoder; `threads` overrides the indexing cap (the read side uses fewer)."""
        return cls(settings.model, cache_root=settings.cache_dir, int8=settings.encoder == "onnx-int8",
                   languages=settings.model_languages, batch_size=settings.embed_batch_size,
                   threads=settings.torch_threads if threads is None else threads)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Encode a batch of texts, normalised so inner product is cosine.

        Like sentence-transformers, texts are sorted by length before batching so that a batch pads
        little, and the vectors are returned in the callers' order.
        """
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        if not texts:
            return out
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        with self._lock:
            for start in range(0, len(order), self._batch_size):
                chunk = order[start:start + self._batch_size]
                out[chunk] = self._run([texts[i] for i in chunk])
        return out

    def _run(self, texts: list[str]) -> np.ndarray:
        if self._lower:
            texts = [t.lower() for t in texts]
        encoded = self._tokenizer(texts, padding=True, truncation="longest_first", max_length=self._max_tokens,
                                  return_tensors="np")
        feeds = {name: np.asarray(encoded[name], dtype=np.int64) for name in self._inputs}
        return np.asarray(self._session.run(None, feeds)[0], dtype=np.float32)

    def _model_limit(self, path: str) -> int:
        """Sentence-transformers' default cap: the tokenizer's, within the position embeddings."""
        limit = int(self._tokenizer.model_max_length)
        config = Path(path) / "config.json"
        if config.is_file():
            positions = json.loads(config.read_text(encoding="utf-8")).get("max_position_embeddings", limit)
            limit = min(limit, int(positions))
        return limit


def _sentence_config(path: str) -> dict[str, Any]:
    """`sentence_bert_config.json` (sequence cap, lowercasing); empty for a plain transformers model."""
    file = Path(path) / "sentence_bert_config.json"
    return dict(json.loads(file.read_text(encoding="utf-8"))) if file.is_file() else {}


def _session(file: Path, threads: int) -> Any:
    """An ONNX Runtime CPU session capped at `threads` intra-op threads that do not spin when idle.

    Spinning workers would hold a core Elasticsearch needs between forward passes (torch's did:
    see `ApiSettings.query_torch_threads`).
    """
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise ConfigError("the ONNX encoder needs onnxruntime (a dependency of storesearch: reinstall it, "
                          "or set STORESEARCH_ENCODER=torch)") from exc
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only
    try:
        return ort.InferenceSession(str(file), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types for unreadable files
        raise ConfigError(f"cannot load ONNX model {file}: {exc}; delete it to export again") from exc
