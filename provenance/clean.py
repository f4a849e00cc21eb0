"""Stage: clean. Split a document's text into paragraph blocks and mark page furniture.

Scraped articles carry furniture around the story: read-time lines, social and newsletter
prompts, "Read more" links, advertising labels, photo captions and credits, lists of unrelated
headlines, tag lists, "related articles" sections, repeated headlines. Such blocks are excluded
from matching but never dropped: each one keeps its span and a `reason` that the report lists.

The classifier is rule-based, in the spirit of jusText (short blocks without sentence punctuation
are suspect, runs of headline-like lines are lists) plus explicit patterns for the furniture of
news sites. Each rule is a named reason so that a report reader can judge it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .load import Document
from .newsroom import copyright_notice, credit_line, furniture_reason

# Roles of kept blocks.
TITLE, HEADING, BODY = "title", "heading", "body"


@dataclass(frozen=True)
class Block:
    """A paragraph of the original text: `text[start:end]`, stripped of surrounding whitespace.

    `excluded` is None for story text, else the reason it is left out of matching.
    """

    start: int
    end: int
    role: str
    excluded: str | None = None


@dataclass(frozen=True)
class CleanDocument:
    doc: Document
    blocks: tuple[Block, ...]

    @property
    def kept(self) -> tuple[Block, ...]:
        return tuple(b for b in self.blocks if b.excluded is None)

    @property
    def excluded(self) -> tuple[Block, ...]:
        return tuple(b for b in self.blocks if b.excluded is not None)


_I = re.IGNORECASE
# (reason, pattern) checked against a whole stripped block; order matters (first hit wins).
_LINE_RULES: list[tuple[str, re.Pattern]] = [
    ("separator", re.compile(r"^[\W_]{1,5}$")),
    ("read time", re.compile(r"^\d+\s*(min|mins|minutes?|minuti|minutos)\.?\s*"
                             r"(read|de lecture|lesezeit|de lectura|di lettura|de leitura)?$", _I)),
    ("advertising label", re.compile(
        r"^(publicity|advertisement|advertising|sponsored( content)?|ad|publicité|publicidad|anzeige|werbung)$", _I)),
    ("read-more link", re.compile(
        r"^(read more|read also|see also|also read|more on this|know more|related|lire aussi|à lire aussi"
        r"|lire la suite|leer más|lea también|mehr zum thema|weiterlesen)\b.{0,200}$", _I)),
    ("source link", re.compile(r"^(source link|source:?\s*\S{0,40}|original article)$", _I)),
    ("social prompt", re.compile(
        r"^(follow|share|like|join|suivez|partagez|síguenos|folgen sie)\b.{0,120}"
        r"(facebook|twitter|instagram|whatsapp|telegram|linkedin|youtube|tiktok|x\.com|social|stay connected)", _I)),
    ("social prompt", re.compile(r"^(share( this)?( article)?|tweet|e-?mail|print|copy link|comments?)$", _I)),
    ("newsletter prompt", re.compile(
        r"^(newsletter\b.{0,80}|i subscribe|subscribe\b.{0,60}|sign up\b.{0,80}|je m'abonne|s'abonner.{0,60})$", _I)),
    ("app prompt", re.compile(r"(download(ing)? the .{0,40}\bapp(lication)?\b|google-play|app store|badge_\w+$)", _I)),
    ("byline", re.compile(r"^(text by|by|par|por|von|written by|texte par)\s*:?\s*\S.{0,60}$", _I)),
    ("date line", re.compile(
        r"^(published|updated|posted|publié le|mis à jour)?\s*:?\s*"
        r"((jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2},?\s+\d{4}"
        r"|\d{1,2}\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{4}"
        r"|\d{4}-\d{2}-\d{2})([ ,]+\d{1,2}[:h]\d{2}.{0,12})?$", _I)),
]

_RELATED_HEADER = re.compile(
    r"^(on the same subject|related( articles| stories| news| content)?|more stories|you may also like|"
    r"recommended( for you)?|most read|most popular|trending( now)?|sur le même sujet|à lire également|"
    r"en relación|noticias relacionadas|mehr zum thema|das könnte sie auch interessieren)\s*:?$", _I)

# Photo captions and credits: an agency or photographer credit inside a short block.
_PHOTO_CREDIT_CI = re.compile(
    r"(\[(getty|afp|reuters|ap|epa|anadolu|shutterstock|supplied|file)[^\]]*\]"
    r"|\((getty|afp|reuters|ap|epa)( images)?\)$|\bgetty images\b|\bap photo\b"
    r"|^(photo|picture|image|credit|crédit photo|foto)\s*:)", re.IGNORECASE)
# Upper-case credits ("AHMAD AL-RUBAYE / AFP", "REUTERS/Name", "FILE PHOTO") are case-sensitive.
_PHOTO_CREDIT_CS = re.compile(
    r"(\b[A-Z][A-Z.\- ]+\s*/\s*(AFP|REUTERS|AP|EPA|ANADOLU|XINHUA)\b|\bREUTERS/\S|\bAFP PHOTO\b|\bFILE PHOTO\b)")

_TAG_ITEM = re.compile(r"^\s*[•·▪●◦\-*]\s*\S.{0,40}$")
_LIST_ITEM_END = re.compile(r"\s[-–—|»›]$")
_SENTENCE_END = re.compile(r"[.!?…:;\"”»'’)\]]$")
_WORD = re.compile(r"\w+", re.UNICODE)


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """Paragraph spans of `text`: each non-empty line is a paragraph, except that a line wrapped
    in the middle of a sentence (previous line without end punctuation, this one starting in lower
    case) joins the previous one. Spans are stripped of surrounding whitespace."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        raw_start, raw_end = pos, pos + len(line)
        pos = raw_end
        stripped = line.strip()
        if not stripped:
            continue
        start = raw_start + (len(line) - len(line.lstrip()))
        end = start + len(stripped)
        if spans:
            prev = text[spans[-1][0]:spans[-1][1]]
            contiguous = text[spans[-1][1]:start].count("\n") <= 1
            if contiguous and not _SENTENCE_END.search(prev) and stripped[0].islower() and len(prev) > 40:
                spans[-1] = (spans[-1][0], end)
                continue
        spans.append((start, end))
    return spans


