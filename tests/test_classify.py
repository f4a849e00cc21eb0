"""Relations, story clusters and agency credits from hand-built evidence, model-free.

Evidence is placed just above or below the `ClassifySettings` thresholds it tests, read from the
settings so that a changed default moves the test with it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from provenance.classify import (
    COPY,
    INDEPENDENT,
    REWRITE,
    SOURCE,
    TRANSLATION,
    UNRELATED,
    ClassifySettings,
    PairEvidence,
    classify,
    find_credits,
    same_story_matrix,
)
from provenance.clean import clean
from provenance.errors import ConfigError
from provenance.langid import identify
from provenance.load import Document
from provenance.preparation import Prepared
from provenance.segment import segment

ST = ClassifySettings()
EPS = 0.02

WIRE = [
    "Protesters met Prime Minister Kadhimi in Baghdad on Sunday after weeks of unrest.",
    "At least 43 people were wounded in clashes near Tahrir Square, medics said.",
    "The government promised an inquiry into the use of live ammunition by security forces.",
    "The talks are expected to resume in the capital next week.",
]


def prep(lines: list[str], doc_id: str = "d", language: str = "en", date: str | None = None) -> Prepared:
    """A Prepared document through the real stages; the language is declared (no detection)."""
    meta = {"language": language} | ({"date": date} if date else {})
    seg = segment(clean(Document(doc_id, f"{doc_id}.txt", "\n".join(lines) + "\n", meta=meta)))
    return Prepared(seg, identify(seg))


def ev(target: int, source: int, **kw) -> PairEvidence:
    """Evidence that shows nothing unless `kw` says so; enough blocks to count."""
    base = dict(blocks=ST.min_blocks, aligned_share=0.0, own_aligned_share=0.0, detail_share=0.0,
                verbatim=0.0, mean_score=0.9, cross_lingual=False, shared_details=0)
    return PairEvidence(target=target, source=source, **(base | kw))


def verbatim_copy(target: int, source: int, aligned: float) -> PairEvidence:
    """Near-verbatim evidence (above `copy_verbatim`) with the details of a copy."""
    return ev(target, source, aligned_share=aligned, own_aligned_share=aligned, verbatim=ST.copy_verbatim + EPS,
              detail_share=0.9, shared_details=10)


def run(prepared, evidence, same=None, credits=()):
    n = len(prepared)
    same = np.ones((n, n), dtype=bool) if same is None else same
    credits = None if credits is None else list(credits)
    return classify(prepared, evidence, same, [True] * n, settings=ST, credits=credits)


def relations(verdicts) -> list[tuple[str, int | None]]:
    return [(v.relation, v.derived_from) for v in verdicts]


def two_docs(target_lines=WIRE[:3], target_language="en", **dates):
    return [prep(WIRE, "wire", date=dates.get("wire")),
            prep(target_lines, "other", language=target_language, date=dates.get("other"))]


# --- relations ---------------------------------------------------------------------------------

def test_near_verbatim_pair_is_a_copy_of_the_fuller_source():
    aligned = max(ST.verbatim_link_share, ST.copy_aligned_share) + EPS
    verdicts, clusters = run(two_docs(), [verbatim_copy(1, 0, aligned), verbatim_copy(0, 1, aligned)])
    assert relations(verdicts) == [(SOURCE, None), (COPY, 0)]
    assert verdicts[1].evidence.target == 1 and verdicts[1].evidence.source == 0
    assert [(c.source, c.members) for c in clusters] == [(0, (0, 1))]
    assert verdicts[0].cluster == verdicts[1].cluster == 0


@pytest.mark.parametrize("verbatim, expected", [
    (ST.copy_verbatim + EPS, COPY),
    (ST.copy_verbatim - EPS, REWRITE),
])
def test_partly_aligned_reworded_pair_is_a_rewrite(verbatim, expected):
    # derived by its details alone (the verbatim path is closed below copy_verbatim)
    e = ev(1, 0, aligned_share=ST.copy_aligned_share + EPS, detail_share=ST.derived_detail_share + EPS,
           shared_details=ST.min_shared_details, verbatim=verbatim)
    verdicts, _ = run(two_docs(), [e])
    assert relations(verdicts) == [(SOURCE, None), (expected, 0)]


def test_rewrite_needs_the_shared_details():
    e = ev(1, 0, aligned_share=ST.copy_aligned_share + EPS, detail_share=ST.derived_detail_share + EPS,
           shared_details=ST.min_shared_details - 1, verbatim=ST.copy_verbatim - EPS)
    verdicts, _ = run(two_docs(), [e])
    assert relations(verdicts) == [(INDEPENDENT, None), (INDEPENDENT, None)]


@pytest.mark.parametrize("aligned, expected", [
    (ST.translation_aligned_share + EPS, [(SOURCE, None), (TRANSLATION, 0)]),
    (ST.translation_aligned_share - EPS, [(INDEPENDENT, None), (INDEPENDENT, None)]),
])
def test_cross_language_aligned_pair_is_a_translation(aligned, expected):
    assert ST.translation_detail_share + EPS < ST.derived_detail_share  # only the translation path applies
    e = ev(1, 0, aligned_share=aligned, detail_share=ST.translation_detail_share + EPS, verbatim=0.3,
           shared_details=ST.min_shared_details, cross_lingual=True)
    prepared = two_docs(["Des manifestants ont rencontré le Premier ministre Kadhimi à Bagdad dimanche."],
                        target_language="fr")
    verdicts, _ = run(prepared, [e])
    assert relations(verdicts) == expected


def test_pair_sharing_only_quotations_is_independent():
    # the aligned passages are quotations from a common primary source: verbatim, but none of the
    # outlets' own prose and none of their own details (names, numbers outside quotes) match
    e = ev(1, 0, aligned_share=ST.verbatim_link_share - EPS, own_aligned_share=0.0, verbatim=1.0,
           detail_share=0.1, shared_details=1)
    verdicts, clusters = run(two_docs(), [e, ev(0, 1, aligned_share=0.3, verbatim=1.0)])
    assert relations(verdicts) == [(INDEPENDENT, None), (INDEPENDENT, None)]
    assert [(c.source, c.members) for c in clusters] == [(None, (0, 1))]  # one story, no source


def test_verbatim_quotations_alone_do_not_make_a_pair_derived():
    # most of the target aligned word for word, but the aligned text is quotation: the outlets
    # quote one primary source, and none of their own prose matches
    e = ev(1, 0, aligned_share=ST.verbatim_link_share + EPS, own_aligned_share=0.05, verbatim=1.0,
           detail_share=0.1, shared_details=1)
    verdicts, _ = run(two_docs(), [e])
    assert relations(verdicts) == [(INDEPENDENT, None), (INDEPENDENT, None)]
    e = replace(e, own_aligned_share=ST.verbatim_link_share)  # the same pair with its own prose aligned
    verdicts, _ = run(two_docs(), [e])
    assert relations(verdicts) == [(SOURCE, None), (REWRITE, 0)]


def test_too_few_blocks_show_no_derivation():
    e = ev(1, 0, blocks=ST.min_blocks - 1, aligned_share=1.0, verbatim=1.0, detail_share=1.0, shared_details=10)
    verdicts, _ = run(two_docs(), [e])
    assert [v.relation for v in verdicts] == [INDEPENDENT, INDEPENDENT]


def test_documents_on_no_shared_story_are_unrelated():
    same = np.eye(2, dtype=bool)
    verdicts, clusters = run(two_docs(), [], same=same)
    assert [(v.relation, v.derived_from, v.cluster) for v in verdicts] == [(UNRELATED, None, None)] * 2
    assert clusters == []


# --- the cluster's source ----------------------------------------------------------------------

def test_source_is_the_fuller_document_whatever_its_index():
    # document 0 is a trimmed copy; document 1 the fuller carrier that explains all of it
    prepared = [prep(WIRE[:2], "trimmed"), prep(WIRE, "full")]
    evidence = [verbatim_copy(0, 1, 1.0), verbatim_copy(1, 0, ST.verbatim_link_share + EPS)]
    verdicts, clusters = run(prepared, evidence)
    assert relations(verdicts) == [(COPY, 1), (SOURCE, None)]
    assert clusters[0].source == 1


@pytest.mark.parametrize("dates, source", [
    ({}, 0),                                            # no dates: the fuller document
    ({"wire": "2020-05-10", "other": "2020-05-09"}, 1),  # dated: the earlier one
])
def test_source_is_the_earlier_document_where_dates_are_given(dates, source):
    aligned = max(ST.verbatim_link_share, ST.copy_aligned_share) + EPS
    evidence = [verbatim_copy(1, 0, 1.0), verbatim_copy(0, 1, aligned)]
    verdicts, clusters = run(two_docs(**dates), evidence)
    copy = 1 - source
    assert clusters[0].source == source
    assert (verdicts[source].relation, verdicts[copy].relation, verdicts[copy].derived_from) == (
        SOURCE, COPY, source)


# --- agency credits ----------------------------------------------------------------------------

def credits_of(lines: list[str]) -> list[tuple[str, str, str]]:
    p = prep(lines)
    return [(c.agency, c.kind, p.doc.text[c.start:c.end]) for c in find_credits([p])]


@pytest.mark.parametrize("line, agency, found", [
    ("BAGHDAD (AFP) - Protesters met the prime minister on Sunday.", "AFP", "(AFP)"),
    ("One protester told AFP that the crowd would return on Friday.", "AFP", "told AFP"),
    ("Security forces fired tear gas at the crowd, Reuters reported.", "Reuters", "Reuters reported"),
])
def test_text_credits(line, agency, found):
    assert credits_of([WIRE[0], line, WIRE[3]]) == [(agency, "text", found)]


def test_photo_credits_are_told_apart_from_text_credits():
    lines = [WIRE[0], "Photo: AFP", WIRE[1], "Protesters gather in Tahrir Square on Sunday. [Getty]", WIRE[3]]
    assert credits_of(lines) == [("AFP", "photo", "AFP")]  # [Getty] is a photo credit but no agency
    assert credits_of(WIRE) == []


def test_cluster_agency_comes_from_text_credits_only():
    aligned = max(ST.verbatim_link_share, ST.copy_aligned_share) + EPS
    evidence = [verbatim_copy(1, 0, aligned), verbatim_copy(0, 1, aligned)]
    credited = [prep(["BAGHDAD (AFP) - " + WIRE[0], *WIRE[1:]], "wire"), prep(WIRE[:3], "copy")]
    _, clusters = run(credited, evidence, credits=None)
    assert (clusters[0].agency, [c.kind for c in clusters[0].credits]) == ("AFP", ["text"])
    photo_only = [prep([WIRE[0], "Photo: AFP", *WIRE[1:]], "wire"), prep(WIRE[:3], "copy")]
    _, clusters = run(photo_only, evidence, credits=None)
    assert clusters[0].agency is None
    assert [(c.agency, c.kind) for c in clusters[0].photo_credits] == [("AFP", "photo")]


# --- same story --------------------------------------------------------------------------------

def test_same_story_matrix_needs_similar_centroids_and_shared_details():
    lo, hi = ST.story_min_details, ST.story_details_alone
    assert 2 * lo <= hi  # `head` and `tail` below are disjoint
    many = frozenset(f"d{k}" for k in range(hi))         # enough shared details on their own
    head = frozenset(f"d{k}" for k in range(lo))         # just enough alongside a close centroid
    tail = frozenset(f"d{k}" for k in range(hi - lo, hi))
    s = ST.story_similarity
    rows = [
        ([1.0, 0.0, 0.0], many, True),                                   # 0: the story
        ([s + EPS, np.sqrt(1 - (s + EPS) ** 2), 0.0], head, True),       # 1: cosine just above 0's
        ([s - EPS, np.sqrt(1 - (s - EPS) ** 2), 0.0], tail, True),       # 2: cosine just below 0's
        ([0.0, 0.0, 1.0], many, True),                                   # 3: orthogonal, all details
        ([1.0, 0.0, 0.0], frozenset(sorted(head)[:-1]), True),           # 4: identical, one detail short
        ([1.0, 0.0, 0.0], tail, False),                                  # 5: identical, model lacks language
    ]
    centroids = np.array([r[0] for r in rows], dtype=np.float32)
    same = same_story_matrix(centroids, [r[2] for r in rows], [r[1] for r in rows], ST)
    assert same.shape == (6, 6) and (same == same.T).all() and not same.diagonal().any()
    assert sorted(zip(*map(list, np.nonzero(np.triu(same))), strict=True)) == [(0, 1), (0, 3)]


def test_same_story_matrix_counts_shared_details_as_set_intersections_do():
    """The shared details of every two documents come from one matrix product: the same counts
    as intersecting their sets, pair by pair (documents without details, repeats of one set)."""
    rng = np.random.default_rng(7)
    vocab = [f"d{k}" for k in range(12)]
    for _ in range(30):
        n = int(rng.integers(0, 9))
        details = [frozenset(rng.choice(vocab, int(rng.integers(0, 12)), replace=False).tolist()) for _ in range(n)]
        centroids = rng.normal(size=(n, 4)).astype(np.float32)
        centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
        covered = rng.random(n) < 0.7
        same = same_story_matrix(centroids, covered.tolist(), details, ST)
        for i in range(n):
            for j in range(n):
                shared = len(details[i] & details[j])
                near = covered[i] and covered[j] and shared >= ST.story_min_details and \
                    float(centroids[i] @ centroids[j]) >= ST.story_similarity
                assert same[i, j] == (i != j and (shared >= ST.story_details_alone or near)), (i, j)


def test_settings_out_of_range_are_refused():
    with pytest.raises(ConfigError, match="copy_verbatim"):
        ClassifySettings(copy_verbatim=1.5)


def test_story_groups_join_units_as_the_pairwise_rule_says():
    # `_group_units` joins units found from the story matrix's entries at once: the groups must be
    # those of the rule unit by unit (a before b joins when same[i, j] for i of a and j of b), on
    # random partitions and matrices that are not symmetric
    from provenance.classify import _group_units
    from provenance.graph import UnionFind

    def by_rule(units, same):
        sets = UnionFind(len(units))
        for a in range(len(units)):
            for b in range(a + 1, len(units)):
                if any(same[i, j] for i in units[a] for j in units[b]):
                    sets.union(a, b)
        return sorted([[units[k] for k in g] for g in sets.groups()], key=lambda g: min(min(u) for u in g))

    rng = np.random.default_rng(5)
    for _ in range(300):
        n = int(rng.integers(1, 14))
        docs = rng.permutation(n).tolist()
        cuts = sorted(set(rng.integers(1, n + 1, int(rng.integers(0, n))).tolist()) | {n})
        units = [docs[a:b] for a, b in zip([0, *cuts[:-1]], cuts, strict=True)]
        same = rng.random((n, n)) < rng.choice([0.02, 0.1, 0.3])
        assert _group_units(units, same) == by_rule(units, same)
