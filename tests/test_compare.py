"""Divergences between a source and a derivative, model-free: tiny texts run through the real
clean / segment / langid stages, aligned by hand-built blocks, then `compare.compare_pair`."""

from __future__ import annotations

import pytest

from provenance.align import AlignedBlock
from provenance.clean import clean
from provenance.compare import compare_pair
from provenance.langid import identify
from provenance.load import Document
from provenance.preparation import Prepared
from provenance.reconstruct import reconstruct_wire
from provenance.segment import segment

# One sentence per line (each line is a paragraph); the third carries a quotation.
WIRE = [
    "Protesters met Prime Minister Kadhimi in Baghdad on Sunday after weeks of unrest.",
    "At least 43 people were wounded in clashes near Tahrir Square, medics said.",
    "\u201cWe will not allow the state to be held hostage by weapons,\u201d Kadhimi said in a televised speech.",
    "The talks are expected to resume in the capital next week.",
]


def prep(lines: list[str], doc_id: str = "d") -> Prepared:
    """A Prepared document through the real stages, as `prepare.prepare` builds it."""
    seg = segment(clean(Document(doc_id, f"{doc_id}.txt", "\n".join(lines) + "\n")))
    p = Prepared(seg, identify(seg))
    assert len(p.seg.sentences) == len(lines), "each line must be exactly one sentence"
    return p


def one_to_one(pairs: list[tuple[int, int]]) -> list[AlignedBlock]:
    return [AlignedBlock((s,), (t,), 0.9) for s, t in pairs]


def diverge(target_lines: list[str], pairs: list[tuple[int, int]] | None = None):
    src, tgt = prep(WIRE, "src"), prep(target_lines, "tgt")
    if pairs is None:
        pairs = [(i, i) for i in range(len(WIRE))]
    return src, tgt, compare_pair(src, tgt, one_to_one(pairs))


def edited(i: int, old: str, new: str) -> list[str]:
    lines = list(WIRE)
    assert old in lines[i]
    lines[i] = lines[i].replace(old, new)
    return lines


def test_identical_texts_have_no_divergences():
    src, tgt, cmp_ = diverge(list(WIRE))
    assert src.langs.document == tgt.langs.document == "en"
    assert cmp_.divergences == ()
    assert {r.kind for r in cmp_.alignments} == {"verbatim"}
    assert cmp_.summary["verbatim"] == 1.0


def test_changed_number_is_a_number_divergence_with_exact_spans():
    src, tgt, cmp_ = diverge(edited(1, "43", "36"))
    assert [(d.type, d.source_text, d.target_text) for d in cmp_.divergences] == [("number", "43", "36")]
    d = cmp_.divergences[0]
    at = src.doc.text.index("43")
    assert d.source_span == (at, at + 2)
    assert d.target_span == (tgt.doc.text.index("36"), tgt.doc.text.index("36") + 2)
    # the number explains the edit: no "reworded" divergence on top of it
    assert [r.kind for r in cmp_.alignments] == ["verbatim", "edited", "verbatim", "verbatim"]


def test_respelled_name_is_a_name_variant():
    # sentence 0 carries no quotation, so only the name check applies to it
    src, tgt, cmp_ = diverge(edited(0, "Kadhimi", "Kadhemi"))
    assert [(d.type, d.subtype, d.source_text, d.target_text) for d in cmp_.divergences] == [
        ("name", "variant", "Kadhimi", "Kadhemi")]
    d = cmp_.divergences[0]
    assert src.doc.text[slice(*d.source_span)] == "Kadhimi"
    assert tgt.doc.text[slice(*d.target_span)] == "Kadhemi"


def test_replaced_name_is_a_name_replaced_not_a_variant():
    _, _, cmp_ = diverge(edited(0, "Kadhimi", "Allawi"))
    assert [(d.type, d.subtype, d.source_text, d.target_text) for d in cmp_.divergences] == [
        ("name", "replaced", "Kadhimi", "Allawi")]


def test_dropped_quotation_is_quote_dropped():
    lines = list(WIRE)
    lines[2] = "Kadhimi spoke in a televised speech about the state and its weapons."
    src, _, cmp_ = diverge(lines)
    quotes = [d for d in cmp_.divergences if d.type == "quote"]
    assert [(d.subtype, d.target_span, d.target_text) for d in quotes] == [("dropped", None, "")]
    inner = "\u201cWe will not allow the state to be held hostage by weapons,\u201d"
    at = src.doc.text.index(inner)
    assert quotes[0].source_span == (at, at + len(inner))
    assert quotes[0].source_text == inner


