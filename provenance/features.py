"""Stage: what the analysis reads from each document's text alone. Hashed character n-gram
counts per sentence, the detail keys (names, numbers) of each sentence, and the agency credits.
Each depends on one document only, so it is cached per text, and adding articles to a scan never
changes another article's features."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from . import loanwords
from .align import DENSE_CELLS
from .attribution import CreditSpan, credit_spans
from .gloss import gloss_counts, gloss_fingerprint
from .glossary import lexicon, load_lemmas
from .hashing import digest, digest_of_objects, of_objects
from .lexical import char_ngram_counts
from .mentions import details, name_vocabulary
from .preparation import Prepared
from .results import ResultStore


@dataclass(frozen=True)
class DocFeatures:
    """One document's features.

    Attributes:
        counts: hashed char n-gram counts, one row per sentence (sentences x buckets, CSR).
        keys: the detail keys of each sentence, in sentence order.
        credits: agency credits (text and photo), with spans into the document's text.
        gloss: hashed gloss counts, one row per sentence (`gloss.gloss_counts`: English lemmas
            through a bilingual dictionary, and name skeletons).
    """

    counts: sparse.csr_matrix
    keys: tuple[tuple[str, ...], ...]
    credits: tuple[CreditSpan, ...]
    gloss: sparse.csr_matrix

    @property
    def details(self) -> frozenset[str]:
        """Every detail key of the document (the same set object for the same `keys` object: a
        process that scans again gets each unchanged document's features back as they were)."""
        return of_objects("details", (self.keys,), lambda: frozenset(k for row in self.keys for k in row))


def doc_features(p: Prepared) -> DocFeatures:
    """`DocFeatures` of one document."""
    return DocFeatures(char_ngram_counts(p.sentence_texts), tuple(tuple(row) for row in sentence_details(p)),
                       tuple(credit_spans(p)), gloss_counts(p.sentence_texts, p.langs.document))


_DEVANAGARI = re.compile("[\u0900-\u097f]")


def docs_features(prepared: list[Prepared], store: ResultStore | None = None, workers: int | None = 1
                  ) -> list[DocFeatures]:
    """`doc_features` of each document, reused from `store` for the same text, sentences,
    language and dictionaries (`gloss.gloss_fingerprint`); computed by `workers` processes."""
    store = store or ResultStore(None)
    prints = {lang: gloss_fingerprint(lang) for lang in {p.langs.document for p in prepared}}

    def read_dictionaries(todo: list[Prepared]) -> None:  # once here, not once in every worker process
        if workers != 1:
            for lang in sorted({p.langs.document for p in todo}):
                load_lemmas(lang)
                if lang != "en":
                    lexicon(lang)
            if any(_DEVANAGARI.search(p.doc.text) for p in todo):  # English loanwords in Devanagari
                loanwords.load()

    return store.memoise("features", prepared, lambda p: _inputs(p, prints[p.langs.document]), doc_features,
                         workers, before=read_dictionaries)


def _inputs(p: Prepared, dictionaries: str) -> tuple:
    """What a document's features depend on besides the code: its text, sentences, language and
    the dictionaries its gloss rows read (`gloss.gloss_fingerprint`)."""
    return p.doc.text, p.sentence_spans, p.langs.document, dictionaries


def rows_keys(prepared: list[Prepared]) -> list[str]:
    """For each document, a digest of what its n-gram and gloss rows (`DocFeatures.counts`,
    `.gloss`) and their weights depend on besides the code (`_inputs`): a key as good as a digest
    of the rows themselves, without hashing their ~20 KB per article (each language's dictionaries
    looked at once)."""
    prints = {lang: gloss_fingerprint(lang) for lang in {p.langs.document for p in prepared}}
    return [digest_of_objects("rows", (p.doc, p.seg.sentences), (p.langs.document, prints[p.langs.document]),
                              lambda p=p: digest(*_inputs(p, prints[p.langs.document]))) for p in prepared]


def sentence_details(p: Prepared) -> list[list[str]]:
    """Detail keys (names, numbers outside quotations) of every sentence of `p`. A
    sentence-initial capitalised word counts as a name when the same article also uses it
    mid-sentence: the keys depend on the document's own text (and language) only."""
    known = name_vocabulary(["\n".join(p.doc.text[q.start:q.end] for q in p.seg.paragraphs)])
    return [[m.key for m in details(t, known, p.langs.document)] for t in p.sentence_texts]


def doc_details(p: Prepared) -> frozenset[str]:
    """Every detail key of `p` (without computing its n-grams)."""
    return frozenset(k for row in sentence_details(p) for k in row)


def detail_weights(doc_sets: list[frozenset[str]], scope: Iterable[int]) -> dict[str, float]:
    """Rarity of each detail within `scope` (indices into `doc_sets`): `w = log((N + 1) / (df + 0.5))`,
    so a detail every article of the story carries counts little and one only a pair shares counts
    much. Computed per story neighbourhood, so unrelated documents in the scan change nothing."""
    scope = list(scope)
    df = Counter(k for i in scope for k in doc_sets[i])
    n = len(scope)
    return {k: math.log((n + 1) / (c + 0.5)) for k, c in df.items()}


def pair_detail_vectors(keys_a: list[list[str]], keys_b: list[list[str]]
                        ) -> tuple[np.ndarray | sparse.csr_matrix, np.ndarray | sparse.csr_matrix]:
    """L2-normalised detail rows of two documents: each key weighted by its rarity among the
    pair's sentences, `log((n + 1) / (df + 0.5))` (floor 0.05). Float64 arrays for a pair whose
    rows x keys fit in `align.DENSE_CELLS` (what the alignment would make of them: building them
    dense costs a third of going through a sparse matrix), sparse CSR for longer ones."""
    rows = [frozenset(row) for row in (*keys_a, *keys_b)]
    rarity = detail_weights(rows, range(len(rows)))  # the sentences play the documents' part
    vocab = {k: i for i, k in enumerate(sorted(rarity))}
    lengths = [len(row) for row in rows]
    n = sum(lengths)
    indices = np.fromiter((vocab[k] for row in rows for k in row), dtype=np.int64, count=n)
    data = np.maximum(np.fromiter((rarity[k] for row in rows for k in row), dtype=np.float64, count=n), 0.05)
    width = max(len(vocab), 1)
    if len(rows) * width <= DENSE_CELLS:
        m = np.zeros((len(rows), width))
        m[np.repeat(np.arange(len(rows)), lengths), indices] = data
        norms = np.sqrt(np.einsum("ij,ij->i", m, m))
        m /= np.where(norms > 0, norms, 1.0)[:, None]
        return m[:len(keys_a)], m[len(keys_a):]
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    m = sparse.csr_matrix((data, indices, indptr), shape=(len(rows), width))
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    m.data /= np.repeat(np.where(norms > 0, norms, 1.0), np.diff(indptr))
    m.sort_indices()
    return m[:len(keys_a)], m[len(keys_a):]
