"""Data contracts (schema.yml key / not_null / accepted_values / invariants) checked before publish.

Each kind of check passes on the generated demo county and is shown to fail on a deliberately
broken copy of its warehouse; a batch whose marts break the contract is rolled back, not published.
"""

from __future__ import annotations

import shutil

import duckdb
import pytest

from pipelines.models import contract
from tests import builders as b


@pytest.fixture
def broken(demo_home, tmp_path):
    """A writable copy of the demo warehouse (marts, village_score_parts and cfg_* included)."""
    copy = tmp_path / "wh.duckdb"
    shutil.copy2(demo_home / "warehouse" / "xiangzhi.duckdb", copy)
    con = duckdb.connect(str(copy))
    yield con
    con.close()


def test_every_published_table_has_data_checks():
    for name in contract.tables():
        kinds = {kind for kind, _, _ in contract.data_checks(name)}
        assert "not_null" in kinds, name
    kinds = {kind for name in contract.tables() for kind, _, _ in contract.data_checks(name)}
    assert kinds == {"key", "not_null", "accepted_values", "invariant"}


def test_generated_data_meets_every_check(broken):
    assert contract.check_data(broken) == []
    contract.enforce(broken)  # does not raise


def _one(con, sql):
    return con.execute(sql).fetchone()


def test_a_duplicate_key_fails(broken):
    broken.execute("insert into village_scores select * from village_scores limit 1")
    assert contract.check_data(broken) == ["village_scores: key (period, village_code) unique (2 rows)"]


def test_a_null_key_fails(broken):
    broken.execute("update dim_grid set grid_code = null where grid_code = (select min(grid_code) from dim_grid)")
    assert "dim_grid: key (grid_code) unique (1 rows)" in contract.check_data(broken)


def test_a_null_in_a_not_null_column_fails(broken):
    broken.execute("update fct_visit set visit_type = null where record_id in (select record_id from fct_visit limit 3)")
    assert contract.check_data(broken) == ["fct_visit: visit_type not null (3 rows)"]


def test_a_value_outside_the_accepted_ones_fails(broken):
    broken.execute("update village_scores set board = 'green' where board = 'red'")
    n = _one(broken, "select count(*) from village_scores where board = 'green'")[0]
    problems = contract.check_data(broken)
    assert n > 0 and f"village_scores: board in accepted values ({n} rows)" in problems


def test_an_enum_value_sources_does_not_own_fails(broken):
    broken.execute("update fct_event set status = '已归档' where event_id = (select min(event_id) from fct_event)")
    assert "fct_event: status in accepted values (1 rows)" in contract.check_data(broken)


def test_a_rank_below_one_fails(broken):
    broken.execute("update household_stars set rank = 0 where rank = 1 and household_key = "
                   "(select min(household_key) from household_stars where rank = 1)")
    assert contract.check_data(broken) == ["household_stars: rank >= 1 (1 rows)"]


def test_a_share_whose_numerator_passes_its_denominator_fails(broken):
    broken.execute("""update indicator_values set numerator = denominator + 1
                      where indicator_id = 'event_closure_rate' and denominator > 0
                        and unit_level = 'county'""")
    n = _one(broken, "select count(*) from indicator_values where indicator_id = 'event_closure_rate' "
                     "and unit_level = 'county' and denominator > 0")[0]
    problems = contract.check_data(broken)
    assert n > 0
    assert f"indicator_values: a share's numerator <= its denominator ({n} rows)" in problems
    # value no longer equals numerator / denominator either
    assert f"indicator_values: a rate's value = scale x numerator / denominator, NULL when the denominator is 0 ({n} rows)" in problems


def test_a_score_that_is_not_the_sum_of_its_parts_fails(broken):
    period, village = _one(broken, "select period, village_code from village_scores where score < 99 "
                                   "order by period, village_code limit 1")
    # the parts change, the score does not: the drill-down would no longer add up
    broken.execute("update village_score_parts set contribution = contribution + 1 "
                   "where period = ? and village_code = ? and counted", [period, village])
    assert contract.check_data(broken) == ["village_scores: score = Σ contributions of village_score_parts (1 rows)"]


def test_a_board_the_rank_does_not_give_fails(broken):
    # a ranked village in the middle: neither top k nor bottom k, not vetoed
    period, village = _one(broken, """
        select period, village_code from village_scores
        where board is null and rank is not null and not veto order by period, village_code limit 1""")
    broken.execute("update village_scores set board = 'red' where period = ? and village_code = ?", [period, village])
    assert contract.check_data(broken) == [
        "village_scores: red for the top k, black for the bottom k or a veto (k = ceil(board_share x ranked)) (1 rows)"]


