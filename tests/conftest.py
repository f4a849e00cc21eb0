"""Shared fixtures: a fake embedder that needs no model, and the real default model (loaded once)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "benchmarks" / "corpora" / "iraq-2020" / "articles"
GOLD = ROOT / "benchmarks" / "corpora" / "iraq-2020" / "gold.json"


class FakeEmbedder:
    """Bag-of-words vectors hashed into `dimension` buckets: identical sentences get cosine 1,
    sentences sharing no word get 0. Deterministic and model-free."""

    model_id = "fake/bag-of-words"
    languages = None

    def __init__(self, dimension: int = 256):
        self.dimension = dimension
        self.calls = 0
        self.encoded = 0

    def encode(self, texts):
        self.calls += 1
        self.encoded += len(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in re.findall(r"\w+", t.lower()):
                h = int(hashlib.md5(w.encode()).hexdigest()[:8], 16)
                out[i, h % self.dimension] += 1.0
        n = np.linalg.norm(out, axis=1, keepdims=True)
        return np.divide(out, n, out=np.zeros_like(out), where=n > 0)


@pytest.fixture
def fake_embedder():
    return FakeEmbedder()


@pytest.fixture(scope="session")
def default_model():
    from provenance.embed import load_model

    return load_model()


@pytest.fixture(scope="session")
def gold():
    return json.loads(GOLD.read_text("utf-8"))


@pytest.fixture(scope="session")
def seed_result(default_model):
    from provenance import scan

    return scan([str(SEEDS)], embedder=default_model)


@pytest.fixture(scope="session")
def seed_report(seed_result):
    from provenance import build_report, validate_report

    report = build_report(seed_result)
    validate_report(report)
    return report


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Tests never touch the user's embedding cache."""
    import os

    os.environ["PROVENANCE_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven through Debian's chromedriver (never a downloaded one)."""
    import shutil

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    assert shutil.which("chromedriver"), "Debian's chromium-driver is missing: run scripts/setup.sh"
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,900"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    yield driver
    driver.quit()
