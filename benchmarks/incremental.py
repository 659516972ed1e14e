"""Section 8 of the benchmark alone (issue #12): month 2 vs the last month, on generated exports.

    .venv/bin/python -m benchmarks.incremental --data DIR [--scale county] [--months N] [--work DIR]
        [--repeats 3] [--history-months-per-ingest 12]

--months N generates the scale's county with N months of reports (e.g. `--scale small --months 24`:
more history than small's 6, still quick) — the scale is then named `small-24m` in the manifest.

The full run (benchmarks.run) includes it; this entry skips the other sections, which take long at
county scale on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from benchmarks.run import RESULTS, ensure_data, git_commit, incremental, loadavg, render_incremental


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", choices=("tiny", "small", "county", "province"), default="small")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--work", type=Path)
    ap.add_argument("--rss-cap-gb", type=float, default=14.0)
    ap.add_argument("--months", type=int, help="months of reports to generate (default: the scale's)")
    ap.add_argument("--keep-history", type=Path, help="copy each home here before its timed ingest")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs of each month (the median is shown)")
    ap.add_argument("--history-months-per-ingest", type=int, default=12,
                    help="load each month's history in ingests of this many months "
                         "(1: month by month, as an office does)")
    a = ap.parse_args(argv)
    if a.repeats < 1 or a.history_months_per_ingest < 1:
        ap.error("--repeats and --history-months-per-ingest must be at least 1")
    if a.months:
        from dataclasses import replace

        from pipelines.generate.world import SCALES

        if a.months < 3:
            ap.error("--months must be at least 3 (month 2 and a later month are compared)")
        scale = f"{a.scale}-{a.months}m"
        SCALES[scale] = replace(SCALES[a.scale], name=scale, months=a.months)
        a.scale = scale
    os.environ.setdefault("XIANGZHI_SECRET", "benchmark-secret")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    work = a.work or Path(tempfile.mkdtemp(prefix="xiangzhi-bench-incremental-"))
    started = datetime.now()
    try:
        manifest = ensure_data(a.scale, a.seed, a.data)
        inc = incremental(a.data, manifest, work, dict(os.environ), a.rss_cap_gb, keep_history=a.keep_history,
                          setup_months_per_batch=a.history_months_per_ingest, repeats=a.repeats)
        text = "\n".join([f"xiangzhi incremental benchmark — scale {a.scale} (seed {a.seed}), "
                          f"{started:%Y-%m-%dT%H:%M:%S}, commit {git_commit()}, load avg {loadavg()}"]
                         + render_incremental(inc))
        print(text)
        RESULTS.mkdir(exist_ok=True)
        out = RESULTS / f"incremental-{a.scale}-{started:%Y%m%dT%H%M%S}.json"
        out.write_text(json.dumps({"incremental": inc, "table": text}, ensure_ascii=False, indent=1, default=str),
                       encoding="utf-8")
    finally:
        if a.work is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
