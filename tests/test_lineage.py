"""Direction, replicas, siblings and lineages: what a reader of "X derives from Y" relies on."""

import random
import shutil

import pytest

from provenance.direction import Lean, judge, read_dates
from provenance.errors import InputError
from provenance.lineage import acyclic, replica_groups, split
from tests.conftest import ROOT, SEEDS

FIXTURES = ROOT / "tests" / "fixtures" / "crosslingual"
AFP, RFI, MONITOR, NATIONAL, ARAB_NEWS = (p.stem for p in sorted(SEEDS.glob("*.txt")))


def test_replicas_are_grouped_after_collapsing_whitespace():
    texts = ["One text.\n\nTwo lines.", "Another text.", "One  text.\nTwo lines.\n", "One text. Two lines."]
    assert replica_groups(texts) == {2: 0, 3: 0}


def test_cycles_are_broken_towards_the_root():
    # 1 and 2 each name the other as parent: a cycle no reader can follow
    assert acyclic({0: None, 1: 2, 2: 1, 3: 1}, root=0) == {0: None, 1: 0, 2: 1, 3: 1}


def test_a_rewrite_that_others_derive_from_starts_its_own_lineage():
    # 0 <- 1 (rewrite) <- 2, 3 ; 0 <- 4 (copy) <- 5 (copy of the copy stays in the wire's lineage)
    parent = {0: None, 1: 0, 2: 1, 3: 1, 4: 0, 5: 4}
    got = split(0, [0, 1, 2, 3, 4, 5], parent, starts_lineage=lambda m: m == 1)
    assert got == [(0, [0, 4, 5]), (1, [1, 2, 3])]


def test_dates_settle_the_direction_and_weak_cues_say_so_in_words():
    d = judge("2020-06-12T00:00:00", "2020-06-11T00:00:00", None)
    assert d.established and d.basis == ("dated 2020-06-11 vs 2020-06-12",)
    weak = judge(None, None, Lean(0.4, ("target carries page furniture the other lacks",)))
    assert not weak.established
    assert weak.words() == ("direction undetermined: no dates; weak textual evidence; target carries page "
                            "furniture the other lacks")
    strong = judge(None, None, Lean(3.0, ("target truncates the source's last paragraphs",)))
    assert strong.established and strong.confidence > 0.9


def test_dates_file_reads_ids_and_file_names_and_names_a_bad_row(tmp_path):
    good = tmp_path / "dates.csv"
    good.write_text("id,date\n000_x,2020-06-11\nreprint.txt,2020-06-12\n", "utf-8")
    assert read_dates(good) == {"000_x": "2020-06-11", "reprint.txt": "2020-06-12"}
    bad = tmp_path / "bad.csv"
    bad.write_text("000_x,2020-06-11\n001_y,yesterday\n", "utf-8")
    with pytest.raises(InputError, match=r"bad.csv, line 2: .*'001_y,yesterday'; fix that row"):
        read_dates(bad)


def _replicated_corpus(folder, carriers: int):
    """The seeds, two edited copies (planted edits) and the French/Spanish fixtures, each written
    by `carriers` outlets byte for byte; returns the true (original, derived) pairs."""
    from benchmarks.planted import plant

    rng = random.Random(0)
    texts = {p.stem: p.read_text("utf-8") for p in [*SEEDS.glob("*.txt"), *FIXTURES.glob("*.txt")]}
    texts["copy-002"] = plant(texts[MONITOR], rng)[0]
    texts["copy-003"] = plant(texts[NATIONAL], rng)[0]
    for name, text in texts.items():
        for k in range(1, carriers + 1):
            (folder / (f"{name}@{k}.txt" if carriers > 1 else f"{name}.txt")).write_text(text, "utf-8")
    return [(AFP, "fr_000_afp"), (MONITOR, "fr_002_half"), (NATIONAL, "es_003_part"),
            (MONITOR, "copy-002"), (NATIONAL, "copy-003")]


def _links(report) -> set[frozenset]:
    return {frozenset((d["id"].split("@")[0], d["derived_from"].split("@")[0]))
            for d in report["documents"] if d["derived_from"]}


