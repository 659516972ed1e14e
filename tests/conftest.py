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

    prepare()
    return h


# --- uploads (page 11): a generated county with its last month held back for the clerk to upload ---

@pytest.fixture(scope="session")
def upload_base(tmp_path_factory) -> dict:
    """Small generated county, ingested without its last month (2025-06): {'home', 'june', 'county',
    'townships'}. Tests copy `home` before changing it."""
    import shutil
    import subprocess
    import sys

    root = tmp_path_factory.mktemp("upload_base")
    gen, june, h = root / "gen", root / "june", root / "home"
    env = {**os.environ, "XIANGZHI_HOME": str(h), "XIANGZHI_SECRET": TEST_SECRET}
    cli = [sys.executable, "-m", "pipelines.cli"]
    subprocess.run([*cli, "generate", "--scale", "small", "--seed", "20250601", "--out", str(gen)],
                   check=True, env=env, capture_output=True)
    june.mkdir()
    for f in gen.glob("*2025年06月*"):
        shutil.move(str(f), june / f.name)
    subprocess.run([*cli, "ingest", "--quiet", str(gen)], check=True, env=env, capture_output=True)
    import duckdb

    con = duckdb.connect(str(h / "published" / "xiangzhi.duckdb"), read_only=True)
    county = con.execute("select min(county_code) from dim_county").fetchone()[0]
    towns = [r[0] for r in con.execute("select township_code from dim_township order by 1").fetchall()]
    con.close()
    return {"home": h, "june": june, "county": county, "townships": towns}
