"""Load, clean, segment and the lexical channel on small inputs."""

import json

import pytest

from provenance.clean import clean
from provenance.lexical import quote_spans
from provenance.load import Document, decode_bytes, load_paths
from provenance.mentions import name_key, numbers
from provenance.segment import segment, split_sentences
from tests.conftest import ROOT, SEEDS


def test_document_ids_are_file_stems_or_record_ids(tmp_path):
    (tmp_path / "a.txt").write_text("Plain article text. " * 10, "utf-8")
    (tmp_path / "b.jsonl").write_text(
        json.dumps({"id": "rec-1", "text": "First record text. " * 5, "outlet": "X"}) + "\n"
        + "{not json\n"
        + json.dumps({"text": "Second record without id. " * 5}) + "\n"
        + json.dumps({"id": "empty", "text": ""}) + "\n", "utf-8")
    loaded = load_paths([tmp_path])
    assert sorted(d.id for d in loaded.documents) == ["a", "b#3", "rec-1"]
    rec = next(d for d in loaded.documents if d.id == "rec-1")
    assert rec.text_basis == "record" and rec.meta == {"outlet": "X"}
    reasons = sorted(s.reason for s in loaded.skipped)
    assert reasons[0].startswith("JSON record has no 'text'")
    assert reasons[1].startswith("malformed JSON on line 2")


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "cp1252"])
def test_decoding_keeps_text_exact(encoding):
    text = "Le président a déclaré « non » à 5 200 soldats — l’été dernier.\r\nDeuxième ligne, très française."
    got, _ = decode_bytes(text.encode(encoding))
    assert got == text


def test_binary_content_is_refused():
    with pytest.raises(ValueError, match="PDF"):
        decode_bytes(b"%PDF-1.7 binary")


def test_seed_furniture_is_excluded_with_reasons():
    loaded = load_paths([SEEDS])
    docs = {d.id[:3]: clean(d) for d in loaded.documents}
    reasons = {d: {d_.doc.text[b.start:b.end]: b.excluded for b in d_.excluded} for d, d_ in docs.items()}
    assert reasons["000"]["3 min read"] == "read time"
    assert reasons["000"]["The US is to reduce its military presence in Iraq [Getty]"] == "photo caption or credit"
    assert reasons["001"]["Publicity"] == "advertising label"
    assert reasons["001"]["On the same subject"] == "related-articles section"
    assert reasons["002"]["Source link"] == "source link"
    assert reasons["004"]["Kelly Clarkson Ready To Date After Talk Show Exit? -"] == "list of other headlines"
    # the headline printed twice: the second copy is furniture, the first is the title
    assert list(reasons["000"].values()).count("repeated line") == 1


def test_sentences_keep_offsets_quotes_and_abbreviations():
    text = 'Mr. Schenker spoke. "We will stay. We will help," he said. The U.S. agreed.'
    spans = split_sentences(text)
    assert [text[a:b] for a, b in spans] == [
        "Mr. Schenker spoke.", '"We will stay. We will help," he said.', "The U.S. agreed."]


def test_segment_spans_point_into_original_text():
    text = "Headline here\r\n\r\nFirst paragraph has two sentences. Here is the second one.\r\nShare on Twitter\r\n"
    seg = segment(clean(Document("x", "x.txt", text)))
    assert [text[s.start:s.end] for s in seg.sentences] == [
        "Headline here", "First paragraph has two sentences.", "Here is the second one."]


def test_numbers_are_normalised():
    assert [m.key for m in numbers("from twelve to three")] == ["12", "3"]
    assert [m.key for m in numbers("down from a dozen")] == ["12"]
    assert {m.key for m in numbers("5,200 or 5 200 or 5200 or 5.200")} == {"5200"}
    assert [m.key for m in numbers("1.5 million people")] == ["1500000"]
    assert [m.key for m in numbers("douze bases, zwölf Basen, doce bases")] == ["12", "12", "12"]
    assert numbers("one of the officials said") == []


def test_italian_and_portuguese_numbers_are_read_and_their_lookalikes_elsewhere_are_not():
    assert [m.key for m in numbers("da dodici a tre basi, due soldati e otto civili", "it")] == ["12", "3", "2", "8"]
    assert [m.key for m in numbers("de doze para três bases, dois soldados", "pt")] == ["12", "3", "2"]
    assert [m.key for m in numbers("tre milioni di euro", "it")] == ["3000000"]
    assert [m.key for m in numbers("três milhões de euros", "pt")] == ["3000000"]
    # the same words in other languages, or where the language is unknown, are other words
    assert numbers("It was due to the rain; he would doze off.", "en") == []
    assert numbers("Otto Schily sagte, es sei am 1. Dez. zu spät gewesen, mit dem Audi Quattro.", "de") == [
        m for m in numbers("Otto Schily sagte, es sei am 1. Dez. zu spät gewesen, mit dem Audi Quattro.") if
        m.key == "1"]
    assert numbers("Tu dois faire la queue.", "fr") == numbers("Tu dois faire la queue.") == []


