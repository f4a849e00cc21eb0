"""Print the derivation evidence of every aligned document pair of a scan (for tuning and for
explaining a verdict). Usage: python scripts/explain_pairs.py PATH... [--model M]"""

import argparse

from provenance import scan
from provenance.classify import ClassifySettings, is_derived, mutual_best_across_languages


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--model", default=None)
    args = ap.parse_args()
    result = scan(args.paths, model=args.model)
    ids = [p.doc.id for p in result.prepared]
    st = ClassifySettings()
    mutual = mutual_best_across_languages(list(result.evidence))
    print(f"{'target':24} {'source':24} blocks aligned own   detail verbatim derived")
    for e in sorted(result.evidence, key=lambda e: (ids[e.target], ids[e.source])):
        print(f"{ids[e.target][:24]:24} {ids[e.source][:24]:24} {e.blocks:6d} {e.aligned_share:7.2f} "
              f"{e.own_aligned_share:5.2f} {e.detail_share:6.2f} {e.verbatim:8.2f} {is_derived(e, st, mutual)}")


if __name__ == "__main__":
    main()
