"""Text hygiene at the door: what `load` does to every string a user gives before any stage sees it.

- Lone surrogates (a JSON `"\\ud800"`, a file name that is not UTF-8) cannot be written to a UTF-8
  report; each becomes U+FFFD, one code point for one, so offsets do not move.
- Unicode normalisation: an NFD copy of an NFC article is the same text, so every text is brought
  to NFC, and invisible characters that only break words (soft hyphen, zero-width space, word
  joiner, a stray BOM, a zero-width joiner between Latin letters) are removed. When that changes a
  file's text, the report carries the normalised text, and every span refers to it.
- Ids: control characters (a newline or NUL in a record's id) are written as escapes, so an id
  prints on one line and names the same document everywhere.
- Language codes: `English`, `en_US`, `eng`, `EN` and `anglais` all mean `en` (langcodes, which
  reads BCP 47 tags, ISO 639-1/2/3 codes and language names in many languages).
"""

from __future__ import annotations

import re
import unicodedata

_SURROGATE = re.compile("[\ud800-\udfff]")
#: Invisible characters that carry no text: soft hyphen, zero-width space, word joiner, BOM.
_INVISIBLE = re.compile("[\u00ad\u200b\u2060\ufeff]")
#: Zero-width (non-)joiners shape Indic and Arabic script; between Latin letters they only split words.
_LATIN_JOINER = re.compile(r"(?<=[A-Za-z\u00c0-\u024f])[\u200c\u200d]+(?=[A-Za-z\u00c0-\u024f])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def repair_surrogates(text: str) -> tuple[str, int]:
    """`text` with each lone surrogate replaced by U+FFFD, and how many there were."""
    return _SURROGATE.subn("\ufffd", text)


def normalize_text(text: str) -> str:
    """NFC, without the invisible characters that split words (see the module docstring)."""
    if text.isascii():
        return text
    text = _INVISIBLE.sub("", text)
    text = _LATIN_JOINER.sub("", text)
    return unicodedata.normalize("NFC", text)


def clean_label(value: str) -> str:
    """An id or path fit to print on one line and to write as UTF-8: surrogates repaired, control
    characters escaped (`\\n`, `\\x00`)."""
    value, _ = repair_surrogates(value)
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), value)


def language_code(value: str) -> str | None:
    """The ISO 639-1 (or, where there is none, 639-3) code for a language tag, code or name; None
    when `value` names no language (or says "undetermined")."""
    import langcodes

    value = value.strip()
    if not value:
        return None
    lang = None
    try:
        lang = langcodes.Language.get(value)
        if not lang.is_valid() or not lang.language:
            lang = None
    except (ValueError, LookupError):
        lang = None
    if lang is None:
        try:
            lang = langcodes.find(value)
        except (ValueError, LookupError):
            return None
    code = lang.language
    if not code or code in ("und", "mis", "mul", "zxx"):
        return None
    return code
