"""The gloss channel: bilingual dictionaries (dictd files, as Debian ships FreeDict's) let a
translation meet its original when no name, number or cognate survives, and a missing dictionary
costs a warning, never the scan."""

from __future__ import annotations

import gzip
import json

import pytest

from provenance import HashingEmbedder, build_report, scan
from provenance.gloss import gloss_tokens
from provenance.glossary import lexicon, read_dictd, translations

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _b64(n: int) -> str:
    out = ""
    while True:
        out = _B64[n % 64] + out
        n //= 64
        if not n:
            return out


def write_dictd(folder, name: str, entries: list[tuple[str, str]], compress: bool = True) -> None:
    """A dictd dictionary (`name.index` + `name.dict.dz` or `.dict`) of (headword, definition)."""
    body, index = b"", []
    for head, definition in entries:
        data = definition.encode("utf-8")
        index.append(f"{head}\t{_b64(len(body))}\t{_b64(len(data))}")
        body += data
    (folder / f"{name}.index").write_text("\n".join(sorted(index)) + "\n", "utf-8")
    if compress:
        (folder / f"{name}.dict.dz").write_bytes(gzip.compress(body))
    else:
        (folder / f"{name}.dict").write_bytes(body)


RU_EN = {
    "городской": "city, municipal", "совет": "council", "вторник": "Tuesday", "одобрил": "approved",
    "новый": "new", "мост": "bridge", "через": "across, over", "реку": "river", "соединит": "will connect",
    "старый": "old", "город": "town, city", "северным": "northern", "районом": "district",
    "строительство": "construction", "начнётся": "will begin", "весной": "in spring", "продлится": "will last",
    "два": "two", "года": "years", "мэр": "mayor", "сказал": "said", "проект": "project", "важен": "important",
    "жителей": "residents", "многие": "many", "жители": "residents", "жаловались": "complained",
    "движение": "traffic", "старом": "old", "мосту": "bridge", "также": "also", "пообещал": "promised",
    "парк": "park", "возле": "near", "воды": "water", "инженеры": "engineers", "изучат": "will study",
    "грунт": "ground, soil", "начала": "beginning", "работ": "works", "оппозиция": "opposition",
    "раскритиковала": "criticised", "высокую": "high", "стоимость": "cost", "проекта": "project",
}

RU = ("Городской совет во вторник одобрил новый мост через реку.\n\n"
      "Мост соединит старый город с северным районом.\n\n"
      "Строительство начнётся весной и продлится два года.\n\n"
      "Мэр сказал, что проект важен для жителей.\n\n"
      "Многие жители жаловались на движение на старом мосту.\n\n"
      "Совет также пообещал новый парк возле воды.\n\n"
      "Инженеры изучат грунт до начала работ.\n\n"
      "Оппозиция раскритиковала высокую стоимость проекта.")
EN = ("The city council approved a new bridge across the river on Tuesday.\n\n"
      "The bridge will connect the old town with the northern district.\n\n"
      "Construction will begin in spring and last two years.\n\n"
      "The mayor said that the project is important for the residents.\n\n"
      "Many residents complained about the traffic on the old bridge.\n\n"
      "The council also promised a new park near the water.\n\n"
      "Engineers will study the ground before the beginning of the works.\n\n"
      "The opposition criticised the high cost of the project.")
# an unrelated English article of the same length, so retrieval has a choice
OTHER = ("The national football team lost its final match of the season on Sunday.\n\n"
         "The coach blamed the defence for the three goals.\n\n"
         "Supporters left the stadium before the end of the game.\n\n"
         "The captain apologised to the fans after the defeat.\n\n"
         "The federation will meet next week to discuss the results.\n\n"
         "Several players are injured and will miss the next tournament.\n\n"
         "Ticket sales fell sharply during the autumn.\n\n"
         "The club hopes to sign two new strikers in January.")


@pytest.fixture
def dict_dir(tmp_path, monkeypatch):
    folder = tmp_path / "dictd"
    folder.mkdir()
    monkeypatch.setenv("PROVENANCE_DICT_DIR", str(folder))
    monkeypatch.setenv("PROVENANCE_CACHE_DIR", str(tmp_path / "cache"))
    return folder


