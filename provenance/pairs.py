"""Stage: align and compare candidate document pairs. The one place stage work meets the result
cache and the worker processes: an alignment depends on the pair alone (both texts, their
languages, the model, the settings), and a comparison on the alignment, so a warm re-scan
redoes only the pairs with a new or changed article.

`PairInputs` holds what every pair reads (per document: prepared text, sentence vectors,
features, whether the model covers its language); the functions here are pure functions of it
and of the pairs asked for, so any engine (forked workers here, Spark elsewhere) can run them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from .align import ALIGN_MAX_CELLS, AlignedBlock, Channel, align, align_anchored, merge_norms
from .classify import Verdict
from .compare import DocComparison, compare_pair, text_vocabulary
from .evidence import PairEvidence, detail_sum, pair_evidence, pair_stats
from .features import DocFeatures, detail_weights, pair_detail_vectors
from .gloss import gloss_fingerprint
from .glossary import has_dictionary
from .hashing import digest, of_objects
from .lexical import DocNgrams, doc_ngrams, pair_tfidf
from .match import DocPair
from .parallel import fork_map
from .preparation import Prepared
from .result import PairAlignment
from .results import ResultStore
from .runtime import progress_bar
from .semantic_budget import mask_key
from .settings import ScanSettings


@dataclass(frozen=True)
class DocPrep:
    """What aligning reads of one document, whatever the other: its n-grams (`lexical.DocNgrams`),
    its sentence vectors' merge norms (`align.merge_norms`), which sentence may join the next
    (`_joinable`), the sentences' lengths and, for a pair of two languages, its gloss n-grams
    (None until such a pair asks: `prepare_docs`)."""

    ngrams: DocNgrams
    sem_norms: np.ndarray
    joinable: np.ndarray
    lengths: np.ndarray
    gloss: DocNgrams | None = None


@dataclass(frozen=True)
class PairInputs:
    """What aligning a pair reads, per document (lists indexed like `prepared`).

    Attributes:
        prepared: the documents.
        vectors: each document's sentence vectors, (sentences, dimension) float32, L2-normalised.
        features: each document's `features.DocFeatures`.
        covered: whether the model covers each document's language.
        model_id: the model the vectors come from (part of every cache key).
        settings: the scan settings.
        anchors: for pairs too long to align in full, the (A, 2) sentence pairs (row in a, row
            in b) that retrieval found between them (`long_pair_anchors`).
        encoded: per document, which sentences have a vector ((sentences,) bool), or None when
            all do (`semantic_budget`); an empty list: all of every document.
    """

    prepared: list[Prepared]
    vectors: list[np.ndarray]
    features: list[DocFeatures]
    covered: list[bool]
    model_id: str
    settings: ScanSettings
    anchors: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)
    encoded: list[np.ndarray | None] = field(default_factory=list)
    #: `pair_keys`' digest of each document's part, made once per scan (it keys every pair three times)
    doc_digests: dict[int, str] = field(default_factory=dict, repr=False, compare=False)
    #: each document's `DocPrep`, worked out once per scan (`prepare_docs`)
    prep: dict[int, DocPrep] = field(default_factory=dict, repr=False, compare=False)
    #: whether a bilingual dictionary serves each language (`glossary.has_dictionary`), asked once per scan
    dictionaries: dict[str, bool] = field(default_factory=dict, repr=False, compare=False)

    def encoded_rows(self, d: int) -> np.ndarray | None:
        return self.encoded[d] if self.encoded else None


def align_pair(pa: Prepared, pb: Prepared, sem_a: np.ndarray, sem_b: np.ndarray, prep_a: DocPrep, prep_b: DocPrep,
               keys_a: list[list[str]], keys_b: list[list[str]], both_covered: bool,
               settings: ScanSettings = ScanSettings(), anchors: np.ndarray | None = None, gloss: bool = False,
               encoded: tuple[np.ndarray | None, np.ndarray | None] = (None, None)) -> list[AlignedBlock]:
    """Align two documents from their sentence vectors, char n-grams and detail keys, and for two
    languages from their glosses too (`gloss`: the pair's gloss channel, weighted by
    `ChannelWeights.gloss`).

    The lexical and detail channels take their statistics from the pair's own sentences
    (n-gram IDF, and the rarity of each name or number among the pair's sentences), not from
    the rest of the scan: an alignment then depends on the two texts alone, so adding an article
    to a story never changes how the others align, and cached alignments stay exact.

    A pair of more than `align.ALIGN_MAX_CELLS` sentence pairs (two long documents) is aligned
    around `anchors`, (A, 2) sentence pairs (row in a, row in b) known to match (`align_anchored`);
    without them, not at all.

    `encoded`: which sentences of each side have a vector (None: all); the semantic channel
    weighs in only between two that do (`align.Channel.src_present`). `prep_a`, `prep_b`: each
    side's `DocPrep` (`doc_prep`), which must hold its gloss n-grams where `gloss` (`prepare_docs`
    adds them for the pairs that need them).
    """
    lex = pair_tfidf(prep_a.ngrams, prep_b.ngrams)
    det_a, det_b = pair_detail_vectors(keys_a, keys_b)
    w = settings.weights
    sem_w = w.semantic * (1.0 if both_covered else w.uncovered_semantic_factor)
    channels = [
        Channel("semantic", sem_a, sem_b, sem_w, prep_a.sem_norms, prep_b.sem_norms, src_present=encoded[0],
                tgt_present=encoded[1]),
        Channel("lexical", lex.a, lex.b, w.lexical, lex.a_pair_norms, lex.b_pair_norms),
        Channel("detail", det_a, det_b, w.detail),
    ]
    if gloss and w.gloss > 0:
        g = pair_tfidf(prep_a.gloss, prep_b.gloss)
        channels.append(Channel("gloss", g.a, g.b, w.gloss, g.a_pair_norms, g.b_pair_norms))
    if len(sem_a) * len(sem_b) > ALIGN_MAX_CELLS:
        return align_anchored(channels, np.zeros((0, 2), np.int64) if anchors is None else anchors, settings.align,
                              prep_a.joinable, prep_b.joinable, margin=not both_covered, src_lengths=prep_a.lengths,
                              tgt_lengths=prep_b.lengths)
    return align(channels, settings.align, prep_a.joinable, prep_b.joinable, margin=not both_covered,
                 src_lengths=prep_a.lengths, tgt_lengths=prep_b.lengths)


def long_pair_anchors(pairs: list[tuple[int, int]], sizes: list[int], mined: list[dict], doc_of_row: np.ndarray
                      ) -> dict[tuple[int, int], np.ndarray]:
    """For each pair (a, b) of `pairs` too long to align in full (more than `ALIGN_MAX_CELLS`
    sentence pairs), the mined sentence pairs between them (`match.semantic_pairs`,
    `match.lexical_pairs`: global rows i < j), as (A, 2) rows (row in a, row in b)."""
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    found: dict[tuple[int, int], set] = {ab: set() for ab in pairs if sizes[ab[0]] * sizes[ab[1]] > ALIGN_MAX_CELLS}
    if found:
        for rows in mined:
            for i, j in rows:
                ab = (int(doc_of_row[i]), int(doc_of_row[j]))
                if ab in found:
                    found[ab].add((i - int(offsets[ab[0]]), j - int(offsets[ab[1]])))
    return {ab: np.array(sorted(v), dtype=np.int64).reshape(-1, 2) for ab, v in found.items()}


def _lengths(p: Prepared) -> np.ndarray:
    return np.array([s.end - s.start for s in p.seg.sentences], dtype=float)


def _joinable(p: Prepared) -> np.ndarray:
    """Sentence i may merge with i+1 only when nothing but whitespace lies between them (so a merge
    never spans page furniture)."""
    t, ss = p.doc.text, p.seg.sentences
    return np.array([not t[ss[i].end:ss[i + 1].start].strip() for i in range(len(ss) - 1)], dtype=bool)


def doc_prep(p: Prepared, features: DocFeatures, vectors: np.ndarray, encoded: np.ndarray | None = None,
             gloss: bool = False) -> DocPrep:
    """`DocPrep` of one document (`encoded`: which sentences have a vector, None: all; `gloss`:
    with its gloss n-grams)."""
    return DocPrep(doc_ngrams(features.counts), merge_norms(vectors, encoded), _joinable(p), _lengths(p),
                   doc_ngrams(features.gloss) if gloss else None)


def docs_prep(prepared: list[Prepared], features: list[DocFeatures], vectors: list[np.ndarray],
              until: Callable[[], bool]) -> dict[int, DocPrep]:
    """The documents' `DocPrep`s (without glosses), in order, until `until()`: what a scan works out
    once its vectors are in, while its worker thread runs the semantic search on one core
    (`pipeline.scan_documents`; the other would wait), so that the alignment's worker processes
    find them made. Never past the search's end: after a re-scan's short search, most documents'
    pairs come from the cache and need none (`prepare_docs` makes the others)."""
    out: dict[int, DocPrep] = {}
    for d, p in enumerate(prepared):
        if until():
            break
        out[d] = doc_prep(p, features[d], vectors[d])
    return out


def prepare_docs(inputs: PairInputs, pairs: list[tuple[int, int]]) -> None:
    """Fill `inputs.prep` for the documents of `pairs`, with the gloss n-grams of those in a pair of
    two languages that both have a dictionary (`two_languages`). Done in this process before the
    workers fork: each would otherwise work out again the documents its pairs share with the
    others' (and the scan does it for every document beside the semantic search, `pipeline`)."""
    glossed = {d for ab in pairs if two_languages(inputs, *ab) for d in ab}
    for d in dict.fromkeys(d for ab in pairs for d in ab):
        known = inputs.prep.get(d)
        if known is None:
            inputs.prep[d] = doc_prep(inputs.prepared[d], inputs.features[d], inputs.vectors[d],
                                      inputs.encoded_rows(d), d in glossed)
        elif d in glossed and known.gloss is None:
            inputs.prep[d] = replace(known, gloss=doc_ngrams(inputs.features[d].gloss))


