"""The mart model SQL (DuckDB dialect, pipelines/models/marts/) translated for Spark SQL.

One source of truth: Spark runs the very files the warehouse runs, translated by sqlglot at run time.
sqlglot's DuckDB→Spark translation is right for windows, FILTER, GROUP BY ALL and date_trunc, and
wrong in places that change numbers (FIELD_NOTES, Scale); those are rewritten here on the parsed
tree, deliberately, and the parity test (tests/test_lake.py) holds the result to DuckDB's:

- median / quantile_cont / percentile_cont → Spark's exact, interpolating `percentile(x, q)`
  (the mean of the two middle values for an even count, as DuckDB); never `percentile_approx`.
- `list(x ORDER BY y)` / `array_agg(x ORDER BY y)` → `collect_list` loses the order in Spark:
  rewritten to sort (y, x) structs and keep x, so the list comes out in the order asked for.
- `a / b`: DuckDB divides as DOUBLE whatever the operand types; Spark divides decimals as
  decimals, rounded to 6 places (median hours came out 3e-7 off). Both operands are cast to DOUBLE.
  (DuckDB 2.0 gives inf for x / 0, Spark raises under ANSI: the models guard every denominator.)
- `CAST(EXPLODE(...) AS t)`: Spark refuses a generator inside an expression; the cast moves
  inside, onto the array (`EXPLODE(CAST(... AS ARRAY<t>))`).
"""

from __future__ import annotations

from functools import cache

import sqlglot
from sqlglot import exp


def _percentile(this: exp.Expression, q: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this="percentile", expressions=[this, q])


def _double(e: exp.Expression) -> exp.Expression:
    return exp.Cast(this=e, to=exp.DataType.build("DOUBLE"))


def _fix(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Div):
        return exp.Div(this=_double(node.this), expression=_double(node.expression))
    if isinstance(node, exp.Median):
        return _percentile(node.this, exp.Literal.number("0.5"))
    if isinstance(node, (exp.Quantile, exp.PercentileCont, exp.ApproxQuantile)):
        # DuckDB quantile_cont(x, q) / percentile_cont(q) within group (order by x): exact.
        if isinstance(node, exp.PercentileCont):
            order = node.parent if isinstance(node.parent, exp.WithinGroup) else None
            if order is not None:
                return node  # handled at the WithinGroup level below
            return _percentile(node.this, node.expression)
        q = node.args.get("quantile") or node.expression
        return _percentile(node.this, q)
    if isinstance(node, exp.WithinGroup) and isinstance(node.this, exp.PercentileCont):
        ordered = node.expression.expressions[0]
        col = ordered.this if isinstance(ordered, exp.Ordered) else ordered
        return _percentile(col, node.this.this)
    if isinstance(node, exp.ArrayAgg) and isinstance(node.this, exp.Order):
        order = node.this
        value = order.this
        keys = [o.this for o in order.expressions]
        desc = [bool(o.args.get("desc")) for o in order.expressions]
        fields = [exp.PropertyEQ(this=exp.to_identifier(f"k{i}"), expression=k) for i, k in enumerate(keys)]
        fields.append(exp.PropertyEQ(this=exp.to_identifier("v"), expression=value))
        sorted_sql = "array_sort(collect_list(named_struct({})))".format(
            ", ".join(f"'{f.this.name}', {f.expression.sql('spark')}" for f in fields))
        if any(desc):
            # Spark's array_sort with a comparator: descending keys compare reversed.
            cmp = " ".join(
                f"case when l.k{i} {'>' if d else '<'} r.k{i} then -1 when l.k{i} {'<' if d else '>'} r.k{i} then 1 else"
                for i, d in enumerate(desc)) + " 0" + " end" * len(desc)
            sorted_sql = "array_sort(collect_list(named_struct({})), (l, r) -> {})".format(
                ", ".join(f"'{f.this.name}', {f.expression.sql('spark')}" for f in fields), cmp)
        return sqlglot.parse_one(f"transform({sorted_sql}, s -> s.v)", read="spark")
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Explode):
        inner = node.this.this
        to = exp.DataType.build(f"ARRAY<{node.to.sql('spark')}>", dialect="spark")
        return exp.Explode(this=exp.Cast(this=inner, to=to))
    return node


@cache
def to_spark(sql: str) -> str:
    """DuckDB model SQL → Spark SQL with the rewrites above."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    tree = tree.transform(_fix)
    return tree.sql(dialect="spark")
