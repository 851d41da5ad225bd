"""Silver's event-id check: the pattern with listed characters against the same pattern with ranges.

    .venv/bin/python benchmarks/bench_event_id_check.py                 # 4 M ids, 5 runs each

java.util.regex tests each range of a character class as its own predicate
and a class of single characters with one table lookup. Both patterns accept
the same ids (checked here on the generated ids and on edge cases); each
variant filters the same cached uuid column, interleaved after one uncounted
round. Reports medians and the ratio.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pyspark.sql import functions as F  # noqa: N812, E402

from streaming_jobs.local_pipeline import local_session  # noqa: E402
from streaming_jobs.transforms.validate import EVENT_ID_PATTERN  # noqa: E402

WITH_RANGES = r"^[A-Za-z0-9][A-Za-z0-9_:.\-]{0,127}$"
EDGES = ["a", "a" * 128, "a" * 129, "-a", "a-b_c:d.e", "a b", "é", "", "A9:-"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ids", type=int, default=4_000_000)
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args(argv)
    for s in EDGES:
        assert bool(re.match(WITH_RANGES, s)) == bool(re.match(EVENT_ID_PATTERN, s)), s
    spark = local_session("rta-bench-event-id", state_store="hdfs", driver_memory="4g")
    ids = spark.range(args.ids).select(F.expr("uuid()").alias("id")).cache()
    ids.count()
    variants = {"ranges": WITH_RANGES, "listed": EVENT_ID_PATTERN}
    seconds: dict[str, list[float]] = {k: [] for k in variants}
    for round_ in range(args.runs + 1):
        for name, pattern in variants.items():
            t0 = time.perf_counter()
            matched = ids.filter(F.col("id").rlike(pattern)).count()
            elapsed = time.perf_counter() - t0
            assert matched == args.ids, f"{name}: {matched} of {args.ids} ids matched"
            if round_:
                seconds[name].append(elapsed)
    med = {k: statistics.median(v) for k, v in seconds.items()}
    print(f"{args.ids:,} ids (scan of the cached column included), medians of {args.runs} runs")
    for name, m in med.items():
        print(f"{name:<7} {m:6.2f} s   runs: {[round(x, 2) for x in seconds[name]]}")
    print(f"ratio (ranges / listed): {med['ranges'] / med['listed']:.2f}x")
    spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