def test_omitted_sentence_is_omitted():
    src, _, cmp_ = diverge(WIRE[:3], [(0, 0), (1, 1), (2, 2)])
    assert [(d.type, d.source_text, d.target_span) for d in cmp_.divergences] == [("omitted", WIRE[3], None)]
    at = src.doc.text.index(WIRE[3])
    assert cmp_.divergences[0].source_span == (at, at + len(WIRE[3]))
    assert cmp_.summary["omitted_of_source"] > 0


def test_added_sentence_is_added():
    extra = "Residents said the streets were calm again by Monday evening."
    _, tgt, cmp_ = diverge([*WIRE, extra])
    assert [(d.type, d.source_span, d.target_text) for d in cmp_.divergences] == [("added", None, extra)]
    at = tgt.doc.text.index(extra)
    assert cmp_.divergences[0].target_span == (at, at + len(extra))


@pytest.mark.parametrize("target_lines, pairs", [
    (edited(1, "43", "36"), None),
    (edited(0, "Kadhimi", "Allawi"), None),
    ([WIRE[0], WIRE[1], "Kadhimi spoke in a televised speech about the state and its weapons.", WIRE[3],
      "Residents said the streets were calm again by Monday evening."], None),
    (WIRE[:2] + WIRE[3:], [(0, 0), (1, 1), (3, 2)]),
])
def test_every_span_indexes_the_original_texts(target_lines, pairs):
    src, tgt, cmp_ = diverge(target_lines, pairs)
    assert cmp_.divergences
    for d in cmp_.divergences:
        assert d.source_span is not None or d.target_span is not None
        if d.source_span is not None:
            assert src.doc.text[d.source_span[0]:d.source_span[1]] == d.source_text
        else:
            assert d.source_text == ""
        if d.target_span is not None:
            assert tgt.doc.text[d.target_span[0]:d.target_span[1]] == d.target_text
        else:
            assert d.target_text == ""
    for r in cmp_.alignments:  # one-sentence blocks: each aligned span is exactly one line
        assert src.doc.text[r.source_span[0]:r.source_span[1]] in WIRE
        assert tgt.doc.text[r.target_span[0]:r.target_span[1]] in target_lines


def test_reconstruct_wire_takes_each_passage_from_the_carrier_that_kept_it():
    full = [
        "Protesters met Prime Minister Kadhimi in Baghdad on Sunday after weeks of unrest.",
        "At least 43 people were wounded in clashes near Tahrir Square, medics said.",
        "The government promised an inquiry into the use of live ammunition by security forces.",
        "The talks are expected to resume in the capital next week.",
    ]
    source = [full[0], full[1].replace(" near Tahrir Square", ""), full[2], full[3]]  # cut a clause of 1
    copy = [full[0], full[1], full[3]]                                                # cut sentence 2
    prepared = [prep(source, "source"), prep(copy, "copy")]
    cmp_ = compare_pair(prepared[0], prepared[1], one_to_one([(0, 0), (1, 1), (3, 2)]))
    rec = reconstruct_wire(prepared, 0, {1: cmp_})
    texts = [prepared[p.doc].doc.text[p.span[0]:p.span[1]] for p in rec.passages]
    assert texts == full
    assert [p.doc for p in rec.passages] == [0, 1, 0, 0]  # ties go to the source
    assert rec.carriers == (0, 1)
    assert rec.unplaced == ()


def test_reconstruct_wire_does_not_take_one_outlets_additions_for_the_wire():
    """Edited copies that each add an opener or an attribution and swap a word are longer than the
    wire: the reconstruction keeps the words the carriers bear out, and still recovers a clause
    the source cut but two copies kept."""
    wire = [
        "Protesters met Prime Minister Kadhimi in Baghdad on Sunday after weeks of unrest.",
        "At least 43 people were wounded in clashes near Tahrir Square, medics said.",
        "The talks are expected to resume in the capital next week.",
    ]
    source = [wire[0], wire[1].replace(" near Tahrir Square", ""), wire[2]]
    edited = [
        ["Meanwhile, protesters met Prime Minister Kadhimi in Baghdad on Sunday after weeks of unrest.", wire[1],
         "The negotiations are expected to resume in the capital next week, according to reports."],
        ["Protesters met Prime Minister Kadhimi in Baghdad on Sunday after weeks of unrest, sources said.", wire[1],
         "Separately, the talks are due to resume in the capital next week."],
        ["Protesters met Prime Minister Kadhimi in Baghdad on Sunday after seven days of unrest.",
         wire[1].replace("medics said", "medics told reporters"), "The talks are set to resume in the city next week."],
    ]
    prepared = [prep(source, "source"), *(prep(e, f"copy{k}") for k, e in enumerate(edited))]
    copies = {k + 1: compare_pair(prepared[0], prepared[k + 1], one_to_one([(0, 0), (1, 1), (2, 2)]))
              for k in range(len(edited))}
    rec = reconstruct_wire(prepared, 0, copies)
    assert [prepared[p.doc].doc.text[p.span[0]:p.span[1]] for p in rec.passages] == wire


