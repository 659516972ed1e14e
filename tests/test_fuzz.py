"""Fuzz harness (issue #19): a few hundred deterministic mutations of real-looking exports.

Every mutated file must be read (or rejected with a reason) and normalised without an exception,
with the reader's row accounting intact; a few mutated batches go through the whole ingest, where
every loaded file's rows must add up and no personal value may appear in clear. The seeds are the
generated small county's exports (cut to their first lines) and the hand-built test county; the
mutations are those of the red-team pass (numbers, dates, quotes, encodings, line endings, widths,
truncation, byte flips). Seeded, so a failure names a case that reproduces.
"""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import pytest

from pipelines.normalise import normalise
from pipelines.readers import read_file
from tests import builders as b

HOSTILE = [
    "inf", "-inf", "NaN", "1e308", "1000000000000", "-99999999999999999999", "0001-01-01", "1899-12-31",
    "1900-02-29", "0", "60", "2025-02-30", "9999-12-31 23:59", "<img src=x onerror=alert(1)>",
    "'; drop table fct_visit; --", "\x00", "９９９", "１３８００１３８０００", "=cmd|' /C calc'!A0", "\u202e反转",
    "x" * 5000, "😀", "", " ", "合计", '"', '""', "\\", "{\"a\": 1}", "NULL", "None", "nan",
]
CASES = 300
BATCHES = 3


def _seeds(folder: Path) -> list[Path]:
    from pipelines.generate import generate

    gen = folder / "gen"
    generate(scale="small", seed=7, out=gen, dirty=0.02)
    seeds = []
    for f in sorted(gen.iterdir()):
        if f.suffix in (".csv", ".jsonl", ".geojson"):
            data = f.read_bytes()
            if f.suffix != ".geojson":
                data = b"\n".join(data.split(b"\n")[:40]) + b"\n"  # small: the harness stays fast
            cut = folder / "seeds" / f.name
            cut.parent.mkdir(exist_ok=True)
            cut.write_bytes(data)
            seeds.append(cut)
        elif f.suffix in (".xlsx", ".xls") and f.stat().st_size < 60_000:
            seeds.append(f)
    seeds += b.write_reference(folder / "ref")
    return seeds


def _mutate(data: bytes, rng: random.Random) -> bytes:
    kind = rng.randrange(11)
    if kind == 0 and data:  # byte flips
        buf = bytearray(data)
        for _ in range(rng.randint(1, 5)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        return bytes(buf)
    if kind == 1 and data:  # truncation
        return data[: rng.randrange(len(data))]
    if kind == 2 and data:  # a byte range deleted
        i = rng.randrange(len(data))
        return data[:i] + data[i + rng.randint(1, 200):]
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if kind == 3:  # hostile cell values
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(lines))
            cells = lines[i].split(",")
            cells[rng.randrange(len(cells))] = rng.choice(HOSTILE)
            lines[i] = ",".join(cells)
        return "\n".join(lines).encode("utf-8")
    if kind == 4:  # stray quotes
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(lines))
            j = rng.randrange(len(lines[i]) + 1)
            lines[i] = lines[i][:j] + '"' + lines[i][j:]
        return "\n".join(lines).encode("utf-8")
    if kind == 5:  # whole file or every other line in GB18030
        if rng.random() < 0.5:
            return text.encode("gb18030", errors="replace")
        return b"\n".join(s.encode("gb18030" if k % 2 else "utf-8", errors="replace") for k, s in enumerate(lines))
    if kind == 6:  # line endings
        return text.replace("\n", rng.choice(["\r", "\r\n", "\n\n"])).encode("utf-8")
    if kind == 7:  # wide rows
        i = rng.randrange(len(lines))
        lines[i] += "," * rng.choice([10, 500, 3000])
        return "\n".join(lines).encode("utf-8")
    if kind == 8:  # header removed or doubled
        if len(lines) > 2 and rng.random() < 0.5:
            return "\n".join(lines[1:]).encode("utf-8")
        return "\n".join(lines[:1] + lines).encode("utf-8")
    if kind == 9:  # BOM toggled, NULs
        return (data[3:] if data.startswith(b"\xef\xbb\xbf") else b"\xef\xbb\xbf" + data) if rng.random() < 0.7 \
            else data.replace(b",", b",\x00", 3)
    return b""  # empty file


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> list[Path]:
    return _seeds(tmp_path_factory.mktemp("fuzz"))


def test_mutated_files_are_read_or_rejected_never_raise(seeds, tmp_path):
    rng = random.Random(20251201)
    outcomes = {"read": 0, "rejected": 0}
    for case in range(CASES):
        seed = seeds[case % len(seeds)]
        f = tmp_path / f"{case:03d}_{seed.name}"
        f.write_bytes(_mutate(seed.read_bytes(), rng))
        try:
            res = read_file(f)
            if res.error:
                assert res.error.strip() and "\n" not in res.error, (case, res.error)
                outcomes["rejected"] += 1
                continue
            for sheet in res.sheets:
                assert sheet.rows_read == sheet.rows.height + sheet.non_data, (case, f.name)
                frame = normalise(res.source, sheet, b"fuzz-key")
                assert frame.height == sheet.rows.height, (case, f.name)
            outcomes["read"] += 1
        except AssertionError:
            raise
        except Exception as exc:  # noqa: BLE001 - the point of the harness
            pytest.fail(f"case {case} ({seed.name}): {type(exc).__name__}: {exc}"[:500])
        f.unlink()
    # Both paths are exercised: most mutations still read, a good share are rejected.
    assert outcomes["read"] > CASES // 3 and outcomes["rejected"] > 10, outcomes


@pytest.mark.parametrize("batch", range(BATCHES))
def test_mutated_batches_ingest_and_every_row_is_accounted_for(seeds, home, tmp_path, batch):
    from pipelines.load import ingest

    rng = random.Random(1000 + batch)
    folder = tmp_path / "inbox"
    folder.mkdir()
    for i, seed in enumerate(seeds):
        data = seed.read_bytes()
        (folder / f"{i:02d}_{seed.name}").write_bytes(_mutate(data, rng) if rng.random() < 0.5 else data)
    report = ingest([folder])
    assert report.published is not None
    con = duckdb.connect(str(home / "published" / "xiangzhi.duckdb"), read_only=True)
    try:
        bad = con.execute("""select file_name, rows_read, rows_loaded, rows_quarantined, rows_duplicate, rows_non_data
                             from load_files where status = 'loaded'
                               and rows_read <> rows_loaded + rows_quarantined + rows_duplicate + rows_non_data""").fetchall()
        text = str(con.execute("select * from quarantine").fetchall()) + str(
            con.execute("select * from load_files").fetchall())
    finally:
        con.close()
    assert not bad, bad
    for secret in b.SECRET_NAMES + b.SECRET_IDS + b.SECRET_PHONES:
        assert secret not in text, secret