@pytest.mark.model
def test_replicated_carriers_keep_every_link_and_never_form_a_cycle(tmp_path, default_model):
    from provenance import build_report, scan

    (tmp_path / "plain").mkdir()
    (tmp_path / "replicated").mkdir()
    truth = _replicated_corpus(tmp_path / "plain", 1)
    _replicated_corpus(tmp_path / "replicated", 4)
    plain = build_report(scan([tmp_path / "plain"], embedder=default_model))
    found = {frozenset(p) for p in truth} & _links(plain)
    assert len(found) == len(truth)
    report = build_report(scan([tmp_path / "replicated"], embedder=default_model))
    assert found <= _links(report)
    parent = {d["id"]: d["derived_from"] for d in report["documents"]}
    for start in parent:  # no chain of parents comes back to where it started
        seen, x = {start}, parent[start]
        while x is not None:
            assert x not in seen, f"cycle through {start}"
            seen.add(x)
            x = parent[x]
    docs = {d["id"]: d for d in report["documents"]}
    # the carriers of one text hang from one of them, as replicas, and never from each other in turn
    kinds = sorted((docs[f"{AFP}@{k}"]["direction"] or {}).get("kind", "-") for k in range(1, 5))
    assert kinds == ["-", "replica", "replica", "replica"]
    assert docs[f"{AFP}@1"]["relation"] == "source"
    # every carrier of a translation or an edited copy derives from a carrier of its original
    for name, orig in (("fr_000_afp", AFP), ("copy-002", MONITOR)):
        for k in range(1, 5):
            d = docs[f"{name}@{k}"]
            assert d["derived_from"].split("@")[0] == orig and d["direction"]["kind"] != "replica"


@pytest.mark.model
def test_seeds_with_a_syndicated_copy_and_a_reprint_have_three_lineages(tmp_path, default_model):
    from benchmarks.direction import seed_records, syndicated
    from provenance import build_report, scan

    records = seed_records()
    for r in records + syndicated(records):
        (tmp_path / f"{r['id']}.txt").write_text(r["text"], "utf-8")
    report = build_report(scan([tmp_path], embedder=default_model))
    docs = {d["id"]: d for d in report["documents"]}
    [story] = report["clusters"]
    roots = {x["root"]: x for x in story["lineages"]}
    assert set(roots) == {AFP, MONITOR, NATIONAL}
    assert docs[MONITOR]["relation"] == docs[NATIONAL]["relation"] == "source"
    assert docs[MONITOR]["derived_from"] is None and docs["900-syndicated-002"]["derived_from"] == MONITOR
    assert docs["901-reprint-003"]["lineage"] == roots[NATIONAL]["id"]
    assert story["source"] == AFP and roots[AFP]["attribution"]["agency"] == "AFP"


@pytest.mark.model
def test_two_carriers_of_the_wire_are_siblings_not_a_copy_claim(seed_report):
    docs = {d["id"]: d for d in seed_report["documents"]}
    d = docs[ARAB_NEWS]["direction"]
    assert d["kind"] == "siblings" and not d["established"]
    assert d["words"] == f"both carry the AFP wire; fullest carrier: {AFP}"


@pytest.mark.model
def test_dates_file_sets_the_direction_of_plain_files(tmp_path, default_model):
    from provenance import build_report, scan

    for p in SEEDS.glob("*.txt"):
        shutil.copy(p, tmp_path)
    report = build_report(scan([tmp_path], embedder=default_model,
                               dates={f"{AFP}.txt": "2020-06-11", RFI: "2020-06-12", ARAB_NEWS: "2020-06-12"}))
    docs = {d["id"]: d for d in report["documents"]}
    assert docs[RFI]["direction"]["established"]
    assert docs[RFI]["direction"]["basis"] == ["dated 2020-06-11 vs 2020-06-12"]
    assert docs[RFI]["date"] == "2020-06-12"


@pytest.mark.model
def test_terminal_summary_groups_the_story_by_lineage_and_says_what_is_a_guess(seed_report):
    from provenance.summary import summary_table

    lines = summary_table(seed_report, width=200).splitlines()
    assert "  lineage-1: root #1; AFP; members #1, #2, #5" in lines
    assert "  #5 from #1: both carry the AFP wire; fullest carrier: #1" in lines


