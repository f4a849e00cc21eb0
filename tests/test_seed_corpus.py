"""The seed corpus (benchmarks/corpora/iraq-2020) with the real default model: the verdicts,
alignments and exclusions the product promises, checked against gold.json."""

import pytest

pytestmark = pytest.mark.model


def by_id(report):
    return {d["id"]: d for d in report["documents"]}


def test_relations_match_gold(seed_report, gold):
    docs = by_id(seed_report)
    assert set(docs) == set(gold["documents"])
    for doc_id, want in gold["documents"].items():
        got = docs[doc_id]
        assert got["relation"] in want["relation"], doc_id
        assert got["derived_from"] == want["derived_from"], doc_id


def test_wire_cluster_source_and_agency(seed_report, gold):
    want = gold["clusters"][0]
    docs = by_id(seed_report)
    cluster_id = docs[want["source"]]["cluster"]
    cluster = next(c for c in seed_report["clusters"] if c["id"] == cluster_id)
    assert cluster["source"] == want["source"]
    assert set(want["members"]) <= set(cluster["members"])
    assert cluster["attribution"]["agency"] == want["agency"]
    # the AFP evidence is a text credit ("told AFP"), not RFI's AFP photo credit
    texts = [c["text"] for c in cluster["attribution"]["text_credits"]]
    assert any("told AFP" in t for t in texts)
    assert all(c["agency"] != "Reuters" for c in cluster["attribution"]["text_credits"])


def test_independents_share_quotes_but_are_not_derived(seed_report):
    docs = by_id(seed_report)
    for doc_id in ("002_a744cf46346e926e", "003_c07afd8436c39a75"):
        assert docs[doc_id]["relation"] == "independent"
        assert docs[doc_id]["derived_from"] is None
        assert docs[doc_id]["alignments"] == []


def _aligned(report, texts, doc_id, t_sub, s_subs):
    doc = by_id(report)[doc_id]
    tt, st = texts[doc_id], texts[doc["derived_from"]]
    t0 = tt.index(t_sub)
    t_rng = (t0, t0 + len(t_sub))
    for a in doc["alignments"]:
        ta, tb = a["target_span"]
        if ta < t_rng[1] and t_rng[0] < tb:
            sa, sb = a["source_span"]
            if any(s in st[sa:sb] or st[sa:sb] in s for s in s_subs):
                return True
    return False


@pytest.fixture(scope="module")
def texts(seed_result):
    return {p.doc.id: p.doc.text for p in seed_result.prepared}


def test_rfi_passages_aligned_to_the_right_afp_passage(seed_report, gold, texts):
    pairs = gold["passages"]["001_2a7d6a1efb716f92"]
    hits = [t for t, s in pairs if _aligned(seed_report, texts, "001_2a7d6a1efb716f92", t, s)]
    assert len(hits) >= 10, f"only {len(hits)} of {len(pairs)} gold passages aligned: {hits}"
    # the two examples the product brief names
    assert "Anti-American sentiment soared with the death in January" in hits
    assert "Again, Monday and Wednesday, two rockets hit US soldiers and diplomats" in hits


def test_copy_passages_aligned(seed_report, gold, texts):
    for t, s in gold["passages"]["004_26451090c78396de"]:
        assert _aligned(seed_report, texts, "004_26451090c78396de", t, s), t


def test_no_alignment_touches_page_furniture(seed_report, gold, texts):
    docs = by_id(seed_report)
    for doc_id, junk in gold["furniture"].items():
        text = texts[doc_id]
        excluded = [tuple(e["span"]) for e in docs[doc_id]["excluded"]]
        spans = [tuple(a["target_span"]) for a in docs[doc_id]["alignments"]]
        for other in docs.values():  # spans of this document used as a source by others
            if other["derived_from"] == doc_id:
                spans += [tuple(a["source_span"]) for a in other["alignments"]]
        for j in junk:
            start = text.index(j)
            end = start + len(j)
            assert any(a <= start and end <= b for a, b in excluded), f"{doc_id}: {j!r} not excluded"
            assert not any(a < end and start < b for a, b in spans), f"{doc_id}: {j!r} is aligned"


def test_every_span_points_at_the_text_it_claims(seed_report, texts):
    for d in seed_report["documents"]:
        tt = texts[d["id"]]
        for e in d["excluded"]:
            assert tt[slice(*e["span"])] == e["text"]
        if d["derived_from"] is None:
            continue
        st = texts[d["derived_from"]]
        for v in d["divergences"]:
            if v["source_span"]:
                assert st[slice(*v["source_span"])] == v["source_text"]
            if v["target_span"]:
                assert tt[slice(*v["target_span"])] == v["target_text"]


def test_two_runs_give_identical_documents(seed_report, default_model):
    from provenance import build_report, scan
    from tests.conftest import SEEDS

    again = build_report(scan([str(SEEDS)], embedder=default_model))
    assert again["documents"] == seed_report["documents"]
    assert again["clusters"] == seed_report["clusters"]


def _divs(report, doc_id, typ, subtype=None):
    return [v for v in by_id(report)[doc_id]["divergences"]
            if v["type"] == typ and (subtype is None or v["subtype"] == subtype)]


def test_copy_divergences_from_the_wire(seed_report):
    copy = "004_26451090c78396de"
    names = {(v["source_text"], v["target_text"]) for v in _divs(seed_report, copy, "name", "variant")}
    assert ("Al-Kadhimi", "Kadhemi") in names or ("Kadhimi", "Kadhemi") in names
    quotes = _divs(seed_report, copy, "quote", "altered")
    assert any("[US]" in v["source_text"] and "[US]" not in v["target_text"] for v in quotes)
    assert len(_divs(seed_report, copy, "omitted")) >= 5  # 004 stops early
    # "from twelve to three" against "to just three ... down from a dozen" is no change of number
    assert _divs(seed_report, copy, "number") == []


def test_rewrite_divergences_from_the_wire(seed_report):
    rfi = "001_2a7d6a1efb716f92"
    names = {(v["source_text"], v["target_text"]) for v in _divs(seed_report, rfi, "name", "variant")}
    assert ("Al-Kadhimi", "al-Kazimi") in names
    # Robert Ford's quotation, not in AFP: reported once, as the added passage that quotes him
    added = [v for v in _divs(seed_report, rfi, "added", "quote") if "more room for maneuver to Mr. Kazimi"
             in v["target_text"]]
    assert len(added) == 1 and added[0]["severity"] == "substantive"
    assert not any("more room for maneuver" in v["target_text"] for v in _divs(seed_report, rfi, "quote"))
