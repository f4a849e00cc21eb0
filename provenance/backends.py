"""Encoder backends for a sentence-transformers model saved in a folder: PyTorch (through
sentence-transformers), or ONNX Runtime running the same weights exported to ONNX, in float32 or
with int8 dynamic quantisation.

The ONNX files are exported locally from the model's own folder (no hub), once, into
`<cache>/models/<model>-<digest of the model's files>-v<EXPORT_VERSION>/`, written to a temporary
file and renamed, so a killed export leaves nothing half-written and two processes exporting at
once each rename a whole file. Exporting needs PyTorch (a few seconds); encoding with ONNX Runtime
does not import it.

What each costs (`python benchmarks/backends.py`): `onnx` gives the same vectors as `torch`
(cosine 1.0) faster; `onnx-int8` is faster again but moves vectors (see the README), which is why
it is not the default.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import re
import tempfile
import threading
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .errors import ConfigError, EncodingStopped, ModelError
from .parallel import usable_cores

#: What `--backend` accepts; "auto" is `AUTO`, or "torch" where ONNX cannot serve the model.
BACKENDS = ("auto", "torch", "onnx", "onnx-int8")
#: The backend "auto" prefers: the fastest one whose verdicts equal torch's on the benchmarks
#: (benchmarks/backends.py; int8 changes some).
AUTO = "onnx"
#: Sentences per ONNX Runtime run on the CPU (see `OnnxEncoder`), and on an accelerator.
CPU_BATCH = 8
ACCELERATOR_BATCH = 32
#: On the CPU, texts are cut into at least this many batches per thread where they fill fewer
#: (`OnnxEncoder`): load balance between the threads.
BATCHES_PER_THREAD = 4
#: Bumped when the export or quantisation changes, so older exported files are not reused.
EXPORT_VERSION = 1
_DEVICE = re.compile(r"^(cpu|cuda(:\d+)?|mps|xpu(:\d+)?)$")


def check_device(device: str) -> str:
    """`device` if it names a device kind this tool knows ('cpu', 'cuda', 'cuda:N', 'mps', 'xpu').

    Raises:
        ConfigError: another string.
    """
    if not _DEVICE.match(device or ""):
        raise ConfigError(f"--device {device!r}: use cpu, cuda, cuda:N, mps or xpu")
    return device


def check_device_present(device: str) -> None:
    """Raise a one-line ModelError when torch sees no such device (imports torch: only asked for a
    device other than the CPU)."""
    if device == "cpu":
        return
    import torch

    kind, _, num = device.partition(":")
    mod = getattr(torch, kind, None)
    available = bool(mod is not None and getattr(mod, "is_available", lambda: False)())
    count = getattr(mod, "device_count", lambda: 1)() if available else 0
    if not available or (num and int(num) >= count):
        raise ModelError(f"--device {device}: torch sees no such device here ({count} {kind} device(s)); "
                         "use --device cpu")


def onnx_unsupported(folder: Path | None) -> str | None:
    """Why the ONNX backend cannot serve the model in `folder` (None: it can). Needs
    onnxruntime installed and a folder holding a Transformer, a Pooling (mean, CLS or max) and
    optionally a Normalize module, with a fast tokenizer (tokenizer.json)."""
    if importlib.util.find_spec("onnxruntime") is None:
        return "onnxruntime is not installed (pip install onnxruntime onnx)"
    if folder is None or not folder.is_dir():
        return "the model is known by id only; pass its folder with --model DIR"
    try:
        modules = json.loads((folder / "modules.json").read_text("utf-8"))
    except (OSError, ValueError):
        return "the model folder has no readable modules.json"
    kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in sorted(modules, key=lambda m: m.get("idx", 0))]
    if kinds[:2] != ["Transformer", "Pooling"] or any(k != "Normalize" for k in kinds[2:]):
        return f"its modules are {'+'.join(kinds)}, not Transformer+Pooling(+Normalize)"
    if not (folder / modules[0].get("path", "") / "tokenizer.json").exists():
        return "it has no tokenizer.json (a fast tokenizer)"
    if _pooling(folder, modules) is None:
        return "its pooling is neither mean, CLS nor max"
    return None


def _pooling(folder: Path, modules: list[dict]) -> str | None:
    path = sorted(modules, key=lambda m: m.get("idx", 0))[1].get("path", "")
    try:
        conf = json.loads((folder / path / "config.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    mode = conf.get("pooling_mode")  # sentence-transformers 5+ writes one string
    if isinstance(mode, str):
        return {"cls": "cls", "mean": "mean", "max": "max"}.get(mode)
    on = [k for k in ("cls_token", "mean_tokens", "max_tokens", "mean_sqrt_len_tokens")
          if conf.get(f"pooling_mode_{k}")]
    return {"cls_token": "cls", "mean_tokens": "mean", "max_tokens": "max"}.get(on[0]) if len(on) == 1 else None


def export_dir(cache_root: Path, model_id: str, fingerprint: str) -> Path:
    """Where the exported files of a model with this digest live."""
    slug = re.sub(r"[^\w.-]+", "_", model_id)[:80]
    return Path(cache_root) / "models" / f"{slug}-{fingerprint}-v{EXPORT_VERSION}"


def ensure_onnx(folder: Path, target: Path, precision: str) -> Path:
    """The ONNX file of the model in `folder` at `precision` ('fp32' or 'int8') under `target`,
    exported (and quantised) now if it is not there yet.

    Raises:
        ModelError: the export failed or `target` cannot be written (one line with the fix).
    """
    out = target / f"model-{precision}.onnx"
    if out.exists():
        return out
    try:
        target.mkdir(parents=True, exist_ok=True)
        if precision == "int8":
            fp32 = ensure_onnx(folder, target, "fp32")
            _atomic(out, lambda tmp: _quantize(fp32, tmp))
        else:
            _atomic(out, lambda tmp: _export_in_subprocess(folder, tmp))
    except OSError as exc:
        raise ModelError(f"cannot write the ONNX export to {target} ({exc.strerror or exc}): pass a "
                         "writable --cache-dir, or --backend torch") from None
    return out


def _atomic(out: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _export_in_subprocess(folder: Path, dest: str) -> None:
    """Run `_export` in a child process: the scan's own process never imports torch for the ONNX
    backend, and tracing a model in a scan's encoding thread could deadlock on locks the main
    thread holds."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "provenance.backends", str(folder), dest],
                          capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    if proc.returncode != 0 or not os.path.getsize(dest):
        last = (proc.stderr.strip().splitlines() or ["no message"])[-1][:200]
        raise ModelError(f"exporting {folder} to ONNX failed ({last}); use --backend torch")


