"""What a validation rule is, and the generic rules every source gets from pipelines/sources.py.

Below both the kind-specific rules (suites.py) and the GX runner (the package), so that neither
imports the other.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from pipelines.sources import (
    BOOL,
    DATE,
    DATETIME,
    ENTRY_FIELDS,
    ENUM,
    FLOAT,
    GEOMETRY,
    INT,
    POINTS,
    REASON_CODES,
    Source,
)

PARSE_REASON = {DATE: "BAD_DATE", DATETIME: "BAD_DATE", INT: "BAD_NUMBER", FLOAT: "BAD_NUMBER",
                POINTS: "BAD_NUMBER", GEOMETRY: "BAD_NUMBER", ENUM: "BAD_ENUM", BOOL: "BAD_ENUM"}


@dataclass(frozen=True)
class Rule:
    reason: str | None  # SPEC §3.6 reason code; None for a warning-only check (GX result, no quarantine)
    name: str  # human description, shown in validation_results and the data-quality page
    violation: str | None  # SQL predicate over the checked view chk_<kind>: true where the row breaks the rule
    detail: str | None  # SQL text expression describing the fault, for quarantine.reason_detail
    gx: Callable[[dict], object] | None  # → a GX Expectation (None: SQL only, e.g. cross-batch)

    @property
    def order(self) -> int:
        return REASON_CODES.index(self.reason) if self.reason else len(REASON_CODES)



def load_gx():
    """Import Great Expectations with pyspark hidden from it. With the optional spark group installed,
    GX imports pyspark.sql.connect at import time, which costs seconds and, in a `python -c` process,
    calls sys.exit(0) (pyspark takes it for a doctest run): an ingest then silently does nothing. Our
    suites run on DuckDB (or pandas), so GX is told pyspark is absent; pyspark stays importable afterwards."""
    import sys

    if "great_expectations" in sys.modules:
        return sys.modules["great_expectations"]
    hidden = [m for m in ("pyspark",) if m not in sys.modules]
    for m in hidden:
        sys.modules[m] = None  # `import pyspark` now raises ImportError
    try:
        import great_expectations
    finally:
        for m in hidden:
            if sys.modules.get(m, 0) is None:
                del sys.modules[m]
    return great_expectations

def sql_condition(cond: str):
    """The simple SQL conditions of sources.required_when (col = 'v', col <> 'v', col in ('a', 'b'))
    as a GX row Condition, so the suite and the SQL check say the same thing."""
    load_gx()
    from great_expectations.expectations.row_conditions import Column

    m = re.fullmatch(r"\s*(\w+)\s+in\s+\((.*)\)\s*", cond)
    if m:
        return Column(m.group(1)).is_in(re.findall(r"'([^']*)'", m.group(2)))
    m = re.fullmatch(r"\s*(\w+)\s*(<>|=)\s*'([^']*)'\s*", cond)
    if m:
        col = Column(m.group(1))
        return (col != m.group(3)) if m.group(2) == "<>" else (col == m.group(3))
    raise ValueError(f"unsupported required_when condition: {cond!r}")


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _gx():
    load_gx()
    import great_expectations.expectations as gxe

    return gxe


def _required_condition(name: str, when: str | None, entry: bool = False):
    # Only rows whose cell was empty: an unreadable value is a parse fault, not a missing one.
    load_gx()
    from great_expectations.expectations.row_conditions import Column

    cond = Column(f"{name}__bad").is_null()
    if entry:  # import profiles: entry time unknown for a whole format (SPEC §3.8)
        cond = cond & Column("_entry_unknown").is_null()
    return cond & sql_condition(when) if when else cond


def generic_rules(src: Source) -> list[Rule]:
    """Required fields and parse faults, straight from the sources table."""
    rules: list[Rule] = []
    for f in src.fields:
        col, bad = f'"{f.name}"', f'"{f.name}__bad"'
        if f.required or f.required_when:
            cond = f"{col} is null and {bad} is null"
            label = f"{f.header} 必填"
            if f.required_when:
                cond += f" and coalesce({f.required_when}, false)"
                label += f"（当 {f.required_when}）"
            entry = f.name == ENTRY_FIELDS.get(src.kind)
            if entry:
                # A format with no entry-time column at all loads with entry time unknown (SPEC §3.8).
                cond += ' and "_entry_unknown" is null'
            rules.append(Rule(
                "MISSING_REQUIRED", label, cond, _q(f"{f.header}为空 / {f.name} is empty"),
                lambda refs, n=f.name, when=f.required_when, entry=entry:
                    _gx().ExpectColumnValuesToNotBeNull(column=n, row_condition=_required_condition(n, when, entry)),
            ))
        if f.type in PARSE_REASON:
            reason = PARSE_REASON[f.type]
            rules.append(Rule(
                reason, f"{f.header} 可解析", f"{bad} is not null",
                f"{_q(f.header + '无法识别: ')} || {bad}",
                lambda refs, n=f.name: _gx().ExpectColumnValuesToBeNull(column=f"{n}__bad"),
            ))
    return rules
