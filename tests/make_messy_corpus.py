"""Build a folder of messy inputs next to copies of seed 004 in several encodings and formats.

Usage: python tests/make_messy_corpus.py FOLDER
Prints, for each input that must be skipped, the file name and the reason expected. The test
tests/test_robustness.py builds it in a temporary folder and scans it.
"""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

SEEDS = Path(__file__).resolve().parent.parent / "benchmarks" / "corpora" / "iraq-2020" / "articles"
WIRE = "000_dd2761f3083befb7"
COPY = "004_26451090c78396de"


def build(folder: Path) -> dict:
    """Write the corpus; return {"copies": [ids of decodable copies of 004], "bad": {name: reason
    substring}, "extra_args": [paths to pass twice]}."""
    folder.mkdir(parents=True, exist_ok=True)
    wire = (SEEDS / f"{WIRE}.txt").read_text("utf-8")
    copy = (SEEDS / f"{COPY}.txt").read_text("utf-8")
    (folder / f"{WIRE}.txt").write_text(wire, "utf-8")
    rng = random.Random(0)
    bad: dict[str, str] = {}

    # --- decodable copies of 004 that must all be linked as copies of 000 --------------------
    (folder / "004 utf16.txt").write_bytes(copy.encode("utf-16"))
    (folder / "004 copie éditée.txt").write_bytes(copy.encode("cp1252"))
    (folder / "004-bom-crlf.txt").write_bytes(b"\xef\xbb\xbf" + copy.replace("\n", "\r\n").encode("utf-8"))
    paras = "".join(f"<p>{line}</p>\n" for line in copy.splitlines() if line.strip())
    (folder / "004-page.html").write_text(
        "<!DOCTYPE html><html><head><title>Arab News</title><style>p{color:red}</style>"
        "<script>window.track = function(){ return 'Kelly Clarkson'; };</script></head><body>"
        "<nav><a href='/'>Home</a> | <a href='/world'>World</a> | <a href='/sport'>Sport</a></nav>"
        f"<article><h1>US to reduce troops in Iraq</h1>{paras}</article>"
        "<footer>© Arab News. All rights reserved. Privacy policy. Cookie settings.</footer></body></html>",
        "utf-8")
    with open(folder / "feed.jsonl", "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "004-feed", "text": copy, "outlet": "Arab News"}) + "\n")
        fh.write('{"id": "broken", "text": "unterminated\n')
        fh.write(json.dumps({"id": "no-text", "title": "headline only"}) + "\n")
        fh.write(json.dumps(["not", "an", "object"]) + "\n")
    bad["feed.jsonl#2"] = "malformed JSON on line 2"
    bad["feed.jsonl#3"] = "has no 'text'"
    bad["feed.jsonl#4"] = "expected an object"
    copies = ["004 utf16", "004 copie éditée", "004-bom-crlf", "004-page", "004-feed"]

    # --- inputs that cannot be used --------------------------------------------------------------
    def put(name: str, data: bytes, reason: str) -> None:
        (folder / name).write_bytes(data)
        bad[name] = reason

    put("empty.txt", b"", "empty file")
    put("whitespace.txt", b"  \n\t\r\n   \n", "empty file")
    put("image.txt", b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(256) for _ in range(2000)), "PNG image")
    put("scan.txt", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + bytes(rng.randrange(256) for _ in range(3000)), "PDF")
    put("photo.md", b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(rng.randrange(256) for _ in range(2000)), "JPEG")
    put("archive.txt", b"PK\x03\x04" + bytes(rng.randrange(256) for _ in range(500)), "ZIP")
    put("noise.txt", bytes(rng.randrange(256) for _ in range(4000)), "binary content|undecodable")
    put("control.txt", ("\x01\x02\x03 article \x04\x05\x06\x07 " * 200).encode("utf-8"), "binary content")
    put("nul-utf8.txt", ("text " * 50).encode() + b"\x00\x00\x00" + ("more " * 50).encode(), "binary content")
    put("too-short.txt", b"Short note.", "too short to match")
    put("heading-only.md", b"# Iraq\n", "too short to match")
    put("dots.txt", b".....\n-----\n", "too short to match")
    put("nav-only.html", b"<html><body><nav><a href='/'>Home</a></nav><script>var a=1;</script></body></html>",
        "no main text|too short to match")
    put("invalid.json", b'{"id": "x", "text": "unterminated', "invalid JSON")
    put("scalar.json", b"42", "expected a record")
    put("record-no-text.json", json.dumps({"id": "r", "title": "t"}).encode(), "has no 'text'")
    put("empty-text.json", json.dumps({"id": "e", "text": "   "}).encode(), "has no 'text'")
    put("records.json", json.dumps({"records": [{"id": "ok-but-short", "text": "Too short."}, 7]}).encode(),
        "expected an object")
    bad["records.json#0"] = "too short to match"
    bad["records.json#1"] = bad.pop("records.json")
    put("empty.jsonl", b"\n\n", "empty")
    put("huge.txt", b"The same sentence again and again. " * 180_000, "too large for an article")
    os.symlink(folder / "missing-target.txt", folder / "dangling.txt")
    bad["dangling.txt"] = "broken symbolic link: its target"
    os.symlink(folder / "loop-b.txt", folder / "loop-a.txt")
    os.symlink(folder / "loop-a.txt", folder / "loop-b.txt")
    bad["loop-a.txt"] = "symlink loop"
    bad["loop-b.txt"] = "symlink loop"
    (folder / "sub").mkdir()
    os.symlink(folder, folder / "sub" / "back-to-top")
    bad["back-to-top"] = "symbolic link loop"
    os.mkfifo(folder / "pipe.txt")
    bad["pipe.txt"] = "not a regular file"
    return {"copies": copies, "bad": bad, "wire": WIRE, "twice": str(folder / f"{WIRE}.txt")}


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "messy-corpus")
    info = build(target)
    print(f"built {target}: {len(info['copies'])} decodable copies of {COPY}, {len(info['bad'])} bad inputs")
    for name, reason in sorted(info["bad"].items()):
        print(f"  {name}: {reason}")
