"""Stage: attribution. Which agency a document credits ("(AFP)", "told Reuters", a photo credit
told apart from a text credit), and traces in a text's own language that it was translated.
Each is found in one document's text alone (so it is cached with the document's features)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .clean import photo_credit
from .hashing import of_objects
from .newsroom import AGENCY_ALT, AMBIGUOUS, CREDIT_CUES, SIGNATURE_END, agency_name, mentions_agency


@dataclass(frozen=True)
class CreditSpan:
    """An agency credit in one document's text: `kind` is "text" or "photo"; [start, end) is a
    span into the document's text."""

    agency: str
    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class Credit:
    """An agency credit of document `doc` (an index into the scan's documents)."""

    doc: int
    agency: str
    kind: str
    start: int
    end: int

    @classmethod
    def at(cls, doc: int, span: CreditSpan) -> Credit:
        return cls(doc, span.agency, span.kind, span.start, span.end)


# --- translation signals in same-language text -------------------------------------------------

@dataclass(frozen=True)
class Signal:
    """A trace of translation in a document's own language: `kind`, and the span that shows it."""

    kind: str
    start: int
    end: int


# French typography keeps a (non-breaking) space inside quotation marks; machine translation
# carries it over: "\u00a0 significant progress \u00a0".
_SPACES = frozenset(" \u00a0\u202f")
_SPACED_QUOTE = re.compile(r"[\"“«][\u00a0\u202f][ \u00a0\u202f]*\w|\w[ \u00a0\u202f]*[\u00a0\u202f][\"”»]")
# Page labels that read as word-for-word translations of French/Spanish/German labels.
_CALQUES = {
    "publicity": "Publicité (advertising)", "text by": "Texte par", "read also": "Lire aussi",
    "to read also": "À lire aussi", "on the same subject": "Sur le même sujet",
    "receive all": "Recevez toute", "publicidad": "Publicidad",
}
# ASCII case-folding only (Unicode's also matched "alſo" to "also", whose label lookup then failed)
_CALQUE_RE = re.compile(r"^(" + "|".join(re.escape(k) for k in _CALQUES) + r")\b", re.IGNORECASE | re.ASCII)


def _spaced_quotes(text: str) -> list[tuple[int, int]]:
    """The spans `_SPACED_QUOTE.finditer(text)` gives, looked for around the (non-breaking) spaces
    that each holds only: a match is one character, a run of spaces with one of them and another
    character, so it lies in the run and the characters on either side of it (the whole text
    scanned by the regex cost ~0.25 ms per article that holds any such space)."""
    out: list[tuple[int, int]] = []
    done = at = 0  # where the last match ended (the regex scans on from there); where to look next
    found = dict.fromkeys("\u00a0\u202f")  # each space's next place (-1: none left), looked for again once passed
    while True:
        for c, i in found.items():
            if i is None or 0 <= i < at:
                found[c] = text.find(c, at)
        places = [i for i in found.values() if i >= 0]
        if not places:
            return out
        lo = hi = min(places)
        while lo > 0 and text[lo - 1] in _SPACES:
            lo -= 1
        while hi < len(text) and text[hi] in _SPACES:
            hi += 1
        for m in _SPACED_QUOTE.finditer(text, max(lo - 1, done), min(hi + 1, len(text))):
            out.append(m.span())
            done = m.end()
        at = hi


def translation_signals(p) -> tuple[Signal, ...]:
    """Traces that a text was translated (typically machine-translated from French), found in its
    own language: spaced quotation marks, calqued page labels. Reported as signals only: one kind
    alone proves little, and none of them changes a relation. Remembered per document (its text
    and cleaned blocks): every scan asks for every article's, twice."""
    return of_objects("translation-signals", (p.doc.text, p.seg.clean.blocks),
                      lambda: tuple(_translation_signals(p.doc.text, p.seg.clean.blocks)))


def _translation_signals(text: str, blocks) -> list[Signal]:
    out = []
    for start, end in _spaced_quotes(text):
        out.append(Signal("spaced quotation marks (French typography)", start, end))
    low = text.lower()  # most texts hold no label: looked for in the whole text first (a regex per block cost ~0.1 ms)
    if not any(k in low for k in _CALQUES):
        return out
    for b in blocks:
        s = text[b.start:b.end]
        m = _CALQUE_RE.match(s)
        if m:
            out.append(Signal(f"calqued label ('{m.group(1)}' reads as {_CALQUES[m.group(1).lower()]})",
                              b.start, b.start + m.end()))
    return out


