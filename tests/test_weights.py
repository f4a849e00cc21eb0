"""The lexical channel's column weights: fixed by each row's language, never by the rest of the scan."""

from __future__ import annotations

import os

import numpy as np
import pytest
from scipy import sparse

from provenance import weights
from provenance.gloss import gloss_counts
from provenance.lexical import HASH_FEATURES, char_ngram_counts, compact_columns, hashed_counts


def _weight(gram: str, lang: str) -> float:
    """The weight of one n-gram's column in `lang`'s table."""
    col = hashed_counts([[gram]], HASH_FEATURES).indices[0]
    cols, idf = weights._table("ngram", lang)
    at = np.searchsorted(cols, col)
    return float(idf[at]) if at < len(cols) and cols[at] == col else weights.RARE


def test_common_ngrams_weigh_little_and_rare_ones_much_in_each_language():
    assert _weight(" th", "en") < 1.5 and _weight("the ", "en") < 1.5
    assert _weight("zel", "en") > 6 and _weight("qzx", "en") == pytest.approx(weights.RARE)
    # Russian rows are romanised before their n-grams are taken; so is the Russian word list
    assert _weight(" i ", "ru") < 2  # и, "and"
    assert _weight("chto", "ru") < 3  # что, "that"
    assert _weight(" th", "ru") > _weight(" th", "en") + 3


def test_a_rows_weights_do_not_depend_on_the_other_rows():
    texts = ["Putin met Zelensky in Istanbul on Tuesday.", "The talks will resume next week, officials said.",
             "Путин встретился с Зеленским во вторник."]
    langs = np.array(["en", "en", "ru"])
    together = weights.weighted_rows(char_ngram_counts(texts), langs)
    for i, text in enumerate(texts):
        alone = weights.weighted_rows(char_ngram_counts([text]), langs[i:i + 1])
        assert np.array_equal(together[i].toarray(), alone.toarray())
    norms = np.sqrt(np.asarray(together.multiply(together).sum(axis=1)).ravel())
    assert np.allclose(norms, 1.0, atol=1e-6)


def test_a_language_without_a_word_list_weighs_every_ngram_alike():
    counts = char_ngram_counts(["Habari za asubuhi, rais alisema leo."])
    got = weights.weighted_rows(counts, np.array(["xx"]))
    plain = counts.astype(np.float32)
    plain.data = 1.0 + np.log(plain.data)
    plain = plain / np.sqrt(plain.multiply(plain).sum())
    assert np.allclose(got.toarray(), sparse.csr_matrix(plain).toarray(), atol=1e-6)


def test_gloss_rows_weigh_common_english_lemmas_below_names():
    row = gloss_counts(["The president said Putin will visit."], "en")
    got = weights.weighted_rows(row, np.array(["en"]), "gloss")
    by_col = dict(zip(got.indices.tolist(), got.data.tolist(), strict=True))
    say = hashed_counts([["w:say"]], row.shape[1]).indices[0]
    name = [c for c in by_col if c != say and by_col[c] == max(by_col.values())]
    assert say in by_col and name and by_col[say] < max(by_col.values()) / 2


def test_tables_are_built_once_per_machine_and_read_back(tmp_path, monkeypatch):
    monkeypatch.setenv("PROVENANCE_CACHE_DIR", str(tmp_path / "cache"))
    weights._cached_table.cache_clear()
    cols, idf = weights._table("ngram", "fr")
    assert list((tmp_path / "cache" / "lexicons").glob("weights-ngram-fr-*.npz"))
    weights._cached_table.cache_clear()  # as a new process starts
    monkeypatch.setattr(weights, "_build_ngrams", lambda lang: pytest.fail("built again"))
    again = weights._table("ngram", "fr")
    assert np.array_equal(again[0], cols) and np.array_equal(again[1], idf)
    weights._cached_table.cache_clear()


def test_rows_without_ngrams_stay_empty_wherever_they_are():
    counts = char_ngram_counts(["", "Putin met Zelensky.", "--", "Talks resume.", ""])
    got = weights.weighted_rows(counts, np.array(["en", "en", "en", "fr", "en"]))
    assert got.shape == counts.shape and np.array_equal(np.diff(got.indptr), np.diff(counts.indptr))
    norms = np.sqrt(np.asarray(got.multiply(got).sum(axis=1)).ravel())
    assert np.allclose(norms, [0, 1, 0 if not np.diff(counts.indptr)[2] else 1, 1, 0], atol=1e-6)


def test_weighing_in_chunks_changes_nothing(monkeypatch):
    texts = ["Putin met Zelensky in Istanbul on Tuesday.", "Путин встретился с Зеленским.", "Talks resume."]
    langs = np.array(["en", "ru", "fr"])
    whole = weights.weighted_rows(char_ngram_counts(texts), langs)
    monkeypatch.setattr(weights, "WEIGH_CHUNK", 7)
    assert np.array_equal(weights.weighted_rows(char_ngram_counts(texts), langs).toarray(), whole.toarray())