def test_freedict_entries_are_read_both_ways(dict_dir):
    write_dictd(dict_dir, "freedict-rus-eng", [
        ("мост", "мост /most/ <n, masc>\n1. bridge, viaduct\n   \"мост через реку\"\n2. [tech.] bridge circuit\n"
                 " see: {мостик}\n"),
    ])
    write_dictd(dict_dir, "freedict-eng-rus", [
        ("government", "government /ˈɡʌvənmənt/ <n>\n1. правительство; управление\n"),
        ("river", "river\n   [ˈrɪvə] _n. 1) река 2) поток\n"),
    ], compress=False)
    entries = read_dictd(dict_dir / "freedict-rus-eng.index", dict_dir / "freedict-rus-eng.dict.dz")
    assert translations(entries[0][1]) == ("мост", ["bridge", "viaduct", "bridge circuit"])
    lex = lexicon("ru")
    assert lex.translate("мост")[:2] == ("bridge", "viaduct")  # a forward dictionary keeps its order
    assert lex.translate("Правительства") == ("government",)  # read backwards, found through the lemma
    assert lex.translate("река") == ("river",)
    assert lex.translate("кошка") == ()
    assert lex.fingerprint != lexicon("cs").fingerprint and not lexicon("cs").words


def test_a_kept_lexicon_reads_back_as_built(dict_dir):
    """A lexicon is kept as a trie and mapped by later processes: every word gives the senses
    `build_lexicon` gave, a function word's one empty sense and a word of none included; a damaged
    file is built again and replaced."""
    from provenance import glossary

    trie = glossary.senses_trie({"a": ("x", "y z"), "b": glossary.FUNCTION, "c": (), "ж": ("é",)})
    assert dict(glossary._TrieSenses(trie)) == {"a": ("x", "y z"), "b": ("",), "c": (), "ж": ("é",)}
    assert glossary.senses_trie({"a": ("x\0y",)}) is None  # kept as a dict in memory only
    assert glossary._TrieSenses(trie).get("a\0") is None and glossary._TrieSenses(trie).get("\0") is None
    write_dictd(dict_dir, "freedict-rus-eng", [(k, f"{k}\n{v}\n") for k, v in RU_EN.items()])
    built = glossary.build_lexicon("ru", glossary.dictionary_files("ru"))
    assert lexicon("ru").words == built  # built now, and kept
    (kept,) = (dict_dir.parent / "cache" / "lexicons").glob("lexicon-ru-*.marisa")
    whole = kept.read_bytes()
    for damage in (None, b"", b"not a trie", whole[:200] + bytes(32) + whole[232:]):
        if damage is not None:
            kept.write_bytes(damage)
        glossary._lexicon.cache_clear()
        words = lexicon("ru").words
        assert dict(words) == built and words.get("кошка") is None
    glossary._lexicon.cache_clear()
    assert isinstance(lexicon("ru").words, glossary._TrieSenses) and kept.stat().st_size > 100  # replaced


def test_gloss_of_a_sentence_meets_its_translation(dict_dir):
    write_dictd(dict_dir, "freedict-rus-eng", [(k, f"{k}\n{v}\n") for k, v in RU_EN.items()])
    ru = set(gloss_tokens("Мэр Путин сказал, что проект важен для жителей.", "ru"))
    en = set(gloss_tokens("Mayor Putin said that the project is important for the residents.", "en"))
    # lemmas on both sides ("said" -> say, "residents" -> resident); the name by its skeleton
    assert {"w:mayor", "w:say", "w:project", "w:important", "w:resident", "n:ptn"} <= ru & en
    assert not any(t in ("w:the", "w:that", "w:is") for t in en)  # English stop words left out


