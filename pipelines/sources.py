"""The one table of source kinds: canonical columns, Chinese header synonyms, types and enum synonyms.

Everything that needs to know what an export looks like (the generator, the readers, normalisation,
the Great Expectations suites, the loader) reads it from here (SPEC §3). Canonical column names are
English; the first header of each field is the SPEC's own Chinese header, the rest are synonyms seen
in real exports. Header matching ignores spaces, full-width/half-width differences and brackets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Field types understood by normalisation.
STR, INT, FLOAT, DATE, DATETIME, ENUM, BOOL, POINTS, GEOMETRY = (
    "str", "int", "float", "date", "datetime", "enum", "bool", "points", "geometry",
)

# Personal-data handling (SPEC §3.7): HASH → keyed HMAC, MASK → 张**.
HASH, MASK = "hash", "mask"


@dataclass(frozen=True)
class Field:
    name: str
    headers: tuple[str, ...]
    type: str = STR
    required: bool = False
    # SQL condition (over canonical, normalised columns) under which the field becomes required.
    required_when: str | None = None
    enum: str | None = None  # key into ENUMS
    personal: str | None = None  # HASH or MASK
    # A deadline given as a bare date means "by the end of that day", not its first minute.
    end_of_day: bool = False
    # Fields that never change for an id (SPEC §3.6 ID_CONFLICT); for non-snapshot sources every field.
    immutable: bool = False

    @property
    def header(self) -> str:
        return self.headers[0]


@dataclass(frozen=True)
class Source:
    kind: str
    label_zh: str
    label_en: str
    id_field: str
    fields: tuple[Field, ...]
    snapshot: bool  # records change state across exports; latest export time wins
    reference: bool = False
    # Headers that must all be present for a header row to be recognised as this source.
    signature: tuple[str, ...] = field(default=())

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]


# Enum value sets: canonical value → synonyms (matching is on the normalised text, case-insensitive).
ENUMS: dict[str, dict[str, tuple[str, ...]]] = {
    "admin_level": {
        "县": ("县", "县级", "区", "县区", "县(区)", "county"),
        "乡镇": ("乡镇", "乡", "镇", "街道", "乡镇街道", "乡级", "township"),
        "村": ("村", "行政村", "社区", "村社区", "村(社区)", "村级", "village"),
    },
    "key_type": {
        "低保五保户": ("低保五保户", "低保户", "五保户", "低保五保", "低保", "五保"),
        "重病重残户": ("重病重残户", "重病户", "重残户", "重病重残", "残疾户"),
        "易返贫致贫户": ("易返贫致贫户", "易返贫户", "致贫户", "监测户", "防返贫监测户", "易返贫致贫"),
        "空巢老人户": ("空巢老人户", "空巢老人", "空巢户", "独居老人户"),
        "留守儿童户": ("留守儿童户", "留守儿童", "留守户"),
        "烈属军属户": ("烈属军属户", "烈属户", "军属户", "烈军属户", "烈属军属", "军烈属"),
        "普通户": ("普通户", "普通", "一般户", "无"),
    },
    "visit_type": {
        "走访": ("走访", "入户走访", "走访入户", "visit"),
        "巡查": ("巡查", "巡逻", "日常巡查", "patrol"),
        "宣讲": ("宣讲", "政策宣讲", "宣传"),
    },
    "event_category": {
        "矛盾纠纷": ("矛盾纠纷", "纠纷", "矛盾"),
        "安全隐患": ("安全隐患", "隐患", "安全"),
        "环境卫生": ("环境卫生", "卫生", "人居环境"),
        "民生诉求": ("民生诉求", "民生", "诉求"),
        "治安防控": ("治安防控", "治安"),
        "违法建设": ("违法建设", "违建", "私搭乱建"),
        "人口变动": ("人口变动", "人口"),
        "其他": ("其他", "其它"),
    },
    "event_source": {
        "网格员巡查": ("网格员巡查", "巡查发现", "网格巡查", "网格员上报"),
        "群众上报": ("群众上报", "群众反映", "群众来访", "村民上报"),
        "12345热线": ("12345热线", "12345", "热线", "市民热线"),
        "部门转办": ("部门转办", "转办", "上级转办"),
    },
    "handling_level": {
        "网格": ("网格", "格内", "网格内", "网格员代办", "员代办"),
        "村": ("村", "村级", "村内", "村处理"),
        "乡镇": ("乡镇", "乡级", "镇", "乡", "街道", "乡处置"),
        "县": ("县", "县级", "县区"),
    },
    "event_status": {
        "已上报": ("已上报", "上报", "待受理", "新上报"),
        "已受理": ("已受理", "受理", "已签收"),
        "处置中": ("处置中", "办理中", "处理中", "正在处置"),
        "已办结": ("已办结", "办结", "完成", "已完成", "已处置"),
        "已回访": ("已回访", "回访", "已评价"),
    },
    "satisfaction": {
        "满意": ("满意", "非常满意"),
        "基本满意": ("基本满意", "较满意", "比较满意"),
        "不满意": ("不满意", "很不满意"),
        "未回访": ("未回访", "未评价", "无法联系"),
    },
    "dispute_type": {
        "邻里纠纷": ("邻里纠纷", "邻里"),
        "婚姻家庭": ("婚姻家庭", "婚姻家庭纠纷", "家庭纠纷", "婚姻"),
        "土地承包": ("土地承包", "土地承包纠纷", "土地纠纷"),
        "宅基地": ("宅基地", "宅基地纠纷"),
        "山林水利": ("山林水利", "山林水利纠纷", "山林", "水利"),
        "劳资纠纷": ("劳资纠纷", "劳资", "欠薪"),
        "损害赔偿": ("损害赔偿", "损害赔偿纠纷", "赔偿"),
        "环境污染": ("环境污染", "污染", "环境污染纠纷"),
        "其他": ("其他", "其它", "其他纠纷"),
    },
    "mediation_org": {
        "村调委会": ("村调委会", "村人民调解委员会", "村调解委员会"),
        "乡镇调委会": ("乡镇调委会", "乡调委会", "镇调委会", "乡镇人民调解委员会"),
        "县级": ("县级", "县调委会", "县级调解"),
        "诉调对接": ("诉调对接", "诉调"),
    },
    "mediation_result": {
        "调解成功": ("调解成功", "成功", "已调解"),
        "调解不成功": ("调解不成功", "不成功", "调解失败", "失败"),
        "调解中": ("调解中", "进行中", "正在调解"),
        "移交": ("移交", "已移交", "移交处理"),
    },
    "review_status": {
        "待审核": ("待审核", "未审核", "审核中"),
        "已公示": ("已公示", "公示中", "公示"),
        "已确认": ("已确认", "确认", "已审核", "通过"),
        "已驳回": ("已驳回", "驳回", "不通过"),
    },
}

BOOL_TRUE = ("是", "y", "yes", "true", "√", "1", "✓", "有")
BOOL_FALSE = ("否", "n", "no", "false", "×", "0", "✗", "无")

# Rows whose first non-empty cell starts with one of these are totals, not data.
TOTAL_ROW_MARKERS = ("合计", "总计", "小计", "合 计")
# Lines above a header that state the export time (SPEC §3.6 export time).
EXPORT_TIME_MARKERS = ("导出时间", "填报日期", "截至", "统计时间", "导出日期", "报送日期")

_VILLAGE_CODE = ("村代码", "村编码", "行政村代码", "村(社区)代码")
_GRID_CODE = ("网格编码", "网格编号", "网格代码", "所属网格")
_HOUSEHOLD = ("户编号", "户号", "家庭编号", "农户编号")


def _by_name(immutable: bool = False) -> tuple[Field, ...]:
    """A grid given by name, and the township/village that scope the name (SPEC §3.8): exports of other
    systems often carry no grid code. The loader resolves the name within its scope; the resolved code
    is then the record's grid_code (UNKNOWN_GRID when no grid, or more than one, has that name)."""
    return (
        Field("grid_name", ("网格名称", "网格名"), immutable=immutable),
        Field("township_name", ("所属乡镇",), immutable=immutable),
        Field("village_name", ("所属村",), immutable=immutable),
    )


