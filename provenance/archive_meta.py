"""What an archive's meta.json must hold (see `archive`): keys and types, unique ids, row ranges
that tile the vectors, sentence spans within their texts, well-formed language records. Checked
on every load, so an edited or truncated meta.json is refused instead of trusted."""

from __future__ import annotations


class Damaged(Exception):
    """A generation or CURRENT that cannot be used; `reason` says why (for the user)."""

    def __init__(self, reason: str, schema: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.schema = schema


def _is(value, *types) -> bool:
    """isinstance, except that a bool is not an int."""
    return isinstance(value, types) and not (isinstance(value, bool) and bool not in types)


def _require(obj: dict, here: str, fields: tuple[tuple[str, type], ...]) -> None:
    """Raise `Damaged` unless `obj` has each of `fields` (key, type)."""
    for key, kind in fields:
        if key not in obj:
            raise Damaged(f"{here} has no {key!r}")
        if not _is(obj[key], kind):
            raise Damaged(f"{here}: {key!r} is a {type(obj[key]).__name__}, expected {kind.__name__}")


def check_meta(meta: dict) -> None:
    """Structure of meta.json: keys and types, unique ids, row ranges that tile [0, rows) in
    document order with one row per sentence, sentence spans within their texts. Raises Damaged."""
    _require(meta, "meta.json", (("model", str), ("dimension", int), ("index_type", str), ("rows", int),
                                 ("documents", list), ("files", dict)))
    if not _is(meta.get("model_fingerprint"), str, type(None)):
        raise Damaged("meta.json: 'model_fingerprint' is not a string")
    if meta["dimension"] <= 0 or meta["rows"] < 0:
        raise Damaged(f"meta.json: dimension {meta['dimension']}, rows {meta['rows']}")
    for fname in ("vectors.npy", "index.faiss"):
        if not _is(meta["files"].get(fname), str):
            raise Damaged(f"meta.json has no checksum for {fname}")
    seen: set[str] = set()
    row = 0
    for k, d in enumerate(meta["documents"]):
        here = f"meta.json: document {k}"
        if not _is(d, dict):
            raise Damaged(f"{here} is not an object")
        _require(d, here, (("id", str), ("path", str), ("text", str), ("text_basis", str), ("sentences", list),
                           ("rows", list)))
        here = f"meta.json: document {d['id']!r}"
        for key, types in (("encoding", (str, type(None))), ("meta", (dict,)), ("languages", (dict, type(None))),
                           ("details", (list,))):
            if key in d and not _is(d[key], *types):
                raise Damaged(f"{here}: {key!r} is a {type(d[key]).__name__}")
        if not d["id"]:
            raise Damaged(f"meta.json: document {k} has an empty id")
        if d["id"] in seen:
            raise Damaged(f"{here} appears twice")
        seen.add(d["id"])
        if not all(_is(x, str) for x in d.get("details", ())):
            raise Damaged(f"{here}: 'details' holds a non-string")
        _check_languages(d.get("languages"), here)
        n = len(d["text"])
        for span in d["sentences"]:
            if not (_is(span, list) and len(span) == 2 and all(_is(x, int) for x in span)
                    and 0 <= span[0] <= span[1] <= n):
                raise Damaged(f"{here}: sentence span {span!r} is not within its text of {n} characters")
        if "encoded" in d and meta.get("schema_version") == 1:
            raise Damaged(f"{here}: 'encoded' in a version 1 archive (which tools before it read as one vector per "
                          "sentence)")
        vectors = _encoded_count(d.get("encoded"), len(d["sentences"]), here)
        if "limit" in d and not ("encoded" in d and _is(d["limit"], int) and d["limit"] > 0):
            raise Damaged(f"{here}: 'limit' {d['limit']!r} is not the positive sentence limit of an 'encoded' list")
        rows = d["rows"]
        if not (len(rows) == 2 and all(_is(x, int) for x in rows)):
            raise Damaged(f"{here}: rows {rows!r} is not a pair of integers")
        if rows != [row, row + vectors]:
            raise Damaged(f"{here}: rows {rows!r}, expected {[row, row + vectors]} (one row per sentence with a "
                          "vector, in document order)")
        row = rows[1]
    if row != meta["rows"]:
        raise Damaged(f"meta.json: the documents cover {row} rows, 'rows' says {meta['rows']}")


def _encoded_count(encoded, sentences: int, here: str) -> int:
    """How many vectors a document holds: one per sentence, or one per listed `encoded` sentence
    (ascending sentence numbers). Raises Damaged."""
    if encoded is None:
        return sentences
    if not (_is(encoded, list) and all(_is(x, int) for x in encoded)
            and all(0 <= x < sentences for x in encoded)
            and all(a < b for a, b in zip(encoded, encoded[1:], strict=False))):
        raise Damaged(f"{here}: 'encoded' is not a list of ascending sentence numbers below {sentences}")
    return len(encoded)


def _check_languages(langs, here: str) -> None:
    if langs is None:
        return
    ok = (_is(langs.get("document"), str) and _is(langs.get("paragraphs"), list)
          and all(_is(x, str) for x in langs["paragraphs"]) and _is(langs.get("shares"), list)
          and all(_is(s, list) and len(s) == 2 and _is(s[0], str) and _is(s[1], int, float) for s in langs["shares"])
          and _is(langs.get("declared"), str, type(None)))
    if not ok:
        raise Damaged(f"{here}: 'languages' is malformed")