def _words(s: str) -> list[str]:
    return _WORD.findall(s)


def _is_sentence_like(s: str) -> bool:
    return bool(_SENTENCE_END.search(s)) and len(_words(s)) >= 6


def _title_case_share(s: str) -> float:
    words = [w for w in _words(s) if w[0].isalpha()]
    if not words:
        return 0.0
    return sum(1 for w in words if w[0].isupper()) / len(words)


def photo_credit(s: str) -> bool:
    """True when a block is (or ends in) a photo caption or credit."""
    return bool(_PHOTO_CREDIT_CI.search(s) or _PHOTO_CREDIT_CS.search(s)) and len(_words(s)) <= 80


def classify_block(s: str) -> str | None:
    """The furniture reason for one block taken alone, or None if it may be story text.

    A block that is only an agency credit ("(dpa/jar)", "avec AFP") is "agency credit line", checked
    first so that it is not taken for a photo credit or a source link: `attribution` still reads it
    as a text credit. Then the English rules, then the other newsroom languages (`newsroom`).
    """
    if credit_line(s):
        return "agency credit line"
    for reason, pat in _LINE_RULES:
        if len(s) <= 240 and pat.search(s):
            return reason
    reason = furniture_reason(s)
    if reason:
        return reason
    if photo_credit(s):
        return "photo caption or credit"
    if copyright_notice(s):  # (after photo credits: "© Getty Images" credits a picture)
        return "copyright notice"
    if _TAG_ITEM.match(s) and len(_words(s)) <= 5:
        return "tag list"
    return None


def clean(doc: Document) -> CleanDocument:
    """Split `doc` into blocks and mark the furniture; see the module docstring."""
    text = doc.text
    spans = paragraph_spans(text)
    strs = [text[a:b] for a, b in spans]
    reasons: list[str | None] = [classify_block(s) for s in strs]
    _mark_repeated(strs, reasons)
    _mark_related_sections(strs, reasons)
    in_story = _story_lists(strs, reasons)
    _mark_headline_lists(strs, reasons, in_story)
    _mark_trailing(strs, reasons, in_story)

    blocks = []
    first_kept = True
    for (a, b), s, reason in zip(spans, strs, reasons, strict=True):
        if reason is None:
            if first_kept:
                role = TITLE
            elif not _SENTENCE_END.search(s) and len(_words(s)) <= 14:
                role = HEADING
            else:
                role = BODY
            first_kept = False
        else:
            role = BODY
        blocks.append(Block(a, b, role, reason))
    return CleanDocument(doc, tuple(blocks))


