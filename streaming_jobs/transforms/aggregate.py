"""Gold: windowed trade metrics per symbol and per transaction type, from one aggregation.

One streaming aggregation with grouping sets (window x symbol, window x side)
keeps a single state store and reads silver once. In update mode every
micro-batch emits the full current figures of each group it touched, so writing
them is an overwrite by key: applying a batch twice gives the same table.
Window totals, cumulative quantity, totals per symbol and share of volume are
sums over these rows and live in the serving views (serving/migrations), not in
streaming state.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F  # noqa: N812 (PySpark convention)

from streaming_jobs.config import Interval
from streaming_jobs.serving.schema import SIDE_WINDOW_METRICS, SYMBOL_WINDOW_METRICS

GRAIN_SYMBOL, GRAIN_SIDE = "symbol", "side"


def window_aggregates(silver: DataFrame, window: Interval, state_watermark: Interval) -> DataFrame:
    """Silver trades -> one row per (window, symbol) and per (window, side), tagged by `grain`."""
    w = F.window("event_time", window.text)
    # Ties on event_time are broken by event_id so open/close are the same on every replay.
    order = F.struct("event_time", "event_id")
    agg = (
        silver.withWatermark("event_time", state_watermark.text)
        .groupingSets([[w, "symbol"], [w, "side"]], w, "symbol", "side")
        .agg(
            F.count(F.lit(1)).alias("trade_count"),
            F.sum("quantity").alias("volume"),
            F.sum(F.col("price") * F.col("quantity")).alias("notional"),
            F.sum("price").alias("sum_price"),
            F.min_by("price", order).alias("open_price"),
            F.max_by("price", order).alias("close_price"),
            F.max("price").alias("high_price"),
            F.min("price").alias("low_price"),
            F.min("event_time").alias("first_event_time"),
            F.max("event_time").alias("last_event_time"),
            F.grouping_id().alias("_gid"),
        )
    )
    grain = F.when(F.col("_gid") == 1, F.lit(GRAIN_SYMBOL)).otherwise(F.lit(GRAIN_SIDE))
    return agg.select(
        grain.alias("grain"),
        F.col("window.start").alias("window_start"),
        F.col("window.end").alias("window_end"),
        "symbol",
        "side",
        "trade_count",
        "volume",
        F.col("notional").cast("decimal(38,4)").alias("notional"),
        F.col("sum_price").cast("decimal(38,4)").alias("sum_price"),
        (F.col("sum_price") / F.col("trade_count")).cast("decimal(19,6)").alias("avg_price"),
        (F.col("notional") / F.col("volume")).cast("decimal(19,6)").alias("vwap"),
        "open_price",
        "close_price",
        "high_price",
        "low_price",
        _pct(F.col("close_price") - F.col("open_price"), F.col("open_price")).alias("price_change_pct"),
        _pct(F.col("high_price") - F.col("low_price"), F.col("low_price")).alias("price_range_pct"),
        "first_event_time",
        "last_event_time",
        # The micro-batch timestamp (recorded in the offset log): the same when a batch is replayed.
        F.current_timestamp().alias("updated_at"),
    )


def _pct(delta: Column, base: Column) -> Column:
    return (delta.cast("double") / base.cast("double") * 100.0).cast("double")


def _rows(aggregates: DataFrame, grain: str, columns: tuple[str, ...], batch_id: int) -> DataFrame:
    return (
        aggregates.filter(F.col("grain") == grain).withColumn("batch_id", F.lit(batch_id).cast("long")).select(*columns)
    )


def symbol_window_rows(aggregates: DataFrame, batch_id: int) -> DataFrame:
    return _rows(aggregates, GRAIN_SYMBOL, SYMBOL_WINDOW_METRICS.column_names, batch_id)


def side_window_rows(aggregates: DataFrame, batch_id: int) -> DataFrame:
    return _rows(aggregates, GRAIN_SIDE, SIDE_WINDOW_METRICS.column_names, batch_id)
