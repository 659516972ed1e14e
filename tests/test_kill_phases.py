"""Kill -9 at every phase boundary of an ingest, then rerun it: the warehouse and the published copy
end equal to those of a home that ran the same ingest uninterrupted (issue #19 item 1, #12).

One reference home (the reference files loaded) is built once and copied per phase; the killed
ingest is a real `xiangzhi ingest` in its own process (forked from one that paid the imports once)
that SIGKILLs itself at the phase (XIANGZHI_KILL_AT, batch.KILL_PHASES), the rerun is the same ingest, uninterrupted (in this process, as is the
reference run: the same code, its imports paid once). Compared: every table of the
warehouse (staged rows, dispositions, registers, core, marts, quarantine, load_files) and of the
published copy, row for row, with batch ids replaced by their rank and the batch times and raw
paths (which name the batch) left out.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.ingest.batch import KILL_PHASES
from tests import builders as b
from tests.conftest import TEST_SECRET

# Differ between two runs of the same ingest by construction: when it ran, and where its raw copy went.
VOLATILE = {"started_at", "finished_at", "raw_path"}
BATCH_COLUMNS = {"batch_id", "_batch_id"}


def _batch_files(folder: Path) -> list[Path]:
    """A batch with every disposition: loaded, quarantined (unknown grid, bad date, unknown
    household), duplicate, an ID conflict across two files, and rows of every non-reference kind."""
    folder.mkdir(parents=True, exist_ok=True)
    visits = [b.visit(f"V{i}", grid=(b.G1, b.G2, b.G3)[i % 3], hh=(b.H1, b.H2, b.H3)[i % 3]) for i in range(1, 9)]
    visits += [b.visit("V20", grid="360799999999001"), b.visit("V21", at="1899-12-31 08:00"), b.visit("V1")]
    later = [b.visit("V1", worker="另一人"), b.visit("V30"), b.visit("V2", grid=b.G3, hh=b.H3)]
    return [
        b.write_csv(folder / "走访_20250630.csv", b.VISIT_HEADER, visits),
        b.write_csv(folder / "走访补录_20250701.csv", b.VISIT_HEADER, later),
        b.write_csv(folder / "事件_20250630.csv", b.EVENT_HEADER,
                    [b.event("E1"), b.event("E2", grid=b.G3, status="已办结", accepted="2025-06-02 12:00",
                                            closed="2025-06-04 12:00", satisfaction="满意"),
                     b.event("E3", grid="bad-grid")]),
        b.write_csv(folder / "积分_20250630.csv", b.POINTS_HEADER,
                    [b.points("P1"), b.points("P2", hh=b.H2, village=b.V2, value="-3"), b.points("P3", hh="H9999"),
                     b.points("P4", value="inf")]),
        b.write_csv(folder / "兑换_20250630.csv", b.REDEMPTION_HEADER,
                    [b.redemption("R1"), b.redemption("R2", hh=b.H3, village=b.V3, spent="4")]),
        b.write_csv(folder / "纠纷_20250630.csv", b.DISPUTE_HEADER,
                    [b.dispute("D1"), b.dispute("D2", township="西岭镇"), b.dispute("D3", village="不存在村")]),
    ]


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ, XIANGZHI_HOME=str(home), XIANGZHI_SECRET=TEST_SECRET)
    env.pop("XIANGZHI_PAUSE_BEFORE_COMMIT", None)
    return env


def _ingest_here(home: Path, files: list[Path]) -> None:
    """The same ingest in this process (its imports are paid once, not per phase)."""
    from pipelines.load import ingest

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XIANGZHI_HOME", str(home))
        mp.setenv("XIANGZHI_SECRET", TEST_SECRET)
        mp.delenv("XIANGZHI_KILL_AT", raising=False)
        mp.delenv("XIANGZHI_PAUSE_BEFORE_COMMIT", raising=False)
        ingest(files)


def _snapshot(db: Path, batches: str) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every table's columns and rows (sorted), batch ids as their rank in `batches` (the batch
    register)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        rank = {bid: f"batch{i}" for i, (bid,) in enumerate(
            con.execute(f"select batch_id from {batches} order by started_at, batch_id").fetchall())}
        out = {}
        for (table,) in con.execute("select table_name from duckdb_tables() where database_name = "
                                    "current_database() and schema_name = 'main' order by 1").fetchall():
            cols = [c for (c,) in con.execute("select column_name from duckdb_columns() where table_name = ? "
                                              "and database_name = current_database() and schema_name = 'main' "
                                              "order by column_index", [table]).fetchall() if c not in VOLATILE]
            rows = con.execute("select " + ", ".join(f'"{c}"' for c in cols) + f' from "{table}"').fetchall()
            batch_at = [i for i, c in enumerate(cols) if c in BATCH_COLUMNS]
            norm = [tuple(rank.get(v, v) if i in batch_at else v for i, v in enumerate(r)) for r in rows]
            out[table] = (cols, sorted(norm, key=repr))
        return out
    finally:
        con.close()


def _state(home: Path) -> tuple[dict, dict]:
    return (_snapshot(home / "warehouse" / "xiangzhi.duckdb", "reg_batches"),
            _snapshot(home / "published" / "xiangzhi.duckdb", "load_batches"))


@pytest.fixture(scope="module")
def homes(tmp_path_factory):
    """(base home with the references loaded, the batch's files, the state after an uninterrupted run)."""
    root = tmp_path_factory.mktemp("kill")
    base = root / "base"
    _ingest_here(base, b.write_reference(root / "ref"))
    files = _batch_files(root / "batch")
    ref = root / "uninterrupted"
    shutil.copytree(base, ref)
    _ingest_here(ref, files)
    return base, files, _state(ref)


# One process pays the imports (GX alone takes seconds), then forks one ingest per phase, two at a
# time (2 cores): each child is a whole `xiangzhi ingest` that SIGKILLs itself at its phase.
_FORKER = """
import json, os, sys
from pipelines.expectations import load_gx
load_gx()
import pipelines.cli as cli
import pipelines.load, pipelines.models.runner, pipelines.normalise  # noqa: F401
import pipelines.readers.delimited, pipelines.readers.excel  # noqa: F401
jobs, files, running, out = json.loads(sys.argv[1]), sys.argv[2:], {}, {}
def reap():
    pid, status = os.wait()
    out[running.pop(pid)] = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
for phase, home in jobs:
    if len(running) == 2:
        reap()
    pid = os.fork()
    if pid == 0:
        os.environ.update(XIANGZHI_HOME=home, XIANGZHI_KILL_AT=phase)
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
        try:
            rc = cli.main(["ingest", "--quiet", *files])
        except BaseException:
            rc = 99
        os._exit(rc)
    running[pid] = phase
while running:
    reap()
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def killed(homes):
    """phase → (its home after the kill, the killed ingest's exit: -9 when it died at the phase)."""
    import json

    base, files, _ = homes
    jobs = []
    for phase in KILL_PHASES:
        home = base.parent / f"killed-{phase}"
        shutil.copytree(base, home)
        jobs.append((phase, str(home)))
    proc = subprocess.run([sys.executable, "-c", _FORKER, json.dumps(jobs), *map(str, files)],
                          env=_env(base), capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    codes = json.loads(proc.stdout.strip().splitlines()[-1])
    return {phase: (Path(home), codes[phase]) for phase, home in jobs}


def test_the_batch_changes_something_at_every_kind(homes):
    """The comparison is not vacuous: the uninterrupted batch loaded, quarantined and duplicated rows."""
    _, _, (warehouse, published) = homes
    assert len(published["fct_visit"][1]) == 9 and len(published["fct_event"][1]) == 2
    cols, rows = published["load_files"]
    assert sum(r[cols.index("rows_duplicate")] for r in rows) == 1
    cols, rows = published["quarantine"]
    reasons = {r[cols.index("reason_code")] for r in rows}
    assert {"UNKNOWN_GRID", "BAD_DATE", "ID_CONFLICT", "BAD_NUMBER"} <= reasons
    assert len(published["load_batches"][1]) == 2 and len(warehouse["stg_visits"][1]) == 14


@pytest.mark.parametrize("phase", KILL_PHASES)
def test_kill_at_phase_then_rerun_equals_an_uninterrupted_run(homes, killed, phase):
    base, files, (want_wh, want_pub) = homes
    home, rc = killed[phase]
    assert rc == -9, f"the ingest never reached {phase} (exit {rc})"
    pub = home / "published" / "xiangzhi.duckdb"
    con = duckdb.connect(str(pub), read_only=True)  # the published copy always opens, old or new
    n_batches = con.execute("select count(*) from load_batches").fetchone()[0]
    con.close()
    assert n_batches in (1, 2)
    _ingest_here(home, files)  # uninterrupted; raises if it fails
    got_wh, got_pub = _state(home)
    assert set(got_pub) == set(want_pub)
    for table in want_pub:
        assert got_pub[table] == want_pub[table], f"published {table} differs after a kill at {phase}"
    assert set(got_wh) == set(want_wh)
    for table in want_wh:
        assert got_wh[table] == want_wh[table], f"warehouse {table} differs after a kill at {phase}"
    assert not list((home / "published").glob("*.tmp*")), "a killed publish left its temp file"
    assert len([d for d in (home / "raw").iterdir()]) == 2, "raw/ holds a copy of a batch that never committed"