def _by_head(immutable: bool = False) -> Field:
    """A household given by its head's name instead of its 户编号 (SPEC §3.8): masked like the
    registry's (never clear), and matched by its keyed hash within the record's village (the
    loader's `_head_key`); no match or several → UNKNOWN_HOUSEHOLD with a detail saying which."""
    return Field("head_name", ("户主姓名",), personal=MASK, immutable=immutable)


SOURCES: dict[str, Source] = {}


def _add(src: Source) -> None:
    SOURCES[src.kind] = src


_add(Source(
    kind="admin_units", label_zh="行政区划", label_en="Administrative units", id_field="code",
    snapshot=True, reference=True, signature=("区划代码", "层级"),
    fields=(
        Field("code", ("区划代码", "行政区划代码", "代码"), required=True),
        Field("name", ("名称", "区划名称", "单位名称"), required=True),
        Field("level", ("层级", "级别", "区划层级"), ENUM, required=True, enum="admin_level"),
        Field("parent_code", ("上级代码", "上级区划代码", "父级代码"), required_when="level <> '县'"),
        Field("households", ("户数", "总户数"), INT),
        Field("population", ("人口", "人口数", "户籍人口"), INT),
        Field("lon", ("经度", "lon", "lng"), FLOAT),
        Field("lat", ("纬度", "lat"), FLOAT),
    ),
))
_add(Source(
    kind="grids", label_zh="网格", label_en="Grids", id_field="grid_code",
    snapshot=True, reference=True, signature=("网格编码", "所属村代码"),
    fields=(
        Field("grid_code", _GRID_CODE[:3], required=True),
        Field("grid_name", ("网格名称", "网格名")),
        Field("village_code", ("所属村代码",) + _VILLAGE_CODE, required=True),
        Field("households", ("户数", "总户数"), INT),
        Field("population", ("人口", "人口数"), INT),
        Field("grid_head", ("网格长",)),
        Field("worker_count", ("网格员数", "网格员人数"), INT),
        Field("geometry", ("geometry", "几何", "边界", "WKT", "边界坐标"), GEOMETRY),
    ),
))
_add(Source(
    kind="households", label_zh="户籍台账", label_en="Household registry", id_field="household_id",
    snapshot=True, reference=True, signature=("户编号", "网格编码", "户主姓名"),
    fields=(
        Field("household_id", _HOUSEHOLD, required=True),
        Field("grid_code", _GRID_CODE, required=True),
        Field("head_name", ("户主姓名", "户主"), personal=MASK),
        Field("id_number", ("身份证号", "身份证号码", "户主身份证号"), personal=HASH),
        Field("phone", ("联系电话", "电话", "手机号", "手机号码"), personal=HASH),
        Field("members", ("家庭人口", "家庭人口数", "人口数"), INT),
        Field("key_type", ("重点户类型", "户类型", "重点户类别"), ENUM, enum="key_type"),
        *_by_name(),
    ),
))
_add(Source(
    kind="visits", label_zh="走访巡查记录", label_en="Visits and patrols", id_field="record_id",
    snapshot=False, signature=("记录编号", "网格编码", "类型", "日期时间"),
    fields=(
        Field("record_id", ("记录编号", "记录号"), required=True, immutable=True),
        Field("grid_code", _GRID_CODE, required=True, immutable=True),
        Field("worker", ("网格员", "走访人", "巡查人"), immutable=True),
        Field("household_id", _HOUSEHOLD, required_when="visit_type = '走访'", immutable=True),
        Field("visit_type", ("类型", "走访类型", "记录类型"), ENUM, required=True, enum="visit_type", immutable=True),
        Field("visited_at", ("日期时间", "走访时间", "巡查时间"), DATETIME, required=True, immutable=True),
        Field("entered_at", ("录入时间", "填报时间"), DATETIME, required=True, immutable=True),
        *_by_name(immutable=True),
        _by_head(immutable=True),
    ),
))
_add(Source(
    kind="events", label_zh="网格事件", label_en="Grid events", id_field="event_id",
    snapshot=True, signature=("事件编号", "网格编码", "上报时间", "状态"),
    fields=(
        Field("event_id", ("事件编号", "事件编码", "事件号"), required=True),
        Field("grid_code", _GRID_CODE, required=True, immutable=True),
        Field("reporter", ("上报人",)),
        Field("reported_at", ("上报时间",), DATETIME, required=True, immutable=True),
        Field("category", ("事件类别", "事件类型"), ENUM, required=True, enum="event_category", immutable=True),
        Field("source", ("来源", "事件来源"), ENUM, enum="event_source"),
        Field("handling_level", ("处置层级", "办结层级"), ENUM, enum="handling_level"),
        Field("status", ("状态", "办理状态", "事件状态"), ENUM, required=True, enum="event_status"),
        Field("accepted_at", ("受理时间",), DATETIME, required_when="status <> '已上报'"),
        Field("deadline", ("办结时限", "办理时限"), DATETIME, required=True, end_of_day=True),
        Field("closed_at", ("办结时间",), DATETIME, required_when="status in ('已办结', '已回访')"),
        Field("satisfaction", ("满意度", "回访满意度"), ENUM, enum="satisfaction"),
        Field("entered_at", ("录入时间", "填报时间"), DATETIME, required=True),
        *_by_name(),
    ),
))
_add(Source(
    kind="disputes", label_zh="矛盾纠纷台账", label_en="Dispute cases", id_field="case_id",
    snapshot=True, signature=("案件编号", "登记日期", "纠纷类型"),
    fields=(
        Field("case_id", ("案件编号", "编号", "案件号"), required=True),
        Field("registered_on", ("登记日期", "受理日期"), DATE, required=True, immutable=True),
        Field("township_name", ("乡镇", "乡镇(街道)", "所属乡镇")),
        Field("village_name", ("村", "村(社区)", "所属村", "村名"), required=True, immutable=True),
        Field("dispute_type", ("纠纷类型", "矛盾类型"), ENUM, required=True, enum="dispute_type", immutable=True),
        Field("parties", ("当事人", "当事人姓名"), personal=MASK),
        Field("party_count", ("当事人数", "当事人人数"), INT),
        Field("amount", ("涉及金额(元)", "涉及金额", "金额(元)", "涉案金额"), FLOAT),
        Field("mediation_org", ("调解组织", "调解单位"), ENUM, enum="mediation_org"),
        Field("mediator", ("调解员", "调解人")),
        Field("result", ("调解结果", "调处结果"), ENUM, required=True, enum="mediation_result"),
        Field("concluded_on", ("办结日期", "调结日期"), DATE,
              required_when="result in ('调解成功', '调解不成功', '移交')"),
        Field("is_petition", ("是否越级上访", "越级上访"), BOOL),
        Field("related_event_id", ("关联事件编号", "关联事件")),
    ),
))
_add(Source(
    kind="points", label_zh="积分记录", label_en="Points records", id_field="record_id",
    snapshot=True, signature=("记录编号", "户编号", "分值"),
    fields=(
        Field("record_id", ("记录编号", "积分记录编号", "记录号"), required=True),
        Field("household_id", _HOUSEHOLD, required=True, immutable=True),
        Field("village_code", _VILLAGE_CODE),
        Field("item", ("积分项目", "积分事项", "项目"), immutable=True),
        Field("category", ("积分类别", "类别")),
        Field("points", ("分值", "积分", "分数"), POINTS, required=True, immutable=True),
        Field("occurred_on", ("发生日期", "积分日期"), DATE, required=True, immutable=True),
        Field("entered_on", ("录入日期", "登记日期"), DATE, required=True),
        Field("review_status", ("审核状态", "状态"), ENUM, required=True, enum="review_status"),
        _by_head(immutable=True),
    ),
))
_add(Source(
    kind="redemptions", label_zh="积分兑换", label_en="Points redemptions", id_field="redemption_id",
    snapshot=False, signature=("兑换编号", "户编号", "消耗积分"),
    fields=(
        Field("redemption_id", ("兑换编号", "兑换单号"), required=True, immutable=True),
        Field("household_id", _HOUSEHOLD, required=True, immutable=True),
        Field("village_code", _VILLAGE_CODE, immutable=True),
        Field("item", ("兑换物品", "物品", "兑换商品"), immutable=True),
        Field("points_spent", ("消耗积分", "兑换积分", "使用积分"), POINTS, required=True, immutable=True),
        Field("redeemed_on", ("兑换日期", "兑换时间"), DATE, required=True, immutable=True),
        _by_head(immutable=True),
    ),
))