def two_languages(inputs: PairInputs, a: int, b: int) -> bool:
    """Whether pair (a, b) is of two languages that both have a bilingual dictionary (the gloss
    channel then weighs in)."""
    la, lb = inputs.prepared[a].langs.document, inputs.prepared[b].langs.document
    if la == lb:
        return False
    has = inputs.dictionaries
    for lang in (la, lb):
        if lang not in has:
            has[lang] = has_dictionary(lang)
    return has[la] and has[lb]


def pair_keys(inputs: PairInputs, pairs: list[tuple[int, int]], store: ResultStore) -> dict[tuple[int, int], str]:
    """The cache key of each pair's alignment: model, settings, whether the model covers both,
    both texts and their languages (which a declared language can set), and the dictionaries the
    gloss channel reads for them. Empty without a store. Each document's part is digested once
    (a warm re-scan keys every pair of the folder, and again the derived ones for comparisons)."""
    if not store.enabled:
        return {}
    p, docs = inputs.prepared, inputs.doc_digests
    new = {d for ab in pairs for d in ab} - docs.keys()
    dictionaries = {lang: gloss_fingerprint(lang) for lang in {p[d].langs.document for d in new}}
    docs.update({d: digest(p[d].doc.text, p[d].langs, dictionaries[p[d].langs.document]) for d in new})
    settings = digest(inputs.settings.as_dict())
    # a pair aligned around anchors depends on them too, and on which sentences have vectors
    extra = {ab: [v.tolist()] for ab, v in inputs.anchors.items()}
    for ab in pairs:
        masks = [mask_key(inputs.encoded_rows(d)) for d in ab]
        if any(masks):
            extra.setdefault(ab, []).append(masks)
    return {(a, b): store.key("pair", inputs.model_id, settings, inputs.covered[a] and inputs.covered[b],
                              docs[a], docs[b], *extra.get((a, b), []))
            for a, b in pairs}