def test_name_keys_join_transliterations_only():
    assert name_key("Kadhimi") == name_key("Kazimi") == name_key("Kadhemi") == name_key("Al-Kadhimi")
    assert name_key("Soleimani") == name_key("Suleimani")
    assert name_key("Schenker") != name_key("Pompeo")


def test_quotes_including_french_spacing_and_lost_openers():
    t = 'Referring to "\u00a0 significant progress \u00a0", they said "\u00a0 we stay \u00a0”.'
    assert [t[a:b] for a, b in quote_spans(t)] == ['"\u00a0 significant progress \u00a0"', '"\u00a0 we stay \u00a0”']
    lost = 'more room for maneuver,  " Robert Ford told AFP. Especially "the deal", he said.'
    assert [lost[a:b] for a, b in quote_spans(lost)] == ['more room for maneuver,  "', '"the deal"']


def test_html_and_json_inputs_scan_with_spans_into_their_text(tmp_path, fake_embedder):
    from provenance import build_report, scan, validate_report

    wire = (SEEDS / "000_dd2761f3083befb7.txt").read_text("utf-8")
    copy = (SEEDS / "004_26451090c78396de.txt").read_text("utf-8")
    paras = "".join(f"<p>{line}</p>" for line in copy.splitlines()[:14] if line.strip())
    (tmp_path / "copy.html").write_text(
        f"<html><head><title>Copy</title><script>var tracking = 1;</script></head><body>"
        f"<nav>Home | World | Sport</nav><article>{paras}</article><footer>© Outlet</footer></body></html>",
        "utf-8")
    (tmp_path / "feed.jsonl").write_text(json.dumps({"id": "wire", "text": wire, "outlet": "The New Arab"}) + "\n",
                                         "utf-8")
    report = build_report(scan([tmp_path], embedder=fake_embedder))
    validate_report(report)
    docs = {d["id"]: d for d in report["documents"]}
    assert docs["copy"]["text_basis"] == "html-extracted"
    assert "tracking" not in docs["copy"]["text"] and "Home | World" not in docs["copy"]["text"]
    assert docs["wire"]["text_basis"] == "record" and docs["wire"]["outlet"] == "The New Arab"
    assert docs["copy"]["derived_from"] == "wire"
    for a in docs["copy"]["alignments"]:
        assert docs["copy"]["text"][slice(*a["target_span"])].strip()
        assert docs["wire"]["text"][slice(*a["source_span"])].strip()


def test_paragraph_languages_in_a_mixed_document():
    from provenance.langid import identify

    text = ("Headline of the day\n"
            "The minister said on Thursday that the troops would stay in the north of the country for now.\n"
            "Le ministre a déclaré jeudi que les troupes resteraient dans le nord du pays pour le moment.\n"
            "El ministro dijo el jueves que las tropas se quedarían en el norte del país por ahora.\n"
            "The government also said that it would review the plan with its allies in the coming weeks.\n")
    langs = identify(segment(clean(Document("x", "x.txt", text))))
    assert langs.document == "en"
    assert langs.paragraphs[1:] == ("en", "fr", "es", "en")


def test_repeated_sentences_are_encoded_once(fake_embedder):
    from provenance.embed import encode_texts

    vecs = encode_texts(fake_embedder, ["a b", "c d", "a b", "a b"], progress=False)
    assert fake_embedder.encoded == 2
    assert (vecs[0] == vecs[2]).all() and (vecs[0] == vecs[3]).all() and vecs.shape == (4, 256)


