"""Stage: prepare documents for matching. Clean, segment and identify the language of each
document (reusing cached results), and apply the too-short policy: a document with too little
story text is skipped with the reason, never silently dropped."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from .clean import CleanDocument, clean
from .langid import Languages, identify, load_profiles
from .load import Document, Skipped
from .results import ResultStore
from .segment import Segmented, segment
from .settings import ScanSettings


@dataclass(frozen=True)
class Prepared:
    """A document after cleaning, segmentation and language identification.

    Attributes:
        seg: the cleaned document (`seg.clean`: text blocks and excluded furniture), its story
            paragraphs and sentences, each a [start, end) span into `seg.doc.text`.
        langs: the document's language, each paragraph's, and the shares of its text.
    """

    seg: Segmented
    langs: Languages

    @property
    def doc(self) -> Document:
        return self.seg.doc

    @cached_property
    def sentence_texts(self) -> tuple[str, ...]:
        """The sentences' texts, cut once (every stage reads them; each pair reads both sides')."""
        t = self.doc.text
        return tuple(t[s.start:s.end] for s in self.seg.sentences)

    def __getstate__(self) -> dict:
        """Pickled without the cut sentences (Spark ships prepared documents; they are cut again)."""
        return {k: v for k, v in self.__dict__.items() if k != "sentence_texts"}

    @property
    def sentence_spans(self) -> tuple[tuple[int, int], ...]:
        return tuple((s.start, s.end) for s in self.seg.sentences)

    @property
    def story_chars(self) -> int:
        return sum(p.end - p.start for p in self.seg.paragraphs)


#: Documents per extra process below which segmentation (~1 ms a document) and language
#: identification (~0.25 ms) stay in this process: fewer do not pay for the fork.
SEGMENT_PER_WORKER = 64
IDENTIFY_PER_WORKER = 400


def segment_documents(documents: Iterable[Document], settings: ScanSettings = ScanSettings(),
                      store: ResultStore | None = None, workers: int | None = 1
                      ) -> tuple[list[Segmented], list[Skipped]]:
    """Clean and segment each document; too-short ones come back as `Skipped` with the reason.
    With `store`, the spans found for the same text before are reused; the others are computed
    by `workers` processes."""
    documents = list(documents)
    store = store or ResultStore(None)
    spans = store.memoise("segment", documents, lambda doc: (doc.text,), _segment_spans, workers,
                          min_per_worker=SEGMENT_PER_WORKER)
    segs, skipped = [], []
    for doc, (blocks, paragraphs, sentences) in zip(documents, spans, strict=True):
        seg = Segmented(CleanDocument(doc, blocks), paragraphs, sentences)
        story = sum(p.end - p.start for p in seg.paragraphs)
        if not seg.sentences or story < settings.min_story_chars:
            skipped.append(_too_short(doc, story, settings.min_story_chars))
            continue
        segs.append(seg)
    return segs, skipped


def _segment_spans(doc: Document) -> tuple:
    seg = segment(clean(doc))
    return seg.clean.blocks, seg.paragraphs, seg.sentences


def _too_short(doc: Document, story: int, needed: int) -> Skipped:
    total = len(doc.text.strip())
    furniture = f", {total - story} of them page furniture" if total > story else ""
    return Skipped(doc.path, f"too short to match: {total} characters of text{furniture}; "
                             f"at least {needed} of story text are needed")


def identify_documents(segs: list[Segmented], store: ResultStore | None = None, workers: int | None = 1
                       ) -> list[Prepared]:
    """Identify the language of each document and its paragraphs (reused from `store` for the same
    text, declared language and paragraphs), by `workers` processes."""
    store = store or ResultStore(None)
    langs = store.memoise("langid", segs,
                          lambda seg: (seg.doc.text, seg.doc.meta.get("language"),
                                       [(p.start, p.end) for p in seg.paragraphs]),
                          identify, workers, before=lambda todo: load_profiles() if workers != 1 else None,
                          min_per_worker=IDENTIFY_PER_WORKER)
    return [Prepared(seg, lang) for seg, lang in zip(segs, langs, strict=True)]


def prepare(documents: Iterable[Document], settings: ScanSettings = ScanSettings(),
            store: ResultStore | None = None, workers: int | None = 1) -> tuple[list[Prepared], list[Skipped]]:
    """Clean, segment and identify the language of each document; too-short ones are skipped."""
    segs, skipped = segment_documents(documents, settings, store, workers)
    return identify_documents(segs, store, workers), skipped