def test_a_word_glossed_before_is_glossed_anew_for_another_language_or_a_new_dictionary(dict_dir):
    # gloss_tokens keeps each word's gloss for the process, per language and dictionary
    sentence = "Мэр Путин сказал"
    before = gloss_tokens(sentence, "ru")  # no Russian dictionary yet: the words pass as names
    assert "w:mayor" not in before and "n:ptn" in before
    write_dictd(dict_dir, "freedict-rus-eng", [(k, f"{k}\n{v}\n") for k, v in RU_EN.items()])
    after = gloss_tokens(sentence, "ru")
    assert {"w:mayor", "w:say", "n:ptn"} <= set(after)
    # a spelling both languages have is each language's own: an English capitalised word is a
    # lemma and a name, in Russian text the same word (unknown to the dictionary) a name only
    assert gloss_tokens("Mayor Mayor", "en") == ["w:mayor", "n:mr"] * 2
    assert gloss_tokens("Mayor", "ru") == ["n:mr"]
    # the rows are the hashed counts of those tokens, kept columns and all
    from provenance.gloss import GLOSS_FEATURES, gloss_counts
    from provenance.lexical import hashed_counts

    texts = [sentence, "Mayor Mayor", "", "Путин"]
    want = hashed_counts([gloss_tokens(t, "ru") for t in texts], GLOSS_FEATURES)
    assert (gloss_counts(texts, "ru") != want).nnz == 0 and want.nnz >= 5


def _scan(tmp_path, records):
    path = tmp_path / "articles.json"
    path.write_text(json.dumps(records, ensure_ascii=False), "utf-8")
    return scan([path], embedder=HashingEmbedder(256, frozenset({"en"}), "test/bag-of-words"))


RECORDS = [{"id": "ru", "text": RU, "language": "ru"}, {"id": "en", "text": EN, "language": "en"},
           {"id": "other", "text": OTHER, "language": "en"}]


def test_translation_with_no_shared_names_is_linked_through_the_dictionary(dict_dir, tmp_path):
    write_dictd(dict_dir, "freedict-rus-eng", [(k, f"{k}\n{v}\n") for k, v in RU_EN.items()])
    report = build_report(_scan(tmp_path, RECORDS))
    docs = {d["id"]: d for d in report["documents"]}
    pair = {docs["ru"]["derived_from"], docs["en"]["derived_from"]}
    assert pair & {"ru", "en"}, docs
    derived = docs["ru"] if docs["ru"]["derived_from"] == "en" else docs["en"]
    assert derived["relation"] == "translation"
    assert len(derived["alignments"]) >= 7  # sentence by sentence
    assert docs["other"]["derived_from"] is None
    assert not any("dictionary" in w for w in report["warnings"])


def test_missing_dictionary_is_one_warning_not_a_failure(dict_dir, tmp_path):
    report = build_report(_scan(tmp_path, RECORDS))  # an empty dictionary folder
    lines = [w for w in report["warnings"] if "no bilingual dictionary" in w]
    assert len(lines) == 1 and "ru" in lines[0] and "dict-freedict-rus-eng" in lines[0]
    assert "\n" not in lines[0]
    docs = {d["id"]: d for d in report["documents"]}
    # without the dictionary nothing in these texts carries across the scripts
    assert docs["ru"]["derived_from"] is None and docs["en"]["derived_from"] is None


def test_installing_a_dictionary_refreshes_cached_features(dict_dir, tmp_path):
    from provenance import CachedEmbedder

    path = tmp_path / "articles.json"
    path.write_text(json.dumps(RECORDS, ensure_ascii=False), "utf-8")
    embedder = CachedEmbedder(HashingEmbedder(256, frozenset({"en"}), "test/bag-of-words"), tmp_path / "c")
    before = {d["id"]: d for d in build_report(scan([path], embedder=embedder))["documents"]}
    assert before["ru"]["derived_from"] is None  # no dictionary yet
    write_dictd(dict_dir, "freedict-rus-eng", [(k, f"{k}\n{v}\n") for k, v in RU_EN.items()])
    after = {d["id"]: d for d in build_report(scan([path], embedder=embedder))["documents"]}
    assert {after["ru"]["derived_from"], after["en"]["derived_from"]} & {"ru", "en"}


