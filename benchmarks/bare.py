"""The bare engine on the same files: what the hardware and libraries do with no pipeline around them.

- UTF-8 CSV: DuckDB `read_csv` into a table of a DuckDB file (titles skipped, every column text).
- GBK CSV: the fastest route of FIELD_NOTES — Python's incremental gb18030 decoder in 16 MB chunks
  to a UTF-8 temp file, then the same `read_csv`.
- XLSX: calamine (fastexcel) loads each sheet to Arrow, inserted into a DuckDB table.

Each function takes [(path, [(sheet name or None, 1-based header row), ...]), ...] and returns
(seconds, rows in the tables).
"""

from __future__ import annotations

import codecs
import time
from pathlib import Path

import duckdb

CHUNK = 16 * 1024 * 1024


def _sql_str(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _read_csv_into(con, i: int, path: Path, header_row: int) -> int:
    con.execute(
        f"create table t{i} as select * from read_csv({_sql_str(path)}, skip={max(0, header_row - 1)}, "
        "header=true, all_varchar=true, null_padding=true, strict_mode=false)")
    return con.execute(f"select count(*) from t{i}").fetchone()[0]


def utf8_csv(files, db: Path) -> tuple[float, int]:
    t0 = time.perf_counter()
    con = duckdb.connect(str(db))
    rows = sum(_read_csv_into(con, i, p, sheets[0][1] or 1) for i, (p, sheets) in enumerate(files))
    con.execute("checkpoint")
    con.close()
    return time.perf_counter() - t0, rows


def gb18030_to_utf8(src: Path, dest: Path) -> None:
    """Decode in 16 MB chunks (memory stays flat); undecodable bytes become U+FFFD, as in the readers."""
    dec = codecs.getincrementaldecoder("gb18030")(errors="replace")
    with open(src, "rb") as fi, open(dest, "wb") as fo:
        while chunk := fi.read(CHUNK):
            fo.write(dec.decode(chunk).encode("utf-8"))
        fo.write(dec.decode(b"", final=True).encode("utf-8"))


def gbk_csv(files, db: Path, tmp: Path) -> tuple[float, int]:
    t0 = time.perf_counter()
    con = duckdb.connect(str(db))
    rows = 0
    for i, (p, sheets) in enumerate(files):
        u8 = tmp / f"bare_gbk_{i}.csv"
        gb18030_to_utf8(p, u8)
        rows += _read_csv_into(con, i, u8, sheets[0][1] or 1)
        u8.unlink()
    con.execute("checkpoint")
    con.close()
    return time.perf_counter() - t0, rows


def xlsx(files, db: Path) -> tuple[float, int]:
    import fastexcel

    t0 = time.perf_counter()
    con = duckdb.connect(str(db))
    rows = 0
    n = 0
    for p, sheets in files:
        reader = fastexcel.read_excel(str(p))
        for name, header_row in sheets:
            sheet = reader.load_sheet(name if name is not None else 0, header_row=max(0, (header_row or 1) - 1),
                                      dtypes="string")
            arrow = sheet.to_arrow()
            con.register("_sheet", arrow)
            con.execute(f"create table t{n} as select * from _sheet")
            con.unregister("_sheet")
            rows += arrow.num_rows
            n += 1
    con.execute("checkpoint")
    con.close()
    return time.perf_counter() - t0, rows