def align_pairs(inputs: PairInputs, pairs: list[tuple[int, int]], store: ResultStore, workers: int | None = None,
                progress: bool = False) -> dict[tuple[int, int], tuple]:
    """`(blocks, stats a->b, stats b->a)` of each pair (a, b), from the cache or aligned by
    `workers` processes; `stats x->y`: `evidence.PairStats` of y as the target."""
    keys = pair_keys(inputs, pairs, store)
    cached = store.get_many("pair", list(keys.values()))

    def align_one(ab: tuple[int, int]) -> tuple:
        a, b = ab
        pa, pb = inputs.prepared[a], inputs.prepared[b]
        blocks = tuple(align_pair(pa, pb, inputs.vectors[a], inputs.vectors[b], inputs.prep[a], inputs.prep[b],
                                  inputs.features[a].keys, inputs.features[b].keys,
                                  inputs.covered[a] and inputs.covered[b], inputs.settings, inputs.anchors.get(ab),
                                  two_languages(inputs, a, b), (inputs.encoded_rows(a), inputs.encoded_rows(b))))
        return blocks, *pair_stats(pa, pb, blocks)

    todo = [ab for ab in pairs if cached.get(keys.get(ab)) is None]
    prepare_docs(inputs, todo)
    with progress_bar(progress and len(todo) > 20, len(todo), "aligning", "pair") as done:
        computed = dict(zip(todo, fork_map(align_one, todo, workers, on_done=done), strict=True))
    for ab, value in computed.items():
        if ab in keys:
            store.put("pair", keys[ab], value)
    return {ab: computed.get(ab) or cached[keys[ab]] for ab in pairs}