def test_hindi_light_verbs_gloss_to_nothing_and_content_words_to_english(dict_dir):
    # an English-to-Hindi dictionary read backwards: होना is the first translation of "be" (a stop
    # word), so its other senses ("stand") are noise, not meaning
    write_dictd(dict_dir, "freedict-eng-hin", [
        ("be", "be <V>\n1. होना\n"), ("stand", "stand <V>\n1. खड़ा\n2. होना\n"),
        ("when", "when <Adv>\n1. जब\n2. समय\n"), ("time", "time <N>\n1. समय\n"),
        ("student", "student <N>\n1. छात्र\n"),
    ])
    from provenance.glossary import FUNCTION

    lex = lexicon("hi")
    assert lex.translate("होना") == FUNCTION
    assert lex.translate("समय") == ("time",)  # a later translation of "when" is no function word
    tokens = gloss_tokens("छात्र खड़ा होना", "hi")
    assert "w:student" in tokens and "w:stand" in tokens and tokens.count("w:stand") == 1


def test_english_words_in_devanagari_meet_their_english_form(dict_dir):
    from provenance.loanwords import acronym, loanword

    assert acronym("एसटीएफ") == "stf" and acronym("बीजेपी") == "bjp" and acronym("पुलिस") is None
    assert loanword("कॉलेज") == "college" and loanword("प्रोफेसर") == "professor"
    assert loanword("मेडिकल") == "medical" and loanword("कॉलेजों") == "college"  # plural ending cut
    # a common Hindi word that sounds like a rare English one is no loanword (लेकिन "but", lookin)
    assert loanword("लेकिन") is None
    hi = set(gloss_tokens("एसटीएफ ने मेडिकल कॉलेज की जांच की।", "hi"))  # no dictionary at all
    en = set(gloss_tokens("The STF investigated the medical college.", "en"))
    assert {"w:stf", "w:medical", "w:college"} <= hi & en
    # a place the dictionary lacks glosses to its English name (CLDR)
    assert "w:australia" in gloss_tokens("ऑस्ट्रेलिया", "hi")


def test_lemmas_are_simplemmas_and_a_new_process_reads_the_decoded_dictionary_back(tmp_path, monkeypatch):
    """Lemma dictionaries are decoded once per machine and kept as tries: the lemmas stay
    simplemma's own, and a later process (here: emptied process caches) maps the trie instead of
    decoding; a damaged trie is decoded again and replaced."""
    import re

    import simplemma
    from simplemma.strategies.dictionaries import DefaultDictionaryFactory

    from provenance import glossary
    from tests.conftest import ROOT

    monkeypatch.setenv("PROVENANCE_CACHE_DIR", str(tmp_path / "cache"))
    for f in (glossary.lemma, glossary._dictionary, glossary._lemmatizer):
        f.cache_clear()
    words = {"de": re.findall(r"\w+", (ROOT / "tests/fixtures/tatoeba/tatoeba.deu-eng.deu").read_text("utf-8"))[:3000],
             "es": re.findall(r"\w+", (ROOT / "tests/fixtures/tatoeba/tatoeba.spa-eng.spa").read_text("utf-8"))[:3000]}
    words["de"] += ["Steuererhöhungen", "beschlossen", "'naus", "x\ud800y",  # a lone surrogate: no lemma, no crash
                    "ab\x00cd", "\x00Haus", "\x00"]  # NUL, which marisa-trie < 1.4.2 misreads
    expected = {lang: [_simplemma(simplemma, w, lang) for w in ws] for lang, ws in words.items()}
    for lang, ws in words.items():
        assert [glossary.lemma(w, lang) for w in ws] == expected[lang]
    kept = sorted((tmp_path / "cache" / "lexicons").glob("lemmas-*.marisa"))
    assert [p.name.split("-")[1] for p in kept] == ["de", "es"]
    assert glossary.lemma("Wort", "xx") == "Wort"  # a language simplemma lacks: the word itself
    for f in (glossary.lemma, glossary._dictionary, glossary._lemmatizer):
        f.cache_clear()
    with monkeypatch.context() as m:
        m.setattr(DefaultDictionaryFactory, "get_dictionary", lambda *a: pytest.fail("decoded again"))
        assert [glossary.lemma(w, "de") for w in words["de"]] == expected["de"]
    whole = kept[1].read_bytes()
    middle = len(whole) // 2
    for damaged in (whole[:5000], whole[:middle] + bytes(64) + whole[middle + 64:]):  # cut short; hit inside
        kept[1].write_bytes(damaged)
        for f in (glossary.lemma, glossary._dictionary, glossary._lemmatizer):
            f.cache_clear()
        assert [glossary.lemma(w, "es") for w in words["es"]] == expected["es"]
        assert kept[1].read_bytes() == whole  # written again whole


