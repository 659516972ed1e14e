"""The indicator catalogue (SPEC §5–6): load and validate `pipelines/indicators.yaml`.

The catalogue is the only place that states names, targets, weights, tolerances and the board and
star settings; the mart SQL reads them from tables the model runner materialises from it. Offices
edit a copy and point `XIANGZHI_INDICATORS` at it, so every mistake must come back as one line naming
the file and the line of the bad value (CatalogueError, a UserError: no traceback through the CLI).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipelines.errors import UserError

DEFAULT_PATH = Path(__file__).with_name("indicators.yaml")
ENV_VAR = "XIANGZHI_INDICATORS"

# What the mart SQL computes: id → kind. The catalogue may rename, retarget and reweight these,
# but not invent new ones or change how one is computed.
INDICATOR_KINDS: dict[str, str] = {
    "grid_active_rate": "rate",
    "key_visit_rate": "rate",
    "ordinary_visit_rate_qtd": "rate",
    "events_reported": "count",
    "event_closure_rate": "rate",
    "on_time_rate": "rate",
    "median_handle_hours": "median",
    "grid_resolution_rate": "rate",
    "village_resolution_rate": "rate",
    "satisfaction_rate": "rate",
    "disputes_registered": "count",
    "disputes_per_1000": "rate",
    "mediation_success_rate": "rate",
    "petitions": "count",
    "points_participation_rate": "rate",
    "points_per_household": "rate",
    "redemption_rate": "rate",
    "entry_timeliness_rate": "rate",
}
# Rates whose value is not a share of 0–1, so their targets may exceed 1.
UNBOUNDED_RATE_IDS = ("disputes_per_1000", "points_per_household", "redemption_rate")
# SPEC §5 last line: only these have a grid-level row.
GRID_LEVEL_IDS = ("grid_active_rate", "key_visit_rate", "ordinary_visit_rate_qtd", "events_reported")
LEVELS = ("grid", "village", "township", "county")
REQUIRED_LEVELS = ("village", "township", "county")
DIRECTIONS = ("higher", "lower", "none")
TARGET_AT = ("month", "quarter_end")

_INDICATOR_FIELDS = {
    "id", "name_zh", "name_en", "definition_zh", "definition_en", "unit", "kind", "levels", "target",
    "target_at", "direction", "tolerance", "weight", "veto", "group", "scale",
}
_REQUIRED_FIELDS = (
    "id", "name_zh", "name_en", "definition_zh", "definition_en", "unit", "kind", "levels", "target",
    "direction", "weight", "group",
)
_SETTINGS = {
    "board_share": "红黑榜比例 board share",
    "star_share_5": "五星比例 5-star share",
    "star_share_4": "四星比例 4-star share",
    "star_share_3": "三星比例 3-star share",
    "low_n_threshold": "小样本阈值 low-n threshold",
    "entry_timeliness_days": "录入及时天数 entry timeliness days",
}

# --- grid workers' scoring sheet (SPEC §6.1) ---------------------------------------------------
# What the grid_worker_scores SQL computes, in the order of the published columns: item → sign
# (+1 a reward, −1 a lapse). The sheet may re-point and re-cap these, not invent or drop one.
WORKER_ITEMS: dict[str, int] = {
    "households_visited": 1,
    "key_households_visited": 1,
    "patrols": 1,
    "talks": 1,
    "events_reported": 1,
    "events_resolved_in_grid": 1,
    "overdue_events": -1,
    "late_entries": -1,
}
# SPEC §6.1: the four grades, best first; the sheet sets their thresholds.
WORKER_GRADES = ("优秀", "良好", "合格", "不合格")
_WORKER_ITEM_FIELDS = ("item", "name_zh", "name_en", "unit_zh", "points", "cap")


class CatalogueError(UserError):
    """A broken catalogue edit: the message names the file and the line."""


@dataclass(frozen=True)
class Group:
    id: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class Indicator:
    id: str
    name_zh: str
    name_en: str
    definition_zh: str
    definition_en: str
    unit: str
    kind: str  # rate | count | median
    levels: tuple[str, ...]
    target: float | None
    direction: str  # higher | lower | none
    tolerance: float | None
    weight: float
    veto: bool
    group: str
    target_at: str = "month"
    scale: float = 1.0

    @property
    def weighted(self) -> bool:
        return self.weight > 0

    def attainment(self, value: float | None) -> float | None:
        """SPEC §6 attainment (the SQL of village_score_parts computes the same)."""
        if value is None or self.target is None or self.direction == "none":
            return None
        if self.direction == "higher":
            return min(value / self.target, 1.0)
        if value <= self.target:
            return 1.0
        return max(0.0, 1.0 - (value - self.target) / self.tolerance)


@dataclass(frozen=True)
class Settings:
    board_share: float
    star_share_5: float
    star_share_4: float
    star_share_3: float
    low_n_threshold: float
    entry_timeliness_days: int


@dataclass(frozen=True)
class WorkerItem:
    item: str
    name_zh: str
    name_en: str
    unit_zh: str
    points: float  # per unit counted; negative for a lapse
    cap: float  # |item points| never exceeds |cap|; same sign as points

    def score(self, count: int) -> float:
        """count × points held to the cap (the SQL of grid_worker_scores computes the same)."""
        raw = count * self.points
        return min(raw, self.cap) if self.points >= 0 else max(raw, self.cap)


@dataclass(frozen=True)
class WorkerGrade:
    grade: str
    name_en: str
    min: float | None  # None for the last grade (everything below the others)


@dataclass(frozen=True)
class WorkerSheet:
    """网格员考核评议表: base, the eight items and the grades (SPEC §6.1)."""

    base: float
    items: tuple[WorkerItem, ...]
    grades: tuple[WorkerGrade, ...]

    def __getitem__(self, item: str) -> WorkerItem:
        return next(i for i in self.items if i.item == item)

    def grade(self, total: float) -> str:
        t = round(total, 4)
        for g in self.grades:
            if g.min is None or t >= g.min:
                return g.grade
        return self.grades[-1].grade


@dataclass(frozen=True)
class Catalogue:
    path: Path
    indicators: tuple[Indicator, ...]
    groups: tuple[Group, ...]
    settings: Settings
    workers: WorkerSheet

    def __getitem__(self, indicator_id: str) -> Indicator:
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        raise KeyError(indicator_id)

    @property
    def ids(self) -> list[str]:
        return [i.id for i in self.indicators]

    @property
    def weighted(self) -> list[Indicator]:
        return [i for i in self.indicators if i.weighted]

    def group(self, group_id: str) -> Group:
        return next(g for g in self.groups if g.id == group_id)

    def in_group(self, group_id: str) -> list[Indicator]:
        return [i for i in self.indicators if i.group == group_id]


def catalogue_path() -> Path:
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else DEFAULT_PATH


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Read and validate the catalogue (default: $XIANGZHI_INDICATORS, else the packaged file)."""
    path = Path(path) if path is not None else catalogue_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise CatalogueError(f"{path}: 无法读取指标目录 / cannot read the indicator catalogue ({e.strerror})") from None
    except UnicodeDecodeError:
        raise CatalogueError(f"{path}: 不是UTF-8文本 / not UTF-8 text") from None
    return _Validator(path, text).run()


