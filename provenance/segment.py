"""Stage: segment. Paragraphs and sentences of the kept (story) text, with character offsets.

Every `Paragraph` and `Sentence` is a [start, end) span into `Document.text`, so that the report
can point at the exact characters. Sentence splitting is rule-based: end punctuation (with any
closing quotes) followed by space and an upper-case letter, digit or opening quote, except after
known abbreviations and initials, and never inside an open quotation that closes later in the
paragraph.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .clean import CleanDocument

_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "st", "sr", "jr", "gen", "col", "lt", "sgt", "capt", "cmdr", "adm",
    "gov", "sen", "rep", "pres", "rev", "hon", "no", "nos", "vs", "etc", "inc", "ltd", "co", "corp",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "u.s", "u.k", "u.n", "e.g", "i.e", "a.m", "p.m", "approx", "dept", "fig", "mt", "ft",
    "m", "mme", "mlle", "me", "sra", "hr", "fr", "bzw", "ca", "z.b", "d.h", "av", "ste",
}
_BOUNDARY = re.compile(
    r"(?<=[.!?…])[\"”»’'\)\]\u00a0 ]*?(?:\s+)(?=[\"“«‘'(\[\u00a0 ]*[A-Z0-9À-ÖØ-ÞА-ЯΑ-Ω\u0600-\u06FF])")
_OPEN_QUOTES = "“«„"
_CLOSE_QUOTES = "”»"


@dataclass(frozen=True)
class Paragraph:
    start: int
    end: int
    role: str  # "title", "heading" or "body"


@dataclass(frozen=True)
class Sentence:
    """A sentence span; `paragraph` indexes `Segmented.paragraphs`."""

    start: int
    end: int
    paragraph: int


@dataclass(frozen=True)
class Segmented:
    clean: CleanDocument
    paragraphs: tuple[Paragraph, ...]
    sentences: tuple[Sentence, ...]

    @property
    def doc(self):
        return self.clean.doc

    def text_of(self, start: int, end: int) -> str:
        return self.clean.doc.text[start:end]


def _previous_token(text: str, end: int) -> str:
    m = re.search(r"([\w.]+)\.$", text[max(0, end - 20):end])
    return m.group(1).lower() if m else ""


def _quote_open_at(para: str, pos: int) -> bool:
    """True when position `pos` lies inside a quotation that closes later in `para`."""
    before, after = para[:pos], para[pos:]
    curly_open = sum(before.count(q) for q in _OPEN_QUOTES) - sum(before.count(q) for q in _CLOSE_QUOTES)
    if curly_open > 0 and any(q in after for q in _CLOSE_QUOTES):
        return True
    straight_before = before.count('"')
    return straight_before % 2 == 1 and '"' in after and after.count('"') % 2 == 1


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans inside `text[start:end]`, stripped, as offsets into `text`."""
    end = len(text) if end is None else end
    para = text[start:end]
    spans = []
    cur = 0
    for m in _BOUNDARY.finditer(para):
        cut = m.start()
        # the sentence keeps its closing quotes/brackets; the boundary is the whitespace run after them
        # closing quotes/brackets stay with the sentence: straight ones only when attached,
        # curly and angle closers also after (French) spacing
        close = re.match(r"(?:[\"'’\)\]]|[\u00a0\u202f ]*[”»])*", para[cut:])
        sent_end = cut + len(close.group(0)) if close else cut
        tok = _previous_token(para, cut)
        if tok in _ABBREVIATIONS or re.fullmatch(r"[a-z]", tok) or re.fullmatch(r"(\w\.)+\w", tok):
            continue
        if _quote_open_at(para, cut):
            continue
        piece = para[cur:sent_end]
        if piece.strip():
            spans.append((cur, sent_end))
        cur = m.end()
    if para[cur:].strip():
        spans.append((cur, len(para)))
    out = []
    for a, b in spans:
        seg = para[a:b]
        lead = len(seg) - len(seg.lstrip())
        trail = len(seg) - len(seg.rstrip())
        out.append((start + a + lead, start + b - trail))
    return out


def segment(cd: CleanDocument) -> Segmented:
    """Paragraphs (kept blocks) and their sentences."""
    text = cd.doc.text
    paragraphs: list[Paragraph] = []
    sentences: list[Sentence] = []
    for block in cd.kept:
        pi = len(paragraphs)
        paragraphs.append(Paragraph(block.start, block.end, block.role))
        for a, b in split_sentences(text, block.start, block.end):
            sentences.append(Sentence(a, b, pi))
    return Segmented(cd, tuple(paragraphs), tuple(sentences))