def _simplemma(simplemma, word: str, lang: str) -> str:
    try:
        return simplemma.lemmatize(word, lang)
    except (ValueError, KeyError):
        return word


def test_dictionary_language_codes_are_langcodes_own():
    """The table that spares a scan importing langcodes says what langcodes says, and a code
    outside it still gets langcodes' answer."""
    import langcodes

    from provenance.glossary import ALPHA3, alpha3

    assert {k: langcodes.Language.get(k).to_alpha3() for k in ALPHA3} == ALPHA3
    assert alpha3("gl") == "glg" and alpha3("de") == "deu" and alpha3("not a language") is None


def test_cache_prepare_builds_every_dictionary_language_once_and_clear_removes_it(dict_dir, tmp_path):
    """`provenance cache prepare` (the set-up runs it) builds ahead of any scan what a scan would
    build on first meeting a language, into the folder asked for, even in a process that already
    read them from another folder; a second run builds nothing; `cache clear` removes them all."""
    from click.testing import CliRunner

    from provenance import report
    from provenance.cli import main
    from provenance.lexicon_files import cache_folder_for_lexicons

    write_dictd(dict_dir, "freedict-rus-eng", [("мост", "мост /most/ <n, masc>\n1. bridge, viaduct\n")])
    lexicon("ru")  # read from the default folder ($PROVENANCE_CACHE_DIR) in this process
    cache = tmp_path / "elsewhere"
    first = CliRunner().invoke(main, ["cache", "prepare", "--cache-dir", str(cache)])
    assert first.exit_code == 0 and "2 languages (en, ru)" in first.output, first.output
    built = {p.name.rsplit("-", 1)[0] for p in (cache / "lexicons").iterdir() if p.is_file()}
    assert {"lexicon-ru", "lemmas-ru", "lemmas-en", "weights-ngram-ru", "weights-ngram-en",
            "weights-gloss-en", "zipf-en", "zipf-ru", "langdetect"} <= built
    again = CliRunner().invoke(main, ["cache", "prepare", "--cache-dir", str(cache)])
    assert again.exit_code == 0 and ": 0 file(s) built" in again.output
    report._compiled_schema.cache_clear()
    with cache_folder_for_lexicons(cache):
        report._compiled_schema()  # the report's validator is kept there too
    report._compiled_schema.cache_clear()
    assert list((cache / "lexicons").glob("report_validator_*.py"))
    cleared = CliRunner().invoke(main, ["cache", "clear", "--yes", "--cache-dir", str(cache)])
    assert cleared.exit_code == 0
    assert not [p for p in (cache / "lexicons").rglob("*") if p.is_file()]


def test_cache_prepare_says_which_language_failed_and_builds_the_others(dict_dir, tmp_path):
    from click.testing import CliRunner

    from provenance.cli import main

    write_dictd(dict_dir, "freedict-rus-eng", [("мост", "мост /most/ <n, masc>\n1. bridge, viaduct\n")])
    write_dictd(dict_dir, "freedict-deu-eng", [("Brücke", "Brücke\n1. bridge\n")])
    (dict_dir / "freedict-deu-eng.dict.dz").write_bytes(b"not gzip at all")  # damaged
    cache = tmp_path / "c"
    r = CliRunner().invoke(main, ["cache", "prepare", "--cache-dir", str(cache)])
    assert r.exit_code == 1 and "de: not built" in r.output and "freedict-deu-eng.dict.dz" in r.output
    lexicons = cache / "lexicons"
    assert list(lexicons.glob("lexicon-ru-*.marisa")) and not list(lexicons.glob("lexicon-de-*"))
    (tmp_path / "a file").write_text("x")
    r = CliRunner().invoke(main, ["cache", "prepare", "--cache-dir", str(tmp_path / "a file" / "below")])
    assert r.exit_code == 1 and "cannot write the lexicons to" in r.output and len(r.output.splitlines()) == 1