def test_a_vetoed_village_off_the_black_board_fails(broken):
    broken.execute("update village_scores set veto = true, board = 'red' where board = 'red' and not veto")
    n = _one(broken, "select count(*) from village_scores where veto and board = 'red'")[0]
    problems = contract.check_data(broken)
    assert n > 0 and f"village_scores: vetoed villages are on the black board ({n} rows)" in problems


def test_a_board_for_an_unranked_village_fails(broken):
    period, village = _one(broken, "select period, village_code from village_scores where board is not null "
                                   "and not veto order by period, village_code limit 1")
    broken.execute("update village_scores set rank = null where period = ? and village_code = ?", [period, village])
    assert "village_scores: a board only for a ranked or vetoed village (1 rows)" in contract.check_data(broken)


def test_lost_rows_in_the_file_accounting_fail(broken):
    broken.execute("update load_files set rows_loaded = rows_loaded - 1 where file_name = "
                   "(select min(file_name) from load_files where status = 'loaded')")
    assert contract.check_data(broken) == [
        "load_files: every row of a loaded file is loaded, quarantined, a duplicate or not data (1 rows)"]


# --- the read models of the cases page, the star table and the village labels (issue #18 item 1) ---
def test_an_overdue_closed_event_fails(broken):
    broken.execute("update event_case_list set overdue_open = true, days_overdue = 3 "
                   "where event_id = (select min(event_id) from event_case_list where is_closed)")
    assert contract.check_data(broken) == ["event_case_list: overdue only while open (1 rows)"]


def test_days_overdue_without_the_overdue_state_fails(broken):
    n = _one(broken, "select count(*) from event_case_list where overdue_open")[0]
    broken.execute("update event_case_list set days_overdue = null where overdue_open")
    assert n > 0 and contract.check_data(broken) == [
        f"event_case_list: days past the deadline exactly for open overdue events ({n} rows)"]


def test_a_late_open_event_fails(broken):
    broken.execute("update event_case_list set closed_late = true "
                   "where event_id = (select min(event_id) from event_case_list where not is_closed)")
    assert contract.check_data(broken) == ["event_case_list: late only when closed (1 rows)"]


def test_an_event_missing_from_the_case_list_fails(broken):
    broken.execute("delete from event_case_list where event_id = (select min(event_id) from event_case_list)")
    assert contract.check_data(broken) == ["event_case_list: every event of a known grid (1 rows)"]


def test_star_counts_that_are_not_the_households_fail(broken):
    year, village = _one(broken, "select year, village_code from village_star_counts order by 1, 2 limit 1")
    broken.execute("update village_star_counts set households = households + 1 where year = ? and village_code = ?",
                   [year, village])
    assert contract.check_data(broken) == ["village_star_counts: the households of household_stars (1 rows)"]
    broken.execute("update village_star_counts set households = households - 1, stars5 = households "
                   "where year = ? and village_code = ?", [year, village])
    assert contract.check_data(broken) == ["village_star_counts: starred households are households (1 rows)"]


def test_a_village_without_a_label_fails(broken):
    broken.execute("delete from village_labels where village_code = (select min(village_code) from village_labels)")
    assert contract.check_data(broken) == ["village_labels: every village of dim_village (1 rows)"]


def test_the_error_names_the_check_in_both_languages(broken):
    broken.execute("update household_stars set stars = 2 where stars = 3")
    with pytest.raises(contract.ContractError) as e:
        contract.enforce(broken)
    text = str(e.value)
    assert text.startswith("数据契约检查未通过，本批未发布")
    assert "the data contract check failed: this batch is not published" in text
    assert "household_stars: stars in accepted values" in text


def test_an_ingest_whose_mart_breaks_the_contract_publishes_nothing(home, tmp_path, monkeypatch):
    import pipelines.models.runner as runner
    from pipelines.errors import UserError
    from pipelines.load import ingest

    def q(sql, db="published"):
        con = duckdb.connect(str(home / db / "xiangzhi.duckdb"), read_only=True)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    ingest(b.write_reference(tmp_path / "ref"))
    before = q("select batch_id from load_batches")
    real = runner.build_marts

    def broken_marts(con, catalogue=None, **batch):
        rows = real(con, catalogue, **batch)
        con.execute("update household_stars set rank = 0")  # a broken mart
        return rows

    monkeypatch.setattr(runner, "build_marts", broken_marts)
    f = b.write_csv(tmp_path / "走访_20250630.csv", b.VISIT_HEADER, [b.visit("V1")])
    with pytest.raises(UserError, match="household_stars: rank >= 1"):
        ingest([f])
    # nothing published, nothing committed: the previous copy stays and the rerun loads the file
    assert q("select batch_id from load_batches") == before
    assert q("select count(*) from fct_visit") == [(0,)]
    assert q("select count(*) from reg_batches", "warehouse") == [(len(before),)]
    monkeypatch.setattr(runner, "build_marts", real)
    report = ingest([f])
    assert report.batch_id and q("select count(*) from fct_visit") == [(1,)]