def test_function_words_settle_only_clear_long_texts():
    from provenance.langid import detect, dominant, identify

    english = (SEEDS / "000_dd2761f3083befb7.txt").read_text("utf-8")
    assert dominant(english) == "en" == detect(english)[0]
    french = (ROOT / "tests" / "fixtures" / "crosslingual" / "fr_000_afp.txt").read_text("utf-8")
    assert dominant(french) == "fr" == detect(french)[0]
    dutch = ("De Verenigde Staten hebben donderdag aangekondigd dat zij het aantal soldaten in Irak in de "
             "komende maanden zullen verminderen, nu de spanningen tussen de twee landen afnemen. " * 4)
    assert dominant(dutch) is None  # a language outside the word lists goes to langdetect
    # nor may a word common in such a language vote for a listed one ("over" is Dutch too)
    dutch_over = ("Het klimaatoverleg in Glasgow is over twee weken afgelopen. De ministers praten over de uitstoot, "
                  "over geld voor arme landen en over de kolencentrales. Er was veel kritiek op het akkoord, maar de "
                  "voorzitter zei dat het over het geheel genomen een stap vooruit is. Volgens de onderhandelaars "
                  "gaat het over meer dan alleen cijfers: het gaat over vertrouwen. In de laatste nacht werd er nog "
                  "over de tekst gesproken, en we hadden gehoopt dat het over de kolen duidelijker zou zijn.")
    assert dominant(dutch_over) is None
    # nor may English win on the words Dutch shares with it ("in", "is", "was", "we": 15 of this
    # article's 150 words, against one German and one Portuguese word, passed it for English)
    dutch_news = (
        "Het kabinet heeft donderdag besloten dat er meer geld gaat naar de bouw van betaalbare huurwoningen. "
        "Volgens de minister is de situatie in veel steden onhoudbaar geworden.\n\n\"We kunnen niet langer "
        "wachten\", zei de minister na de ministerraad. Hij wees erop dat jongeren in de grote steden bijna geen "
        "kans maken op een eigen woning.\n\nDe oppositie was kritisch. Volgens de grootste oppositiepartij is het "
        "plan klein en komt het laat. Zij wil dat gemeenten meer bevoegdheden krijgen om leegstand aan pakken.\n\n"
        "Het plan wordt in het voorjaar in de Tweede Kamer behandeld. In de tussentijd gaan de provincies in "
        "gesprek met bouwbedrijven over de uitvoering.\n\nUit cijfers van het statistiekbureau blijkt dat het "
        "tekort aan woningen in het afgelopen jaar verder is opgelopen. In sommige regio's wachten mensen meer "
        "dan tien jaar op een sociale huurwoning. Het ministerie zegt dat het probleem in de randstad het "
        "grootst is.")
    assert dominant(dutch_news) is None
    seg = segment(clean(Document("nl-news", "nl-news.txt", dutch_news)))
    assert identify(seg).document == "nl" and set(identify(seg).paragraphs) == {"nl"}
    assert dominant("The talks went on.") is None  # too few words to be sure


def test_language_detection_gives_langdetects_own_probabilities():
    """`langid._Detector` runs langdetect's loop on arrays and its n-gram extraction on local
    variables: every n-gram and every probability must be langdetect's, bit for bit, on short and
    long texts in several languages and scripts (capitals, punctuation, characters langdetect
    rewrites)."""
    from langdetect import DetectorFactory

    from provenance.langid import _Detector, _factory

    texts = []
    for name in ("fra-eng.fra", "spa-eng.spa", "deu-eng.deu", "fra-eng.eng"):
        lines = (ROOT / "tests" / "fixtures" / "tatoeba" / f"tatoeba.{name}").read_text("utf-8").splitlines()
        texts += [" ".join(lines[i:i + 2]) for i in range(0, 80, 2)]
    records = (ROOT / "benchmarks" / "corpora" / "newstest" / "records.jsonl").read_text("utf-8").splitlines()
    texts += [json.loads(line)["text"][:600] for line in records[:24]]  # Czech, Russian, Hindi, English
    texts += ["", "12 345", "Ok.", "  x  ", "A B. CD e F",  # and capitals, punctuation, what langdetect rewrites
              "ÉCOLE École d'été: SNCF-Grève, ÜBER Über „Straße“ — ș ț ی Ạ ひ カ ㄅ 中 한"]
    factory = _factory()

    def probabilities(detector):
        detector.append(text)
        try:
            detector.get_probabilities()
        except Exception as exc:  # noqa: BLE001 -- the same failure either way
            return repr(exc)
        return [float(p) for p in detector.langprob]  # every language's, not only those above 0.1

    def ngrams(detector):
        detector.append(text)
        detector.cleaning_text()
        return detector._extract_ngrams()

    for text in texts:
        DetectorFactory.seed = 0
        assert probabilities(_Detector(factory.create())) == probabilities(factory.create()), text[:60]
        assert ngrams(_Detector(factory.create())) == ngrams(factory.create()), text[:60]


