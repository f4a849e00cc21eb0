"""`ScanSettings`: every threshold and weight of a scan in one frozen value, written into the
report header (so a report says how it was made) and hashed into cached results' keys."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .align import AlignSettings
from .classify import ClassifySettings
from .errors import ConfigError, check_range
from .load import DEFAULT_MAX_BYTES
from .match import MatchSettings


@dataclass(frozen=True)
class ChannelWeights:
    """Weights of the evidence channels in alignment. When the model does not cover a pair's
    languages, the semantic weight is multiplied by `uncovered_semantic_factor`. `gloss` (English
    lemmas through bilingual dictionaries) weighs in between two languages only."""

    semantic: float = 0.6
    lexical: float = 0.3
    detail: float = 0.1
    gloss: float = 1.0
    uncovered_semantic_factor: float = 0.15

    def __post_init__(self):
        check_range(self, ("semantic", "lexical", "detail", "gloss", "uncovered_semantic_factor"), 0, 1,
                    "a channel weight")
        if self.semantic + self.lexical + self.detail <= 0:
            raise ConfigError("channel weights must not all be zero")


@dataclass(frozen=True)
class ScanSettings:
    """Settings of every stage. `min_story_chars`: documents with less story text than this
    (characters) are skipped as too short to match; `max_bytes`: input files larger than this
    are skipped; `max_semantic_sentences`: a document of more sentences (a book, not an article)
    gets sentence vectors for that many only, chosen by `semantic_budget` (0: no limit); its
    other channels read all of it."""

    match: MatchSettings = field(default_factory=MatchSettings)
    align: AlignSettings = field(default_factory=AlignSettings)
    classify: ClassifySettings = field(default_factory=ClassifySettings)
    weights: ChannelWeights = field(default_factory=ChannelWeights)
    min_story_chars: int = 120
    max_bytes: int = DEFAULT_MAX_BYTES
    max_semantic_sentences: int = 1000

    def __post_init__(self):
        check_range(self, ("min_story_chars", "max_semantic_sentences"), low=0)

    def as_dict(self) -> dict:
        return asdict(self)