# Kinds whose rows may name their household by its head (SPEC §3.8): resolved within the village.
HEAD_NAME_KINDS = ("visits", "points", "redemptions")

# Entry-time field per kind: a format with no such column loads with entry time unknown, left out of
# entry_timeliness_rate, not MISSING_REQUIRED (SPEC §3.8).
ENTRY_FIELDS = {"visits": "entered_at", "events": "entered_at", "points": "entered_on"}

# Loading order: references first, so a first-time folder with everything loads in one command.
LOAD_ORDER = ("admin_units", "grids", "households", "visits", "events", "disputes", "points", "redemptions")
REFERENCE_KINDS = tuple(k for k in LOAD_ORDER if SOURCES[k].reference)
REPORT_KINDS = tuple(k for k in LOAD_ORDER if not SOURCES[k].reference)

# Reason codes in precedence order (SPEC §3.6): a row with several faults gets the first. Their words
# for people (the page, the pack, the upload summary) are here and nowhere else.
REASON_LABELS: dict[str, tuple[str, str]] = {
    "MISSING_REQUIRED": ("必填项为空", "required field empty"),
    "BAD_DATE": ("日期无法识别", "unreadable date"),
    "BAD_NUMBER": ("数字无法识别", "unreadable number"),
    "BAD_ENUM": ("取值不在范围内", "value outside its set"),
    "UNKNOWN_GRID": ("网格编码不存在", "unknown grid"),
    "UNKNOWN_VILLAGE": ("村不存在", "unknown village"),
    "AMBIGUOUS_VILLAGE": ("村名重名无法确定", "ambiguous village name"),
    "UNKNOWN_HOUSEHOLD": ("户编号不存在", "unknown household"),
    "TIME_ORDER": ("时间先后顺序错误", "times out of order"),
    "FUTURE_DATE": ("日期晚于导出时间", "date after export time"),
    "ID_CONFLICT": ("编号重复且内容不一致", "id conflict"),
}
REASON_CODES = tuple(REASON_LABELS)


