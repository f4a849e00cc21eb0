"""Stage: load. Find input files, decode them, turn each into one or more `Document`s.

Formats: `.txt` / `.md` (plain text), `.html` / `.htm` (main text extracted with trafilatura),
`.json` (one record, a list of records, an object holding such a list under `records`,
`articles` or `documents`, or one record per line as in Spark's part files) and `.jsonl` (one
record per line). A record needs `text` and may carry
`id`, `title`, `outlet`, `date`, `url`, `language`.

Every span in a report is a [start, end) offset into `Document.text`. For plain text that is the
decoded file text exactly as it is on disk (BOM removed, line endings kept); for a JSON record it
is the record's `text` value; for HTML it is trafilatura's extracted text, which the report then
carries in full (`text_basis` says which). Every text is brought to Unicode NFC without
word-splitting invisible characters (`normalize.normalize_text`); a file whose text that changes
has the basis "file-normalized", and the report carries the normalised text too.

Inputs that cannot be used become `Skipped(path, reason)` entries, never exceptions.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import stat
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from cachetools import LRUCache

from .errors import InputError
from .normalize import clean_label, language_code, normalize_text, repair_surrogates

TEXT_SUFFIXES = (".txt", ".md", ".text")
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
JSON_SUFFIXES = (".json",)
JSONL_SUFFIXES = (".jsonl", ".ndjson")
SUPPORTED_SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES + JSON_SUFFIXES + JSONL_SUFFIXES
# Documents people keep articles in that this tool cannot read: listed as skipped, with the fix.
UNSUPPORTED_DOCUMENTS = (".pdf", ".doc", ".docx", ".odt", ".rtf", ".eml", ".msg", ".mht", ".mhtml", ".epub",
                         ".pages", ".xls", ".xlsx", ".ppt", ".pptx")

#: Default size limit for one input file. News articles are a few KB; a 5 MB "article" is a dump.
DEFAULT_MAX_BYTES = 5_000_000

RECORD_LIST_KEYS = ("records", "articles", "documents")
META_FIELDS = ("title", "outlet", "date", "url", "language")

# Leading bytes of formats that are sometimes renamed .txt or .html by scrapers.
_MAGIC = {
    b"%PDF": "a PDF file",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"PK\x03\x04": "a ZIP archive (or Office document)",
    b"\x1f\x8b": "a gzip archive",
    b"RIFF": "a RIFF media file",
    b"\x7fELF": "an executable",
}


@dataclass(frozen=True)
class Document:
    """One article as loaded.

    Attributes:
        id: Unique id: the file name without extension, or the record's `id`. Made unique within a
            run by prefixing the parent folder when two inputs share a name.
        path: The input file (as given or found), with `#N` for the N-th record of a JSONL file.
        text: The text every span refers to (see module docstring).
        text_basis: "file" (decoded file text), "record" (a JSON record's `text`) or
            "html-extracted" (trafilatura's text of an HTML page).
        encoding: The encoding the bytes were decoded with (None for records parsed from JSON).
        meta: `title`, `outlet`, `date`, `url`, `language` (an ISO 639 code) where given; not to be
            changed in place (a process shares the documents of unchanged files between loads).
        notes: What loading repaired or could not read (bytes replaced, characters normalised, an
            unreadable language), each a sentence the scan warns with, prefixed by `path`.
    """

    id: str
    path: str
    text: str
    text_basis: str = "file"
    encoding: str | None = "utf-8"
    meta: dict = field(default_factory=dict, compare=False)
    notes: tuple[str, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Skipped:
    """An input that could not be used, with the reason a user can act on."""

    path: str
    reason: str


@dataclass(frozen=True)
class Loaded:
    """What `load_paths` found: the documents, the inputs it could not use, and a warning line for
    each repair it made (see `Document.notes`)."""

    documents: tuple[Document, ...]
    skipped: tuple[Skipped, ...]

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(f"{d.path}: {note}" for d in self.documents for note in d.notes)


#: Characters that make a path a glob pattern (`data/*.jsonl`), expanded by `expand_paths`.
GLOB_CHARS = "*?["


def expand_paths(paths: Iterable[str | os.PathLike]) -> list[str]:
    """`paths` with each glob pattern (`data/*.jsonl`) replaced by the files it matches, sorted."""
    out: list[str] = []
    for raw in paths:
        raw = str(raw)
        if any(c in raw for c in GLOB_CHARS) and not os.path.lexists(raw):
            hits = sorted(glob.glob(raw, recursive=True))
            if not hits:
                raise InputError(f"{raw}: the pattern matches no file")
            out.extend(hits)
        else:
            out.append(raw)
    return out


def iter_input_files(paths: Iterable[str | os.PathLike]) -> Iterator[tuple[str, Path | None, str | None]]:
    """Yield `(shown_path, path, problem)` for every candidate file under `paths`, sorted per folder.

    Folders are searched recursively for supported suffixes; symlink loops and unreadable folders
    are reported as problems, never followed forever. A file named explicitly is taken whatever its
    suffix (it is then read as plain text). The same file reached twice is yielded once, then as a
    problem.
    """
    seen: set[tuple[int, int]] = set()
    for raw in paths:
        p = Path(raw)
        shown = str(raw)
        if not os.path.lexists(p):
            yield shown, None, "no such file or folder"
            continue
        if p.is_symlink() and not p.exists():
            yield shown, None, _link_problem(p)
            continue
        if p.is_dir():
            yield from _walk(p, seen)
            continue
        yield from _one(p, shown, seen, explicit=True)


def _link_problem(p: Path) -> str:
    import errno

    try:
        os.stat(p)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symlink loop: the link points (through others) back to itself"
    return f"broken symbolic link: its target {os.readlink(p)} does not exist"


def _one(p: Path, shown: str, seen: set, explicit: bool) -> Iterator[tuple[str, Path | None, str | None]]:
    try:
        st = p.stat()
    except OSError as exc:
        yield shown, None, f"cannot be read: {exc.strerror or exc}"
        return
    if p.suffix.lower() in UNSUPPORTED_DOCUMENTS:  # said, not silently passed over
        yield shown, None, (f"unsupported file type {p.suffix.lower()}: save it as text (.txt), HTML or "
                            "JSON first")
        return
    if not explicit and p.suffix.lower() not in SUPPORTED_SUFFIXES:
        return
    if not stat.S_ISREG(st.st_mode):  # a FIFO or device would block or never end
        kind = "a named pipe" if stat.S_ISFIFO(st.st_mode) else "a device or socket"
        yield shown, None, f"not a regular file ({kind})"
        return
    key = (st.st_dev, st.st_ino)
    if key in seen:
        yield shown, None, "the same file was given twice; it is scanned once"
        return
    seen.add(key)
    yield shown, p, None


def _walk(root: Path, seen: set) -> Iterator[tuple[str, Path | None, str | None]]:
    visited_dirs: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        d = stack.pop()
        try:
            st = d.stat()
        except OSError as exc:
            yield str(d), None, f"cannot be read: {exc.strerror or exc}"
            continue
        key = (st.st_dev, st.st_ino)
        if key in visited_dirs:
            yield str(d), None, "symbolic link loop: this folder was already searched"
            continue
        visited_dirs.add(key)
        try:
            entries = sorted(os.scandir(d), key=lambda e: e.name)
        except OSError as exc:
            yield str(d), None, f"cannot be read: {exc.strerror or exc}"
            continue
        subdirs = []
        for e in entries:
            path = Path(e.path)
            if e.name.startswith("."):
                continue
            try:
                is_dir = e.is_dir()  # follows symlinks
            except OSError:
                is_dir = False
            if e.is_symlink() and not path.exists():
                if path.suffix.lower() in SUPPORTED_SUFFIXES or not path.suffix:
                    yield str(path), None, _link_problem(path)
                continue
            if is_dir:
                subdirs.append(path)
            else:
                yield from _one(path, str(path), seen, explicit=False)
        stack.extend(reversed(subdirs))


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode article bytes; return `(text, encoding)` or raise `ValueError` with the reason.

    Order: BOMs (UTF-8, UTF-16, UTF-32), strict UTF-8, UTF-8 with a few damaged bytes replaced
    (`_mostly_utf8`), then charset-normalizer's best guess (cp1252, Latin-1, UTF-16 without BOM,
    ...). Binary content (known magic numbers, NUL bytes or control characters throughout) is
    refused whatever the decoding.
    """
    text, enc, _ = _decode_checked(data)
    return text, enc


def _decode_checked(data: bytes) -> tuple[str, str, int]:
    text, enc, replaced = _decode(data)
    if "\x00" in text or _control_share(text) > 0.02:
        raise ValueError("binary content: control characters throughout, not an article")
    return text, enc, replaced


def _decode(data: bytes) -> tuple[str, str, int]:
    """`(text, encoding, invalid byte sequences replaced)`."""
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            raise ValueError(f"binary content: looks like {what}, not an article")
    if data.startswith(b"\xef\xbb\xbf"):
        return _strict(data[3:], "utf-8"), "utf-8-sig", 0
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return _strict(data, "utf-32"), "utf-32", 0
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _strict(data, "utf-16"), "utf-16", 0
    if b"\x00" not in data:
        try:
            return data.decode("utf-8"), "utf-8", 0
        except UnicodeDecodeError:
            pass
        text, bad = _mostly_utf8(data)
        if text is not None:
            return text, "utf-8", bad
    from charset_normalizer import from_bytes

    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        raise ValueError("undecodable: not text in any encoding charset-normalizer knows (binary file?)")
    text = str(best)
    enc = best.encoding
    # Short Western texts are ambiguous between Latin code pages; windows-1252 is by far the most
    # common legacy encoding of news pages (WHATWG even decodes "latin-1" as windows-1252).
    if enc in _LATIN_NEIGHBOURS and any(m.encoding == "cp1252" for m in matches):
        try:
            text, enc = data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            pass
    return text, enc, 0


def _mostly_utf8(data: bytes) -> tuple[str | None, int]:
    """UTF-8 with its few invalid sequences replaced by U+FFFD, when the file is UTF-8 with a few
    damaged bytes rather than another encoding: it must hold valid multi-byte sequences, and at
    least as many of them as invalid ones (a cp1252 file has no valid ones at all). Otherwise
    `(None, 0)`, and the caller guesses the encoding."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - data.count("\ufffd".encode())
    valid = sum(1 for ch in text if ord(ch) > 0x7F and ch != "\ufffd")
    if valid == 0 or bad > valid:
        return None, 0
    return text, bad


_LATIN_NEIGHBOURS = {"cp1250", "cp1257", "iso8859_2", "iso8859_4", "iso8859_10", "iso8859_13", "iso8859_15",
                     "latin_1", "mac_latin2", "cp775", "cp850", "cp437", "mac_roman"}


def _strict(data: bytes, enc: str) -> str:
    try:
        return data.decode(enc)
    except UnicodeDecodeError as exc:
        raise ValueError(f"undecodable: invalid {enc} at byte {exc.start}") from None


def _control_share(text: str) -> float:
    if not text:
        return 0.0
    return len(_CONTROL.findall(text)) / len(text)


_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")  # C0 controls other than \t \n \v \f \r


def load_paths(paths: Iterable[str | os.PathLike], max_bytes: int = DEFAULT_MAX_BYTES) -> Loaded:
    """Load every article under `paths`. Never raises for a single bad input.

    Raises:
        InputError: if `paths` is empty.
    """
    paths = list(paths)
    if not paths:
        raise InputError("no input paths given: pass one or more files or folders")
    if max_bytes <= 0:
        raise InputError(f"max_bytes must be positive, got {max_bytes}")
    docs: list[Document] = []
    skipped: list[Skipped] = []
    for shown, path, problem in iter_input_files(paths):
        shown = clean_label(shown)  # a file name that is not UTF-8 still prints and writes
        if problem is not None:
            skipped.append(Skipped(shown, problem))
            continue
        assert path is not None
        got, skips = load_file(path, shown, max_bytes=max_bytes)
        docs.extend(got)
        skipped.extend(skips)
    return Loaded(tuple(_unique_ids(docs)), tuple(skipped))


#: What files read before in this process gave, by their name and a digest of their bytes, up to
#: this many bytes of files: a process that scans a folder again (a notebook, `scan --watch`)
#: reads every file again but decodes, parses and normalises (or extracts from HTML) only the
#: changed ones (117 JSON articles: ~17 -> ~6 ms of each re-scan). The same `Document` objects come
#: back (later stages key documents by them): their `meta` must not be changed in place.
LOADED_BYTES = 64 << 20
_LOADED: LRUCache = LRUCache(LOADED_BYTES, getsizeof=lambda entry: entry[0])
_LOADED_LOCK = threading.Lock()


def load_file(path: Path, shown: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
              ) -> tuple[list[Document], list[Skipped]]:
    """Load one file into documents; problems come back as `Skipped` entries."""
    shown = shown or str(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return [], [Skipped(shown, f"too large for an article: {size:,} bytes > limit {max_bytes:,} "
                                       "(raise it with --max-bytes)")]
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
        if len(data) > max_bytes:
            return [], [Skipped(shown, f"too large for an article: more than {max_bytes:,} bytes "
                                       "(raise it with --max-bytes)")]
    except OSError as exc:
        return [], [Skipped(shown, f"cannot be read: {exc.strerror or exc}")]
    if len(data) > _LOADED.maxsize:  # (`--max-bytes` may allow more than the memory kept)
        return _parsed(data, path, shown)
    key = (shown, str(path), hashlib.blake2b(data, digest_size=16).digest())
    with _LOADED_LOCK:
        hit = _LOADED.get(key)
    if hit is not None:
        return list(hit[1]), list(hit[2])
    docs, skipped = _parsed(data, path, shown)
    with _LOADED_LOCK:
        _LOADED[key] = (len(data), tuple(docs), tuple(skipped))
    return docs, skipped


def _parsed(data: bytes, path: Path, shown: str) -> tuple[list[Document], list[Skipped]]:
    """`load_file`'s documents of a file's bytes."""
    if not data.strip():
        return [], [Skipped(shown, "empty file")]
    try:
        text, enc, replaced = _decode_checked(data)
    except ValueError as exc:
        return [], [Skipped(shown, str(exc))]
    if not text.strip():
        return [], [Skipped(shown, "empty file (only whitespace)")]
    suffix = path.suffix.lower()
    stem = clean_label(path.stem)
    if suffix in JSONL_SUFFIXES:
        docs, skipped = _load_jsonl(text, shown, stem)
    elif suffix in JSON_SUFFIXES:
        docs, skipped = _load_json(text, shown, stem)
    elif suffix in HTML_SUFFIXES or (suffix not in TEXT_SUFFIXES and _looks_like_html(text)):
        docs, skipped = _load_html(text, shown, stem, enc)
    else:
        docs, skipped = [_normalised(Document(id=stem, path=shown, text=text, text_basis="file", encoding=enc))], []
    if replaced:
        note = (f"{replaced} invalid UTF-8 byte sequence(s) replaced with U+FFFD; the rest of the file is "
                "UTF-8 (fix the file, or re-save it as UTF-8, if those characters matter)")
        docs = [replace(d, notes=(note, *d.notes)) for d in docs]
    return docs, skipped


def _normalised(doc: Document) -> Document:
    """`doc` with its text normalised (`normalize.normalize_text`); a file's text that changes is
    then no longer the file's text, so its basis says so and the report carries it."""
    text = normalize_text(doc.text)
    if text == doc.text:
        return doc
    basis = "file-normalized" if doc.text_basis == "file" else doc.text_basis
    note = (f"text normalised to Unicode NFC without invisible characters ({len(doc.text) - len(text):+d} "
            "characters); spans refer to the normalised text the report carries")
    return replace(doc, text=text, text_basis=basis, notes=(*doc.notes, note))


def _looks_like_html(text: str) -> bool:
    head = text.lstrip()[:200].lower()
    return head.startswith("<!doctype html") or head.startswith("<html")


def _load_html(html: str, shown: str, stem: str, enc: str) -> tuple[list[Document], list[Skipped]]:
    import trafilatura

    extracted = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False,
                                            include_tables=False)
    body = (extracted.text if extracted is not None else None) or ""
    if not body.strip():
        return [], [Skipped(shown, "HTML page with no main text that trafilatura could extract")]
    title = (extracted.title or "").strip()
    text = body if not title or body.startswith(title) else f"{title}\n\n{body}"
    meta = {k: v for k in ("title", "date", "url") if (v := getattr(extracted, k, None))}
    if getattr(extracted, "sitename", None):
        meta["outlet"] = extracted.sitename
    return [_normalised(Document(id=stem, path=shown, text=text, text_basis="html-extracted", encoding=enc,
                                 meta=meta))], []


def _record_to_doc(rec: object, shown: str, default_id: str) -> Document | Skipped:
    if not isinstance(rec, dict):
        return Skipped(shown, f"JSON record is a {type(rec).__name__}, expected an object with a 'text' field")
    text = rec.get("text")
    if not isinstance(text, str) or not text.strip():
        return Skipped(shown, "JSON record has no 'text' (or it is empty)")
    notes = []
    text, bad = repair_surrogates(text)
    if bad:
        notes.append(f"{bad} lone surrogate(s) (\\ud800-\\udfff escapes) in 'text' replaced with U+FFFD")
    rid = rec.get("id")
    if isinstance(rid, bool) or not isinstance(rid, str | int | float | type(None)):
        notes.append(f"'id' is a JSON {type(rid).__name__}, not a string or number: the id {default_id} is used")
        rid = None
    elif isinstance(rid, float) and rid.is_integer():
        rid = int(rid)
    rid = clean_label(str(rid)) if rid not in (None, "") else default_id
    meta = {k: clean_label(str(rec[k])) for k in META_FIELDS if rec.get(k) not in (None, "")}
    if "language" in meta:
        code = language_code(meta["language"])
        if code is None:
            notes.append(f"'language' {meta['language']!r} is not a language code or name: the language is "
                         "identified from the text (use an ISO 639 code such as 'en')")
            del meta["language"]
        else:
            meta["language"] = code
    return _normalised(Document(id=rid, path=shown, text=text, text_basis="record", encoding=None, meta=meta,
                                notes=tuple(notes)))


def _load_json(text: str, shown: str, stem: str) -> tuple[list[Document], list[Skipped]]:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":  # JSON lines in a .json file, as Spark's `write.json` part files hold
            return _load_jsonl(text, shown, stem)
        return [], [Skipped(shown, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")]
    if isinstance(obj, dict):
        for key in RECORD_LIST_KEYS:
            if isinstance(obj.get(key), list):
                obj = obj[key]
                break
    if isinstance(obj, dict):
        got = _record_to_doc(obj, shown, stem)
        return ([got], []) if isinstance(got, Document) else ([], [got])
    if not isinstance(obj, list):
        return [], [Skipped(shown, f"JSON holds a {type(obj).__name__}, expected a record or a list of records")]
    if not obj:
        return [], [Skipped(shown, "JSON holds an empty list: no records")]
    docs, skipped = [], []
    for i, rec in enumerate(obj):
        got = _record_to_doc(rec, f"{shown}#{i}", f"{stem}#{i}")
        (docs if isinstance(got, Document) else skipped).append(got)
    return docs, skipped


def _load_jsonl(text: str, shown: str, stem: str) -> tuple[list[Document], list[Skipped]]:
    docs, skipped = [], []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{shown}#{lineno}"
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            skipped.append(Skipped(where, f"malformed JSON on line {lineno}: {exc.msg}"))
            continue
        got = _record_to_doc(rec, where, f"{stem}#{lineno}")
        (docs if isinstance(got, Document) else skipped).append(got)
    if not docs and not skipped:
        skipped.append(Skipped(shown, "empty JSONL file"))
    return docs, skipped


def _unique_ids(docs: list[Document]) -> list[Document]:
    """Make ids unique: a clash is resolved with the parent folder name, then a counter."""
    from collections import Counter

    counts = Counter(d.id for d in docs)
    out: list[Document] = []
    used: set[str] = set()
    for d in docs:
        new_id = d.id
        if counts[d.id] > 1 and d.text_basis != "record":
            parent = Path(d.path.split("#")[0]).parent.name
            if parent:
                new_id = f"{parent}/{d.id}"
        base, n = new_id, 2
        while new_id in used:
            new_id = f"{base}~{n}"
            n += 1
        used.add(new_id)
        out.append(d if new_id == d.id else replace(d, id=new_id))
    return out