def pair_evidences(candidates: list[DocPair], aligned: dict[tuple[int, int], tuple], details: list[frozenset[str]],
                   neighbourhood: list[frozenset[int]], keep: bool = False
                   ) -> tuple[list[PairAlignment], list[PairEvidence]]:
    """Each candidate's alignment, and its evidence both ways. Detail rarity for the evidence
    comes from the pair's story neighbourhoods (a detail every article of the story carries says
    nothing about who copied whom). `keep`: reuse what this process worked out in its earlier
    scans for the very alignment value and detail sets (`hashing.of_objects`: a process whose cache
    keeps values between scans gets those back as the same objects; a warm re-scan of 117 articles
    weighed ~150 neighbourhoods' details and ~1,000 pairs' evidence again, ~10 ms, now those of
    the new article's story)."""
    alignments, evidence = [], []
    stories: dict[frozenset, _Story] = {}
    for cand in candidates:
        a, b = cand.a, cand.b
        scope = neighbourhood[a] | neighbourhood[b]
        story = stories.get(scope)
        if story is None:
            story = stories[scope] = _story(scope, details, keep)
        value = aligned[a, b]
        alignments.append(PairAlignment(a, b, value[0], cand))

        def both(a=a, b=b, value=value, story=story) -> tuple[PairEvidence, PairEvidence]:
            _, to_b, to_a = value
            return (pair_evidence(b, a, to_b, details[b], details[a], story.weights, story.weighed(b)),
                    pair_evidence(a, b, to_a, details[a], details[b], story.weights, story.weighed(a)))

        evidence.extend(of_objects("evidence", (value, story), both, (a, b)) if keep else both())
    return alignments, evidence


@dataclass(frozen=True)
class _Story:
    """A story neighbourhood's detail weights (`features.detail_weights`) for these very detail
    sets: `members` (sorted documents), `details` (their detail sets, in that order), and each
    member's weighed details (`evidence.detail_sum`), filled in as asked for."""

    members: tuple[int, ...]
    details: tuple[frozenset[str], ...]
    weights: dict[str, float]
    sums: dict[int, float] = field(default_factory=dict)

    def weighed(self, d: int) -> float:
        if d not in self.sums:
            self.sums[d] = detail_sum(self.details[self.members.index(d)], self.weights)
        return self.sums[d]


def _story(scope: frozenset, details: list[frozenset[str]], keep: bool) -> _Story:
    """The `_Story` of `scope`; with `keep`, the one this process made before for the very same
    detail sets of the same documents."""
    members = tuple(sorted(scope))
    objects = tuple(details[d] for d in members)

    def make() -> _Story:
        return _Story(members, objects, detail_weights(details, members))

    return of_objects("story", objects, make, members) if keep else make()


def compare_derived(inputs: PairInputs, verdicts: list[Verdict], alignments: list[PairAlignment],
                    store: ResultStore, workers: int | None = None) -> dict[int, DocComparison]:
    """The comparison of every derived document with its parent (target index ->), from the cache
    or computed by `workers` processes."""
    by_pair = {(pa.a, pa.b): pa for pa in alignments}
    derived = [(v.derived_from, v.doc) for v in verdicts if v.derived_from is not None]
    keys = pair_keys(inputs, [ab for s, t in derived if (ab := (min(s, t), max(s, t))) in by_pair], store)
    compare_keys = {t: store.key("compare", keys[min(s, t), max(s, t)], s < t)
                    for s, t in derived if (min(s, t), max(s, t)) in keys}
    cached = store.get_many("compare", list(compare_keys.values()))

    def blocks_between(s: int, t: int) -> tuple[AlignedBlock, ...] | None:
        """The blocks of pair (s, t) with `s` on the source side; None if the pair was not aligned."""
        pa = by_pair.get((min(s, t), max(s, t)))
        if pa is None:
            return None
        return pa.blocks if pa.a == s else tuple(AlignedBlock(b.tgt, b.src, b.score, b.moved, b.reused)
                                                 for b in pa.blocks)

    def compare_one(st: tuple[int, int]) -> DocComparison:
        s, t = st
        return compare_pair(inputs.prepared[s], inputs.prepared[t], blocks_between(s, t) or ())

    todo = [(s, t) for s, t in derived if blocks_between(s, t) is None or cached.get(compare_keys.get(t)) is None]
    for d, n in Counter(d for st in todo for d in st).items():
        if n > 1:  # a document in several comparisons (a long one): read once here, not in each worker
            text_vocabulary(inputs.prepared[d].doc.text)
    computed = dict(zip(todo, fork_map(compare_one, todo, workers), strict=True))
    comparisons: dict[int, DocComparison] = {}
    for s, t in derived:
        comparison = computed.get((s, t))
        if comparison is None:
            comparison = cached[compare_keys[t]]
        elif compare_keys.get(t) is not None and blocks_between(s, t) is not None:
            store.put("compare", compare_keys[t], comparison)
        comparisons[t] = comparison
    return comparisons
