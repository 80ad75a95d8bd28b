"""Shared fixtures and markers: `gpu` tests run only where CUDA is present."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"


def pytest_configure(config: pytest.Config) -> None:
    # The catalog index (archprobe/spec/index.py) of this run goes to a fresh folder, not the
    # user's ~/.cache, for this process and the CLI subprocesses it starts.
    os.environ["ARCHPROBE_CACHE_DIR"] = tempfile.mkdtemp(prefix="archprobe-test-cache-")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(os.environ.get("ARCHPROBE_CACHE_DIR", ""), ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:
        has_cuda = False
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords and not has_cuda:
            item.add_marker(skip)