@pytest.mark.parametrize("versions, chosen", [
    (["Talks resume on Monday.", "Talks resume on Monday, police said.", "Talks resume on Monday, officials said.",
      "Talks resume on Monday."], 0),  # two additions that share a word do not outweigh the wire's words
    (["Sunday.", "Monday.", "", "Tuesday."], 3),  # nothing shared: the longest, never the empty one
    (["Talks resume on Monday.", "Talks resume in the capital on Monday."], 1),  # two carriers: the longer
])
def test_a_passage_takes_the_version_the_other_carriers_bear_out(versions, chosen):
    from types import SimpleNamespace

    from provenance.reconstruct import _best_version

    prepared = [SimpleNamespace(doc=SimpleNamespace(text=v)) for v in versions]
    carriers = [(k, (0, len(v))) for k, v in enumerate(versions)]
    assert _best_version(prepared, carriers, 0) == carriers[chosen]



def test_respelled_speaker_is_a_name_variant_not_a_changed_attribution():
    # line 2 quotes Kadhimi: respelling him is one name variant, not also a new speaker
    assert "Kadhimi said" in WIRE[2]
    _, _, cmp_ = diverge(edited(2, "Kadhimi", "Kadhemi"))
    assert [(d.type, d.subtype) for d in cmp_.divergences] == [("name", "variant")]


def translated(source: list[str], target: list[str], language: str):
    """`compare_pair` of a translation (`language`, declared as a feed would) aligned line by line."""
    src = prep(source, "src")
    seg = segment(clean(Document("tgt", "tgt.txt", "\n".join(target) + "\n", meta={"language": language})))
    tgt = Prepared(seg, identify(seg))
    assert tgt.langs.document == language != src.langs.document
    return src, tgt, compare_pair(src, tgt, one_to_one([(i, i) for i in range(len(source))]))


def test_a_changed_figure_in_a_translation_is_a_number_divergence_with_exact_spans():
    # the neighbours of the figure are words of two languages: nothing but the figure left to pair
    source = ["Lawmakers in Baghdad demanded the expulsion of the roughly 5,200 US troops in the country in 2020."]
    target = ["Parlementariërs in Bagdad eisten in 2020 het vertrek van de ongeveer 5.500 Amerikaanse militairen."]
    src, tgt, cmp_ = translated(source, target, "nl")
    assert [(d.type, d.source_text, d.target_text) for d in cmp_.divergences] == [("number", "5,200", "5.500")]
    d = cmp_.divergences[0]
    assert src.doc.text[slice(*d.source_span)] == "5,200" and tgt.doc.text[slice(*d.target_span)] == "5.500"
    # the same figure in the local format is no change
    _, _, same = translated(source, [target[0].replace("5.500", "5.200")], "nl")
    assert same.divergences == ()


@pytest.mark.parametrize("source, target, language", [
    # number words say quantities in their own way: three tens, half three
    ("Russia detained thirty members of Greenpeace from 18 countries at a Gazprom oil rig.",
     "Rusové zadrželi u ropné plošiny společnosti Gazprom tři desítky členů hnutí Greenpeace z 18 zemí.", "cs"),
    ("I need to be in Boston by 2:30 tomorrow afternoon.",
     "Ich muss morgen Nachmittag spätestens um halb drei in Boston sein.", "de"),
])
def test_a_translation_claims_no_changed_number_it_cannot_pin_down(source, target, language):
    _, _, cmp_ = translated([source], [target], language)
    assert [d for d in cmp_.divergences if d.type == "number"] == []


@pytest.mark.parametrize("lang, wire, copy, old, new", [
    ("it", "La coalizione ha ridotto le sue basi in Iraq da dodici a tre.",
     "La coalizione ha ridotto le sue basi in Iraq da dodici a quattro.", "tre", "quattro"),
    ("pt", "A coligação reduziu as suas bases no Iraque de doze para três.",
     "A coligação reduziu as suas bases no Iraque de doze para dois.", "três", "dois"),
])
def test_a_number_word_changed_in_an_italian_or_portuguese_copy_is_a_number_divergence(lang, wire, copy, old, new):
    src = Prepared(seg := segment(clean(Document("s", "s.txt", wire + "\n", meta={"language": lang}))), identify(seg))
    tgt = Prepared(seg := segment(clean(Document("t", "t.txt", copy + "\n", meta={"language": lang}))), identify(seg))
    cmp_ = compare_pair(src, tgt, one_to_one([(0, 0)]))
    assert [(d.type, d.source_text, d.target_text) for d in cmp_.divergences] == [("number", old, new)]


