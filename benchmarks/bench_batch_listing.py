"""How long gold's source takes to list silver's batch directories, with Spark's distributed listing and without.

    .venv/bin/python benchmarks/bench_batch_listing.py [--dirs 150] [--runs 7]

Locally, silver's tables are BatchDirTables (one directory per micro-batch) and
gold's file source lists them all on every trigger. Past
`spark.sql.sources.parallelPartitionDiscovery.threshold` paths (Spark's default:
32) Spark lists them with a distributed job; local_session raises the threshold
so the listing stays a plain one. Prints the median listing time of each, and
their ratio.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from streaming_jobs.io.files import BatchDirTable  # noqa: E402
from streaming_jobs.local_pipeline import local_session  # noqa: E402
from streaming_jobs.schemas import SILVER_SCHEMA  # noqa: E402

SPARK_DEFAULT_THRESHOLD = "32"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dirs", type=int, default=150, help="silver batch directories")
    p.add_argument("--runs", type=int, default=7)
    args = p.parse_args(argv)

    spark = local_session("rta-bench-listing", state_store="hdfs")
    local_threshold = spark.conf.get("spark.sql.sources.parallelPartitionDiscovery.threshold")
    if local_threshold is None:
        raise SystemExit("bench_batch_listing: local_session sets no parallelPartitionDiscovery.threshold")
    work = Path(tempfile.mkdtemp(prefix="rta-listing-"))
    try:
        table = BatchDirTable(str(work / "trades"), SILVER_SCHEMA)
        empty = spark.createDataFrame([], SILVER_SCHEMA).coalesce(1)
        for batch in range(args.dirs):
            table.append(empty, batch, "bench")
        medians: dict[str, float] = {}
        for label, threshold in (("distributed (Spark default)", SPARK_DEFAULT_THRESHOLD), ("local", local_threshold)):
            spark.conf.set("spark.sql.sources.parallelPartitionDiscovery.threshold", threshold)
            spark.read.schema(SILVER_SCHEMA).parquet(table.files).inputFiles()  # warm-up
            times = []
            for _ in range(args.runs):
                t = time.perf_counter()
                spark.read.schema(SILVER_SCHEMA).parquet(table.files).inputFiles()
                times.append(time.perf_counter() - t)
            medians[label] = statistics.median(times)
            print(f"{args.dirs} batch directories, {label} listing: median {medians[label] * 1000:,.0f} ms", flush=True)
        slow, fast = medians.values()
        print(f"ratio: {slow / fast:.1f}x")
    finally:
        spark.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
