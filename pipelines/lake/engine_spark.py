"""The Spark engine of `lake marts`: the same model SQL, translated (pipelines.lake.transpile).

Master: `--master` if given; under spark-submit, the one spark-submit was given; else local[*].
Every model is materialised before the next reads it, as DuckDB's `create table` does: a local
checkpoint (computed once, lineage cut), so later plans and task closures stay small — persisted
DataFrames alone keep their lineage, and tasks deep in the chain spent minutes deserialising it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import sqlglot

from pipelines.errors import UserError
from pipelines.lake.transpile import to_spark
from pipelines.models import contract, runner

_SIMPLE = {"VARCHAR": "string", "JSON": "string", "BIGINT": "bigint", "INTEGER": "int", "DOUBLE": "double",
           "FLOAT": "float", "BOOLEAN": "boolean", "DATE": "date", "TIMESTAMP": "timestamp_ntz",
           "SMALLINT": "smallint", "TINYINT": "tinyint", "HUGEINT": "decimal(38,0)"}


def spark_type(duck: str) -> str:
    """A DuckDB column type of the contract or a cfg table → Spark SQL type."""
    t = duck.upper().strip()
    m = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", t)
    if m:
        return f"decimal({m[1]},{m[2]})"
    if t not in _SIMPLE:
        raise RuntimeError(f"no Spark type for DuckDB type {duck}")
    return _SIMPLE[t]


def _expr(duckdb_sql: str) -> str:
    return sqlglot.transpile(duckdb_sql, read="duckdb", write="spark")[0]


class SparkEngine:
    def __init__(self, master: str | None = None):
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise UserError(
                "没有安装 PySpark / PySpark is not installed: run `uv sync --group spark` "
                "(or `bash .ci/setup --system`); it needs Java 17") from None
        if master is None and "PYSPARK_GATEWAY_PORT" not in os.environ:  # not under spark-submit
            master = "local[*]"
        b = SparkSession.builder.appName("xiangzhi-lake-marts")
        if master:
            b = b.master(master)
        local = (master or "").startswith("local")
        conf = {
            "spark.sql.session.timeZone": "UTC",
            # county=360739 stays a string code, never an integer
            "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
            "spark.sql.parquet.compression.codec": "zstd",
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
        }
        if local:
            conf.update({
                "spark.sql.shuffle.partitions": os.environ.get("XIANGZHI_SPARK_SHUFFLE_PARTITIONS", "8"),
                "spark.driver.host": "127.0.0.1",
                "spark.driver.bindAddress": "127.0.0.1",
                "spark.driver.memory": os.environ.get("XIANGZHI_SPARK_DRIVER_MEMORY", "2g"),
            })
        # Extra settings, e.g. XIANGZHI_SPARK_CONF="spark.sql.adaptive.enabled=false;spark.executor.memory=8g"
        for item in filter(None, os.environ.get("XIANGZHI_SPARK_CONF", "").split(";")):
            k, _, v = item.partition("=")
            conf[k.strip()] = v.strip()
        for k, v in conf.items():
            b = b.config(k, v)
        try:
            self.spark = b.getOrCreate()
        except Exception as e:  # no Java, or a master that cannot be reached
            raise UserError(f"Spark 无法启动（需要 Java 17）/ Spark could not start (needs Java 17): "
                            f"{str(e).splitlines()[0]}") from None
        self.spark.sparkContext.setLogLevel("ERROR")
        self._cached = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._release()
        self.spark.stop()

    def _release(self):
        for df in self._cached:
            df.unpersist()
        self._cached = []

    def register_inputs(self, lake: Path, manifest: dict, tables: dict[str, list[str]]) -> None:
        self._release()
        for table, group in tables.items():
            columns = manifest["tables"][table]["columns"]
            paths = [str(lake / table / f"county={c}") for c in group if (lake / table / f"county={c}").exists()]
            if paths:
                # The schema is the manifest's: no footer reads to infer it, no type guessing.
                ddl = ", ".join(f"`{c}` {spark_type(t)}" for c, t in columns.items())
                df = self.spark.read.schema(ddl).option("basePath", str(lake / table)).parquet(*paths)
                df = df.select(*[f"`{c}`" for c in columns])
            else:
                ddl = ", ".join(f"`{c}` {spark_type(t)}" for c, t in columns.items())
                df = self.spark.createDataFrame([], ddl)
            df.createOrReplaceTempView(table)

    def run_models(self, order: list[str]) -> None:
        files = runner.model_files("marts")
        for name in order:
            sql = to_spark(files[name].read_text(encoding="utf-8").strip().rstrip(";"))
            try:
                df = self.spark.sql(sql).localCheckpoint(eager=True)
            except Exception as e:
                raise runner.ModelError(f"model marts/{name}.sql failed on Spark: {str(e).splitlines()[0]}") from e
            self._cached.append(df)
            df.createOrReplaceTempView(name)

    def write(self, table: str, target: Path, county_expr: str, month_expr: str | None) -> dict[str, int]:
        cols = [f"cast(`{c}` as {spark_type(t)}) as `{c}`" for c, t in contract.tables()[table].items()]
        cols.append(f"{_expr(county_expr)} as county")
        parts = ["county"]
        if month_expr:
            cols.append(f"{_expr(month_expr)} as month")
            parts.append("month")
        df = self.spark.table(table).selectExpr(*cols)
        df.write.mode("overwrite").partitionBy(*parts).parquet(str(target))
        return {r["county"]: r["count"] for r in df.groupBy("county").count().collect()}
