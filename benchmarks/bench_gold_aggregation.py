"""Gold's aggregation with a hash aggregation against the sort-based one a struct ordering forces.

    .venv/bin/python benchmarks/bench_gold_aggregation.py                  # 2 M trades, 5 runs each
    .venv/bin/python benchmarks/bench_gold_aggregation.py --trades 500000 --runs 7

Both variants aggregate the same cached trades (the generator's, 1-minute
windows) into Spark's no-op sink, interleaved after one uncounted round:
- `struct order`: open/close as min_by/max_by over struct(event_time, event_id),
  the previous code. A struct in the aggregation buffer cannot live in Spark's
  hash map, so every aggregation step is a SortAggregate.
- `decimal key` (transforms/aggregate.py): open/close, first/last time from
  min/max of one DECIMAL(38,0) key; a HashAggregate.
Reports medians and the ratio; checks both plans are what they claim.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "benchmarks"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from compare import interleaved, report  # noqa: E402
from pyspark.sql import DataFrame  # noqa: E402
from pyspark.sql import functions as F  # noqa: N812, E402

from streaming_jobs.config import parse_interval  # noqa: E402
from streaming_jobs.generator.events import GeneratorConfig, MarketSimulator  # noqa: E402
from streaming_jobs.local_pipeline import local_session  # noqa: E402
from streaming_jobs.transforms.aggregate import window_aggregates  # noqa: E402


def struct_order(silver: DataFrame) -> DataFrame:
    w = F.window("event_time", "1 minute")
    order = F.struct("event_time", "event_id")
    return silver.groupingSets([[w, "symbol"], [w, "side"]], w, "symbol", "side").agg(
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
    )


def write_noop(df: DataFrame) -> None:
    """Every row and column of df computed, nothing kept (Spark's no-op sink)."""
    df.write.format("noop").mode("overwrite").save()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--trades", type=int, default=2_000_000)
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args(argv)
    spark = local_session("rta-bench-gold", state_store="hdfs", driver_memory="6g")
    sim = MarketSimulator(GeneratorConfig(seed=3, duplicate_rate=0, malformed_rate=0, late_rate=0, late_ok_rate=0))
    start = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    rows = []
    for i in range(args.trades):
        t = sim.next_event(start + timedelta(microseconds=i * 55)).trade
        if t is not None:
            rows.append((t.event_id, t.symbol, t.side, t.price, t.quantity, t.event_time.replace(tzinfo=None)))
    silver = spark.createDataFrame(
        rows, "event_id string, symbol string, side string, price decimal(18,4), quantity long, event_time timestamp"
    ).cache()
    n = silver.count()
    minute = parse_interval("1 minute", "w")
    variants = {"struct order": struct_order(silver), "decimal key": window_aggregates(silver, minute, minute)}
    for name, df in variants.items():
        physical = df._jdf.queryExecution().executedPlan().toString()
        expected = "SortAggregate" if name == "struct order" else "HashAggregate"
        assert expected in physical, f"{name}: expected a {expected}"
    seconds = interleaved(
        {name: partial(write_noop, df) for name, df in variants.items()},
        args.runs,
    )
    print(f"{n:,} trades, medians of {args.runs} runs")
    report(seconds, "struct order", "decimal key", per=(n, "trades"))
    spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
