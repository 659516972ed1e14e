"""Parity of a lake mart build at any size (issue #17): the Spark marts against the DuckDB marts,
and the DuckDB marts against a county's own published marts, row for row.

    .venv/bin/python -m benchmarks.lake_parity WORK [--published A/published/xiangzhi.duckdb]

WORK is a `benchmarks.lake_marts --work` folder (marts-duckdb/, marts-spark/). Each pair of tables
is compared with EXCEPT ALL both ways (a multiset: duplicates count), floats rounded to 9 places;
prints one line per mart and exits 1 when any differs. tests/test_lake.py makes the same claim on
a two-county lake in CI; this script makes it at benchmark scale.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb


def _columns(con, source: str) -> dict[str, str]:
    return {r[0]: r[1] for r in con.execute(f"describe select * from {source}").fetchall()}


def _select(con, source: str, names: list[str]) -> str | None:
    types = _columns(con, source)
    if any(n not in types for n in names):
        return None
    cols = [f'round("{n}", 9) as "{n}"' if types[n] in ("DOUBLE", "FLOAT") else f'"{n}"' for n in names]
    return f"select {', '.join(cols)} from {source}"


def compare(con, a: str, b: str, names: list[str]) -> tuple[int, int, int] | None:
    sa, sb = _select(con, a, names), _select(con, b, names)
    if sa is None or sb is None:
        return None
    only_a = con.execute(f"select count(*) from ({sa} except all {sb})").fetchone()[0]
    only_b = con.execute(f"select count(*) from ({sb} except all {sa})").fetchone()[0]
    return con.execute(f"select count(*) from ({sa})").fetchone()[0], only_a, only_b


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("work", type=Path)
    ap.add_argument("--published", type=Path, help="a county's published copy to compare the DuckDB marts with")
    a = ap.parse_args(argv)
    con = duckdb.connect(config={"memory_limit": "6GB"})
    if a.published:
        con.execute("attach ? as pub (read_only)", [str(a.published)])
    marts = sorted(p.name for p in (a.work / "marts-duckdb").iterdir() if p.is_dir() and not p.name.startswith("."))
    bad = 0

    def parquet(engine: str, table: str) -> str:
        return f"read_parquet('{a.work / f'marts-{engine}' / table}/**/*.parquet', hive_partitioning = false)"

    for table in marts:
        names = list(_columns(con, parquet("duckdb", table)))
        pairs = [("spark", parquet("spark", table))] if (a.work / "marts-spark" / table).is_dir() else []
        if a.published:
            pairs.append(("published", f"pub.main.{table}"))
        line = [f"{table:26s}"]
        for other, source in pairs:
            r = compare(con, parquet("duckdb", table), source, names)
            if r is None:
                line.append(f"duckdb vs {other}: columns differ")
                bad += 1
                continue
            n, only_a, only_b = r
            bad += bool(only_a or only_b)
            line.append(f"duckdb vs {other}: {n:,} rows, {only_a} only in duckdb, {only_b} only in {other}")
        print(" | ".join(line), flush=True)
    print("all equal" if not bad else f"{bad} comparisons differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
