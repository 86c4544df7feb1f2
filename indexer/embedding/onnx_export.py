"""ONNX files of the configured model, made locally once and cached by model fingerprint.

Nothing is downloaded: the float32 graph is exported with `torch.onnx.export` from the same
sentence-transformers model the torch encoder loads, and the int8 graph is a dynamic quantisation
of that file by ONNX Runtime. Both live in `<cache_dir>/onnx/<fingerprint>/`; a later start finds
them there, and a model whose files change gets a new fingerprint and so a new export.

The graph includes the mean pooling and the L2 normalisation, so it maps token ids straight to
the vector sentence-transformers would return. Only models made of a transformer, mean pooling and
optional normalisation can be exported this way (anything else would encode differently).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from indexer.core.errors import ConfigError

EXPORT_FORMAT = 1
"""Part of the cache directory's name: bump when the export or quantisation recipe changes."""

FP32_FILE = "model.onnx"
INT8_FILE = "model-int8.onnx"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
"""Tokenizer outputs the graph may take (those the model's tokenizer produces, in this order)."""

_SUPPORTED = {"sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling",
              "sentence_transformers.models.Normalize"}

Exporter = Callable[[str, Path], None]
"""Writes the float32 graph of the model at a path (first argument) to a file (second)."""


def cache_dir(cache_root: Path, fingerprint: str) -> Path:
    """The directory of one model's ONNX files (the fingerprint made safe for a file name)."""
    return Path(cache_root) / "onnx" / f"{re.sub(r'[^A-Za-z0-9._-]+', '-', fingerprint)}-e{EXPORT_FORMAT}"


def onnx_file(path: str, fingerprint: str, cache_root: Path, *, int8: bool,
              export: Exporter | None = None, quantize: Exporter | None = None) -> Path:
    """The cached ONNX file of a model, exported (and quantised) first if it is not there yet.

    Files are written under a temporary name and renamed, so two processes starting at once
    each export and the last rename wins; neither ever loads half a file.

    Raises:
        ConfigError: the model cannot be exported or quantised (unsupported pipeline, missing
            packages, an exporter error).

    """
    directory = cache_dir(cache_root, fingerprint)
    fp32 = directory / FP32_FILE
    if not fp32.exists():
        check_pipeline(path)
        _write(fp32, lambda tmp: (export or export_fp32)(path, tmp))
    if not int8:
        return fp32
    target = directory / INT8_FILE
    if not target.exists():
        _write(target, lambda tmp: (quantize or quantize_int8)(str(fp32), tmp))
    return target


def _write(target: Path, make: Callable[[Path], None]) -> None:
    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        make(tmp)
        os.replace(tmp, target)
    except ConfigError:
        raise
    except Exception as exc:  # the exporter and quantiser raise many types; the start fails the same way
        raise ConfigError(f"cannot write {target}: {type(exc).__name__}: {exc} (STORESEARCH_CACHE_DIR must be "
                          "writable; STORESEARCH_ENCODER=torch needs no export)") from exc
    finally:
        tmp.unlink(missing_ok=True)


def check_pipeline(path: str) -> None:
    """Refuse models whose sentence-transformers pipeline the exported graph would not reproduce.

    Raises:
        ConfigError: a module other than transformer / pooling / normalize, or pooling other than mean.

    """
    root = Path(path)
    modules_file = root / "modules.json"
    if not modules_file.is_file():
        return  # a plain transformers model: sentence-transformers adds mean pooling
    for module in json.loads(modules_file.read_text(encoding="utf-8")):
        kind = str(module.get("type", ""))
        if kind not in _SUPPORTED:
            raise ConfigError(f"the ONNX encoder supports transformer + mean pooling models; {path} has {kind}")
        if kind.endswith(".Pooling"):
            config = json.loads((root / module["path"] / "config.json").read_text(encoding="utf-8"))
            modes = sorted(k for k, v in config.items() if k.startswith("pooling_mode") and v)
            if modes != ["pooling_mode_mean_tokens"]:
                raise ConfigError(f"the ONNX encoder supports mean pooling only; {path} pools with {modes}")


def export_fp32(path: str, target: Path) -> None:
    """Export transformer + mean pooling + L2 normalisation as one float32 graph (~20 s for MiniLM).

    Raises:
        ConfigError: the ONNX exporter's packages (`onnx`, `onnxscript`) are missing.

    """
    import torch
    from sentence_transformers import SentenceTransformer

    _need("onnx")
    _need("onnxscript")
    model = SentenceTransformer(path, device="cpu")
    tokenizer = model.tokenizer
    names = tuple(n for n in INPUTS if n in tokenizer.model_input_names)
    # Two texts of different lengths: a batch or sequence of size 1 would be traced as a constant.
    example = tokenizer(["an example", "a longer example sentence"], padding=True, return_tensors="pt")
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("sequence")
    graph = _pooled(model[0].auto_model)
    with _quiet(), torch.no_grad():
        torch.onnx.export(graph, tuple(example[n] for n in names), str(target), input_names=list(names),
                          output_names=["sentence_embedding"], dynamic_shapes={n: {0: batch, 1: seq} for n in names},
                          dynamo=True, external_data=False, verbose=False)


def quantize_int8(source: str, target: Path) -> None:
    """Dynamic int8 quantisation of the MatMul weights, per output channel.

    Per-channel scales and leaving the embedding lookups in float32 keep the vectors close to
    float32 ones (ESCI titles: mean cosine 0.993 vs 0.953 for per-tensor scales on every op).
    """
    _need("onnx")
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _quiet():
        quantize_dynamic(source, str(target), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul"])


def _pooled(transformer: Any) -> Any:
    """Transformer, then the mean over unmasked tokens, then L2 normalisation, as one torch module."""
    import torch

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                    token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
            extra = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
            hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)  # as sentence-transformers
            return torch.nn.functional.normalize(mean, p=2.0, dim=1)

    return Pooled().eval()


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The exporter and quantiser warn and log about things that do not apply here; keep starts quiet."""
    root, onnx_log = logging.getLogger(), logging.getLogger("torch.onnx")
    levels = root.level, onnx_log.level
    root.setLevel(logging.ERROR)
    onnx_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.setLevel(levels[0])
        onnx_log.setLevel(levels[1])


def _need(package: str) -> None:
    try:
        __import__(package)
    except ImportError as exc:
        raise ConfigError(f"the ONNX encoder needs the package {package!r} (a dependency of storesearch: "
                          "reinstall it, or set STORESEARCH_ENCODER=torch)") from exc