def test_in_a_german_copy_a_changed_noun_is_a_rewording_and_a_changed_place_a_name_replaced():
    def german(line, doc_id):
        seg = segment(clean(Document(doc_id, f"{doc_id}.txt", line + "\n", meta={"language": "de"})))
        return Prepared(seg, identify(seg))

    wire = "Der Außenminister traf den Botschafter am Donnerstag in Berlin."
    for copy, expected in (("Der Innenminister traf den Botschafter am Donnerstag in Berlin.", ("reworded", "edited")),
                           ("Der Außenminister traf den Botschafter am Donnerstag in Paris.", ("name", "replaced"))):
        cmp_ = compare_pair(german(wire, "s"), german(copy, "t"), one_to_one([(0, 0)]))
        assert [(d.type, d.subtype) for d in cmp_.divergences] == [expected], copy


def _one(line: str, doc_id: str, language: str) -> Prepared:
    seg = segment(clean(Document(doc_id, f"{doc_id}.txt", line + "\n", meta={"language": language})))
    return Prepared(seg, identify(seg))


@pytest.mark.parametrize("langs, wire, copy, old, new", [
    (("en", "en"), "The talks will resume in Baghdad on Monday, officials said.",
     "The talks will resume in Baghdad on Tuesday, officials said.", "Monday", "Tuesday"),
    (("fr", "fr"), "Les pourparlers reprendront lundi 15 juin à Bagdad.",
     "Les pourparlers reprendront lundi 15 juillet à Bagdad.", "juin", "juillet"),
    (("de", "de"), "Die Gespräche werden am Montag in Bagdad fortgesetzt.",
     "Die Gespräche werden am Dienstag in Bagdad fortgesetzt.", "Montag", "Dienstag"),
    (("pt", "pt"), "As conversações serão retomadas na segunda-feira em Bagdade.",
     "As conversações serão retomadas na quarta-feira em Bagdade.", "segunda-feira", "quarta-feira"),
    # in a translation, the day each language names
    (("en", "fr"), "The United States said on Thursday that it would reduce its troops.",
     "Les États-Unis ont annoncé vendredi qu'ils allaient réduire leurs troupes.", "Thursday", "vendredi"),
])
def test_a_changed_day_or_month_is_a_changed_date(langs, wire, copy, old, new):
    cmp_ = compare_pair(_one(wire, "s", langs[0]), _one(copy, "t", langs[1]), one_to_one([(0, 0)]))
    assert [(d.type, d.subtype, d.source_text, d.target_text) for d in cmp_.divergences
            if d.type != "reworded"] == [("number", "date", old, new)]


@pytest.mark.parametrize("langs, wire, copy", [
    (("en", "fr"), "The United States said on Thursday that it would reduce its troops.",
     "Les États-Unis ont annoncé jeudi qu'ils allaient réduire leurs troupes."),
    # "may" and "march" in lower case are English words, not months
    (("en", "en"), "Protesters may march to the ministry on Sunday.",
     "Protesters will march to the ministry on Sunday."),
])
def test_the_same_day_in_other_words_is_no_change(langs, wire, copy):
    cmp_ = compare_pair(_one(wire, "s", langs[0]), _one(copy, "t", langs[1]), one_to_one([(0, 0)]))
    assert [d for d in cmp_.divergences if d.type in ("number", "name")] == []


@pytest.mark.parametrize("lang, wire, copy, expected", [
    # German and French write z and q where English writes dh and q: a respelling
    ("de", "Regierungschef Mustafa al-Kasimi traf den Botschafter in Bagdad.",
     "Regierungschef Mustafa al-Kadhimi traf den Botschafter in Bagdad.", ("variant", "al-Kasimi", "al-Kadhimi")),
    ("fr", "Le général Ghassem Soleimani a été tué en janvier à Bagdad.",
     "Le général Qasem Soleimani a été tué en janvier à Bagdad.", ("variant", "Ghassem", "Qasem")),
    # another man is another name
    ("de", "Regierungschef Mustafa al-Kasimi traf den Botschafter in Bagdad.",
     "Regierungschef Adel Abdul Mahdi traf den Botschafter in Bagdad.", None),
])
def test_a_name_written_the_way_another_language_transliterates_it_is_a_variant(lang, wire, copy, expected):
    cmp_ = compare_pair(_one(wire, "s", lang), _one(copy, "t", lang), one_to_one([(0, 0)]))
    names_ = [(d.subtype, d.source_text, d.target_text) for d in cmp_.divergences if d.type == "name"]
    if expected:
        assert names_ == [expected]
    else:
        assert names_ and {sub for sub, _, _ in names_} == {"replaced"}