_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|〔[^〔〕]*〕")
_MARKERS = re.compile(r"[*※＊★☆]")


def header_key(text: str) -> str:
    """Comparable form of a caption (SPEC §3.8): NFKC (full width → half width), no spaces, no
    required-field markers (*, ※) and no bracketed notes ((必填), (元), [单位]), lower case.
    A caption that is nothing but a bracketed note keeps its text."""
    import unicodedata

    t = unicodedata.normalize("NFKC", str(text or ""))
    t = "".join(ch for ch in t if not ch.isspace())
    t = _MARKERS.sub("", t)
    stripped = _BRACKETED.sub("", t)
    return (stripped or t).lower()


def header_index(source: Source) -> dict[str, str]:
    """header_key(synonym) → canonical field name for one source."""
    return {header_key(h): f.name for f in source.fields for h in f.headers}


def detect_source(headers: list[str]) -> Source | None:
    """The source whose signature headers are all present; ties go to the one matching most headers."""
    keys = {header_key(h) for h in headers if h is not None}
    best: tuple[int, Source] | None = None
    for src in SOURCES.values():
        idx = header_index(src)
        matched_fields = {idx[k] for k in keys if k in idx}
        sig_ok = all(
            any(header_key(h) in keys for h in src.field(idx[header_key(s)]).headers) for s in src.signature
        )
        if not sig_ok:
            continue
        score = len(matched_fields)
        if best is None or score > best[0]:
            best = (score, src)
    return best[1] if best else None
