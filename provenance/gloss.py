"""The gloss channel: each sentence as a bag of English lemmas, so a translation and its original
can be compared word by word whatever their scripts and vocabularies.

An English sentence's gloss is its content words, lemmatised ("said" -> say). Another language's
sentence is glossed through a bilingual dictionary (`glossary.lexicon`): each word gives the
English lemmas the dictionary lists for it (up to `glossary.MAX_SENSES`). A word the dictionary
does not know (a name, a loanword) passes through as the consonant skeleton of its
transliteration (Путин, पुतिन and Putin all give "ptn"), which is also what an English name
becomes, so names meet across scripts.

Rows are hashed counts (`GLOSS_FEATURES` columns, fixed by the word itself) so one document's rows
never depend on the rest of the scan and can be cached with its other features.
"""

from __future__ import annotations

import re

import numpy as np
from scipy import sparse

from .glossary import ENGLISH_STOP_WORDS, Lexicon, fingerprint, lemma, lexicon, zipf
from .lexical import counts_matrix, hashed_column_rows, rows_through_memo
from .loanwords import acronym, loanword
from .names import place_name, romanize, skeleton

#: Hashed columns of the gloss space (English lemmas and name skeletons).
GLOSS_FEATURES = 2**20

# Words (letters first; hyphens inside). Apostrophes separate: French and Italian elisions (l'Iran,
# d'un) must meet the bare word, and English possessives leave a one-letter token that is dropped.
_TOKEN = re.compile(r"[^\W\d_](?:[\w\u0900-\u0963\u0966-\u097f\u0981-\u09fe-]*[\w\u0900-\u0963\u0966-\u097f])?")


#: A word of another language at least this frequent (wordfreq's Zipf scale: 6.5 is once in ~300
#: words) is a function word (Hindi का, में; Russian и, что; German der) and left out of the
#: gloss, as English stop words are: dictionaries translate them into noise.
FUNCTION_WORD_ZIPF = 6.5


#: In a script without letter case (Devanagari, Arabic) nothing marks a name, so a word the
#: dictionary lacks that is this common in its language (Zipf 5: once in 100,000 words) is left out
#: of the gloss rather than passed on as a name (newstest hi-en alignment F1 0.80 -> 0.83).
COMMON_UNKNOWN_ZIPF = 5.0


def _caseless(word: str) -> bool:
    return not word[:1].isupper() and not word[:1].islower()


def gloss_tokens(text: str, lang: str, lex: Lexicon | None = None) -> list[str]:
    """The gloss of one sentence: English lemmas (prefixed "w:") and name skeletons ("n:").
    `lang`: the sentence's language; `lex`: its lexicon (looked up when not given)."""
    if lang != "en" and lex is None:
        lex = lexicon(lang)
    out: list[str] = []
    for tokens, _ in _glossed_words(text, lang, lex):
        out += tokens
    return out


def _glossed_words(text: str, lang: str, lex: Lexicon | None) -> list[tuple[tuple[str, ...], np.ndarray]]:
    """Each word of `text`'s gloss tokens and their hashed columns (`GLOSS_FEATURES`)."""
    return _glossed_rows([text], lang, lex)[0]


def _glossed_rows(texts: list[str], lang: str, lex: Lexicon | None
                  ) -> list[list[tuple[tuple[str, ...], np.ndarray]]]:
    """`_glossed_words` of each of `texts`, the words not glossed before glossed once and their
    columns hashed in one call."""
    def glossed(new: list[str]):
        glosses = [_word_gloss(w, lang, lex) for w in new]
        return zip(glosses, hashed_column_rows(glosses, GLOSS_FEATURES), strict=True)

    return rows_through_memo([_TOKEN.findall(t) for t in texts], _word_glosses(lang, lex), glossed)


#: Each word's gloss and its columns, per language and lexicon: a word gives the same tokens
#: wherever it stands, and words recur (names, copies of a dispatch), so each is glossed once a
#: process. Emptied when one language holds `WORD_GLOSSES_KEPT` words.
_WORD_GLOSSES: dict[tuple[str, int], tuple[Lexicon | None, dict[str, tuple[tuple[str, ...], np.ndarray]]]] = {}
WORD_GLOSSES_KEPT = 200_000


def _word_glosses(lang: str, lex: Lexicon | None) -> dict[str, tuple[tuple[str, ...], np.ndarray]]:
    held = _WORD_GLOSSES.get((lang, id(lex)))
    if held is None or held[0] is not lex:  # the lexicon is held too, so its id is not reused
        held = _WORD_GLOSSES[(lang, id(lex))] = (lex, {})
    if len(held[1]) >= WORD_GLOSSES_KEPT:
        held[1].clear()
    return held[1]


def _word_gloss(word: str, lang: str, lex: Lexicon | None) -> tuple[str, ...]:
    """`gloss_tokens` of one word."""
    if len(word) < 2:
        return ()
    stop = ENGLISH_STOP_WORDS
    out: list[str] = []
    guess = False
    if lang == "en":
        low = word.lower()
        if low in stop:
            return ()
        senses = (lemma(low, "en").lower(),)
    elif max(zipf(word.lower(), lang), zipf(lemma(word.lower(), lang).lower(), lang)) >= FUNCTION_WORD_ZIPF:
        return ()
    else:
        senses = lex.translate(word)
        if not senses:  # a place (इंग्लैंड: england), or English in another script: maybe a name too
            senses = _place(word, lang) or _english_loan(word)
            guess = bool(senses)
    if senses:
        out += ["w:" + s for s in senses if s and s not in stop]
    if not senses and _caseless(word) and zipf(word, lang) >= COMMON_UNKNOWN_ZIPF:
        return tuple(out)  # a common word of a caseless script the dictionary lacks: no name, only noise
    if not senses or guess or word[:1].isupper():
        key = skeleton(romanize(word))
        if len(key) >= 2:
            out.append("n:" + key)
    return tuple(out)


def _place(word: str, lang: str) -> tuple[str, ...]:
    """The words of the English name of the place `word` names (CLDR, `names.place_name`)."""
    found = place_name(word, lang)
    return tuple(w.lower() for w in found.split()) if found else ()


def _english_loan(word: str) -> tuple[str, ...]:
    """An English word written in Devanagari (`loanwords`): an acronym spelled out (एसटीएफ: stf)
    or a loanword (पुलिस: police), as its lemma."""
    if not "\u0900" <= word[0] <= "\u097f":
        return ()
    found = acronym(word) or loanword(word)
    return (lemma(found, "en").lower(),) if found else ()


def gloss_counts(texts: list[str], lang: str) -> sparse.csr_matrix:
    """Hashed gloss counts of `texts` (all in language `lang`), rows = texts, float32 CSR (as
    scikit-learn's `FeatureHasher(GLOSS_FEATURES, input_type="string", alternate_sign=False)`)."""
    lex = None if lang == "en" else lexicon(lang)
    return counts_matrix([[cols for _, cols in row] for row in _glossed_rows(texts, lang, lex)], GLOSS_FEATURES)


def gloss_fingerprint(lang: str) -> str:
    """What a language's gloss rows depend on besides the text: its dictionaries."""
    return "en" if lang == "en" else fingerprint(lang)