def test_words_of_the_source_language_left_in_a_translation_point_to_the_original():
    from provenance.direction import lean
    from provenance.load import Document
    from provenance.preparation import prepare
    from provenance.settings import ScanSettings

    hindi = ("दिवाली पर थाली में आलू की सब्जी और खुशबू वाली मिठाई परोसी जाएगी। "
             "शहर के सभी रेस्तरां में यह विशेष भोजन मिलेगा।")
    english = ("For Diwali the thali will hold potato sabji and Khushbu sweets. "
               "The special meal will be served in every restaurant of the city.")
    docs = [Document("hi", "hi.txt", hindi, meta={"language": "hi"}),
            Document("en", "en.txt", english, meta={"language": "en"})]
    prepared, _ = prepare(docs, ScanSettings(min_story_chars=0))
    hi, en = prepared
    forward = lean(en, hi, set(), set(), 1.0, 1.0)  # "the Hindi text is the original of the English"
    # sabji, Khushbu: common Hindi words, uncommon in English, carried over in transliteration
    assert dict(forward.cues)["source words"] > 0 and forward.score > 0
    assert any("sabji" in w and "Khushbu" in w for w in forward.basis)
    assert dict(lean(hi, en, set(), set(), 1.0, 1.0).cues)["source words"] < 0


def test_the_word_named_for_a_source_word_is_its_first_spelling_in_the_text():
    """Reports are the same from run to run: of two spellings that meet (accents folded), the
    basis names the one the text uses first (it named either, by Python's per-process string
    hashing, before)."""
    from provenance.direction import _lang_words_of

    stems = [f"zorb{chr(97 + i)}{chr(97 + j)}ax" for i in range(5) for j in range(5)]
    spellings = [(s + "é", s + "e") if k % 2 else (s + "e", s + "é") for k, s in enumerate(stems)]
    words = _lang_words_of(" ".join(f"{a} {b}." for a, b in spellings), "en", False, False)
    assert sorted(words.values()) == sorted(a for a, _ in spellings)


def test_furniture_says_which_is_the_copy_only_when_one_page_carries_all_of_the_others():
    from provenance.direction import lean
    from provenance.load import Document
    from provenance.preparation import prepare
    from provenance.settings import ScanSettings

    story = ("The United States said on Thursday it would reduce its troops in Iraq over the coming months.\n\n"
             "The two governments opened a strategic dialogue by video link, officials said in Baghdad.\n\n")
    pages = {"wire": story + "Follow us on Twitter",
             "copy": story + "Follow us on Twitter\n\nSubscribe to our newsletter",  # the wire's page and more
             # another outlet's page: more furniture, but its own, not the wire's page and more
             "other": story + "Share this article\n\nAdvertisement"}
    docs = [Document(k, f"{k}.txt", v, meta={"language": "en"}) for k, v in pages.items()]
    wire, copy, other = prepare(docs, ScanSettings(min_story_chars=0))[0]
    assert dict(lean(copy, wire, set(), set(), 1.0, 1.0).cues)["furniture"] > 0
    assert dict(lean(wire, copy, set(), set(), 1.0, 1.0).cues)["furniture"] < 0
    assert "furniture" not in dict(lean(other, wire, set(), set(), 1.0, 1.0).cues)


def test_lineage_roots_that_retrieval_never_paired_are_compared():
    """Whether one lineage drew on another is asked of every two roots of a story: near-identical
    members of a big family can crowd the other family's root out of retrieval (200 rewrites of the
    seeds: RFI's lineage was never compared with AFP's)."""
    from types import SimpleNamespace

    from provenance.lineage import ROOTS_COMPARED_MAX, Lineage, unaligned_roots

    story = SimpleNamespace(lineages=(Lineage(0, 4, (4, 5, 6)), Lineage(1, 1, (1, 2)), Lineage(2, 9, (9, 3))))
    assert unaligned_roots([story], {(1, 4)}) == [(1, 9), (4, 9)]
    assert unaligned_roots([story], {(1, 4), (1, 9), (4, 9)}) == []
    assert unaligned_roots([story], set(), focus=frozenset({9})) == [(1, 9), (4, 9)]  # against an archive
    many = SimpleNamespace(lineages=tuple(Lineage(i, 100 + i, (100 + i,) * (2 + i)) for i in range(40)))
    assert len(unaligned_roots([many], set())) == ROOTS_COMPARED_MAX * (ROOTS_COMPARED_MAX - 1) // 2
