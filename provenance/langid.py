"""Stage 4, language identification with langdetect, per document and per paragraph.

langdetect is randomised; `DetectorFactory.seed = 0` makes it deterministic (same input, same
answer). Paragraphs too short for a reliable guess take the document's language.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

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


def detect(text: str) -> tuple[str, float]:
    """Best language of `text` and its probability; ("und", 0.0) when undecidable."""
    DetectorFactory.seed = 0  # another library may have reseeded it
    try:
        langs = detect_langs(text)
    except LangDetectException:
        return UNKNOWN, 0.0
    if not langs:
        return UNKNOWN, 0.0
    best = langs[0]
    return _norm(best.lang), float(best.prob)


def _norm(code: str) -> str:
    return code.split("-")[0].lower()


def identify(seg: Segmented) -> Languages:
    """Language of the story text of `seg` and of each of its paragraphs."""
    text = seg.doc.text
    story = "\n".join(text[p.start:p.end] for p in seg.paragraphs)
    declared = seg.doc.meta.get("language")
    doc_lang, _ = detect(story) if story.strip() else (UNKNOWN, 0.0)
    if declared:
        doc_lang = _norm(declared)
    paras = []
    weights: Counter[str] = Counter()
    for p in seg.paragraphs:
        ptext = text[p.start:p.end]
        lang = doc_lang
        if len(ptext) >= MIN_PARAGRAPH_CHARS:
            guess, prob = detect(ptext)
            if guess != UNKNOWN and prob >= 0.8:
                lang = guess
        paras.append(lang)
        weights[lang] += len(ptext)
    total = sum(weights.values()) or 1
    shares = tuple(sorted(((k, round(v / total, 3)) for k, v in weights.items()), key=lambda kv: (-kv[1], kv[0])))
    return Languages(doc_lang, tuple(paras), shares, declared)
