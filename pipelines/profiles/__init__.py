"""Import profiles 导入方案 (SPEC §3.8): one YAML file per export format of another system.

A profile says which source kind a format is, the captions that recognise it, caption → canonical
field, value maps per field, derived fields and the row shape. Three places hold profiles:
- the built-in profile of SPEC §3.1–3.4 per kind, generated here from the synonym table of
  pipelines/sources.py (its one source of truth: no YAML repeats it);
- the profiles shipped in pipelines/profiles/shipped/;
- an office's own, in $XIANGZHI_HOME/profiles/ (no code to touch).

Every mistake in a profile comes back as one line naming the file and the line (ProfileError, a
UserError), like the indicator catalogue.

Profile YAML:

    name: jeecg_points                 # unique, [a-z0-9_]
    label: JeecgBoot 智慧乡村 居民积分登记记录
    kind: points                       # a source kind of SPEC §3
    signature: [户编号, 加（扣）分分值, 评分类别]   # captions that must all be present
    columns:                           # caption → canonical field (captions compared normalised)
      户编号: household_id
    values:                            # per field: value as exported → canonical value
      review_status: {"1": 已确认}
    derive:                            # fields the export lacks (see DERIVATIONS)
      record_id: {hash: [户编号, 登记日期, 加（扣）分项]}
    rows:                              # row shape
      header_rows: 2                   # a two-row header (group captions merged over sub-captions)
      fill_down: [household_id]        # vertically merged cells
      group: {by: household_id, head: {column: 与户主关系, value: 户主}, count: members}
      split:                           # one free-text cell naming several records → one row each
        column: 门牌和户主              # the caption of that column ("12号杨红霞、18号张光荣")
        into: head_name                # the field each part feeds
        separator: "[、，,;；\\s]+"      # optional (this is the default)
        label: "[0-9]+号"              # optional: a non-personal prefix (门牌) cut from each part;
                                       # a derived id may name the part as `_part` (its label)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pipelines import sources
from pipelines.errors import UserError
from pipelines.sources import DATE, DATETIME, ENTRY_FIELDS, SOURCES, Source

SHIPPED_DIR = Path(__file__).with_name("shipped")
BUILTIN_PREFIX = "builtin_"
# How a derived field is computed; the keys a derivation may carry.
DERIVATIONS = {
    "const": "a constant value 常量",
    "copy": "another column's value 复制另一列",
    "hash": "a stable hash of the named columns (a record id the export lacks) 指定列的稳定哈希",
    "title": "the value beside a label in the lines above the header 表头上方标签旁的值",
    "extract": "the first group of a regular expression over a column 正则提取",
    "cases": "the value of the first regular expression a column matches (else default) 按正则分类",
    "deadline": "another time plus days per category 另一时间加按类别的天数",
    "sign": "the field's own number, negative where a category column says so 按加分/扣分定正负",
}
_DERIVE_KEYS = {
    "const": {"const"}, "copy": {"copy"}, "hash": {"hash"}, "title": {"title"},
    "extract": {"extract", "from"}, "cases": {"cases", "from", "default"},
    "deadline": {"deadline", "days", "by", "default"}, "sign": {"sign", "negative"},
}
_NAME_RX = re.compile(r"^[a-z0-9_]{2,60}$")
# rows.split: what separates the parts of a free-text cell, unless the profile says (、，, ; spaces).
SPLIT_SEPARATOR = r"[、，,;；\s]+"
# In a derived id's hash list: the part of a split row (its label and its number among parts with
# that label), so that the households of one row get ids of their own that a re-export repeats.
PART_TOKEN = "_part"


class ProfileError(UserError):
    """A broken profile: the message names the file and the line."""


@dataclass(frozen=True)
class Profile:
    name: str
    label: str
    kind: str
    # caption key → canonical field name
    captions: dict[str, str]
    # each group must be present (any of its caption keys); shown by their first caption
    signature: tuple[tuple[str, ...], ...]
    signature_text: tuple[str, ...]
    values: dict[str, dict[str, str | None]] = field(default_factory=dict)
    derive: dict[str, dict] = field(default_factory=dict)
    header_rows: int = 1
    fill_down: tuple[str, ...] = ()
    group: dict | None = None
    # rows.split: {column: caption key, into: field, separator: regex, label: regex | None}
    split: dict | None = None
    path: Path | None = None
    builtin: bool = False

    @property
    def source(self) -> Source:
        return SOURCES[self.kind]

    @property
    def fields(self) -> set[str]:
        return set(self.captions.values()) | set(self.derive) | ({self.split["into"]} if self.split else set())

    @property
    def entry_unknown(self) -> bool:
        """The format carries no entry time at all (left out of entry_timeliness_rate)."""
        f = ENTRY_FIELDS.get(self.kind)
        return f is not None and f not in self.fields

    @property
    def where(self) -> str:
        return "内置 built-in" if self.builtin else str(self.path)


def caption_key(text: str | None) -> str:
    return sources.header_key(text or "")


# --- the built-in profiles -------------------------------------------------------------------------


def builtin_profile(kind: str) -> Profile:
    """SPEC §3.1–3.4's own format of one kind, straight from the synonym table."""
    src = SOURCES[kind]
    captions: dict[str, str] = {}
    for f in src.fields:
        for h in f.headers:
            captions.setdefault(caption_key(h), f.name)
    groups = []
    for s in src.signature:
        f = src.field(captions[caption_key(s)])
        groups.append(tuple(dict.fromkeys(caption_key(h) for h in f.headers)))
    return Profile(
        name=BUILTIN_PREFIX + kind, label=f"{src.label_zh}（内置格式 SPEC §3）", kind=kind, captions=captions,
        signature=tuple(groups), signature_text=tuple(src.signature), builtin=True,
    )


