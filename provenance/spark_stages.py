"""The Spark engine's per-partition work: pandas batches in, pandas batches out. Each function
calls the same library functions as the local engine (`load.load_file`, `preparation.prepare`,
`features.doc_features`, `embed.encode_texts`, `pipeline.analyse`, `report.build_report`); Spark
only decides where they run. A document or story that fails becomes a `skipped` row with the
reason, never a failed job. Imports neither pyspark nor click.
"""

from __future__ import annotations

import json
import pickle
from dataclasses import dataclass, replace
from pathlib import Path

#: uids are `file order * RECORDS_PER_FILE + record index`: load order, as the local engine sorts
RECORDS_PER_FILE = 1_000_000

LOADED_SCHEMA = "kind string, uid long, id string, path string, reason string, basis string, parent string, blob binary"
PREPARED_SCHEMA = ("kind string, uid long, id string, path string, reason string, blob binary, vec binary, "
                   "keys array<string>")
RESULT_SCHEMA = "kind string, comp long, key long, id string, path string, reason string, json string"

_EMBEDDERS: dict = {}  # one model per Python worker process (Spark reuses workers between tasks)


@dataclass(frozen=True)
class ModelSpec:
    """What executors need to load the embedding model themselves: `load_model`'s arguments. The
    model folder must be readable on every executor (shared storage on a cluster)."""

    name: str | None
    languages: object = "auto"

    def load(self):
        key = (self.name, self.languages)
        if key not in _EMBEDDERS:
            from .embed import load_model

            _EMBEDDERS[key] = load_model(self.name, languages=self.languages)
        return _EMBEDDERS[key]


def _embedder(spec):
    return spec.load() if isinstance(spec, ModelSpec) else spec


def _failure(step: str, exc: Exception) -> str:
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    return f"{step} failed: {type(exc).__name__}: {first}"


def load_files(batches, max_bytes: int):
    """mapInPandas: rows (`order`, `shown`, `path`) of input files -> `LOADED_SCHEMA` rows, one per
    document (`blob`: the pickled `Document`) or per skipped input."""
    import pandas as pd

    from .load import Skipped, load_file

    for pdf in batches:
        rows = []
        for order, shown, path in zip(pdf["order"], pdf["shown"], pdf["path"], strict=True):
            try:
                docs, skipped = load_file(Path(path), shown, max_bytes=max_bytes)
            except Exception as exc:  # a bug must not end the job: the file is skipped with the reason
                docs, skipped = [], [Skipped(shown, _failure("loading", exc))]
            for k, d in enumerate(docs):
                parent = Path(d.path.split("#")[0]).parent.name
                rows.append(("doc", int(order) * RECORDS_PER_FILE + k, d.id, d.path, None, d.text_basis, parent,
                             pickle.dumps(d)))
            rows.extend(("skip", int(order) * RECORDS_PER_FILE, None, s.path, s.reason, None, None, None)
                        for s in skipped)
        yield pd.DataFrame(rows, columns=[c.split()[0] for c in LOADED_SCHEMA.split(", ")])


def prepare_documents(batches, spec, settings, blocks, dates=None):
    """mapInPandas: rows (`uid`, `id`, `blob`) of loaded documents -> `PREPARED_SCHEMA` rows:
    the pickled (`Prepared`, `DocFeatures`), the sentence vectors (float32 bytes; none for a
    document over `max_semantic_sentences`, encoded with its component) and the blocking keys;
    or a skipped row (too short, or a failure) with the reason. `dates`: id or
    file name -> date, as `scan --dates` gives them (`direction.dated`)."""
    import numpy as np
    import pandas as pd

    from .direction import dated
    from .embed import encode_texts
    from .features import doc_features
    from .preparation import prepare
    from .semantic_budget import over_budget
    from .spark_blocks import blocking_keys

    embedder = _embedder(spec)
    columns = [c.split()[0] for c in PREPARED_SCHEMA.split(", ")]
    for pdf in batches:
        rows, done = [], []
        for uid, new_id, blob in zip(pdf["uid"], pdf["id"], pdf["blob"], strict=True):
            doc = pickle.loads(blob)
            doc = doc if doc.id == new_id else replace(doc, id=new_id)
            if dates:
                doc = dated([doc], dates)[0]
            try:
                prepared, skipped = prepare([doc], settings)
                if skipped:
                    rows.append(("skip", int(uid), doc.id, skipped[0].path, skipped[0].reason, None, None, None))
                    continue
                done.append((int(uid), prepared[0], doc_features(prepared[0])))
            except Exception as exc:
                rows.append(("skip", int(uid), doc.id, doc.path, _failure("preparing", exc), None, None, None))
        cap = settings.max_semantic_sentences
        now = [not over_budget([len(p.seg.sentences)], cap) for _, p, _ in done]  # the others: per component
        texts = [t for (_, p, _), e in zip(done, now, strict=True) if e for t in p.sentence_texts]
        vecs = encode_texts(embedder, texts) if texts else np.zeros((0, 1), np.float32)
        offset = 0
        for (uid, p, f), e in zip(done, now, strict=True):
            n = len(p.seg.sentences) if e else 0
            rows.append(("doc", uid, p.doc.id, p.doc.path, None, pickle.dumps((p, f)),
                         np.ascontiguousarray(vecs[offset:offset + n], dtype=np.float32).tobytes(),
                         blocking_keys(p.sentence_texts, f.keys, blocks)))
            offset += n
        yield pd.DataFrame(rows, columns=columns)


