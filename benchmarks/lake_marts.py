"""Lake mart build: DuckDB over the lake vs Spark local[2] on the same lake (issue #17, SPEC §4.1).

    .venv/bin/python -m benchmarks.lake_marts --lake DIR            # an existing lake
    .venv/bin/python -m benchmarks.lake_marts --published A.duckdb --published B.duckdb --work DIR
    .venv/bin/python -m benchmarks.lake_marts --generate county --counties 4 --work DIR   # build one

With --published, those published copies are exported into a fresh lake under --work first. With
--generate SCALE --counties N, N counties (codes 360781, 360782, ...; seed = position) are generated
and ingested one by one, each in its own data home with its own key as a real county runs, then
exported into one lake: how a province's lake is filled (one `xiangzhi generate --scale province`
folder is one county, and ingesting it on a shared two-core machine takes hours). Homes already
ingested under --work are reused. Each
engine builds every mart of every county into its own output folder (--out), timed as wall time of
the whole `build` (Spark: session start included, reported apart); rows/s = the lake's fact rows
(fct_*) / seconds. Figures go to stdout and benchmarks/results/lake-<time>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
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


def _lake_sizes(lake: Path) -> dict[str, dict[str, int]]:
    """Fact rows per county, from the lake's manifest (what the rows/s figures divide by)."""
    from pipelines.lake import layout

    counties = layout.read_manifest(lake)["counties"]
    return {code: {t: n for t, n in sorted(e["rows"].items()) if t.startswith("fct_")}
            for code, e in sorted(counties.items())}


def _county_codes(n: int) -> list[str]:
    return [f"3607{81 + i:02d}" for i in range(n)]  # 360781..: distinct fictional counties of one city


def _generate_county(work: Path, scale: str, code: str, seed: int) -> Path:
    """Generate and ingest one county in its own data home; returns its published copy."""
    home = work / f"home{code}"
    published = home / "published" / "xiangzhi.duckdb"
    if published.exists():
        return published
    env = {**os.environ, "XIANGZHI_HOME": str(home), "XIANGZHI_SECRET": f"bench-secret-{code}"}
    # a script file, not -c: GX imports pyspark.sql.connect, which exits under -c (tests/test_lake.py)
    script = work / "_make_county.py"
    script.write_text(
        "import sys, time\nfrom pathlib import Path\nfrom pipelines.generate import generate\n"
        "from pipelines.load import ingest\n"
        "t = time.perf_counter()\n"
        "generate(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), 0.01, county=sys.argv[4])\n"
        "g = time.perf_counter() - t\n"
        "ingest([Path(sys.argv[3])])\n"
        "print(f'generate {g:.0f} s, ingest {time.perf_counter() - t - g:.0f} s', flush=True)\n",
        encoding="utf-8")
    exports = work / f"gen{code}"
    t = time.perf_counter()
    p = subprocess.run([sys.executable, str(script), scale, str(seed), str(exports), code], env=env,
                       capture_output=True, text=True, check=False)
    if p.returncode != 0 or not published.exists():
        raise SystemExit(f"county {code} failed:\n{p.stderr[-3000:]}")
    print(f"county {code}: {p.stdout.strip().splitlines()[-1]} ({time.perf_counter() - t:.0f} s)", flush=True)
    shutil.rmtree(exports, ignore_errors=True)  # the exports are not needed once ingested
    return published


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lake", help="an existing lake")
    ap.add_argument("--published", action="append", default=[], help="published copies to export first")
    ap.add_argument("--generate", metavar="SCALE", help="generate and ingest --counties counties of this scale")
    ap.add_argument("--counties", type=int, default=4, help="with --generate: how many counties")
    ap.add_argument("--work", default="/tmp/xiangzhi-lake-bench", help="work folder (lake and outputs)")
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--engines", default="duckdb,spark")
    a = ap.parse_args(argv)
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    if a.generate:
        a.published += [str(_generate_county(work, a.generate, code, i + 1))
                        for i, code in enumerate(_county_codes(a.counties))]
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
    sizes = _lake_sizes(lake)
    print(f"lake {lake}: {len(sizes)} counties")
    for code, rows in sizes.items():
        print(f"  {code}: " + ", ".join(f"{t} {n:,}" for t, n in rows.items()))
    results = {}
    for engine in a.engines.split(","):
        results[engine] = r = _run(lake, engine, work / f"marts-{engine}", a.master)
        print(f"{engine:7s} {r['seconds']:8.1f} s  {r['core_rows']:>12,} fact rows  "
              f"{r['rows_per_s']:>12,.0f} rows/s  marts {r['rows']}", flush=True)
    if len(results) > 1:  # side by side, figures of the same run (the machine is shared: compare ratios)
        print(f"\n{'engine':8s} {'seconds':>9s} {'fact rows/s':>13s} {'× duckdb':>9s} {'wall incl. start':>17s}")
        base = results.get("duckdb", next(iter(results.values())))["rows_per_s"]
        for engine, r in results.items():
            print(f"{engine:8s} {r['seconds']:9.1f} {r['rows_per_s']:13,.0f} {r['rows_per_s'] / base:9.2f} "
                  f"{r['wall_with_startup']:17.1f}")
    out = Path(__file__).parent / "results" / f"lake-{dt.datetime.now():%Y%m%dT%H%M%S}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"lake": str(lake), "master": a.master, "counties": sizes, "results": results},
                              indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
