"""The generator's manifest against a real ingest of its small county (issue #4)."""

from __future__ import annotations

import json
from collections import Counter

import duckdb
import pytest

from pipelines.sources import REASON_CODES


@pytest.fixture(scope="module")
def published(demo_home):
    con = duckdb.connect(str(demo_home / "published" / "xiangzhi.duckdb"), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def manifest(demo_home):
    return json.loads((demo_home / "inbox" / "manifest.json").read_text(encoding="utf-8"))


def test_every_injected_bad_row_is_quarantined_with_its_reason(published, manifest):
    got = {(f, s, r): c for f, s, r, c in published.execute(
        "select file_name, sheet, row_number, reason_code from quarantine").fetchall()}
    wrong = [(b["file"], b["sheet"], b["row_number"], b["reason_code"], got.get((b["file"], b["sheet"], b["row_number"])))
             for b in manifest["bad_rows"] if got.get((b["file"], b["sheet"], b["row_number"])) != b["reason_code"]]
    assert not wrong, wrong[:10]
    assert {b["reason_code"] for b in manifest["bad_rows"]} == set(REASON_CODES)


def test_nothing_quarantined_that_was_not_injected(published, manifest):
    injected = {(b["file"], b["sheet"], b["row_number"]) for b in manifest["bad_rows"]}
    extra = [r for r in published.execute(
        "select file_name, sheet, row_number, reason_code, reason_detail from quarantine").fetchall()
        if tuple(r[:3]) not in injected]
    assert not extra, extra[:10]


def test_per_file_accounting_matches_manifest(published, manifest):
    rows = {r[0]: r[1:] for r in published.execute("""
        select file_name, rows_read, rows_loaded, rows_quarantined, rows_duplicate, rows_non_data, status
        from load_files""").fetchall()}
    for f in manifest["files"]:
        read, loaded, quarantined, dup, non_data, status = rows[f["file"]]
        assert status == "loaded", f["file"]
        assert read == loaded + quarantined + dup + non_data, f["file"]
        assert (read, non_data, dup, quarantined) == (f["rows_read"], f["non_data"], f["duplicates"], f["bad"]), f["file"]


def test_quarantine_reasons_by_file_add_up(published):
    by_file = Counter(dict(published.execute(
        "select file_name, count(*) from quarantine group by all").fetchall()))
    assert by_file == Counter(dict(published.execute(
        "select file_name, rows_quarantined from load_files where rows_quarantined > 0").fetchall()))


def test_demo_publishes_marts(published):
    n = dict(published.execute("""
        select 'iv', count(*) from indicator_values union all select 'vs', count(*) from village_scores
        union all select 'hs', count(*) from household_stars""").fetchall())
    assert n["iv"] > 0 and n["vs"] > 0 and n["hs"] > 0
