"""The Parquet lake (SPEC §4.1): two generated counties exported into one lake, marts rebuilt from
the lake's core tables on DuckDB and on Spark, and both equal to each county warehouse's own marts."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.lake import layout
from pipelines.lake.marts import county_groups, mart_models
from pipelines.models import contract

COUNTIES = {"360739": 11, "360781": 12}  # code → generator seed
MARTS = ["indicator_values", "village_scores", "household_stars"]


def _ingest_county(base: Path, code: str, seed: int) -> Path:
    """Generate and ingest one county in its own data home (own key, as a real deployment)."""
    env = {**os.environ, "XIANGZHI_HOME": str(base / f"home{code}"), "XIANGZHI_SECRET": f"secret-{code}"}
    # A script file, not `python -c`: with pyspark installed, Great Expectations imports
    # pyspark.sql.connect, which calls sys.exit(0) when __main__ has no file (it takes it for doctests).
    script = base / "make_county.py"
    script.write_text(
        "import sys\nfrom pathlib import Path\nfrom pipelines.generate import generate\n"
        "from pipelines.load import ingest\n"
        "generate('tiny', int(sys.argv[2]), Path(sys.argv[1]), 0.02, county=sys.argv[3])\n"
        "ingest([Path(sys.argv[1])])\n", encoding="utf-8")
    subprocess.run([sys.executable, str(script), str(base / f"gen{code}"), str(seed), code], env=env, check=True,
                   capture_output=True)
    return base / f"home{code}" / "published" / "xiangzhi.duckdb"


def _cli(*args: str, env_home: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if env_home is not None:
        env["XIANGZHI_HOME"] = str(env_home)
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], capture_output=True, text=True, env=env)


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("lake")
    published = {code: _ingest_county(base, code, seed) for code, seed in COUNTIES.items()}
    lake_dir = base / "lake"
    for code in COUNTIES:
        r = _cli("lake", "export", str(lake_dir), "--published", str(published[code]))
        assert r.returncode == 0, r.stderr
        assert code in r.stdout
    return {"dir": lake_dir, "published": published, "base": base}


def _rows(root: Path, table: str, county: str | None = None) -> list[tuple]:
    cols = ", ".join(f'"{c}"' for c in contract.tables()[table])
    folder = f"{root}/{table}/county={county}" if county else f"{root}/{table}"
    con = duckdb.connect()
    return con.execute(
        f"select {cols} from read_parquet('{folder}/**/*.parquet', hive_partitioning = true, "
        f"hive_types_autocast = false) order by all").fetchall()


def _warehouse_rows(published: Path, table: str) -> list[tuple]:
    cols = ", ".join(f'"{c}"' for c in contract.tables()[table])
    con = duckdb.connect(str(published), read_only=True)
    try:
        return con.execute(f'select {cols} from "{table}" order by all').fetchall()
    finally:
        con.close()


def _assert_same(a: list[tuple], b: list[tuple], table: str) -> None:
    """Row for row; floats within 1e-9, everything else exactly."""
    assert len(a) == len(b), f"{table}: {len(a)} rows vs {len(b)}"
    cols = list(contract.tables()[table])
    for ra, rb in zip(a, b, strict=True):
        for col, va, vb in zip(cols, ra, rb, strict=True):
            if isinstance(va, float) and isinstance(vb, float):
                assert math.isclose(va, vb, rel_tol=0, abs_tol=1e-9), (table, col, ra, rb)
            else:
                assert va == vb, (table, col, ra, rb)


def test_export_layout_and_manifest(lake):
    d = lake["dir"]
    manifest = layout.read_manifest(d)
    assert sorted(manifest["counties"]) == sorted(COUNTIES)
    # every contract table the warehouses hold, and the config the marts read, travel in the lake
    for table in ["dim_village", "fct_visit", "fct_event", "indicator_values", "load_files", "quarantine",
                  "cfg_indicator", "cfg_setting"]:
        assert table in manifest["tables"], table
    assert manifest["tables"]["fct_visit"]["partition_by"] == ["county", "month"]
    assert manifest["tables"]["dim_village"]["partition_by"] == ["county"]
    assert manifest["tables"]["fct_visit"]["columns"]["visited_at"] == "TIMESTAMP"
    for code, published in lake["published"].items():
        entry = manifest["counties"][code]
        con = duckdb.connect(str(published), read_only=True)
        for table in ["fct_visit", "dim_household", "quarantine", "indicator_values"]:
            n = con.execute(f"select count(*) from {table}").fetchall()[0][0]
            assert entry["rows"][table] == n
            assert len(_rows(d, table, code)) == n, table
        batch = con.execute("select batch_id from load_batches order by finished_at desc limit 1").fetchall()[0][0]
        con.close()
        assert entry["source"]["last_batch"] == batch
        assert entry["calendar"] == ["2025-04", "2025-06"]
    # Hive layout: county folders, month folders for facts
    months = sorted(p.name for p in (d / "fct_visit" / "county=360739").iterdir())
    assert months == ["month=2025-04", "month=2025-05", "month=2025-06"]


def test_reexport_replaces_only_that_county(lake):
    d = lake["dir"]
    stale = d / "fct_visit" / "county=360739" / "month=2019-01"
    stale.mkdir()
    (stale / "data_0.parquet").write_bytes(b"left over from an older export")
    other_files = sorted(p.name for p in (d / "fct_visit" / "county=360781").rglob("*.parquet"))
    before = len(_rows(d, "fct_visit", "360781"))
    r = _cli("lake", "export", str(d), "--published", str(lake["published"]["360739"]))
    assert r.returncode == 0, r.stderr
    assert not stale.exists()  # the county's partition was swapped whole, old months gone
    assert sorted(p.name for p in (d / "fct_visit" / "county=360781").rglob("*.parquet")) == other_files
    assert len(_rows(d, "fct_visit", "360781")) == before
    assert not list((d / ".staging").iterdir())  # nothing left beside


def test_user_mistakes_have_clear_messages(lake, tmp_path):
    r = _cli("lake", "marts", str(tmp_path / "nothing"))
    assert r.returncode == 2 and "不是乡治数据湖" in r.stderr and "not a xiangzhi lake" in r.stderr
    assert "Traceback" not in r.stderr
    r = _cli("lake", "export", str(tmp_path / "l"), env_home=tmp_path / "empty-home")
    assert r.returncode == 2 and "没有已发布的仓库" in r.stderr and "no published warehouse" in r.stderr
    (tmp_path / "notalake").mkdir()
    (tmp_path / "notalake" / "x.txt").write_text("x")
    r = _cli("lake", "export", str(tmp_path / "notalake"), "--published", str(lake["published"]["360739"]))
    assert r.returncode == 2 and "不是数据湖" in r.stderr
    r = _cli("lake", "marts", str(lake["dir"]), "--county", "999999", "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "999999" in r.stderr


def test_counties_group_by_calendar_and_config():
    manifest = {"counties": {
        "360739": {"calendar": ["2025-01", "2025-06"], "config": "a"},
        "360781": {"calendar": ["2025-01", "2025-06"], "config": "a"},
        "360782": {"calendar": ["2025-02", "2025-06"], "config": "a"},  # its own months
        "360783": {"calendar": ["2025-01", "2025-06"], "config": "b"},  # its own targets/weights
    }}
    assert county_groups(manifest) == [["360739", "360781"], ["360782"], ["360783"]]


def test_mart_models_are_the_published_marts_of_the_runner():
    # Any published model of models/marts/ is built by the lake (grid_worker_scores once merged).
    models = mart_models()
    assert set(MARTS) <= set(models)
    assert "int_calendar" not in models and "village_score_parts" not in models


@pytest.fixture(scope="module")
def duckdb_marts(lake) -> Path:
    out = lake["base"] / "marts-duckdb"
    r = _cli("lake", "marts", str(lake["dir"]), "--engine", "duckdb", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "duckdb" in r.stdout and "indicator_values" in r.stdout
    return out


@pytest.mark.parametrize("table", MARTS)
def test_duckdb_lake_marts_equal_each_warehouse(lake, duckdb_marts, table):
    for code, published in lake["published"].items():
        own = _warehouse_rows(published, table)
        assert own, f"{table} of {code} is empty: the comparison would prove nothing"
        _assert_same(_rows(duckdb_marts, table, code), own, table)


def test_spark_marts_equal_duckdb_marts(lake, duckdb_marts):
    pytest.importorskip("pyspark", reason="PySpark not installed: `uv sync --group spark` (CI installs it)")
    out = lake["base"] / "marts-spark"
    env = {**os.environ, "XIANGZHI_SPARK_SHUFFLE_PARTITIONS": "2"}
    r = subprocess.run([sys.executable, "-m", "pipelines.cli", "lake", "marts", str(lake["dir"]), "--engine",
                        "spark", "--master", "local[2]", "--out", str(out)], capture_output=True, text=True,
                       env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    manifest = layout.read_manifest(out)
    for code in COUNTIES:
        assert manifest["counties"][code]["marts"]["engine"] == "spark"
    for table in MARTS:
        spark_rows = _rows(out, table)
        assert spark_rows
        _assert_same(spark_rows, _rows(duckdb_marts, table), table)
        for code, published in lake["published"].items():
            _assert_same(_rows(out, table, code), _warehouse_rows(published, table), table)


def test_transpile_rewrites_the_known_wrong_translations():
    pytest.importorskip("sqlglot", reason="sqlglot comes with the spark group: `uv sync --group spark`")
    from pipelines.lake.transpile import to_spark

    sql = to_spark("select median(x) a, quantile_cont(x, 0.9) b, list(v order by k desc) c, "
                   "d / 3600.0 e, cast(unnest(generate_series(f, g, interval 1 month)) as date) h from t")
    assert "PERCENTILE(x, 0.5)" in sql and "PERCENTILE(x, 0.9)" in sql
    assert "APPROX" not in sql.upper()
    assert "ARRAY_SORT(COLLECT_LIST(" in sql and "l.k0 > r.k0" in sql
    assert "CAST(d AS DOUBLE) / CAST(3600.0 AS DOUBLE)" in sql
    assert "EXPLODE(CAST(SEQUENCE(f, g, INTERVAL '1' MONTH) AS ARRAY<DATE>))" in sql


def test_province_view_reads_the_lake_scoped(lake):
    from pipelines import warehouse as wh

    con = wh.lake_connection(lake["dir"])
    province = wh.Scope("province", "36")
    league = wh.county_league(province, "2025-06", con=con)
    assert sorted(league["county_code"]) == sorted(COUNTIES)
    assert sorted(league["rank"]) in ([1, 2], [1, 1])
    for code, published in lake["published"].items():
        own = duckdb.connect(str(published), read_only=True)
        mean, scored = own.execute(
            "select avg(score), count(score) from village_scores where period = '2025-06'").fetchall()[0]
        own.close()
        row = league[league["county_code"] == code].iloc[0]
        assert row["villages_scored"] == scored and math.isclose(row["mean_score"], mean, abs_tol=1e-9)
        # a county account sees its own row only, with its province-wide rank
        mine = wh.county_league(wh.Scope("county", code), "2025-06", con=con)
        assert mine["county_code"].tolist() == [code] and mine["rank"].tolist() == [row["rank"]]
    ind = wh.county_indicators(province, "2025-06", con=con)
    assert set(ind["county_code"]) == set(COUNTIES)
    assert {"key_visit_rate", "event_closure_rate"} <= set(ind["indicator_id"]) and "name_zh" in ind
    assert set(wh.county_indicators(wh.Scope("county", "360781"), "2025-06", con=con)["county_code"]) == {"360781"}
    con.close()
