"""A multilingual `--model` carries the semantic channel across languages it covers. The model is
built here: word embeddings in which a Russian word and its English translation share one vector
(what a multilingual model learns), mean-pooled, saved as a sentence-transformers folder."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from provenance import build_report, scan
from provenance.embed import load_model
from tests.test_gloss import EN, OTHER, RU, RU_EN


@pytest.fixture(scope="module")
def bilingual_model_dir(tmp_path_factory):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Pooling, WordEmbeddings
    from sentence_transformers.models.tokenizer import WhitespaceTokenizer

    words = sorted({w for t in (RU, EN, OTHER) for w in re.findall(r"[^\W\d_]+", t.lower())})
    rng = np.random.default_rng(0)
    # function words weigh nothing (as in a trained model's pooled sentence meaning) ...
    vectors = {w: np.zeros(32) for w in words}
    story = set(re.findall(r"[^\W\d_]+", (RU + EN).lower()))
    vectors.update({w: rng.normal(size=32) for w in re.findall(r"[^\W\d_]+", OTHER.lower()) if w not in story})
    for ru, en in RU_EN.items():  # ... and a word and its translation share one vector
        en_word = en.split(",")[0].split()[-1].lower()
        if not vectors[en_word].any():
            vectors[en_word] = rng.normal(size=32)
        vectors[ru] = vectors[en_word]
    # the tokenizer splits on spaces only: "river." is a token of its own, with river's vector
    for raw in {w for t in (RU, EN, OTHER) for w in t.lower().split()} - set(words):
        core = re.findall(r"[^\W\d_]+", raw)
        vectors[raw] = vectors[core[0]] if core else np.zeros(32)
    words = sorted(vectors)
    weights = np.vstack([np.zeros(32), *[vectors[w] for w in words]]).astype(np.float32)
    tokenizer = WhitespaceTokenizer(["[PAD]", *words], stop_words=[], do_lower_case=True)
    emb = WordEmbeddings(tokenizer, weights)
    out = tmp_path_factory.mktemp("bilingual") / "model"
    SentenceTransformer(modules=[emb, Pooling(32, pooling_mode="mean")], device="cpu").save(str(out))
    return out


def _scan(tmp_path, embedder):
    path = tmp_path / "articles.json"
    path.write_text(json.dumps([{"id": "ru", "text": RU, "language": "ru"},
                                {"id": "en", "text": EN, "language": "en"},
                                {"id": "other", "text": OTHER, "language": "en"}], ensure_ascii=False), "utf-8")
    return build_report(scan([path], embedder=embedder))


def test_a_covered_language_is_matched_by_the_model(bilingual_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("PROVENANCE_DICT_DIR", "")  # no dictionary: only the model links the scripts
    report = _scan(tmp_path, load_model(str(bilingual_model_dir), languages=frozenset({"en", "ru"})))
    docs = {d["id"]: d for d in report["documents"]}
    derived = docs["ru"] if docs["ru"]["derived_from"] == "en" else docs["en"]
    assert derived["relation"] == "translation" and derived["derived_from"] in ("ru", "en")
    assert len(derived["alignments"]) >= 7  # sentence by sentence (a pair may merge)
    assert docs["other"]["derived_from"] is None
    assert not any("does not cover" in w for w in report["warnings"])


def test_an_uncovered_language_keeps_its_warning(bilingual_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("PROVENANCE_DICT_DIR", "")
    report = _scan(tmp_path, load_model(str(bilingual_model_dir), languages=frozenset({"en"})))
    assert any("does not cover ru" in w for w in report["warnings"])
    assert any("no bilingual dictionary for ru" in w for w in report["warnings"])
