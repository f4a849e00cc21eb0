"""One row per real change, each with a severity (provenance/divergences.py): hand-built
divergences and alignment records, no model."""

from provenance.compare import AlignmentRecord, Divergence, word_diff
from provenance.divergences import refine, severity


def _rec(s, t, moved=False):
    return AlignmentRecord(s, t, 0.9, "edited", 0.8, moved, 1, 1)


def test_a_quote_dropped_and_added_in_one_passage_is_one_altered_quote():
    divs = [Divergence("quote", (10, 40), None, '"we will stay here for now"', "", subtype="dropped"),
            Divergence("quote", None, (12, 50), "", '"we shall remain here for the moment"', subtype="added")]
    out = refine(divs, [_rec((0, 60), (0, 70))], cross=False, word_diff=word_diff)
    assert len(out) == 1
    q = out[0]
    assert (q.type, q.subtype, q.source_span, q.target_span) == ("quote", "altered", (10, 40), (12, 50))
    assert q.diff and severity(q) == "substantive"


def test_in_a_translation_a_quote_in_the_other_language_is_no_divergence():
    divs = [Divergence("quote", (10, 40), None, '"we will stay here for now"', "", subtype="dropped"),
            Divergence("quote", None, (12, 50), "", "« nous resterons ici pour le moment »", subtype="added")]
    assert refine(divs, [_rec((0, 60), (0, 70))], cross=True, word_diff=word_diff) == []


def test_quotes_in_different_passages_are_not_paired():
    divs = [Divergence("quote", (10, 40), None, '"we will stay here for now"', "", subtype="dropped"),
            Divergence("quote", None, (112, 150), "", '"a different thing entirely"', subtype="added")]
    out = refine(divs, [_rec((0, 60), (0, 70)), _rec((70, 90), (100, 160))], cross=False, word_diff=word_diff)
    assert [(d.type, d.subtype) for d in out] == [("quote", "dropped"), ("quote", "added")]


def test_a_quote_inside_an_added_passage_is_reported_once_as_that_passage():
    divs = [Divergence("added", None, (100, 200), "", 'He said: "this is new and quoted." Then more.'),
            Divergence("quote", None, (109, 135), "", '"this is new and quoted."', subtype="added")]
    out = refine(divs, [], cross=False, word_diff=word_diff)
    assert len(out) == 1 and (out[0].type, out[0].subtype) == ("added", "quote")
    assert severity(out[0]) == "substantive"


def test_translation_gap_with_a_passage_on_each_side_is_one_unmatched_row():
    recs = [_rec((0, 50), (0, 55)), _rec((100, 150), (110, 170))]
    divs = [Divergence("omitted", (55, 90), None, "Right people in the right place", ""),
            Divergence("added", None, (60, 100), "", "Les bonnes personnes au bon endroit")]
    out = refine(divs, recs, cross=True, word_diff=word_diff)
    assert [(d.type, d.subtype, d.source_span, d.target_span) for d in out] == [
        ("reworded", "unaligned", (55, 90), (60, 100))]
    # in one language an omission and an addition stay two rows (the planted-edit benchmark counts both)
    assert len(refine(divs, recs, cross=False, word_diff=word_diff)) == 2
    # passages in different gaps are not paired
    far = [divs[0], Divergence("added", None, (180, 220), "", "Autre chose ajoutée ici, bien plus loin")]
    assert len(refine(far, recs, cross=True, word_diff=word_diff)) == 2


def test_severity_of_each_kind():
    def d(kind, sub=None, a="x", b="y"):
        return Divergence(kind, (0, 1), (0, 1), a, b, subtype=sub, diff=word_diff(a, b) if kind == "reworded" else ())

    assert severity(d("number")) == "substantive"
    assert severity(d("attribution", "changed")) == "substantive"
    assert severity(d("name", "replaced")) == "substantive"
    assert severity(d("name", "variant")) == "cosmetic"
    assert severity(d("omitted")) == "editorial" and severity(d("added")) == "editorial"
    assert severity(d("reworded", "edited", "The US also promised support.",
                      "The United States also promised support.")) == "cosmetic"
    assert severity(d("reworded", "edited", "The US said on Thursday it would go.",
                      "The US said on Thursday, that it would go")) == "cosmetic"
    assert severity(d("reworded", "edited", "It will reduce the number of its troops.",
                      "It will reduce its military presence.")) == "editorial"
    # the report's dicts are ranked the same way
    assert severity({"type": "name", "subtype": "variant"}) == "cosmetic"


def test_small_words_are_small_in_the_derivatives_own_language():
    def reworded(a, b):
        return Divergence("reworded", (0, 1), (0, 1), a, b, subtype="edited", diff=word_diff(a, b))

    # an article, "also" or an auxiliary changed: the same sentence, in French, German, Spanish, Italian
    for lang, a, b in (
            ("fr", "Les États-Unis ont promis un soutien.", "Les États-Unis ont aussi promis le soutien."),
            ("de", "Die USA haben Unterstützung zugesagt.", "Die USA haben auch die Unterstützung zugesagt."),
            ("es", "Estados Unidos prometió apoyo.", "Estados Unidos también prometió su apoyo."),
            ("it", "Gli Stati Uniti hanno promesso sostegno.", "Gli Stati Uniti hanno anche promesso il sostegno.")):
        assert severity(reworded(a, b), lang) == "cosmetic", lang
        assert severity(reworded(a, b)) == "editorial"  # read as English, those words are not small
    # a negation is never small
    assert severity(reworded("Les États-Unis ont promis un soutien.",
                             "Les États-Unis n'ont pas promis un soutien."), "fr") == "editorial"
    assert severity(reworded("Die USA haben Unterstützung zugesagt.", "Die USA haben keine Unterstützung zugesagt."),
                    "de") == "editorial"
    # nor are English content words that are small words elsewhere ("war", "die")
    assert severity(reworded("Many could die in the war.", "Many could in the.")) == "editorial"


def test_an_elided_article_is_a_small_word():
    d = Divergence("reworded", (0, 1), (0, 1), "Il a vu l'ambassadeur.", "Il a vu un ambassadeur.", subtype="edited",
                   diff=word_diff("Il a vu l'ambassadeur.", "Il a vu un ambassadeur."))
    assert severity(d, "fr") == "cosmetic"

    # an elided pronoun is no small word: "m'a menacé" and "t'a menacé" say different things
    d = Divergence("reworded", (0, 1), (0, 1), "Le suspect m'a menacé.", "Le suspect t'a menacé.", subtype="edited",
                   diff=word_diff("Le suspect m'a menacé.", "Le suspect t'a menacé."))
    assert severity(d, "fr") == "editorial"
