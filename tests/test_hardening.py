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
