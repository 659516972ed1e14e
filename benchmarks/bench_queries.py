"""Time every warehouse query the dashboard pages issue, against a published copy.

    .venv/bin/python benchmarks/bench_queries.py [PUBLISHED.duckdb] [--repeat N] [--role county|township|village]
        [--baseline OTHER/pipelines/warehouse.py]

Without a path, reads $XIANGZHI_HOME/published/xiangzhi.duckdb. Each query runs N times on one
read-only connection (a cursor per query, as the dashboard does; no Streamlit cache), for the latest
month and the scope's whole area. Prints p50/p95 per query and per page (a page's time is the sum of
its queries, i.e. one uncached page load).

Under load the wall times mostly measure waiting for a core: `cpu p95` is the process CPU time of
each call (all DuckDB threads), what a query costs on an idle machine.

--baseline times every query a second time with another version of the gateway module (e.g. the
main branch's pipelines/warehouse.py) on the same copy, interleaved call by call with ours so both
see the same machine load, and prints its p95 beside ours (a query the other version lacks is timed
with the function it replaced, BASELINE_OF).
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines import warehouse as wh  # noqa: E402

# page → the queries its view issues (keep in step with dashboard/views/*.py)
PAGES: dict[str, list[tuple[str, tuple, dict]]] = {
    "sidebar": [("periods", (), {}), ("townships", (), {}), ("villages", (), {}), ("resolve_unit", (), {})],
    "overview": [("kpis", ("P", "U"), {}), ("month_counts", ("P", "U"), {}), ("board_alerts", ("P", "U"), {}),
                 ("inactive_grids", ("P", "U"), {}), ("low_n_alerts", ("P", "U"), {})],
    "map": [("grid_values", ("P", "grid_active_rate", "U"), {}), ("boundaries", ("village", "U"), {}),
            ("boundaries", ("township", "U"), {}), ("event_points", ("P", "U"), {}),
            ("dispute_sites", ("P", "U"), {})],
    "trends": [("indicator_trend", ("event_closure_rate", "U"), {}), ("event_categories", ("U",), {}),
               ("dispute_types", ("U",), {})],
    "rankings": [("league_table", ("P", "U"), {}), ("village_indicators", ("P", "U"), {}),
                 ("village_history", ("V",), {}), ("scorecard", ("V", "P"), {})],
    "points": [("points_distribution", ("P", "U"), {}), ("points_by_category", ("P", "U"), {}),
               ("village_participation", ("P", "U"), {}), ("star_households", ("Y", "U"), {}),
               ("redemptions", ("U",), {})],
    "quality": [("reporting_by_grid", ("P", "U"), {}), ("load_batches", (), {}), ("load_files", (), {}),
                ("quarantine_by_reason", (), {}), ("validation_results", (), {})],
    # --- cases and drill-through (pages 9, 10): list queries for one month and one village ---
    # the events tab: filter options and counts, then the list's first rows (wh.CASE_LIST_ROWS; the
    # download fetches the rest when clicked)
    "cases": [("event_case_counts", ("P", "V"), {}), ("event_cases", ("P", "V"), {"limit": wh.CASE_LIST_ROWS}),
              ("event_case_counts", ("P", "V"), {"overdue": True}),
              ("event_cases", ("P", "V"), {"overdue": True, "limit": wh.CASE_LIST_ROWS}),
              ("overdue_events", ("V",), {"limit": wh.CASE_LIST_ROWS}), ("overdue_summary", ("V",), {}),
              ("dispute_cases", ("P", "V"), {})],
    "drill": [("drill_records", ("P", ind, "V"), {}) for ind in (
        "grid_active_rate", "key_visit_rate", "ordinary_visit_rate_qtd", "events_reported", "event_closure_rate",
        "on_time_rate", "median_handle_hours", "grid_resolution_rate", "village_resolution_rate",
        "satisfaction_rate", "disputes_registered", "disputes_per_1000", "mediation_success_rate", "petitions",
        "points_participation_rate", "points_per_household", "redemption_rate", "entry_timeliness_rate")],
    "cases_all": [("event_case_counts", ("P", "U"), {}), ("event_cases", ("P", "U"), {"limit": wh.CASE_LIST_ROWS}),
                  ("overdue_events", ("U",), {"limit": wh.CASE_LIST_ROWS}), ("overdue_summary", ("U",), {}),
                  ("dispute_cases", ("P", "U"), {})],
    "whatif": [("whatif_scores", ("P",), {}), ("whatif_scores", ("P", {"petitions": 20.0}, 0.2), {})],
    "compare": [("village_indicators", ("P", "V"), {}), ("village_history", ("V",), {})],
}


# query → the function of an older gateway that the page called instead (for --baseline)
# (the old cases page fetched every event to count them and list their categories)
BASELINE_OF = {"points_distribution": "household_points", "event_case_counts": "event_cases"}


def load_baseline(path: str):
    """Another warehouse.py, imported under its own name (it shares our pipelines package)."""
    spec = importlib.util.spec_from_file_location("warehouse_baseline", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up while the class is made
    spec.loader.exec_module(mod)
    return mod


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    if len(xs) == 1:
        return xs[0]
    k = (len(xs) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", nargs="?", help="published DuckDB file (default $XIANGZHI_HOME/published/xiangzhi.duckdb)")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--role", choices=list(wh.ROLES), default="county")
    ap.add_argument("--baseline", help="another pipelines/warehouse.py to time beside ours (interleaved)")
    a = ap.parse_args(argv)
    path = Path(a.path) if a.path else wh.published_path()
    con = wh.connect(path)
    first = wh.first_units(con)
    scope = wh.Scope(a.role, first[a.role]["code"])
    period = wh.periods(scope, con=con)[-1]
    villages = wh.villages(scope, con=con)
    village = villages["village_code"].iloc[0]
    subst = {"P": period, "U": scope.code, "V": village, "Y": int(period[:4])}
    sizes = {t: con.execute(f'select count(*) from "{t}"').fetchone()[0]  # noqa: S608 - fixed names
             for t in ("dim_village", "dim_grid", "dim_household", "fct_event", "fct_visit", "fct_points")}
    print(f"published copy: {path}  ({path.stat().st_size / 1e6:.1f} MB)")
    print("rows: " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))
    print(f"scope: {scope.role} {scope.code}  period: {period}  repeat: {a.repeat}\n")

    base = load_baseline(a.baseline) if a.baseline else None
    head = f"{'page':<10} {'query':<48} {'p50 ms':>9} {'p95 ms':>9} {'cpu p95':>9} {'rows':>8}"
    print(head + (f" {'base p95':>9} {'base cpu':>9} {'base rows':>9}" if base else ""))
    page_times: dict[str, list[float]] = {}
    for page, queries in PAGES.items():
        totals = [0.0] * a.repeat
        for name, args, kwargs in queries:
            fn = getattr(wh, name)
            old_fn = getattr(base, name, None) or getattr(base, BASELINE_OF.get(name, ""), None) if base else None
            real = tuple(subst.get(x, x) if isinstance(x, str) else x for x in args)
            times, cpu, rows, base_times, base_cpu, base_rows = [], [], 0, [], [], 0
            for i in range(a.repeat):
                t0, c0 = time.perf_counter(), time.process_time()
                try:
                    res = fn(scope, *real, con=con, **kwargs)
                except Exception as e:  # a query the copy cannot answer (e.g. no explain mart) is reported, not fatal
                    print(f"{page:<10} {name:<48} failed: {type(e).__name__}: {str(e)[:60]}")
                    break
                dt = (time.perf_counter() - t0) * 1000
                cpu.append((time.process_time() - c0) * 1000)
                times.append(dt)
                totals[i] += dt
                rows = len(res) if hasattr(res, "__len__") else 1
                if old_fn is not None:
                    t0, c0 = time.perf_counter(), time.process_time()
                    old_kw = {k: v for k, v in kwargs.items() if k in inspect.signature(old_fn).parameters}
                    res = old_fn(base.Scope(scope.role, scope.code), *real, con=con, **old_kw)
                    base_times.append((time.perf_counter() - t0) * 1000)
                    base_cpu.append((time.process_time() - c0) * 1000)
                    base_rows = len(res) if hasattr(res, "__len__") else 1
            if times:
                label = name + ("(" + ",".join(str(x) for x in args if x not in subst) + ")"
                                if name in ("boundaries", "drill_records") else "")
                label += "(overdue)" if kwargs.get("overdue") else ""
                label += f"(first {kwargs['limit']})" if kwargs.get("limit") else ""
                line = (f"{page:<10} {label:<48} {statistics.median(times):>9.1f} {pct(times, 0.95):>9.1f} "
                        f"{pct(cpu, 0.95):>9.1f} {rows:>8}")
                if base_times:
                    line += f" {pct(base_times, 0.95):>9.1f} {pct(base_cpu, 0.95):>9.1f} {base_rows:>9}"
                print(line)
        page_times[page] = totals
    print(f"\n{'page (sum of its queries, uncached)':<45} {'p50 ms':>9} {'p95 ms':>9}")
    for page, totals in page_times.items():
        print(f"{page:<45} {statistics.median(totals):>9.1f} {pct(totals, 0.95):>9.1f}")
    con.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
