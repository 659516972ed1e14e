"""One ingest in its own process, so its peak memory is its own: `python -m benchmarks.ingest_child`.

    python -m benchmarks.ingest_child --home HOME --json OUT.json PATH...

XIANGZHI_HOME is set to HOME (XIANGZHI_SECRET and XIANGZHI_MEMORY_LIMIT come from the environment).
Imports are done and timed before the ingest starts (a CLI run pays them on top). Writes
seconds, rows, per-phase seconds, peak RSS (getrusage, and a 0.2 s psutil sampler that also says
which phase the process was in at its peak) and the per-file outcomes to OUT.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path


def _sampler(stop: threading.Event, out: dict) -> None:
    import psutil

    from benchmarks.phases import ACTIVE

    proc = psutil.Process()
    while not stop.is_set():
        rss = proc.memory_info().rss
        phase = ACTIVE[-1] if ACTIVE else "-"
        if rss > out["rss"]:
            out["rss"], out["phase"] = rss, phase
        out["by_phase"][phase] = max(out["by_phase"].get(phase, 0), rss)
        stop.wait(0.2)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--no-marts", action="store_true")
    ap.add_argument("paths", nargs="+")
    a = ap.parse_args(argv)
    os.environ["XIANGZHI_HOME"] = a.home

    t0 = time.perf_counter()
    import great_expectations  # noqa: F401 - timed here, not inside the ingest

    import pipelines.expectations  # noqa: F401
    import pipelines.load as load
    import pipelines.models.runner  # noqa: F401
    import pipelines.normalise  # noqa: F401
    import pipelines.readers.delimited  # noqa: F401
    import pipelines.readers.excel  # noqa: F401
    from benchmarks.phases import timed_phases, with_other

    import_s = time.perf_counter() - t0
    rss_import = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    stop, peak = threading.Event(), {"rss": 0, "phase": "-", "by_phase": {}}
    th = threading.Thread(target=_sampler, args=(stop, peak), daemon=True)
    th.start()
    t1 = time.perf_counter()
    with timed_phases() as acc:
        report = load.ingest([Path(p) for p in a.paths], build_marts=not a.no_marts)
    seconds = time.perf_counter() - t1
    stop.set()
    th.join()
    loaded = [f for f in report.files if f.status == "loaded"]
    out = {
        "seconds": seconds,
        "import_seconds": import_s,
        "rows_read": sum(f.rows_read for f in loaded),
        "rows_loaded": sum(f.rows_loaded for f in loaded),
        "files_loaded": len(loaded),
        "files_other": [(f.file_name, f.status, f.reason) for f in report.files if f.status != "loaded"],
        "phases": with_other(dict(acc), seconds),
        "mart_rows": report.mart_rows,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "rss_after_imports_bytes": rss_import,
        "sampled_peak_phase": peak["phase"],
        "sampled_peak_by_phase_bytes": peak["by_phase"],
        "memory_limit": os.environ.get("XIANGZHI_MEMORY_LIMIT", "4GB (default)"),
        "published": str(report.published) if report.published else None,
    }
    Path(a.json).write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
