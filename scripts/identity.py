"""Identity harness: run the CLI over fixed corpora in every mode and keep the outputs, so a change
that should not alter behaviour (a refactor) can be checked byte for byte.

    python scripts/identity.py run OUT_DIR          # writes OUT_DIR/<case>.report.json and .html
    python scripts/identity.py compare DIR_A DIR_B  # exit 1 and name every file that differs

Cases: the seed corpus, the cross-lingual fixtures, a planted-edit corpus and the messy corpus,
each scanned cold (empty cache), warm (same cache again) with one worker and cold with four;
then an archive scan (seeds 000/002/003 archived, 001/004 scanned against them). The default
model is used through the installed `provenance` command, as a user runs it.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "benchmarks" / "corpora" / "iraq-2020" / "articles"


def _cli() -> list[str]:
    return [sys.executable, "-m", "provenance.cli"]


def _corpora(work: Path) -> dict[str, Path]:
    sys.path.insert(0, str(ROOT))
    from benchmarks.planted import build_corpus
    from tests.make_messy_corpus import build as build_messy

    planted = work / "planted"
    planted.mkdir()
    build_corpus(planted, 2, 0)
    messy = work / "messy"
    messy.mkdir()
    build_messy(messy)
    # relative to the checkout, so two checkouts in other folders give identical reports
    return {"seeds": SEEDS.relative_to(ROOT), "crosslingual": Path("tests/fixtures/crosslingual"),
            "planted": planted, "messy": messy}


def _scan(out: Path, case: str, paths: list[str], cache: Path, *extra: str) -> None:
    cmd = [*_cli(), "scan", *paths, "-q", "-o", str(out / f"{case}.report.json"),
           "--html", str(out / f"{case}.html"), "--cache-dir", str(cache), *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    (out / f"{case}.stderr").write_text(proc.stderr, "utf-8")
    if proc.returncode != 0:
        raise SystemExit(f"{case}: exit {proc.returncode}: {proc.stderr.strip()[-400:]}")
    print(f"{case}: ok", flush=True)


def run(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.gettempdir()) / "provenance-identity-work"  # fixed: paths appear in reports
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        for name, folder in _corpora(work).items():
            cache = work / f"cache-{name}"
            _scan(out, f"{name}.cold-w1", [str(folder)], cache, "--workers", "1")
            _scan(out, f"{name}.warm-w1", [str(folder)], cache, "--workers", "1")
            _scan(out, f"{name}.cold-w4", [str(folder)], work / f"cache4-{name}", "--workers", "4")
        archive, new = work / "archive", work / "new"
        archive.mkdir()
        new.mkdir()
        for f in sorted(SEEDS.glob("*.txt")):
            shutil.copy(f, (archive if f.name[:3] in ("000", "002", "003") else new) / f.name)
        index_dir = work / "indexes"
        subprocess.run([*_cli(), "index", "add", "wire", str(archive), "--index-dir", str(index_dir),
                        "--cache-dir", str(work / "cache-archive")], check=True, capture_output=True, cwd=ROOT)
        _scan(out, "archive", [str(new)], work / "cache-archive", "--index", "wire", "--index-dir", str(index_dir))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def compare(a: Path, b: Path) -> int:
    names = sorted({p.name for p in a.iterdir() if not p.name.endswith(".stderr")}
                   | {p.name for p in b.iterdir() if not p.name.endswith(".stderr")})
    differ = [n for n in names if not (a / n).is_file() or not (b / n).is_file()
              or not filecmp.cmp(a / n, b / n, shallow=False)]
    for n in differ:
        print(f"differs: {n}")
    print(f"{len(names) - len(differ)} of {len(names)} files identical")
    return 1 if differ else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="scan every case and write the outputs to OUT")
    r.add_argument("out", type=Path)
    c = sub.add_parser("compare", help="compare two runs byte for byte")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = ap.parse_args(argv)
    if args.cmd == "run":
        run(args.out)
        return 0
    return compare(args.a, args.b)


if __name__ == "__main__":
    sys.exit(main())
