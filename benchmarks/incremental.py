"""Section 8 of the benchmark alone (issue #12): month 2 vs the last month, on generated exports.

    .venv/bin/python -m benchmarks.incremental --data DIR [--scale county] [--work DIR]

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
    a = ap.parse_args(argv)
    os.environ.setdefault("XIANGZHI_SECRET", "benchmark-secret")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    work = a.work or Path(tempfile.mkdtemp(prefix="xiangzhi-bench-incremental-"))
    started = datetime.now()
    try:
        manifest = ensure_data(a.scale, a.seed, a.data)
        inc = incremental(a.data, manifest, work, dict(os.environ), a.rss_cap_gb)
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
