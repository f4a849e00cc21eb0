"""Who said it, in the languages wire services write in: an edited copy of a French, Spanish,
German, Italian or Portuguese wire that gives a quotation to someone else reports a changed
attribution, as an English copy does; a faithful translation reports none."""

from __future__ import annotations

import pytest

from provenance.align import AlignedBlock
from provenance.clean import clean
from provenance.compare import compare_pair
from provenance.langid import identify
from provenance.load import Document
from provenance.preparation import Prepared
from provenance.segment import segment
from provenance.speech import speakers


def prep(line: str, doc_id: str, language: str) -> Prepared:
    """One sentence through the real stages, its language declared as a feed would."""
    seg = segment(clean(Document(doc_id, f"{doc_id}.txt", line + "\n", meta={"language": language})))
    assert len(seg.sentences) == 1
    return Prepared(seg, identify(seg))


def attributions(source: str, target: str, languages: tuple[str, str]):
    src, tgt = prep(source, "src", languages[0]), prep(target, "tgt", languages[1])
    cmp_ = compare_pair(src, tgt, [AlignedBlock((0,), (0,), 0.9)])
    return src, tgt, [d for d in cmp_.divergences if d.type == "attribution"]


# (language, wire sentence, its speaker, a copy giving the quotation to someone else, the new speaker)
CHANGED = [
    ("fr", "« Les deux pays ont reconnu des progrès significatifs », indique la déclaration.", "la déclaration",
     "« Les deux pays ont reconnu des progrès significatifs », a déclaré Donald Trump.", "Donald Trump"),
    ("fr", "Les troupes quitteront le pays d'ici septembre, selon l'ambassadeur.", "l'ambassadeur",
     "Les troupes quitteront le pays d'ici septembre, selon un responsable irakien.", "un responsable irakien"),
    ("es", "«No buscamos bases permanentes en Irak», dijo el portavoz del Departamento de Estado.",
     "el portavoz del Departamento de Estado",
     "«No buscamos bases permanentes en Irak», dijo el ministro iraquí de Exteriores.",
     "el ministro iraquí de Exteriores"),
    ("de", "„Wir suchen keine dauerhaften Stützpunkte im Irak“, sagte der Sprecher des Außenministeriums.",
     "der Sprecher des Außenministeriums",
     "„Wir suchen keine dauerhaften Stützpunkte im Irak“, sagte der irakische Regierungschef.",
     "der irakische Regierungschef"),
    ("de", "Die Truppen sollen bis September abziehen, so der Botschafter.", "der Botschafter",
     "Die Truppen sollen bis September abziehen, so ein Sprecher der Miliz.", "ein Sprecher der Miliz"),
    ("it", "«Non cerchiamo basi permanenti in Iraq», ha detto il portavoce del governo.", "il portavoce del governo",
     "«Non cerchiamo basi permanenti in Iraq», ha detto il capo della milizia.", "il capo della milizia"),
    ("pt", "«Não procuramos bases permanentes no Iraque», disse o porta-voz do governo.", "o porta-voz do governo",
     "«Não procuramos bases permanentes no Iraque», disse o chefe da milícia.", "o chefe da milícia"),
]


@pytest.mark.parametrize("lang, wire, speaker, copy, new_speaker", CHANGED)
def test_a_copy_that_gives_the_words_to_someone_else_reports_a_changed_attribution(lang, wire, speaker, copy,
                                                                                    new_speaker):
    src, tgt, found = attributions(wire, copy, (lang, lang))
    assert [(d.subtype, d.source_text, d.target_text) for d in found] == [("changed", speaker, new_speaker)]
    assert src.doc.text[slice(*found[0].source_span)] == speaker
    assert tgt.doc.text[slice(*found[0].target_span)] == new_speaker


@pytest.mark.parametrize("lang, wire, speaker, copy, new_speaker", CHANGED)
def test_an_edit_that_keeps_the_speaker_reports_no_attribution(lang, wire, speaker, copy, new_speaker):
    # the same speaker, a word of what was said cut
    words = wire.split(" ")
    edited = " ".join(words[:2] + words[3:])
    assert speaker in edited and edited != wire
    assert attributions(wire, edited, (lang, lang))[2] == []


def test_a_french_copy_that_drops_who_said_it_reports_the_attribution_removed():
    wire = "« Nous ne cherchons pas de bases permanentes », a déclaré le porte-parole."
    _, _, found = attributions(wire, "« Nous ne cherchons pas de bases permanentes ».", ("fr", "fr"))
    assert [(d.subtype, d.source_text) for d in found] == [("removed", "le porte-parole")]


