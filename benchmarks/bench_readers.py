"""Reader throughput: read_file (and + normalise) against bare polars / DuckDB CSV reads.

Not part of pytest. Run:  .venv/bin/python benchmarks/bench_readers.py [--rows 1000000]
Writes a UTF-8 and a GBK events CSV (with a title line, like real exports) into a temp dir and
prints rows/s and the ratio to a bare `polars.read_csv` of the same UTF-8 file.
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from pathlib import Path

import polars as pl

from pipelines.normalise import normalise
from pipelines.readers import read_file

HEADER = ["事件编号", "网格编码", "上报人", "上报时间", "事件类别", "来源", "处置层级", "状态",
          "受理时间", "办结时限", "办结时间", "满意度", "录入时间"]


def make_events(n: int) -> pl.DataFrame:
    i = pl.int_range(0, n, eager=True)
    ts = pl.datetime(2025, 6, 1) + pl.duration(minutes=i * 7 % 40000)
    return pl.DataFrame({"i": i}).select(
        ("E" + i.cast(pl.String).str.zfill(8)).alias("事件编号"),
        ("360726101" + (i % 500).cast(pl.String).str.zfill(3) + (i % 7).cast(pl.String).str.zfill(3)).alias("网格编码"),
        pl.lit("王䶮").alias("上报人"),
        ts.dt.strftime("%Y-%m-%d %H:%M").alias("上报时间"),
        pl.lit(["矛盾纠纷", "安全隐患", "环境卫生", "民生诉求"]).list.get(i % 4).alias("事件类别"),
        pl.lit("群众上报").alias("来源"),
        pl.lit(["网格", "村", "乡镇"]).list.get(i % 3).alias("处置层级"),
        pl.lit(["已上报", "已受理", "已办结", "办结"]).list.get(i % 4).alias("状态"),
        ts.dt.strftime("%Y/%m/%d %H:%M").alias("受理时间"),
        (ts + pl.duration(days=7)).dt.strftime("%Y-%m-%d %H:%M").alias("办结时限"),
        (ts + pl.duration(days=2)).dt.strftime("%Y年%m月%d日 %H:%M").alias("办结时间"),
        pl.lit(["满意", "基本满意", None]).list.get(i % 3).alias("满意度"),
        (ts + pl.duration(hours=3)).dt.strftime("%Y-%m-%d %H:%M:%S").alias("录入时间"),
    )


def timed(label: str, rows: int, fn, base: float | None = None) -> float:
    """Wall time and CPU time (all threads): on a shared machine the CPU time is the steadier figure."""
    gc.collect()
    c0, t0 = time.process_time(), time.perf_counter()
    fn()
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    ratio = f"  ({dt / base:.2f}× bare polars)" if base else ""
    print(f"{label:<44} {dt:6.2f} s wall {cpu:6.2f} s cpu  {rows / dt / 1e6:5.2f} M rows/s{ratio}")
    return dt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    n = args.rows
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        text = "网格事件导出\n" + make_events(n).write_csv()
        utf8, gbk = d / "events_utf8.csv", d / "events_gbk.csv"
        utf8.write_bytes(text.encode("utf-8"))
        gbk.write_bytes(text.encode("gb18030"))
        del text
        print(f"{n:,} rows; UTF-8 {utf8.stat().st_size / 1e6:.0f} MB, GBK {gbk.stat().st_size / 1e6:.0f} MB")
        key = b"bench"

        base = timed("bare polars read_csv (UTF-8, all String)", n,
                     lambda: pl.read_csv(utf8, skip_rows=1, infer_schema=False))
        try:
            import duckdb

            timed("bare duckdb read_csv (UTF-8, all VARCHAR)", n,
                  lambda: duckdb.sql(f"select * from read_csv('{utf8}', skip=1, all_varchar=true)").pl(), base)
        except ImportError:
            pass
        timed("read_file UTF-8", n, lambda: read_file(utf8), base)
        timed("read_file GBK", n, lambda: read_file(gbk), base)
        res = read_file(utf8)
        assert res.error is None and res.rows_read == n + 1, (res.error, res.rows_read)
        timed("normalise (after read_file)", n, lambda: normalise(res.source, res.sheets[0], key), base)
        timed("read_file + normalise UTF-8", n,
              lambda: normalise(res.source, read_file(utf8).sheets[0], key), base)
        timed("read_file + normalise GBK", n,
              lambda: normalise(res.source, read_file(gbk).sheets[0], key), base)


if __name__ == "__main__":
    main()