def _mark_repeated(strs: list[str], reasons: list[str | None]) -> None:
    """Repeated blocks (a headline printed twice): the later copies are furniture."""
    seen: dict[str, int] = {}
    for i, s in enumerate(strs):
        key = " ".join(_words(s.lower()))
        if not key:
            continue
        if key in seen and reasons[i] is None:
            reasons[i] = "repeated line"
        seen.setdefault(key, i)


def _mark_related_sections(strs: list[str], reasons: list[str | None]) -> None:
    """A "related articles" header starts a section of short link lines that runs to the end
    (or to the next sentence-like paragraph of real length)."""
    n = len(strs)
    i = 0
    while i < n:
        if _RELATED_HEADER.match(strs[i]):
            reasons[i] = "related-articles section"
            j = i + 1
            while j < n and not (_is_sentence_like(strs[j]) and len(_words(strs[j])) > 30):
                reasons[j] = reasons[j] or "related-articles section"
                j += 1
            i = j
        else:
            i += 1


_NUMBERED = re.compile(r"^\s*(\d{1,2})\s*[.)]\s+\S")
_CONTENT_WORD = re.compile(r"\w{4,}")


def _story_lists(strs: list[str], reasons: list[str | None]) -> set[int]:
    """Blocks of numbered lists that belong to the story ("1. London ...", "2. Paris ..."): a run
    numbered 1, 2, 3... without headline-list markers, that either continues into more story text
    or shares vocabulary with it. A list of other stories' headlines does neither."""
    out: set[int] = set()
    n, i = len(strs), 0
    while i < n:
        m = _NUMBERED.match(strs[i])
        if reasons[i] is not None or not m or m.group(1) != "1":
            i += 1
            continue
        j, expect = i, 1
        while j < n and reasons[j] is None and (mj := _NUMBERED.match(strs[j])) and int(mj.group(1)) == expect:
            j, expect = j + 1, expect + 1
        run = range(i, j)
        if len(run) >= 2 and not any(_LIST_ITEM_END.search(strs[k]) for k in run):
            rest = [strs[k] for k in range(n) if k not in run and reasons[k] is None and _is_sentence_like(strs[k])]
            vocab = {w.lower() for s in rest for w in _CONTENT_WORD.findall(s)}
            shared = sum(1 for k in run if {w.lower() for w in _CONTENT_WORD.findall(strs[k])} & vocab)
            follows = any(reasons[k] is None and _is_sentence_like(strs[k]) for k in range(j, n))
            if follows or shared * 2 >= len(run):
                out.update(run)
        i = max(j, i + 1)
    return out


def _mark_headline_lists(strs: list[str], reasons: list[str | None], in_story: set[int]) -> None:
    """Runs of list items ("Headline -") are lists of unrelated headlines, as are runs of 3+
    title-cased short lines without sentence punctuation (a numbered list of the story's own is not)."""
    n = len(strs)

    def headline_like(k: int) -> bool:
        s = strs[k]
        return k not in in_story and (bool(_LIST_ITEM_END.search(s)) or (
            _title_case_share(s) >= 0.6 and len(_words(s)) <= 25 and not _SENTENCE_END.search(s)))

    i = 0
    while i < n:
        if reasons[i] is None and headline_like(i) or (reasons[i] == "separator"):
            j = i
            while j < n and (headline_like(j) or reasons[j] == "separator"):
                j += 1
            items = sum(1 for k in range(i, j) if reasons[k] != "separator")
            marked = sum(1 for k in range(i, j) if _LIST_ITEM_END.search(strs[k]))
            if items >= 3 or (marked >= 2):
                for k in range(i, j):
                    if reasons[k] is None or reasons[k] == "separator":
                        reasons[k] = "list of other headlines"
            i = max(j, i + 1)
        else:
            i += 1


def _mark_trailing(strs: list[str], reasons: list[str | None], in_story: set[int]) -> None:
    """Short non-sentence lines after the last body paragraph are trailing page furniture."""
    n = len(strs)
    last_body = max((k for k in range(n) if reasons[k] is None and (_is_sentence_like(strs[k]) or k in in_story)),
                    default=-1)
    for k in range(last_body + 1, n):
        if reasons[k] is None and not _is_sentence_like(strs[k]) and len(_words(strs[k])) <= 12:
            reasons[k] = "trailing page furniture"