def _export(folder: Path, dest: str) -> None:
    """Export the model's Transformer module (token embeddings out) with the TorchScript exporter."""
    import logging

    import torch
    from transformers import AutoModel

    modules = json.loads((folder / "modules.json").read_text("utf-8"))
    path = folder / sorted(modules, key=lambda m: m.get("idx", 0))[0].get("path", "")
    logging.getLogger("transformers").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = AutoModel.from_pretrained(str(path), attn_implementation="eager", local_files_only=True).eval()
        import inspect

        names = ["input_ids", "attention_mask"]
        if "token_type_ids" in inspect.signature(model.forward).parameters:
            names.append("token_type_ids")

        class Tokens(torch.nn.Module):
            def __init__(self, inner):
                super().__init__()
                self.inner = inner

            def forward(self, *args):
                return self.inner(**dict(zip(names, args, strict=True))).last_hidden_state

        ids = torch.ones(2, 8, dtype=torch.long)
        args = (ids, torch.ones_like(ids), torch.zeros_like(ids))[:len(names)]
        axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "token_embeddings"]}
        with torch.no_grad():
            torch.onnx.export(Tokens(model), args, dest, input_names=names, output_names=["token_embeddings"],
                              dynamic_axes=axes, opset_version=17, dynamo=False)


