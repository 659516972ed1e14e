"""A killed ingest changes nothing; an open reader of the published copy never blocks an ingest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import duckdb

from pipelines.load import ingest
from tests import builders as b


def _count(db, sql):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def _ingest_process(home, files, pause="0"):
    env = dict(os.environ, XIANGZHI_HOME=str(home), XIANGZHI_PAUSE_BEFORE_COMMIT=pause)
    return subprocess.Popen([sys.executable, "-m", "pipelines.cli", "ingest", "--quiet", *map(str, files)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_kill_in_the_middle_leaves_previous_state(home, tmp_path):
    ingest(b.write_reference(tmp_path / "ref"))
    wh, pub = home / "warehouse" / "xiangzhi.duckdb", home / "published" / "xiangzhi.duckdb"
    pub_bytes = pub.read_bytes()
    visits = b.write_csv(tmp_path / "visits.csv", b.VISIT_HEADER, [b.visit(f"V{i}") for i in range(50)])
    proc = _ingest_process(home, [visits], pause="60")
    line = proc.stdout.readline()
    assert "PAUSED_BEFORE_COMMIT" in line, line + proc.stdout.read()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert _count(wh, "select count(*) from stg_visits") == 0
    # the killed batch was judged incrementally (no reference files): its verdicts were not kept
    assert _count(wh, "select count(*) from disp_visits") == 0
    assert _count(wh, "select count(*) from load_files") == 3
    assert _count(wh, "select count(*) from fct_visit") == 0
    assert pub.read_bytes() == pub_bytes
    # and the same files load cleanly afterwards
    ingest([visits])
    assert _count(pub, "select count(*) from fct_visit") == 50


def test_published_copy_held_open_by_another_process(home, tmp_path):
    ingest(b.write_reference(tmp_path / "ref"))
    pub = home / "published" / "xiangzhi.duckdb"
    reader = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, sys, time
        con = duckdb.connect({str(pub)!r}, read_only=True)
        print(con.execute("select count(*) from dim_village").fetchone()[0], flush=True)
        sys.stdin.readline()  # hold the file open until told
        print(con.execute("select count(*) from dim_village").fetchone()[0], flush=True)
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "3"
        visits = b.write_csv(tmp_path / "visits.csv", b.VISIT_HEADER, [b.visit("V1")])
        t = time.perf_counter()
        report = ingest([visits])
        assert report.published == pub
        assert time.perf_counter() - t < 120
        # New connections see the new copy; the open reader still reads its consistent old one.
        assert _count(pub, "select count(*) from fct_visit") == 1
        reader.stdin.write("go\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "3"
    finally:
        reader.kill()
        reader.wait()


def test_second_ingest_while_one_runs_gets_a_clear_message(home, tmp_path):
    ingest(b.write_reference(tmp_path / "ref"))
    visits = b.write_csv(tmp_path / "visits.csv", b.VISIT_HEADER, [b.visit("V1")])
    proc = _ingest_process(home, [visits], pause="60")
    try:
        assert "PAUSED_BEFORE_COMMIT" in proc.stdout.readline()
        second = subprocess.run([sys.executable, "-m", "pipelines.cli", "ingest", "--quiet", str(visits)],
                                env=dict(os.environ, XIANGZHI_HOME=str(home)), capture_output=True, text=True)
        assert second.returncode == 2
        assert "另一个" in second.stdout + second.stderr and "Traceback" not in second.stderr
    finally:
        proc.kill()
        proc.wait()
