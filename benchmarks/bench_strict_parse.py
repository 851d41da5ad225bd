"""The cost of silver's strict parse (issue 32): classification with and without the strict checks.

    .venv/bin/python benchmarks/bench_strict_parse.py             # 1 M generated events, 3 runs each

Both variants classify the same cached bronze frame (generated events with their duplicates, late and
malformed records) into accepted and rejected, the way silver does before de-duplication, and sum the
accepted rows. "lenient" is the classification with the strict checks replaced by `true` and the event
time read by Spark's JSON timestamp reader (what silver did before); "strict" is silver's classification.
Interleaved rounds after an uncounted one, medians, ratio (compare.py).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "benchmarks"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from compare import interleaved, report  # noqa: E402
from pyspark.sql import functions as F  # noqa: N812, E402

from streaming_jobs.config import ValidationRules, parse_interval  # noqa: E402
from streaming_jobs.generator.events import GeneratorConfig, MarketSimulator  # noqa: E402
from streaming_jobs.local_pipeline import local_session  # noqa: E402
from streaming_jobs.transforms import parse, validate  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args(argv)
    spark = local_session("rta-bench-strict-parse", state_store="hdfs", driver_memory="4g")
    now = datetime.now(UTC)
    sim = MarketSimulator(GeneratorConfig(seed=7))
    items = sim.events(args.events, now, 10_000.0)
    rules = ValidationRules(symbols=tuple(sim.config.symbols), watermark=parse_interval("10 minutes", "w"))
    bronze = (
        spark.createDataFrame([(e.payload,) for e in items], "payload string")
        .select(
            "payload",
            F.lit("t").alias("topic"),
            F.lit(0).alias("partition"),
            F.lit(0).cast("long").alias("offset"),
            F.lit(None).cast("string").alias("source_file"),
            F.lit(now.replace(tzinfo=None)).alias("ingest_time"),
        )
        .cache()
    )
    bronze.count()

    def accepted() -> int:
        # A sum, not a filter: a filter on the parsed fields would be pushed below the projection with the
        # parse inlined into it once per field it reads (transforms/parse.parse_events); silver filters
        # nothing before its stateful operator.
        classified = validate.classify_events(parse.parse_events(bronze), rules)
        (total,) = classified.agg(F.sum(F.col("accepted").cast("int"))).collect()[0]
        return int(total)

    def lenient() -> int:
        with (
            mock.patch.object(validate, "strictly_readable", lambda payload, evt: F.lit(True)),
            mock.patch.object(validate, "event_time_of", lambda text: text.try_cast("timestamp")),
        ):
            return accepted()

    counts = {"lenient": lenient(), "strict": accepted()}
    print(f"accepted rows: {counts}")
    seconds = interleaved({"lenient": lenient, "strict": accepted}, args.runs)
    print(f"{args.events:,} events (scan of the cached frame included), medians of {args.runs} runs")
    report(seconds, "lenient", "strict", (args.events, "events"))
    spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