def _quantize(fp32: Path, dest: str) -> None:
    """int8 dynamic quantisation, per channel (per-tensor int8 moved MiniLM's vectors to mean cosine
    0.95 on AVX2, per channel 0.99)."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger().setLevel(max(logging.getLogger().level, logging.ERROR))  # its "pre-process" advice
    quantize_dynamic(str(fp32), dest, weight_type=QuantType.QInt8, per_channel=True)


class OnnxEncoder:
    """A sentence-transformers model run by ONNX Runtime: the model's own fast tokenizer, the
    exported Transformer, then its pooling and L2 normalisation in numpy. Texts are encoded in
    batches of similar length (less padding).

    On the CPU each batch runs on one thread and `threads` threads (default: the usable cores)
    take the batches as they become free, longest first. On two cores, 800 sentences of the speed
    corpus: batches of 32 on ONNX Runtime's two intra-op threads 3.62 s, batches of 8 on them 3.04
    s, batches of 8 on two threads of one-thread runs 2.89 s (median of 4, alternated in one
    process). Small batches keep a batch's activations in cache; runs side by side never wait for
    each other inside an operator, and leave the cores to other threads of the scan between
    batches without stalling a whole run.

    Fewer texts than `BATCHES_PER_THREAD` full batches per thread are cut into smaller batches:
    with one or two batches per thread, the thread given the longest texts runs on alone while
    the others wait (one article's 13 paragraphs: 77 ms in batches of 8, 43 ms in batches of 2;
    25: 114 -> 86 ms; 40: 152 -> 133 ms; from 64 on the batches are full)."""

    def __init__(self, folder: Path, onnx_path: Path, device: str = "cpu", batch_size: int | None = None,
                 threads: int | None = None):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        modules = json.loads((folder / "modules.json").read_text("utf-8"))
        tfolder = folder / sorted(modules, key=lambda m: m.get("idx", 0))[0].get("path", "")
        self.pooling = _pooling(folder, modules)
        conf = _read_json(tfolder / "sentence_bert_config.json") or _read_json(folder / "sentence_bert_config.json")
        self.lower = bool(conf.get("do_lower_case"))
        max_len = int(conf.get("max_seq_length") or _read_json(tfolder / "tokenizer_config.json").get(
            "model_max_length", 512))
        self.tokenizer = Tokenizer.from_file(str(tfolder / "tokenizer.json"))
        self.tokenizer.enable_truncation(min(max_len, 100_000))
        self.tokenizer.no_padding()
        pad = _read_json(tfolder / "special_tokens_map.json").get("pad_token")
        pad = pad.get("content") if isinstance(pad, dict) else pad
        self.pad_id = (self.tokenizer.token_to_id(pad) if pad else None) or 0
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        if device == "cpu":
            # one thread per run: the batches run side by side on `threads` threads instead
            opts.intra_op_num_threads = 1
            opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(onnx_path), opts, providers=_providers(device, ort))
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.batch_size = batch_size or (CPU_BATCH if device == "cpu" else ACCELERATOR_BATCH)
        self.threads = max(1, threads or usable_cores()) if device == "cpu" else 1

    def get_sentence_embedding_dimension(self) -> int:
        return int(self.encode(["a"]).shape[1])

    def encode(self, texts: list[str], batch_size: int | None = None, stop: threading.Event | None = None,
               on_batch: Callable[[np.ndarray, np.ndarray], None] | None = None, **_ignored) -> np.ndarray:
        """(len(texts), dimension) float32, L2-normalised (the keywords sentence-transformers'
        `encode` takes are accepted and ignored). `stop`: checked before each batch; once set, the
        batches running finish and `EncodingStopped` is raised. `on_batch(rows, vectors)`: called
        as each batch finishes, from the thread that ran it, with the positions in `texts` and
        their rows of the result (so a caller can keep what was encoded before a stop)."""
        texts = [t.lower() for t in texts] if self.lower else list(texts)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        encs = self.tokenizer.encode_batch(texts)
        order = np.argsort([len(e.ids) for e in encs], kind="stable")
        step = self.batch_size
        if self.threads > 1:  # a few texts (a warm re-scan's new article): smaller batches, see the class
            step = min(step, max(2, -(-len(texts) // (BATCHES_PER_THREAD * self.threads))))
        batches = [order[lo:lo + step] for lo in range(0, len(texts), step)][::-1]  # longest first
        out: list[np.ndarray] = [np.empty(0)] * len(batches)

        def run(k: int) -> None:
            rows = batches[k]
            width = max(len(encs[i].ids) for i in rows)
            ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                n = len(encs[i].ids)
                ids[r, :n] = encs[i].ids
                mask[r, :n] = 1
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            vecs = _pool(self.session.run(None, {name: feed[name] for name in self.inputs})[0], mask, self.pooling)
            norms = np.linalg.norm(vecs, axis=1, keepdims=True)
            out[k] = np.divide(vecs, norms, out=np.zeros_like(vecs), where=norms > 0)
            if on_batch is not None:
                on_batch(rows, out[k])

        if not _run_all(run, len(batches), min(self.threads, len(batches)), stop):
            raise EncodingStopped()
        vecs = np.zeros((len(texts), out[0].shape[1]), dtype=np.float32)
        for rows, v in zip(batches, out, strict=True):
            vecs[rows] = v
        return vecs


def _run_all(run: Callable[[int], None], n: int, threads: int, stop: threading.Event | None = None) -> bool:
    """`run(k)` for k in range(n), on `threads` threads (this one among them), each taking the
    next k when free (ONNX Runtime releases the GIL while a batch runs); none is taken once `stop`
    is set. Whether every k ran. The first error is raised here once every thread has stopped."""
    taken = itertools.count()
    errors: list[BaseException] = []
    done = threading.Event()  # set however this thread leaves (an error, Ctrl-C): the others stop too
    ran = itertools.count()

    def worker() -> None:
        while not errors and not done.is_set() and not (stop is not None and stop.is_set()) and (k := next(taken)) < n:
            try:
                run(k)
                next(ran)
            except BaseException as exc:  # noqa: BLE001 -- re-raised in the calling thread
                errors.append(exc)

    helpers = [threading.Thread(target=worker, daemon=True) for _ in range(threads - 1)]
    for t in helpers:
        t.start()
    try:
        worker()
    finally:
        done.set()
        for t in helpers:
            t.join()
    if errors:
        raise errors[0]
    return next(ran) >= n


def _pool(tokens: np.ndarray, mask: np.ndarray, how: str | None) -> np.ndarray:
    if how == "cls":
        return tokens[:, 0].astype(np.float32)
    m = mask[..., None].astype(np.float32)
    if how == "max":
        return np.where(m > 0, tokens, -1e9).max(axis=1).astype(np.float32)
    return ((tokens * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)).astype(np.float32)


def _providers(device: str, ort) -> list:
    if device == "cpu":
        return ["CPUExecutionProvider"]
    if device.startswith("cuda") and "CUDAExecutionProvider" in ort.get_available_providers():
        return [("CUDAExecutionProvider", {"device_id": int(device.partition(":")[2] or 0)}), "CPUExecutionProvider"]
    raise ModelError(f"--device {device}: this onnxruntime has no provider for it "
                     f"({', '.join(ort.get_available_providers())}); use --backend torch or --device cpu")


def _read_json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text("utf-8"))
        return value if isinstance(value, dict) else {}
    except (OSError, ValueError):
        return {}


if __name__ == "__main__":  # the export's child process (see `_export_in_subprocess`)
    import sys

    _export(Path(sys.argv[1]), sys.argv[2])
