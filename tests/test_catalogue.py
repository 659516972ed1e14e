"""The indicator catalogue: the packaged file is SPEC §5–6, and every broken edit names its line."""

from __future__ import annotations

import pytest

from pipelines.catalogue import DEFAULT_PATH, CatalogueError, load_catalogue
from pipelines.errors import UserError

TEXT = DEFAULT_PATH.read_text(encoding="utf-8")
LINES = TEXT.splitlines()


def test_packaged_catalogue_is_the_spec():
    cat = load_catalogue(DEFAULT_PATH)
    assert cat.ids == [
        "grid_active_rate", "key_visit_rate", "ordinary_visit_rate_qtd", "events_reported",
        "event_closure_rate", "on_time_rate", "median_handle_hours", "grid_resolution_rate",
        "village_resolution_rate", "satisfaction_rate", "disputes_registered", "disputes_per_1000",
        "mediation_success_rate", "petitions", "points_participation_rate", "points_per_household",
        "redemption_rate", "entry_timeliness_rate",
    ]
    assert {i.id: i.weight for i in cat.weighted} == {
        "key_visit_rate": 15, "grid_active_rate": 10, "event_closure_rate": 15, "on_time_rate": 10,
        "satisfaction_rate": 10, "mediation_success_rate": 15, "petitions": 10, "points_participation_rate": 15,
    }
    assert sum(i.weight for i in cat.indicators) == 100
    targets = {i.id: i.target for i in cat.indicators}
    assert targets == {
        "grid_active_rate": 1.0, "key_visit_rate": 1.0, "ordinary_visit_rate_qtd": 1.0, "events_reported": None,
        "event_closure_rate": 0.95, "on_time_rate": 0.95, "median_handle_hours": 72, "grid_resolution_rate": 0.6,
        "village_resolution_rate": 0.9, "satisfaction_rate": 0.95, "disputes_registered": None,
        "disputes_per_1000": None, "mediation_success_rate": 0.96, "petitions": 0,
        "points_participation_rate": 0.9, "points_per_household": None, "redemption_rate": None,
        "entry_timeliness_rate": 0.95,
    }
    lower = {i.id: i.tolerance for i in cat.indicators if i.direction == "lower"}
    assert lower == {"median_handle_hours": 72, "disputes_per_1000": None, "petitions": 2}
    assert [i.id for i in cat.indicators if i.veto] == ["petitions"]
    assert [i.id for i in cat.indicators if "grid" in i.levels] == [
        "grid_active_rate", "key_visit_rate", "ordinary_visit_rate_qtd", "events_reported",
    ]
    assert all({"village", "township", "county"} <= set(i.levels) for i in cat.indicators)
    assert cat["ordinary_visit_rate_qtd"].target_at == "quarter_end"
    assert cat["disputes_per_1000"].scale == 1000
    assert [g.name_zh for g in cat.groups] == ["网格工作", "事件处置", "矛盾纠纷", "积分治理"]
    s = cat.settings
    assert (s.board_share, s.star_share_5, s.star_share_4, s.star_share_3) == (0.1, 0.1, 0.2, 0.3)
    assert (s.low_n_threshold, s.entry_timeliness_days) == (5, 3)


def test_attainment_follows_spec():
    cat = load_catalogue(DEFAULT_PATH)
    assert cat["event_closure_rate"].attainment(0.76) == pytest.approx(0.8)    # 0.76 / 0.95
    assert cat["key_visit_rate"].attainment(1.0) == 1.0
    assert cat["median_handle_hours"].attainment(72) == 1.0
    assert cat["median_handle_hours"].attainment(108) == pytest.approx(0.5)    # 1 − 36/72
    assert cat["median_handle_hours"].attainment(200) == 0.0
    assert cat["petitions"].attainment(1) == 0.5                               # 1 − 1/2
    assert cat["events_reported"].attainment(3) is None


def test_env_var_points_at_an_office_copy(tmp_path, monkeypatch):
    copy = tmp_path / "office.yaml"
    copy.write_text(TEXT.replace("name_zh: 网格活跃率", "name_zh: 网格活跃度"), encoding="utf-8")
    monkeypatch.setenv("XIANGZHI_INDICATORS", str(copy))
    cat = load_catalogue()
    assert cat.path == copy and cat["grid_active_rate"].name_zh == "网格活跃度"
    monkeypatch.setenv("XIANGZHI_INDICATORS", str(tmp_path / "missing.yaml"))
    with pytest.raises(CatalogueError, match="missing.yaml"):
        load_catalogue()


def _line_in(iid: str | None, startswith: str) -> int:
    """1-based line of the first line starting with `startswith` (stripped) in indicator iid's block."""
    start = LINES.index(f"  - id: {iid}") if iid else 0
    return next(n for n in range(start, len(LINES)) if LINES[n].strip().startswith(startswith)) + 1


def _edit(line: int, new: str | None, insert: bool = False) -> str:
    lines = list(LINES)
    if insert:
        lines.insert(line, new)
    elif new is None:
        del lines[line - 1]
    else:
        lines[line - 1] = new
    return "\n".join(lines) + "\n"


