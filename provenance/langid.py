"""Stage: language identification. langdetect, per document and per paragraph.

langdetect is randomised; `DetectorFactory.seed = 0` makes it deterministic (same input, same
answer). Paragraphs too short for a reliable guess take the document's language, and so do
paragraphs whose function words vote clearly for it (`clearly`); langdetect decides the rest.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from langdetect import DetectorFactory, LangDetectException, detect_langs

from .segment import Segmented

DetectorFactory.seed = 0

#: Paragraphs shorter than this (characters) inherit the document language.
MIN_PARAGRAPH_CHARS = 60
UNKNOWN = "und"


@dataclass(frozen=True)
class Languages:
    """`document`: ISO 639-1 code (or "und"); `paragraphs`: one code per `Segmented.paragraphs`;
    `shares`: share of story characters per language, rounded to 3 places."""

    document: str
    paragraphs: tuple[str, ...]
    shares: tuple[tuple[str, float], ...]
    declared: str | None = None


@lru_cache(maxsize=8192)
def detect(text: str) -> tuple[str, float]:
    """Best language of `text` and its probability; ("und", 0.0) when undecidable. Memoised:
    with the seed reset on every call the answer depends on the text alone, and copies of a
    wire repeat whole paragraphs."""
    DetectorFactory.seed = 0  # another library may have reseeded it
    try:
        langs = detect_langs(text)
    except LangDetectException:
        return UNKNOWN, 0.0
    if not langs:
        return UNKNOWN, 0.0
    best = langs[0]
    return _norm(best.lang), float(best.prob)


# Frequent function words, with the pronouns and auxiliaries that short sentences carry: a paragraph
# whose words vote clearly for the document's language needs no second opinion. langdetect (2-8 ms
# a call here) still decides every other paragraph. On short Tatoeba paragraphs (1-3 sentences) the
# pronouns raised the share settled from 43% to 72%, and none was ever vouched for in another
# language (tests/test_stages.py checks both).
_STOPWORDS = {
    "en": ("the of and to in a is that for on with as was by at from it his be are has have said were will "
           "you i we he she they not do did this what my me your can would there but an had been who").split(),
    "fr": ("le la les de des du et un une est en que qui dans pour sur au aux par pas ont a été avec "
           "je tu il nous vous ils elle ne ce mon ton son sa ses mais très tout sont avait suis cette ça").split(),
    "es": ("el la los las de del y en que un una es por para con se al su lo como más fue ha "
           "yo tú él muy pero está este esta mi qué le me te nos hay estoy tengo quiero").split(),
    "de": ("der die das und ist nicht den dem des ein eine zu mit von auf für im sich auch wurde hat "
           "ich du er sie wir es war haben habe kann mein dass aber noch schon sehr bin").split(),
    "it": "il lo la gli le di del della e che un una è per con non si sono nel alla".split(),
    "pt": "o a os as de do da dos e que um uma é em para com não se por no na foi".split(),
}
_WORD_LOOKUP: dict[str, set[str]] = {}
for _lang, _words in _STOPWORDS.items():
    for _w in _words:
        _WORD_LOOKUP.setdefault(_w, set()).add(_lang)


_WORDS = re.compile(r"[^\W\d_]+")


def clearly(text: str, lang: str, min_hits: int = 4, ratio: float = 3.0) -> bool:
    """True when `text`'s function words vote for `lang` at least `ratio` times more than for
    any other language (and at least `min_hits` times)."""
    votes: dict[str, int] = {}
    for w in _WORDS.findall(text.lower()):
        for lg in _WORD_LOOKUP.get(w, ()):
            votes[lg] = votes.get(lg, 0) + 1
    mine = votes.pop(lang, 0)
    return mine >= min_hits and mine >= ratio * max(votes.values(), default=0)


def dominant(text: str, min_hits: int = 12, ratio: float = 5.0, min_density: float = 0.05) -> str | None:
    """The language of a long text whose function words leave no doubt. Only words in a single
    language's list vote ("de" is French, Spanish and Portuguese; "les" only French); the winner
    needs `min_hits` votes, `ratio` times the runner-up's, and `min_density` of all words (a
    language outside the lists, such as Dutch, does not get there). None otherwise: ask langdetect."""
    votes: dict[str, int] = {}
    words = _WORDS.findall(text.lower())
    for w in words:
        langs = _WORD_LOOKUP.get(w)
        if langs is not None and len(langs) == 1:
            (lg,) = langs
            votes[lg] = votes.get(lg, 0) + 1
    if not votes:
        return None
    best = max(sorted(votes), key=votes.__getitem__)
    mine = votes.pop(best)
    if mine >= min_hits and mine >= ratio * max(votes.values(), default=0) and mine >= min_density * len(words):
        return best
    return None


def _norm(code: str) -> str:
    return code.split("-")[0].lower()


def identify(seg: Segmented) -> Languages:
    """Language of the story text of `seg` and of each of its paragraphs."""
    text = seg.doc.text
    story = "\n".join(text[p.start:p.end] for p in seg.paragraphs)
    declared = seg.doc.meta.get("language")
    if declared:
        doc_lang = _norm(declared)
    else:  # langdetect reads the whole story (14 ms for a long article); function words settle most
        doc_lang = dominant(story) or (detect(story)[0] if story.strip() else UNKNOWN)
    paras = []
    weights: Counter[str] = Counter()
    for p in seg.paragraphs:
        ptext = text[p.start:p.end]
        lang = doc_lang
        if len(ptext) >= MIN_PARAGRAPH_CHARS and not clearly(ptext, doc_lang):
            guess, prob = detect(ptext)
            if guess != UNKNOWN and prob >= 0.8:
                lang = guess
        paras.append(lang)
        weights[lang] += len(ptext)
    total = sum(weights.values()) or 1
    shares = tuple(sorted(((k, round(v / total, 3)) for k, v in weights.items()), key=lambda kv: (-kv[1], kv[0])))
    return Languages(doc_lang, tuple(paras), shares, declared)
