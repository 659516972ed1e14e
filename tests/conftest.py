"""Shared fixtures: an isolated data home per test, and one ingested demo home per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

TEST_SECRET = "test-secret-key"


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """An empty XIANGZHI_HOME with a fixed pseudonymisation key."""
    h = tmp_path / "home"
    monkeypatch.setenv("XIANGZHI_HOME", str(h))
    monkeypatch.setenv("XIANGZHI_SECRET", TEST_SECRET)
    return h


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory) -> Path:
    """Small generated county, ingested and published, with demo users written (like `xiangzhi demo`).

    The environment points at it for the whole session after first use; tests needing an empty home
    use the `home` fixture, which overrides XIANGZHI_HOME per test.
    """
    h = tmp_path_factory.mktemp("demo") / "home"
    os.environ["XIANGZHI_HOME"] = str(h)
    os.environ["XIANGZHI_SECRET"] = TEST_SECRET
    from pipelines.demo import prepare

    prepare(quiet=True)
    return h