def document_texts(batches):
    """mapInPandas: prepared rows (`id`, `blob`) -> (`id`, `text`): the texts an HTML view or a
    passage export quotes."""
    import pandas as pd

    for pdf in batches:
        yield pd.DataFrame({"id": list(pdf["id"]), "text": [pickle.loads(b)[0].doc.text for b in pdf["blob"]]})


def analyse_component(pdf, model_id: str, languages, settings, spec):
    """applyInPandas over one component (`comp`, `uid`, `blob`, `vec`): the local engine's
    analysis of these documents (`pipeline.analyse`, candidates retrieved as `scan_documents`
    retrieves them; an over-long document's sentences encoded here, with `spec`'s model, as the
    local scan picks them from the component's lexical pairs) and its report rows: `document`
    and `cluster` entries with cluster ids made global (`story-<comp>-<k>`), and one `header` row
    (tool, warnings). A failure skips the component's documents with the reason."""
    import pandas as pd

    columns = [c.split()[0] for c in RESULT_SCHEMA.split(", ")]
    pdf = pdf.sort_values("uid")
    comp = int(pdf["comp"].iloc[0])
    items = [pickle.loads(b) for b in pdf["blob"]]
    try:
        report = _component_report(items, list(pdf["vec"]), model_id, languages, settings, spec)
    except Exception as exc:
        reason = _failure("analysis", exc)
        return pd.DataFrame([("skip", comp, int(u), p.doc.id, p.doc.path, reason, None)
                             for u, (p, _) in zip(pdf["uid"], items, strict=True)], columns=columns)
    uid_of = {p.doc.id: int(u) for u, (p, _) in zip(pdf["uid"], items, strict=True)}
    story = {c["id"]: f"story-{comp}-{k}" for k, c in enumerate(report["clusters"], start=1)}
    rows = [("header", comp, 0, None, None, None,
             json.dumps({"tool": report["tool"], "schema_version": report["schema_version"],
                         "warnings": report["warnings"]}, ensure_ascii=False))]
    for d in report["documents"]:
        d["cluster"] = story.get(d["cluster"], d["cluster"])
        rows.append(("document", comp, uid_of[d["id"]], d["id"], d["path"], None, json.dumps(d, ensure_ascii=False)))
    for k, c in enumerate(report["clusters"], start=1):
        c["id"] = story[c["id"]]
        rows.append(("cluster", comp, k, c["id"], None, None, json.dumps(c, ensure_ascii=False)))
    return pd.DataFrame(rows, columns=columns)


def _component_report(items, vec_blobs, model_id: str, languages, settings, spec) -> dict:
    import numpy as np

    from .match import semantic_pairs
    from .pipeline import Retrieved, analyse
    from .report import build_report
    from .retrieve import lexical_search
    from .semantic_budget import rows_to_global, semantic_rows

    prepared = [p for p, _ in items]
    feats = [f for _, f in items]
    sizes = [len(p.seg.sentences) for p in prepared]
    lexical = lexical_search(prepared, feats, settings.match)
    encoded = semantic_rows(sizes, lexical, settings.max_semantic_sentences)
    semantic = _component_vectors(prepared, vec_blobs, encoded, spec)
    doc_of_row = np.repeat(np.arange(len(prepared)), sizes)
    rows = np.arange(len(doc_of_row)) if encoded is None else np.flatnonzero(encoded)
    retrieved = Retrieved(feats, lexical, rows_to_global(semantic_pairs(semantic[rows], doc_of_row[rows],
                                                                        settings.match), rows))
    result = analyse(prepared, semantic, model_id, languages, settings, retrieved=retrieved, workers=1,
                     encoded=encoded)
    notes = tuple(f"{p.doc.path}: {n}" for p in prepared for n in p.doc.notes)
    return build_report(replace(result, warnings=(*notes, *result.warnings)))


def _component_vectors(prepared, vec_blobs, encoded, spec):
    """One row per sentence of the component: the vectors `prepare_documents` encoded, and those
    of the `encoded` sentences of over-long documents (which came without), zeros elsewhere."""
    import numpy as np

    from .embed import encode_texts
    from .semantic_budget import spread_rows

    sizes = [len(p.seg.sentences) for p in prepared]
    parts = [np.frombuffer(v, dtype=np.float32).reshape(len(p.seg.sentences), -1) if len(v) else None
             for v, p in zip(vec_blobs, prepared, strict=True)]
    missing = [d for d, x in enumerate(parts) if x is None]
    if missing:
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        wanted = [(d, r) for d in missing for r in np.flatnonzero(encoded[offsets[d]:offsets[d + 1]]).tolist()]
        vecs = encode_texts(_embedder(spec), [prepared[d].sentence_texts[r] for d, r in wanted])
        at = 0
        for d in missing:
            rows = np.flatnonzero(encoded[offsets[d]:offsets[d + 1]])
            parts[d] = spread_rows(vecs[at:at + len(rows)], rows, sizes[d])
            at += len(rows)
    return np.vstack(parts)
