"""Privacy (issue #19 item 9): no clear id numbers, phones or names in any DuckDB file, whatever the
captions of the file, and no raw data quoted in a reason; the demo's public key only in a demo home."""

from __future__ import annotations

import stat

import duckdb
import pytest

from pipelines import config, privacy
from pipelines.errors import UserError
from pipelines.load import ingest
from tests import builders as b


def _id(first17: str) -> str:
    """A resident id number with its valid check digit."""
    total = sum(int(c) * w for c, w in zip(first17, privacy._ID_WEIGHTS, strict=True))
    return first17 + privacy._ID_CHECK[total % 11]


CLEAR_IDS = (_id("36079919800101123"), _id("36079919850202345"), _id("36079919900303456"))
CLEAR_PHONES = ("13800138000", "13912345678", "15900001111")
CLEAR_NAMES = ("欧阳明月", "司马青云", "诸葛红梅")


def _every_value(db) -> str:
    """Every cell of every table (staged `_raw` and quarantine.raw_row included) as one text."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        parts = [str(con.execute(f'select * from "{t}"').fetchall())
                 for (t,) in con.execute("select table_name from duckdb_tables()").fetchall()]
    finally:
        con.close()
    return "\n".join(parts)


def _assert_nothing_clear(home, secrets):
    for db in (home / "warehouse" / "xiangzhi.duckdb", home / "published" / "xiangzhi.duckdb"):
        text = _every_value(db)
        leaked = [s for s in secrets if s in text]
        assert not leaked, (db.name, leaked)


@pytest.fixture
def ref(home, tmp_path):
    ingest(b.write_reference(tmp_path / "ref"))
    return tmp_path


def test_id_check_digit_and_scrub():
    assert privacy.valid_resident_id(CLEAR_IDS[0])
    assert not privacy.valid_resident_id(CLEAR_IDS[0][:17] + ("0" if CLEAR_IDS[0][17] != "0" else "1"))
    text = f"户主{CLEAR_IDS[1]}，电话 138-1234-5678，座机 0791-88881234，记录 V202506030001，2025-06-03 14:05"
    out = privacy.scrub_text(text)
    assert CLEAR_IDS[1] not in out and "138-1234-5678" not in out and "0791-88881234" not in out
    assert "V202506030001" in out and "2025-06-03 14:05" in out  # ids of records and dates stay readable
    assert out.count(privacy.ID_PLACEHOLDER) == 1 and out.count(privacy.PHONE_PLACEHOLDER) == 2


def test_household_file_with_unknown_personal_captions(ref, home, tmp_path):
    # 公民身份号码 and 联系方式 are not in the synonym table: the columns are unmapped, yet personal.
    header = ["户编号", "网格编码", "户主姓名", "公民身份号码", "联系方式", "家庭人口", "重点户类型", "家庭住址"]
    rows = [["H0101", b.G1, CLEAR_NAMES[0], CLEAR_IDS[0], CLEAR_PHONES[0], 3, "", "桃园村3组"],
            ["H0102", "360799109009009", CLEAR_NAMES[1], CLEAR_IDS[1], CLEAR_PHONES[1], 2, "", "桃园村5组"]]
    f = b.write_csv(tmp_path / "户籍_20250630.csv", header, rows)
    ingest([f])
    con = duckdb.connect(str(home / "published" / "xiangzhi.duckdb"), read_only=True)
    raw, code = con.execute("select raw_row, reason_code from quarantine where file_name = ?", [f.name]).fetchone()
    con.close()
    assert code == "UNKNOWN_GRID"
    assert "H0102" in raw and "360799109009009" in raw  # what the clerk needs to fix the row stays
    assert "桃园村5组" not in raw  # an unmapped column of a personal file is withheld
    _assert_nothing_clear(home, CLEAR_IDS[:2] + CLEAR_PHONES[:2] + CLEAR_NAMES[:2])


def test_visits_file_carrying_household_names_and_phones(ref, home, tmp_path):
    header = b.VISIT_HEADER + ["户主姓名", "联系电话", "备注"]
    rows = [b.visit("V1") + [CLEAR_NAMES[2], CLEAR_PHONES[2], f"身份证{CLEAR_IDS[2]}"],
            b.visit("V2", grid="360799109009009") + [CLEAR_NAMES[2], CLEAR_PHONES[2], f"身份证{CLEAR_IDS[2]}"]]
    f = b.write_csv(tmp_path / "走访_20250630.csv", header, rows)
    ingest([f])
    con = duckdb.connect(str(home / "published" / "xiangzhi.duckdb"), read_only=True)
    (raw,) = con.execute("select raw_row from quarantine where file_name = ?", [f.name]).fetchone()
    con.close()
    assert "赵网格" in raw  # grid workers' names are public by policy
    assert privacy.mask_name(CLEAR_NAMES[2]) in raw
    _assert_nothing_clear(home, (CLEAR_NAMES[2], CLEAR_PHONES[2], CLEAR_IDS[2]))


def test_parser_error_never_quotes_the_raw_line(ref, home, tmp_path):
    f = tmp_path / "户籍台账_引号.csv"
    f.write_text(
        "户编号,网格编码,户主姓名,身份证号,联系电话,家庭人口,重点户类型\n"
        f"H0201,{b.G1},{CLEAR_NAMES[0]},{CLEAR_IDS[0]},{CLEAR_PHONES[0]},3,\n"
        f'H0202,{b.G1},"{CLEAR_NAMES[1]},{CLEAR_IDS[1]},{CLEAR_PHONES[1]},2,\n'
        f"H0203,{b.G1},{CLEAR_NAMES[2]},{CLEAR_IDS[2]},{CLEAR_PHONES[2]},4,\n", encoding="utf-8")
    ingest([f])
    con = duckdb.connect(str(home / "published" / "xiangzhi.duckdb"), read_only=True)
    (reason,) = con.execute("select reason from load_files where file_name = ?", [f.name]).fetchone()
    rows = con.execute("select row_number from quarantine where file_name = ?", [f.name]).fetchall()
    con.close()
    assert "无法解析" in reason and rows == [(3,)]  # the line is quarantined by number, not quoted
    _assert_nothing_clear(home, CLEAR_NAMES + CLEAR_IDS + CLEAR_PHONES)


def test_a_parser_message_quoting_raw_data_becomes_line_and_column(tmp_path):
    from pipelines.readers import failure_reason

    f = tmp_path / "x.csv"
    f.write_text(f"a,b,c\nH1,{CLEAR_NAMES[0]},1\nH2,\"{CLEAR_NAMES[1]},{CLEAR_IDS[1]},{CLEAR_PHONES[1]}\n", encoding="utf-8")
    exc = RuntimeError(f"could not parse `\"{CLEAR_NAMES[1]},{CLEAR_IDS[1]},{CLEAR_PHONES[1]}` as dtype `str` at "
                       "column 'c2' (column number 3) The current offset in the file is 19 bytes")
    reason = failure_reason(f, exc)
    assert "第 3 行" in reason and "第 3 列" in reason and "line 3" in reason
    assert not any(s in reason for s in CLEAR_NAMES + CLEAR_IDS + CLEAR_PHONES)


def test_demo_key_is_refused_outside_a_demo_home(home, monkeypatch, tmp_path):
    monkeypatch.delenv("XIANGZHI_SECRET", raising=False)
    config.write_private(config.paths().secret_file, config.DEMO_SECRET + "\n")
    f = b.write_csv(tmp_path / "走访.csv", b.VISIT_HEADER, [b.visit("V1")])
    with pytest.raises(UserError, match="演示密钥"):
        ingest([f])
    assert not (home / "published" / "xiangzhi.duckdb").exists()
    (home / config.DEMO_MARKER).write_text("x", encoding="utf-8")
    assert config.secret() == config.DEMO_SECRET.encode()


def test_demo_key_from_the_environment_is_refused_too(home, monkeypatch):
    monkeypatch.setenv("XIANGZHI_SECRET", config.DEMO_SECRET)
    with pytest.raises(UserError, match="demo"):
        config.secret()


def test_created_key_is_private(home, monkeypatch):
    monkeypatch.delenv("XIANGZHI_SECRET", raising=False)
    key = config.secret(create=True)
    mode = stat.S_IMODE(config.paths().secret_file.stat().st_mode)
    assert len(key) == 64 and mode == 0o600


def test_citizen_reporters_of_events_never_in_clear(ref, home, tmp_path):
    # 上报人 is a grid worker for 网格员巡查 (public, SPEC §6.1), else the citizen who reported: masked,
    # in fct_event and in the staged/quarantined raw rows alike (one row quarantined: unknown grid).
    worker, citizens = "钱上报", ("欧阳群众", "司马热线", "诸葛来访")
    rows = [b.event("E1"),
            b.event("E2")[:2] + [citizens[0]] + b.event("E2")[3:5] + ["群众上报"] + b.event("E2")[6:],
            b.event("E3")[:2] + [citizens[1]] + b.event("E3")[3:5] + ["12345热线"] + b.event("E3")[6:],
            b.event("E4", grid="360799109009009")[:2] + [citizens[2]] + b.event("E4")[3:5] + ["群众上报"]
            + b.event("E4")[6:]]
    f = b.write_csv(tmp_path / "事件_20250630.csv", b.EVENT_HEADER, rows)
    ingest([f])
    con = duckdb.connect(str(home / "published" / "xiangzhi.duckdb"), read_only=True)
    got = dict(con.execute("select event_id, reporter from fct_event").fetchall())
    (raw,) = con.execute("select raw_row from quarantine where file_name = ?", [f.name]).fetchone()
    con.close()
    assert got == {"E1": worker, "E2": privacy.mask_name(citizens[0]), "E3": privacy.mask_name(citizens[1])}
    assert privacy.mask_name(citizens[2]) in raw and "360799109009009" in raw
    _assert_nothing_clear(home, citizens)


def test_keyed_hash_is_hmac_sha256_of_the_value_under_every_key():
    """keyed_hash(es) start from SHA-256 states of the key's pads computed once: the digest must stay
    exactly HMAC-SHA256(key, value) (hashes already in a warehouse must keep matching), for keys
    shorter than, equal to and longer than SHA-256's 64-byte block, one at a time or many at once,
    and a value hashed twice, or after another, hashes the same."""
    import hashlib
    import hmac
    import random

    from pipelines.privacy import keyed_hash, keyed_hashes

    rng = random.Random(7)
    values = ["360739199001011234", "13800138000", "张三", "Ａ１２３", "x" * 300] + [
        "".join(rng.choice("0123456789X张王李 ") for _ in range(rng.randint(1, 40))) for _ in range(200)]
    for key in (b"k", bytes(range(64)), bytes(rng.randrange(256) for _ in range(100))):
        for v in values + values[::-1]:
            assert keyed_hash(v, key) == hmac.new(key, v.encode("utf-8"), hashlib.sha256).hexdigest()[:20]
        assert keyed_hashes(values, key) == [keyed_hash(v, key) for v in values]
    assert keyed_hash("张三", b"k") != keyed_hash("张三", b"other key")
    assert keyed_hash(None, b"k") is None and keyed_hash("", b"k") is None
