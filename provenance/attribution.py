"""Stage: attribution. Which agency a document credits ("(AFP)", "told Reuters", a photo credit
told apart from a text credit), and traces in a text's own language that it was translated.
Each is found in one document's text alone (so it is cached with the document's features)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .clean import photo_credit


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
_SPACED_QUOTE = re.compile(r"[\"“«][\u00a0\u202f][ \u00a0\u202f]*\w|\w[ \u00a0\u202f]*[\u00a0\u202f][\"”»]")
# Page labels that read as word-for-word translations of French/Spanish/German labels.
_CALQUES = {
    "publicity": "Publicité (advertising)", "text by": "Texte par", "read also": "Lire aussi",
    "to read also": "À lire aussi", "on the same subject": "Sur le même sujet",
    "receive all": "Recevez toute", "publicidad": "Publicidad",
}
_CALQUE_RE = re.compile(r"^(" + "|".join(re.escape(k) for k in _CALQUES) + r")\b", re.IGNORECASE)


def translation_signals(p) -> list[Signal]:
    """Traces that a text was translated (typically machine-translated from French), found in its
    own language: spaced quotation marks, calqued page labels. Reported as signals only: one kind
    alone proves little, and none of them changes a relation."""
    text = p.doc.text
    out = []
    for m in _SPACED_QUOTE.finditer(text):
        out.append(Signal("spaced quotation marks (French typography)", m.start(), m.end()))
    for b in p.seg.clean.blocks:
        s = text[b.start:b.end]
        m = _CALQUE_RE.match(s)
        if m:
            out.append(Signal(f"calqued label ('{m.group(1)}' reads as {_CALQUES[m.group(1).lower()]})",
                              b.start, b.start + m.end()))
    return out


# --- agency credits ---------------------------------------------------------------------------

_AGENCIES = {
    "AFP": r"AFP|Agence France[- ]Presse", "Reuters": r"Reuters|REUTERS", "AP": r"AP|Associated Press",
    "DPA": r"dpa|DPA", "EFE": r"EFE", "ANSA": r"ANSA", "Xinhua": r"Xinhua", "Anadolu": r"Anadolu( Agency)?",
    "Bloomberg": r"Bloomberg", "UPI": r"UPI", "Kyodo": r"Kyodo", "TASS": r"TASS", "PA": r"PA Media",
}


def _ag(use: int) -> str:
    return "|".join(f"(?P<a{i}_{use}>{p})" for i, p in enumerate(_AGENCIES.values()))


_AG = _ag(0)
_TEXT_CREDIT = re.compile(
    rf"(\((?:{_ag(1)})\)"                                                     # (AFP) / BAGHDAD (AFP) -
    rf"|\b(?:told|according to|quoted by|reported by|cited by|said to|interviewed by|speaking to|"
    rf"a déclaré à|a dit à|selon|d'après|dijo a|según|sagte der|laut)\s+(?:the\s+|l'|la\s+|der\s+|la agencia\s+)?"
    rf"(?:{_ag(2)})\b"
    rf"|(?:^|\n)[^\n]{{0,40}}[-–—]\s*(?:{_ag(3)})\s*$"                          # trailing "- AFP"
    rf"|©\s*(?:{_ag(4)})\b"
    rf"|\b(?:with|additional reporting by|avec)\s+(?:{_ag(5)})\b"
    rf"|\b(?:{_ag(6)})\s+(?:reported|said|learned|contributed))", re.MULTILINE)


def _agency_of(m: re.Match) -> str:
    names = list(_AGENCIES)
    for key, val in m.groupdict().items():
        if val:
            return names[int(key[1:].split("_")[0])]
    return "unknown"


def find_credits(prepared) -> list[Credit]:
    """Agency credits of every document: text credits in story text, photo credits in captions."""
    return [Credit.at(di, c) for di, p in enumerate(prepared) for c in credit_spans(p)]


def credit_spans(p) -> list[CreditSpan]:
    """The agency credits of one document (a `prepare.Prepared`)."""
    out: list[CreditSpan] = []
    text = p.doc.text
    for blk in p.seg.clean.blocks:
        s = text[blk.start:blk.end]
        if blk.excluded == "photo caption or credit" or (blk.excluded and photo_credit(s)):
            for m in re.finditer(rf"(?:{_AG})", s):
                if _is_word(s, m):
                    out.append(CreditSpan(_agency_of(m), "photo", blk.start + m.start(), blk.start + m.end()))
            continue
        if blk.excluded:
            continue
        for m in _TEXT_CREDIT.finditer(s):
            if not any(m.groupdict().values()):
                continue
            out.append(CreditSpan(_agency_of(m), "text", blk.start + m.start(), blk.start + m.end()))
    return out


def _is_word(s: str, m: re.Match) -> bool:
    a, b = m.start(), m.end()
    return (a == 0 or not s[a - 1].isalnum()) and (b == len(s) or not s[b].isalnum())