def test_function_words_never_vouch_for_the_wrong_language():
    """A paragraph that `clearly` assigns to the document's language skips langdetect, so the
    shortcut must never fire for a paragraph in another language: checked on short Tatoeba
    paragraphs (1-3 sentences, the hardest case: few function words) in every direction."""
    from provenance.langid import MIN_PARAGRAPH_CHARS, clearly

    folder = ROOT / "tests" / "fixtures" / "tatoeba"
    texts = []
    for pair, lang in (("fra-eng", "fr"), ("spa-eng", "es"), ("deu-eng", "de")):
        for code, suffix in (("en", "eng"), (lang, pair[:3])):
            lines = [x.strip() for x in (folder / f"tatoeba.{pair}.{suffix}").read_text("utf-8").splitlines()]
            for size in (1, 2, 3):
                texts += [(" ".join(lines[i:i + size]), code) for i in range(0, len(lines), size)]
    texts = [(t, code) for t, code in texts if len(t) >= MIN_PARAGRAPH_CHARS]
    wrong = [(t, code, other) for t, code in texts for other in ("en", "fr", "es", "de")
             if other != code and clearly(t, other)]
    assert not wrong
    # nor for one of two neighbours rich in the words they share, nor for a language without a list
    for text, other in (("Il y a un an, je te disais que la plupart de nos amis de la ville en parlent.", "es"),
                        ("Tu padre y tu madre son de la ciudad a la que se fueron en enero.", "fr"),
                        ("El govern ha dit que la nova llei entrarà en vigor el mes de gener, i que les empreses "
                         "tindran un any per adaptar-s'hi.", "es"),
                        ("Il sindaco ha parlato al consiglio su una proposta del governo con la quale si vuole "
                         "ridurre le tasse.", "es"),
                        ("Acesta este un caz al unei companii de la Cluj, care se ocupă de exporturi.", "es"),
                        # Danish "at", "for", "i" are English words too
                        ("Oppositionen var kritisk over for planen. Den største oppositionspartiet mener at "
                         "afgiften vil ramme landmændene for hårdt, og at ingen har taget højde for "
                         "konsekvenserne for landdistrikterne.", "en")):
        assert not clearly(text, other), (text, other)
    # and it does spare langdetect most of the time, even on these short texts (83%; when words
    # that several languages share counted against every one of them, 72%)
    assert sum(clearly(t, code) for t, code in texts) >= 0.8 * len(texts)


@pytest.mark.model
def test_the_default_model_loads_its_weights_only_to_encode():
    from provenance.embed import load_model

    lazy = load_model()
    assert not lazy.loaded
    assert (lazy.dimension, lazy.languages) == (384, frozenset({"en"}))
    vec = lazy.encode(["The United States said it would reduce its troops in Iraq."])
    assert lazy.loaded and vec.shape == (1, 384)
    assert lazy.model.get_sentence_embedding_dimension() == lazy.dimension


def _texts_in_many_scripts() -> list[str]:
    texts = [line for f in sorted((ROOT / "tests" / "fixtures" / "tatoeba").glob("tatoeba.*"))
             for line in f.read_text("utf-8").splitlines()[:300]]
    texts += [json.loads(line)["text"][:3000] for line in
              (ROOT / "benchmarks" / "corpora" / "newstest" / "records.jsonl").read_text("utf-8").splitlines()[:40]]
    texts += [f.read_text("utf-8") for f in sorted(SEEDS.glob("*.txt"))]
    return texts + ["", "a", "  x \t y\n\nz  ", "ÉCOLE Ça ﬁne", "naïve café 😀 – “quoted”", "ab", "abc", "abcd"]


def test_char_ngram_counts_are_scikit_learns_hashing_vectorizer():
    """The n-gram rows are computed without importing scikit-learn (seconds per process): they must
    stay the very matrix its HashingVectorizer gives, on Latin, Cyrillic and Devanagari text."""
    import numpy as np
    from sklearn.feature_extraction.text import HashingVectorizer

    from provenance.lexical import HASH_FEATURES, NGRAM_RANGE, char_ngram_counts, romanized

    texts = _texts_in_many_scripts()
    ref = HashingVectorizer(analyzer="char_wb", ngram_range=NGRAM_RANGE, lowercase=True, strip_accents="unicode",
                            n_features=HASH_FEATURES, alternate_sign=False, norm=None, dtype=np.float32)
    want = ref.transform([romanized(t) for t in texts]).tocsr()
    want.sort_indices()
    got = char_ngram_counts(texts)
    assert got.dtype == np.float32 and got.shape == want.shape and got.has_sorted_indices
    assert (got != want).nnz == 0 and got.nnz == want.nnz > 100_000
    # the words' columns are kept once worked out: again, in another order and among other text
    again = char_ngram_counts(["unrelated words first"] + texts[::-1])[1:][::-1]
    assert (again != want).nnz == 0 and again.has_sorted_indices
    # text with a lone surrogate (which has no UTF-8 form) is counted too, not a crash of the process
    odd = char_ngram_counts(["the \ud800 wire", "the wire"])
    assert odd.shape[0] == 2 and odd[0].nnz > odd[1].nnz > 0


