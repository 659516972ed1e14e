"""Hardening (issue #19 items 2, 6, 12): hostile numbers and ancient dates are row reasons, not a
failed batch, and never stretch the marts."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.load import ingest
from tests import builders as b


def _q(home, sql, params=None):
    con = duckdb.connect(str(home / "published" / "xiangzhi.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.fixture
def ref(home, tmp_path):
    ingest(b.write_reference(tmp_path / "ref"))
    return tmp_path


def test_non_finite_and_huge_points_are_bad_numbers(ref, home, tmp_path):
    values = ["inf", "-inf", "NaN", "1e308", "1000000000000", "+5"]
    f = b.write_csv(tmp_path / "积分_20250630.csv", b.POINTS_HEADER,
                    [b.points(f"P{i}", value=v) for i, v in enumerate(values)])
    spent = b.write_csv(tmp_path / "兑换_20250630.csv", b.REDEMPTION_HEADER,
                        [b.redemption("R1", spent="inf"), b.redemption("R2", spent="10")])
    report = ingest([f, spent])
    assert all(o.status == "loaded" for o in report.files)
    reasons = _q(home, "select file_name, row_number, reason_code from quarantine order by 1, 2")
    assert reasons == [(spent.name, 2, "BAD_NUMBER")] + [(f.name, n, "BAD_NUMBER") for n in range(2, 7)]
    assert _q(home, "select points from fct_points") == [(5.0,)]
    # The marts were built: a value that overflowed DECIMAL(18,6) before no longer reaches them.
    assert _q(home, "select value from indicator_values where indicator_id = 'points_per_household' "
                    "and unit_level = 'county' and period = '2025-06'")[0][0] == pytest.approx(5 / 3)


def test_household_size_out_of_range_is_a_bad_number(home, tmp_path):
    files = b.write_reference(tmp_path / "ref")
    hh = next(p for p in files if p.name == "户籍台账.csv")
    text = hh.read_bytes().decode("gb18030").replace(",3,低保户", ",1e20,低保户").replace(",2,\r\n", ",99999999999999999999999,\r\n")
    hh.write_bytes(text.encode("gb18030"))
    ingest(files)
    assert sorted(_q(home, "select reason_code from quarantine where file_name = ?", [hh.name])) == [
        ("BAD_NUMBER",), ("BAD_NUMBER",)]


def test_ancient_dates_are_bad_dates_and_do_not_stretch_the_months(ref, home, tmp_path):
    dates = ["0001-01-01 08:00", "1899-12-31 08:00", "1900-02-29", "0", "60", "1999-12-31 23:00"]
    rows = [b.visit(f"V{i}", at=d) for i, d in enumerate(dates)] + [b.visit("V9")]
    f = b.write_csv(tmp_path / "走访_20250630.csv", b.VISIT_HEADER, rows)
    ingest([f])
    assert _q(home, "select count(*), min(reason_code), max(reason_code) from quarantine "
                    "where file_name = ?", [f.name]) == [(6, "BAD_DATE", "BAD_DATE")]
    assert _q(home, "select min(period), max(period) from indicator_values") == [("2025-06", "2025-06")]


def test_earliest_date_is_a_setting(ref, home, tmp_path, monkeypatch):
    monkeypatch.setenv("XIANGZHI_EARLIEST_DATE", "2025-06-03")
    f = b.write_csv(tmp_path / "走访_20250630.csv", b.VISIT_HEADER,
                    [b.visit("V1", at="2025-06-02 10:00", entered="2025-06-02 12:00"), b.visit("V2")])
    ingest([f])
    assert _q(home, "select row_number, reason_code from quarantine where file_name = ?", [f.name]) == [
        (2, "BAD_DATE")]


def test_bad_paths_are_refused_one_by_one_and_the_rest_loads(ref, home, tmp_path):
    """Items 3 and 4: a dangling symlink, a folder named x.xlsx, a FIFO, a link to /dev/zero and a link
    leaving the inbox are each a line in the summary; a missing argument too; the good file loads."""
    import os

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    good = b.write_csv(inbox / "走访_20250630.csv", b.VISIT_HEADER, [b.visit("V1")])
    (inbox / "x.xlsx").mkdir()
    (inbox / "dangling.csv").symlink_to(tmp_path / "gone.csv")
    os.mkfifo(inbox / "pipe.csv")
    (inbox / "zero.csv").symlink_to("/dev/zero")
    (inbox / "passwd.csv").symlink_to("/etc/passwd")
    report = ingest([inbox, tmp_path / "missing.csv"])
    by_name = {o.file_name: o for o in report.files}
    assert by_name[good.name].status == "loaded" and by_name[good.name].rows_loaded == 1
    refused = {n: o.reason for n, o in by_name.items() if o.status == "rejected"}
    assert set(refused) == {"x.xlsx", "dangling.csv", "pipe.csv", "zero.csv", "passwd.csv", "missing.csv"}
    assert "文件夹" in refused["x.xlsx"] and "不存在" in refused["dangling.csv"]
    assert "不是普通文件" in refused["pipe.csv"] and "之外" in refused["zero.csv"]
    assert "之外" in refused["passwd.csv"] and "找不到" in refused["missing.csv"]
    raw_copies = [p.name for p in (home / "raw").rglob("*") if p.is_file()]
    assert not any("passwd" in n or "zero" in n for n in raw_copies)


def test_fifo_given_directly_is_refused_not_read(home, tmp_path):
    import os

    fifo = tmp_path / "events.csv"
    os.mkfifo(fifo)
    report = ingest([fifo])
    assert [(o.file_name, o.status) for o in report.files] == [("events.csv", "rejected")]


def test_resource_bombs_are_refused_before_reading(home, tmp_path, monkeypatch):
    """Item 5: a workbook inflating far beyond its size, and a CSV with too many columns."""
    import zipfile

    bomb = tmp_path / "积分.xlsx"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/sharedStrings.xml", b"<sst>" + b"A" * (120 << 20) + b"</sst>")
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"c{i}" for i in range(5000)) + "\n" + ",".join("1" * 5000) + "\n", encoding="utf-8")
    report = ingest([bomb, wide])
    reasons = {o.file_name: o.reason for o in report.files}
    assert "压缩炸弹" in reasons["积分.xlsx"] and "5,000" in reasons["wide.csv"]
    monkeypatch.setenv("XIANGZHI_MAX_COLUMNS", "10000")
    again = ingest([wide])
    assert "列数过多" not in (again.files[0].reason or "")


def test_a_batch_committed_but_never_published_is_published_by_the_next_run(ref, home, tmp_path):
    """Item 1: the state a kill between commit and publish leaves (warehouse ahead of the published
    copy) is repaired by the next ingest even when it has nothing new to load."""
    import shutil

    published = home / "published" / "xiangzhi.duckdb"
    before = tmp_path / "before.duckdb"
    shutil.copy2(published, before)
    f = b.write_csv(tmp_path / "走访_20250630.csv", b.VISIT_HEADER, [b.visit("V1"), b.visit("V2")])
    ingest([f])
    shutil.copy2(before, published)  # as if killed after the commit, before the rename
    assert _q(home, "select count(*) from fct_visit") == [(0,)]
    again = ingest([f])
    assert [o.status for o in again.files] == ["unchanged"] and again.published == published
    assert _q(home, "select count(*) from fct_visit") == [(2,)]
    assert ingest([f]).published is None  # up to date: nothing is republished


def test_warehouse_and_batch_scratch_files_are_owner_only(home, tmp_path, monkeypatch):
    """DuckDB creates its files 0644: the warehouse and each batch's scratch file (staged rows,
    personal data before hashing is checked) are made 0600 like the raw copies."""
    import stat as st

    from pipelines.ingest import staging

    seen: dict[str, int] = {}
    move = staging.move_scratch

    def spy(con, kinds):  # while the scratch file exists: just before its rows move into the warehouse
        for f in (home / "warehouse").glob("staging-*.duckdb"):
            seen[f.name] = st.S_IMODE(f.stat().st_mode)
        return move(con, kinds)

    monkeypatch.setattr(staging, "move_scratch", spy)
    report = ingest(b.write_reference(tmp_path / "ref"))
    assert report.published
    assert seen and set(seen.values()) == {0o600}, seen
    assert st.S_IMODE((home / "warehouse" / "xiangzhi.duckdb").stat().st_mode) == 0o600


def test_a_data_home_whose_path_has_a_quote(tmp_path, monkeypatch):
    """Item 10: paths reach SQL only as escaped literals."""
    home = tmp_path / "o'brien home"
    monkeypatch.setenv("XIANGZHI_HOME", str(home))
    files = b.write_reference(tmp_path / "ref")
    report = ingest(files)
    assert report.published and _q(home, "select count(*) from dim_village") == [(3,)]
    assert not list((home / "published").glob("*.tmp*"))


def test_data_home_is_private_and_failed_runs_leave_no_raw_copies(ref, home, tmp_path):
    """Items 15 and 16: 0700 folders, 0600 raw copies; an orphan raw/<batch>/ of a killed run goes."""
    import stat as st

    mode = lambda p: st.S_IMODE(p.stat().st_mode)  # noqa: E731
    assert mode(home) == 0o700 and mode(home / "raw") == 0o700
    copies = [p for p in (home / "raw").rglob("*") if p.is_file()]
    assert copies and all(mode(p) == 0o600 for p in copies)
    orphan = home / "raw" / "20250101T000000-dead00"
    orphan.mkdir()
    (orphan / "x.csv").write_text("户主姓名\n张三\n", encoding="utf-8")
    ingest([b.write_csv(tmp_path / "走访.csv", b.VISIT_HEADER, [b.visit("V1")])])
    assert not orphan.exists()
    assert len([d for d in (home / "raw").iterdir()]) == 2  # the reference batch and this one


def test_a_data_home_that_cannot_be_written_is_a_clear_message(tmp_path, monkeypatch):
    """Item 15: no traceback. Tests run as root here, so the home is put under a regular file (the
    same OSError path as a read-only or foreign-owned folder)."""
    from pipelines.errors import UserError

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("XIANGZHI_HOME", str(blocker / "data"))
    with pytest.raises(UserError, match="数据目录不可写"):
        ingest([tmp_path])


def test_raw_prune_removes_old_batches_and_rejudging_still_works(ref, home, tmp_path, capsys):
    """Item 16: retention of raw copies; later ingests re-judge from staged rows, not raw files."""
    from pipelines.cli import main

    old = home / "raw" / "20200101T000000-aaaaaa"
    old.mkdir()
    (old / "x.csv").write_bytes(b"x" * 2048)
    assert main(["raw", "prune", "--older-than", "30", "--dry-run"]) == 0
    assert old.exists() and "20200101T000000-aaaaaa" in capsys.readouterr().out
    assert main(["raw", "prune", "--older-than", "30"]) == 0
    assert not old.exists() and len(list((home / "raw").iterdir())) == 1
    assert main(["raw", "prune", "--older-than", "0"]) == 0
    assert not list((home / "raw").iterdir())
    # The grid file's rows are re-judged from the warehouse: a visit naming a grid still loads.
    ingest([b.write_csv(tmp_path / "走访.csv", b.VISIT_HEADER, [b.visit("V1")])])
    assert _q(home, "select count(*) from fct_visit") == [(1,)]
    assert main(["raw", "prune", "--older-than", "soon"]) == 2


def _visit_lines():
    return [",".join(b.VISIT_HEADER)] + [",".join(b.visit(f"V{i}")) for i in range(1, 5)]


def test_one_stray_quote_loses_one_line_not_the_file(ref, home, tmp_path):
    """Item 11: the other rows load; the bad line is quarantined with its line number."""
    lines = _visit_lines()
    lines[2] = lines[2].replace("赵网格", '"赵网格')
    f = tmp_path / "走访_20250630.csv"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = ingest([f])
    (o,) = report.files
    assert (o.status, o.rows_read, o.rows_loaded, o.rows_quarantined) == ("loaded", 4, 3, 1)
    assert _q(home, "select row_number from quarantine where file_name = ?", [f.name]) == [(3,)]
    assert "引号不成对" in o.reason


def test_cr_only_line_endings_load(ref, home, tmp_path):
    f = tmp_path / "走访_20250630.csv"
    f.write_bytes("\r".join(_visit_lines()).encode("utf-8") + b"\r")
    (o,) = ingest([f]).files
    assert (o.rows_read, o.rows_loaded) == (4, 4)


def test_lines_mixing_gbk_and_utf8_are_decoded_line_by_line(ref, home, tmp_path):
    lines = _visit_lines()
    data = b"\n".join(line.encode("gb18030" if i % 2 else "utf-8") for i, line in enumerate(lines)) + b"\n"
    f = tmp_path / "走访_20250630.csv"
    f.write_bytes(data)
    (o,) = ingest([f]).files
    assert (o.status, o.rows_loaded) == ("loaded", 4)
    assert _q(home, "select count(*) from fct_visit where worker = '赵网格'") == [(4,)]


@pytest.mark.parametrize("where", ["raw_copy", "publish"])
def test_a_full_disk_is_one_clear_line_and_the_previous_state_stays(ref, home, tmp_path, monkeypatch, where):
    """Item 2 (disk full), simulated with ENOSPC at the raw copy and at publish."""
    import errno
    import shutil

    import pipelines.ingest.batch as batch
    import pipelines.publish as publish
    from pipelines.load import IngestError

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    if where == "raw_copy":
        monkeypatch.setattr(batch.shutil, "copy2", full)
    else:
        monkeypatch.setattr(publish, "publish", full)
    f = b.write_csv(tmp_path / "走访_20250630.csv", b.VISIT_HEADER, [b.visit("V1")])
    with pytest.raises(IngestError, match="磁盘空间不足"):
        ingest([f])
    assert _q(home, "select count(*) from fct_visit") == [(0,)]  # the published copy is as before
    monkeypatch.undo()
    monkeypatch.setenv("XIANGZHI_HOME", str(home))
    monkeypatch.setenv("XIANGZHI_SECRET", "test-secret-key")
    ingest([f])  # space freed: the rerun ends as an uninterrupted run would
    assert _q(home, "select count(*) from fct_visit") == [(1,)]
    assert shutil.disk_usage(home).free > 0
