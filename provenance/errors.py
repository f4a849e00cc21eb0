"""Exceptions. The CLI prints any `ProvenanceError` as one line (`Error: ...`) and exits 1.

Per-document problems (empty, undecodable, too short, ...) are not exceptions: they become a
`Skipped` record and a warning, and the run goes on.
"""


class ProvenanceError(Exception):
    """Base class: a problem that stops the whole run, with a message that says what to fix."""


class InputError(ProvenanceError):
    """The inputs as a whole cannot be used (no path exists, nothing usable was found)."""


class ModelError(ProvenanceError):
    """The embedding model cannot be loaded or does not fit (offline, wrong dimension)."""


class ArchiveError(ProvenanceError):
    """A persisted index is missing, corrupted, locked or built with another model."""


class ConfigError(ProvenanceError, ValueError):
    """A setting is out of range."""


def check_range(owner: object, names: tuple[str, ...] | list[str], low: float | None = None,
                high: float | None = None, what: str = "") -> None:
    """Raise `ConfigError` unless each attribute `names` of `owner` lies in [low, high] (either bound
    may be None). `what` describes the values ("a cosine"), for the message."""
    for name in names:
        v = getattr(owner, name)
        if (low is not None and v < low) or (high is not None and v > high):
            bounds = (f"in [{low}, {high}]" if low is not None and high is not None
                      else f">= {low}" if low is not None else f"<= {high}")
            raise ConfigError(f"{name} must be {what + ' ' if what else ''}{bounds}, got {v}")


class EncodingStopped(Exception):
    """An encoding was told to stop (`embed.encode_texts`' `stop`: the scan that asked for the
    vectors failed meanwhile, or was interrupted). Not a `ProvenanceError`: the scan re-raises
    what stopped it."""
