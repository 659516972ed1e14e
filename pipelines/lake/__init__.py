"""The Parquet lake (SPEC §4.1): the published contract of many counties in one folder tree.

Layout (Hive-style, readable by DuckDB's `read_parquet(..., hive_partitioning=true)` and by Spark):

    DIR/manifest.json                               tables, columns + types, per-county rows and stamps
    DIR/<table>/county=<code>/month=<YYYY-MM>/*.parquet   tables with a month (facts, monthly marts)
    DIR/<table>/county=<code>/*.parquet                    the others (dims, cfg_*, load tables, stars)

`layout` says which table is partitioned how; `export` writes a county's published copy into the
lake; `marts` recomputes the marts from the lake's core tables on DuckDB or Spark; `store` holds the
write-beside-then-swap step both use.
"""