def test_gloss_counts_hash_as_scikit_learns_feature_hasher_and_its_stop_words():
    import numpy as np
    from sklearn.feature_extraction import FeatureHasher
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS as SKLEARN_STOP_WORDS

    from provenance.gloss import GLOSS_FEATURES
    from provenance.glossary import ENGLISH_STOP_WORDS
    from provenance.lexical import hashed_counts

    assert ENGLISH_STOP_WORDS == SKLEARN_STOP_WORDS
    rows = [t.split() for t in _texts_in_many_scripts()] + [[], ["vláda", "government", "सब्जी"] * 3]
    want = FeatureHasher(n_features=GLOSS_FEATURES, input_type="string", alternate_sign=False,
                         dtype=np.float32).transform(rows).tocsr()
    got = hashed_counts(rows, GLOSS_FEATURES)
    assert got.dtype == np.float32 and got.shape == want.shape
    assert (got != want).nnz == 0 and got.nnz == want.nnz > 10_000


def test_a_prepared_document_pickles_without_its_cut_sentences():
    """Spark ships prepared documents: the sentences each stage reads are cut once per process,
    not carried in the pickle beside the text they come from."""
    import pickle

    from provenance.preparation import prepare

    (p,), _ = prepare([d for d in load_paths([SEEDS]).documents if d.id.startswith("000")])
    texts = p.sentence_texts
    assert "sentence_texts" in p.__dict__ and isinstance(texts, tuple) and len(texts) > 10
    shipped = pickle.dumps(p)
    assert len(shipped) < len(pickle.dumps((p.seg, p.langs))) + 500
    back = pickle.loads(shipped)
    assert "sentence_texts" not in back.__dict__ and back == p and back.sentence_texts == texts


def test_langdetect_profiles_read_from_their_kept_copy_detect_as_langdetect_does(tmp_path):
    """langdetect's profiles are read from a compact copy beside the lexicons: the same n-grams,
    probabilities (to the bit) and language order as langdetect loads, so the same answers; a
    damaged copy is read from langdetect's files again and replaced."""
    from langdetect import DetectorFactory, detect_langs
    from langdetect.detector_factory import PROFILES_DIRECTORY

    from provenance import langid
    from provenance.lexicon_files import cache_folder_for_lexicons

    own = DetectorFactory()
    own.load_profile(PROFILES_DIRECTORY)
    texts = [x.strip() for name in ("tatoeba.fra-eng.fra", "tatoeba.deu-eng.deu", "tatoeba.spa-eng.eng")
             for x in (ROOT / "tests" / "fixtures" / "tatoeba" / name).read_text("utf-8").splitlines()[:40]]
    texts += ["Москва заявила в четверг, что переговоры продолжатся.", "प्रधानमंत्री ने गुरुवार को कहा कि बातचीत जारी रहेगी।"]
    try:
        with cache_folder_for_lexicons(tmp_path):
            langid._factory.cache_clear()
            langid._factory()  # read from langdetect's files, and kept
            (kept,) = (tmp_path / "lexicons").glob("langdetect-*.npz")
            langid._factory.cache_clear()
            factory = langid._factory()
            rows = factory.word_lang_prob_map
            assert isinstance(rows, langid._Profiles) and factory.langlist == own.langlist
            assert list(rows) == list(own.word_lang_prob_map)
            assert all([p.hex() for p in rows[k]] == [p.hex() for p in v] for k, v in own.word_lang_prob_map.items())
            langid.detect.cache_clear()
            for text in texts:
                DetectorFactory.seed = 0
                best = detect_langs(text)[0]  # langdetect's own, from its files
                assert langid.detect(text) == (best.lang.split("-")[0], best.prob), text
            for damaged in (kept.read_bytes()[:1000], b""):  # cut short; empty (a crash after the rename)
                kept.write_bytes(damaged)
                langid._factory.cache_clear()
                assert langid._factory().langlist == own.langlist
                langid._factory.cache_clear()
                assert isinstance(langid._factory().word_lang_prob_map, langid._Profiles)  # written again whole
    finally:
        langid._factory.cache_clear()
        langid.detect.cache_clear()
