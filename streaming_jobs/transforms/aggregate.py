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


# The order of trades in a window as one number: event time in microseconds, then price in
# ten-thousandths (below 10^18: any DECIMAL(18,4)). min and max of it give the first and last trade,
# their time and their price at once.
_PRICE_UNITS = 10**4
_TIME_SHIFT = 10**18
_ORDER_KEY = "_order_key"


def trade_order_key(trades: DataFrame) -> Column:
    """The first and last trade of a window by event time; trades at the same instant by price.

    min_by/max_by over a struct (time, event id) put a struct in the aggregation buffer, which Spark
    cannot keep in its hash map: the whole stream fell back to a sort-based aggregation that sorted
    every row of a micro-batch twice (grouping sets expand each trade into two rows). A DECIMAL(38,0)
    key keeps the buffer fixed-width, so the aggregation is a hash aggregation
    (benchmarks/bench_gold_aggregation.py). The tie-break by price is as deterministic as the one by
    id was: open and close never depend on the order Spark reads the rows in, so a replay or a
    different micro-batch split gives the same figures.
    """
    micros = F.unix_micros(trades["event_time"]).cast("decimal(38,0)")
    units = (trades["price"] * _PRICE_UNITS).cast("decimal(38,0)")
    return (micros * F.lit(_TIME_SHIFT).cast("decimal(38,0)") + units).cast("decimal(38,0)")


def _price_of(key: str) -> Column:
    return (F.pmod(F.col(key), F.lit(_TIME_SHIFT).cast("decimal(38,0)")) / _PRICE_UNITS).cast("decimal(18,4)")


def _time_of(key: str) -> Column:
    # Integral division: exact, where a decimal quotient could round up to the next microsecond.
    return F.timestamp_micros(F.expr(f"`{key}` div {_TIME_SHIFT}").cast("long"))


def window_aggregates(silver: DataFrame, window: Interval, state_watermark: Interval) -> DataFrame:
    """Silver trades -> one row per (window, symbol) and per (window, side), tagged by `grain`."""
    w = F.window("event_time", window.text)
    agg = (
        silver.withWatermark("event_time", state_watermark.text)
        .withColumn(_ORDER_KEY, trade_order_key(silver))
        .groupingSets([[w, "symbol"], [w, "side"]], w, "symbol", "side")
        .agg(
            F.count(F.lit(1)).alias("trade_count"),
            F.sum("quantity").alias("volume"),
            F.sum(F.col("price") * F.col("quantity")).alias("notional"),
            F.sum("price").alias("sum_price"),
            F.min(_ORDER_KEY).alias("_first"),
            F.max(_ORDER_KEY).alias("_last"),
            F.max("price").alias("high_price"),
            F.min("price").alias("low_price"),
            F.grouping_id().alias("_gid"),
        )
    )
    grain = F.when(F.col("_gid") == 1, F.lit(GRAIN_SYMBOL)).otherwise(F.lit(GRAIN_SIDE))
    open_price, close_price = _price_of("_first"), _price_of("_last")
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
        open_price.alias("open_price"),
        close_price.alias("close_price"),
        "high_price",
        "low_price",
        _pct(close_price - open_price, open_price).alias("price_change_pct"),
        _pct(F.col("high_price") - F.col("low_price"), F.col("low_price")).alias("price_range_pct"),
        _time_of("_first").alias("first_event_time"),
        _time_of("_last").alias("last_event_time"),
        # The micro-batch timestamp (recorded in the offset log): the same when a batch is replayed.
        F.current_timestamp().alias("updated_at"),
    )


# Percentages are exact decimals, like the prices they come from (issue 32: in double arithmetic a move of
# exactly +5 % read 4.999999999999993 and a `>= 5` rule did not fire). Spark's decimal division of
# (close - open) * 100, DECIMAL(23,4), by a DECIMAL(18,4) price keeps 15 decimals (result precision over 38:
# the scale shrinks to 38 - 23 integer digits; Spark's DecimalPrecision rules, allowPrecisionLoss on),
# rounded half-up. Two such ratios, or a ratio and a threshold of k decimals, that differ at all differ by at
# least 1 / (10^10 x 10^k) (prices are at most 10^10 ten-thousandths), so the comparison with any threshold
# of up to 5 decimals is exact. Stored as FLOAT in the serving tables (serving/schema.py) for display only.
PCT_TYPE = "decimal(38,15)"


def _pct(delta: Column, base: Column) -> Column:
    return (delta * F.lit(100) / base).cast(PCT_TYPE)


def _rows(aggregates: DataFrame, grain: str, columns: tuple[str, ...], batch_id: int) -> DataFrame:
    return (
        aggregates.filter(F.col("grain") == grain).withColumn("batch_id", F.lit(batch_id).cast("long")).select(*columns)
    )


def symbol_window_rows(aggregates: DataFrame, batch_id: int) -> DataFrame:
    return _rows(aggregates, GRAIN_SYMBOL, SYMBOL_WINDOW_METRICS.column_names, batch_id)


def side_window_rows(aggregates: DataFrame, batch_id: int) -> DataFrame:
    return _rows(aggregates, GRAIN_SIDE, SIDE_WINDOW_METRICS.column_names, batch_id)
