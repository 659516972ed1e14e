"""One ingest in its own process, so its peak memory is its own: `python -m benchmarks.ingest_child`.

    python -m benchmarks.ingest_child --home HOME --json OUT.json PATH...

XIANGZHI_HOME is set to HOME (XIANGZHI_SECRET and XIANGZHI_MEMORY_LIMIT come from the environment).
Imports are done and timed before the ingest starts (a CLI run pays them on top). Writes
seconds, rows, per-phase seconds, peak RSS (VmHWM of /proc/self/status, and a 0.2 s psutil sampler that also says
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

from pipelines.config import DEFAULT_MEMORY_LIMIT


def _status_bytes(field: str) -> int:
    """VmHWM (peak) or VmRSS of this process from /proc/self/status. Not getrusage's ru_maxrss: Linux
    carries a forked child's ru_maxrss over from its parent across exec, so a child of a big
    benchmark parent reported the parent's peak (6.67 GiB for a 1 GiB ingest)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024  # kB
    raise RuntimeError(f"{field} not in /proc/self/status")


def _sampler(stop: threading.Event, out: dict, cap: int | None, json_path: Path, t0: float) -> None:
    import psutil

    from benchmarks.phases import ACTIVE

    proc = psutil.Process()
    while not stop.is_set():
        rss = proc.memory_info().rss
        phase = ACTIVE[-1] if ACTIVE else "-"
        if rss > out["rss"]:
            out["rss"], out["phase"] = rss, phase
        out["by_phase"][phase] = max(out["by_phase"].get(phase, 0), rss)
        if cap and rss > cap:
            # The machine is shared: stop before the kernel's OOM killer picks someone else's process.
            json_path.write_text(json.dumps({
                "aborted": f"RSS {rss / 2**30:.1f} GiB > cap {cap / 2**30:.1f} GiB during '{phase}' "
                           f"after {time.perf_counter() - t0:.0f} s",
                "peak_rss_bytes": rss, "sampled_peak_phase": phase,
                "sampled_peak_by_phase_bytes": out["by_phase"],
                "memory_limit": os.environ.get("XIANGZHI_MEMORY_LIMIT", f"{DEFAULT_MEMORY_LIMIT} (default)"),
            }, ensure_ascii=False, indent=1), encoding="utf-8")
            os._exit(3)
        stop.wait(0.2)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--no-marts", action="store_true")
    ap.add_argument("--rss-cap-gb", type=float, help="abort (exit 3) when the process grows beyond this")
    ap.add_argument("paths", nargs="+")
    a = ap.parse_args(argv)
    os.environ["XIANGZHI_HOME"] = a.home

    t0 = time.perf_counter()
    from pipelines.expectations import load_gx

    load_gx()  # timed here, not inside the ingest

    import pipelines.expectations  # noqa: F401
    import pipelines.load as load
    import pipelines.models.runner  # noqa: F401
    import pipelines.normalise  # noqa: F401
    import pipelines.readers.delimited  # noqa: F401
    import pipelines.readers.excel  # noqa: F401
    from benchmarks.phases import timed_phases, with_other

    import_s = time.perf_counter() - t0
    rss_import = _status_bytes("VmRSS")

    stop, peak = threading.Event(), {"rss": 0, "phase": "-", "by_phase": {}}
    t1 = time.perf_counter()
    cap = int(a.rss_cap_gb * 2**30) if a.rss_cap_gb else None
    th = threading.Thread(target=_sampler, args=(stop, peak, cap, Path(a.json), t1), daemon=True)
    th.start()
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    with timed_phases() as acc:
        report = load.ingest([Path(p) for p in a.paths], build_marts=not a.no_marts)
    seconds = time.perf_counter() - t1
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    stop.set()
    th.join()
    loaded = [f for f in report.files if f.status == "loaded"]
    out = {
        "seconds": seconds,
        "import_seconds": import_s,
        # CPU seconds of all threads: below `seconds` × cores when the machine is shared.
        "cpu_s": (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime),
        "rows_read": sum(f.rows_read for f in loaded),
        "rows_loaded": sum(f.rows_loaded for f in loaded),
        "files_loaded": len(loaded),
        "files_other": [(f.file_name, f.status, f.reason) for f in report.files if f.status != "loaded"],
        "phases": with_other(dict(acc), seconds),
        "mart_rows": report.mart_rows,
        "mart_build": {m: {"seconds": round(t, 3), "how": how}
                       for m, (t, how) in pipelines.models.runner.LAST_BUILD.items()},
        "peak_rss_bytes": _status_bytes("VmHWM"),
        "rss_after_imports_bytes": rss_import,
        "sampled_peak_phase": peak["phase"],
        "sampled_peak_by_phase_bytes": peak["by_phase"],
        "memory_limit": os.environ.get("XIANGZHI_MEMORY_LIMIT", f"{DEFAULT_MEMORY_LIMIT} (default)"),
        "published": str(report.published) if report.published else None,
    }
    Path(a.json).write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
