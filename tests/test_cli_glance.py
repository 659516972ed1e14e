"""`xiangzhi ingest`'s summary as a clerk reads it (#14 defect 10), through the real command in a
subprocess on a copy of the demo home: it fits 100 columns, shows only what changed in this run (the
unchanged files in one line), a corrupt workbook's reason names no library internals, a file missing a
whole required column gets one message naming it, and quarantined rows are listed with sheet and row."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len

from tests.conftest import TEST_SECRET

ROOT = Path(__file__).resolve().parents[1]


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


def _write(path: Path, rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    path.write_bytes(buf.getvalue().encode("utf-8-sig"))


@pytest.fixture(scope="module")
def run(demo_home, tmp_path_factory):
    home = tmp_path_factory.mktemp("cli") / "home"
    shutil.copytree(demo_home, home, ignore=shutil.ignore_patterns("*.wal"))
    new = home.parent / "new"
    new.mkdir()
    june = next((home / "inbox").glob("*网格事件（2025年06月）*.csv"))
    rows = _rows(june)
    head = next(i for i, r in enumerate(rows) if "办结时限" in r)
    j = rows[head].index("办结时限")
    _write(new / "网格事件_缺列.csv", [r[:j] + r[j + 1:] if i >= head else r for i, r in enumerate(rows)])
    bad = [list(r) for r in rows]
    k = rows[head].index("上报时间")
    bad[head + 3][k] = "不详"  # one unreadable date: row head + 4 of the file (1-based)
    _write(new / "网格事件_一行坏.csv", bad)
    (new / "坏的台账.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    env = {**os.environ, "XIANGZHI_HOME": str(home), "XIANGZHI_SECRET": TEST_SECRET, "COLUMNS": "240"}
    res = subprocess.run([sys.executable, "-m", "pipelines.cli", "ingest", str(home / "inbox"), str(new)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr
    inbox_files = sum(1 for p in (home / "inbox").iterdir() if p.name != "manifest.json")
    return {"out": res.stdout, "unchanged": inbox_files, "bad_row": head + 4}


def test_summary_fits_100_columns(run):
    lines = run["out"].splitlines()
    assert max(cell_len(ln) for ln in lines) <= 100, max(lines, key=cell_len)
    assert not [ln for ln in lines if ln != ln.rstrip()]  # no padding to the width


def test_only_what_changed_is_listed(run):
    out = run["out"]
    n = run["unchanged"]
    assert f"{n} 个文件未变 / {n} unchanged" in out
    assert "2025年01月" not in out  # last runs' files are not reprinted one by one
    assert "网格事件_缺列.csv" in out and "网格事件_一行坏.csv" in out and "坏的台账.xlsx" in out


def test_corrupt_workbook_reason_has_no_library_internals(run):
    block = run["out"].split("坏的台账.xlsx", 1)[1].split("✓", 1)[0]
    assert "工作簿损坏或不是有效的 Excel 文件" in block
    for word in ("calamine", "Calamine", "EOCD", "Error", "zip"):
        assert word not in block, word


def test_missing_column_is_named_once(run):
    out = run["out"]
    block = out.split("网格事件_缺列.csv", 1)[1].split("✓", 1)[0]
    assert block.count("缺少必填列“办结时限”") == 1
    assert "required column 办结时限 (deadline)" in " ".join(block.split())
    assert "办结时限为空" not in block  # not row by row
    assert "MISSING_REQUIRED" in block  # the rows are still counted under their reason


def test_quarantined_rows_are_listed_with_their_row_number(run):
    block = run["out"].split("网格事件_一行坏.csv", 1)[1].split("✓", 1)[0]
    assert "隔离行 quarantined rows" in block
    assert f"第 {run['bad_row']} 行 row:" in block and "上报时间" in block and "不详" in block


def test_a_database_error_is_a_message_not_a_traceback(monkeypatch, capsys):
    # e.g. DuckDB 2.0.0's internal error on a province batch (benchmarks/README.md): the batch is
    # rolled back; the clerk reads what happened and what to do, in Chinese first, with no traceback
    import duckdb

    from pipelines import cli, load

    def broken(paths, progress=None):
        raise duckdb.InternalException("INTERNAL Error: dict-surviving join: narrowed column 7\nStack Trace: …")

    monkeypatch.setattr(load, "ingest", broken)
    assert cli.ingest_cli([Path("inbox")], quiet=True) == 3
    out = capsys.readouterr().out
    assert "数据库出错，本批未完成，已发布的数据保持不变" in out and "please report this line" in out
    assert "InternalException: INTERNAL Error: dict-surviving join" in out
    assert "Traceback" not in out and "Stack Trace" not in out
