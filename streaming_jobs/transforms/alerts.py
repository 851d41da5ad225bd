"""Alert rules evaluated on gold (window, symbol) rows."""

from __future__ import annotations

from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F  # noqa: N812 (PySpark convention)

from streaming_jobs.config import AlertRule

_OPS = {
    ">": lambda c, t: c > t,
    ">=": lambda c, t: c >= t,
    "<": lambda c, t: c < t,
    "<=": lambda c, t: c <= t,
}


def rule_matches(rule: AlertRule, value: Column, symbol: Column) -> Column:
    """The Spark twin of AlertRule.matches; never null."""
    # The metric as it is (integer or exact decimal) against the threshold as a decimal literal: no double.
    hit = _OPS[rule.operator](value, F.lit(rule.threshold))
    if rule.symbols:
        hit = hit & symbol.isin(*rule.symbols)
    return F.coalesce(hit, F.lit(False))


def evaluate_alerts(symbol_rows: DataFrame, rules: tuple[AlertRule, ...]) -> DataFrame | None:
    """One row per (rule, window, symbol row) with the metric value and whether the rule matches now.

    Rows that match become (or stay) active alerts; rows that do not match only
    clear an alert that an earlier, different figure of the same window raised.
    """
    if not rules:
        return None
    per_rule = [
        symbol_rows.select(
            F.lit(rule.name).alias("rule_name"),
            F.col("symbol"),
            F.col("window_start"),
            F.col("window_end"),
            F.lit(rule.metric).alias("metric"),
            F.lit(rule.operator).alias("operator"),
            F.lit(rule.threshold).cast("double").alias("threshold"),
            F.col(rule.metric).cast("double").alias("metric_value"),
            rule_matches(rule, F.col(rule.metric), F.col("symbol")).alias("active"),
            F.col("batch_id"),
            F.col("updated_at"),
        )
        for rule in rules
    ]
    return reduce(DataFrame.unionByName, per_rule)