def test_a_changed_amount_with_a_scale_word_and_elided_neighbours_is_a_changed_number():
    # "d'urgence ... d'euros": the neighbours are elided; "47 millions" -> "54 millions" replaces 47 only
    wire = "Le ministre a annoncé une aide d'urgence de 47 millions d'euros."
    cmp_ = compare_pair(_one(wire, "s", "fr"), _one(wire.replace("47", "54"), "t", "fr"), one_to_one([(0, 0)]))
    assert [(d.type, d.source_text, d.target_text) for d in cmp_.divergences] == [
        ("number", "47 millions", "54 millions")]


@pytest.mark.parametrize("langs, wire, copy", [
    # a clock time, a unit or a currency converted is the same figure in other words
    (("en", "de"), "The meeting will start at 2 p.m. in Berlin.", "Das Treffen beginnt um 14 Uhr in Berlin."),
    (("en", "fr"), "Winds reached 100 mph on the coast.", "Les vents ont atteint 160 km/h sur la côte."),
    (("en", "de"), "Temperatures rose to 95 degrees Fahrenheit.", "Die Temperaturen stiegen auf 35 Grad."),
    (("en", "fr"), "The fund holds $1.2 billion in reserves.", "Le fonds détient 1,1 milliard d'euros de réserves."),
    # a weekday and a month in a translation may both be right
    (("en", "fr"), "The talks ended on Monday in Paris.", "Les pourparlers ont pris fin le 3 mars à Paris."),
    # a name that is a month elsewhere, and a word that is one in another language
    (("en", "fr"), "Former Prime Minister Theresa May met the president.",
     "L'ancienne Première ministre Theresa May a rencontré le président en juin."),
    (("it", "it"), "Il vertice di marzo non ha deciso nulla.", "Il vertice non ha mai deciso nulla."),
])
def test_no_changed_number_or_date_is_claimed_where_none_was_made(langs, wire, copy):
    cmp_ = compare_pair(_one(wire, "s", langs[0]), _one(copy, "t", langs[1]), one_to_one([(0, 0)]))
    assert [(d.source_text, d.target_text) for d in cmp_.divergences if d.type == "number"] == []


def test_days_beside_names_and_names_beside_each_other_are_told_apart():
    def diverged(wire, copy, lang="en"):
        cmp_ = compare_pair(_one(wire, "s", lang), _one(copy, "t", lang), one_to_one([(0, 0)]))
        return [(d.type, d.subtype, d.source_text, d.target_text) for d in cmp_.divergences if d.type != "reworded"]

    # a weekday beside a name is still a day
    assert diverged("On Monday Kadhimi met the envoy.", "On Tuesday Kadhimi met the envoy.") == [
        ("number", "date", "Monday", "Tuesday")]
    # a weekday turned into a month is no pair of dates ("on Monday" may be "on March 3"): a change all the same
    assert diverged("The talks will resume in Paris on Monday.", "The talks will resume in Paris in March.") == [
        ("name", "replaced", "Monday", "March")]
    # another man of a similar skeleton is another name; a respelling is a variant
    assert diverged("Opposition leader Julio Lopez spoke in Caracas.",
                    "Opposition leader Leopoldo Lopez spoke in Caracas.") == [("name", "replaced", "Julio", "Leopoldo")]
    assert diverged("Senator Kirk spoke to reporters in Chicago on the budget.",
                    "Senator Greg spoke to reporters in Chicago on the budget.") == [
        ("name", "replaced", "Kirk", "Greg")]
    # Swiss German writes ss for ß: its nouns are no names
    assert diverged("Die Massnahme gilt ab sofort für alle Schulen im ganzen Kanton.",
                    "Die Schliessung gilt ab sofort für alle Schulen im ganzen Kanton.", "de") == []


def test_an_italian_surname_is_no_number_in_english():
    cmp_ = compare_pair(_one("Defence Minister Elisabetta Trenta said 40 soldiers would stay.", "s", "en"),
                        _one("The defence minister said 45 soldiers would stay.", "t", "en"), one_to_one([(0, 0)]))
    assert [(d.source_text, d.target_text) for d in cmp_.divergences if d.type == "number"] == [("40", "45")]
