"""Stage: segment. Paragraphs and sentences of the kept (story) text, with character offsets.

Every `Paragraph` and `Sentence` is a [start, end) span into `Document.text`, so that the report
can point at the exact characters. Sentence splitting is rule-based: end punctuation (with any
closing quotes) followed by space and an upper-case letter, digit or opening quote, except after
known abbreviations and initials, and never inside an open quotation that closes later in the
paragraph. Paragraphs are the kept blocks, except that a block longer than `MAX_PARAGRAPH_CHARS`
(a page scraped without line breaks) is cut into paragraphs of at most that length. Every step is
linear in the length of the text.
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
_CLOSERS = re.compile(r"(?:[\"'’\)\]]|[\u00a0\u202f ]*[”»])*")


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


class _QuoteState:
    """Whether a position lies inside a quotation that closes later in `para`, for positions asked
    in ascending order: running counts of the quote marks before the position, so that a whole
    paragraph costs one pass over it (rescanning the text before each boundary made sentence
    splitting quadratic in the length of a paragraph: minutes for a page scraped without line breaks)."""

    def __init__(self, para: str):
        self.para = para
        self.pos = 0
        self.curly = 0  # opening minus closing curly/angle quotes before `pos`
        self.straight = 0  # straight double quotes before `pos`
        self.straight_total = para.count('"')
        self.last_close = max(para.rfind(q) for q in _CLOSE_QUOTES)

    def open_at(self, pos: int) -> bool:
        para, start = self.para, self.pos
        if pos < start:
            raise ValueError(f"positions must be asked in ascending order: {pos} after {start}")
        self.curly += (sum(para.count(q, start, pos) for q in _OPEN_QUOTES)
                       - sum(para.count(q, start, pos) for q in _CLOSE_QUOTES))
        self.straight += para.count('"', start, pos)
        self.pos = pos
        if self.curly > 0 and self.last_close >= pos:
            return True
        after = self.straight_total - self.straight
        return self.straight % 2 == 1 and after % 2 == 1


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans inside `text[start:end]`, stripped, as offsets into `text`. Linear in the
    length of the span."""
    end = len(text) if end is None else end
    para = text[start:end]
    quotes = _QuoteState(para)
    spans = []
    cur = 0
    for m in _BOUNDARY.finditer(para):
        cut = m.start()
        # closing quotes/brackets stay with the sentence: straight ones only when attached,
        # curly and angle closers also after (French) spacing
        sent_end = _CLOSERS.match(para, cut).end()
        if _abbreviation_before(para, cut):
            continue
        if quotes.open_at(cut):
            continue
        if not para[cur:sent_end].isspace() and cur < sent_end:
            spans.append((cur, sent_end))
        cur = m.end()
    if cur < len(para) and not para[cur:].isspace():
        spans.append((cur, len(para)))
    return [_stripped(text, start + a, start + b) for a, b in spans]


def _abbreviation_before(para: str, cut: int) -> bool:
    """True when the end punctuation before `cut` ends an abbreviation or an initial."""
    tok = _previous_token(para, cut)
    return tok in _ABBREVIATIONS or bool(re.fullmatch(r"[a-z]", tok)) or bool(re.fullmatch(r"(\w\.)+\w", tok))


def _stripped(text: str, a: int, b: int) -> tuple[int, int]:
    """`(a, b)` without the whitespace at either end of `text[a:b]`."""
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


#: Story text is segmented into paragraphs of at most this many characters (and so into sentences
#: no longer than that). A longer block (a page scraped without line breaks) is first cut into
#: paragraphs at the last sentence boundary before the limit, or else the last space, and each is
#: then split into sentences like any paragraph. That also bounds the reach of the quotation rule
#: (no boundary inside a quotation that closes later in the paragraph): in a one-line page, one
#: quotation left open, as news style leaves it at the end of a quoted paragraph, would otherwise
#: merge every sentence up to the next closing quote anywhere after it. Alignment, comparison and
#: the reports work per sentence and per paragraph, so this bounds what one of them can cost. News
#: paragraphs are far shorter (the seed corpus's longest has 619 characters).
MAX_PARAGRAPH_CHARS = 4000


def _cut_long(text: str, a: int, b: int, limit: int) -> list[tuple[int, int]]:
    """`text[a:b]` in stripped pieces of at most `limit` characters, each cut at the last sentence
    boundary before the limit (quotations ignored), else at the last whitespace, else at the
    limit. Linear in `b - a`."""
    out = []
    while b - a > limit:
        window = text[a:a + limit + 1]  # a boundary's whitespace may start right at the limit
        cut = None
        for m in _BOUNDARY.finditer(window):
            stop = _CLOSERS.match(window, m.start()).end()
            if stop <= limit and not _abbreviation_before(window, m.start()):
                cut = (stop, m.end())
        if cut is None:
            space = max(window.rfind(c, 1, limit + 1) for c in " \n\t\u00a0")
            cut = (space, space + 1) if space > 0 else (limit, limit)
        piece = _stripped(text, a, a + cut[0])
        if piece[0] < piece[1]:
            out.append(piece)
        a = _stripped(text, a + cut[1], b)[0]
    if a < b:
        out.append(_stripped(text, a, b))
    return out


def bounded_paragraphs(text: str, start: int, end: int, limit: int = MAX_PARAGRAPH_CHARS
                       ) -> list[tuple[tuple[int, int], list[tuple[int, int]]]]:
    """`(paragraph span, sentence spans)` of block `text[start:end]`: the block itself when it has
    at most `limit` characters (the usual case), else pieces of at most `limit` characters
    (`MAX_PARAGRAPH_CHARS`)."""
    pieces = [(start, end)] if end - start <= limit else _cut_long(text, start, end, limit)
    return [((a, b), split_sentences(text, a, b)) for a, b in pieces]


def segment(cd: CleanDocument) -> Segmented:
    """Paragraphs (kept blocks, over-long ones cut at sentence boundaries: `MAX_PARAGRAPH_CHARS`)
    and their sentences."""
    text = cd.doc.text
    paragraphs: list[Paragraph] = []
    sentences: list[Sentence] = []
    for block in cd.kept:
        # pieces of an over-long block: only the first can be its title or heading
        for k, ((a, b), spans) in enumerate(bounded_paragraphs(text, block.start, block.end)):
            pi = len(paragraphs)
            paragraphs.append(Paragraph(a, b, block.role if k == 0 else "body"))
            for c, d in spans:
                sentences.append(Sentence(c, d, pi))
    return Segmented(cd, tuple(paragraphs), tuple(sentences))
