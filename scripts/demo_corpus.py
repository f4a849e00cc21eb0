"""Write a 20-document, multi-story corpus into a folder, to look at the report views with more
than one story: the five seed articles (Iraq, 2020), their French and Spanish versions, a German
dpa report and its French AFP edition (tests/fixtures), and five Russian news articles from WMT14
with their English translations (../shared/data/newstest2014, "WMT14 news test set (Bojar et al.,
2014)"), as JSON records with an outlet, title and language; when that data is missing, five
planted-edit copies of the seeds instead (benchmarks/planted.py).

Usage: python scripts/demo_corpus.py OUT_FOLDER
"""

from __future__ import annotations

import json
import random
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    for folder in ("benchmarks/corpora/iraq-2020/articles", "tests/fixtures/crosslingual", "tests/fixtures/newsroom"):
        for p in sorted((ROOT / folder).glob("*.txt")):
            shutil.copy(p, out / p.name)
    data = ROOT.parent / "shared" / "data" / "newstest2014"
    records = []
    if (data / "newstest2014-ruen-src.ru.sgm").is_file():
        from benchmarks.newstest import read_sgm

        ru, en = read_sgm(data / "newstest2014-ruen-src.ru.sgm"), read_sgm(data / "newstest2014-ruen-src.en.sgm")
        ids = sorted(d for d in ru if d in en and len(ru[d]) == len(en[d]) and 6 <= len(ru[d]) <= 20)
        for docid in random.Random(1).sample(ids, 5):
            outlet = docid.split("-", 1)[-1]
            for lang, segs in (("ru", ru[docid]), ("en", en[docid])):
                records.append({"id": f"{docid}-{lang}", "outlet": outlet, "title": segs[0], "language": lang,
                                "text": "\n\n".join(segs)})
    else:
        from benchmarks.planted import planted_copies

        records = [dict(r, outlet=f"Copy desk {k}") for k, (r, _, _) in enumerate(planted_copies(2, 0)[:5], 1)]
    with open(out / "feed.jsonl", "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    print(f"{len(list(out.glob('*.txt'))) + len(records)} documents written to {out}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[-1])
    sys.exit(main(Path(sys.argv[1])))
