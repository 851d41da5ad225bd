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
import sys
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "benchmarks"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from compare import interleaved, report  # noqa: E402
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

    def check(name: str, pattern: str) -> None:
        matched = ids.filter(F.col("id").rlike(pattern)).count()
        assert matched == args.ids, f"{name}: {matched} of {args.ids} ids matched"

    seconds = interleaved({name: partial(check, name, pat) for name, pat in variants.items()}, args.runs)
    print(f"{args.ids:,} ids (scan of the cached column included), medians of {args.runs} runs")
    report(seconds, "ranges", "listed")
    spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