def test_zipf_values_are_wordfreqs_own_and_plain_words_need_no_wordfreq_import(tmp_path, monkeypatch):
    """`wordfreqs.zipf` gives what `wordfreq.zipf_frequency` gives, for listed and unlisted words,
    capitalised, decomposed, with digits, apostrophes or letters that case folding rewrites, words
    joined by hyphens or spaces, numbers among them, in plain languages and others; a later process
    looks plain words and such compounds up in the kept tables without
    importing wordfreq (0.3-0.5 s of every scan that met a new text), and which languages have a
    list is read without it too."""
    import subprocess
    import sys
    import unicodedata

    from wordfreq import available_languages, iter_wordlist, zipf_frequency

    from provenance import wordfreqs

    monkeypatch.setenv("PROVENANCE_CACHE_DIR", str(tmp_path / "cache"))
    wordfreqs._table.cache_clear()
    wordfreqs.zipf.cache_clear()
    assert wordfreqs.wordfreq_languages() == frozenset(available_languages("best")) >= {"en", "de", "fr", "ru", "hi"}
    odd = ["Kadhimi", "qzxvk", "covid19", "l'homme", "Straße", "straße", "STRASSE", "λόγος", "ΛΌΓΟΣ", "Путин", "путина",
           unicodedata.normalize("NFD", "café"), "naïve", "e-mail", "", "İstanbul", "şehir", "ţară", "सरकार", "東京",
           "badge_fr", "x_", "_", "__init__", "über_alles", "km²", "co₂", "h₂o", "x½", "путин²", "the中", "aกb",
           "regjering", "vlada", "États-Unis", "porte-parole", "a-t-il", "von Tom", "al-Kazimi", "Covid-19", "F-16",
           "g-7", "19", "2019", "2041", "007", "00", "x-1.5", "x-١٩", "-il", "a--b", "a - b", "nord-qzxvk", "1999-2000",
           "Covid19", "G7", "A320", "h5n1", "19covid", "x2019y", "1er", "mp3", "covid19-x",
           "\uff9fa", "\uff9f19", "the-\uff9fa", "a\uff9f"]  # a halfwidth sound mark starts no word
    try:
        for lang in ("en", "fr", "ru", "cs", "tr", "ro", "hi"):
            listed = list(iter_wordlist(lang))
            words = listed[:300] + listed[300::211] + [w.capitalize() for w in listed[:200:7]] + odd
            # words wordfreq cuts into several (hyphens, spaces, numbers among words): their values combined
            seconds = (listed[7:200:5] + ["19", "2024", "3", "05"] * 3)[:50]
            words += [f"{a}{'- '[i % 2]}{b}" for i, (a, b) in enumerate(zip(listed[:150:3], seconds, strict=True))]
            got = [wordfreqs.zipf(w, lang) for w in words]
            assert got == [zipf_frequency(w, lang) for w in words], lang
        assert wordfreqs.zipf("government", "xx") == 0.0  # no list: 0, as before
        for word, lang in (("vlada", "hr"), ("regjering", "no")):  # langdetect's codes that wordfreq matches
            assert wordfreqs.zipf(word, lang) == zipf_frequency(word, lang) > 4
        assert sorted(p.name.split("-")[1] for p in (tmp_path / "cache" / "lexicons").glob("zipf-*.npz")) == [
            "cs", "en", "fr", "hi", "ro", "ru", "tr"]  # the non-plain ones hold a marker only
        wordfreqs._table.cache_clear()
        wordfreqs.zipf.cache_clear()
        (tmp_path / "a file").write_text("")
        monkeypatch.setenv("PROVENANCE_CACHE_DIR", str(tmp_path / "a file"))  # no table can be kept there
        assert wordfreqs._table("en") is None
        assert wordfreqs.zipf("government", "en") == zipf_frequency("government", "en")
    finally:
        wordfreqs._table.cache_clear()
        wordfreqs.zipf.cache_clear()
    code = ("import sys; from provenance import wordfreqs; "
            "print(wordfreqs.zipf('government', 'en'), wordfreqs.zipf('kadhimi', 'en'), "
            "wordfreqs.zipf('états-unis', 'fr'), wordfreqs.zipf('covid-19', 'fr'), 'wordfreq' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PROVENANCE_CACHE_DIR": str(tmp_path / "cache")}).stdout
    assert out.split() == [str(zipf_frequency("government", "en")), "0.0", str(zipf_frequency("états-unis", "fr")),
                           str(zipf_frequency("covid-19", "fr")), "False"]


def test_compacting_keeps_the_used_columns_in_their_order():
    """Sparse products sum a row's entries in column order: compacted columns must keep it, so
    that cosines come out the same bit for bit however the columns are numbered."""
    rng = np.random.default_rng(0)
    m = sparse.random(50, HASH_FEATURES, density=2e-5, format="csr", dtype=np.float32, random_state=rng)
    m.sum_duplicates()
    c = compact_columns(m)
    used = np.unique(m.indices)
    assert c.shape == (50, len(used)) and np.array_equal(used[c.indices], m.indices)
    assert np.array_equal(c.data, m.data) and np.array_equal(c.indptr, m.indptr)
    assert compact_columns(sparse.csr_matrix((3, HASH_FEATURES), dtype=np.float32)).shape == (3, 0)