# The cfg_* tables (models/runner.materialise_catalogue) hold the whole catalogue the marts were
# computed from; these are the columns from_tables needs (a copy published before they existed lacks some).
TABLE_COLUMNS = {
    "cfg_indicator": {"definition_zh", "definition_en", "target_at"},
    "cfg_group": {"group_id", "name_zh", "name_en"},
    "cfg_worker_item": {"unit_zh"},
    "cfg_worker_grade": {"name_en"},
}


def from_tables(con, path: str | Path) -> Catalogue | None:
    """The catalogue as published with the marts (cfg_* tables), so pages, pack and notebooks show the
    targets, weights and lights the scores used, not the YAML as edited since (#18 item 3).
    None when the database lacks the tables (nothing published yet, or a copy from before them)."""
    have: dict[str, set[str]] = {}
    for table, column in con.execute(
            "select table_name, column_name from information_schema.columns "
            "where starts_with(table_name, 'cfg_')").fetchall():
        have.setdefault(table, set()).add(column)
    if any(not cols <= have.get(t, set()) for t, cols in TABLE_COLUMNS.items()):
        return None
    levels: dict[str, list[str]] = {}
    for ind_id, level in con.execute("select indicator_id, unit_level from cfg_indicator_level").fetchall():
        levels.setdefault(ind_id, []).append(level)
    indicators = tuple(
        Indicator(id=r[0], name_zh=r[1], name_en=r[2], definition_zh=r[3], definition_en=r[4], unit=r[5],
                  kind=r[6], levels=tuple(levels.get(r[0], ())), target=r[7], direction=r[8], tolerance=r[9],
                  weight=r[10], veto=bool(r[11]), group=r[12], target_at=r[13], scale=r[14])
        for r in con.execute(
            "select indicator_id, name_zh, name_en, definition_zh, definition_en, unit, kind, target, direction, "
            "tolerance, weight, veto, grp, target_at, scale from cfg_indicator order by ordinal").fetchall())
    groups = tuple(Group(*r) for r in con.execute(
        "select group_id, name_zh, name_en from cfg_group order by ordinal").fetchall())
    setting = dict(con.execute("select key, value from cfg_setting").fetchall())
    fields = Settings.__dataclass_fields__
    settings = Settings(**{k: (int(setting[k]) if fields[k].type in ("int", int) else setting[k]) for k in fields})
    items = tuple(WorkerItem(*r) for r in con.execute(
        "select item, name_zh, name_en, unit_zh, points, cap from cfg_worker_item order by ordinal").fetchall())
    grades = tuple(WorkerGrade(*r) for r in con.execute(
        "select grade, name_en, min_total from cfg_worker_grade order by ordinal").fetchall())
    workers = WorkerSheet(base=setting["worker_base"], items=items, grades=grades)
    return Catalogue(path=Path(path), indicators=indicators, groups=groups, settings=settings, workers=workers)


