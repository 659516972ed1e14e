"""Why a village scores what it scores: the per-indicator breakdown of village_scores.score (SPEC §6).

It runs the SQL of the `village_score_parts` model itself (the model village_scores sums), filtered
to one village and month, over `indicator_values` and `cfg_indicator` (the catalogue the marts were
built with, published beside them). So the breakdown adds up to the published score exactly, and it
works on the working warehouse or a published copy that holds only the contract and cfg_* tables.
Values are bound as parameters, never formatted in.
"""

from __future__ import annotations

import re
from pathlib import Path

PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")  # YYYY-MM (also the gateway's scorecard)

_PARTS_SQL = (Path(__file__).parent / "models" / "marts" / "village_score_parts.sql").read_text(encoding="utf-8")

EXPLAIN_SQL = """
select
    parts.indicator_id,
    cfg_indicator.name_zh,
    cfg_indicator.name_en,
    cfg_indicator.grp as "group",
    parts.numerator,
    parts.denominator,
    parts.value,
    parts.target,
    parts.direction,
    parts.tolerance,
    parts.attainment,
    parts.weight,
    parts.contribution::double as contribution,
    parts.counted,
    parts.why_not_counted,
from (
""" + _PARTS_SQL + """
) as parts
inner join cfg_indicator using (indicator_id)
where parts.village_code = ? and parts.period = ?
order by parts.ordinal
"""


def explain_village(con, village_code: str, period: str) -> list[dict]:
    """One dict per weighted indicator for a village and month, in catalogue order.

    Keys: indicator_id, name_zh, name_en, group, numerator, denominator, value, target, direction,
    tolerance, attainment, weight, contribution (points of the 0–100 score: 100·w·a/Σw over the
    counted indicators; None when not counted), counted, why_not_counted ('low_n', 'no_value' or
    None). The contributions of the counted rows add up to village_scores.score. An unknown village
    or a month outside the data gives an empty list.
    """
    if not PERIOD.match(period or ""):
        raise ValueError(f"period must be YYYY-MM, got {period!r}")
    cur = con.execute(EXPLAIN_SQL, [village_code, period])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