# --- agency credits ---------------------------------------------------------------------------

# Furniture that can carry the document's own credit; other furniture (related-article lists,
# "read also" links) names other stories' agencies.
_CREDIT_BEARING = frozenset({"agency credit line", "byline", "trailing page furniture", "copyright notice"})


def find_credits(prepared) -> list[Credit]:
    """Agency credits of every document: text credits in story text, photo credits in captions."""
    return [Credit.at(di, c) for di, p in enumerate(prepared) for c in credit_spans(p)]


def credit_spans(p) -> list[CreditSpan]:
    """The agency credits of one document (a `prepare.Prepared`).

    Text credits are read in story text and in furniture that is the document's own credit (an
    agency credit line such as "(dpa/jar)" or "avec AFP", a byline "Von Anna Müller, dpa"): such a
    line is excluded from matching but still reported here. A photo caption yields photo credits only.
    """
    out: list[CreditSpan] = []
    text = p.doc.text
    for blk in p.seg.clean.blocks:
        s = text[blk.start:blk.end]
        if blk.excluded == "photo caption or credit" or (
                blk.excluded and blk.excluded not in _CREDIT_BEARING and photo_credit(s)):
            for m in re.finditer(rf"(?:{AGENCY_ALT})", s):
                if _is_word(s, m):
                    out.append(CreditSpan(agency_name(m.group()), "photo", blk.start + m.start(), blk.start + m.end()))
            continue
        if blk.excluded and blk.excluded not in _CREDIT_BEARING:
            continue
        found = text_credits(s, furniture=bool(blk.excluded))
        out.extend(CreditSpan(ag, "text", blk.start + a, blk.start + b) for ag, a, b in found)
    return out




def text_credits(s: str, furniture: bool = False) -> list[tuple[str, int, int]]:
    """Text credits in one block: (agency, start, end) with offsets into `s`, in order, without
    overlaps (where two conventions overlap, the earlier and then longer match wins). A signature
    naming two agencies ("(Reuters/AFP)") credits both, with the same span. In a credit-bearing
    furniture block (`furniture`), an agency that ends the line ("Von Anna Müller, dpa") counts too."""
    if not mentions_agency(s):  # every convention names an agency: most blocks are done here
        return []
    found = []
    for _, pat in CREDIT_CUES:
        for m in pat.finditer(s):
            if m.group("ag") and not _ambiguous_aside(s, m):
                found.append(m)
    if not found and furniture:
        found = [m] if (m := SIGNATURE_END.search(s)) else []
    found.sort(key=lambda m: (m.start(), -(m.end() - m.start())))
    out: list[tuple[str, int, int]] = []
    end = -1
    for m in found:
        if m.start() < end:
            continue
        start, end = _trimmed(s, m)
        for ag in _agencies_in(m):
            out.append((ag, start, end))
    return out


def _trimmed(s: str, m: re.Match) -> tuple[int, int]:
    """The match without the surrounding whitespace and line breaks a pattern may take in."""
    a, b = m.start(), m.end()
    while a < b and s[a].isspace():
        a += 1
    while b > a and s[b - 1].isspace():
        b -= 1
    return a, b


def _agencies_in(m: re.Match) -> list[str]:
    """The agency of a credit match, and any more it lists ("(Reuters/AFP)", "dpa, AFP")."""
    first = agency_name(m.group("ag"))
    rest = m.group()[m.end("ag") - m.start():]
    if not re.match(r"\s*[/,;]", rest):
        return [first]
    more = [agency_name(x.group()) for x in re.finditer(rf"(?<!\w)(?:{AGENCY_ALT})(?!\w)", rest, re.IGNORECASE)]
    return list(dict.fromkeys([first, *(a for a in more if a != "unknown")]))


def _ambiguous_aside(s: str, m: re.Match) -> bool:
    """An ambiguous acronym in parentheses mid-sentence ("Air Traffic Services (ATS) said") is an
    abbreviation, not a signature: a signature opens a dateline, ends the paragraph or has initials."""
    if not m.group().startswith("(") or agency_name(m.group("ag")) not in AMBIGUOUS:
        return False
    after = s[m.end():]
    return "/" not in m.group() and not re.match(r"\s*([-–—:]|$)", after)


def _is_word(s: str, m: re.Match) -> bool:
    a, b = m.start(), m.end()
    return (a == 0 or not s[a - 1].isalnum()) and (b == len(s) or not s[b].isalnum())
