"""Lake mart build: DuckDB over the lake vs Spark local[2] on the same lake (issue #17, SPEC §4.1).

    .venv/bin/python -m benchmarks.lake_marts --lake DIR            # an existing lake
    .venv/bin/python -m benchmarks.lake_marts --published A.duckdb --published B.duckdb --work DIR

With --published, those published copies are exported into a fresh lake under --work first. Each
engine builds every mart of every county into its own output folder (--out), timed as wall time of
the whole `build` (Spark: session start included, reported apart); rows/s = the lake's fact rows
(fct_*) / seconds. Figures go to stdout and benchmarks/results/lake-<time>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path


def _run(lake: Path, engine: str, out: Path, master: str) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    # A child process per engine: Spark's JVM and DuckDB's memory do not share one process's figures.
    code = (
        "import json, sys, time\n"
        "from pathlib import Path\n"
        "t = time.perf_counter()\n"
        "from pipelines.lake.marts import build\n"
        f"r = build(Path({str(lake)!r}), engine={engine!r}, out=Path({str(out)!r}), master={master!r})\n"
        "print(json.dumps({'seconds': time.perf_counter() - t, 'core_rows': r.core_rows, 'rows': r.rows,"
        " 'groups': r.groups}))\n"
    )
    script = out.parent / f"_bench_{engine}.py"  # a file, not -c: pyspark exits under -c (test_lake.py)
    script.write_text(code, encoding="utf-8")
    t = time.perf_counter()
    p = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        raise SystemExit(f"{engine} failed:\n{p.stderr[-3000:]}")
    res = json.loads(p.stdout.strip().splitlines()[-1])
    res["wall_with_startup"] = wall
    res["rows_per_s"] = res["core_rows"] / res["seconds"] if res["seconds"] else None
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lake", help="an existing lake")
    ap.add_argument("--published", action="append", default=[], help="published copies to export first")
    ap.add_argument("--work", default="/tmp/xiangzhi-lake-bench", help="work folder (lake and outputs)")
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--engines", default="duckdb,spark")
    a = ap.parse_args(argv)
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    if a.lake:
        lake = Path(a.lake)
    else:
        from pipelines.lake.export import export_county

        lake = work / "lake"
        shutil.rmtree(lake, ignore_errors=True)
        t = time.perf_counter()
        for p in a.published:
            export_county(lake, Path(p))
        print(f"export: {len(a.published)} counties in {time.perf_counter() - t:.1f} s")
    results = {}
    for engine in a.engines.split(","):
        results[engine] = r = _run(lake, engine, work / f"marts-{engine}", a.master)
        print(f"{engine:7s} {r['seconds']:8.1f} s  {r['core_rows']:>12,} fact rows  "
              f"{r['rows_per_s']:>12,.0f} rows/s  marts {r['rows']}")
    out = Path(__file__).parent / "results" / f"lake-{dt.datetime.now():%Y%m%dT%H%M%S}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"lake": str(lake), "master": a.master, "results": results}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