def test_according_to_takes_the_whole_speaker():
    # it stopped two letters in: "the mi"
    assert speakers("The troops will leave, according to the ministry of defence.") == [
        ("the ministry of defence", 36, 59)]
    assert speakers("According to Reuters news agency, troops will leave.") == [("Reuters", 13, 20)]
    assert speakers("Laut Polizei gab es drei Tote.", "de") == [("Polizei", 5, 12)]


@pytest.mark.parametrize("source, target, lang", [
    # the same speaker in two languages: no dictionary says "statement" is "déclaration"
    ("\"The two countries recognized the progress,\" the statement said.",
     "« Les deux pays ont reconnu les progrès », indique la déclaration.", "fr"),
    # German capitalises every noun: "der Präsident" is no name
    ("\"We are not seeking permanent bases,\" Donald Trump said.",
     "„Wir suchen keine dauerhaften Stützpunkte“, sagte der Präsident.", "de"),
    ("\"We are not seeking permanent bases,\" Donald Trump said.",
     "«No buscamos bases permanentes», dijo Donald Trump.", "es"),
])
def test_a_faithful_translation_reports_no_attribution(source, target, lang):
    assert attributions(source, target, ("en", lang))[2] == []


def test_a_translation_that_gives_the_words_to_another_named_person_reports_it():
    _, _, found = attributions("\"We are not seeking permanent bases,\" David Schenker said.",
                               "« Nous ne cherchons pas de bases permanentes », a déclaré Mike Pompeo.", ("en", "fr"))
    assert [(d.subtype, d.source_text, d.target_text) for d in found] == [("changed", "David Schenker", "Mike Pompeo")]
    # one the reader cannot match by name is no claim, and no speaker read is never "removed"
    assert attributions("\"We are not seeking permanent bases,\" David Schenker said.",
                        "„Wir suchen keine dauerhaften Stützpunkte“, erklärte das Ministerium.", ("en", "de"))[2] == []
    assert attributions("\"We are not seeking permanent bases,\" David Schenker said.",
                        "« Nous ne cherchons pas de bases permanentes », a-t-il souligné.", ("en", "fr"))[2] == []


@pytest.mark.parametrize("source, target, lang", [
    # one man as each language writes him
    ('"We will not give in," Lavrov said.', "„Wir werden nicht nachgeben“, sagte Lawrow.", "de"),
    ('"We will not give in," Zelensky said.', "„Wir werden nicht nachgeben“, sagte Selenskyj.", "de"),
    ('"We will not give in," Pope Francis said.', "«Non cederemo», ha detto Papa Francesco.", "it"),
])
def test_a_translation_that_spells_the_speaker_its_own_way_reports_no_attribution(source, target, lang):
    assert attributions(source, target, ("en", lang))[2] == []


def test_a_french_speaker_phrase_with_an_elided_article_and_an_honorific_is_read_whole():
    assert speakers("« Nous restons », a déclaré le ministre de l'Intérieur.", "fr") == [
        ("le ministre de l'Intérieur", 28, 54)]
    assert speakers("« Oui », a déclaré M. Macron.", "fr") == [("M. Macron", 19, 28)]
    assert speakers("Il part, selon Macron devant la presse.", "fr") == [("Macron", 15, 21)]  # not "Macron de"
    # a longer speaker phrase is not a removed one; a form not read is no claim either
    wire = "« Nous restons », a déclaré le ministre."
    assert attributions(wire, "« Nous restons », a déclaré le ministre de l'Intérieur.", ("fr", "fr"))[2] == []
    assert attributions(wire, "« Nous restons », a déclaré M. Macron aux journalistes.", ("fr", "fr"))[2] == []


def test_the_object_of_a_verb_is_no_speaker_and_a_speaker_made_a_pronoun_is_removed():
    # "a annoncé une aide" announces something: no one said it
    assert attributions("Le ministre a annoncé une aide d'urgence.", "Le ministre a annoncé un fonds d'urgence.",
                        ("fr", "fr"))[2] == []
    _, _, found = attributions('"We stay," Kadhimi said in a speech.', '"We stay," it was said in a speech.',
                               ("en", "en"))
    assert [(d.subtype, d.source_text) for d in found] == [("removed", "Kadhimi")]