# --- loading a YAML profile, with lines ------------------------------------------------------------


class _Doc:
    """The composed YAML node tree beside the data, so every error keeps its line."""

    def __init__(self, path: Path, text: str):
        self.path, self.text = path, text

    def fail(self, node, message: str):
        line = node.start_mark.line + 1 if node is not None else 1
        raise ProfileError(f"{self.path}, 第{line}行 / line {line}: {message}")

    def root(self):
        try:
            node = yaml.compose(self.text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as e:
            mark = e.problem_mark or e.context_mark
            line = mark.line + 1 if mark else 1
            raise ProfileError(f"{self.path}, 第{line}行 / line {line}: YAML语法错误 / YAML syntax error: "
                               f"{e.problem or e.context}") from None
        if node is None:
            raise ProfileError(f"{self.path}, 第1行 / line 1: 文件为空 / the file is empty")
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, "应为键值映射 / expected a mapping (name: …, kind: …)")
        return node


def _items(doc: _Doc, node) -> list[tuple[object, object]]:
    if not isinstance(node, yaml.MappingNode):
        doc.fail(node, "应为键值映射 / expected a mapping")
    return [(k, v) for k, v in node.value]


def _scalar(doc: _Doc, node, what: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or node.value == "" and node.tag.endswith(":null"):
        doc.fail(node, f"{what} 应为文字 / {what} must be a text value")
    return str(node.value)


def _list(doc: _Doc, node, what: str) -> list[tuple[object, str]]:
    if isinstance(node, yaml.ScalarNode):
        return [(node, _scalar(doc, node, what))]
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        doc.fail(node, f"{what} 应为非空列表 / {what} must be a non-empty list")
    return [(n, _scalar(doc, n, what)) for n in node.value]


def _field(doc: _Doc, node, src: Source, what: str) -> str:
    name = _scalar(doc, node, what)
    if name not in src.names:
        doc.fail(node, f"“{name}”不是{src.label_zh}的字段（可用：{', '.join(src.names)}）"
                       f" / '{name}' is not a field of {src.kind}")
    return name


_TOP = {"name", "label", "kind", "signature", "columns", "values", "derive", "rows"}


def load_profile(path: Path) -> Profile:
    """Read and validate one profile file; ProfileError (file, line) on any mistake."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ProfileError(f"{path}, 第1行 / line 1: 方案文件应为 UTF-8 编码 / a profile must be UTF-8 text") from None
    except OSError as e:
        raise ProfileError(f"{path}: 无法读取 / cannot read: {e.strerror or e}") from None
    doc = _Doc(path, text)
    root = doc.root()
    top: dict[str, tuple[object, object]] = {}
    for k, v in _items(doc, root):
        key = _scalar(doc, k, "键 key")
        if key not in _TOP:
            doc.fail(k, f"未知的键“{key}”（可用：{', '.join(sorted(_TOP))}）/ unknown key '{key}'")
        if key in top:
            doc.fail(k, f"键“{key}”重复 / key '{key}' given twice")
        top[key] = (k, v)
    for req in ("name", "kind", "columns"):
        if req not in top:
            doc.fail(root, f"缺少“{req}” / '{req}' is missing")
    name = _scalar(doc, top["name"][1], "name")
    if not _NAME_RX.match(name) or name.startswith(BUILTIN_PREFIX):
        doc.fail(top["name"][1], f"方案名“{name}”只能用小写字母、数字和下划线，且不以 builtin_ 开头"
                                 f" / name must be [a-z0-9_], not starting with builtin_")
    kind = _scalar(doc, top["kind"][1], "kind")
    if kind not in SOURCES:
        doc.fail(top["kind"][1], f"未知的数据类型“{kind}”（可用：{', '.join(SOURCES)}）/ unknown kind '{kind}'")
    src = SOURCES[kind]
    label = _scalar(doc, top["label"][1], "label") if "label" in top else name

    captions: dict[str, str] = {}
    caption_nodes: dict[str, object] = {}
    for k, v in _items(doc, top["columns"][1]):
        cap = caption_key(_scalar(doc, k, "表头 caption"))
        if v.tag.endswith(":null") or (isinstance(v, yaml.ScalarNode) and v.value in ("", "~")):
            continue  # a TODO line left empty: the caption is not loaded
        fname = _field(doc, v, src, f"表头“{k.value}”对应的字段")
        if cap in captions:
            doc.fail(k, f"表头“{k.value}”重复 / caption '{k.value}' given twice")
        captions[cap] = fname
        caption_nodes[cap] = k
    if not captions:
        doc.fail(top["columns"][1], "columns 至少要对应一个表头 / columns must map at least one caption")

    values: dict[str, dict[str, str | None]] = {}
    if "values" in top:
        for k, v in _items(doc, top["values"][1]):
            fname = _field(doc, k, src, "values 的字段")
            table: dict[str, str | None] = {}
            for vk, vv in _items(doc, v):
                raw = _scalar(doc, vk, "导出值 exported value")
                canon = None if vv.tag.endswith(":null") else str(vv.value)
                if canon is not None and canon.strip().upper() == "TODO":
                    doc.fail(vv, f"“{raw}”的标准值还是 TODO / the canonical value of '{raw}' is still TODO")
                f = src.field(fname)
                if canon is not None and f.enum and not _enum_ok(f.enum, canon):
                    allowed = "、".join(sources.ENUMS[f.enum])
                    doc.fail(vv, f"“{canon}”不是{f.header}的取值（可用：{allowed}）/ '{canon}' is not a value of {fname}")
                table[_value_key(raw)] = canon
            values[fname] = table

    derive: dict[str, dict] = {}
    if "derive" in top:
        for k, v in _items(doc, top["derive"][1]):
            fname = _field(doc, k, src, "derive 的字段")
            _not_todo(doc, v, fname)
            derive[fname] = _derivation(doc, v, src, fname)

    header_rows, fill_down, group, split = 1, (), None, None
    if "rows" in top:
        for k, v in _items(doc, top["rows"][1]):
            key = _scalar(doc, k, "rows 的键")
            if key == "header_rows":
                if _scalar(doc, v, "header_rows") not in ("1", "2"):
                    doc.fail(v, "header_rows 只能是 1 或 2 / header_rows must be 1 or 2")
                header_rows = int(v.value)
            elif key == "fill_down":
                fill_down = tuple(_field(doc, n, src, "fill_down 的字段") for n, _ in _list(doc, v, "fill_down"))
            elif key == "group":
                group = _group(doc, v, src)
            elif key == "split":
                split = _split(doc, v, src, captions)
            else:
                doc.fail(k, f"rows 下未知的键“{key}”（可用：header_rows, fill_down, group, split）"
                            f"/ unknown key '{key}'")
        if group and split:
            doc.fail(top["rows"][1], "rows 的 group 和 split 不能同时使用 / rows: group and split cannot be combined")
    if split:  # the split column is a mapped column of the field its parts feed
        captions[split["column"]] = split["into"]

    signature_text: list[str] = []
    groups: list[tuple[str, ...]] = []
    if "signature" in top:
        for _n, cap in _list(doc, top["signature"][1], "signature"):
            signature_text.append(cap)
            groups.append((caption_key(cap),))
    else:  # every mapped caption of a required field recognises the format
        for cap, fname in captions.items():
            if src.field(fname).required:
                signature_text.append(caption_nodes[cap].value)
                groups.append((cap,))
    if len(groups) < 2:
        doc.fail(top.get("signature", (root, root))[1],
                 "signature 至少要有 2 个表头，否则容易误认 / signature needs at least 2 captions")

    # A hashed id must not be a guessable digest of personal data (SPEC §3.7).
    from pipelines import privacy

    for d in derive.values():
        for n, c in zip(d.pop("_nodes", []), d.get("hash", []), strict=False):
            if c == PART_TOKEN:
                if split is None:
                    doc.fail(n, f"{PART_TOKEN} 只能与 rows.split 一起使用 / {PART_TOKEN} needs rows.split")
                continue
            mapped_to = captions.get(caption_key(c))
            personal = (src.field(mapped_to).personal is not None) if mapped_to else privacy.caption_class(c)
            if personal:
                doc.fail(n, f"“{c}”是个人信息列，不能用于生成编号 / '{c}' is personal data: not for an id")
    prof = Profile(name=name, label=label, kind=kind, captions=captions, signature=tuple(groups),
                   signature_text=tuple(signature_text), values=values, derive=derive,
                   header_rows=header_rows, fill_down=fill_down, group=group, split=split, path=path)
    missing = missing_required(prof)
    if missing:
        doc.fail(top["columns"][0], "缺少必填字段（请在 columns 中对应或在 derive 中推导）：" + "、".join(missing)
                 + " / required fields neither mapped nor derived: " + ", ".join(missing))
    return prof


def _not_todo(doc: _Doc, node, what: str) -> None:
    if isinstance(node, yaml.ScalarNode) and node.value.strip().upper().startswith("TODO"):
        doc.fail(node, f"{what} 还是 TODO：请按注释填写，或删去此行 / {what} is still TODO: fill it in or delete the line")


def _value_key(text: str) -> str:
    import unicodedata

    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))).lower()


def _enum_ok(enum: str, canon: str) -> bool:
    keys = {_value_key(s) for c, syn in sources.ENUMS[enum].items() for s in (c, *syn)}
    return _value_key(canon) in keys


def _derivation(doc: _Doc, node, src: Source, fname: str) -> dict:
    items = _items(doc, node)
    keys = [_scalar(doc, k, "derive") for k, _ in items]
    kinds = [k for k in keys if k in DERIVATIONS]
    if len(kinds) != 1:
        doc.fail(node, f"{fname} 的推导应恰好给出一种方式（{', '.join(DERIVATIONS)}）"
                       f" / derive {fname}: give exactly one of {', '.join(DERIVATIONS)}")
    how = kinds[0]
    out: dict = {"how": how}
    for (k, v), key in zip(items, keys, strict=True):
        if key not in _DERIVE_KEYS[how]:
            doc.fail(k, f"{how} 推导不认识“{key}”（可用：{', '.join(sorted(_DERIVE_KEYS[how]))}）/ unknown key '{key}'")
        if key == "hash":
            out["hash"] = [c for _, c in _list(doc, v, "hash")]
            out["_nodes"] = [n for n, _ in _list(doc, v, "hash")]
        elif key == "days":
            if isinstance(v, yaml.MappingNode):
                out["days"] = {_value_key(_scalar(doc, a, "类别")): _number(doc, b) for a, b in v.value}
            else:
                out["days"] = _number(doc, v)
        elif key == "default":
            out["default"] = _scalar(doc, v, "default") if how == "cases" else _number(doc, v)
        elif key == "cases":
            pairs = []
            for a, b in _items(doc, v):
                rx = _scalar(doc, a, "正则 regex")
                try:
                    re.compile(rx)
                except re.error as e:
                    doc.fail(a, f"正则表达式有误 / bad regular expression: {e}")
                pairs.append((rx, str(b.value)))
            out["cases"] = pairs
        elif key in ("negative",):
            out[key] = [_value_key(c) for _, c in _list(doc, v, key)]
        else:
            out[key] = _scalar(doc, v, key)
            if key == "extract":
                try:
                    rx = re.compile(out[key])
                except re.error as e:
                    doc.fail(v, f"正则表达式有误 / bad regular expression: {e}")
                if rx.groups < 1:
                    doc.fail(v, "extract 的正则需要一个括号分组 / extract needs a (group)")
    if how == "deadline":
        if "days" not in out:
            doc.fail(node, "deadline 需要 days / deadline needs days")
        if src.field(fname).type not in (DATE, DATETIME):
            doc.fail(node, f"{fname} 不是时间字段 / {fname} is not a time field")
    if how in ("extract", "cases") and "from" not in out:
        doc.fail(node, f"{how} 需要 from（取自哪一列）/ {how} needs from: <caption>")
    return out


def _number(doc: _Doc, node) -> float:
    try:
        return float(_scalar(doc, node, "天数 days"))
    except ValueError:
        doc.fail(node, f"“{node.value}”不是数字 / '{node.value}' is not a number")


def _group(doc: _Doc, node, src: Source) -> dict:
    out: dict = {}
    for k, v in _items(doc, node):
        key = _scalar(doc, k, "group")
        if key == "by":
            out["by"] = _field(doc, v, src, "group.by")
        elif key == "count":
            out["count"] = _field(doc, v, src, "group.count")
        elif key == "head":
            head = {_scalar(doc, a, "head"): _scalar(doc, b, "head") for a, b in _items(doc, v)}
            if set(head) != {"column", "value"}:
                doc.fail(v, "head 需要 column 和 value / head needs column and value")
            out["head"] = {"column": caption_key(head["column"]), "value": _value_key(head["value"])}
        else:
            doc.fail(k, f"group 下未知的键“{key}”（可用：by, head, count）/ unknown key '{key}'")
    if "by" not in out:
        doc.fail(node, "group 需要 by（按哪个字段分组）/ group needs by: <field>")
    return out


def _split(doc: _Doc, node, src: Source, captions: dict[str, str]) -> dict:
    """rows.split: {column, into, separator?, label?}; both regular expressions checked here."""
    out: dict = {"separator": SPLIT_SEPARATOR, "label": None}
    nodes: dict[str, object] = {}
    for k, v in _items(doc, node):
        key = _scalar(doc, k, "split")
        nodes[key] = v
        if key == "column":
            out["column"] = caption_key(_scalar(doc, v, "split.column"))
        elif key == "into":
            out["into"] = _field(doc, v, src, "split.into")
        elif key in ("separator", "label"):
            out[key] = _scalar(doc, v, f"split.{key}")
            try:
                re.compile(out[key])
            except re.error as e:
                doc.fail(v, f"正则表达式有误 / bad regular expression: {e}")
            if key == "separator" and re.fullmatch(out[key], ""):
                doc.fail(v, "separator 不能匹配空文字 / separator must not match the empty text")
        else:
            doc.fail(k, f"split 下未知的键“{key}”（可用：column, into, separator, label）/ unknown key '{key}'")
    for req in ("column", "into"):
        if req not in out:
            doc.fail(node, f"split 需要 {req} / split needs {req}")
    if out["into"] == src.id_field:
        doc.fail(nodes["into"], f"split 不能拆分出记录编号（{src.id_field}）/ split cannot feed the record id")
    other = captions.get(out["column"])
    if other is not None and other != out["into"]:
        doc.fail(nodes["column"], f"“{nodes['column'].value}”已在 columns 中对应 {other} / "
                                  f"'{nodes['column'].value}' is already mapped to {other} in columns")
    return out


def missing_required(p: Profile) -> list[str]:
    """Required fields (SPEC §3.6) the profile neither maps nor derives (entry time excepted)."""
    have = p.fields
    entry = ENTRY_FIELDS.get(p.kind)
    if p.group and p.group.get("count"):
        have = have | {p.group["count"]}
    return [f"{f.header}（{f.name}）" for f in p.source.fields
            if f.required and f.name not in have and f.name != entry
            and not (f.name == "grid_code" and "grid_name" in have)
            and not (f.name == "household_id" and "head_name" in have and p.kind in sources.HEAD_NAME_KINDS)]


# --- the registry ------------------------------------------------------------------------------------


def user_dir() -> Path:
    from pipelines import config

    return config.paths().home / "profiles"


def installed(include_user: bool = True, exclude: set[str] | None = None) -> list[Profile]:
    """Built-in, shipped and the office's own profiles, in that order. A broken user profile raises."""
    out = [builtin_profile(k) for k in sources.LOAD_ORDER]
    files = sorted(SHIPPED_DIR.glob("*.yaml"))
    if include_user:
        d = user_dir()
        if d.is_dir():
            files += sorted(d.glob("*.yaml")) + sorted(d.glob("*.yml"))
    seen = {p.name for p in out}
    for f in files:
        p = load_profile(f)
        if exclude and p.name in exclude:
            continue
        if p.name in seen:
            raise ProfileError(f"{f}, 第1行 / line 1: 方案名“{p.name}”已被另一个方案使用 / name '{p.name}' already used")
        seen.add(p.name)
        out.append(p)
    return out


_CACHE: dict[tuple, list[Profile]] = {}


def active() -> list[Profile]:
    """The profiles recognition uses now (cached per user-folder state, so edits are picked up)."""
    d = user_dir()
    stamp = tuple(sorted((f.name, f.stat().st_mtime_ns) for f in d.glob("*.y*ml"))) if d.is_dir() else ()
    excl = tuple(sorted(_EXCLUDED))
    key = (str(d), stamp, excl)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = installed(exclude=set(_EXCLUDED))
    return _CACHE[key]


def by_name(name: str | None) -> Profile | None:
    """The installed profile of that name (built-in ones included), None when there is none."""
    if not name:
        return None
    if name.startswith(BUILTIN_PREFIX) and name[len(BUILTIN_PREFIX):] in SOURCES:
        return builtin_profile(name[len(BUILTIN_PREFIX):])
    return next((p for p in active() if p.name == name), None)


def carried(profile: Profile, mapped: set[str]) -> set[str]:
    """The fields a file read with `profile` carries: the mapped columns (`mapped`), the derived
    fields and the household size of grouped persons; a grid named carries its grid_code."""
    have = set(mapped) | set(profile.derive)
    if profile.group and profile.group.get("count"):
        have.add(profile.group["count"])
    if "grid_name" in have:
        have.add("grid_code")
    return have


# `profile check` prefers the profile it checks when another fits the file as well.
PREFERRED: str | None = None

# Names of shipped profiles switched off (tests: "the file with its shipped profile removed").
_EXCLUDED: set[str] = set()


def exclude(*names: str) -> None:
    _EXCLUDED.clear()
    _EXCLUDED.update(names)