def _is_number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


class _Validator:
    """Walks the composed YAML node tree beside the constructed data so every error keeps its line."""

    def __init__(self, path: Path, text: str):
        self.path = path
        self.text = text

    def fail(self, node, message: str):
        line = node.start_mark.line + 1 if node is not None else 1
        raise CatalogueError(f"{self.path}, 第{line}行 / line {line}: {message}")

    # -- YAML ------------------------------------------------------------------------------------
    def parse(self):
        loader = yaml.SafeLoader(self.text)
        try:
            node = loader.get_single_node()
            if node is None:
                raise CatalogueError(f"{self.path}, 第1行 / line 1: 文件为空 / the file is empty")
            self.check_duplicate_keys(node)
            data = loader.construct_document(node)
        except yaml.MarkedYAMLError as e:
            mark = e.problem_mark or e.context_mark
            line = mark.line + 1 if mark else 1
            what = e.problem or e.context or "syntax error"
            if e.context and e.context_mark and e.problem_mark and e.context_mark.line != e.problem_mark.line:
                start = e.context_mark.line + 1
                what += f" ({e.context}, 始于第{start}行 / started at line {start})"
            raise CatalogueError(f"{self.path}, 第{line}行 / line {line}: YAML语法错误 / YAML syntax error: {what}") from None
        except yaml.YAMLError as e:
            raise CatalogueError(f"{self.path}: YAML语法错误 / YAML syntax error: {e}") from None
        finally:
            loader.dispose()
        return node, data

    def check_duplicate_keys(self, node):
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode):
                    if k.value in seen:
                        self.fail(k, f"重复的键 / duplicate key '{k.value}'")
                    seen.add(k.value)
                self.check_duplicate_keys(v)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                self.check_duplicate_keys(item)

    @staticmethod
    def child(node, key):
        """The value node under a mapping key."""
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == key:
                    return v
        return None

    @staticmethod
    def key_node(node, key):
        for k, _v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return k
        return None

    # -- semantics -------------------------------------------------------------------------------
    def run(self) -> Catalogue:
        root, data = self.parse()
        if not isinstance(data, dict):
            self.fail(root, "顶层应为映射（settings, groups, indicators）/ top level must be a mapping")
        for key in data:
            if key not in ("settings", "groups", "indicators", "worker_assessment"):
                self.fail(self.key_node(root, key), f"未知的顶层键 / unknown top-level key '{key}'")
        settings = self.settings(root, data)
        groups = self.groups(root, data)
        indicators = self.indicators(root, data, {g.id for g in groups})
        workers = self.worker_sheet(root, data)
        return Catalogue(path=self.path, indicators=indicators, groups=groups, settings=settings,
                         workers=workers)

    def section(self, root, data, key, kind):
        if key not in data:
            self.fail(root, f"缺少 '{key}' 部分 / missing section '{key}'")
        node = self.child(root, key)
        if not isinstance(data[key], kind):
            what = "映射 mapping" if kind is dict else "列表 list"
            self.fail(node, f"'{key}' 应为{what} / '{key}' must be a {what.split()[1]}")
        return node, data[key]

    def settings(self, root, data) -> Settings:
        node, s = self.section(root, data, "settings", dict)
        for key in s:
            if key not in _SETTINGS:
                self.fail(self.key_node(node, key), f"未知设置 / unknown setting '{key}'")
        values = {}
        for key, label in _SETTINGS.items():
            if key not in s:
                self.fail(node, f"缺少设置 / missing setting '{key}' ({label})")
            v, vnode = s[key], self.child(node, key)
            if not _is_number(v) or v < 0:
                self.fail(vnode, f"{label} 应为非负数 / must be a non-negative number, got {v!r}")
            if key.startswith(("board_share", "star_share")) and not 0 < v <= 1:
                self.fail(vnode, f"{label} 应在0到1之间 / must be in (0, 1], got {v!r}")
            if key == "entry_timeliness_days" and v != int(v):
                self.fail(vnode, f"{label} 应为整数天 / must be a whole number of days, got {v!r}")
            values[key] = v
        if not values["star_share_5"] <= values["star_share_4"] <= values["star_share_3"]:
            self.fail(self.child(node, "star_share_5"),
                      "星级比例应满足 五星 ≤ 四星 ≤ 三星 / star shares must satisfy 5 ≤ 4 ≤ 3")
        values["entry_timeliness_days"] = int(values["entry_timeliness_days"])
        return Settings(**values)

    def groups(self, root, data) -> tuple[Group, ...]:
        node, items = self.section(root, data, "groups", list)
        out, seen = [], set()
        for gnode, g in zip(node.value, items, strict=True):
            if not isinstance(g, dict):
                self.fail(gnode, "每个分组应为映射 / each group must be a mapping")
            for key in ("id", "name_zh", "name_en"):
                if not isinstance(g.get(key), str) or not g[key].strip():
                    self.fail(self.child(gnode, key) or gnode, f"分组缺少 / group needs a non-empty '{key}'")
            if g["id"] in seen:
                self.fail(self.child(gnode, "id"), f"重复的分组 / duplicate group id '{g['id']}'")
            seen.add(g["id"])
            out.append(Group(g["id"], g["name_zh"], g["name_en"]))
        return tuple(out)

    def indicators(self, root, data, group_ids: set[str]) -> tuple[Indicator, ...]:
        node, items = self.section(root, data, "indicators", list)
        out: list[Indicator] = []
        seen: set[str] = set()
        for inode, item in zip(node.value, items, strict=True):
            iid = item.get("id") if isinstance(item, dict) else None
            if isinstance(iid, str) and iid in seen:
                self.fail(self.child(inode, "id"), f"重复的指标 / duplicate indicator id '{iid}'")
            ind = self.indicator(inode, item, group_ids)
            seen.add(ind.id)
            out.append(ind)
        missing = [i for i in INDICATOR_KINDS if i not in seen]
        if missing:
            self.fail(node, f"缺少指标 / missing indicator(s): {', '.join(missing)}")
        if sum(i.weight for i in out) <= 0:
            self.fail(node, "权重之和应大于0 / the weights must sum to more than 0")
        return tuple(out)

    def indicator(self, inode, item, group_ids) -> Indicator:
        if not isinstance(item, dict):
            self.fail(inode, "每个指标应为映射 / each indicator must be a mapping")
        for key in item:
            if key not in _INDICATOR_FIELDS:
                self.fail(self.key_node(inode, key), f"未知字段 / unknown field '{key}'")
        for key in _REQUIRED_FIELDS:
            if key not in item:
                self.fail(inode, f"指标缺少字段 / indicator is missing '{key}'")

        def at(key):
            return self.child(inode, key)

        iid = item["id"]
        if not isinstance(iid, str) or iid not in INDICATOR_KINDS:
            self.fail(at("id"), f"未知指标 / unknown indicator id '{iid}' (known: {', '.join(INDICATOR_KINDS)})")
        for key in ("name_zh", "name_en", "definition_zh", "definition_en", "unit"):
            if not isinstance(item[key], str) or not item[key].strip():
                self.fail(at(key), f"{iid}: '{key}' 应为非空文本 / must be non-empty text")
        kind = item["kind"]
        if kind != INDICATOR_KINDS[iid]:
            self.fail(at("kind"), f"{iid}: kind 应为 / must be '{INDICATOR_KINDS[iid]}', got {kind!r}")

        levels = item["levels"]
        if not isinstance(levels, list) or any(lv not in LEVELS for lv in levels):
            self.fail(at("levels"), f"{iid}: levels 只能取 / may only contain {', '.join(LEVELS)}")
        if missing := [lv for lv in REQUIRED_LEVELS if lv not in levels]:
            self.fail(at("levels"), f"{iid}: levels 缺少 / must include {', '.join(missing)}")
        if "grid" in levels and iid not in GRID_LEVEL_IDS:
            self.fail(at("levels"), f"{iid}: 没有网格级数值 / has no grid-level value (only {', '.join(GRID_LEVEL_IDS)})")

        weight = item["weight"]
        if not _is_number(weight):
            self.fail(at("weight"), f"{iid}: 权重应为数字 / weight must be a number, got {weight!r}")
        if weight < 0:
            self.fail(at("weight"), f"{iid}: 权重不能为负 / weight must not be negative, got {weight!r}")

        scale = item.get("scale", 1)
        if not _is_number(scale) or scale <= 0:
            self.fail(at("scale"), f"{iid}: scale 应为正数 / scale must be a positive number, got {scale!r}")
        if scale != 1 and kind != "rate":
            self.fail(at("scale"), f"{iid}: 只有比率可设 scale / only rates have a scale")

        target = item["target"]
        if target is not None:
            if not _is_number(target):
                self.fail(at("target"), f"{iid}: 目标值应为数字或null / target must be a number or null, got {target!r}")
            if target < 0:
                self.fail(at("target"), f"{iid}: 目标值不能为负 / target must not be negative, got {target!r}")
            if kind == "rate" and iid not in UNBOUNDED_RATE_IDS and target > 1:
                self.fail(at("target"), f"{iid}: 比率目标应在0到1之间（如0.95）/ a rate target must be between 0 and 1 (e.g. 0.95), got {target!r}")
        target_at = item.get("target_at", "month")
        if target_at not in TARGET_AT:
            self.fail(at("target_at"), f"{iid}: target_at 应为 / must be one of {', '.join(TARGET_AT)}")

        direction = item["direction"]
        if direction not in DIRECTIONS:
            self.fail(at("direction"), f"{iid}: direction 应为 / must be one of {', '.join(DIRECTIONS)}, got {direction!r}")

        tolerance = item.get("tolerance")
        if tolerance is not None and (not _is_number(tolerance) or tolerance <= 0):
            self.fail(at("tolerance"), f"{iid}: 容差应为正数 / tolerance must be a positive number, got {tolerance!r}")
        if direction == "lower" and target is not None and tolerance is None:
            self.fail(at("tolerance") or inode, f"{iid}: 越低越好的指标需要容差 / a lower-is-better indicator with a target needs a tolerance")

        if weight > 0:
            if target is None or direction == "none":
                self.fail(at("weight"), f"{iid}: 计入总分的指标需要目标值和方向 / a weighted indicator needs a target and a direction")
            if direction == "higher" and target == 0:
                self.fail(at("target"), f"{iid}: 越高越好的目标值不能为0 / a higher-is-better target must be above 0")

        veto = item.get("veto", False)
        if not isinstance(veto, bool):
            self.fail(at("veto"), f"{iid}: veto 应为 true/false / veto must be true or false, got {veto!r}")
        if veto and kind != "count":
            self.fail(at("veto"), f"{iid}: 只有计数指标可一票否决 / only a count can be a veto")

        group = item["group"]
        if group not in group_ids:
            self.fail(at("group"), f"{iid}: 未知分组 / unknown group {group!r} (known: {', '.join(sorted(group_ids))})")

        return Indicator(
            id=iid, name_zh=item["name_zh"], name_en=item["name_en"],
            definition_zh=item["definition_zh"], definition_en=item["definition_en"], unit=item["unit"],
            kind=kind, levels=tuple(lv for lv in LEVELS if lv in levels),
            target=None if target is None else float(target), direction=direction,
            tolerance=None if tolerance is None else float(tolerance), weight=float(weight), veto=veto,
            group=group, target_at=target_at, scale=float(scale),
        )

    # -- grid workers' scoring sheet (SPEC §6.1) ---------------------------------------------------
    def worker_sheet(self, root, data) -> WorkerSheet:
        node, sheet = self.section(root, data, "worker_assessment", dict)
        for key in sheet:
            if key not in ("base", "items", "grades"):
                self.fail(self.key_node(node, key), f"考核评议表未知字段 / unknown field '{key}' in worker_assessment")
        for key in ("base", "items", "grades"):
            if key not in sheet:
                self.fail(node, f"考核评议表缺少 / worker_assessment is missing '{key}'")
        base = sheet["base"]
        if not _is_number(base) or not 0 <= base <= 100:
            self.fail(self.child(node, "base"), f"基础分应在0到100之间 / base must be a number in 0–100, got {base!r}")
        return WorkerSheet(base=float(base), items=self.worker_items(node, sheet),
                           grades=self.worker_grades(node, sheet))

    def worker_items(self, node, sheet) -> tuple[WorkerItem, ...]:
        inode = self.child(node, "items")
        items = sheet["items"]
        if not isinstance(items, list):
            self.fail(inode, "items 应为列表 / items must be a list")
        out: dict[str, WorkerItem] = {}
        for n, it in zip(inode.value, items, strict=True):
            if not isinstance(it, dict):
                self.fail(n, "每个考核项目应为映射 / each item must be a mapping")
            for key in it:
                if key not in _WORKER_ITEM_FIELDS:
                    self.fail(self.key_node(n, key), f"考核项目未知字段 / unknown field '{key}'")
            for key in _WORKER_ITEM_FIELDS:
                if key not in it:
                    self.fail(n, f"考核项目缺少字段 / item is missing '{key}'")
            name = it["item"]
            if name not in WORKER_ITEMS:
                self.fail(self.child(n, "item"),
                          f"未知考核项目 / unknown item {name!r} (known: {', '.join(WORKER_ITEMS)})")
            if name in out:
                self.fail(self.child(n, "item"), f"重复的考核项目 / duplicate item '{name}'")
            for key in ("name_zh", "name_en", "unit_zh"):
                if not isinstance(it[key], str) or not it[key].strip():
                    self.fail(self.child(n, key), f"{name}: '{key}' 应为非空文本 / must be non-empty text")
            sign = WORKER_ITEMS[name]
            word = "正数（加分项）/ a positive number (a reward)" if sign > 0 else "负数（扣分项）/ a negative number (a lapse)"
            for key in ("points", "cap"):
                v = it[key]
                if not _is_number(v) or v * sign <= 0:
                    self.fail(self.child(n, key), f"{name}: {key} 应为{word}, got {v!r}")
            out[name] = WorkerItem(name, it["name_zh"], it["name_en"], it["unit_zh"], float(it["points"]),
                                   float(it["cap"]))
        if missing := [i for i in WORKER_ITEMS if i not in out]:
            self.fail(inode, f"缺少考核项目 / missing item(s): {', '.join(missing)}")
        return tuple(out[i] for i in WORKER_ITEMS)

    def worker_grades(self, node, sheet) -> tuple[WorkerGrade, ...]:
        gnode = self.child(node, "grades")
        grades = sheet["grades"]
        if not isinstance(grades, list):
            self.fail(gnode, "grades 应为列表 / grades must be a list")
        names = [g.get("grade") if isinstance(g, dict) else None for g in grades]
        if names != list(WORKER_GRADES):
            bad = next((i for i, (a, b) in enumerate(zip(names, WORKER_GRADES, strict=False)) if a != b), None)
            at = gnode if bad is None else (self.child(gnode.value[bad], "grade") or gnode.value[bad])
            self.fail(at, f"等次应依次为 / grades must be, in order: {', '.join(WORKER_GRADES)}")
        out, prev = [], None
        for i, (n, g) in enumerate(zip(gnode.value, grades, strict=True)):
            for key in g:
                if key not in ("grade", "name_en", "min"):
                    self.fail(self.key_node(n, key), f"等次未知字段 / unknown field '{key}'")
            if not isinstance(g.get("name_en"), str) or not g["name_en"].strip():
                self.fail(self.child(n, "name_en") or n, f"{g['grade']}: 'name_en' 应为非空文本 / must be non-empty text")
            last = i == len(grades) - 1
            v = g.get("min")
            at = self.child(n, "min") or n
            if last:
                if v is not None:
                    self.fail(at, f"{g['grade']}: 最后一个等次不设下限（min: null）/ the last grade takes no min (min: null)")
            else:
                if not _is_number(v) or not 0 <= v <= 100:
                    self.fail(at, f"{g['grade']}: min 应在0到100之间 / min must be a number in 0–100, got {v!r}")
                if prev is not None and v >= prev:
                    self.fail(at, f"{g['grade']}: 下限应低于上一等次（{prev:g}）/ min must be below the grade above ({prev:g})")
                prev = v
            out.append(WorkerGrade(g["grade"], g["name_en"], None if v is None else float(v)))
        return tuple(out)
