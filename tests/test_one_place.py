"""One table per fact (#18 item 3): the page and the pack format a value the same way, reason words
live once, the generator's value sets are the loader's, and everything downstream of publish reads
the catalogue the scores were computed from (the published cfg_* tables), not the YAML as edited since.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pipelines import formats
from pipelines.catalogue import from_tables, load_catalogue

UNITS = ("比率", "小时", "件", "件/千人", "分/户")


def test_page_and_pack_write_every_indicator_value_alike():
    """The pack (report/text.py) and the dashboard (dashboard/i18n.py) disagreed: 1.23万 on the page,
    12,345 in the pack. Both now write the catalogue's units through pipelines/formats.py."""
    from dashboard import i18n
    from pipelines.report import text as rt

    cat = load_catalogue()
    assert {i.unit for i in cat.indicators} <= set(UNITS)  # a new unit needs a rule in formats.py
    for ind in cat.indicators:
        for v in (12345, 0.935, 34.5, 3, 1.25, None, float("nan")):
            assert rt.fmt_value(v, ind) == i18n.fmt_value(v, ind.unit, "zh"), (ind.id, v)
            assert rt.fmt_delta(v, ind) == (i18n.fmt_delta(v, ind.unit, "zh") or "—"), (ind.id, v)
    assert i18n.fmt_count(12345, "zh") == i18n.fmt_count(12345, "en") == "12,345"
    assert formats.fmt_value(0.9351, "比率") == "93.5%"
    assert formats.fmt_value(34.54, "小时", "en") == "34.5 h"
    assert formats.fmt_value(3, "件") == "3 件" and formats.fmt_value(3, "件", "en") == "3"
    assert formats.fmt_delta(0.012, "比率") == "+1.2个百分点"
    assert formats.fmt_delta(-0.012, "比率", "en") == "-1.2 pp"
    assert formats.fmt_delta(None, "比率") is None
    assert formats.prev_period("2025-01") == "2024-12" and formats.prev_period("2025-06", 3) == "2025-03"


def test_reason_words_live_in_sources_only():
    from dashboard import i18n
    from pipelines import sources
    from pipelines.report import text as rt

    assert tuple(sources.REASON_LABELS) == sources.REASON_CODES
    assert i18n.REASONS is sources.REASON_LABELS
    assert rt.REASONS == {c: zh for c, (zh, _en) in sources.REASON_LABELS.items()}
    assert all(zh and en for zh, en in sources.REASON_LABELS.values())


def test_generator_value_sets_are_the_loaders():
    from pipelines.generate import activity, world
    from pipelines.sources import ENUMS

    assert set(activity.EVENT_CATEGORIES) == set(ENUMS["event_category"])
    assert set(activity.EVENT_SOURCES) == set(ENUMS["event_source"])
    assert set(activity.VISIT_TYPES) == set(ENUMS["visit_type"])
    assert set(activity.DISPUTE_TYPES) == set(ENUMS["dispute_type"])
    assert set(activity.ORGS) == set(ENUMS["mediation_org"])
    assert set(activity.RESULTS) | {"调解中"} == set(ENUMS["mediation_result"])
    assert set(world.KEY_TYPES) | {"普通户"} == set(ENUMS["key_type"])


def test_pack_page_words_are_in_the_one_catalogue():
    """views/monthly_pack.py kept its own word table; its words are i18n entries now, both languages."""
    from dashboard.i18n import TEXT

    src = (Path(__file__).parents[1] / "dashboard" / "views" / "monthly_pack.py").read_text(encoding="utf-8")
    assert "WORDS" not in src
    pack = {k: v for k, v in TEXT.items() if k.startswith("pack_")}
    assert len(pack) >= 20 and all(v.get("zh") and v.get("en") for v in pack.values())


def _ingest_tiny(home: Path) -> None:
    from pipelines.load import ingest
    from tests.builders import VISIT_HEADER, visit, write_csv, write_reference

    inbox = home.parent / "in"
    inbox.mkdir(parents=True, exist_ok=True)
    write_reference(inbox)
    write_csv(inbox / "走访.csv", VISIT_HEADER, [visit("V1")])
    ingest([inbox])


def test_published_catalogue_round_trips(home):
    """Every field of the catalogue survives cfg_* → from_tables (path aside)."""
    import duckdb

    from pipelines import config

    _ingest_tiny(home)
    with duckdb.connect(str(config.paths().published), read_only=True) as con:
        published = from_tables(con, "x")
    assert published is not None
    yaml_cat = load_catalogue()
    assert dataclasses.replace(published, path=yaml_cat.path) == yaml_cat


def test_pages_read_the_catalogue_the_scores_used(home, tmp_path, monkeypatch):
    """Edit a target in the YAML after the ingest: the published scores still use the old target, so
    the pages (warehouse.catalogue) must too, until the next ingest rebuilds the marts with the new one."""
    from pipelines import warehouse as wh
    from pipelines.catalogue import catalogue_path

    _ingest_tiny(home)
    old = wh.catalogue()["on_time_rate"].target
    edited = tmp_path / "indicators.yaml"
    text = catalogue_path().read_text(encoding="utf-8")
    assert "id: on_time_rate" in text
    head, tail = text.split("id: on_time_rate", 1)
    before, after = tail.split("target:", 1)
    value, rest = after.split("\n", 1)
    edited.write_text(head + "id: on_time_rate" + before + "target: 0.5\n" + rest, encoding="utf-8")
    monkeypatch.setenv("XIANGZHI_INDICATORS", str(edited))
    assert load_catalogue()["on_time_rate"].target == pytest.approx(0.5)
    assert wh.catalogue()["on_time_rate"].target == pytest.approx(old) != pytest.approx(0.5)
    # The next ingest computes the marts with the edited catalogue, and the pages follow.
    from pipelines.load import ingest
    from tests.builders import VISIT_HEADER, visit, write_csv

    extra = tmp_path / "more"
    extra.mkdir()
    write_csv(extra / "走访2.csv", VISIT_HEADER, [visit("V9", at="2025-06-04 10:00")])
    ingest([extra])
    assert wh.catalogue()["on_time_rate"].target == pytest.approx(0.5)