# (case, indicator, line prefix to edit, replacement line, line the message must name, words in it)
CASES = [
    ("unknown id", "petitions", "- id: petitions", "  - id: petition", 0, "unknown indicator id 'petition'"),
    ("duplicate id", "redemption_rate", "- id: redemption_rate", "  - id: petitions", 0, "duplicate indicator id"),
    ("weight text", "petitions", "weight:", "    weight: ten", 0, "weight must be a number"),
    ("weight yes", "petitions", "weight:", "    weight: yes", 0, "weight must be a number"),
    ("weight negative", "key_visit_rate", "weight:", "    weight: -15", 0, "must not be negative"),
    ("target negative", "key_visit_rate", "target:", "    target: -1", 0, "target must not be negative"),
    ("rate target above 1", "event_closure_rate", "target:", "    target: 95", 0, "between 0 and 1"),
    ("target text", "on_time_rate", "target:", "    target: 九五", 0, "target must be a number"),
    ("lower without tolerance", "median_handle_hours", "tolerance:", "    tolerance: null", 0, "needs a tolerance"),
    ("zero tolerance", "petitions", "tolerance:", "    tolerance: 0", 0, "tolerance must be a positive number"),
    ("unknown field", "petitions", "weight:", "    weigth: 10", 0, "unknown field 'weigth'"),
    ("wrong kind", "key_visit_rate", "kind:", "    kind: count", 0, "must be 'rate', got 'count'"),
    ("grid level not computed", "on_time_rate", "levels:", "    levels: [grid, village, township, county]", 0,
     "no grid-level value"),
    ("missing level", "on_time_rate", "levels:", "    levels: [village, township]", 0, "must include county"),
    ("bad direction", "on_time_rate", "direction:", "    direction: up", 0, "must be one of higher, lower, none"),
    ("unknown group", "on_time_rate", "group:", "    group: 事件", 0, "unknown group"),
    ("weighted without target", "events_reported", "weight:", "    weight: 5", 0, "needs a target"),
    ("veto on a rate", "on_time_rate", "veto:", "    veto: true", 0, "only a count can be a veto"),
    ("board share above 1", None, "board_share:", "  board_share: 1.5", 0, "must be in (0, 1]"),
    ("unknown setting", None, "board_share:", "  board_shares: 0.1", 0, "unknown setting 'board_shares'"),
    ("tab", None, "board_share:", "\tboard_share: 0.1", 0, "YAML syntax error"),
    # The flow sequence is reported where the parser notices it is unclosed: the next line.
    ("unclosed bracket", "on_time_rate", "levels:", "    levels: [village, township, county", 1,
     "started at line"),
]


@pytest.mark.parametrize("case, iid, prefix, new, shift, words", CASES, ids=[c[0] for c in CASES])
def test_broken_edit_names_its_line(tmp_path, case, iid, prefix, new, shift, words):
    line = _line_in(iid, prefix)
    path = tmp_path / "indicators.yaml"
    path.write_text(_edit(line, new), encoding="utf-8")
    with pytest.raises(CatalogueError) as err:
        load_catalogue(path)
    message = str(err.value)
    assert message.startswith(f"{path}, 第{line + shift}行 / line {line + shift}: "), message
    assert words in message
    assert isinstance(err.value, UserError)  # the CLI prints it as one line, exit code 2


def test_duplicate_yaml_key_is_an_error(tmp_path):
    line = _line_in("petitions", "weight:")
    path = tmp_path / "indicators.yaml"
    path.write_text(_edit(line, "    weight: 5", insert=True), encoding="utf-8")
    with pytest.raises(CatalogueError, match=f"line {line + 1}: .*duplicate key 'weight'"):
        load_catalogue(path)


def test_missing_indicator_and_empty_file(tmp_path):
    start = _line_in("entry_timeliness_rate", "- id: entry_timeliness_rate")
    path = tmp_path / "indicators.yaml"
    path.write_text("\n".join(LINES[: start - 1]) + "\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="missing indicator.*entry_timeliness_rate"):
        load_catalogue(path)
    path.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="line 1: .*empty"):
        load_catalogue(path)


def test_cli_prints_one_line_not_a_traceback(tmp_path, monkeypatch, capsys):
    """A broken office copy surfaces through any command as `错误 / error: <file>, line N: …`."""
    import pipelines.cli as cli

    line = _line_in("petitions", "weight:")
    path = tmp_path / "indicators.yaml"
    path.write_text(_edit(line, "    weight: -1"), encoding="utf-8")
    monkeypatch.setenv("XIANGZHI_INDICATORS", str(path))

    def fake_command(_args):
        load_catalogue()
        return 0

    parser = cli.build_parser()
    args = parser.parse_args(["generate", "--out", str(tmp_path)])
    args.func = fake_command
    monkeypatch.setattr(cli.argparse.ArgumentParser, "parse_args", lambda self, argv=None: args)
    assert cli.main([]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"错误 / error: {path}, 第{line}行 / line {line}: petitions: 权重不能为负 / weight must not be negative, got -1"
