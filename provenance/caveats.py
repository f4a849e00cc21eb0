"""The caveats a scan's report carries as warnings: languages the model does not cover (and the
bilingual dictionaries missing for them), pairs too long to align in full, documents over the
semantic budget. Each names the documents or languages concerned and what to do about it."""

from __future__ import annotations

from .glossary import missing_dictionaries, missing_dictionary_warning
from .preparation import Prepared
from .semantic_budget import budget_warning
from .settings import ScanSettings


def anchor_warnings(prepared: list[Prepared], anchors: dict) -> tuple[str, ...]:
    """One line per pair aligned around its anchors only (`pairs.long_pair_anchors`)."""
    return tuple(f"{prepared[a].doc.id} and {prepared[b].doc.id} are too long to align in full "
                 f"({len(prepared[a].seg.sentences)} x {len(prepared[b].seg.sentences)} sentences): aligned "
                 f"around the {len(found)} sentence pairs retrieval found between them"
                 for (a, b), found in sorted(anchors.items()))


def budget_warnings(prepared: list[Prepared], masks: list, settings: ScanSettings) -> tuple[str, ...]:
    """One line per document with only some of its sentences encoded (`semantic_budget`)."""
    return tuple(budget_warning(p.doc.path, len(m), int(m.sum()), settings.max_semantic_sentences)
                 for p, m in zip(prepared, masks, strict=True) if m is not None)


def coverage_warnings(prepared: list[Prepared], covered: list[bool], model_id: str) -> tuple[str, ...]:
    """The languages the model does not cover, and the dictionaries missing for them."""
    uncovered = sorted({p.langs.document for p, c in zip(prepared, covered, strict=True) if not c})
    if not uncovered:
        return ()
    out = [f"model {model_id} does not cover {', '.join(uncovered)}: matching across those languages relies on "
           "names, numbers, character n-grams and bilingual dictionaries; pass --model with a multilingual model "
           "(e.g. paraphrase-multilingual-MiniLM-L12-v2 saved locally) for full semantic matching"]
    undictionaried = missing_dictionaries(set(uncovered) - {"en"})
    if undictionaried and len({p.langs.document for p in prepared}) > 1:
        out.append(missing_dictionary_warning(undictionaried))
    return tuple(out)
